"""The directory's NHS service records as Open Referral UK objects (HSDS 3.0, UK profile).

Pure: one record in, plain dicts out, shared by `export --format openreferral` (flat tables) and
the API (nested objects). What the UK profile carries, and only that:

- Unknown values are left out, never written as null; timestamps are date-times.
- Ids are UUIDs derived from the NHS organisation (ODS) code (uuid5), so a service keeps its ids
  across exports and releases. The ODS code itself is an `organization_identifier` whose scheme is
  the NHS's own identifier system URI for ODS organisation codes.
- A service that has probably ended stays in the feed as `inactive`: a consumer merging feeds
  then learns that it stopped, rather than keeping an older copy of it as active.
- Phones belong to contacts (the profile has no phone on a service); a service area is a district
  (or England) with its GSS code, its name (and the part of it, where the service takes people
  from only part) and, in words, why we think the service covers it and the name it goes by there.
- Everywhere a service is listed it has its public name; listed for a postcode (the API), it has
  the name it goes by where that postcode is, as the finder's search names it.
- A taxonomy of what a person filters on tags every service (finder.oruk.taxonomy): NHS Talking
  Therapies; delivers IPT (by the basis of the evidence); self-referral online; for a particular
  group (and which).
- Gatherers' notes, internal file names and evidence strings stay out of every field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from finder.ipt_evidence import figures_shared_by, ipt_sentence
from finder.oruk.taxonomy import (
    all_terms,
    attributes,
    stable_id,
    taxonomy,
    taxonomy_term,
)
from finder.presentation import coverage_words, local_names_words, service_title
from finder.schema import is_http_url

HSDS_VERSION = "3.0"
API_VERSION = "HSDS-UK-3.0"  # what GET / says; the ORUK validator reads the number from it
PROFILE_URL = "https://openreferraluk.org"
# The NHS's identifier system for Organisation Data Service (ODS) organisation codes.
ODS_SCHEME = "https://fhir.nhs.uk/Id/ods-organization-code"
ODS_TYPE = "NHS Organisation Data Service (ODS) organisation code"
# ONS linked-data identifiers for GSS codes (districts, and England itself).
GSS_URI = "http://statistics.data.gov.uk/id/statistical-geography/{code}"
ENGLAND_GSS = "E92000001"
BASIS_WORDS = {
    "nhs_directory": "listed in the NHS service directory",
    "public_page": "a public page says the service covers it",
    "name": "the service's registered name names it",
    "catchment": "the service's catchment wording names it",
    "hq_area": "only the district of the headquarters is known",
}


# --- Organisations, services and what hangs off them ---------------------------------------------


def _with(row: dict, **optional: object) -> dict:
    """`row` plus each optional field that is known (None is left out, never written)."""
    row.update({key: value for key, value in optional.items() if value is not None})
    return row


def _link(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and is_http_url(value) else None


def _email(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and "@" in value and " " not in value.strip() else None


def organization(record: Mapping, *, identifiers: bool) -> dict:
    code = record["id"]
    org_id = stable_id("organization", code)
    row = _with(
        {
            "id": org_id,
            "name": record["provider"],
            "description": f"{record['provider']} runs an NHS Talking Therapies service; it is registered "
            "with the NHS Organisation Data Service.",
        },
        email=_email(record.get("email")),
        website=_link(record.get("website")),
    )
    if identifiers:
        row["organization_identifiers"] = [organization_identifier(record)]
    return row


def organization_identifier(record: Mapping) -> dict:
    code = record["id"]
    return {
        "id": stable_id("identifier", code),
        "organization_id": stable_id("organization", code),
        "identifier_scheme": ODS_SCHEME,
        "identifier_type": ODS_TYPE,
        "identifier": code,
    }


def how_to_refer(record: Mapping) -> str:
    """How to refer yourself, in words, from what the sources show (nothing guessed)."""
    parts = []
    if is_http_url(record.get("self_referral_url")):
        parts.append(f"Refer yourself online: {record['self_referral_url'].strip()}")
    if record.get("self_referral_phone"):
        parts.append(f"Refer yourself by phone: {record['self_referral_phone']}")
    if not parts:
        parts.append("Self-referral route not confirmed by our sources; ask your GP or contact the service.")
    if record.get("min_age_text"):
        parts.append(f"Minimum age: {record['min_age_text']}.")
    if record.get("catchment"):
        parts.append(f"Who can use it: {record['catchment']}.")
    return " ".join(parts)


def service_description(record: Mapping) -> str:
    """In words, for a person. Named for a postcode (a search result), it also says which part of
    the person's district the service takes people from, or the names it goes by locally where
    their GP's district decides which one is theirs."""
    bits = [f"NHS Talking Therapies service run by {record['provider']}."]
    bits += filter(None, (coverage_words(record), local_names_words(record)))
    if record.get("probably_ended"):
        bits.append(
            "Our sources show this service has probably ended: ask your GP which service now covers you."
        )
    if record.get("audience"):
        bits.append(f"For {record['audience']}.")
    if record.get("offers_ipt") is True:
        bits.append(ipt_sentence(record))
    outcomes = record.get("outcomes")
    if outcomes and outcomes.get("recovery_pct") is not None:
        whose = " (across all its provider's services)" if figures_shared_by(record) else ""
        bits.append(f"NHS England {outcomes['period']}{whose}: {outcomes['recovery_pct']:g}% recovery.")
    bits.append(how_to_refer(record))
    return " ".join(bits)


def last_modified(record: Mapping) -> str | None:
    """The day our sources last confirmed the record, as a date-time (midnight UTC)."""
    day = record.get("last_verified")
    return f"{day}T00:00:00Z" if isinstance(day, str) and len(day) == 10 else None


def service(record: Mapping) -> dict:
    """The service's one-to-one fields."""
    return _with(
        {
            "id": stable_id("service", record["id"]),
            "organization_id": stable_id("organization", record["id"]),
            "name": service_title(record)[0],  # the name the app titles its card with
            "description": service_description(record),
            "status": "inactive" if record.get("probably_ended") else "active",
        },
        url=_link(record.get("website")),
        email=_email(record.get("email")),
        minimum_age=record.get("min_age"),
        last_modified=last_modified(record),
    )


def service_areas(record: Mapping) -> list[dict]:
    """Each district served (GSS code, name, and why in words), or England for a national service.

    Where the service takes people from only part of a district, the area's name says which part
    ("Hart (Fleet, Church Crookham, Blackwater and Yateley surgeries)"); where it is known by
    another name there, its text gives that name (the profile has no field for a local name)."""
    service_id = stable_id("service", record["id"])
    areas = (
        [(ENGLAND_GSS, "England", "Open to people anywhere in England.")] if record.get("national") else []
    )
    for area in record.get("areas_served") or []:
        name = f"{area['name']} ({area['part']})" if area.get("part") else area["name"]
        words = [f"{area['name']}: {BASIS_WORDS.get(area['basis'], '')}; confidence {area['confidence']}."]
        if area.get("part"):
            words.append(f"Only part of {area['name']}: {area['part']}.")
        if area.get("local_service_name"):
            words.append(f"Known there as {area['local_service_name']}.")
        areas.append((area["code"], name, " ".join(words)))
    return [
        {
            "id": stable_id("service_area", f"{record['id']}/{code}"),
            "service_id": service_id,
            "name": name,
            "extent": code,
            "extent_type": "text",
            "uri": GSS_URI.format(code=code),
            "service_area": words,
        }
        for code, name, words in areas
    ]


def _numbers(record: Mapping) -> list[tuple[str, str]]:
    """(what the number is for, number): the contact number and, if different, the self-referral one."""
    numbers = []
    if record.get("phone"):
        numbers.append(("General enquiries", record["phone"]))
    if record.get("self_referral_phone") and record["self_referral_phone"] != record.get("phone"):
        numbers.append(("Self-referral", record["self_referral_phone"]))
    return numbers


def contacts(record: Mapping) -> list[dict]:
    """One contact per telephone line (the profile hangs phones off contacts)."""
    service_id = stable_id("service", record["id"])
    return [
        {"id": stable_id("contact", f"{record['id']}/{number}"), "service_id": service_id, "name": purpose}
        for purpose, number in _numbers(record)
    ]


def phones(record: Mapping) -> list[dict]:
    return [
        {
            "id": stable_id("phone", f"{record['id']}/{number}"),
            "contact_id": stable_id("contact", f"{record['id']}/{number}"),
            "number": number,
            "description": purpose,
        }
        for purpose, number in _numbers(record)
    ]


def location(record: Mapping, *, full: bool) -> dict | None:
    """Where the organisation is registered (its headquarters, not where people are seen)."""
    if record.get("lat") is None or record.get("lon") is None:
        return None
    code = record["id"]
    location_id = stable_id("location", code)
    row = _with(
        {
            "id": location_id,
            "location_type": "physical",
            "name": f"{record['provider']} (headquarters)",
            "latitude": record["lat"],
            "longitude": record["lon"],
        },
        description=record.get("location_note"),
    )
    if full:
        row["addresses"] = [a for a in [address(record)] if a is not None]
    return row


def address(record: Mapping) -> dict | None:
    """The registered address, only when every line the profile requires is known."""
    if not (record.get("address") and record.get("town") and record.get("postcode")):
        return None
    code = record["id"]
    return {
        "id": stable_id("address", code),
        "location_id": stable_id("location", code),
        "address_1": record["address"],
        "city": record["town"],
        "state_province": "England",
        "postal_code": record["postcode"],
        "country": "GB",
        "address_type": "physical",
    }


def service_at_location(record: Mapping) -> dict | None:
    """The link between the service and its headquarters' location (none without a location)."""
    if location(record, full=False) is None:
        return None
    code = record["id"]
    return {
        "id": stable_id("service_at_location", code),
        "service_id": stable_id("service", code),
        "location_id": stable_id("location", code),
    }


# --- Nested objects (the API) and flat tables (the export) ---------------------------------------


def service_list_item(record: Mapping) -> dict:
    """A service in a listing: its one-to-one fields and its organisation's."""
    return {**service(record), "organization": organization(record, identifiers=False)}


def service_full(record: Mapping, *, with_locations: bool = True) -> dict:
    """The fully nested service (the profile's compiled service)."""
    full = {
        **service(record),
        "organization": organization(record, identifiers=True),
        "service_areas": service_areas(record),
        "contacts": contacts(record),
        "attributes": attributes(record, nested=True),
    }
    link = service_at_location(record)
    if with_locations:
        full["service_at_locations"] = [{**link, "location": location(record, full=True)}] if link else []
    return full


def service_at_location_list_item(record: Mapping) -> dict | None:
    link = service_at_location(record)
    if link is None:
        return None
    return {**link, "location": location(record, full=False), "service": service_list_item(record)}


def service_at_location_full(record: Mapping) -> dict | None:
    link = service_at_location(record)
    if link is None:
        return None
    return {
        **link,
        "location": location(record, full=True),
        "service": service_full(record, with_locations=False),
    }


def tables(records: Iterable[Mapping]) -> dict[str, list[dict]]:
    """Every HSDS table the directory fills, one row per object, linked by ids."""
    records = list(records)
    out: dict[str, list[dict]] = {name: [] for name in TABLES}
    for record in records:
        out["organization"].append(organization(record, identifiers=False))
        out["organization_identifier"].append(organization_identifier(record))
        out["service"].append(service(record))
        out["service_area"] += service_areas(record)
        out["contact"] += contacts(record)
        out["phone"] += phones(record)
        out["attribute"] += attributes(record, nested=False)
        place, link = location(record, full=False), service_at_location(record)
        if place is not None and link is not None:
            out["location"].append(place)
            out["service_at_location"].append(link)
            out["address"] += [a for a in [address(record)] if a is not None]
    out["taxonomy"] = [taxonomy()]
    out["taxonomy_term"] = [taxonomy_term(t) for t in all_terms(records)]
    return out


TABLES = (
    "organization",
    "organization_identifier",
    "service",
    "service_area",
    "location",
    "address",
    "service_at_location",
    "contact",
    "phone",
    "taxonomy",
    "taxonomy_term",
    "attribute",
)
