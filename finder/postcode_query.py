"""What a person typed for a place: a full postcode, a sector (`SW1A 1`), an outcode (`SW1A`) or
a town, cleaned of what a paste brings along and classified before any table is consulted; and
the Location a look-up answers with (finder.postcodes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from finder.areas import Area
from finder.errors import PostcodeError
from finder.names import fold  # the one accent and case folding (also for therapists' names)

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


# What people type for a place the town list names differently.
PLACE_ALIASES = {"london": "greaterlondon", "kingstonuponhull": "hull", "cityofkingstonuponhull": "hull"}


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z]+", fold(name).replace("'", ""))


def place_key(name: str) -> str:
    """Town names compared without case, accents, spaces or punctuation ("Kings Lynn" finds
    "King's Lynn", "ynys mon" finds "Ynys Môn")."""
    return re.sub(r"[^a-z]", "", fold(name))
