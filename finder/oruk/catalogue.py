"""What the ORUK API serves, made once per release of data/: every object keyed by id, and the
filters the UK profile defines (search, taxonomy_term_id, minimum_age, postcode with proximity).

No web framework here: finder.oruk.api turns these answers into HTTP. Who covers a postcode, and in
which order, is the finder's own answer (finder.search), never a second ranking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from finder import search as finder_search
from finder import services, store
from finder.coverage import ELSEWHERE, TIERS, display_name
from finder.errors import FinderError
from finder.oruk import mapping, taxonomy
from finder.schema import SERVICES_FILE

# Codes the finder folds into a service as the service itself (its sites, its borough parts),
# unlike partners, which are organisations of their own.
FOLDED_INTO_SERVICE = ("site", "part")
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 50
METRES_PER_MILE = 1609.344
# The widest proximity a postcode query takes: England end to end is about 1,000 km.
MAX_PROXIMITY_METRES = 1_500_000


class BadQuery(FinderError):
    """A parameter that cannot be answered: said back to the caller as a 400."""


@dataclass(frozen=True, kw_only=True)
class Page:
    """The profile's page wrapper."""

    contents: list[dict]
    total_items: int
    page_number: int
    per_page: int

    def to_json(self) -> dict:
        total_pages = max(1, math.ceil(self.total_items / self.per_page))
        return {
            "total_items": self.total_items,
            "total_pages": total_pages,
            "page_number": self.page_number,
            "size": len(self.contents),
            "first_page": self.page_number == 1,
            "last_page": self.page_number >= total_pages,
            "empty": not self.contents,
            "contents": self.contents,
        }


def page_of(items: Sequence[dict], page: int | None, per_page: int | None) -> Page:
    page = 1 if page is None else page
    per_page = DEFAULT_PER_PAGE if per_page is None else per_page
    if page < 1:
        raise BadQuery("page must be 1 or more")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise BadQuery(f"per_page must be from 1 to {MAX_PER_PAGE}")
    start = (page - 1) * per_page
    return Page(
        contents=list(items[start : start + per_page]),
        total_items=len(items),
        page_number=page,
        per_page=per_page,
    )


class Catalogue:
    """Every ORUK object of one release of data/services.json."""

    def __init__(self, records: Sequence[Mapping]):
        # A stable listing order: by the name people know the service by, then by id.
        ordered = sorted(records, key=lambda r: (mapping.service(r)["name"].casefold(), r["id"]))
        self.records = {taxonomy.stable_id("service", r["id"]): r for r in ordered}
        self.ods_to_service = {r["id"]: sid for sid, r in self.records.items()}
        self.service_list = {sid: mapping.service_list_item(r) for sid, r in self.records.items()}
        self.sal_list: dict[str, dict] = {}
        self.sal_of_service: dict[str, str] = {}
        for sid, record in self.records.items():
            item = mapping.service_at_location_list_item(record)
            if item is not None:
                self.sal_list[item["id"]] = item
                self.sal_of_service[sid] = item["id"]
        self.sal_records = {
            self.sal_of_service[sid]: r for sid, r in self.records.items() if sid in self.sal_of_service
        }
        terms = taxonomy.all_terms(ordered)
        self.terms = {t.id: taxonomy.taxonomy_term(t) for t in terms}
        self.taxonomy = taxonomy.taxonomy(terms)
        self.term_ids = {sid: {t.id for t in taxonomy.service_terms(r)} for sid, r in self.records.items()}
        self.words = {sid: _searchable(self.service_list[sid], r) for sid, r in self.records.items()}

    def service(self, service_id: str) -> dict | None:
        record = self.records.get(service_id)
        return None if record is None else mapping.service_full(record)

    def service_at_location(self, sal_id: str) -> dict | None:
        record = self.sal_records.get(sal_id)
        return None if record is None else mapping.service_at_location_full(record)

    def listed(self, chosen: Iterable[tuple[str, Mapping | None]], *, at_locations: bool) -> list[dict]:
        """The listing items of the chosen services (or of their service_at_locations): each as
        listed everywhere, or from the record that names it for a postcode (`near_postcode`)."""
        if not at_locations:
            return [
                self.service_list[sid] if named is None else mapping.service_list_item(named)
                for sid, named in chosen
            ]
        items = []
        for sid, named in chosen:
            if sid not in self.sal_of_service:
                continue  # no location known: no service_at_location
            item = (
                self.sal_list[self.sal_of_service[sid]]
                if named is None
                else mapping.service_at_location_list_item(named)
            )
            items += [item] if item is not None else []
        return items

    def matching(self, query: ServiceQuery) -> list[str]:
        """The ids of the services the filters keep, in listing order."""
        return [sid for sid in self.records if self._keeps(sid, query)]

    def _keeps(self, service_id: str, query: ServiceQuery) -> bool:
        if query.taxonomy_term_id is not None and query.taxonomy_term_id not in self.term_ids[service_id]:
            return False
        if query.taxonomy_id is not None and query.taxonomy_id != taxonomy.TAXONOMY_ID:
            return False
        if query.minimum_age is not None:
            # "Services with a minimum age of at least the specified value" (the profile's words).
            age = self.records[service_id].get("min_age")
            if age is None or age < query.minimum_age:
                return False
        return all(word in self.words[service_id] for word in query.words)


def _searchable(listed: Mapping, record: Mapping) -> str:
    """The words a `search` looks in: the service's names (its local names too), what it says of
    itself, its organisation and the districts, or parts of them, it covers."""
    areas = " ".join(
        " ".join(filter(None, (a["name"], a.get("part"), a.get("local_service_name"))))
        for a in record.get("areas_served") or []
    )
    return " ".join([listed["name"], listed["description"], listed["organization"]["name"], areas]).casefold()


@dataclass(frozen=True, kw_only=True)
class ServiceQuery:
    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    minimum_age: float | None = None

    @property
    def words(self) -> list[str]:
        return (self.search or "").casefold().split()


def _load(directory: Path) -> Catalogue:
    return Catalogue(services.load_services(directory))


# Rebuilt when a publish replaces data/services.json (store.data_version, one stat per request).
_catalogue = store.DataCache((SERVICES_FILE,), _load)


def catalogue() -> Catalogue:
    return _catalogue.get()


def near_postcode(found: Catalogue, postcode: str, proximity: str | None) -> dict[str, Mapping]:
    """The services for a postcode, in the finder's own order: those that cover it (their
    service area holds it) first; with `proximity` (metres), also those based within that distance
    of the postcode's centre. A service that has probably ended covers no one.

    The partners a service works with follow it (a site or part of it is not listed again).
    Each id maps to the record to name the service from: the search's own result, which carries
    the name people know the service by where the postcode is (its local name, the part of the
    district it takes) and leaves out links seen under another of its names."""
    metres = _metres(proximity)
    radius_miles = min(metres / METRES_PER_MILE, finder_search.MAX_RADIUS_MILES) if metres else 0.001
    try:
        answer = finder_search.search(
            postcode, kind="nhs", radius_miles=radius_miles, limit=finder_search.MAX_LIMIT
        )
    except FinderError as error:
        raise BadQuery(str(error)) from None
    chosen: dict[str, Mapping] = {}
    for result in answer.results:
        # Covers all or part of the place, works nationally, or is its ICB's where no coverage is
        # known: anything but "elsewhere", which only a proximity lets in.
        if result.get("coverage") in (None, TIERS[ELSEWHERE]) and not (
            metres and result.get("within_radius")
        ):
            continue
        if (sid := found.ods_to_service.get(result["id"])) is not None:
            chosen.setdefault(sid, result)
        for item in result.get("delivered_with") or []:
            if item.get("role") in FOLDED_INTO_SERVICE:
                continue  # the service itself under another code: one entry per service
            sid = found.ods_to_service.get(item["id"])
            if sid is not None and sid not in chosen:
                chosen[sid] = _as_named(found.records[sid], item["name"])
    return chosen


def _as_named(record: Mapping, name: str) -> Mapping:
    """A partner listed under the service a person refers to, by the name the search gave it
    there (its stored record where that is the name it has anyway)."""
    return record if name == display_name(record) else {**record, "service_name": name}


def _metres(proximity: str | None) -> float | None:
    if proximity is None:
        return None
    try:
        metres = float(proximity)
    except ValueError:
        raise BadQuery("proximity must be a distance in metres") from None
    if not 0 < metres <= MAX_PROXIMITY_METRES:
        raise BadQuery(f"proximity must be more than 0 and at most {MAX_PROXIMITY_METRES:,} metres")
    return metres
