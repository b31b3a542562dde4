"""The NHS Organisation Data Service ORD API: an organisation's status, dates and address.

`GET https://directory.spineservices.nhs.uk/ORD/2-0-0/organisations/{code}` (no key) answers
`{"Organisation": {"Name", "Status", "Date": [{Type, Start, End}], "OrgId": {"extension"},
"GeoLoc": {"Location": {AddrLn1.., Town, PostCode, Country}}, "Roles": {"Role": [...]}}}`, or HTTP
404 with `{"errorCode": 404, "errorText": "Not Found."}` for an unknown code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from finder.errors import ParseError

ORD_URL = "https://directory.spineservices.nhs.uk/ORD/2-0-0/organisations/{code}"


@dataclass(frozen=True)
class OdsOrganisation:
    code: str
    name: str
    status: str  # Active | Inactive
    address_lines: tuple[str, ...]
    town: str | None
    postcode: str | None
    country: str | None
    start_date: str | None
    end_date: str | None
    last_change_date: str | None
    primary_role: str | None
    source: str

    @property
    def active(self) -> bool:
        return self.status == "Active"


def _load(text: str, where: str):
    try:
        return json.loads(text)
    except ValueError as error:
        raise ParseError(f"{where}: not JSON ({error})") from None


def parse_organisation(text: str, source: str = "ORD API") -> OdsOrganisation | None:
    """One organisation; None when ORD says the code is not found."""
    data = _load(text, source)
    if isinstance(data, dict) and data.get("errorCode") == 404:
        return None
    org = data.get("Organisation") if isinstance(data, dict) else None
    if not isinstance(org, dict):
        raise ParseError(
            f"{source}: no 'Organisation' object in the ORD answer; the API layout may have changed"
        )
    try:
        code = org["OrgId"]["extension"]
        name = org["Name"]
        status = org["Status"]
    except (KeyError, TypeError) as error:
        raise ParseError(
            f"{source}: ORD organisation without {error}; the API layout may have changed"
        ) from None
    if status not in ("Active", "Inactive"):
        raise ParseError(f"{source}: unknown ORD status {status!r}")
    try:
        return _organisation(org, code, name, status, source)
    except (AttributeError, TypeError, ValueError) as error:
        # A field of an unexpected type: the layout changed. Say so, never a traceback.
        raise ParseError(
            f"{source}: unexpected shape ({error.__class__.__name__}: {error}); "
            "the ORD API layout may have changed"
        ) from None


def _organisation(org: dict, code: str, name: str, status: str, source: str) -> OdsOrganisation:
    location = ((org.get("GeoLoc") or {}).get("Location")) or {}
    lines = tuple(location[k] for k in ("AddrLn1", "AddrLn2", "AddrLn3") if location.get(k))
    # The operational dates say when the organisation actually ran services.
    dates = {d.get("Type"): d for d in org.get("Date", []) if isinstance(d, dict)}
    span = dates.get("Operational") or dates.get("Legal") or {}
    roles = ((org.get("Roles") or {}).get("Role")) or []
    primary = next((r.get("id") for r in roles if isinstance(r, dict) and r.get("primaryRole")), None)
    return OdsOrganisation(
        code=code,
        name=name,
        status=status,
        address_lines=lines,
        town=location.get("Town"),
        postcode=location.get("PostCode"),
        country=location.get("Country"),
        start_date=span.get("Start"),
        end_date=span.get("End"),
        last_change_date=org.get("LastChangeDate"),
        primary_role=primary,
        source=source,
    )


def scrape(fetch, codes) -> dict[str, OdsOrganisation | None]:
    """Look each code up; None for a code ORD does not know. `fetch` raises FetchError."""
    found: dict[str, OdsOrganisation | None] = {}
    for code in codes:
        url = ORD_URL.format(code=code)
        response = fetch(url, headers={"Accept": "application/json"})
        if response.status == 404:
            found[code] = None
            continue
        found[code] = parse_organisation(response.text, url)
    return found
