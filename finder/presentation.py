"""Words and links the app shows, as pure functions (no Streamlit), so they are tested directly.

Everything that turns a record into text for a person lives here: distances, outcome comparisons,
register statuses, and the rules for which URLs may become links. Scraped or imported text is
never trusted as markup: `md_escape` makes it inert before the app puts it into Markdown.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from finder.records import safe_url
from finder.textrules import public_name_problem, site_name

# ---------------------------------------------------------------------------------------------
# Safe text and links


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
    if isinstance(url, str) and _TEL_LINK.fullmatch(url):
        target = url
    else:
        target = safe_url(url)
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


# ---------------------------------------------------------------------------------------------
# Distances and locations

_APPROXIMATE_WORDS = {
    "sector": "approximate location (postcode sector)",
    "outcode": "approximate location (postcode district)",
    "place": "approximate location (town centre)",
}


def distance_text(miles: float | None, *, works_online: bool = False) -> str:
    """'2.3 miles away (straight line)'; distances are as the crow flies, not by road."""
    if miles is None or (isinstance(miles, float) and math.isnan(miles)):
        return "Works online (no local address)" if works_online else "Distance not known"
    if miles < 0.1:
        return "Less than 0.1 miles away (straight line)"
    shown = f"{miles:.1f}"
    unit = "mile" if shown == "1.0" else "miles"
    return f"{shown} {unit} away (straight line)"


def location_note(precision: str | None) -> str | None:
    """Words for a record whose position is the centre of an area rather than its address."""
    if not precision or precision == "postcode":
        return None
    return _APPROXIMATE_WORDS.get(precision, "approximate location")


def age_text(min_age: object) -> str | None:
    if min_age is None or min_age == "":
        return None
    try:
        age = int(float(min_age))
    except (TypeError, ValueError):
        return None
    return f"For people aged {age} and over"


_PROVENANCE_TITLES = {
    "location": "Location",
    "contacts": "Contact details",
    "outcomes": "Outcomes",
    "ipt": "IPT",
}


def provenance_lines(provenance: Mapping | None, *, max_links: int = 3) -> list[str]:
    """Markdown lines, one per group of facts: where it came from and when it was checked.
    Source names are escaped; only http(s) evidence pages become links."""
    if not isinstance(provenance, Mapping):
        return []
    lines = []
    for group, entry in provenance.items():
        if not isinstance(entry, Mapping):
            continue
        title = _PROVENANCE_TITLES.get(group, str(group).replace("_", " ").capitalize())
        parts = []
        if entry.get("source"):
            parts.append(md_escape(entry["source"]))
        checked = entry.get("last_verified")
        if not checked:
            parts.append("date checked not known")
        elif safe_url(entry.get("source")):
            parts.append(f"checked {md_escape(checked)}")
        else:
            # A file of unknown age was imported that day: that is not a check of the service.
            parts.append(f"imported {md_escape(checked)}")
        if entry.get("note"):
            parts.append(md_escape(entry["note"]))
        urls = [u for u in entry.get("evidence_urls") or [] if safe_url(u)][:max_links]
        if urls:
            parts.append("seen on " + ", ".join(md_link(f"page {i}", u) for i, u in enumerate(urls, 1)))
        lines.append(f"{md_escape(title)}: " + "; ".join(parts))
    return lines


# ---------------------------------------------------------------------------------------------
# Outcomes against the England average


def as_number(value: object) -> float | None:
    """A published figure as a float; None when it is missing, not a number, NaN or a bool."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def compare_to_england(value: object, england: object, *, margin: float = 2.0) -> str | None:
    """'higher than', 'lower than' or 'about the same as' the England average.

    Differences within `margin` percentage points are called 'about the same': single-year
    provider figures move by a point or two on chance alone, and the published numbers are rounded.
    """
    mine, average = as_number(value), as_number(england)
    if mine is None or average is None:
        return None
    if mine >= average + margin:
        return "higher than"
    if mine <= average - margin:
        return "lower than"
    return "about the same as"


def outcome_line(label: str, value: object, england: object) -> str | None:
    """'Recovery: 47% (England average 50.5%, about the same)' or None when not published."""
    mine = as_number(value)
    if mine is None:
        return None
    average = as_number(england)
    if average is None:
        return f"{label}: {mine:g}%"
    comparison = compare_to_england(mine, average)
    return f"{label}: {mine:g}% ({comparison} the England average of {average:g}%)"


def england_for(record: Mapping, england_by_period: Mapping | None) -> Mapping | None:
    """England's figures for the same year as the record's own outcomes, or None."""
    outcomes = record.get("outcomes")
    if not isinstance(outcomes, Mapping) or not england_by_period:
        return None
    return england_by_period.get(outcomes.get("period"))


def outcome_lines(outcomes: Mapping | None, england: Mapping | None) -> list[str]:
    """The two measures people ask about: recovery, and starting treatment within 6 weeks,
    compared with England's figures when those are for the same period."""
    if not outcomes:
        return []
    england = england or {}
    if england.get("period") and outcomes.get("period") and england["period"] != outcomes["period"]:
        england = {}  # a service's figures are only compared with England's for the same year
    lines = [
        outcome_line("Recovery", outcomes.get("recovery_pct"), england.get("recovery_pct")),
        outcome_line(
            "Started treatment within 6 weeks of referral",
            outcomes.get("within_6_weeks_pct"),
            england.get("within_6_weeks_pct"),
        ),
    ]
    lines = [line for line in lines if line]
    if lines and outcomes.get("period"):
        lines.append(f"NHS England figures for {outcomes['period']}")
    return lines


# ---------------------------------------------------------------------------------------------
# One search result, as the app shows it

KIND_NAMES = {"nhs": "NHS Talking Therapies service", "private": "Private practitioner"}
# The NHS website's finder, for NHS services whose own referral link we do not hold.
NHS_FINDER_HINT = (
    "We don't hold an online referral link for this service. {link}, call the service, or ask your GP."
)


@dataclass(frozen=True)
class ResultCard:
    """A search result as Markdown lines (every piece of record text already escaped) plus the
    one link that becomes a button. `referral_url` is None unless it is a safe http(s) URL."""

    title: str
    run_by: str | None
    summary: str
    referral_url: str | None
    referral_hint: str | None
    contacts: tuple[str, ...]
    details: tuple[str, ...]
    outcomes: tuple[str, ...]
    verified: str
    provenance: tuple[str, ...]


def _name_key(name: object) -> str:
    text = re.sub(r"\((?:HQ|[^)]*\bHQ)\)|\bHQ\b", " ", str(name or ""), flags=re.I)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def service_title(record: Mapping) -> tuple[str, str | None]:
    """The card title and the line under it, as plain text (escape before Markdown).

    The public name people know the service by is the title, with "Run by <registered name>";
    never a bare site name: a service registered under a hospital or building and known by no
    other name is "NHS Talking Therapies service based at Fieldhead Hospital"."""
    name = str(record.get("name") or "").strip()
    service_name = record.get("service_name")
    if isinstance(service_name, str) and service_name.strip() and not public_name_problem(service_name):
        title = service_name.strip()
        if not name or _name_key(name) == _name_key(title):
            return title, None
        if site_name(name):  # a hospital does not run a service: it is where it is registered
            return title, f"Listed by the NHS as {name}"
        return title, f"Run by {record.get('provider') or name}"
    if record.get("kind") == "nhs" and site_name(name):
        site = re.sub(r"\s*\(HQ\)\s*$", "", name)
        return f"NHS Talking Therapies service based at {site}", None
    return name, None


def result_card(record: Mapping, england: Mapping | None, *, nhs_finder_url: str | None = None) -> ResultCard:
    title, run_by_line = service_title(record)
    run_by = md_escape(run_by_line) if run_by_line else None

    facts = [
        KIND_NAMES.get(str(record.get("kind")), "Service"),
        distance_text(record.get("distance_miles"), works_online=bool(record.get("works_online"))),
    ]
    approximate = location_note(record.get("location_precision"))
    if approximate:
        facts.append(approximate)
    if record.get("online_option"):
        facts.append("works online, so you can use it from further away")

    referral = safe_url(record.get("self_referral_url"))
    hint = None
    if not referral and record.get("kind") == "nhs" and nhs_finder_url:
        hint = NHS_FINDER_HINT.format(
            link=md_link("Find how to refer yourself on the NHS website", nhs_finder_url)
        )

    contacts = []
    phone, referral_phone = record.get("phone"), record.get("self_referral_phone")
    if phone:
        contacts.append(f"Phone: {md_link(phone, tel_url(phone))}")
    if referral_phone and referral_phone != phone:
        contacts.append(f"Self-referral by phone: {md_link(referral_phone, tel_url(referral_phone))}")
    if safe_url(record.get("website")):
        contacts.append(f"Website: {md_link('visit the website', record.get('website'))}")
    if record.get("email") and "@" in str(record.get("email")):
        contacts.append(f"Email: {md_escape(record.get('email'))}")

    return ResultCard(
        title=md_escape(title),
        run_by=run_by,
        summary=" · ".join(md_escape(fact) for fact in facts),
        referral_url=referral,
        referral_hint=hint,
        contacts=tuple(contacts),
        details=tuple(_detail_lines(record)),
        outcomes=tuple(md_escape(line) for line in outcome_lines(record.get("outcomes"), england)),
        verified=_verified_line(record),
        provenance=tuple(provenance_lines(record.get("provenance"))),
    )


def _detail_lines(record: Mapping) -> list[str]:
    details = []
    age_rule = str(record.get("min_age_text") or "").strip()
    if age_rule and not age_rule.isdigit():  # an age rule as the service states it
        details.append(f"Age: {md_escape(age_rule)}")
    elif age_text(record.get("min_age")):
        details.append(age_text(record.get("min_age")))
    if record.get("catchment"):
        details.append(f"Area covered: {md_escape(record.get('catchment'))}")
    if record.get("location_note"):
        details.append(md_escape(record.get("location_note")))
    details.append(ipt_line(record))
    if record.get("kind") == "private":
        if record.get("town"):
            details.append(f"Based in {md_escape(record.get('town'))}")
        ways = [
            word
            for key, word in (
                ("works_in_person", "in person"),
                ("works_online", "online"),
                ("works_by_phone", "by phone"),
            )
            if record.get(key)
        ]
        if ways:
            details.append("Works " + ", ".join(ways))
        registrations = [
            f"{md_escape(r.get('register'))} {md_escape(r.get('number'))}".strip()
            for r in record.get("registrations") or []
            if isinstance(r, Mapping)
        ]
        if registrations:
            details.append(
                "Registered with: " + "; ".join(registrations) + " (check this on the Check a therapist page)"
            )
    if record.get("offers_dit") is True:
        details.append("Offers Dynamic Interpersonal Therapy (DIT), which is a different therapy from IPT")
    return details


# What the app says about IPT follows what the evidence is (issue 13): NHS England's figures for
# the latest year, for an earlier year only, or the service's own website.
IPT_WORDS = {
    "official_latest": "**Delivers IPT** (NHS England figures)",
    "official_earlier": "**Delivered IPT in an earlier year** (NHS England figures)",
    "website": "Its own website mentions IPT (not shown in NHS England figures)",
}


def ipt_line(record: Mapping) -> str:
    """The IPT line of a card, in Markdown with the evidence escaped."""
    evidence = md_escape(record.get("ipt_evidence")) if record.get("ipt_evidence") else ""
    offers_ipt = record.get("offers_ipt")
    if offers_ipt is True:
        words = IPT_WORDS.get(str(record.get("ipt_basis")), "**Offers IPT**")  # practitioners: accredited
        return words + (f": {evidence}" if evidence else "")
    if offers_ipt is False:
        return "Does not offer IPT" + (f": {evidence}" if evidence else "")
    return "IPT: not known. You can ask for it when you refer yourself."


def _verified_line(record: Mapping) -> str:
    source = record.get("source")
    when = md_escape(record.get("last_verified") or "unknown")
    if safe_url(source):
        return f"Last verified {when} ({md_link('source', source)})"
    # Imported from a published file: say when it was imported, not that the service was checked.
    return f"Imported {when} from {md_escape(source)}"


# ---------------------------------------------------------------------------------------------
# Register checks


@dataclass(frozen=True)
class StatusWords:
    words: str  # what the status means, in a sentence fragment a person understands
    icon: str  # a Streamlit material icon name, so each status also looks different
    tone: str  # success | warning | error | info | neutral


REGISTER_STATUS = {
    "current": StatusWords("Registered (current)", ":material/verified:", "success"),
    "current_with_conditions": StatusWords(
        "Registered, with conditions on practice", ":material/rule:", "warning"
    ),
    "lapsed_or_removed": StatusWords("No longer registered (lapsed or removed)", ":material/block:", "error"),
    "not_found": StatusWords("Not found on this register", ":material/person_off:", "neutral"),
    "ambiguous": StatusWords(
        "More than one possible match: compare the details below", ":material/help:", "warning"
    ),
    "check_failed": StatusWords(
        "Could not check: the register did not answer. This is not the same as 'not found'; "
        "try again later or use the link to check by hand",
        ":material/cloud_off:",
        "warning",
    ),
    "manual_check": StatusWords(
        "Check by hand: not checked automatically here; follow the link to the register's own search",
        ":material/open_in_new:",
        "info",
    ),
}


def checked_text(checked_at: object) -> str | None:
    """'2026-11-25 18:35 UTC' from an ISO timestamp ('2026-11-25T18:35:23Z'); dates pass through."""
    if not isinstance(checked_at, str) or not checked_at.strip():
        return None
    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]00:?00)?)?", checked_at.strip()
    )
    if not match:
        return checked_at.strip()
    day, time_of_day, utc = match.groups()
    if not time_of_day:
        return day
    return f"{day} {time_of_day}" + (" UTC" if utc else "")


def status_words(status: str) -> StatusWords:
    return REGISTER_STATUS.get(
        status, StatusWords(f"Unknown status ({md_escape(status)})", ":material/help:", "neutral")
    )


# ---------------------------------------------------------------------------------------------
# About the data

# Plain titles for the manifest's source names; unknown names are tidied up instead.
SOURCE_TITLES = {
    "postcodes": "Postcodes (Ordnance Survey Code-Point Open)",
    "places": "Town names for place search",
    "nhs-providers": "NHS Talking Therapies providers (NHS Organisation Data Service)",
    "nhs-outcomes": "Outcomes and waiting times (NHS England statistics)",
    "service-links": "Service websites, self-referral links and IPT mentions (public web pages)",
    "services": "NHS Talking Therapies services as searched (built from the sources above)",
    "practitioners": "Private IPT practitioners (register export)",
}


def source_title(name: object) -> str:
    text = str(name)
    return SOURCE_TITLES.get(text) or text.replace("_", " ").replace("-", " ").capitalize()


# ---------------------------------------------------------------------------------------------
# CSV export

CSV_COLUMNS = (
    ("name", "Name"),
    ("kind", "Type"),
    ("distance_miles", "Distance in miles (straight line)"),
    ("self_referral_url", "Refer yourself online"),
    ("phone", "Phone"),
    ("website", "Website"),
    ("email", "Email"),
    ("offers_ipt", "Offers IPT"),
    ("works_online", "Works online"),
    ("works_in_person", "Works in person"),
    ("min_age", "Minimum age"),
    ("catchment", "Area covered"),
    ("outcomes.recovery_pct", "Recovery % (NHS England figures)"),
    ("outcomes.within_6_weeks_pct", "Started treatment within 6 weeks %"),
    ("outcomes.period", "Period of the figures"),
    ("last_verified", "Last verified"),
    ("source", "Source"),
)


_CSV_LINKS = ("self_referral_url", "website")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = " ".join(str(value).split())
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text


def _field(record: Mapping, dotted: str) -> object:
    """record["outcomes"]["period"] for "outcomes.period"; None where any step is missing."""
    value: object = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def results_csv(results: Iterable[Mapping]) -> bytes:
    """The results as CSV (UTF-8 with BOM so spreadsheet programs read the £ and accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([title for _, title in CSV_COLUMNS])
    for record in results:
        row = []
        for key, _ in CSV_COLUMNS:
            value = _field(record, key)
            if key in _CSV_LINKS:
                value = safe_url(value)  # only http(s) links, as on the page
            row.append(_csv_cell(value))
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
