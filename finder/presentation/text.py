"""Safe text and links: imported or scraped text made inert for Markdown, and the rules for
which URLs and phone numbers may become links."""

from __future__ import annotations

import re
from collections.abc import Iterable

from finder.schema import public_url
from finder.urgent_help import NOT_A_CRISIS, Helpline, tel_link

# Characters that Markdown (and Streamlit's extensions: :color[...], $maths$) would treat as
# syntax. Escaping them with a backslash makes imported text display as typed. (Checked in
# Chromium: a ":material/name:" icon code still shows as an icon, which is harmless.)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~:$!])")
# A line that starts like a list item ("1. ", "12) ", "- ", "+ ") or is a heading underline or
# a rule ("===", "---"); "2.3 miles" and "-5" are left alone.
_MD_LEADING = re.compile(r"^(\d{1,9})([.)])(?=\s|$)|^([-+])(?=\s|$)|^([-=])(?=[-=\s]*$)")


# Streamlit's Markdown (GitHub-flavoured) turns bare "http://", "www." and "name@host" into live
# links after backslash escapes are gone, including "https://www.nhs.uk@evil.example" that
# shows one host and opens another. A zero-width space inside each pattern keeps the text as it
# reads while no link is made (checked in Chromium).
_AUTOLINK_BREAKS = (
    (re.compile(r"//"), "/\u200b/"),
    (re.compile(r"(?i)(w)(ww\.)"), "\\1\u200b\\2"),
    (re.compile("@"), "\u200b@"),
)


def md_escape(text: object) -> str:
    """Text made safe to put inside st.markdown: no links (marked-up or bare), HTML, emphasis,
    lists or colour directives, one line."""
    if text is None:
        return ""
    flat = " ".join(str(text).split())
    escaped = _MD_SPECIAL.sub(r"\\\1", flat)
    for pattern, replacement in _AUTOLINK_BREAKS:
        escaped = pattern.sub(replacement, escaped)
    return _MD_LEADING.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3] or m[4]}", escaped, count=1)


def tel_url(phone: object) -> str | None:
    """A tel: link for a UK phone number as written on a service's page ("0300 013 57 27",
    "+44 (0)161 ...", "0191 295 2775 ext 12"), or None if it is not a dialable number."""
    if not isinstance(phone, str):
        return None
    number = re.split(r"(?i)\b(?:ext|extension|x)\b\.?", phone)[0]
    number = number.replace("(0)", "")
    if re.search(r"[^\d\s+()\-.]", number):
        return None
    digits = re.sub(r"[\s()\-.]", "", number)
    if not re.fullmatch(r"\+?\d{3,15}", digits) or "+" in digits[1:]:
        return None
    return f"tel:{digits}"


_TEL_LINK = re.compile(r"tel:\+?\d{3,15}")


def md_link(label: object, url: object) -> str:
    """A Markdown link if `url` is safe, otherwise the label as plain (escaped) text."""
    target: str | None
    if isinstance(url, str) and _TEL_LINK.fullmatch(url):
        target = url
    else:
        # Only a page for the public: a staging or local copy of a site is never linked.
        target = public_url(url)
    text = md_escape(label)
    if not target:
        return text
    # Parentheses and spaces cannot break out of the link target once they are percent-encoded.
    for char, code in (
        ("(", "%28"),
        (")", "%29"),
        (" ", "%20"),
        ("\\", "%5C"),
        ("<", "%3C"),
        (">", "%3E"),
        ("`", "%60"),
    ):
        target = target.replace(char, code)
    return f"[{text}]({target})"


def crisis_line(helplines: Iterable[Helpline]) -> str:
    """The crisis numbers on one line for the top of every page, each number a tel: link (a text
    service an sms: link, which opens a new message on a phone), and that talking therapies are
    not a crisis service."""
    parts = []
    for line in helplines:
        link, words = tel_link(line), line.short_link or line.how
        linked = f"[{words}]({link})" if link else words
        parts.append(f"{line.short_lead} {linked}".strip())
    return f"**Need help now?** {' · '.join(parts)}. {NOT_A_CRISIS}"


def helpline_list(helplines: Iterable[Helpline]) -> str:
    """A Markdown list of helplines; numbers to call are tel: links (text services stay text)."""
    lines = []
    for line in helplines:
        link = tel_link(line)
        how = f"[{line.how}]({link})" if link and link.startswith("tel:") else line.how
        lines.append(f"- **{how}** {line.when}.")
    return "\n".join(lines)
