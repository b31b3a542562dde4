"""Reading the postcode sources into one postcode frame (postcode, WGS84 position, country,
terminated, NHS area, district, ward), and the towns list into rows.

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
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from finder.errors import SourceFormatError
from finder.imports import guard
from finder.imports.tables import decode_text
from finder.postcodes import GSS_COUNTRY, NATION_BY_AREA

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

# Great Britain, Northern Ireland, the Channel Islands and the Isle of Man lie inside these.
UK_LAT = (49.0, 61.5)
UK_LON = (-8.9, 2.5)
OSGB_EAST = (0, 700_000)
OSGB_NORTH = (0, 1_300_000)


def read_postcodes(path: Path) -> tuple[pd.DataFrame, str]:
    """The postcode frame of `path` (format detected) and the name of its source, for reports."""
    try:
        return _read_any(path)
    except UnicodeDecodeError as error:
        raise SourceFormatError(
            f"{path.name}: not UTF-8 text ({error.reason}); not a postcode file"
        ) from None


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


def read_towns(path: Path) -> list[dict[str, str]]:
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
