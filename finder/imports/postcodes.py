"""Build the postcode tables in `data/` from OS Code-Point Open or an ONS postcode directory.

Code-Point Open is published as a zip of per-area CSVs without a header; its column names live in
`Doc/Code-Point_Open_Column_Headers.csv`. Eastings and northings are OSGB36 (EPSG:27700) metres and
are converted to WGS84 with the OS OSTN15 transformation (convertbng carries the OSTN15 grid in its
wheel; pyproj without that grid, which it would download at run time, falls back to a Helmert
transform that is off by up to 5 m). Quality 90 rows have no coordinates.

The ONS Postcode Directory and the NSPL rename their columns each release (`ccg` became `sicbl`,
`ctry` became `ctry25cd`), so their columns are found by name prefix. They add Northern Ireland,
the Channel Islands, the Isle of Man, terminated postcodes (kept and marked) and NHS areas.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from finder import store
from finder.areas import AreaTables
from finder.errors import SourceFormatError
from finder.imports import MAX_SHRINK, guard, refuse_shrink
from finder.imports.tables import decode_text
from finder.postcodes import (
    COUNTRIES,
    GSS_COUNTRY,
    MISSING_E6,
    NATION_BY_AREA,
    decode_compact,
    encode_keys,
    place_key,
)
from finder.schema import AREAS_FILE, MANIFEST_FILE, OUTCODES_FILE, PLACES_FILE, POSTCODES_FILE, SECTORS_FILE

CODEPOINT_COLUMNS = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "Admin_district_code",
    "Admin_ward_code",
)
CODEPOINT_HEADERS_MEMBER = "Doc/Code-Point_Open_Column_Headers.csv"
NO_LOCATION_QUALITY = 90
POSTCODE_SHAPE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")

# ONS directory columns, matched by prefix (first match wins): the logical name and its prefixes.
ONS_COLUMNS = {
    "postcode": ("pcds",),
    "terminated": ("doterm",),
    "lat": ("lat",),
    "lon": ("long",),
    "country": ("ctry",),
}
# District and ward (ONSPD `oslaua`/`osward`, NSPL `laua`/`ward`, newer `lad25cd`/`wd25cd`).
ONS_OPTIONAL = {
    "nhs_area": ("sicbl", "icb", "ccg"),
    "district": ("oslaua", "laua", "lad"),
    "ward": ("osward", "ward", "wd"),
}
ONS_NO_LOCATION_LAT = 99.0  # ONS writes 99.999999 / 0.000000 where a postcode has no location

TOWNS_COLUMNS = ("postcode", "latitude", "longitude", "town", "country")
TOWNS_COUNTRY = {
    "ENG": "England",
    "SCT": "Scotland",
    "WLS": "Wales",
    "NIR": "Northern Ireland",
    "GG": "Channel Islands",
    "JE": "Channel Islands",
    "IM": "Isle of Man",
}


@dataclass(frozen=True)
class ImportReport:
    source: str
    postcodes: int
    with_location: int
    terminated: int
    sectors: int
    outcodes: int
    area_check: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [*self._lines(), *self.notes]

    def _lines(self) -> list[str]:
        return [
            f"Imported {self.postcodes:,} postcodes from {self.source}",
            f"  {self.with_location:,} with a location, {self.postcodes - self.with_location:,} without",
            f"  {self.terminated:,} terminated (kept and marked)",
            f"  {self.sectors:,} sectors and {self.outcodes:,} outcodes with centroids",
            *(f"  {line}" for line in self.area_check),
        ]


# Great Britain, Northern Ireland, the Channel Islands and the Isle of Man lie inside these.
UK_LAT = (49.0, 61.5)
UK_LON = (-8.9, 2.5)
OSGB_EAST = (0, 700_000)
OSGB_NORTH = (0, 1_300_000)


def import_postcodes(
    path: Path, *, directory: Path | None = None, max_shrink: float | None = MAX_SHRINK
) -> ImportReport:
    """Detect the format of `path`, build the tables and publish them atomically.

    `max_shrink`: refuse a file that holds fewer than (1 - max_shrink) of the postcodes held now
    (None: no check; the refresh job applies its own --max-shrink)."""
    path = guard.open_source(path)
    try:
        frame, source = _read_any(path)
    except UnicodeDecodeError as error:
        raise SourceFormatError(
            f"{path.name}: not UTF-8 text ({error.reason}); not a postcode file"
        ) from None
    current = (directory or store.data_dir()) / POSTCODES_FILE
    held = pq.ParquetFile(current).metadata.num_rows if current.exists() else 0
    shrink_line = refuse_shrink(source, "postcodes", len(frame), held, max_shrink)
    report = publish_postcode_frame(
        frame, source, directory=directory, source_sha256=guard.source_checksums([path])
    )
    return replace(report, notes=(shrink_line,) if shrink_line else ())


def _read_any(path: Path) -> tuple[pd.DataFrame, str]:
    if guard.is_zip(path):
        with guard.zip_members(path, guard.POSTCODE_LIMITS) as archive:
            names = archive.names()
            if CODEPOINT_HEADERS_MEMBER in names:
                return _read_codepoint_zip(archive), f"OS Code-Point Open ({path.name})"
            csvs = [n for n in names if n.lower().endswith(".csv")]
            if len(csvs) == 1:
                with archive.open(csvs[0]) as handle:
                    return _read_ons(
                        io.TextIOWrapper(handle, "utf-8-sig", newline=""), path
                    ), f"ONS postcode directory ({path.name})"
            raise SourceFormatError(
                f"{path.name}: a zip but neither Code-Point Open (no {CODEPOINT_HEADERS_MEMBER}) "
                "nor an ONS directory with a single CSV"
            )
    with guard.open_stream(path, guard.POSTCODE_LIMITS) as handle:
        first = handle.readline(4096).decode("utf-8-sig")
    if "pcds" in first.lower():
        with guard.open_stream(path, guard.POSTCODE_LIMITS) as handle:
            return _read_ons(io.TextIOWrapper(handle, "utf-8-sig", newline=""), path), (
                f"ONS postcode directory ({path.name})"
            )
    if first.startswith('"') and POSTCODE_SHAPE.match(first.split(",")[0].strip('"')):
        # A single Code-Point area CSV (no header): the published column order is assumed and
        # every row is still checked for shape below.
        with guard.open_stream(path, guard.POSTCODE_LIMITS) as handle:
            return _read_codepoint_csvs(
                [handle], CODEPOINT_DEFAULT_ORDER
            ), f"OS Code-Point Open ({path.name})"
    raise SourceFormatError(
        f"{path.name}: not a recognised postcode file. Expected the Code-Point Open zip, a Code-Point "
        "area CSV, or an ONS Postcode Directory / NSPL CSV with a 'pcds' column."
    )


CODEPOINT_DEFAULT_ORDER = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
)


def _read_codepoint_zip(archive: guard.ZipSource) -> pd.DataFrame:
    header_text = archive.read(CODEPOINT_HEADERS_MEMBER, final_newline=False).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(header_text)))
    # The file has two lines: short codes (PC,PQ,...) and long names; the long names are used.
    names = next((r for r in rows if "Postcode" in r), None)
    if names is None or any(col not in names for col in CODEPOINT_COLUMNS):
        raise SourceFormatError(
            f"Code-Point Open column headers changed: expected {', '.join(CODEPOINT_COLUMNS)} "
            f"in {CODEPOINT_HEADERS_MEMBER}, found {rows}"
        )
    members = sorted(n for n in archive.names() if n.startswith("Data/CSV/") and n.endswith(".csv"))
    if not members:
        raise SourceFormatError("Code-Point Open zip has no Data/CSV/*.csv files")

    def streams():
        for member in members:  # one member open at a time, streamed into pandas
            with archive.open(member) as stream:
                yield stream

    return _read_codepoint_csvs(streams(), tuple(names))


def _read_codepoint_csvs(streams: Iterable, names: tuple[str, ...]) -> pd.DataFrame:
    wanted = list(CODEPOINT_COLUMNS)
    frames = []
    for stream in streams:
        part = pd.read_csv(
            stream,
            header=None,
            names=list(names),
            usecols=wanted,
            dtype={"Postcode": str, "Country_code": str, "Admin_district_code": str, "Admin_ward_code": str},
            keep_default_na=False,
        )
        # Districts and wards repeat across thousands of rows: categories keep the import small.
        for col in ("Admin_district_code", "Admin_ward_code"):
            part[col] = part[col].astype("category")
        frames.append(part)
    districts = union_categoricals([f["Admin_district_code"] for f in frames])
    wards = union_categoricals([f["Admin_ward_code"] for f in frames])
    raw = pd.concat(
        [f.drop(columns=["Admin_district_code", "Admin_ward_code"]) for f in frames], ignore_index=True
    )
    if len(raw.columns) != len(wanted) - 2:
        raise SourceFormatError("Code-Point Open rows do not have the documented columns")
    for col in ("Positional_quality_indicator", "Eastings", "Northings"):
        if not pd.api.types.is_integer_dtype(raw[col]):
            bad = raw[pd.to_numeric(raw[col], errors="coerce").isna()].head(1)
            postcode, value = (str(bad.iloc[0][c])[:30] for c in ("Postcode", col))
            raise SourceFormatError(
                f"Code-Point Open column {col} is not numeric (first bad row: postcode {postcode!r}, "
                f"{col} {value!r}); the file layout may have changed"
            )
    postcodes = raw["Postcode"].str.upper().str.strip()
    _check_shapes(postcodes, "Code-Point Open")
    has_location = raw["Positional_quality_indicator"] != NO_LOCATION_QUALITY
    outside = has_location & ~(raw["Eastings"].between(*OSGB_EAST) & raw["Northings"].between(*OSGB_NORTH))
    if outside.any():
        first = raw[outside].iloc[0]
        raise SourceFormatError(
            f"Code-Point Open: {int(outside.sum()):,} rows have eastings/northings outside Great Britain "
            f"(first: {first['Postcode']} {first['Eastings']} {first['Northings']}); the layout may have changed"
        )
    from convertbng.cutil import convert_lonlat

    lon, lat = convert_lonlat(
        raw["Eastings"].to_numpy(dtype=np.float64), raw["Northings"].to_numpy(dtype=np.float64)
    )
    lat = np.where(has_location, lat, np.nan)
    lon = np.where(has_location, lon, np.nan)
    unknown = sorted(set(raw["Country_code"]) - set(GSS_COUNTRY))
    if unknown:
        raise SourceFormatError(f"Code-Point Open has unknown country codes {unknown[:5]}")
    return pd.DataFrame(
        {
            "postcode": _spaced(postcodes),
            "lat": lat,
            "lon": lon,
            "country": raw["Country_code"].map(GSS_COUNTRY),
            "terminated": False,
            "nhs_area": None,
            "district": pd.Categorical(districts),
            "ward": pd.Categorical(wards),
        }
    )


def _spaced(postcodes: pd.Series) -> pd.Series:
    compact = postcodes.str.replace(" ", "", regex=False)
    return compact.str[:-3] + " " + compact.str[-3:]


def _check_shapes(postcodes: pd.Series, label: str) -> None:
    bad = postcodes[~postcodes.str.match(POSTCODE_SHAPE.pattern)]
    if len(bad):
        raise SourceFormatError(
            f"{label}: {len(bad):,} rows are not postcodes (first: {bad.iloc[0]!r}); "
            "the file layout may have changed"
        )


def _column_matches(name: str, prefix: str) -> bool:
    """ONS names a column by its prefix, optionally with a vintage year and `cd` (ctry, ctry25cd)."""
    return re.fullmatch(rf"{prefix}(\d*cd|\d*)", name.lower()) is not None


def find_column(header: list[str], prefixes: tuple[str, ...]) -> str | None:
    for prefix in prefixes:
        for name in header:
            if _column_matches(name, prefix):
                return name
    return None


_ONS_PREFIXES = tuple(p for group in (*ONS_COLUMNS.values(), *ONS_OPTIONAL.values()) for p in group)


def _read_ons(handle, path: Path) -> pd.DataFrame:
    # A full ONSPD has 50+ columns and 2.7M rows: read only the ones used.
    raw = pd.read_csv(
        handle,
        dtype=str,
        keep_default_na=False,
        usecols=lambda name: any(_column_matches(name, p) for p in _ONS_PREFIXES),
    )
    header = list(raw.columns)
    columns = {}
    for logical, prefixes in ONS_COLUMNS.items():
        found = find_column(header, prefixes)
        if found is None:
            raise SourceFormatError(
                f"{path.name}: no column for {logical} (looked for {', '.join(p + '*' for p in prefixes)}); "
                f"header is {', '.join(header[:12])}..."
            )
        columns[logical] = found
    area = find_column(header, ONS_OPTIONAL["nhs_area"])
    postcodes = raw[columns["postcode"]].str.upper().str.strip()
    _check_shapes(postcodes, path.name)
    lat = pd.to_numeric(raw[columns["lat"]], errors="coerce")
    lon = pd.to_numeric(raw[columns["lon"]], errors="coerce")
    # 99.999999/0.000000 means no location; anything else outside the UK is not a position either.
    no_location = lat.isna() | lon.isna() | (lat >= ONS_NO_LOCATION_LAT)
    no_location |= ~(lat.between(*UK_LAT) & lon.between(*UK_LON))
    country = raw[columns["country"]].map(GSS_COUNTRY)
    # Some terminated rows carry no country: infer the nation from the postcode area, else Unknown.
    area_letters = postcodes.str.extract(r"^([A-Z]+)")[0]
    by_area = area_letters.map(NATION_BY_AREA)
    country = country.fillna(by_area).fillna("Unknown")
    nhs_area = raw[area].replace({"": None}) if area else None
    district = find_column(header, ONS_OPTIONAL["district"])
    ward = find_column(header, ONS_OPTIONAL["ward"])
    return pd.DataFrame(
        {
            "postcode": _spaced(postcodes),
            "lat": lat.where(~no_location).to_numpy(dtype=np.float64),
            "lon": lon.where(~no_location).to_numpy(dtype=np.float64),
            "country": country,
            "terminated": raw[columns["terminated"]].str.strip() != "",
            "nhs_area": nhs_area,
            "district": raw[district].astype("category") if district else None,
            "ward": raw[ward].astype("category") if ward else None,
        }
    )


@dataclass(frozen=True, kw_only=True)
class _PostcodeColumns:
    """The postcode frame as sorted, de-duplicated numpy columns keyed by integer postcode keys."""

    keys: np.ndarray
    compact: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    country: np.ndarray
    terminated: np.ndarray
    nhs_area: np.ndarray
    district: np.ndarray
    district_codes: list[str]
    ward: np.ndarray
    ward_codes: list[str]

    @property
    def has_location(self) -> np.ndarray:
        return ~np.isnan(self.lat)


def publish_postcode_frame(
    frame: pd.DataFrame,
    source: str,
    *,
    directory: Path | None = None,
    source_sha256: dict[str, str] | None = None,
) -> ImportReport:
    """Sort, key and publish the postcode table with its sector and outcode centroids.

    Works on numpy arrays keyed by integer postcode keys rather than on string columns: the
    1.7M-row Code-Point import stays well under a gigabyte.
    """
    if frame.empty:
        raise SourceFormatError(f"{source}: no postcodes in the file")
    columns = _postcode_columns(frame)
    del frame
    imported_at = datetime.now(UTC).strftime("%Y-%m-%d")
    sectors, outcodes = _centroids(columns)
    files = {
        POSTCODES_FILE: _parquet_bytes(_postcode_table(columns, source, imported_at)),
        SECTORS_FILE: _parquet_bytes(pa.Table.from_pandas(sectors, preserve_index=False)),
        OUTCODES_FILE: _parquet_bytes(pa.Table.from_pandas(outcodes, preserve_index=False)),
    }
    report = ImportReport(
        source,
        len(columns.keys),
        int(columns.has_location.sum()),
        int(columns.terminated.sum()),
        len(sectors),
        len(outcodes),
        _check_area_codes(
            columns.district,
            columns.district_codes,
            columns.ward,
            columns.ward_codes,
            columns.country,
            directory,
        ),
    )
    files[MANIFEST_FILE] = store.update_manifest(
        "postcodes", _manifest_entry(report, imported_at, source_sha256), directory
    )
    expected_rows = len(columns.keys)

    def validate(temps: Mapping[str, Path]) -> None:
        check = pq.read_table(temps[POSTCODES_FILE])
        if check.num_rows != expected_rows or not np.all(np.diff(check.column("key").to_numpy()) > 0):
            raise SourceFormatError("postcode table failed validation after writing; nothing replaced")

    store.publish(files, validate=validate, directory=directory)
    return report


def _postcode_columns(frame: pd.DataFrame) -> _PostcodeColumns:
    compact = np.char.replace(frame["postcode"].to_numpy(dtype="S8"), b" ", b"").astype("S7")
    all_keys = encode_keys(compact)
    # Sorted unique keys; a postcode listed twice keeps its first row.
    keys, first_rows = np.unique(all_keys, return_index=True)
    district, district_codes = _small_codes(frame.get("district"), first_rows)
    ward, ward_codes = _small_codes(frame.get("ward"), first_rows)
    return _PostcodeColumns(
        keys=keys,
        compact=compact[first_rows],
        lat=frame["lat"].to_numpy(dtype=np.float64)[first_rows],
        lon=frame["lon"].to_numpy(dtype=np.float64)[first_rows],
        country=(
            frame["country"]
            .map({c: i for i, c in enumerate(COUNTRIES)})
            .fillna(0)
            .to_numpy(dtype=np.int8)[first_rows]
        ),
        terminated=frame["terminated"].to_numpy(dtype=bool)[first_rows],
        nhs_area=frame["nhs_area"].to_numpy(dtype=object)[first_rows],
        district=district,
        district_codes=district_codes,
        ward=ward,
        ward_codes=ward_codes,
    )


def _postcode_table(columns: _PostcodeColumns, source: str, imported_at: str) -> pa.Table:
    has_location = columns.has_location
    lat_e6 = np.where(has_location, np.round(np.nan_to_num(columns.lat) * 1e6), MISSING_E6).astype(np.int32)
    lon_e6 = np.where(has_location, np.round(np.nan_to_num(columns.lon) * 1e6), MISSING_E6).astype(np.int32)
    return pa.table(
        {
            "key": pa.array(columns.keys, pa.int64()),
            "lat_e6": pa.array(lat_e6, pa.int32()),
            "lon_e6": pa.array(lon_e6, pa.int32()),
            "country": pa.array(columns.country, pa.int8()),
            "terminated": pa.array(columns.terminated),
            "nhs_area": _nhs_area_column(columns.nhs_area),
            "district": pa.array(columns.district),
            "ward": pa.array(columns.ward),
        }
    ).replace_schema_metadata(
        _table_metadata(source, imported_at, columns.district_codes, columns.ward_codes)
    )


def _centroids(columns: _PostcodeColumns) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sector and outcode centroid tables. Centroids come from live postcodes with a location only."""
    live = ~columns.terminated & columns.has_location
    codes = np.frombuffer(columns.compact[live].tobytes(), dtype=np.uint8).reshape(-1, 7)
    lat, lon, country = columns.lat[live], columns.lon[live], columns.country[live]
    sectors = _centroid_table(_prefix_keys(codes, drop=2), lat, lon, country, "sector")
    outcodes = _centroid_table(_prefix_keys(codes, drop=3), lat, lon, country, "outcode")
    return sectors, outcodes


def _table_metadata(source: str, imported_at: str, district_codes: list, ward_codes: list) -> dict:
    # The GSS codes the small integer district and ward columns index (0 = none).
    return {
        "source": source,
        "imported_at": imported_at,
        "districts": json.dumps(district_codes),
        "wards": json.dumps(ward_codes),
    }


def _nhs_area_column(nhs_area: np.ndarray) -> pa.Array:
    if pd.isna(nhs_area).all():  # Code-Point has no NHS areas
        return pa.nulls(len(nhs_area), pa.string()).dictionary_encode()
    values = nhs_area.astype(object)  # a copy: the missing become None, not the string "nan"
    values[pd.isna(nhs_area)] = None
    return pa.array(values, pa.string()).dictionary_encode()


def _manifest_entry(report: ImportReport, imported_at: str, source_sha256: dict[str, str] | None) -> dict:
    return {
        "source_sha256": source_sha256 or {},
        "source": report.source,
        "imported_at": imported_at,
        "postcodes": report.postcodes,
        "with_location": report.with_location,
        "terminated": report.terminated,
        "licence": "Open Government Licence v3.0",
        "attribution": [
            "Contains OS data © Crown copyright and database right 2025",
            "Contains Royal Mail data © Royal Mail copyright and database right 2025",
            "Contains National Statistics data © Crown copyright and database right 2025",
        ],
    }


def _check_area_codes(
    district: np.ndarray,
    district_codes: list[str],
    ward: np.ndarray,
    ward_codes: list[str],
    country,
    directory,
) -> tuple[str, ...]:
    """How the postcodes' district and ward codes meet the area tables (when imported): codes the
    tables do not know mean no area, so they are counted and said, never guessed."""
    path = (directory or store.data_dir()) / AREAS_FILE
    if not path.exists():
        return ("area tables not imported yet: run `import areas` to check district codes",)
    tables = AreaTables(json.loads(path.read_text(encoding="utf-8")))
    english = country == COUNTRIES.index("England")
    known = np.array([bool(c) and tables.canonical(c) is not None for c in district_codes])
    older = np.array(
        [bool(c) and c not in tables.districts and known[i] for i, c in enumerate(district_codes)]
    )
    split = np.array([known[i] and tables.is_split(c) for i, c in enumerate(district_codes)])
    ward_known = np.array([c in tables.wards for c in ward_codes])
    lines = [
        f"{int((english & (district == 0)).sum()):,} English postcodes without a district code "
        "(their sector's area is used)",
        f"{int((english & (district != 0) & ~known[district]).sum()):,} English postcodes with a district "
        "code the area tables do not know (no area)",
        f"{int((english & older[district]).sum()):,} with an older district code mapped to its 2024 district",
        f"{int((english & split[district] & ~ward_known[ward]).sum()):,} in split districts with a ward the "
        "area tables do not know (both sub-ICBs kept as candidates)",
    ]
    return tuple(lines)


def _small_codes(column: pd.Series | None, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A district or ward column as small integers into its list of codes (index 0 = none): a
    postcode's district costs two bytes instead of a nine-character string."""
    if column is None:
        return np.zeros(len(rows), dtype=np.int16), [""]
    categorical = pd.Categorical(column)
    names = ["", *(str(c).strip() for c in categorical.categories)]
    if len(names) > np.iinfo(np.int16).max:
        raise SourceFormatError(f"{len(names):,} district or ward codes: more than this table can index")
    codes = categorical.codes.astype(np.int32)[rows] + 1  # -1 (missing) becomes 0
    blank = np.array([i for i, name in enumerate(names) if not name], dtype=np.int32)
    codes[np.isin(codes, blank)] = 0
    return codes.astype(np.int16), names


def _prefix_keys(codes: np.ndarray, drop: int) -> np.ndarray:
    """Keys of each postcode's first characters, without its last `drop` characters (3 gives the
    outcode, 2 the sector), from the (n, 7) byte matrix of compact postcodes."""
    lengths = (codes != 0).sum(axis=1)
    keep = np.arange(codes.shape[1]) < (lengths - drop)[:, None]
    return encode_keys(np.where(keep, codes, 0).astype(np.uint8).view("S7").ravel())


def _centroid_table(
    group_keys: np.ndarray, lat: np.ndarray, lon: np.ndarray, country: np.ndarray, label: str
) -> pd.DataFrame:
    """Mean position of a sector's or outcode's live postcodes, its majority country, the share of
    its postcodes in England and whether it straddles a border (25 outcodes do)."""
    unique, group = np.unique(group_keys, return_inverse=True)
    n_groups = len(unique)
    counts = np.bincount(group, minlength=n_groups)
    by_country = np.bincount(group * len(COUNTRIES) + country, minlength=n_groups * len(COUNTRIES))
    by_country = by_country.reshape(n_groups, len(COUNTRIES))
    england = COUNTRIES.index("England")
    names = [decode_compact(int(k)) for k in unique]
    if label == "sector":
        names = [f"{n[:-1]} {n[-1]}" for n in names]
    return pd.DataFrame(
        {
            label: names,
            "lat": np.round(np.bincount(group, weights=lat, minlength=n_groups) / counts, 6),
            "lon": np.round(np.bincount(group, weights=lon, minlength=n_groups) / counts, 6),
            "postcodes": counts,
            "share_england": np.round(by_country[:, england] / counts, 4),
            "country": [COUNTRIES[i] for i in by_country.argmax(axis=1)],
            "mixed_country": (by_country > 0).sum(axis=1) > 1,
        }
    )


def _same_name_elsewhere(named: pd.DataFrame, best_region: pd.Series) -> dict[str, str]:
    """Names that another place shares closely enough that we must ask which one is meant: the
    other place has at least half as many outcodes, or the largest is outside England while
    another is in England (sending someone to the wrong nation's route would mislead them)."""
    groups = named.groupby(["place_key", "region"]).agg(
        size=("group_size", "first"), country=("country", "first"), name=("name", "first")
    )
    result = {}
    for key, places in groups.groupby(level="place_key"):
        if len(places) < 2:
            continue
        places = places.droplevel("place_key").sort_values("size", ascending=False)
        best = places.loc[best_region[key]]
        rivals = places.drop(index=best_region[key])
        close = rivals[
            (rivals["size"] * 2 >= best["size"]) | ((best["country"] != "ENG") & (rivals["country"] == "ENG"))
        ]
        if len(close):
            listed = [f"{best['name']} ({best_region[key]})"] + [
                f"{r['name']} ({region})" for region, r in close.iterrows()
            ]
            result[key] = "; ".join(listed)
    return result


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _place_row(key: str, group: pd.DataFrame, outcodes: pd.DataFrame, same_name: str, qualified_of: str = ""):
    """One town: the centroid of its outcodes' centroids where we hold them, else the list's own
    approximate position; None when neither gives a position in the UK."""
    town = group["name"].iloc[0]
    known = outcodes.reindex(group["postcode"].unique()).dropna(subset=["lat"])
    if len(known):
        lat, lon = known["lat"].mean(), known["lon"].mean()
        countries = known["country"]
        share = float((countries == "England").mean())
        country = countries.value_counts().index[0]
        mixed = countries.nunique() > 1
        source = "outcode centroids of OS Code-Point Open; town names from outcodes_towns (CC0)"
    else:
        lat = pd.to_numeric(group["latitude"], errors="coerce").mean()
        lon = pd.to_numeric(group["longitude"], errors="coerce").mean()
        mapped = group["country"].map(TOWNS_COUNTRY).dropna()
        if (
            pd.isna(lat)
            or mapped.empty
            or not (UK_LAT[0] <= lat <= UK_LAT[1] and UK_LON[0] <= lon <= UK_LON[1])
        ):
            return None
        country = mapped.value_counts().index[0]
        share = float((mapped == "England").mean())
        mixed = mapped.nunique() > 1
        source = "outcodes_towns (CC0), approximate"
    return {
        "place_key": key,
        "name": town,
        "lat": round(float(lat), 6),
        "lon": round(float(lon), 6),
        "country": country,
        "share_england": round(share, 4),
        "mixed_country": bool(mixed),
        "outcodes": " ".join(sorted(group["postcode"].unique())),
        "same_name_elsewhere": same_name,
        "source": source,
        "qualified_of": qualified_of,
    }


def import_towns(path: Path, *, directory: Path | None = None, max_shrink: float | None = MAX_SHRINK) -> int:
    """Town names for offline place search, from the CC0 outcode-towns list.

    A town's position is the centroid of its outcodes' centroids from our own postcode tables
    where we have them (more accurate and current), else the list's approximate coordinates.
    """
    path = guard.open_source(path)
    rows = _read_towns(path)
    directory = directory or store.data_dir()
    outcodes = pq.read_table(directory / OUTCODES_FILE).to_pandas().set_index("outcode")
    places = towns_to_places(rows, outcodes)
    if places.empty:
        raise SourceFormatError(f"{path.name}: no towns found")
    return _publish_places(path, places, directory, max_shrink)


def _read_towns(path: Path) -> list[dict[str, str]]:
    """The towns list's rows, every cell text; its header checked."""
    if guard.is_zip(path):
        raise SourceFormatError(f"{path.name}: a zip; the towns list is a CSV file (unpack it first)")
    text = decode_text(guard.read_source_bytes(path, guard.TOWN_LIMITS), path.name)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise SourceFormatError(f"{path.name}: empty file (no header)") from None
    except pd.errors.ParserError as error:
        raise SourceFormatError(f"{path.name}: not a readable CSV ({str(error)[:120]})") from None
    missing = [c for c in TOWNS_COLUMNS if c not in raw.columns]
    if missing:
        raise SourceFormatError(f"{path.name}: missing columns {missing}; header is {list(raw.columns)}")
    return [{str(k): v for k, v in row.items()} for row in raw.to_dict("records")]


def towns_to_places(rows: Iterable[Mapping[str, str]], outcodes: pd.DataFrame) -> pd.DataFrame:
    """The place table (one row per searchable name) from the towns list's rows and our outcode
    centroids (indexed by outcode). Pure: reads and writes nothing. Empty when no row names a
    place in the UK."""
    # A name can be a town ("Harewood"), a list of districts ("Gorgie, Stenhouse and Sighthill")
    # or the local authority in `region` ("Leeds"). Names shared by several places ("Leeds" in
    # Kent and West Yorkshire, 17 "Norton"s) resolve to the one with the most outcodes.
    names = []
    for record in rows:
        parts = [*re.split(r",| and ", record["town"]), record["region"]]
        for part in {p.strip() for p in parts if p.strip()}:
            names.append({**record, "name": part})
    if not names:
        return pd.DataFrame()
    named = pd.DataFrame(names)
    named["place_key"] = named["name"].map(place_key)
    named = named[named["place_key"] != ""]
    sizes = named.groupby(["place_key", "region"])["postcode"].transform("nunique")
    named = named.assign(group_size=sizes).sort_values(["place_key", "group_size"], ascending=[True, False])
    best_region = named.groupby("place_key")["region"].first()
    others = _same_name_elsewhere(named, best_region)
    # Each of the places that share a name is also kept under "<name>, <county>" ("St Ives,
    # Cornwall"), so a person can say which one they mean; `qualified_of` marks these rows so a
    # plain search for the name does not list them twice.
    rivals = named[named["place_key"].isin(others)]
    named = named[named["region"] == named["place_key"].map(best_region)]
    places = [
        _place_row(key, group, outcodes, others.get(key, "")) for key, group in named.groupby("place_key")
    ]
    for (key, region), group in rivals.groupby(["place_key", "region"]):
        name = f"{group['name'].iloc[0]}, {region}"
        places.append(_place_row(place_key(name), group.assign(name=name), outcodes, "", qualified_of=key))
    found = [place for place in places if place is not None]
    if not found:
        return pd.DataFrame()
    return pd.DataFrame(found).drop_duplicates("place_key")


def _publish_places(path: Path, places: pd.DataFrame, directory: Path, max_shrink: float | None) -> int:
    held_path = directory / PLACES_FILE
    held = pq.ParquetFile(held_path).metadata.num_rows if held_path.exists() else 0
    shrink_line = refuse_shrink(path.name, "towns", len(places), held, max_shrink)
    if shrink_line:
        print(shrink_line.strip(), file=sys.stderr)  # the count is the return value: say it here
    files = {PLACES_FILE: _parquet_bytes(pa.Table.from_pandas(places, preserve_index=False))}
    files[MANIFEST_FILE] = store.update_manifest(
        "places",
        {
            "source": path.name,
            "towns": len(places),
            "licence": "CC0 1.0 (names); positions from OS Code-Point Open",
            "source_sha256": guard.source_checksums([path]),
        },
        directory,
    )
    store.publish(files, directory=directory)
    return len(places)
