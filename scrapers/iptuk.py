"""IPT UK's "Find a Therapist" directory: accredited IPT practitioners who take private clients.

No copy of the live page was available when this was written, so the parser follows the page's
meaning rather than its markup: the directory is a run of entries, each a heading (the therapist's
name) followed by labelled lines ("Accreditation: Level B Practitioner", "Location: Leeds LS6",
"Email: ...", "Tel: ...", "Website: ...", "Works: online, in person"), grouped under region
headings. A heading followed by no IPT level is a region or section heading, not a person.
Contacts are also taken from tel:/mailto:/http links inside an entry. A non-empty page from which
no entry can be read raises ParseError (a changed page), never an empty list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from finder.accreditation import RegisterEntry, listed_registrations
from finder.errors import ParseError
from finder.practitioners import ipt_part

DIRECTORY_URL = "https://www.iptuk.net/find-a-therapist.html"
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_MARK = "\u0000H\u0000"  # prefixes heading lines in the flattened text

# Field labels as a directory entry words them -> our field.
_LABELS = {
    "accreditation": "level",
    "accreditation level": "level",
    "ipt uk accreditation": "level",
    "ipt accreditation": "level",
    "level": "level",
    "ipt level": "level",
    "ipt uk level": "level",
    "location": "location",
    "town": "location",
    "area": "location",
    "based in": "location",
    "address": "location",
    "postcode": "postcode",
    "email": "email",
    "e-mail": "email",
    "tel": "phone",
    "telephone": "phone",
    "phone": "phone",
    "mobile": "phone",
    "website": "website",
    "web": "website",
    "works": "modes",
    "sessions": "modes",
    "offers": "modes",
    "availability": "modes",
    "appointments": "modes",
    "therapy offered": "modes",
    "core profession": "registrations",
    "professional registration": "registrations",
    "registration": "registrations",
    "registered with": "registrations",
}
_LABEL_RE = re.compile(r"^\s*([A-Za-z][A-Za-z \-]{1,30}?)\s*:\s*(.*)$")
OUTCODE_RE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*[0-9][A-Z]{2})?\b")
# IPT UK levels as the directory writes them: Level A to D, Supervisor, Trainer, IPT-A (adolescents).
LEVEL_WORDS_RE = re.compile(r"\blevel\s*[a-d]\b|supervisor|trainer|\bipt-a\b|practitioner", re.IGNORECASE)


@dataclass(frozen=True)
class IptUkListing:
    name: str
    level: str
    location: str | None = None
    outcode: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    works_online: bool = False
    works_in_person: bool = False
    works_by_phone: bool = False
    registrations: str | None = None

    def to_record_fields(self, *, last_verified: str, source: str = DIRECTORY_URL) -> dict[str, object]:
        """Fields for `finder.practitioners.build_record`: the town without the outcode, and only
        the outcode of any postcode shown (never a full postcode)."""
        town = self.location or ""
        if self.outcode:
            town = re.sub(
                r"\b" + re.escape(self.outcode) + r"(\s*[0-9][A-Z]{2})?\b", "", town, flags=re.IGNORECASE
            )
        registrations = [
            f"{register}:{number}"
            for register, numbers in listed_registrations(self.registrations).items()
            for number in sorted(numbers)
        ]
        # "12 High Street, Leeds" -> "Leeds": a part with a number in it is a street address.
        town = " ".join(" ".join(part for part in town.split(",") if not re.search(r"\d", part)).split())
        return {
            "name": self.name,
            "ipt_level": self.level,
            "registrations": "; ".join(registrations),
            "town": town,
            "outcode": self.outcode or "",
            "works_in_person": self.works_in_person,
            "works_online": self.works_online,
            "works_by_phone": self.works_by_phone,
            "website": self.website,
            "email": self.email,
            "phone": self.phone,
            "source": source,
            "last_verified": last_verified,
        }

    def to_entry(self, url: str = DIRECTORY_URL) -> RegisterEntry:
        return RegisterEntry(self.name, self.registrations, "Accredited", self.level, self.location, url)


def _sibling(node: Tag, forward: bool):
    sib = node.next_sibling if forward else node.previous_sibling
    while isinstance(sib, NavigableString) and not sib.strip():
        sib = sib.next_sibling if forward else sib.previous_sibling
    return sib


def _alone_on_line(strong: Tag) -> bool:
    if not strong.get_text(strip=True) or ":" in strong.get_text():
        return False  # "Email:" in bold is a label, not a name
    before, after = _sibling(strong, False), _sibling(strong, True)
    ends = (None,)
    return (before in ends or (isinstance(before, Tag) and before.name == "br")) and (
        after in ends or (isinstance(after, Tag) and after.name in ("br", "p", "div"))
    )


def _flatten(soup: BeautifulSoup) -> list[str]:
    """The page as lines, heading lines marked; link targets kept as `<href>` after their text."""
    for tag in soup.find_all(["script", "style", "nav", "noscript", "header", "footer"]):
        tag.decompose()
    for link in soup.find_all("a", href=True):
        href = str(link["href"]).strip()
        if href.startswith(("tel:", "mailto:", "http://", "https://")):
            link.append(NavigableString(f" <{href}>"))
    for heading in soup.find_all(HEADING_TAGS):
        heading.insert(0, NavigableString("\n" + _MARK))
        heading.append(NavigableString("\n"))
    # A bold line on its own (alone in its block, or between line breaks) is how site builders
    # usually style a name: treat it as a heading.
    for strong in soup.find_all(["strong", "b"]):
        if _alone_on_line(strong):
            strong.insert(0, NavigableString("\n" + _MARK))
            strong.append(NavigableString("\n"))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "li", "tr", "td"]):
        block.append(NavigableString("\n"))
    lines = []
    for raw in soup.get_text("").split("\n"):
        line = " ".join(raw.split())
        if line and line != _MARK.strip():
            lines.append(line)
    return lines


_NOT_A_WEBSITE_RE = re.compile(
    r"(^|\.)(iptuk\.net|hcpc-uk\.org|bacp\.co\.uk|psychotherapy\.org\.uk|babcp\.com"
    r"|cbtregisteruk\.com|ncps\.com|search-ncps\.com)$"
)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _after_scheme(link: str) -> str:
    """'mailto:jane%40example.org?subject=Hello' -> 'jane@example.org'; 'tel:01632%20960001' ->
    '01632 960001'."""
    return unquote(link.split(":", 1)[1].split("?", 1)[0]).strip()


def _links(value: str, scheme: str) -> list[str]:
    return [m for m in re.findall(r"<([^>]+)>", value) if m.startswith(scheme)]


def _plain(value: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", value).split())


def _listing(name: str, lines: list[str]) -> IptUkListing | None:
    fields: dict[str, str] = {}
    extra: list[str] = []
    repeated: list[str] = []
    for line in lines:
        m = _LABEL_RE.match(_plain(line) if "<" in line and ":" not in line.split("<")[0] else line)
        key = _LABELS.get(m[1].strip().lower()) if m else None
        value = m[2].strip() if m else ""
        if key and key not in fields:
            fields[key] = value
        elif key == "level" and value:
            fields[key] += "; " + value  # "Accreditation: Level C ..." then "Accreditation: IPT-A"
            repeated.append(key)
        else:
            extra.append(line)
            if key:
                repeated.append(key)
    if "level" in repeated and {"location", "email", "phone"} & set(repeated):
        # Two people's fields under one heading: their names were not set apart as headings, so
        # the heading is a region's and no entry can be told from the next.
        raise ParseError(
            f"IPT UK's Find a Therapist page has changed: several therapists' details follow the "
            f"one heading {name[:60]!r}, so they cannot be told apart"
        )
    level = _plain(fields.get("level", ""))
    if not level or not LEVEL_WORDS_RE.search(ipt_part(level)):
        return None  # no IPT level (or only DIT / IPC): a section heading, not an accredited therapist
    everything = " ".join(lines)
    emails = _links(everything, "mailto:")
    phones = _links(everything, "tel:")
    # A website is the "Website:" line's link, else a link on an unlabelled line: never a link from
    # another field (a register's page under "Core profession"), IPT UK's own or a register's site.
    sites = [u for u in _links(" ".join(extra), "http") if not _NOT_A_WEBSITE_RE.search(_host(u))]
    email = _after_scheme(emails[0]) if emails else (_plain(fields.get("email", "")) or None)
    phone = _after_scheme(phones[0]) if phones else (_plain(fields.get("phone", "")) or None)
    website = next(iter(_links(fields.get("website", ""), "http") or sites), None)
    if website is None and fields.get("website", "").startswith(("http://", "https://")):
        website = _plain(fields["website"])
    location = _plain(fields.get("location", "")) or None
    outcode = None
    for source in (fields.get("postcode", ""), location or ""):
        m = OUTCODE_RE.search(_plain(source).upper())
        if m:
            outcode = m[1]
            break
    modes = _plain(fields.get("modes", "")).lower()
    return IptUkListing(
        name=" ".join(name.split()),
        level=level,
        location=location,
        outcode=outcode,
        email=email,
        phone=phone,
        website=website,
        works_online=bool(re.search(r"online|video|zoom|remote", modes)),
        works_in_person=bool(re.search(r"in person|face to face|face-to-face|in-person", modes)),
        works_by_phone=bool(re.search(r"phone|telephone", modes)),
        registrations=_plain(fields.get("registrations", "")) or None,
    )


def parse_directory(html: str) -> list[IptUkListing]:
    """Every therapist entry on the directory page. Raises ParseError for a non-empty page with no
    readable entry (the site changed, or an error page was served)."""
    if not html or not html.strip():
        raise ParseError("IPT UK's Find a Therapist page was empty")
    lines = _flatten(BeautifulSoup(html, "lxml"))
    listings: list[IptUkListing] = []
    heading: str | None = None
    body: list[str] = []

    def close() -> None:
        if heading is not None:
            listing = _listing(heading, body)
            if listing is not None:
                listings.append(listing)

    for line in lines:
        if line.startswith(_MARK):
            close()
            heading, body = line[len(_MARK) :].strip(), []
        elif heading is not None:
            body.append(line)
    close()
    if not listings:
        raise ParseError(
            "IPT UK's Find a Therapist page has changed: no entry with a name heading and an IPT "
            "accreditation level was found"
        )
    return listings


def scrape(fetch, *, url: str = DIRECTORY_URL) -> list[IptUkListing]:
    response = fetch(url)
    if response.status == 404:
        raise ParseError("IPT UK's Find a Therapist page is missing (HTTP 404): the site has changed")
    return parse_directory(response.text)
