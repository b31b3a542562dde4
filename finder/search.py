"""The one search function the app, the CLI and the benchmarks call.

It resolves the query to a location, measures the straight-line distance to every record the
dataset holds (NHS services and private practitioners alike, vectorised), filters, sorts and says
what the user should know about the answer ("approximate location", "NHS Talking Therapies is for
people in England") as notices rather than errors. Only an unusable query raises (PostcodeError).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from finder import areas, coverage, postcodes, store
from finder.errors import FinderError
from finder.geo import Points
from finder.postcodes import Location
from finder.schema import MANIFEST_FILE, PRACTITIONERS_FILE, RECORD_KINDS, SERVICES_FILE, validate

# What a search asks and the notices it answers with live in their own modules; callers may
# import those names from here as well.
from finder.search_notices import Notice, coverage_notices, ipt_website_notice, nhs_available, notices_for
from finder.search_request import (
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_MILES,
    GP_CODE,
    KINDS,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    MAX_RADIUS_MILES,
    MODES,
    SearchRequest,
)

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_RADIUS_MILES",
    "GP_CODE",
    "KINDS",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "MAX_RADIUS_MILES",
    "MODES",
    "Dataset",
    "Notice",
    "SearchRequest",
    "SearchResponse",
    "dataset",
    "dataset_info",
    "nhs_available",
    "person_area",
    "person_in",
    "run",
    "search",
]


@dataclass
class SearchResponse:
    query: Location
    results: list[dict]
    notices: list[Notice] = field(default_factory=list)
    radius_miles: float = 10.0

    def to_json(self) -> dict:
        return {"query": self.query.to_json(), "results": self.results, "notices": self.notices}


# NHS records with their coverage keys, kept per record and area (about 300 districts, a few
# services each, plus towns and GP surgeries whose districts differ): cleared when full.
MAX_KEPT_RECORDS = 4096  # about 2 kB each


class Dataset:
    """Searchable records with their coordinates as arrays (NaN where a record has none)."""

    def __init__(self, records: list[dict], parts: dict[tuple[int, str], frozenset[str]] | None = None):
        """`parts`: which part of a split district a record's row is for (coverage.part_sub_icbs)."""
        self.records = records
        self.kind = np.array([r["kind"] for r in records], dtype=object)
        self.lat = np.array([np.nan if r["lat"] is None else r["lat"] for r in records], dtype=np.float64)
        self.lon = np.array([np.nan if r["lon"] is None else r["lon"] for r in records], dtype=np.float64)
        # "Delivers IPT" means NHS England's figures show it (this year or an earlier one); an NHS
        # service whose only evidence is its own website is kept apart, shown when asked for.
        self.ipt_website = np.array(
            [
                r["kind"] == "nhs" and r["offers_ipt"] is True and r.get("ipt_basis") == "website"
                for r in records
            ],
            dtype=bool,
        )
        self.ipt = np.array([r["offers_ipt"] is True for r in records], dtype=bool) & ~self.ipt_website
        self.online_referral = np.array([bool(r["self_referral_url"]) for r in records], dtype=bool)
        self.works_online = np.array([bool(r["works_online"]) for r in records], dtype=bool)
        self.works_in_person = np.array([bool(r["works_in_person"]) for r in records], dtype=bool)
        self.coverage = coverage.CoverageIndex(records, parts)
        self.points = Points(self.lat, self.lon)
        # Masks and counts by kind, once: comparing an array of strings costs more than a search's
        # arithmetic.
        self.of_kind = {kind: self.kind == kind for kind in RECORD_KINDS}
        self._counts = {kind: int(mask.sum()) for kind, mask in self.of_kind.items()}
        self.nhs = [r["kind"] == "nhs" for r in records]
        self._with_coverage: dict[tuple, dict] = {}
        self._offered: dict[tuple[str, bool], np.ndarray] = {}

    def offered(self, kind: str, *, nhs: bool) -> np.ndarray:
        """The records a search of `kind` may offer (never change the array returned): a service
        that has probably ended is kept in data/ and the export, never offered, and NHS services
        only where `nhs` (the person may use NHS Talking Therapies). Worked out once per kind."""
        found = self._offered.get((kind, nhs))
        if found is None:
            found = ~self.coverage.ended
            if kind != "all":
                found &= self.of_kind[kind]
            if not nhs:
                found &= ~self.of_kind["nhs"]
            self._offered[(kind, nhs)] = found
        return found

    def with_coverage(self, i: int, tiers: coverage.Tiers, person: coverage.PersonArea) -> dict:
        """NHS record i with its coverage keys and its local name for the person's area. They
        depend only on the record, its tier, whether it serves only part of the place and, for a
        service that covers the person, the person's districts (a service that does not cover
        them has no evidence row there and keeps its public name), so each is worked out once
        (never change the dict returned)."""
        tier, part = tiers.tier.item(i), i in tiers.partial
        covers = tier == coverage.COVERS
        key = (i, tier, part, (person.districts, person.own_districts, person.sub_icbs) if covers else None)
        found = self._with_coverage.get(key)
        if found is None:
            found = self._keep_entry(key, tiers.covering, person)
        return found

    def _keep_entry(self, key: tuple, covering: coverage.Covering, person: coverage.PersonArea) -> dict:
        i, tier, part, _ = key
        record = self.records[i]
        found = {
            **record,
            **coverage.coverage_fields(tier, covering.best.get(i), part=part),
            **coverage.local_name_fields(record, covering.rows.get(i, ()), person),
        }
        if len(self._with_coverage) >= MAX_KEPT_RECORDS:
            self._with_coverage.clear()
        self._with_coverage[key] = found
        return found

    def prepare(self, people: Iterable[coverage.PersonArea]) -> None:
        """Work out, when the data loads, what a search in each of these areas needs: the order
        of the services that cover it (for an NHS-only search and for everything) and those
        services' entries under their local names, and every NHS service's entry outside its
        areas. The first search in an area is then as quick as the next."""
        nhs_indices = self.coverage.nhs.nonzero()[0].tolist()
        for i in nhs_indices:
            # Outside its areas a service's entry depends only on its tier there: national, or
            # based in the person's ICB, or elsewhere.
            national = self.coverage.national.item(i)
            for tier in (coverage.NATIONAL,) if national else (coverage.ELSEWHERE, coverage.SAME_ICB):
                key = (i, tier, False, None)
                if key not in self._with_coverage:
                    self._keep_entry(key, coverage.NO_COVERING, coverage.NOWHERE)
        for person in people:
            for kind in ("nhs", "all"):
                tiers = coverage.classify(self.coverage, person, self.offered(kind, nhs=True))
            # Both searches offer the same NHS services, so the covering ones are the same.
            for i in tiers.covering.order:
                self.with_coverage(i, tiers, person)

    def count(self, kind: str) -> int:
        return self._counts.get(kind, 0)


def _read_records(directory: Path, name: str) -> list[dict]:
    # The last committed version: a writer stopped after its commit point never blocks a search.
    path = store.committed_path(name, directory)
    if not path.exists():
        return []
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        records = payload["records"]
    except (ValueError, KeyError, TypeError) as error:
        raise FinderError(
            f"data/{name} is damaged ({error}); rebuild it with `python -m finder build`"
        ) from None
    try:
        validate(records, level="keys")
    except FinderError as error:
        raise FinderError(f"data/{name}: {error}") from None
    return records


def _load_dataset(directory: Path) -> Dataset:
    records = _read_records(directory, SERVICES_FILE) + _read_records(directory, PRACTITIONERS_FILE)
    loaded_areas = areas.tables()
    if loaded_areas is None:
        return Dataset(records)
    parts = coverage.part_sub_icbs(records, loaded_areas.sub_icbs_of_district, _headquarters_sub_icb)
    data = Dataset(records, parts)
    # Every district as a postcode places a person in it (in each of its sub-ICBs and ICBs).
    data.prepare(person_in(code, icb, sub_icb) for code, sub_icb, icb in loaded_areas.district_parts())
    return data


def _headquarters_sub_icb(record: Mapping) -> str | None:
    """The sub-ICB location of a service's registered office, from its postcode."""
    try:
        found = postcodes.lookup(record.get("postcode") or "")
    except FinderError:
        return None
    return found.area.sub_icb_code if found.area is not None else None


# Reloaded when a publish replaces a record file (store.data_version, one stat per search).
_dataset = store.DataCache((SERVICES_FILE, PRACTITIONERS_FILE), _load_dataset)


def dataset(*, version: tuple | None = None) -> Dataset:
    """The records of data/, loaded once and reloaded when a data file changes. `version`:
    store.data_version() as the caller just asked it (one check of data/ per search)."""
    return _dataset.get(version=version)


def dataset_info() -> dict:
    """Counts and the manifest, for 'About the data'."""
    data = dataset()
    return {
        "nhs_services": data.count("nhs"),
        "private_practitioners": data.count("private"),
        "manifest": store.read_json(MANIFEST_FILE, default={}) or {},
    }


@functools.lru_cache(maxsize=1024)
def person_in(
    district_code: str, icb_code: str | None, sub_icb_code: str | None = None
) -> coverage.PersonArea:
    """A person whose postcode places them in one district (and one sub-ICB and ICB, where
    known): the areas whose answers are worked out when the data loads (one object for each)."""
    return coverage.PersonArea(
        districts=frozenset((district_code,)),
        icbs=frozenset((icb_code,)) if icb_code else frozenset(),
        sub_icbs=frozenset((sub_icb_code,)) if sub_icb_code else frozenset(),
    )


def person_area(location: Location) -> coverage.PersonArea:
    """Every district that may be the person's, and their ICBs, from the location's area. From a
    GP surgery, its own district and every district wholly in its sub-ICB (`_gp_districts`), with
    the surgery's own district where the services' local names apply."""
    if location.area is not None and not location.area_candidates and location.kind != "gp":
        return person_in(location.area.district_code, location.area.icb_code, location.area.sub_icb_code)
    found = ([location.area] if location.area is not None else []) + list(location.area_candidates)
    own = location.area.district_code if location.kind == "gp" and location.area is not None else None
    if own is not None:
        found = _gp_districts(found, own)
    districts = frozenset(a.district_code for a in found)
    sub_icbs = frozenset(a.sub_icb_code for a in found if a.sub_icb_code)
    return coverage.PersonArea(
        districts=districts,
        icbs=frozenset(a.icb_code for a in found if a.icb_code),
        own_districts=frozenset((own,)) if own else None,
        settled=location.area is not None or len(districts) <= 1,
        # Known only when every candidate's is: else a row for any part may be the person's.
        sub_icbs=sub_icbs if all(a.sub_icb_code for a in found) else frozenset(),
    )


def _gp_districts(found: list[areas.Area], own: str) -> list[areas.Area]:
    """The districts of a GP surgery's sub-ICB that say who takes its patients: its own, and those
    wholly in the sub-ICB. A district only partly in it says nothing about this surgery unless the
    surgery is in it: Bradford's sub-ICB takes in Craven, a corner of North Yorkshire, and an
    Ilkley surgery's patients are not Harrogate's to take."""
    loaded = areas.tables()
    if loaded is None:
        return found
    return [
        area
        for area in found
        if area.district_code == own
        or loaded.sub_icbs_of_district(area.district_code) == (area.sub_icb_code,)
    ]


def search(
    query: str | SearchRequest,
    radius_miles: float = DEFAULT_RADIUS_MILES,
    kind: str = "all",
    self_referral_online: bool = False,
    ipt: bool = False,
    limit: int = DEFAULT_LIMIT,
    mode: str = "any",
    fallback: postcodes.OnlineFallback | None = None,  # online look-ups, injected by the CLI
    ipt_include_website: bool = False,
    gp: str | None = None,
) -> SearchResponse:
    """Search for `query`: a SearchRequest, or the place text with the request's fields as
    keywords. `ipt`: only services NHS England's figures show delivering IPT (and accredited
    private practitioners); with `ipt_include_website`, also services whose own website mentions
    IPT. `gp`: search from a GP surgery (its ODS code): its sub-ICB decides who covers the person."""
    if isinstance(query, SearchRequest):
        return run(query, fallback=fallback)
    request = SearchRequest(
        query=query,
        gp=gp or None,
        radius_miles=radius_miles,
        kind=kind,
        mode=mode,
        ipt=ipt,
        ipt_include_website=ipt_include_website,
        self_referral_online=self_referral_online,
        limit=limit,
    )
    return run(request, fallback=fallback)


def run(request: SearchRequest, *, fallback: postcodes.OnlineFallback | None = None) -> SearchResponse:
    """The answer to one search request (see `search`)."""
    kind, limit, radius_miles = request.kind, request.limit, request.radius_miles
    # data/ is checked once: the place, its area and the records all come from this version.
    version = store.data_version()
    location = _where(request.query, request.gp, fallback, version)
    data = dataset(version=version)

    # A service that has probably ended is kept in data/ and the export, never offered.
    keep = data.offered(kind, nhs=nhs_available(location))
    # Tiers come before the filters: whether a service covers the person does not depend on what
    # they filter for ("no covering service" must not be said of an area whose service lacks IPT).
    person = person_area(location)
    tiers = coverage.classify(data.coverage, person, keep)
    filters = Filters(
        mode=request.mode,
        ipt=request.ipt,
        ipt_include_website=request.ipt_include_website,
        online=request.self_referral_online,
    )
    keep, website_only = _filtered(data, keep, tiers, filters)

    if location.lat is not None and location.lon is not None:
        distances = data.points.miles_from(location.lat, location.lon)
    else:
        distances = np.full(len(data.records), np.nan)
    within = distances <= radius_miles  # NaN compares False: no location, not near
    # Covering, national and same-ICB services are answers whatever the distance.
    near_or_answers = keep & (within | tiers.answers)
    # Practitioners (and national services) who work online are an option wherever you live, so
    # they are shown beyond the radius too, after everything nearby, and labelled as online.
    shown = (near_or_answers | (keep & data.works_online)).nonzero()[0]
    online_shown = ~near_or_answers[shown]
    # Order: tier; within `covers` the area's own order (general services first, then unclear
    # ones, specialists last; surer evidence first); nearby before online-only; then distance
    # (unknown last).
    order = np.lexsort(
        (
            np.fmin(distances[shown], np.inf),  # fmin reads NaN (no position) as infinity: last
            online_shown,
            tiers.rank[shown],
            tiers.tier[shown],
        )
    )[: limit + data.coverage.foldable]

    def result_for(i: int, distance: float, online_option: bool) -> dict:
        nhs = data.nhs[i]
        # A copy of the record, then the search's own keys (quicker than {**record, ...}).
        record = (data.with_coverage(i, tiers, person) if nhs else data.records[i]).copy()
        record["distance_miles"] = None if math.isnan(distance) else round(distance, 2)
        record["within_radius"] = distance <= radius_miles
        record["online_option"] = online_option
        if nhs:
            record["local_service_names"] = list(record["local_service_names"])  # the result's own
        return record

    def lead_result(lead_id: str) -> dict | None:
        i = data.coverage.index_of_id.get(lead_id)
        if i is None or not keep.item(i):
            return None
        # .item() reads one array value as a plain Python number, far quicker than indexing.
        online = data.works_online.item(i) and not near_or_answers.item(i)
        return result_for(i, distances.item(i), online)

    # The chosen records' values read out of the arrays at once: one call each, not one per record.
    chosen = shown[order]
    columns = zip(chosen.tolist(), distances[chosen].tolist(), online_shown[order].tolist(), strict=True)
    results = coverage.fold_into_leads([result_for(*values) for values in columns], lead_result)
    results = coverage.fold_same_service(results)[:limit]
    notices = notices_for(location, kind, request.mode, data.count("private"), results, radius_miles)
    if website_only is not None:
        answers = keep & tiers.answers
        notices += ipt_website_notice(int((website_only & (within | answers)).sum()))
    notices += coverage_notices(location, kind, tiers, nhs_available(location))
    return SearchResponse(location, results, notices, float(radius_miles))


def _where(query: str, gp: str | None, fallback: postcodes.OnlineFallback | None, version: tuple) -> Location:
    if gp:
        # From the GP surgery: distances from the surgery, and its sub-ICB as the area.
        from finder.gp import gp_location

        return gp_location(gp)
    return postcodes.lookup(query, fallback=fallback, version=version)


@dataclass(frozen=True, kw_only=True)
class Filters:
    """What the person asked to see: how practitioners work, IPT evidence, an online form."""

    mode: str
    ipt: bool
    ipt_include_website: bool
    online: bool


def _filtered(
    data: Dataset, keep: np.ndarray, tiers: coverage.Tiers, filters: Filters
) -> tuple[np.ndarray, np.ndarray | None]:
    """The records the filters keep, and (for the IPT filter) those kept out that only mention
    IPT on their own website, so the person can be told about them."""
    if filters.mode == "online":
        keep = keep & data.works_online
    elif filters.mode == "in_person":
        keep = keep & data.works_in_person
    website_only = None
    if filters.ipt:
        if filters.ipt_include_website:
            keep = keep & (data.ipt | data.ipt_website)
        else:
            website_only = keep & data.ipt_website
            keep = keep & data.ipt
    if filters.online:
        # An online form is only worth offering where the service will take the person.
        keep = keep & data.online_referral & (tiers.tier == coverage.COVERS)
    return keep, website_only
