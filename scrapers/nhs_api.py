"""The NHS Service Search API (version 3): every NHS Talking Therapies service with its contacts,
self-referral link and the areas it covers.

The key comes from the environment variable `NHS_API_KEY` and is sent in the `subscription-key`
header. Talking Therapies services carry service code `SRV0339`; trust headquarters
(`OrganisationTypeId` TRU) are left out because the trust is not where people refer themselves.
Contacts come from the organisation's `Contacts` and its IAPT metrics: 9464 self-referral URL
("IAPT URL"), 9461 phone, 9462 extension, 9463 email. `RelatedIAPTCCGs` lists the areas covered.
Version 1 answers carried `Contacts` and `Metrics` as JSON strings; both shapes are read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from finder.errors import FinderError, ParseError
from finder.schema import safe_url
from finder.settings import NHS_API_KEY_ENV, settings
from finder.textrules import is_email, normalise_uk_phone

API_URL = "https://api.nhs.uk/service-search-api/"
API_VERSION = "3"
TALKING_THERAPIES = "SRV0339"
TRUST_HQ = "TRU"
METRIC_URL, METRIC_PHONE, METRIC_EXTENSION, METRIC_EMAIL = 9464, 9461, 9462, 9463
PAGE_SIZE = 1000


@dataclass(frozen=True)
class ApiService:
    code: str | None
    name: str
    organisation_type: str | None
    postcode: str | None
    address: str | None
    lat: float | None
    lon: float | None
    phone: str | None
    phone_extension: str | None
    email: str | None
    website: str | None
    self_referral_url: str | None
    areas_covered: tuple[str, ...]
    source: str


def api_key() -> str:
    key = settings().nhs_api_key
    if not key:
        raise FinderError(
            f"set {NHS_API_KEY_ENV} to an NHS Service Search API subscription key to use the API"
        )
    return key


def search_params(skip: int, top: int = PAGE_SIZE) -> dict:
    return {
        "api-version": API_VERSION,
        "$filter": f"Services/any(s: s/ServiceCode eq '{TALKING_THERAPIES}') and OrganisationTypeId ne '{TRUST_HQ}'",
        "$top": str(top),
        "$skip": str(skip),
        "$count": "true",
    }


def _as_list(value, field: str, where: str) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, str):  # version 1 sends these lists as JSON text
        try:
            value = json.loads(value)
        except ValueError:
            raise ParseError(f"{where}: {field} is neither a list nor JSON text") from None
    if not isinstance(value, list):
        raise ParseError(f"{where}: {field} is {type(value).__name__}, expected a list")
    return value


def _contacts(items: list) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("ContactMethodType") or item.get("OrganisationContactMethodType")
        value = item.get("ContactValue") or item.get("OrganisationContactValue")
        if kind and value and kind not in found:
            found[kind] = str(value).strip()
    return found


def _metrics(items: list) -> dict[int, str]:
    found = {}
    for item in items:
        if (
            isinstance(item, dict)
            and item.get("MetricID") is not None
            and item.get("Value") not in (None, "")
        ):
            found[int(item["MetricID"])] = str(item["Value"]).strip()
    return found


def _area_codes(items: list) -> tuple[str, ...]:
    codes = []
    for item in items:
        if isinstance(item, str):
            codes.append(item)
        elif isinstance(item, dict):
            code = item.get("ODSCode") or item.get("Code") or item.get("CCGCode")
            if code:
                codes.append(str(code))
    return tuple(dict.fromkeys(codes))


_HREF = re.compile(r"""https?://[^\s"'<>]+""", re.I)


def _link(value: str | None) -> str | None:
    """A metric's link: the plain URL, or the first http(s) link inside its HTML text (metric 9464
    is published with display type HtmlText)."""
    if not value:
        return None
    safe = safe_url(value)
    if safe is None:
        match = _HREF.search(value)
        safe = safe_url(match.group(0).replace("&amp;", "&")) if match else None
    return safe


def _offers_talking_therapies(org: dict, where: str) -> bool:
    services = _as_list(org.get("Services"), "Services", where)
    if not services:
        return True  # a filtered search answer without the Services list: trust the filter
    return any(isinstance(s, dict) and s.get("ServiceCode") == TALKING_THERAPIES for s in services)


def parse_organisations(text: str, source: str = API_URL) -> tuple[list[ApiService], int | None]:
    """The Talking Therapies services in one answer, and the total count when the API gives it."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ParseError(f"{source}: not JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise ParseError(
            f"{source}: no 'value' list in the Service Search answer; the API layout may have changed"
        )
    services = []
    for index, org in enumerate(data["value"]):
        where = f"{source} value[{index}]"
        try:
            service = _parse_organisation(org, where, source)
        except (AttributeError, TypeError, ValueError) as error:
            # A field of an unexpected type: the answer's layout changed. Say so, never a traceback.
            raise ParseError(
                f"{where}: unexpected shape ({error.__class__.__name__}: {error}); "
                "the API layout may have changed"
            ) from None
        if service is not None:
            services.append(service)
    total = data.get("@odata.count")
    return services, int(total) if isinstance(total, int) else None


def _parse_organisation(org, where: str, source: str) -> ApiService | None:
    name = org.get("OrganisationName") if isinstance(org, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ParseError(f"{where}: an organisation without OrganisationName")
    # Version 3 always carries ODSCode; the documented version 1 example has none, so a
    # missing code is kept as None (such a service cannot be joined to the directory).
    code = org.get("ODSCode") or org.get("OrganisationCode")
    if org.get("OrganisationTypeId") == TRUST_HQ or not _offers_talking_therapies(org, where):
        return None
    contacts = _contacts(_as_list(org.get("Contacts"), "Contacts", where))
    metrics = _metrics(_as_list(org.get("Metrics"), "Metrics", where))
    for service in _as_list(org.get("Services"), "Services", where):
        if isinstance(service, dict) and service.get("ServiceCode") == TALKING_THERAPIES:
            for kind, value in _contacts(_as_list(service.get("Contacts"), "Contacts", where)).items():
                contacts.setdefault(kind, value)
            for key, value in _metrics(_as_list(service.get("Metrics"), "Metrics", where)).items():
                metrics.setdefault(key, value)
    email = metrics.get(METRIC_EMAIL) or contacts.get("Email")
    address = ", ".join(
        str(org[k]).strip()
        for k in ("Address1", "Address2", "Address3", "City")
        if org.get(k) and str(org[k]).strip()
    )
    lat, lon = org.get("Latitude"), org.get("Longitude")
    return ApiService(
        code=str(code).upper() if code else None,
        name=name.strip(),
        organisation_type=org.get("OrganisationTypeId") or org.get("OrganisationType"),
        postcode=org.get("Postcode"),
        address=address or None,
        lat=float(lat) if isinstance(lat, (int, float)) else None,
        lon=float(lon) if isinstance(lon, (int, float)) else None,
        phone=normalise_uk_phone(metrics.get(METRIC_PHONE) or contacts.get("Telephone") or ""),
        phone_extension=metrics.get(METRIC_EXTENSION),
        email=email if email and is_email(email) else None,
        website=safe_url(contacts.get("Website")),
        self_referral_url=_link(metrics.get(METRIC_URL)),
        areas_covered=_area_codes(_as_list(org.get("RelatedIAPTCCGs"), "RelatedIAPTCCGs", where)),
        source=source,
    )


def scrape(fetch, key: str | None = None, page_size: int = PAGE_SIZE) -> list[ApiService]:
    """Every Talking Therapies service, page by page. The key is read from NHS_API_KEY if not given."""
    headers = {"subscription-key": key or api_key(), "Accept": "application/json"}
    found: list[ApiService] = []
    skip = 0
    while True:
        response = fetch(API_URL, params=search_params(skip, page_size), headers=headers)
        page, total = parse_organisations(response.text, API_URL)
        found.extend(page)
        raw_count = len(json.loads(response.text)["value"])
        skip += raw_count
        if raw_count < page_size or (total is not None and skip >= total) or raw_count == 0:
            break
    return found
