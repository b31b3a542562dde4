"""The NHS Service Search API (Directory of Healthcare Services), version 3: every NHS Talking
Therapies service with its contacts, self-referral link and the areas it covers.

Version 3 is the only one left (versions 1 and 2, on another host, were retired on 2 February 2026).
Its base URL comes from settings (`FINDER_NHS_API_URL`, default production); the key from
`NHS_API_KEY`, sent in the `apikey` header; every request carries `api-version=3` (the API answers
404 without it).

Talking Therapies services carry service code `SRV0339`; trust headquarters (`OrganisationTypeId`
TRU) are left out because the trust is not where people refer themselves. The answer is read in
pages of `$top=1000` ordered by `SearchKey`, each page asking for the keys after the last one it
saw, until a page comes back short: `$skip` is not used, so a record added or removed between two
pages cannot shift the rest out of sight.

Where a service's contacts are is not settled for v3 (see ../shared/data/live_sources.md): NHS.UK's
2021 prototype read them from the SRV0339 entry of `Services[]` (Contacts of method Website,
Telephone, Email), the 2018-2020 finder from the organisation's metrics (9464 self-referral URL
"IAPT URL", 9461 phone, 9462 extension, 9463 email). Both are read, in that order, then the
organisation's own `Contacts`. `RelatedIAPTCCGs` (the areas covered) comes as objects with an
`ODSCode` or as plain codes. Version 1 answers carried `Contacts` and `Metrics` as JSON strings;
both shapes are read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from finder.errors import FinderError, ParseError
from finder.schema import safe_url
from finder.settings import NHS_API_KEY_ENV, NHS_API_URL_ENV, settings
from finder.textrules import is_email, normalise_uk_phone, self_referral_link
from scrapers.http import FetchError

API_VERSION = "3"
KEY_HEADER = "apikey"
TALKING_THERAPIES = "SRV0339"
TRUST_HQ = "TRU"
METRIC_URL, METRIC_PHONE, METRIC_EXTENSION, METRIC_EMAIL = 9464, 9461, 9462, 9463
PAGE_SIZE = 1000  # the most v3 gives in one answer
MAX_PAGES = 50  # 50,000 records: far more than England's Talking Therapies services
# Where an operator gets a key, for the refresh report and the error message.
KEY_HELP = (
    "get a Service Search (version 3) API key from NHS England's developer hub "
    "(https://digital.nhs.uk/developer: create an application with the Directory of Healthcare "
    f"Services (Service Search) API) and set it as {NHS_API_KEY_ENV}"
)


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
        raise FinderError(f"no {NHS_API_KEY_ENV}: {KEY_HELP}")
    return key


def api_url() -> str:
    """The API's base URL (settings: FINDER_NHS_API_URL, default production)."""
    return settings().nhs_api_url


def _odata_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"  # OData doubles a quote inside a string


def search_params(after: str | None = None, top: int = PAGE_SIZE) -> dict[str, str]:
    """One page of every Talking Therapies service but trust headquarters, in SearchKey order,
    starting after the SearchKey `after` (None: from the first)."""
    wanted = (
        f"Services/any(x: x/ServiceCode eq {_odata_text(TALKING_THERAPIES)}) "
        f"and OrganisationTypeId ne {_odata_text(TRUST_HQ)}"
    )
    if after is not None:
        wanted += f" and SearchKey gt {_odata_text(after)}"
    return {
        "api-version": API_VERSION,
        "$filter": wanted,
        "$orderBy": "SearchKey asc",
        "$top": str(top),
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
    """The first value of each contact method, by method in lower case ("website", "telephone",
    "email"); v1's `OrganisationContact...` keys are read too."""
    found: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("ContactMethodType") or item.get("OrganisationContactMethodType")
        value = item.get("ContactValue") or item.get("OrganisationContactValue")
        if isinstance(kind, str) and value and str(value).strip():
            found.setdefault(kind.strip().lower(), str(value).strip())
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
    """`RelatedIAPTCCGs` as codes: objects with an ODSCode (v3) or plain codes."""
    codes = []
    for item in items:
        code = (
            item.get("ODSCode") or item.get("Code") or item.get("CCGCode") if isinstance(item, dict) else item
        )
        if isinstance(code, str) and code.strip():
            codes.append(code.strip().upper())
    return tuple(dict.fromkeys(codes))


_REFUSED = re.compile(r"HTTP 40[13]\b")  # the gateway's answer to a missing or unknown key
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


def _talking_therapies_entry(org: dict, where: str) -> dict | None:
    """The organisation's SRV0339 entry of `Services[]`; {} when an answer has no Services list
    (a `$select`ed or v1 answer: the search's filter is trusted); None when it lists services
    but not this one (a record the filter should not have let through)."""
    services = _as_list(org.get("Services"), "Services", where)
    if not services:
        return {}
    return next(
        (s for s in services if isinstance(s, dict) and s.get("ServiceCode") == TALKING_THERAPIES), None
    )


@dataclass(frozen=True)
class ApiPage:
    """One answer: its Talking Therapies services, how many records it held (trust headquarters
    and other records included: a page is short when this is under `$top`), the last SearchKey
    (where the next page starts) and the total the API counted, when it says."""

    services: tuple[ApiService, ...]
    read: int
    last_key: str | None
    total: int | None


def parse_page(text: str, source: str) -> ApiPage:
    """One Service Search answer. Raises ParseError for anything that is not one."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ParseError(f"{source}: not JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise ParseError(
            f"{source}: no 'value' list in the Service Search answer; the API layout may have changed"
        )
    services = []
    last_key = None
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
        key = org.get("SearchKey")
        last_key = str(key) if key not in (None, "") else last_key
    total = data.get("@odata.count")
    return ApiPage(tuple(services), len(data["value"]), last_key, total if isinstance(total, int) else None)


def parse_organisations(text: str, source: str | None = None) -> tuple[list[ApiService], int | None]:
    """The Talking Therapies services in one answer, and the total count when the API gives it."""
    page = parse_page(text, source or api_url())
    return list(page.services), page.total


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _parse_organisation(org, where: str, source: str) -> ApiService | None:
    name = org.get("OrganisationName") if isinstance(org, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise ParseError(f"{where}: an organisation without OrganisationName")
    # Version 3 always carries ODSCode; the documented version 1 example has none, so a
    # missing code is kept as None (such a service cannot be joined to the directory).
    code = org.get("ODSCode") or org.get("OrganisationCode")
    entry = _talking_therapies_entry(org, where)
    if org.get("OrganisationTypeId") == TRUST_HQ or entry is None:
        return None
    own = _contacts(_as_list(entry.get("Contacts"), "Services.Contacts", where))
    general = _contacts(_as_list(org.get("Contacts"), "Contacts", where))
    metrics = _metrics(_as_list(org.get("Metrics"), "Metrics", where))
    for key, value in _metrics(_as_list(entry.get("Metrics"), "Services.Metrics", where)).items():
        metrics.setdefault(key, value)
    # The service's own contacts first, then the IAPT metrics, then the organisation's contacts.
    # Its Website is taken as the self-referral link only when the link rules say it is one (a
    # known referral platform, or a self-referral path); otherwise it is the service's website.
    # Metric 9464 is the self-referral link by definition ("IAPT URL").
    own_site = safe_url(own.get("website"))
    own_referral = own_site if own_site and self_referral_link("", own_site) else None
    referral = _first(own_referral, _link(metrics.get(METRIC_URL)))
    phones = (own.get("telephone"), metrics.get(METRIC_PHONE), general.get("telephone"))
    phone = _first(*(normalise_uk_phone(p) if p else None for p in phones))
    emails = (own.get("email"), metrics.get(METRIC_EMAIL), general.get("email"))
    email = _first(*(e for e in emails if e and is_email(e)))
    website = _first(own_site if own_site != referral else None, safe_url(general.get("website")))
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
        phone=phone,
        phone_extension=metrics.get(METRIC_EXTENSION),
        email=email,
        website=website if website != referral else None,
        self_referral_url=referral,
        areas_covered=_area_codes(_as_list(org.get("RelatedIAPTCCGs"), "RelatedIAPTCCGs", where)),
        source=source,
    )


def scrape(fetch, key: str | None = None, page_size: int | None = None) -> list[ApiService]:
    """Every Talking Therapies service, page by page. The key is read from NHS_API_KEY if not given."""
    headers = {KEY_HEADER: key or api_key(), "Accept": "application/json"}
    url, top = api_url(), page_size or PAGE_SIZE
    found: list[ApiService] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        try:
            response = fetch(url, params=search_params(after, top), headers=headers)
        except FetchError as error:
            if _REFUSED.match(error.reason):
                raise FetchError(url, f"{error.reason}: the key in {NHS_API_KEY_ENV} was refused") from error
            raise
        if response.status != 200:  # the fetcher hands a 404 back as an answer
            raise FetchError(
                url,
                f"HTTP {response.status}: not a Service Search version 3 answer (check {NHS_API_URL_ENV})",
            )
        page = parse_page(response.text, url)
        found.extend(page.services)
        if page.read < top:
            return found
        if page.last_key is None or page.last_key == after:
            raise ParseError(
                f"{url}: a full page without a new SearchKey; the next page cannot be asked for "
                "(the API layout may have changed)"
            )
        after = page.last_key
    raise ParseError(f"{url}: more than {MAX_PAGES} pages of {top}; the filter may have stopped working")
