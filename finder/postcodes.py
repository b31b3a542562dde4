"""UK postcodes: parsing, the embedded postcode tables, and offline lookup.

A query resolves, in order, to a full postcode, a sector centroid (`SW1A 1`), an outcode centroid
(`SW1A`) or a town, and every answer says how precise it is so the app can say "approximate".
Full postcodes are stored as integer keys in one sorted array, so a lookup is a binary search with
no per-postcode Python objects (1.7M postcodes in about 25 MB).
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from finder import areas, store
from finder.areas import Area
from finder.errors import PostcodeError
from finder.names import fold  # the one accent and case folding (also for therapists' names)
from finder.schema import OUTCODES_FILE, PLACES_FILE, POSTCODES_FILE, SECTORS_FILE

# Country names by index in the `country` column of the postcode table; GSS codes map onto them.
COUNTRIES = (
    "Unknown",
    "England",
    "Scotland",
    "Wales",
    "Northern Ireland",
    "Channel Islands",
    "Isle of Man",
)
GSS_COUNTRY = {
    "E92000001": "England",
    "S92000003": "Scotland",
    "W92000004": "Wales",
    "N92000002": "Northern Ireland",
    "L93000001": "Channel Islands",
    "M83000003": "Isle of Man",
}
# Areas whose postcodes are outside Code-Point Open (it covers Great Britain only): their nation
# is known from the postcode area alone, even where we hold no coordinates.
NATION_BY_AREA = {
    "BT": "Northern Ireland",
    "JE": "Channel Islands",
    "GY": "Channel Islands",
    "IM": "Isle of Man",
}
# Non-geographic postcodes: British Forces (BFPO), HMRC/DWP bulk mail (BX), and the GB outcodes
# that Code-Point lists without any coordinates (large users and PO boxes).
NON_GEOGRAPHIC_OUTCODES = frozenset({"BN91", "EH77", "EN77", "LS78", "PO24", "S94", "SR43", "TW98"})
NON_GEOGRAPHIC_AREAS = frozenset({"BX", "BF", "XM"})

OUTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
FULL_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
SECTOR_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9])$")
INWARD_RE = re.compile(r"[0-9][A-Z]{2}")
AREA_RE = re.compile(r"[A-Z]+")
# A full postcode written the usual way, with one space ("LS1 4AP", in capitals or not): most
# searches, read without the cleaning steps (they would leave it as it is).
WRITTEN_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9][A-Z]{2})")
SECTOR_DIGITS = frozenset("0123456789")  # the inward code of a sector: one ASCII digit
GIRO = "GIR0AA"
MAX_QUERY_LENGTH = 100

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


@dataclass(frozen=True)
class ParsedQuery:
    """The shape of what the user typed, before any table is consulted."""

    kind: str  # postcode | sector | outcode | place
    text: str  # normalised: "SW1A 1AA", "SW1A 1", "SW1A", or the place name as typed
    outcode: str = ""

    @property
    def area(self) -> str:
        letters = AREA_RE.match(self.outcode)
        return letters.group(0) if letters else ""


@dataclass(frozen=True)
class Location:
    """A resolved search point. `precision` is postcode, sector, outcode, place or nation."""

    query: str
    postcode: str
    kind: str
    lat: float | None
    lon: float | None
    country: str
    precision: str
    source: str
    terminated: bool = False
    share_in_england: float | None = None
    mixed_country: bool = False
    # Where the person is in NHS terms (England only): the one area when it is known, else every
    # candidate (a sector, outcode or town whose postcodes do not all agree).
    area: Area | None = None
    area_candidates: tuple[Area, ...] = ()

    @property
    def approximate(self) -> bool:
        return self.precision != "postcode"

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None

    def to_json(self) -> dict:
        values = {
            f: getattr(self, f) for f in self.__dataclass_fields__ if f not in ("area", "area_candidates")
        }
        values["area"] = self.area.to_json() if self.area else None
        values["area_candidates"] = [a.to_json() for a in self.area_candidates]
        return values


@dataclass(frozen=True, kw_only=True)
class OnlineFallback:
    """Online look-ups for what the embedded data lacks (a postcode newer than the release, a
    place not in the gazetteer); each answers None when it finds nothing. finder never fetches:
    the CLI injects scrapers' postcodes.io and Nominatim clients (finder.cli.live.online_fallback),
    as it injects the register checkers into finder.accreditation."""

    postcode: Callable[[str], Location | None]
    place: Callable[[str], Location | None]


# Characters a paste or a phone keyboard brings along that no one sees: a byte-order mark, a soft
# hyphen, zero-width spaces and joiners.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u00ad\u200b\u200c\u200d\u2060\u180e"), None)
# What people put around a postcode or a town: quotes, brackets, a full stop or a comma.
_AROUND = "\"'‘’“”«»().,;:!? "
_HYPHENATED_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?[-‐‑‒–—] ?([0-9][A-Z]{2})", re.IGNORECASE)


def clean_typed(text: str) -> str:
    """What was typed, as a postcode or a town: full-width letters and digits as ordinary ones,
    invisible characters dropped, quotes, brackets and a closing full stop taken off, "LS6-3QG"
    read as "LS6 3QG", and "LS6 3QG, Leeds" as its postcode (a comma-separated part that is a
    full postcode, when exactly one is)."""
    text = _tidy(unicodedata.normalize("NFKC", text).translate(_INVISIBLE))
    if "," in text:
        full = [part for part in map(_tidy, text.split(",")) if _full_postcode_shape(part)]
        if len(full) == 1:
            return full[0]
    return text


def _tidy(text: str) -> str:
    text = " ".join(text.split()).strip(_AROUND)
    if match := _HYPHENATED_POSTCODE.fullmatch(text):
        return f"{match[1]} {match[2]}"
    return text


def _full_postcode_shape(text: str) -> bool:
    upper = text.upper()
    shaped = _postcode_shape(upper, upper.replace(" ", ""))
    return shaped is not None and shaped.kind == "postcode"


def parse_query(query: object) -> ParsedQuery:
    """Classify what was typed. Raises PostcodeError(reason='empty'|'too_long'|'wrong_shape')."""
    if isinstance(query, str) and query.isascii() and (written := WRITTEN_POSTCODE.fullmatch(query.upper())):
        return ParsedQuery("postcode", written[0], written[1])  # as the steps below would read it
    if not isinstance(query, str) or not query.strip():
        raise PostcodeError("Please type a postcode (like SW1A 1AA) or a town.", "empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise PostcodeError("That is too long for a postcode or a town name.", "too_long")
    text = clean_typed(query)
    if not text:
        raise PostcodeError("Please type a postcode (like SW1A 1AA) or a town.", "empty")
    upper = text.upper()
    compact = upper.replace(" ", "")
    if compact.startswith("BFPO"):
        raise PostcodeError(
            "BFPO addresses are British Forces post and have no location; "
            "please use the postcode where you live.",
            "non_geographic",
        )
    shaped = _postcode_shape(upper, compact)
    if shaped is not None:
        return shaped
    # Anything with a digit that is not one of the shapes above is a mistyped postcode; letters
    # and spaces only are read as a place name.
    if any(ch.isdigit() for ch in compact) or not _looks_like_place(text):
        raise PostcodeError(
            f"'{_shorten(text)}' doesn't look like a UK postcode. "
            "A postcode looks like SW1A 1AA, LS1 4AP or M1 1AE; you can also type a town.",
            "wrong_shape",
        )
    return ParsedQuery("place", text)


def _postcode_shape(upper: str, compact: str) -> ParsedQuery | None:
    """A postcode, sector or outcode, written with its space or without; None for other text."""
    if compact == GIRO:
        return ParsedQuery("postcode", "GIR 0AA", "GIR")
    parts = upper.split(" ")
    if len(parts) == 2 and OUTCODE_RE.match(parts[0]):
        outcode, inward = parts
        if INWARD_RE.fullmatch(inward):
            return ParsedQuery("postcode", f"{outcode} {inward}", outcode)
        if inward in SECTOR_DIGITS:
            return ParsedQuery("sector", f"{outcode} {inward}", outcode)
    if len(parts) == 1:
        if m := FULL_RE.match(compact):
            return ParsedQuery("postcode", f"{m[1]} {m[2]}", m[1])
        if OUTCODE_RE.match(compact):
            return ParsedQuery("outcode", compact, compact)
        if m := SECTOR_RE.match(compact):
            return ParsedQuery("sector", f"{m[1]} {m[2]}", m[1])
    return None


def _looks_like_place(text: str) -> bool:
    # Letters of any alphabet (Welsh and Gaelic names carry accents: Ynys Môn, Glasgow's Partick)
    # and the punctuation place names use.
    return text[0].isalpha() and all(ch.isalpha() or ch in " .,'’&()-" for ch in text)


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def lookup(
    query: object, *, fallback: OnlineFallback | None = None, version: tuple | None = None
) -> Location:
    """Resolve a postcode, sector, outcode or town to a Location, offline unless a `fallback`
    is given for what the embedded data lacks, with its NHS area (`area`, or `area_candidates`
    where the postcodes of a sector, outcode or town do not all agree; none outside England).

    Raises PostcodeError with a message fit to show a person; `reason` is one of empty, too_long,
    wrong_shape, non_geographic, unknown, ambiguous (a town name several places share), no_data.
    `version`: store.data_version() as a search just asked it, else asked here, once for both
    the postcode and the area tables.
    """
    if version is None:
        version = store.data_version()
    t = tables(version=version)  # once: the place and its area come from the same tables
    return with_area(_locate(query, t, fallback=fallback), t, areas.tables(version=version))


def _locate(query: object, t: PostcodeTables, *, fallback: OnlineFallback | None) -> Location:
    parsed = parse_query(query)
    if parsed.kind == "place":
        return _lookup_place(parsed, t, fallback=fallback, query=str(query))
    original = " ".join(str(query).split())
    letters = parsed.area
    nation = NATION_BY_AREA.get(letters)
    if letters in NON_GEOGRAPHIC_AREAS or parsed.outcode in NON_GEOGRAPHIC_OUTCODES:
        raise PostcodeError(
            f"{parsed.text} is a non-geographic postcode (used for PO boxes or bulk mail), "
            "so it has no location. Please use the postcode where you live.",
            "non_geographic",
        )
    if parsed.kind == "postcode":
        found = _full_postcode(original, parsed, t, fallback)
        if found is not None:
            return found
    found = _centroid_location(original, parsed, t)
    if found is not None:
        return found
    if nation:
        # Northern Ireland, the Channel Islands and the Isle of Man are not in Code-Point Open:
        # the nation is certain from the area letters even with no coordinates.
        return Location(original, parsed.text, parsed.kind, None, None, nation, "nation", "postcode area")
    # Only reached when we hold neither its sector nor its outcode: the first half would be no help.
    raise PostcodeError(f"We couldn't find {parsed.text}. Please check it, or try a town name.", "unknown")


def _full_postcode(
    original: str, parsed: ParsedQuery, t: PostcodeTables, fallback: OnlineFallback | None
) -> Location | None:
    """A full postcode from the table (or, when it is not there, from the online fallback); None
    when the sector or outcode centre must stand in."""
    i = t.find(parsed.text.replace(" ", ""))
    if i is None:
        found = fallback.postcode(parsed.text) if fallback is not None else None
        if found is not None and found.country == "Unknown" and parsed.outcode in t.outcodes:
            found = _with(found, country=t.outcodes[parsed.outcode]["country"])
        return found
    # .item() reads one value as a plain Python number, quicker than indexing and converting.
    country = COUNTRIES[t.country.item(i)]
    terminated = bool(t.terminated.item(i))
    lat_e6 = t.lat_e6.item(i)
    if lat_e6 != MISSING_E6:
        return Location(
            original,
            parsed.text,
            "postcode",
            lat_e6 / 1e6,
            t.lon_e6.item(i) / 1e6,
            country,
            "postcode",
            t.source,
            terminated,
            1.0 if country == "England" else 0.0,
        )
    # A known postcode without coordinates: fall back to its sector, keeping its nation.
    centre = _centroid_location(original, parsed, t, country_hint=country)
    if centre is not None:
        return _with(centre, terminated=terminated)
    if country != "Unknown":
        return Location(
            original, parsed.text, "postcode", None, None, country, "nation", t.source, terminated
        )
    return None


def _with(location: Location, **changes) -> Location:
    return replace(location, **changes)


def _centroid_location(
    original: str, parsed: ParsedQuery, t: PostcodeTables, country_hint: str | None = None
) -> Location | None:
    """The sector centroid for a postcode or sector, else the outcode centroid."""
    candidates = []
    if parsed.kind in ("postcode", "sector"):
        candidates.append(("sector", parsed.text[: len(parsed.outcode) + 2], t.sectors))
    candidates.append(("outcode", parsed.outcode, t.outcodes))
    for precision, key, table in candidates:
        row = table.get(key)
        if row is None:
            continue
        country = country_hint if country_hint and country_hint != "Unknown" else row["country"]
        return Location(
            original,
            parsed.text,
            parsed.kind,
            float(row["lat"]),
            float(row["lon"]),
            country,
            precision,
            t.source,
            share_in_england=float(row["share_england"]),
            mixed_country=bool(row["mixed_country"]),
        )
    return None


# What people type for a place the town list names differently.
PLACE_ALIASES = {"london": "greaterlondon", "kingstonuponhull": "hull", "cityofkingstonuponhull": "hull"}


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z]+", fold(name).replace("'", ""))


def place_key(name: str) -> str:
    """Town names compared without case, accents, spaces or punctuation ("Kings Lynn" finds
    "King's Lynn", "ynys mon" finds "Ynys Môn")."""
    return re.sub(r"[^a-z]", "", fold(name))


def _lookup_place(
    parsed: ParsedQuery, t: PostcodeTables, *, fallback: OnlineFallback | None, query: str
) -> Location:
    key = PLACE_ALIASES.get(place_key(parsed.text), place_key(parsed.text))
    row = t.places.get(key)
    # Longer names that begin with the typed words ("Berwick" -> Berwick-upon-Tweed), but not
    # with part of a word ("London" is not Londonderry).
    typed_words = _words(parsed.text)
    longer = (
        [
            k
            for k in t.places_starting_with(key)
            if k != key
            and not t.places[k].get("qualified_of")  # "St Ives, Cornwall" is asked for by name
            and _words(t.places[k]["name"])[: len(typed_words)] == typed_words
        ]
        if len(key) >= 3
        else []
    )
    sharing = shared_name_places(parsed.text, t) if row is not None else []
    if len(sharing) == 1:
        row, sharing = sharing[0], []  # "Newquay" is the Cornish one, "New Quay" the Welsh
    choices = [f"{v['name']} ({v['country']})" for v in sharing or ([row] if row is not None else [])]
    choices += [f"{t.places[k]['name']} ({t.places[k]['country']})" for k in longer]
    if len(choices) > 1:
        shown = max(len(sharing), 4)
        raise PostcodeError(
            f"More than one place is called '{_shorten(parsed.text)}': {'; '.join(choices[:shown])}"
            f"{' …' if len(choices) > shown else ''}. Please type your postcode, or the full name as listed.",
            "ambiguous",
        )
    if row is None and len(longer) == 1:
        row = t.places[longer[0]]
    if row is not None:
        return Location(
            " ".join(query.split()),
            row["name"],
            "place",
            float(row["lat"]),
            float(row["lon"]),
            row["country"],
            "place",
            row["source"],
            share_in_england=float(row["share_england"]),
            mixed_country=bool(row["mixed_country"]),
        )
    if fallback is not None:
        found = fallback.place(parsed.text)
        if found is not None:
            return found
    raise PostcodeError(
        f"We couldn't find a town called '{_shorten(parsed.text)}'. Please try your postcode instead.",
        "unknown",
    )


def place_label(row: dict) -> str:
    """A place as a choice to offer: "St Ives, Cornwall", "Alford, Aberdeenshire (Scotland)"."""
    return str(row["name"]) if row["country"] == "England" else f"{row['name']} ({row['country']})"


def shared_name_places(text: str, t: PostcodeTables) -> list[dict]:
    """The places a name several places share may mean ("St Ives" -> the "St Ives, Cambridgeshire"
    and "St Ives, Cornwall" rows), or [] for a name only one place has. Names that differ only in
    spaces are told apart by the words typed: "New Quay" is in Ceredigion, "Newquay" in Cornwall."""
    key = PLACE_ALIASES.get(place_key(text), place_key(text))
    variants = t.place_variants.get(key, [])
    typed = _words(text)
    same_words = [v for v in variants if _words(str(v["name"]).split(",")[0]) == typed]
    if 0 < len(same_words) < len(variants):
        return same_words
    return list(variants)


# --- the NHS area of a location -----------------------------------------------------------


def with_area(location: Location, t: PostcodeTables, loaded: areas.AreaTables | None) -> Location:
    """`location` with its area from the `loaded` area tables: a full postcode's own district
    (and ward in a split district); a sector, outcode or town's area when all its live postcodes
    agree, else the candidates."""
    if loaded is None or t.district is None or location.precision == "nation":
        return location
    found: tuple[Area, ...] = ()
    outside = False
    if location.kind == "postcode":
        i = t.find(location.postcode.replace(" ", ""))
        if i is not None:
            found = loaded.resolve(_code(t, "district", i), _code(t, "ward", i), "postcode")
    sector_known = False
    if not found and location.kind in ("postcode", "sector"):
        # An unknown postcode (or one without a district) is placed by its sector, as its position
        # is; a sector wholly in Wales or Scotland has no area, whatever its outcode holds.
        outcode, _, inward = location.postcode.partition(" ")
        found, outside, sector_known = _prefix_areas(
            t, loaded, outcode + inward[:1], len(outcode) + 3, "sector"
        )
    if not found and not sector_known and location.kind in ("postcode", "sector", "outcode"):
        outcode = location.postcode.split(" ")[0]
        found, outside, _ = _prefix_areas(t, loaded, outcode, len(outcode) + 3, "outcode")
    if location.kind == "place" and location.source != "OpenStreetMap Nominatim":
        row = t.places.get(place_key(location.postcode))
        outcodes = str(row.get("outcodes") or "").split() if row is not None else []
        if outcodes:
            rows = np.concatenate([_rows(t, o, len(o) + 3) for o in outcodes])
            found, outside, _ = _areas_of_rows(t, loaded, rows, "place")
    if not found:
        return location
    area: Area | None
    candidates: tuple[Area, ...]
    area, candidates = (found[0], ()) if len(found) == 1 else areas.merge(found)
    if area is not None and outside:
        # Part of the sector, outcode or town is in Wales or Scotland: England's area is a candidate only.
        candidates = (area,)
        area = None
    # A copy with the two area fields set, without dataclasses.replace's re-validation of every
    # field (it tripled the cost of a postcode lookup); `location` itself is never changed.
    located = object.__new__(Location)
    located.__dict__.update(location.__dict__, area=area, area_candidates=candidates)
    return located


def _prefix_areas(
    t: PostcodeTables, loaded: areas.AreaTables, prefix: str, length: int, found_by: str
) -> tuple[tuple[Area, ...], bool, bool]:
    """`_areas_of_rows` of a sector or outcode, remembered for the life of the loaded tables."""
    cache = t.__dict__.setdefault("_prefix_areas", {})
    key = (id(loaded), prefix, length, found_by)
    if key not in cache:
        if len(cache) > 50_000:
            cache.clear()
        cache[key] = _areas_of_rows(t, loaded, _rows(t, prefix, length), found_by)
    return cache[key]


def _code(t: PostcodeTables, column: str, i: int) -> str:
    index = getattr(t, column).item(i)
    return (t.district_codes if column == "district" else t.ward_codes)[index]


def _rows(t: PostcodeTables, prefix: str, length: int) -> np.ndarray:
    """Indices of the postcodes `length` characters long (without the space) that start with
    `prefix`: "LS14" with length 6 is the sector LS1 4, not the outcode LS14 (length 7)."""
    low = encode_key(prefix)
    high = low + _BASE ** (_WIDTH - len(prefix))
    start, stop = (int(x) for x in t.keys.searchsorted([low, high]))
    indices = np.arange(start, stop)
    if length < _WIDTH:
        indices = indices[t.keys[start:stop] % _BASE ** (_WIDTH - length) == 0]
    return indices


def _areas_of_rows(
    t: PostcodeTables, loaded: areas.AreaTables, rows: np.ndarray, found_by: str
) -> tuple[tuple[Area, ...], bool, bool]:
    """The areas of these postcodes' distinct (district, ward) pairs, whether any of them is
    outside England, and whether there were any postcodes. Terminated postcodes and English
    postcodes without a district are left out."""
    rows = rows[~t.terminated[rows]]
    england = t.country[rows] == COUNTRIES.index("England")
    outside = bool((~england).any())
    if t.district is None or t.ward is None:  # a table built before areas were kept
        return (), outside, len(rows) > 0
    pairs = np.unique(t.district[rows].astype(np.int32) * 65536 + t.ward[rows].astype(np.int32) % 65536)
    found: list[Area] = []
    for pair in pairs.tolist():
        district, ward = t.district_codes[pair // 65536], t.ward_codes[pair % 65536]
        found.extend(loaded.resolve(district, ward, found_by))
    return tuple(found), outside, len(rows) > 0
