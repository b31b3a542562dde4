"""The embedded postcode tables: full postcodes as integer keys in one sorted array (a look-up is
a binary search with no per-postcode Python objects: 1.7M postcodes in about 25 MB), and the
sector, outcode and town centroids, loaded once and reloaded when a publish replaces them.
"""

from __future__ import annotations

import bisect
import json
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from finder import store
from finder.errors import PostcodeError
from finder.schema import OUTCODES_FILE, PLACES_FILE, POSTCODES_FILE, SECTORS_FILE

MISSING_E6 = np.iinfo(np.int32).min  # a postcode row with no coordinates (Code-Point quality 90)

# Postcode characters encoded base 37 (0 = padding), 7 characters without the space: the integer
# order equals the alphabetical order, so the table is sorted once at import.
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CHAR_VALUE = {c: i + 1 for i, c in enumerate(_ALPHABET)}
_BASE = 37
_WIDTH = 7


def encode_key(compact: str) -> int:
    """Integer key of a postcode written without its space (at most 7 characters)."""
    key = 0
    for ch in compact:
        key = key * _BASE + _CHAR_VALUE[ch]
    return key * _BASE ** (_WIDTH - len(compact))


def encode_keys(compacts: np.ndarray) -> np.ndarray:
    """Vectorised `encode_key` for an array of compact postcodes (numpy bytes 'S7')."""
    codes = np.frombuffer(np.asarray(compacts, dtype="S7").tobytes(), dtype=np.uint8)
    codes = codes.reshape(-1, _WIDTH).astype(np.int64)
    values = np.zeros_like(codes)
    digits = (codes >= ord("0")) & (codes <= ord("9"))
    letters = (codes >= ord("A")) & (codes <= ord("Z"))
    values[digits] = codes[digits] - ord("0") + 1
    values[letters] = codes[letters] - ord("A") + 11
    weights = _BASE ** np.arange(_WIDTH - 1, -1, -1, dtype=np.int64)
    return values @ weights


def decode_compact(key: int) -> str:
    """The characters an integer key encodes, without padding (a postcode, sector or outcode)."""
    chars = []
    for _ in range(_WIDTH):
        key, value = divmod(key, _BASE)
        if value:
            chars.append(_ALPHABET[value - 1])
    return "".join(reversed(chars))


def decode_key(key: int) -> str:
    """The full postcode an integer key encodes, written with its space."""
    compact = decode_compact(key)
    return f"{compact[:-3]} {compact[-3:]}"


class PostcodeTables:
    """The embedded postcode tables, loaded once (about 0.1 s, 40 MB)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._last_found: tuple[str | None, int | None] = (None, None)
        # Column by column, and only the columns used: the peak while loading stays near the
        # size of the arrays kept (about 45 MB) instead of twice it.
        source = pq.ParquetFile(directory / POSTCODES_FILE)
        names = source.schema_arrow.names
        metadata = source.schema_arrow.metadata or {}

        def column(name: str) -> np.ndarray:
            return _numpy_column(source.read(columns=[name]).column(0))

        self.keys = column("key")
        self.lat_e6 = column("lat_e6")
        self.lon_e6 = column("lon_e6")
        self.country = column("country")
        self.terminated = column("terminated")
        self.source = metadata.get(b"source", b"").decode()
        # District and ward as small integers into these code lists (tables built before they
        # were kept have none: every postcode then has no area).
        self.district: np.ndarray | None = column("district") if "district" in names else None
        self.ward: np.ndarray | None = column("ward") if "ward" in names else None
        self.district_codes = json.loads(metadata.get(b"districts", b'[""]'))
        self.ward_codes = json.loads(metadata.get(b"wards", b'[""]'))
        self.sectors = _centroids(directory / SECTORS_FILE, "sector")
        self.outcodes = _centroids(directory / OUTCODES_FILE, "outcode")
        places_path = directory / PLACES_FILE
        self.places = _centroids(places_path, "place_key") if places_path.exists() else {}

    def __len__(self) -> int:
        return len(self.keys)

    @cached_property
    def _place_keys(self) -> list[str]:
        return sorted(self.places)

    @cached_property
    def place_variants(self) -> dict[str, list[dict]]:
        """The "<name>, <county>" rows kept for a name several places share, by that name's key."""
        by_key: dict[str, list[dict]] = {}
        for row in self.places.values():
            if row.get("qualified_of"):
                by_key.setdefault(row["qualified_of"], []).append(row)
        return by_key

    @cached_property
    def place_names(self) -> dict[str, dict]:
        """Each place under its own name (not the "<name>, <county>" variants)."""
        return {str(row["name"]): row for row in self.places.values() if not row.get("qualified_of")}

    def places_starting_with(self, key: str) -> list[str]:
        """Place keys that begin with `key`, in alphabetical order."""
        start = bisect.bisect_left(self._place_keys, key)
        found = []
        for candidate in self._place_keys[start:]:
            if not candidate.startswith(key):
                break
            found.append(candidate)
        return found

    def find(self, compact: str) -> int | None:
        last = self._last_found  # a lookup finds its postcode twice: for the position, then the area
        if last[0] == compact:
            return last[1]
        key = encode_key(compact)
        i = int(self.keys.searchsorted(key))
        found = i if i < len(self.keys) and int(self.keys[i]) == key else None
        self._last_found = (compact, found)
        return found


_INTEGER_TYPES = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64}


def _numpy_column(column) -> np.ndarray:
    """An Arrow column of integers or booleans without nulls as a NumPy array, read from its
    buffers: pyarrow's own to_numpy imports pandas, which alone cost a search from the command
    line half a second. Any other column goes through pyarrow."""
    kind = str(column.type)
    if column.null_count or (kind not in _INTEGER_TYPES and kind != "bool"):
        return column.to_numpy()
    parts = []
    for chunk in column.chunks:
        data = chunk.buffers()[1]
        if kind == "bool":
            bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
            parts.append(bits[chunk.offset : chunk.offset + len(chunk)].astype(bool))
        else:
            dtype = np.dtype(_INTEGER_TYPES[kind])
            parts.append(
                np.frombuffer(data, dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)
            )
    return np.concatenate(parts) if parts else np.zeros(0, dtype=_INTEGER_TYPES.get(kind, bool))


def _centroids(path: Path, key_column: str) -> dict[str, dict]:
    # Straight from Arrow to rows (ParquetFile, not read_table, whose dataset layer imports
    # pandas): pandas cost a search from the command line half a second for three small tables.
    return {row[key_column]: row for row in pq.ParquetFile(path).read().to_pylist()}


def _load_tables(directory: Path) -> PostcodeTables:
    if not (directory / POSTCODES_FILE).exists():
        raise PostcodeError(
            "The postcode tables are missing from data/; build them with "
            "`python -m finder import postcodes PATH`.",
            "no_data",
        )
    return PostcodeTables(directory)


# Reloaded when a publish replaces one of the postcode files (store.data_version).
_tables = store.DataCache((POSTCODES_FILE, SECTORS_FILE, OUTCODES_FILE, PLACES_FILE), _load_tables)


def tables(*, version: tuple | None = None) -> PostcodeTables:
    """The loaded tables, reloaded when the postcode tables in `data/` are replaced. `version`:
    store.data_version() as the caller just asked it (one check of data/ per search)."""
    return _tables.get(version=version)
