"""The one search function the app, the CLI and the benchmarks call.

It resolves the query to a location, measures the straight-line distance to every record the
dataset holds (NHS services and private practitioners alike, vectorised), filters, sorts and says
what the user should know about the answer ("approximate location", "NHS Talking Therapies is for
people in England") as notices rather than errors. Only an unusable query raises (PostcodeError).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from finder import coverage, postcodes, store
from finder.errors import FinderError
from finder.geo import Points
from finder.postcodes import Location
from finder.schema import MANIFEST_FILE, PRACTITIONERS_FILE, RECORD_KINDS, SERVICES_FILE, validate

KINDS = ("all", "nhs", "private")
MODES = ("any", "online", "in_person")
MAX_RADIUS_MILES = 1000.0
MAX_LIMIT = 100_000


@dataclass
class SearchResponse:
    query: Location
    results: list[dict]
    notices: list[Notice] = field(default_factory=list)
    radius_miles: float = 10.0

    def to_json(self) -> dict:
        return {"query": self.query.to_json(), "results": self.results, "notices": self.notices}


# Coverage keys kept per record and area (about 300 districts, a few services each, plus towns
# and GP surgeries whose districts differ): cleared when full.
MAX_KEPT_FIELDS = 20_000


class Dataset:
    """Searchable records with their coordinates as arrays (NaN where a record has none)."""

    def __init__(self, records: list[dict]):
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
        self.coverage = coverage.CoverageIndex(records)
        self.points = Points(self.lat, self.lon)
        # Masks and counts by kind, once: comparing an array of strings costs more than a search's
        # arithmetic.
        self.of_kind = {kind: self.kind == kind for kind in RECORD_KINDS}
        self._counts = {kind: int(mask.sum()) for kind, mask in self.of_kind.items()}
        self.nhs = [r["kind"] == "nhs" for r in records]
        self._coverage_fields: dict[tuple, dict] = {}

    def coverage_fields(self, i: int, tiers: coverage.Tiers, person: coverage.PersonArea) -> dict:
        """NHS record i's coverage keys and its local name for the person's area. They depend
        only on the record, its tier, whether it serves only part of the place and the person's
        districts, so each is worked out once per area (never change the dict returned)."""
        tier, part = tiers.tier.item(i), i in tiers.partial
        key = (i, tier, part, person.districts, person.own_districts)
        found = self._coverage_fields.get(key)
        if found is None:
            record = self.records[i]
            found = coverage.coverage_fields(tier, tiers.covering.best.get(i), part=part)
            found.update(coverage.local_name_fields(record, tiers.covering.rows.get(i, ()), person))
            if len(self._coverage_fields) >= MAX_KEPT_FIELDS:
                self._coverage_fields.clear()
            self._coverage_fields[key] = found
        return found

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
    return Dataset(_read_records(directory, SERVICES_FILE) + _read_records(directory, PRACTITIONERS_FILE))


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


def _check_options(radius_miles: object, kind: object, mode: object, limit: object) -> None:
    if kind not in KINDS:
        raise FinderError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if mode not in MODES:
        raise FinderError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if (
        isinstance(radius_miles, bool)
        or not isinstance(radius_miles, int | float)
        or not 0 < radius_miles <= MAX_RADIUS_MILES
    ):
        raise FinderError(f"radius must be more than 0 and at most {MAX_RADIUS_MILES:g} miles")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise FinderError(f"limit must be a whole number from 1 to {MAX_LIMIT:,}")


DEFAULT_RADIUS_MILES = 10.0
DEFAULT_LIMIT = 50
# As much as the app's search box takes: a pasted address is read for its postcode, so a shared
# link carries all of it.
MAX_QUERY_CHARS = 300
# A GP practice's code in NHS England's list (ODS): a letter and five digits, "A81001".
GP_CODE = re.compile(r"[A-Z]\d{5}")


@dataclass(frozen=True, kw_only=True)
class SearchRequest:
    """Everything one search takes, whoever asks (the app's address bar, the CLI's options).
    The defaults and the checks of each value live here, so both ask the same question."""

    query: str = ""
    gp: str | None = None  # search from this GP surgery (its practice code) instead of the query
    radius_miles: float = DEFAULT_RADIUS_MILES
    kind: str = "all"
    mode: str = "any"  # how private practitioners work: any, online, in_person
    ipt: bool = False
    ipt_include_website: bool = False
    self_referral_online: bool = False
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        # Spaces around what was typed mean nothing; a practice code is read in capitals.
        object.__setattr__(self, "query", str(self.query).strip())
        object.__setattr__(self, "gp", str(self.gp).strip().upper() or None if self.gp is not None else None)
        _check_options(self.radius_miles, self.kind, self.mode, self.limit)
        if len(self.query) > MAX_QUERY_CHARS:
            raise FinderError(f"type a postcode, town or GP surgery of at most {MAX_QUERY_CHARS} characters")
        if self.gp is not None and not GP_CODE.fullmatch(self.gp):
            raise FinderError(
                f"{self.gp[:12]!r} is not a GP practice code (a letter and five digits, like A81001)"
            )

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | list[str]]) -> SearchRequest:
        """The search a link's query parameters describe. A value that cannot be used raises
        FinderError with one plain line saying which and why."""
        values, problems = _read_params(params)
        if problems:
            raise FinderError(problems[0])
        return cls(**values)

    @classmethod
    def from_shared_link(cls, params: Mapping[str, str | list[str]]) -> SearchRequest:
        """As from_query_params, but a value that cannot be used is left at its default: a link
        mangled on its way (cut short, retyped) still searches for what it can."""
        values, _ = _read_params(params)
        return cls(**values)

    def to_query_params(self) -> dict[str, str]:
        """The query parameters from_query_params reads back; defaults are left out, so a shared
        link stays short."""
        params: dict[str, str] = {}
        for name, spec in _PARAMS.items():
            value = getattr(self, spec.field)
            if value != _DEFAULTS[spec.field]:
                params[name] = spec.write(value)
        return params


@dataclass(frozen=True, kw_only=True)
class _Param:
    """How one query parameter maps to a SearchRequest field: `read` returns the value or raises
    ValueError with the plain words that follow the parameter's description."""

    field: str
    what: str
    read: Callable[[str], object]
    write: Callable[[Any], str] = str


def _read_radius(text: str) -> float:
    try:
        radius = float(text)
    except ValueError:
        raise ValueError(f"must be a number of miles, not {text!r}") from None
    if not 0 < radius <= MAX_RADIUS_MILES:  # also refuses nan and inf
        raise ValueError(f"must be more than 0 and at most {MAX_RADIUS_MILES:g} miles, not {text!r}")
    return radius


def _write_number(value: float) -> str:
    short = f"{value:g}"  # "20", not "20.0"
    return short if float(short) == value else repr(float(value))


def _read_limit(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ValueError(f"must be a whole number from 1 to {MAX_LIMIT:,}, not {text!r}")
    return int(text)


def _read_choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {text!r}")
        return text

    return read


def _read_flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(f"must be 1 (yes) or 0 (no), not {text!r}")
    return text == "1"


def _read_gp(text: str) -> str:
    code = text.strip().upper()
    if not GP_CODE.fullmatch(code):
        raise ValueError(f"must be a GP practice code like A81001, not {text!r}")
    return code


_PARAMS = {
    "q": _Param(field="query", what="The place", read=lambda text: text[:MAX_QUERY_CHARS].strip()),
    "gp": _Param(field="gp", what="The GP surgery", read=_read_gp),
    "r": _Param(field="radius_miles", what="The distance", read=_read_radius, write=_write_number),
    "kind": _Param(field="kind", what="What to show", read=_read_choice(KINDS)),
    "mode": _Param(field="mode", what="Online or in person", read=_read_choice(MODES)),
    "ipt": _Param(field="ipt", what="Delivers IPT", read=_read_flag, write=lambda on: "1"),
    "iptweb": _Param(
        field="ipt_include_website", what="IPT on a service's website", read=_read_flag, write=lambda on: "1"
    ),
    "online": _Param(
        field="self_referral_online", what="Refer online", read=_read_flag, write=lambda on: "1"
    ),
    "limit": _Param(field="limit", what="How many results", read=_read_limit),
}
_DEFAULTS = {f.name: f.default for f in fields(SearchRequest)}


def _read_params(params: Mapping[str, str | list[str]]) -> tuple[dict[str, Any], list[str]]:
    """The fields the parameters give (unknown parameters are ignored, as a link may carry other
    things), and a plain line for each value that cannot be used. Each value has its field's type
    (its reader made it); SearchRequest checks them again."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, spec in _PARAMS.items():
        raw = params.get(name)
        if isinstance(raw, list):  # a parameter given twice: the last one, as browsers do
            raw = raw[-1] if raw else None
        if raw is None:
            continue
        try:
            values[spec.field] = spec.read(raw)
        except ValueError as error:
            problems.append(f"{spec.what} in the link ({name}) {error}.")
    return values, problems


def nhs_available(location: Location) -> bool:
    """NHS Talking Therapies is England-only. A border outcode or town that is partly in England
    may still be served, so it keeps NHS results with a notice."""
    if location.country == "England":
        return True
    return bool(location.mixed_country and (location.share_in_england or 0) > 0)


def person_area(location: Location) -> coverage.PersonArea:
    """Every district that may be the person's, and their ICBs, from the location's area. From a
    GP surgery, every district of its sub-ICB may be covered, but the surgery's own district is
    where the services' local names apply."""
    areas = ([location.area] if location.area is not None else []) + list(location.area_candidates)
    own = location.area.district_code if location.kind == "gp" and location.area is not None else None
    districts = frozenset(a.district_code for a in areas)
    return coverage.PersonArea(
        districts=districts,
        icbs=frozenset(a.icb_code for a in areas if a.icb_code),
        own_districts=frozenset((own,)) if own else None,
        settled=location.area is not None or len(districts) <= 1,
    )


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
    keep = ~data.coverage.ended
    if kind != "all":
        keep &= data.of_kind[kind]
    if not nhs_available(location):
        keep &= ~data.of_kind["nhs"]
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
    near = keep & (distances <= radius_miles)  # NaN compares False: no location, not near
    answers = keep & (tiers.tier < coverage.ELSEWHERE)  # whatever the distance
    # Practitioners (and national services) who work online are an option wherever you live, so
    # they are shown beyond the radius too, after everything nearby, and labelled as online.
    online_elsewhere = keep & ~near & ~answers & data.works_online
    shown = np.flatnonzero(answers | near | online_elsewhere)
    # Order: tier; within `covers` the area's own order (general services first, then unclear
    # ones, specialists last; surer evidence first); nearby before online-only; then distance
    # (unknown last).
    order = np.lexsort(
        (
            np.fmin(distances[shown], np.inf),  # fmin reads NaN (no position) as infinity: last
            online_elsewhere[shown],
            tiers.rank[shown],
            tiers.tier[shown],
        )
    )
    chosen = shown[order][: limit + data.coverage.foldable]

    def result_for(i: int) -> dict:
        # .item() reads one array value as a plain Python number, far quicker than indexing.
        distance = distances.item(i)
        record = {
            **data.records[i],
            "distance_miles": None if math.isnan(distance) else round(distance, 2),
            "within_radius": near.item(i),
            "online_option": online_elsewhere.item(i),
        }
        if data.nhs[i]:
            record.update(data.coverage_fields(i, tiers, person))
            record["local_service_names"] = list(record["local_service_names"])  # the result's own
        return record

    def lead_result(lead_id: str) -> dict | None:
        i = data.coverage.index_of_id.get(lead_id)
        return result_for(i) if i is not None and keep[i] else None

    results = coverage.fold_into_leads([result_for(i) for i in chosen.tolist()], lead_result)
    results = coverage.fold_same_service(results)[:limit]
    notices = _notices(location, kind, request.mode, data, results, radius_miles)
    if website_only is not None:
        notices += _ipt_website_notice(int((website_only & ((distances <= radius_miles) | answers)).sum()))
    notices += _coverage_notices(location, kind, tiers, nhs_available(location))
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


def _ipt_website_notice(more: int) -> list[Notice]:
    if not more:
        return []
    services = "service mentions IPT on its" if more == 1 else "services mention IPT on their"
    return [
        Notice(
            "ipt_website_mentions",
            f"{more} more NHS {services} own website, without NHS England figures that show it; "
            f"you can include {'it' if more == 1 else 'them'}.",
        )
    ]


def _coverage_notices(location: Location, kind: str, tiers: coverage.Tiers, nhs_here: bool) -> list[Notice]:
    if kind == "private" or not nhs_here:
        return []
    notices = []
    area = location.area
    districts = sorted({a.district_name for a in location.area_candidates})
    if area is None and len(districts) == 1:
        # One district split between two NHS areas, and this postcode's ward is split too.
        notices.append(
            Notice(
                "split_district",
                f"Part of {districts[0]} is served by one NHS area and part by another, so the services "
                "of both are shown: which one takes you depends on your GP surgery.",
            )
        )
    elif area is None and districts:
        listed = ", ".join(districts[:-1]) + f" and {districts[-1]}"
        notices.append(
            Notice(
                "area_approximate",
                f"{location.postcode} covers more than one area ({listed}), so services for each are "
                "shown. Type your full postcode or your GP surgery to see only yours.",
            )
        )
    if (area is not None or location.area_candidates) and not tiers.any_general:
        # Without a general service known, a service whose role is unclear (registered here, say)
        # may cover the person, but is not said to be theirs.
        shown = (
            "Services that may cover it are shown first"
            if tiers.any_covering
            else "Services based in the same NHS area are shown"
        )
        notices.append(
            Notice(
                "no_covering_service",
                f"We don't know which NHS Talking Therapies service covers this area. {shown}; the NHS "
                "website can tell you for sure.",
            )
        )
    if location.kind != "gp" and (area is not None or location.area_candidates):
        notices.append(
            Notice(
                "gp_decides",
                "NHS Talking Therapies services take people by where their GP is registered, not their "
                "home address: if your GP is in another area, search for your GP surgery instead.",
            )
        )
    return notices


def _approximate_notice(location: Location) -> str:
    outcode = location.postcode.split(" ")[0]
    if location.precision == "place":
        return (
            f"Approximate location: we used the centre of {location.postcode}, so distances are approximate."
        )
    area, name = (
        ("postcode sector", location.postcode[: len(outcode) + 2])
        if location.precision == "sector"
        else ("postcode district", outcode)
    )
    if location.kind == "postcode":
        # A full postcode we hold no position for (new, mistyped or without coordinates).
        return (
            f"We don't have an exact position for {location.postcode}, so we used the centre of the "
            f"{area} {name}: distances are approximate."
        )
    return f"Approximate location: we used the centre of the {area} {name}, so distances are approximate."


class Notice(str):
    """A sentence to show with the results; `code` says which kind, so a page that explains the
    same thing its own way (the app's nation box) can leave it out. Serialises as plain text."""

    code: str

    def __new__(cls, code: str, text: str) -> Notice:
        notice = super().__new__(cls, text)
        notice.code = code
        return notice


def _notices(
    location: Location, kind: str, mode: str, data: Dataset, results: list[dict], radius_miles: float
) -> list[Notice]:
    notices = []
    nhs_here = nhs_available(location)
    if location.terminated:
        notices.append(
            Notice("terminated", f"{location.postcode} is no longer in use; results are for where it was.")
        )
    if not location.has_coordinates:
        online = " Options that work online are shown." if results else ""
        notices.append(
            Notice(
                "no_position",
                f"We don't have a map position for {location.postcode}, so we can't list services by distance.{online}",
            )
        )
    elif location.approximate:
        notices.append(Notice("approximate", _approximate_notice(location)))
    if kind in ("all", "nhs"):
        if not nhs_here:
            shown = " Private and online options are shown." if results else ""
            notices.append(
                Notice(
                    "nation",
                    f"NHS Talking Therapies is for people in England; {location.postcode} is in "
                    f"{location.country}. Your GP is the first step there.{shown}",
                )
            )
        elif location.mixed_country:
            notices.append(
                Notice(
                    "border",
                    f"{location.postcode} is on a border: NHS Talking Therapies in England is for people "
                    "who live or are registered with a GP in England.",
                )
            )
    # Only worth saying where private practitioners were asked for, or are the only route.
    asked_for_private = kind == "private" or (kind == "all" and (mode != "any" or not nhs_here))
    if data.count("private") == 0 and asked_for_private:
        notices.append(
            Notice(
                "no_practitioners",
                "We don't hold any private IPT practitioners yet: no register export has been imported. "
                "You can check a named therapist on the 'Check a therapist' page.",
            )
        )
    if not results:
        if nhs_here or data.count("private"):
            notices.append(
                Notice(
                    "nothing_matched",
                    f"Nothing matched within {radius_miles:g} miles. Try a wider radius, fewer filters, "
                    "or services that work online.",
                )
            )
        else:
            notices.append(Notice("nothing_matched", "We hold nothing that matches for this area yet."))
    return notices
