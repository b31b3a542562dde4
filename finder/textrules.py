"""Pure text rules for what NHS Talking Therapies pages say about themselves (no HTML parsing here).

Used by the service-website scraper and the importers: minimum age, GP catchment, IPT versus DIT,
self-referral links, UK phone numbers and safe URLs. Every rule works on plain strings so it can be
tested on the real phrases services publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from finder.schema import is_http_url

# --- Minimum age ------------------------------------------------------------------------------

_NUM = r"(1[0-9]|2[0-5])"
# Each pattern captures the age in years (and optionally months). The order matters: the
# "years and months" form is tried before the plain "N years" form.
_AGE_PATTERNS = (
    re.compile(rf"\b{_NUM}\s*years?\s*(?:and\s*)?(\d{{1,2}})\s*months?\b", re.I),
    # "over 17.5 years": seventeen and a half, i.e. 17 years 6 months (never plain 17).
    re.compile(
        rf"\b(?:over|aged|age)\s+(?:the\s+age\s+of\s+)?{_NUM}\.(5)\b|\b{_NUM}\.(5)(?=\s*(?:years?\b|\+))",
        re.I,
    ),
    re.compile(
        rf"\baged\s+{_NUM}\s*(?:\+|and\s+(?:over|above|older|upwards)|or\s+(?:over|above|older))", re.I
    ),
    re.compile(rf"\b{_NUM}\s*(?:years?\s*(?:old\s*)?)?(?:and|or)\s+(?:over|above|older|upwards)\b", re.I),
    re.compile(
        rf"\b(?:over|aged|age)\s+(?:the\s+age\s+of\s+)?{_NUM}\b(?!\s*(?:years?\s*)?(?:and\s*)?\d)", re.I
    ),
    re.compile(rf"\b{_NUM}\s*\+", re.I),
    re.compile(rf"\b{_NUM}\s*years?\s*(?:of\s*age\s*)?(?:and|or)\s+(?:over|above|older|upwards)\b", re.I),
)


@dataclass(frozen=True)
class MinimumAge:
    years: int
    months: int = 0
    phrase: str = ""

    def label(self) -> str:
        return f"{self.years} years {self.months} months" if self.months else f"{self.years}"


def minimum_age(text: str) -> MinimumAge | None:
    """The minimum age a page states: "aged 16 and over" -> 16, "over 18" -> 18,
    "17 years and 9 months or older" -> 17 years 9 months, "18 years and upwards" -> 18.

    "Over 18" is read as the service's own shorthand for "18 and over" (that is what services
    mean by it), not as 19.
    """
    if not text:
        return None
    found: list[tuple[int, int, MinimumAge]] = []
    for pattern in _AGE_PATTERNS:
        for match in pattern.finditer(text):
            if ".5" in match.group(0):  # a half year: 17.5 is 17 years 6 months
                years, months = int(next(g for g in match.groups() if g and g != "5")), 6
            else:
                years = int(match.group(1))
                months = int(match.group(2)) if (match.lastindex or 0) >= 2 else 0
            if months < 12:
                # Earliest mention wins (services state their main rule first); at the same place
                # the more precise "years and months" reading wins.
                found.append((match.start(), -months, MinimumAge(years, months, match.group(0).strip())))
    if not found:
        return None
    return min(found, key=lambda item: (item[0], item[1]))[2]


# --- Catchment --------------------------------------------------------------------------------

_CATCHMENT = re.compile(
    r"\b(?:registered|registration)\s+with\s+(?:an?\s+|the\s+)?(?:NHS\s+)?GP(?:\s+(?:practice|surgery))?"
    r"\s+(?:in|within|based\s+in)\s+(?:the\s+)?(?P<area>[A-Z][\w'&,\- ]*?(?:\s+(?:or|and)\s+[A-Z][\w'&\- ]*?)*)"
    r"(?=[.;:()]|\s+(?:and|who|if|or|you|to|are|aged|over)\b(?!\s+[A-Z])|$)",
)
_CATCHMENT_LOCAL = re.compile(
    r"\bregistered\s+with\s+an?\s+(?P<area>[A-Z][\w'&\- ]*?)\s+GP(?:\s+(?:practice|surgery))?\b"
)


def catchment(text: str) -> str | None:
    """The GP-registration area a page states, e.g. "registered with a GP in Herefordshire or
    Worcestershire" -> "Herefordshire or Worcestershire"; "registered with a Leeds GP" -> "Leeds"."""
    if not text:
        return None
    flat = " ".join(text.split())
    for pattern in (_CATCHMENT, _CATCHMENT_LOCAL):
        match = pattern.search(flat)
        if match:
            area = match.group("area").strip(" ,")
            if area:
                return area
    return None


# --- IPT versus DIT ---------------------------------------------------------------------------

# Dynamic Interpersonal Therapy is a brief psychodynamic therapy, a different treatment from
# Interpersonal Psychotherapy (IPT). Its name contains "Interpersonal Therapy", so DIT mentions
# are found and blanked out first: what is left can only be IPT.
_DIT = re.compile(r"\bdynamic\s+interpersonal\s+(?:psycho)?therapy\b|\bDIT\b", re.I)
_IPT = re.compile(
    r"\binterpersonal\s+(?:psycho\s*)?therapy\b|\binterpersonal\s+psychotherapy\b|\bIPT\b(?:-A)?",
    re.I,
)


@dataclass(frozen=True)
class TherapyMentions:
    ipt: bool
    dit: bool
    ipt_phrase: str | None = None
    dit_phrase: str | None = None


def therapy_mentions(text: str) -> TherapyMentions:
    """Whether a text mentions IPT and/or DIT; DIT is matched first so it never counts as IPT."""
    if not text:
        return TherapyMentions(False, False)
    dit_match = _DIT.search(text)
    remaining = _DIT.sub(lambda m: " " * len(m.group(0)), text)
    # "IPT" in capitals only: the lowercase letters occur inside other words and abbreviations.
    ipt_match = None
    for match in _IPT.finditer(remaining):
        if match.group(0).upper().startswith("IPT") and not match.group(0).startswith("IPT"):
            continue
        ipt_match = match
        break
    return TherapyMentions(
        ipt=ipt_match is not None,
        dit=dit_match is not None,
        ipt_phrase=_context(text, ipt_match.start(), ipt_match.end()) if ipt_match else None,
        dit_phrase=_context(text, dit_match.start(), dit_match.end()) if dit_match else None,
    )


def _context(text: str, start: int, end: int, width: int = 60) -> str:
    left = max(0, start - width)
    right = min(len(text), end + width)
    return " ".join(text[left:right].split())


# --- National or online delivery -------------------------------------------------------------

# NHS Talking Therapies services are local and in person unless a source says otherwise: a
# national contract (e.g. BSL therapy for Deaf people anywhere in England) or therapy delivered
# online (e.g. typed CBT).
_NATIONAL_OR_ONLINE = re.compile(
    r"\banywhere\s+in\s+England\b|\bnational\s+(?:NHS\s+England\s+)?contract\b|\bnationwide\b"
    r"|\b(?:provides|delivers|offers)\s+online\s+(?:CBT|therapy|therapies|treatment)\b"
    r"|\bonline\s+(?:CBT|therapy)\s+(?:service\s+)?(?:only|across\s+England)\b",
    re.I,
)


def national_or_online(text: str) -> str | None:
    """The phrase saying a service is national or delivered online, or None."""
    match = _NATIONAL_OR_ONLINE.search(text or "")
    return _context(text, match.start(), match.end(), 40) if match else None


# --- Self-referral links ----------------------------------------------------------------------

# Online self-referral platforms used by NHS Talking Therapies services (the target alone is
# enough to recognise the form, whatever the link text says). Matched on the link's own host and
# path, so a link that merely mentions a platform (in its query) or the platform company's own
# website (https://limbic.ai/blog) is not taken for a form.
REFERRAL_PLATFORMS = (
    "gateway.mayden.co.uk/referral",
    "iaptportal.co.uk",
    "limbic.ai",
    "ieso.co.uk/self-refer",
)
_PLATFORM_MARKETING_HOSTS = frozenset({"limbic.ai", "www.limbic.ai"})


def _is_referral_platform(href: str) -> bool:
    parts = urlsplit(href)
    host = (parts.hostname or "").lower()
    if host in _PLATFORM_MARKETING_HOSTS:
        return False
    for platform in REFERRAL_PLATFORMS:
        domain, _, path = platform.partition("/")
        if (host == domain or host.endswith("." + domain)) and parts.path.lower().startswith(f"/{path}"):
            return True
    return False


_SELF_REFERRAL_TEXT = re.compile(
    r"\brefer\s+(?:your\s*self|yourself|myself)\b|\bself[\s\-]*refer(?:ral|ring)?\b|\bmake\s+a\s+self[\s\-]*referral\b",
    re.I,
)
_SELF_REFERRAL_TARGET = re.compile(r"self[\-_]?refer|refer[\-_]?yourself|selfreferral", re.I)
_PROFESSIONAL = re.compile(r"\b(?:GPs?|professionals?|clinicians?|referrers?)\b", re.I)


def self_referral_link(link_text: str, href: str) -> str | None:
    """Classify a link: "platform" (a known online referral form), "self_referral" (text or
    target says refer yourself / self-referral), or None. Links for professionals are not
    self-referral even when they mention referral, and only http(s) targets count."""
    if not is_http_url(href):
        return None
    if _is_referral_platform(href):
        return "platform"
    text = " ".join((link_text or "").split())
    if _PROFESSIONAL.search(text):
        return None
    if _SELF_REFERRAL_TEXT.search(text) or _SELF_REFERRAL_TARGET.search(urlsplit(href).path):
        return "self_referral"
    return None


# --- UK phone numbers -------------------------------------------------------------------------

_PHONE_CANDIDATE = re.compile(r"(?:\+44\s?\(?0?\)?|\b0)(?:[\s\-\.]?\d){9,10}\b")


def normalise_uk_phone(text: str) -> str | None:
    """A UK number in its usual written form ("0300 013 5727", "020 3228 2194", "0191 295 2775"),
    or None if `text` holds no plausible UK number. Accepts +44, spaces, dots and dashes."""
    digits = _uk_national_digits(text)
    return _format_uk_number(digits) if digits else None


def _uk_national_digits(text: str) -> str | None:
    """The digits of the first candidate number in `text`, in national form (0 and the code),
    or None when there is no candidate or it is an international (00) number."""
    if not text:
        return None
    match = _PHONE_CANDIDATE.search(text)
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(0))
    if digits.startswith("440"):  # +44 (0)191 ...: the bracketed trunk 0 is kept once
        digits = digits[2:]
    elif digits.startswith("44"):
        digits = "0" + digits[2:]
    if digits.startswith("00"):
        return None
    return digits


def _format_uk_number(digits: str) -> str | None:
    """National digits grouped as the number is usually written, or None if they are not a
    plausible UK number."""
    if len(digits) == 10 and digits.startswith(("01", "08")):  # some 01xxx and 0800 numbers
        return digits[:5] + " " + digits[5:] if digits.startswith("01") else digits[:4] + " " + digits[4:]
    if len(digits) != 11 or not digits.startswith("0"):
        return None
    if digits.startswith("02"):  # 02x xxxx xxxx
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if digits.startswith(("03", "08", "09")):  # 0300 123 4567
        return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
    if digits.startswith("07"):  # 07xxx xxxxxx
        return f"{digits[:5]} {digits[5:]}"
    if digits.startswith("01"):
        # 011x and 01x1 are big-city codes written 0113 xxx xxxx; the rest 01xxx xxxxxx.
        if digits[2] == "1" or digits[3] == "1":
            return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
        return f"{digits[:5]} {digits[5:]}"
    return None


def all_uk_phones(text: str) -> list[str]:
    """Every distinct UK number in a text, in order."""
    found: list[str] = []
    for match in _PHONE_CANDIDATE.finditer(text or ""):
        number = normalise_uk_phone(match.group(0))
        if number and number not in found:
            found.append(number)
    return found


# Numbers for crises and other services appear on service pages ("our Crisis Line ... 0800 ...",
# "call 111", Samaritans 116 123): they are not the service's own contact number.
_OTHER_SERVICE_CONTEXT = re.compile(
    r"crisis|urgent|emergenc|samaritans|\b111\b|\b999\b|out\s+of\s+hours|textline|SHOUT", re.I
)


def introduces_other_line(before: str) -> bool:
    """Whether the words just before a number introduce a crisis or other-service line. Only the
    sentence the number is in counts, not context from an earlier sentence."""
    sentence = re.split(r"[.!?]\s", (before or "")[-80:])[-1]
    return bool(_OTHER_SERVICE_CONTEXT.search(sentence))


def service_phones(text: str) -> list[str]:
    """UK numbers in a text that are not introduced as a crisis or other-service line."""
    found: list[str] = []
    for match in _PHONE_CANDIDATE.finditer(text or ""):
        if introduces_other_line(text[: match.start()]):
            continue
        number = normalise_uk_phone(match.group(0))
        if number and number not in found:
            found.append(number)
    return found


def tel_href_number(href: str) -> str | None:
    """The number of a tel: link, normalised."""
    if not href or not href.lower().startswith("tel:"):
        return None
    return normalise_uk_phone(href[4:].replace("%20", " "))


_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")


def mailto_address(href: str) -> str | None:
    """The address of a mailto: link, if it looks like an email address."""
    if not href or not href.lower().startswith("mailto:"):
        return None
    address = href[7:].split("?")[0].strip()
    return address if _EMAIL.match(address) else None


def is_email(text: str) -> bool:
    return bool(text and _EMAIL.match(text.strip()))


# --- Caveats recorded with facts seen on public pages ----------------------------------------

# Whoever gathered a fact from public pages notes when the page does not tie it to the
# organisation ("linked ... by location (inferred)", "provider not named", "Everyturn link ... not
# confirmed", a service name marked "uncertain"). Such facts are kept, with the caveat, but never
# presented as the organisation's own way to refer yourself.
_ATTRIBUTION_CAVEAT = re.compile(
    r"\binferred\b|\binference\b|\buncertain\b|\bunverified\b|\bunconfirmed\b"
    r"|\bprovider\b[^;.]{0,40}?\bnot\s+(?:named|stated|confirmed)\b"
    r"|\blink\b[^;.]{0,40}?\bnot\s+confirmed\b",
    re.I,
)
# A number described as something other than a line for referring yourself.
_NOT_A_REFERRAL_LINE = re.compile(
    r"\bgeneral\b(?!\s+practi)|\benquir|\bprofessionals?\b|\bprofessionals?'|\bhealth[\s\-]professional"
    r"|\breferrers?\b|\badmin\b|\bswitchboard\b|\bduty\s+line\b|(?-i:\bSPA\b)"
    r"|\bnot\s+(?:explicitly\s+)?(?:labell?ed|confirmed|stated)\s+(?:as\s+)?(?:an?\s+)?self[\s\-]*referral",
    re.I,
)
_REFER_YOURSELF = re.compile(r"\bself[\s\-]*refer|\brefer\s+(?:your|them|him|her)sel(?:f|ves)\b", re.I)
_CLAUSE_BREAK = re.compile(r";|(?<=[.!?])\s+")


def attribution_caveat(*texts: str | None) -> str | None:
    """The words saying that public-page facts are tied to this organisation only by inference
    (or are uncertain), or None."""
    for text in texts:
        for clause in _CLAUSE_BREAK.split(text or ""):
            if _ATTRIBUTION_CAVEAT.search(clause):
                return " ".join(clause.split()).rstrip(".")
    return None


def numbers_not_for_self_referral(notes: str | None) -> dict[str, str]:
    """Numbers the notes describe as a general, enquiries or professionals' line (or "not labelled
    self-referral") and nowhere plainly as a way to refer yourself: number -> the words saying so.

    Read clause by clause: "0800 073 2200 is general enquiries/day supervisor line; ... refer
    yourself to Let's Talk by calling 0800 073 2200" keeps the number as a self-referral line,
    "0300 330 1354 is the charity's general local-rate number" does not."""
    caveated: dict[str, str] = {}
    plainly_self_referral: set[str] = set()
    for clause in _CLAUSE_BREAK.split(notes or ""):
        numbers = all_uk_phones(clause)
        if not numbers:
            continue
        if _NOT_A_REFERRAL_LINE.search(clause):
            for number in numbers:
                caveated.setdefault(number, " ".join(clause.split()).rstrip("."))
        elif _REFER_YOURSELF.search(clause):
            plainly_self_referral.update(numbers)
    return {number: words for number, words in caveated.items() if number not in plainly_self_referral}


# --- Public service names ---------------------------------------------------------------------

# The public name of a service is what people know it by ("Leeds Mental Wellbeing Service",
# "Talking Change"). A registered organisation or site name is not one: ODS registers many
# Talking Therapies services under a hospital, a building or a trust ("Fieldhead Hospital",
# "1829 Building", "Mill House"), which tells a person nothing about the service. Words that show
# a name is a service's own:
_SERVICE_WORDS = re.compile(
    r"\btalking\b|\btherap|\bIAPT\b|\bwell[\s\-]?being\b|\bpsycholog|\bcounsell|\bmind\b|\btalk\b",
    re.I,
)
# Where the name ends in one of these it is a site or building, or a trust or company.
_SITE_WORDS = re.compile(
    r"\b(?:hospital|house|building|unit|clinic|surgery|practice|medical\s+(?:group|centre|center)"
    r"|health\s+cent(?:re|er)|village\s+centre|office|offices|HQ|site|premises)\s*$",
    re.I,
)
_TRUST_WORDS = re.compile(
    r"\b(?:NHS\s+(?:foundation\s+)?trust|foundation\s+trust|trust|NHS\s+FT|Tr)\s*$", re.I
)
_HQ = re.compile(r"\s*\bHQ\s*$", re.I)
# How whoever gathered the names marks one no longer in use.
_HISTORICAL = re.compile(r"\bhistorical\b|\bended\b|\bno\s+longer\b|\bclosed\b", re.I)


def _core_name(name: str) -> str:
    """The name without notes in brackets and without a trailing "- note"."""
    core = re.sub(r"\([^)]*\)", " ", name)
    core = re.split(r"\s+[-–]\s+", core)[0]
    return " ".join(core.split()).strip(" ,;/")


def public_name_problem(name: str | None) -> str | None:
    """Why a name cannot be shown as the service's public name, or None when it can: an uncertain
    match, a name marked historical, or a bare site, building or trust name."""
    if not name or not name.strip():
        return "empty"
    if attribution_caveat(name):
        return "uncertain match"
    if _HISTORICAL.search(name):
        return "marked as no longer in use"
    core = _core_name(name)
    outside_brackets = re.sub(r"\([^)]*\)", " ", name)
    if _SERVICE_WORDS.search(outside_brackets):
        return None
    if _SITE_WORDS.search(core):
        return "a site or building name"
    if _TRUST_WORDS.search(core):
        return "a trust name"
    return None


def site_name(name: str | None) -> bool:
    """Whether a registered name is a bare site or building ("Fieldhead Hospital")."""
    if not name:
        return False
    core = _core_name(name)
    if _TRUST_WORDS.search(_HQ.sub("", core)):  # a trust's headquarters is the trust
        return False
    return bool(_SITE_WORDS.search(core)) and not _SERVICE_WORDS.search(core)
