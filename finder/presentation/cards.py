"""One search result as the app shows it: its title, the one next step, who it is for, IPT,
outcomes, contacts and where each fact comes from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from finder.ipt_evidence import as_number, figures_shared_by, ipt_sentence
from finder.presentation.outcomes import outcomes_sentence
from finder.presentation.places import distance_text, location_note, whole_number
from finder.presentation.text import md_escape, md_link, tel_url
from finder.schema import public_url
from finder.textrules import public_name_problem, site_name

KIND_NAMES = {"nhs": "NHS Talking Therapies service", "private": "Private practitioner"}
NHS_FINDER_LABEL = "Find how to refer yourself on the NHS website"


@dataclass(frozen=True, kw_only=True)
class Action:
    """The one thing a card asks a person to do next: a button with a safe http(s) or tel: link."""

    label: str  # escaped: Streamlit draws a button's label as Markdown (links, images)
    url: str


def primary_action(record: Mapping, *, nhs_finder_url: str | None = None) -> Action | None:
    """Refer online > call the self-referral line > the service's website > the NHS finder.

    Only a number the service gives for referring yourself is offered as "Call": a general or
    professionals' line would leave a person on the wrong phone (it stays in the contact details).
    """
    name = str(record.get("service_name") or record.get("name") or "the service")
    referral = public_url(record.get("self_referral_url"))
    if referral:
        return Action(label="Refer yourself online", url=referral)
    phone = record.get("self_referral_phone")
    if record.get("kind") == "private":
        phone = phone or record.get("phone")
    dial = tel_url(phone)
    if dial:
        return Action(label=md_escape(f"Call {phone}"), url=dial)
    website = public_url(record.get("website"))
    if website:
        return Action(label=md_escape(f"Visit {name}'s website"), url=website)
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
    office alone is not said to a person as fact), under the name the card shows: a provider that
    runs differently named services (Midlands Partnership's Thurrock Talking Therapies and its
    Staffordshire service) is, under each name, for that name's districts only."""
    areas = [area for area in record.get("areas_served") or [] if isinstance(area, Mapping)]
    shown = record.get("service_name")
    named_here = [area for area in areas if area.get("local_service_name") == shown]
    names = []
    for area in named_here or [area for area in areas if not area.get("local_service_name")]:
        if area.get("confidence") in ("high", "medium") and area.get("name"):
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
    named = district and str(district).lower() not in part_text.lower()
    return f"with a GP in {place}" + (f" ({district})" if named else ""), "check yours is there"


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


def source_words(source: object) -> str:
    """Where a fact comes from, in words ("NHS England's published statistics")."""
    text = str(source or "")
    if public_url(text):
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
        words = f"From {source_words(entry.get('source'))}"
        if "statistics" in words and _period_of(record):
            words += f" for {_period_of(record)}"
        note = str(entry.get("note") or "")
        if entry.get("last_verified") and public_url(entry.get("source")):
            words += f", checked {entry['last_verified']}"
        elif "date unknown" in note or (group == "contacts" and not entry.get("last_verified")):
            words += "; we could not check the date"
        if "inference" in note:
            words += ". We matched these pages to this service ourselves, so please check them"
        line = md_escape(f"{title}: {words}.")
        urls = [u for u in entry.get("evidence_urls") or [] if public_url(u)][:max_links]
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
        distance=distance,
        ipt=ipt_words(record),
        outcomes=outcomes_sentence(record.get("outcomes"), england, shared_by=figures_shared_by(record)),
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
    website = public_url(record.get("website"))
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
