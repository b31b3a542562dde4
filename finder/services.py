"""The NHS Talking Therapies service record: its declared schema, validation, and the readers the
app and the search use.

A service is one NHS organisation (ODS code) that delivers NHS Talking Therapies. Its record joins
four sources by organisation code: the ODS list (name, headquarters postcode, ICB, status), NHS
England's annual statistics (outcomes, waits, IPT courses), `service_links.csv` (websites,
self-referral routes, age limits and IPT mentions seen on public pages) and, when run, the live
scrapers. Every group of facts carries its source and the date it was last verified in
`provenance`; the record's `source` is the main source (the ODS file).

The record model (`ServiceRecord`) and its validation live in finder/schema/; this module derives
the records from the stored source tables (`derive_services`) and reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from finder import store
from finder.areas_served import areas_fields, role_fields
from finder.errors import FinderError
from finder.ipt_evidence import ipt_finding
from finder.schema import (
    LINKS_FILE,
    OUTCOMES_FILE,
    PROVIDERS_FILE,
    ROLES_FILE,
    SERVICE_AREAS_FILE,
    SERVICES_FILE,
    public_url,
)
from finder.textrules import (
    attribution_caveat,
    minimum_age,
    national_or_online,
    numbers_not_for_self_referral,
    public_name_problem,
    therapy_mentions,
)

ODS_DESCRIPTION = "NHS Organisation Data Service"
LINKS_SEEN_NOTE = "seen on public pages, date unknown"

# The location note shown with every NHS service: ODS gives the organisation's headquarters.
LOCATION_NOTE = (
    "Located by the organisation's headquarters postcode; the service may run clinics elsewhere in its area."
)


# --- Deriving the directory ---------------------------------------------------------------------


def _locate(postcode: str | None) -> tuple[float | None, float | None, str | None]:
    """Coordinates of a headquarters postcode from the embedded postcode tables."""
    if not postcode:
        return None, None, None
    from finder import postcodes

    try:
        location = postcodes.lookup(postcode)
    except FinderError:
        return None, None, None
    if location.lat is None or location.lon is None:  # no coordinates (has_coordinates)
        return None, None, None
    if location.precision not in ("postcode", "sector", "outcode"):
        return None, None, None
    return round(float(location.lat), 6), round(float(location.lon), 6), location.precision


def _fmt_pct(value: float | None) -> str:
    return f"{value:g}%" if value is not None else "suppressed"


def _provider_outcomes(code: str, outcomes: dict | None) -> dict[str, dict]:
    """Every period's outcome figures for one provider (main measures joined with IPT/DIT)."""
    if not outcomes:
        return {}
    main = outcomes.get("main", {})
    therapy = outcomes.get("therapy", {})
    by_period = {}
    for period in sorted(set(main) | set(therapy)):
        figures = main.get(period, {}).get("providers", {}).get(code)
        therapies = therapy.get(period, {}).get("providers", {}).get(code)
        if figures is None and therapies is None:
            continue
        figures = figures or {}
        ipt = (therapies or {}).get("ipt") or {}
        dit = (therapies or {}).get("dit") or {}
        sources = []
        if code in main.get(period, {}).get("providers", {}):
            sources.append(main[period]["source"])
        if therapies:
            sources.append(therapy[period]["source"])
        by_period[period] = {
            "period": period,
            "referrals": figures.get("referrals"),
            "finished_treatment": figures.get("finished_treatment"),
            "recovery_pct": figures.get("recovery_pct"),
            "reliable_improvement_pct": figures.get("reliable_improvement_pct"),
            "reliable_recovery_pct": figures.get("reliable_recovery_pct"),
            "within_6_weeks_pct": figures.get("within_6_weeks_pct"),
            "within_18_weeks_pct": figures.get("within_18_weeks_pct"),
            "mean_wait_days": figures.get("mean_wait_days"),
            "ipt_courses": ipt.get("courses"),
            "ipt_recovery_pct": ipt.get("recovery_pct"),
            "dit_courses": dit.get("courses"),
            "dit_recovery_pct": dit.get("recovery_pct"),
            "source": ", ".join(sources),
        }
    return by_period


def _therapy_rows(code: str, outcomes: dict | None) -> tuple[str, dict] | None:
    """The latest period in which NHS England published therapy figures for this provider."""
    therapy = (outcomes or {}).get("therapy", {})
    for period in sorted(therapy, reverse=True):
        row = therapy[period]["providers"].get(code)
        if row is not None:
            return period, {
                **row,
                "source": therapy[period]["source"],
                "imported_at": therapy[period].get("imported_at"),
            }
    return None


def _ipt_and_dit(code: str, outcomes: dict | None, link: dict | None) -> dict:
    """IPT: the basis and evidence of finder.ipt_evidence (official latest or earlier year, the
    service's own website, or nothing). DIT from the provider's latest published year of brief
    psychodynamic psychotherapy (where NHS England records DIT) and DIT mentions."""
    ipt = ipt_finding(code, (outcomes or {}).get("therapy"), link)
    offers_dit = None
    dit_evidence: list[str] = []
    latest = _therapy_rows(code, outcomes)
    if latest:
        period, row = latest
        dit = row.get("dit") or {}
        if dit.get("courses") is not None:
            offers_dit = dit["courses"] > 0
            dit_evidence.append(
                f"NHS England {period}: {dit['courses']:,} courses of brief psychodynamic psychotherapy "
                "(the category where DIT is recorded)"
                if dit["courses"] > 0
                else f"NHS England {period}: no courses of brief psychodynamic psychotherapy published"
            )
    if link:
        where = (
            link["evidence_urls"][0] if link["evidence_urls"] else (link["website"] or "service_links.csv")
        )
        caveat = attribution_caveat(link.get("service_name"), link.get("notes"))
        if caveat:
            where += f" (tied to this organisation only by inference: {caveat})"
        if therapy_mentions(" ".join(filter(None, (link.get("notes"), link.get("catchment"))))).dit:
            offers_dit = True
            dit_evidence.append(f"DIT mentioned on public pages ({LINKS_SEEN_NOTE}): {where}")
    return {
        "offers_ipt": ipt.offers_ipt,
        "ipt_basis": ipt.basis,
        "ipt_evidence": ipt.evidence,
        "offers_dit": offers_dit,
        "dit_evidence": "; ".join(dit_evidence) if offers_dit is not None else None,
        "ipt_sources": [s for s in ipt.sources if s],
        "ipt_verified": ipt.verified,
    }


def build_service(provider: dict, providers_doc: dict, outcomes: dict | None, link: dict | None) -> dict:
    """One directory record from the joined sources (nothing invented: a missing fact is null)."""
    code = provider["org_code"]
    ods_verified = providers_doc["imported_at"]
    ods_source = f"{providers_doc['source']} ({ODS_DESCRIPTION})"
    lat, lon, precision = _locate(provider["postcode"])
    by_period = _provider_outcomes(code, outcomes)
    latest_outcomes = by_period[max(by_period)] if by_period else None
    therapy = _ipt_and_dit(code, outcomes, link)
    provenance: dict[str, dict] = {
        "location": {
            "source": ods_source,
            "last_verified": ods_verified,
            "note": "headquarters postcode located with OS Code-Point Open",
        },
    }
    contacts, contact_provenance = _contacts(link)
    if contact_provenance:
        provenance["contacts"] = contact_provenance
    provenance.update(_outcome_and_ipt_provenance(latest_outcomes, outcomes, therapy, link))
    return {
        "id": code,
        "kind": "nhs",
        "name": provider["org_name"],
        "provider": provider["org_name"],
        "service_name": contacts["service_name"],
        "address": None,
        "postcode": provider["postcode"],
        "town": provider["town"],
        "lat": lat,
        "lon": lon,
        "location_precision": precision,
        "location_note": LOCATION_NOTE,
        "icb_code": provider["icb_code"],
        "icb_name": provider["icb_name"],
        "region_name": provider["region_name"],
        "status": provider["status"],
        "phone": contacts["phone"],
        "email": None,
        "website": contacts["website"],
        "self_referral": contacts["self_referral"],
        "self_referral_url": contacts["self_referral_url"],
        "self_referral_phone": contacts["self_referral_phone"],
        "min_age": contacts["min_age"],
        "min_age_text": contacts["min_age_text"],
        "catchment": contacts["catchment"],
        "areas_covered": [],
        "offers_ipt": therapy["offers_ipt"],
        "ipt_basis": therapy["ipt_basis"],
        "ipt_evidence": therapy["ipt_evidence"],
        "offers_dit": therapy["offers_dit"],
        "dit_evidence": therapy["dit_evidence"],
        "outcomes": latest_outcomes,
        "outcomes_by_period": by_period,
        "links_note": contacts["links_note"],
        "source": ods_source,
        "last_verified": ods_verified,
        "provenance": provenance,
        # NHS Talking Therapies are local services seen in person unless a source says the
        # service is national or delivered online.
        "works_online": contacts["works_online_evidence"] is not None,
        "works_online_evidence": contacts["works_online_evidence"],
        "works_in_person": True,
    }


def _contacts(link: dict | None) -> tuple[dict, dict | None]:
    """The public-page facts of one service (service_links) and their provenance (None when the
    links table says nothing usable about it)."""
    phone = website = referral_url = referral_phone = catchment_text = service_name = links_note = None
    min_age = None
    min_age_text = None
    works_online_evidence = None
    provenance = None
    if link:
        # A links table stored before the non-public-host rule may still hold such a link.
        website = public_url(link["website"])
        phones = link["self_referral_phones"]
        phone = phones[0] if phones else None
        # The notes may say the pages are tied to this organisation only by inference, or that a
        # number is a general or professionals' line: such facts are kept, with the caveat, but
        # never presented as the organisation's way to refer yourself.
        caveat = attribution_caveat(link["service_name"], link["notes"])
        other_lines = numbers_not_for_self_referral(link["notes"])
        if not caveat:
            referral_url = public_url(link["self_referral_url"])
            referral_phone = next((p for p in phones if p not in other_lines), None)
        catchment_text = link["catchment"]
        # The public name people know the service by, never a site, building or trust name, a
        # historical name or an uncertain match (see textrules.public_name_problem).
        service_name = None if public_name_problem(link["service_name"]) else link["service_name"]
        notes = [link["notes"]] if link["notes"] else []
        if len(link["self_referral_phones"]) > 1:
            notes.append(f"phone numbers as published: {link['self_referral_phone_text']}")
        links_note = "; ".join(notes) or None
        min_age = link["min_age"]
        if min_age is not None:
            # A months part ("17 years 9 months") is only in the wording, not the age column.
            stated = minimum_age(" ".join(filter(None, (link["catchment"], link["notes"]))))
            min_age_text = (
                stated.label() if stated and stated.years == min_age and stated.months else str(min_age)
            )
        works_online_evidence = national_or_online(" ".join(filter(None, (link["catchment"], link["notes"]))))
        if any((website, referral_url, phone, catchment_text, service_name, min_age is not None)):
            caveats = [LINKS_SEEN_NOTE]
            if caveat:
                held_back = link["self_referral_url"] or phones
                caveats.append(
                    f"tied to this organisation only by inference ({caveat})"
                    + (", so not shown as its way to refer yourself" if held_back else "")
                )
            caveats += [
                f"{number} is not given as a self-referral line ({words})"
                for number, words in other_lines.items()
                if number in phones
            ]
            if len(phones) > 1:  # e.g. one number per borough: the first is not everyone's
                caveats.append(f"numbers as published: {link['self_referral_phone_text']}")
            provenance = {
                "source": "service_links.csv",
                "last_verified": None,
                "note": "; ".join(caveats),
                "evidence_urls": link["evidence_urls"],
            }
    self_referral = "online" if referral_url else ("phone" if referral_phone else "unknown")
    facts = {
        "phone": phone,
        "website": website,
        "self_referral": self_referral,
        "self_referral_url": referral_url,
        "self_referral_phone": referral_phone,
        "min_age": min_age,
        "min_age_text": min_age_text,
        "catchment": catchment_text,
        "service_name": service_name,
        "links_note": links_note,
        "works_online_evidence": works_online_evidence,
    }
    return facts, provenance


def _outcome_and_ipt_provenance(
    latest_outcomes: dict | None, outcomes: dict | None, therapy: dict, link: dict | None
) -> dict[str, dict]:
    provenance: dict[str, dict] = {}
    if latest_outcomes:
        provenance["outcomes"] = {
            "source": latest_outcomes["source"],
            "last_verified": (outcomes or {})
            .get("main", {})
            .get(latest_outcomes["period"], {})
            .get("imported_at"),
            "note": f"NHS England annual figures for {latest_outcomes['period']}",
        }
    if therapy["ipt_evidence"] is not None or therapy["offers_dit"] is not None:
        provenance["ipt"] = {
            "source": ", ".join(dict.fromkeys(therapy["ipt_sources"])) or "service_links.csv",
            "last_verified": therapy["ipt_verified"],
        }
        if link and "service_links.csv" in therapy["ipt_sources"]:
            provenance["ipt"]["note"] = f"public-page mentions are {LINKS_SEEN_NOTE}"
    return provenance


def derive_services(tables: Mapping[str, dict | None]) -> tuple[list[dict], list[str]]:
    """Every active provider as a service record, joined by organisation code across the stored
    source tables (file name -> document, as in SOURCE_TABLES)."""
    providers = tables[PROVIDERS_FILE]
    if providers is None:  # no organisations yet: no directory
        return [], []
    outcomes = tables.get(OUTCOMES_FILE)
    links_by_code = {r["org_code"]: r for r in (tables.get(LINKS_FILE) or {}).get("records", [])}
    areas_by_code: dict[str, list[dict]] = {}
    for row in (tables.get(SERVICE_AREAS_FILE) or {}).get("records", []):
        areas_by_code.setdefault(row["org_code"], []).append(row)
    roles_by_code = {r["org_code"]: r for r in (tables.get(ROLES_FILE) or {}).get("records", [])}
    records = []
    for provider in providers["records"]:
        if provider["status"] != "Active":
            continue
        code = provider["org_code"]
        record = build_service(provider, providers, outcomes, links_by_code.get(code))
        record.update(areas_fields(areas_by_code.get(code, [])))
        record.update(role_fields(roles_by_code.get(code)))
        records.append(record)
    records.sort(key=lambda r: r["id"])
    later_lines = _name_and_role_lines(records, links_by_code, tables)
    located = sum(1 for r in records if r["lat"] is not None)
    lines = [
        f"Directory: {len(records)} active services, {located} located by headquarters postcode"
        + (f", {len(records) - located} without coordinates" if located < len(records) else ""),
        f"  outcomes for {sum(1 for r in records if r['outcomes'])}; "
        f"IPT yes {sum(1 for r in records if r['offers_ipt'] is True)}, "
        f"no {sum(1 for r in records if r['offers_ipt'] is False)}, "
        f"unknown {sum(1 for r in records if r['offers_ipt'] is None)}; "
        f"self-referral online {sum(1 for r in records if r['self_referral'] == 'online')}, "
        f"phone {sum(1 for r in records if r['self_referral'] == 'phone')}",
    ]
    held_back = [
        r["id"]
        for r in records
        if (link := links_by_code.get(r["id"]))
        and (
            (link["self_referral_url"] and not r["self_referral_url"])
            or (link["self_referral_phones"] and not r["self_referral_phone"])
        )
    ]
    if held_back:
        lines.append(
            "  self-referral details not shown as the way to refer yourself (the notes tie them to the "
            f"organisation only by inference, or call the number a general or professionals' line): "
            f"{', '.join(held_back)}"
        )
    missing = [r["id"] for r in records if r["lat"] is None]
    if missing:
        lines.append(f"  not located (postcode not found): {', '.join(missing)}")
    return records, lines + later_lines


def _name_and_role_lines(records: list[dict], links_by_code: Mapping, tables: Mapping) -> list[str]:
    """Report what the public-name rule dropped; clear a lead that is no longer an active service
    (partners and sites are shown under their lead, which must be a service we hold)."""
    lines = []
    dropped = [
        f"{code} {link['service_name']!r} ({problem})"
        for code, link in sorted(links_by_code.items())
        if link.get("service_name") and (problem := public_name_problem(link["service_name"]))
    ]
    if dropped:
        lines.append(f"  {len(dropped)} service names not used as the public name: " + "; ".join(dropped))
    held = {r["id"] for r in records}
    dangling = [r for r in records if r["lead_id"] is not None and r["lead_id"] not in held]
    if dangling:
        lines.append(
            "  lead services not in the directory (lead cleared): "
            + ", ".join(f"{r['id']} -> {r['lead_id']}" for r in dangling)
        )
    for record in dangling:
        record["lead_id"] = None
    if tables.get(SERVICE_AREAS_FILE):
        covered = sum(1 for r in records if r["areas_served"] or r["national"])
        lines.append(
            f"  areas known for {covered} of {len(records)} services ({sum(r['national'] for r in records)} national)"
        )
    if tables.get(ROLES_FILE):
        lines.append(
            f"  roles known for {sum(1 for r in records if r['role'])}; probably ended {sum(r['probably_ended'] for r in records)}"
        )
    return lines


# --- Readers ----------------------------------------------------------------------------------


def load_services(directory: Path | None = None) -> list[dict]:
    document = store.read_json(SERVICES_FILE, directory, default=None)
    if not document or not isinstance(document, dict):
        return []
    return list(document.get("records", []))


def _outcomes_document(directory: Path | None = None) -> dict:
    document = store.read_json(OUTCOMES_FILE, directory, default=None)
    return document if isinstance(document, dict) else {}


def england_outcomes(directory: Path | None = None) -> dict | None:
    """England's figures for the latest period held (or None before any import): period,
    recovery_pct, reliable_improvement_pct, within_6_weeks_pct, within_18_weeks_pct, referrals,
    source."""
    main = _outcomes_document(directory).get("main", {})
    if not main:
        return None
    period = max(main)
    england = main[period].get("england")
    if not england:
        return None
    return {
        "period": period,
        "recovery_pct": england.get("recovery_pct"),
        "reliable_improvement_pct": england.get("reliable_improvement_pct"),
        "within_6_weeks_pct": england.get("within_6_weeks_pct"),
        "within_18_weeks_pct": england.get("within_18_weeks_pct"),
        "referrals": england.get("referrals"),
        "source": main[period].get("source"),
    }


def england_outcomes_by_period(directory: Path | None = None) -> dict[str, dict]:
    """England's main figures for every period held, so a service whose latest published year is
    older is compared with England in that same year."""
    main = _outcomes_document(directory).get("main", {})
    return {
        str(period): {**entry["england"], "period": str(period), "source": entry.get("source")}
        for period, entry in main.items()
        if isinstance(entry, dict) and isinstance(entry.get("england"), dict)
    }


def therapy_outcomes(directory: Path | None = None) -> list[dict]:
    """England's outcomes by therapy type for every period held: period, therapy_type, courses,
    recovery_pct, improvement_pct, reliable_recovery_pct, source. Sorted by period, therapy."""
    therapy = _outcomes_document(directory).get("therapy", {})
    rows = []
    for period in sorted(therapy):
        source = therapy[period].get("source")
        for row in therapy[period].get("england", []):
            rows.append(
                {
                    "period": period,
                    "therapy_type": row["therapy_type"],
                    "courses": row.get("courses"),
                    "recovery_pct": row.get("recovery_pct"),
                    "improvement_pct": row.get("improvement_pct"),
                    "reliable_recovery_pct": row.get("reliable_recovery_pct"),
                    "source": source,
                }
            )
    return sorted(rows, key=lambda r: (r["period"], r["therapy_type"]))
