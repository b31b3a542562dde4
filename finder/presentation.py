"""Words and links the app shows, as pure functions (no Streamlit), so they are tested directly.

Everything that turns a record into text for a person lives here: distances, outcome comparisons,
register statuses, and the rules for which URLs may become links. Scraped or imported text is
never trusted as markup: `md_escape` makes it inert before the app puts it into Markdown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import SupportsFloat

from finder.csvtext import csv_table
from finder.ipt_evidence import as_number, ipt_sentence
from finder.schema import safe_url
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
    target: str | None
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


def whole_number(value: object) -> int | None:
    """A published whole number (an age, say) as an int; None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, str | SupportsFloat):
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        return None


def age_text(min_age: object) -> str | None:
    if min_age is None or min_age == "":
        return None
    age = whole_number(min_age)
    if age is None:
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


def compare_to_england(value: object, england: object, *, margin: float = 2.0) -> str | None:
    """'higher than', 'lower than' or 'about the same as' the England average.

    Differences within `margin` percentage points are called 'about the same': single-year
    provider figures move by a point or two on chance alone, and the published numbers are rounded.
    """
    mine, average = as_number(value), as_number(england)
    if mine is None or average is None:
        return None
    return _comparison(mine, average, margin)


def _comparison(mine: float, average: float, margin: float = 2.0) -> str:
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
    shown = [line for line in lines if line]
    if shown and outcomes.get("period"):
        shown.append(f"NHS England figures for {outcomes['period']}")
    return shown


# ---------------------------------------------------------------------------------------------
# One search result, as the app shows it

KIND_NAMES = {"nhs": "NHS Talking Therapies service", "private": "Private practitioner"}
NHS_FINDER_LABEL = "Find how to refer yourself on the NHS website"


@dataclass(frozen=True, kw_only=True)
class Action:
    """The one thing a card asks a person to do next: a button with a safe http(s) or tel: link."""

    label: str  # plain text (a button label is not Markdown)
    url: str


def primary_action(record: Mapping, *, nhs_finder_url: str | None = None) -> Action | None:
    """Refer online > call the self-referral line > the service's website > the NHS finder.

    Only a number the service gives for referring yourself is offered as "Call": a general or
    professionals' line would leave a person on the wrong phone (it stays in the contact details).
    """
    name = str(record.get("service_name") or record.get("name") or "the service")
    referral = safe_url(record.get("self_referral_url"))
    if referral:
        return Action(label="Refer yourself online", url=referral)
    phone = record.get("self_referral_phone")
    if record.get("kind") == "private":
        phone = phone or record.get("phone")
    dial = tel_url(phone)
    if dial:
        return Action(label=f"Call {' '.join(str(phone).split())}", url=dial)
    website = safe_url(record.get("website"))
    if website:
        return Action(label=f"Visit {' '.join(name.split())}'s website", url=website)
    if record.get("kind") == "nhs" and nhs_finder_url:
        return Action(label=NHS_FINDER_LABEL, url=nhs_finder_url)
    return None


def _age_words(record: Mapping) -> str | None:
    age = whole_number(record.get("min_age"))
    if age is None:
        return None
    return f"aged {age} and over"


def _served_names(record: Mapping) -> list[str]:
    """Districts a service covers with at least medium confidence (a guess from its registered
    office alone is not said to a person as fact)."""
    names = []
    for area in record.get("areas_served") or []:
        if isinstance(area, Mapping) and area.get("confidence") in ("high", "medium") and area.get("name"):
            names.append(str(area["name"]) + _partial_words(area))
    return names


def _partial_words(area: Mapping) -> str:
    """The words after a district the service covers only part of: " (Craven area)"."""
    part = area.get("part")
    return f" ({part})" if part else ""


_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.I)
_YEAR = re.compile(r"\b(?:19[89]\d|20\d\d)\b")


def evidence_year(evidence: object) -> str | None:
    """The year an evidence text gives for its page ("(2014)", "4 Feb 2019"), the first one
    written outside its links; None when it gives none ("undated")."""
    found = _YEAR.search(_URL.sub(" ", str(evidence or "")))
    return found[0] if found else None


def _where_registered(part: object, district: object) -> tuple[str, str]:
    """Where a person must be registered, in words, and what to check: "at surgeries in Fleet
    and Yateley", "check yours is one"; "with a GP in the Craven area (North Yorkshire)"."""
    part_text = " ".join(str(part or "").split())
    if not part_text:
        return f"with a GP in {district or 'your area'}", "check yours is there"
    if part_text.lower().endswith(" surgeries"):
        return f"at surgeries in {part_text[: -len(' surgeries')]}", "check yours is one"
    place = f"the {part_text}" if part_text.lower().endswith(" area") else part_text
    return f"with a GP in {place}" + (f" ({district})" if district else ""), "check yours is there"


def coverage_words(record: Mapping) -> str | None:
    """For a service that covers the person's area, plain words for what the evidence says where
    it is short of "it takes everyone registered in your district": only part of the district,
    a headquarters in the area and nothing more, or an old or indirect page (with its year).
    None where the evidence is sure and covers the whole district."""
    if record.get("coverage") != "covers":
        return None
    where, check = _where_registered(record.get("coverage_part"), record.get("coverage_district"))
    if record.get("coverage_confidence") != "low":
        return f"Takes people registered {where}: {check}." if record.get("coverage_part") else None
    if record.get("coverage_basis") == "hq_area":
        return (
            "It is based in your area, so it probably takes people registered with a GP here: "
            "please check when you contact it."
        )
    if record.get("coverage_basis") == "public_page":
        year = evidence_year(record.get("coverage_evidence"))
        page = f"A public page ({year}) says" if year else "Its public pages suggest"
        return f"{page} it takes people registered {where}: please check when you contact it."
    return f"It probably takes people registered {where}: please check when you contact it."


def local_names_words(record: Mapping) -> str | None:
    """Where the person's possible districts know the service by different names."""
    names = [str(n) for n in record.get("local_service_names") or [] if n]
    if len(names) < 2:
        return None
    listed = ", ".join(names[:-1]) + f" or {names[-1]}"
    return f"Known locally as {listed}: which one takes you depends on where your GP is."


def _list_words(names: list[str], limit: int = 3) -> str:
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more areas"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def who_for(record: Mapping) -> str | None:
    """One sentence of who a service is for, escaped: its audience, age and area."""
    if record.get("kind") == "private":
        return None
    audience = record.get("audience")
    if audience:
        return md_escape(f"For {audience}.")
    age = _age_words(record)
    if record.get("role") == "digital":
        return "For people whose local NHS Talking Therapies service offers it: ask your local service."
    if record.get("national"):
        return md_escape(f"Open to people {age or 'of any age'} anywhere in England.")
    words = coverage_words(record)
    if words:
        return md_escape(words)
    served = _served_names(record)
    if served:
        people = f"people {age}" if age else "people"
        return md_escape(f"For {people} registered with a GP in {_list_words(served)}.")
    if record.get("catchment"):
        return md_escape(f"Who it is for: {record['catchment']}.")
    if age:
        return md_escape(f"For people {age}.")
    return None


def ipt_words(record: Mapping) -> str:
    """`ipt_sentence`, safe inside st.markdown (the figures' wording comes from data)."""
    sentence = ipt_sentence(record)
    return (
        md_escape(sentence)
        if record.get("ipt_basis") in ("official_latest", "official_earlier")
        else sentence
    )


def outcomes_sentence(outcomes: Mapping | None, england: Mapping | None) -> str | None:
    """Recovery and waiting in one line, each next to England's figure for the same year."""
    if not isinstance(outcomes, Mapping) or not outcomes.get("period"):
        return None
    england = england if isinstance(england, Mapping) else {}
    if england.get("period") and england["period"] != outcomes["period"]:
        england = {}  # compared only with England's figures for the same year
    parts = []
    for label, key in (
        ("recovered", "recovery_pct"),
        ("started treatment within 6 weeks", "within_6_weeks_pct"),
    ):
        mine = as_number(outcomes.get(key))
        if mine is None:
            continue
        theirs = as_number(england.get(key))
        part = f"{mine:g}% {label}"
        if theirs is not None:
            part += (
                f" (England {theirs:g}%: {_comparison(mine, theirs).replace(' as', '').replace(' than', '')})"
            )
        parts.append(part)
    if not parts:
        return None
    return md_escape(f"In {outcomes['period']}, " + " and ".join(parts) + ".")


# Where each kind of fact comes from, said for people (the sources' file names stay internal).
_SOURCE_WORDS = (
    ("annual_main", "NHS England's published statistics"),
    ("therapy_based", "NHS England's published statistics"),
    ("ods_providers", "the NHS's register of organisations (its registered office)"),
    ("service_links", "the service's own web pages"),
    ("service_areas", "the service's public pages and registered name"),
    ("service_roles", "the service's public pages and NHS England's statistics"),
)
_GROUP_WORDS = {
    "location": "Address",
    "contacts": "Phone, website and referral link",
    "outcomes": "Outcomes",
    "ipt": "Interpersonal Therapy (IPT)",
}


def _source_words(source: object) -> str:
    text = str(source or "")
    if safe_url(text):
        return "the service's page"
    found = [words for key, words in _SOURCE_WORDS if key in text]
    return " and ".join(dict.fromkeys(found)) or "published data"


def _period_of(record: Mapping) -> str | None:
    outcomes = record.get("outcomes")
    return outcomes.get("period") if isinstance(outcomes, Mapping) else None


def sources_for_people(record: Mapping, *, max_links: int = 3) -> list[str]:
    """The "Where this comes from" lines: which body said each fact and how fresh it is, with the
    pages it was seen on as links. No file names, codes or pipeline notes."""
    provenance = record.get("provenance")
    if not isinstance(provenance, Mapping):
        provenance = {}
    lines = []
    for group, entry in provenance.items():
        if not isinstance(entry, Mapping):
            continue
        title = _GROUP_WORDS.get(group, str(group).replace("_", " ").capitalize())
        words = f"From {_source_words(entry.get('source'))}"
        if "statistics" in words and _period_of(record):
            words += f" for {_period_of(record)}"
        note = str(entry.get("note") or "")
        if entry.get("last_verified") and safe_url(entry.get("source")):
            words += f", checked {entry['last_verified']}"
        elif "date unknown" in note or (group == "contacts" and not entry.get("last_verified")):
            words += "; we could not check the date"
        if "inference" in note:
            words += ". We matched these pages to this service ourselves, so please check them"
        line = md_escape(f"{title}: {words}.")
        urls = [u for u in entry.get("evidence_urls") or [] if safe_url(u)][:max_links]
        if urls:
            line += " Seen on " + ", ".join(md_link(f"page {i}", u) for i, u in enumerate(urls, 1)) + "."
        lines.append(line)
    if record.get("kind") == "nhs" and record.get("id"):
        lines.append(md_escape(f"NHS organisation code (for staff): {record['id']}."))
    return lines


@dataclass(frozen=True, kw_only=True)
class ResultCard:
    """A search result as Markdown lines (every piece of record text already escaped) plus the
    one action that becomes a button."""

    title: str
    run_by: str | None
    action: Action | None
    who_for: str | None
    part_of: str | None
    distance: str | None
    ipt: str
    outcomes: str | None
    contacts: tuple[str, ...]
    details: tuple[str, ...]
    sources: tuple[str, ...]


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


def result_card(
    record: Mapping,
    england: Mapping | None,
    *,
    nhs_finder_url: str | None = None,
    show_distance: bool = True,
) -> ResultCard:
    title, run_by_line = service_title(record)
    run_by = md_escape(run_by_line) if run_by_line else None
    action = primary_action(record, nhs_finder_url=nhs_finder_url)
    distance = None
    if not show_distance:
        distance = registered_office_text(record)
    else:
        distance = distance_text(record.get("distance_miles"), works_online=bool(record.get("works_online")))
        approximate = location_note(record.get("location_precision"))
        if approximate and record.get("distance_miles") is not None:
            distance += f" ({approximate})"
    who = " ".join(filter(None, (who_for(record), md_escape(local_names_words(record)))))
    return ResultCard(
        title=md_escape(title),
        run_by=run_by,
        action=action,
        who_for=who or None,
        part_of=None,
        distance=distance,
        ipt=ipt_words(record),
        outcomes=outcomes_sentence(record.get("outcomes"), england),
        contacts=tuple(_contact_lines(record, action)),
        details=tuple(_detail_lines(record)),
        sources=tuple(sources_for_people(record)),
    )


FAR_OFFICE_MILES = 5.0


def registered_office_text(record: Mapping) -> str | None:
    """For a service that covers the person but is registered far away: its registered office is
    not where people are seen, so its distance is said as the office's, never as a clinic's."""
    miles = as_number(record.get("distance_miles"))
    if record.get("coverage") != "covers" or miles is None or miles < FAR_OFFICE_MILES:
        return None
    return (
        f"Its registered office is {miles:.0f} miles away, but it serves your area: "
        "where you are seen is agreed when you refer yourself."
    )


def _contact_lines(record: Mapping, action: Action | None) -> list[str]:
    """Ways to get in touch other than the primary action (which is already a button)."""
    used = action.url if action else None
    contacts = []
    phone, referral_phone = record.get("phone"), record.get("self_referral_phone")
    if referral_phone and tel_url(referral_phone) != used:
        contacts.append(f"To refer yourself by phone: {md_link(referral_phone, tel_url(referral_phone))}")
    if phone and phone != referral_phone and tel_url(phone) != used:
        contacts.append(f"Phone (general enquiries): {md_link(phone, tel_url(phone))}")
    website = safe_url(record.get("website"))
    if website and website != used:
        contacts.append(md_link("The service's website", website))
    if record.get("email") and "@" in str(record.get("email")):
        contacts.append(f"Email: {md_escape(record.get('email'))}")
    return contacts


def _detail_lines(record: Mapping) -> list[str]:
    """Facts for private practitioners (NHS services say theirs in who_for and the IPT line)."""
    details = []
    if record.get("kind") != "private":
        if record.get("offers_dit") is True:
            details.append("Also offers Dynamic Interpersonal Therapy (DIT), a different therapy from IPT.")
        return details
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
    return details


# ---------------------------------------------------------------------------------------------
# Grouping the answer: the person's own service first

GROUP_YOURS = "Your NHS Talking Therapies service"
GROUP_PART = "Services for parts of this place"
PART_INTRO = (
    "This place is split between NHS areas, and each of these services takes people from only part "
    "of it. Type your full postcode or the name of your GP surgery to see the one for you."
)
GROUP_ALSO = "Also for you if..."
GROUP_NATIONAL = "Open to anyone in England"
GROUP_NEARBY = "Other services near you (may only accept people registered with a GP in their area)"
GROUP_PRIVATE = "Private IPT practitioners"
BSL_HEADING = "For Deaf people who use BSL"
DIGITAL_HEADING = "Available if your local service offers it"


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One service as shown: its record, the partner organisations that deliver part of it, and
    the subheading it sits under in its group (None for most)."""

    record: Mapping
    partners: tuple[Mapping, ...] = ()
    subheading: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResultGroup:
    key: str  # yours | part | also | national | nearby | private
    heading: str
    entries: tuple[Entry, ...]
    folded: bool
    intro: str | None = None
    show_distance: bool = False


def group_key(record: Mapping) -> str:
    """Which group a result is shown in: yours, also (a service for one group of people that
    covers the area), national, nearby or private; the app and the plain text alike."""
    if record.get("kind") == "private":
        return "private"
    coverage, role = record.get("coverage"), record.get("role")
    if role == "digital":
        return "national"
    if coverage == "covers":
        return "also" if role == "specialist" else "yours"
    if coverage == "covers_part":
        return "part"
    if coverage == "national" or (coverage is None and record.get("national")):
        return "national"
    return "nearby"  # same_icb, elsewhere, or a result from before coverage was known


def _subheading(record: Mapping, key: str) -> str | None:
    if record.get("role") == "digital":
        return DIGITAL_HEADING
    audience = str(record.get("audience") or "")
    if key == "national" and re.search(r"\bBSL\b|sign language", audience, re.IGNORECASE):
        return BSL_HEADING
    return None


def _same_service(a: Mapping, b: Mapping) -> bool:
    """Two records for one service: the same id, or the same public name and the same way in."""
    if a.get("id") and a.get("id") == b.get("id"):
        return True
    name_a = " ".join(str(a.get("service_name") or "").lower().split())
    name_b = " ".join(str(b.get("service_name") or "").lower().split())
    if not name_a or name_a != name_b:
        return False
    ways = ("self_referral_url", "website", "self_referral_phone", "phone")
    return any(a.get(k) and a.get(k) == b.get(k) for k in ways)


_HEADINGS = {
    "yours": GROUP_YOURS,
    "part": GROUP_PART,
    "also": GROUP_ALSO,
    "national": GROUP_NATIONAL,
    "nearby": GROUP_NEARBY,
    "private": GROUP_PRIVATE,
}
GROUP_HEADINGS = frozenset(_HEADINGS.values())


def group_results(results: Iterable[Mapping]) -> list[ResultGroup]:
    """Search results in the order a person needs them: the service that covers them, services
    for particular groups in their area, national services, other services nearby, then private
    practitioners. Partners are shown under their lead; duplicates are merged. Results without
    `coverage` (before it is known) all count as "near you". The first group is open, the rest
    folded. Search order is kept within each group."""
    results = list(results)
    present = {r.get("id") for r in results if r.get("id")}
    kept: list[Mapping] = []
    partners: dict[object, list[Mapping]] = {}
    for record in results:
        lead = record.get("lead_id")
        if (
            record.get("role") in ("partner", "site")
            and lead
            and lead in present
            and lead != record.get("id")
        ):
            partners.setdefault(lead, []).append(record)
            continue
        if any(_same_service(record, other) for other in kept):
            continue
        kept.append(record)
    buckets: dict[str, list[Entry]] = {key: [] for key in _HEADINGS}
    for record in kept:
        key = group_key(record)
        under = tuple(p for p in partners.get(record.get("id"), []) if p.get("role") == "partner")
        buckets[key].append(Entry(record=record, partners=under, subheading=_subheading(record, key)))
    # Results from before coverage was known are all "near you", and the first group opens.
    known = any(r.get("coverage") for r in kept)
    groups: list[ResultGroup] = []
    for key, heading in _HEADINGS.items():
        entries = buckets[key]
        if not entries:
            continue
        if key == "national":  # the general national services before those for one group
            entries.sort(key=lambda e: e.subheading is not None)
        intro = None
        if key == "yours" and len(entries) > 1:
            intro = "More than one service covers your area: you can choose which one to contact."
        if key == "part":
            intro = PART_INTRO
        groups.append(
            ResultGroup(
                key=key,
                heading=heading,
                entries=tuple(entries),
                # Only the service that takes the person opens by itself; without one the NHS
                # finder is the next step, not a national or far-off service.
                folded=bool(groups) or (known and key not in ("yours", "part", "private")),
                intro=intro,
                show_distance=key in ("nearby", "private"),
            )
        )
    return groups


def partner_line(partner: Mapping, lead: Mapping) -> str:
    """How a partner organisation reads under its lead service."""
    lead_name = lead.get("service_name") or lead.get("name")
    return md_escape(
        f"{partner.get('service_name') or partner.get('name')} is part of {lead_name}: refer through {lead_name}."
    )


# ---------------------------------------------------------------------------------------------
# GP surgeries

_SMALL_WORDS = frozenset({"and", "at", "by", "in", "of", "on", "the", "upon", "under", "with", "le", "en"})


def tidy_name(text: object) -> str:
    """The NHS list writes names in capitals: "THE DENSHAM SURGERY" -> "The Densham Surgery",
    "STOCKTON-ON-TEES" -> "Stockton-on-Tees". Plain text (escape before Markdown)."""

    def word(piece: str, first: bool) -> str:
        lower = piece.lower()
        if not first and lower in _SMALL_WORDS:
            return lower
        return lower[:1].upper() + lower[1:]

    words = []
    for i, token in enumerate(str(text or "").split()):
        parts = token.split("-")
        words.append("-".join(word(part, i == 0 and j == 0) for j, part in enumerate(parts)))
    return " ".join(words)


def practice_label(practice: object) -> str:
    """ "The Densham Surgery, Stockton-on-Tees" for a finder.gp.Practice (plain text)."""
    name, town = tidy_name(getattr(practice, "name", "")), tidy_name(getattr(practice, "town", ""))
    return f"{name}, {town}" if town else name


# ---------------------------------------------------------------------------------------------
# A text to send to a patient


def patient_text(record: Mapping, crisis_lines: Iterable, *, not_a_crisis: str, nhs_finder_url: str) -> str:
    """Plain text a GP or support worker can paste into a message or print: the service, how to
    refer, phone and link, and the crisis lines. Never Markdown: it is shown in a code box."""

    def clean(value: object) -> str:
        return " ".join(str(value).split())

    name = clean(record.get("service_name") or record.get("name") or "NHS Talking Therapies")
    lines = [name]
    for words in (coverage_words(record), local_names_words(record)):
        if words:
            lines.append(clean(words))
    referral = safe_url(record.get("self_referral_url"))
    if referral:
        lines.append(f"Refer yourself online: {referral}")
    if tel_url(record.get("self_referral_phone")):
        lines.append(f"Refer yourself by phone: {clean(record['self_referral_phone'])}")
    if tel_url(record.get("phone")) and record.get("phone") != record.get("self_referral_phone"):
        lines.append(f"Phone: {clean(record['phone'])}")
    if safe_url(record.get("website")):
        lines.append(f"Website: {safe_url(record.get('website'))}")
    if not referral and not tel_url(record.get("self_referral_phone")) and record.get("kind") == "nhs":
        lines.append(f"How to refer yourself: {nhs_finder_url}")
    lines += ["", not_a_crisis]
    for line in crisis_lines:
        lines.append(f"- {line.how}: {line.when}.")
    return "\n".join(lines)


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


# The HCPC's profession codes, the letters its registration numbers start with.
HCPC_PROFESSIONS = {
    "AS": "arts therapist",
    "BS": "biomedical scientist",
    "CH": "chiropodist or podiatrist",
    "CS": "clinical scientist",
    "DT": "dietitian",
    "HAD": "hearing aid dispenser",
    "OT": "occupational therapist",
    "ODP": "operating department practitioner",
    "OR": "orthoptist",
    "PA": "paramedic",
    "PH": "physiotherapist",
    "PYL": "practitioner psychologist",
    "PO": "prosthetist or orthotist",
    "RA": "radiographer",
    "SL": "speech and language therapist",
}
# Which registers a number of each shape can belong to (see finder.accreditation's number rules).
REGISTERS_BY_NUMBER = {
    "hcpc": ("HCPC",),
    "digits": ("BACP", "UKCP", "CBT Register UK (BABCP)"),
    "ncps": ("NCPS",),
}
_FAILED = ("check_failed", "manual_check")


def number_words(kind: str | None, text: str | None, prefix: str | None = None) -> str | None:
    """Which register a registration number belongs to, in words."""
    if kind == "hcpc":
        job = HCPC_PROFESSIONS.get(prefix or "")
        return f"{text} is an HCPC number" + (f" ({job})." if job else ".")
    if kind == "digits":
        return f"{text} looks like a BACP, UKCP or BABCP membership number."
    if kind == "ncps":
        return f"{text} is an NCPS number."
    return None


def relevant_registers(registers: Iterable[Mapping], number_kind: str | None) -> set[str]:
    """The registers worth opening: IPT UK, those the number can belong to (or HCPC and BACP, the
    most common, without a number), and any register that found something."""
    wanted = {"IPT UK", *REGISTERS_BY_NUMBER.get(number_kind or "", ("HCPC", "BACP"))}
    for register in registers:
        if register.get("status") not in (*_FAILED, "not_found"):
            wanted.add(str(register.get("register")))
    return wanted


def check_summary(result: Mapping, number: object = None) -> list[str]:
    """The three lines shown first on the check page, as Markdown. A register that could not be
    checked never turns into a negative verdict: it is named with a link to check by hand.
    `number` is the parsed registration number (finder.accreditation.RegistrationNumber) or None."""
    number_kind = getattr(number, "kind", None)
    overall = result.get("overall")
    if not isinstance(overall, Mapping):
        overall = {}
    registers = [r for r in result.get("registers") or [] if isinstance(r, Mapping)]
    relevant = relevant_registers(registers, number_kind)
    found = [r for r in registers if r.get("status") in ("current", "current_with_conditions")]
    gone = [r for r in registers if r.get("status") == "lapsed_or_removed"]
    unchecked = [r for r in registers if r.get("status") in _FAILED and r.get("register") in relevant]
    lines = []
    if overall.get("ipt_accredited"):
        lines.append(md_escape(overall.get("verdict") or "Accredited for IPT."))
    elif found or gone:
        parts = [f"on the {md_escape(r.get('register'))} register" for r in found]
        parts += [f"no longer registered with {md_escape(r.get('register'))}" for r in gone]
        lines.append("We found this name " + "; ".join(parts) + ".")
    else:
        names = " or ".join(md_escape(r.get("register")) for r in unchecked[:2]) or "the registers"
        lines.append(
            f"We could not check {names} automatically just now: that says nothing against the therapist."
        )
    if unchecked:
        links = " ".join(
            f"[{md_escape(r.get('register'))}]({r['url']})" for r in unchecked if safe_url(r.get("url"))
        )
        lines.append(
            f"Check by hand here: {links}" if links else "Check by hand on each register's own website."
        )
    else:
        lines.append("Every register relevant to what you typed answered.")
    words = number_words(number_kind, getattr(number, "text", None), getattr(number, "prefix", None))
    lines.append(
        md_escape(words) if words else "Add a registration number to check it against its own register."
    )
    return lines


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
    # Whether the service takes the person (search coverage); last, so older columns keep places.
    ("service_name", "Service name"),
    ("coverage", "Takes people from your area"),
    ("coverage_basis", "How we know the area it covers"),
    ("coverage_confidence", "How sure we are"),
    ("coverage_evidence", "Evidence for the area it covers"),
    ("coverage_part", "Only this part of your area"),
)


_CSV_LINKS = ("self_referral_url", "website")
COVERAGE_WORDS = {
    "covers": "Covers your area",
    "covers_part": "Covers part of the place searched for",
    "national": "Open to people anywhere in England",
    "same_icb": "Based in your NHS area; the areas it covers are not known",
    "elsewhere": "May only accept people registered with a GP in its own area",
}


def _csv_value(record: Mapping, key: str) -> object:
    value = _field(record, key)
    if key == "coverage" and isinstance(value, str):
        value = COVERAGE_WORDS.get(value, value)  # in words, as on the page
    if key in _CSV_LINKS:
        return safe_url(value)  # only http(s) links, as on the page
    return " ".join(value.split()) if isinstance(value, str) else value


def _field(record: Mapping, dotted: str) -> object:
    """record["outcomes"]["period"] for "outcomes.period"; None where any step is missing."""
    value: object = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def results_csv(results: Iterable[Mapping]) -> bytes:
    """The results as CSV (UTF-8 with BOM so spreadsheet programs read the £ and accents)."""
    rows = ([_csv_value(record, key) for key, _ in CSV_COLUMNS] for record in results)
    return ("\ufeff" + csv_table([title for _, title in CSV_COLUMNS], rows)).encode("utf-8")
