"""Mapping the postcode frame to the tables data/ holds (pure: reads and writes nothing): sorted,
de-duplicated numpy columns keyed by integer postcode keys, the parquet table's columns, and the
sector and outcode centroids. Working on numpy arrays rather than on string columns keeps the
1.7M-row Code-Point import well under a gigabyte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from finder.errors import SourceFormatError
from finder.postcodes import COUNTRIES, MISSING_E6, decode_compact, encode_keys


@dataclass(frozen=True, kw_only=True)
class PostcodeColumns:
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


def postcode_columns(frame: pd.DataFrame) -> PostcodeColumns:
    compact = np.char.replace(frame["postcode"].to_numpy(dtype="S8"), b" ", b"").astype("S7")
    all_keys = encode_keys(compact)
    # Sorted unique keys; a postcode listed twice keeps its first row.
    keys, first_rows = np.unique(all_keys, return_index=True)
    district, district_codes = _small_codes(frame.get("district"), first_rows)
    ward, ward_codes = _small_codes(frame.get("ward"), first_rows)
    return PostcodeColumns(
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


def postcode_table(columns: PostcodeColumns, source: str, imported_at: str) -> pa.Table:
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


def centroids(columns: PostcodeColumns) -> tuple[pd.DataFrame, pd.DataFrame]:
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
