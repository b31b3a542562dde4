"""GP surgeries: find one by ODS code, postcode or name, and search from it.

NHS Talking Therapies accepts people by the area of their GP (the practice's commissioning sub-ICB
location), not by their home address, so the GP is the surest way to the right service. Names are
compared folded (case, accents and punctuation ignored) with rapidfuzz; the words every practice
shares ("Surgery", "Medical Centre", "Health Centre", "Practice") count for little, and a town in
the query ("Densham Surgery Stockton") picks the practice in that town.

The table is `data/gp_practices.parquet`, written by `python -m finder import gp-practices PATH`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from rapidfuzz import fuzz, process

from finder import areas, postcodes, store
from finder.errors import FinderError, PostcodeError
from finder.names import fold
from finder.postcodes import Location
from finder.schema import GP_FILE

# Words most practice names share: they decide little, so they weigh little.
GENERIC_WORDS = frozenset(
    {
        "the",
        "surgery",
        "surgeries",
        "medical",
        "centre",
        "center",
        "health",
        "practice",
        "group",
        "gp",
        "doctors",
        "dr",
        "drs",
        "clinic",
        "partnership",
        "and",
        "of",
    }
)
QUERY_SHARE = 0.75  # how much of the score is "every word typed is in the name" (the rest: the reverse)
GENERIC_BONUS = 1.0  # at most: generic words typed and in the name only break ties
WORD_MATCH = 80.0  # a word this similar (rapidfuzz ratio, 0-100) counts as the same word
WORD_FLOOR = 60.0  # below this a word does not count at all
PREFIX_SCORE = 95  # a typed word that begins a name's word ("dens" for "densham")
SIMILARITY_CACHE = 2048
TOWN_BONUS = 10.0  # a town named in the query that is the practice's own town
MIN_SCORE = 70.0
CANDIDATE_MARGIN = 8.0  # practices scoring within this of the best are listed as candidates
MAX_RESULTS = 10
ODS_PRACTICE = re.compile(r"^[A-Z]\d{5}$")
MAX_TOWN_WORDS = 4


@dataclass(frozen=True, kw_only=True)
class Practice:
    code: str
    name: str
    town: str
    postcode: str
    sub_icb_code: str
    sub_icb_name: str | None
    lat: float | None
    lon: float | None

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "town": self.town,
            "postcode": self.postcode,
            "sub_icb_code": self.sub_icb_code,
            "sub_icb_name": self.sub_icb_name,
            "lat": self.lat,
            "lon": self.lon,
        }


def words(text: str) -> list[str]:
    """Folded words: 'St. Mary's Surgery' -> ['st', 'marys', 'surgery']."""
    return fold(text).replace("'", "").replace("-", " ").split()


class PracticeTable:
    """The practices with their folded name words as a matrix of vocabulary indices, so a query is
    compared with each distinct word once and with every practice by array lookups."""

    def __init__(self, path):
        # ParquetFile, not read_table: its dataset layer imports pandas (half a second at first use).
        table = pq.ParquetFile(path).read().to_pydict()
        self.codes: list[str] = table["code"]
        self.rows = table
        self.by_code = {code: i for i, code in enumerate(self.codes)}
        name_words = [words(n) for n in table["name"]]
        self.full = [" ".join(w) for w in name_words]
        self.vocabulary = sorted({w for ws in name_words for w in ws})
        self.vocabulary_array = np.array(self.vocabulary, dtype=str)
        index = {w: i for i, w in enumerate(self.vocabulary)}
        width = max(len(ws) for ws in name_words)
        pad = len(self.vocabulary)  # a sentinel word that matches nothing
        # One row per word position, one column per practice: reductions over the few word
        # positions then run across whole rows, which numpy does fast.
        words_matrix = np.full((width, len(name_words)), pad, dtype=np.int32)
        for column, ws in enumerate(name_words):
            words_matrix[: len(ws), column] = [index[w] for w in ws]
        generic = np.array([w in GENERIC_WORDS for w in self.vocabulary] + [False])
        # Real words of practice names ("Heath" in West Heath Surgery) are never read as a
        # mistyped generic word ("Health").
        self.name_words = frozenset(w for w in self.vocabulary if w not in GENERIC_WORDS)
        self.words = words_matrix  # every word
        self.distinctive_words = np.where(generic[words_matrix], pad, words_matrix)  # generic ones blanked
        self.generic_words = np.where(generic[words_matrix], words_matrix, pad)
        self.word_counts = (words_matrix != pad).sum(axis=0)
        self.distinctive_counts = (self.distinctive_words != pad).sum(axis=0)
        self.towns = np.array([" ".join(words(t)) for t in table["town"]], dtype=object)
        # Each town under every run of its first words ("stockton" finds "stockton on tees").
        self.town_keys = frozenset(self.towns.tolist())
        self.town_index = {town: i for i, town in enumerate(sorted(self.town_keys))}
        self.town_ids = np.array([self.town_index[town] for town in self.towns], dtype=np.int32)
        self.town_prefixes: dict[str, set[str]] = {}
        for town in set(self.towns.tolist()):
            parts = town.split()
            for size in range(1, len(parts) + 1):
                self.town_prefixes.setdefault(" ".join(parts[:size]), set()).add(town)
        self.postcodes = np.array([p.replace(" ", "") for p in table["postcode"]], dtype=object)
        self.similarity_cache: dict[str, np.ndarray] = {}

    def practice(self, i: int) -> Practice:
        sub_icb = self.rows["sub_icb_code"][i]
        loaded = areas.tables()
        name = loaded.sub_icbs.get(sub_icb, {}).get("name") if loaded else None
        lat, lon = self.rows["lat"][i], self.rows["lon"][i]
        return Practice(
            code=self.codes[i],
            name=self.rows["name"][i],
            town=self.rows["town"][i],
            postcode=self.rows["postcode"][i],
            sub_icb_code=sub_icb,
            sub_icb_name=name,
            lat=None if lat is None or np.isnan(lat) else lat,
            lon=None if lon is None or np.isnan(lon) else lon,
        )


def _load_practices(directory: Path) -> PracticeTable:
    path = directory / GP_FILE
    if not path.exists():
        raise FinderError(
            "The GP practice list is missing from data/; build it with "
            "`python -m finder import gp-practices PATH`."
        )
    return PracticeTable(path)


# Reloaded when a publish replaces the practice table (store.data_version).
_table = store.DataCache((GP_FILE,), _load_practices)


def practices() -> PracticeTable:
    """The loaded practice table, reloaded when the file in `data/` is replaced."""
    return _table.get()


def find_practices(query: object, *, limit: int = MAX_RESULTS) -> list[Practice]:
    """Practices matching an ODS code, a postcode (or its sector / outcode) or a name, best first.
    One practice when the answer is clear; several candidates when they match about as well."""
    if not isinstance(query, str) or not query.strip():
        raise FinderError("Please type your GP surgery's name, postcode or practice code.")
    if len(query) > postcodes.MAX_QUERY_LENGTH:
        raise FinderError("That is too long for a GP surgery's name.")
    t = practices()
    text = " ".join(query.split())
    code = text.upper()
    if ODS_PRACTICE.match(code):
        return [t.practice(t.by_code[code])] if code in t.by_code else []
    by_postcode = _by_postcode(t, text)
    if by_postcode is not None:
        return [t.practice(i) for i in by_postcode[:limit]]
    return [t.practice(i) for i in _by_name(t, text)[:limit]]


def _by_postcode(t: PracticeTable, text: str) -> list[int] | None:
    """Practices at a postcode, else in its sector, else its outcode (nearest first); None when
    the query is not shaped like a postcode."""
    try:
        parsed = postcodes.parse_query(text)
    except PostcodeError:
        return None
    if parsed.kind == "place":
        return None
    compact = parsed.text.replace(" ", "")
    exact: list[int] = np.flatnonzero(t.postcodes == compact).tolist() if parsed.kind == "postcode" else []
    if exact:
        return sorted(exact, key=lambda i: t.codes[i])
    outcode = parsed.outcode
    prefixes = [compact[: len(outcode) + 1]] if parsed.kind in ("postcode", "sector") else []
    for prefix in [*prefixes, outcode]:
        # A sector's postcodes are outcode + digit + two letters; an outcode's are outcode + 3.
        length = len(prefix) + (2 if prefix != outcode else 3)
        found = [i for i, pc in enumerate(t.postcodes) if pc.startswith(prefix) and len(pc) == length]
        if found:
            return _nearest(t, found, text)
    return []


def _nearest(t: PracticeTable, found: list[int], text: str) -> list[int]:
    try:
        here = postcodes.lookup(text)
    except PostcodeError:
        return sorted(found, key=lambda i: t.codes[i])
    if here.lat is None or here.lon is None:
        return sorted(found, key=lambda i: t.codes[i])
    lat = np.array([t.rows["lat"][i] for i in found], dtype=np.float64)
    lon = np.array([t.rows["lon"][i] for i in found], dtype=np.float64)
    distance = np.nan_to_num((lat - here.lat) ** 2 + ((lon - here.lon) * 0.6) ** 2, nan=np.inf)
    return [found[k] for k in np.argsort(distance, kind="stable")]


def _town_in(tokens: list[str], t: PracticeTable) -> tuple[set[str], list[str]]:
    """The towns the query names, and the words left without them: a whole town name anywhere
    (longest first), else the first words of a town's name at the end of the query, where people
    type the town ("Densham Surgery Stockton")."""
    for size in range(min(MAX_TOWN_WORDS, len(tokens)), 0, -1):
        for start in range(len(tokens) - size, -1, -1):
            run = " ".join(tokens[start : start + size])
            if run in t.town_keys:
                return {run}, tokens[:start] + tokens[start + size :]
    for size in range(min(MAX_TOWN_WORDS, len(tokens)), 0, -1):
        towns = t.town_prefixes.get(" ".join(tokens[-size:]))
        if towns and len(tokens[-size]) >= 3:
            return towns, tokens[:-size]
    return set(), tokens


class _Similarity(dict):
    """Each typed word compared with the vocabulary once (0-100 as bytes, the sentinel last).
    Words are remembered across queries, up to SIMILARITY_CACHE of them (about 5 KB each)."""

    def __init__(self, t: PracticeTable):
        super().__init__()
        self.t = t

    def __missing__(self, token: str) -> np.ndarray:
        t = self.t
        cache = t.similarity_cache
        if token not in cache:
            if len(cache) >= SIMILARITY_CACHE:
                cache.pop(next(iter(cache)))  # the oldest word goes first
            similarity = np.zeros(len(t.vocabulary) + 1, dtype=np.uint8)
            similarity[:-1] = process.cdist(
                [token], t.vocabulary, scorer=fuzz.ratio, score_cutoff=WORD_FLOOR, dtype=np.uint8, workers=1
            )[0]
            if len(token) >= 3:
                starts = np.char.startswith(t.vocabulary_array, token)
                similarity[:-1][starts] = np.maximum(similarity[:-1][starts], PREFIX_SCORE)
            cache[token] = similarity
        self[token] = cache[token]
        return self[token]


def is_generic(token: str, name_words: frozenset[str] = frozenset()) -> bool:
    """A word most practice names share, also when mistyped ("surgury"), unless it is a word of
    some practice's own name (`name_words`)."""
    if token in GENERIC_WORDS:
        return True
    return (
        token not in name_words
        and len(token) >= 5
        and process.extractOne(token, GENERIC_WORDS, scorer=fuzz.ratio, score_cutoff=85) is not None
    )


def _scores(t: PracticeTable, tokens: list[str], similarity: _Similarity) -> np.ndarray:
    """How well the typed words match each practice name, 0-100: the share of the distinctive
    words typed that are in the name, and of the name's distinctive words that were typed. The
    generic words ("Surgery", "Medical Centre") only break ties; typed alone, they count fully."""
    distinctive = [w for w in tokens if not is_generic(w, t.name_words)]
    generic_only = not distinctive
    typed = tokens if generic_only else distinctive
    words = t.words if generic_only else t.distinctive_words
    counts = t.word_counts if generic_only else t.distinctive_counts
    matched = np.zeros(words.shape, dtype=bool)
    query_total = np.zeros(len(t.codes))
    for token in typed:
        per_word = similarity[token][words]  # the sentinel (blanked words, padding) scores 0
        query_total += per_word.max(axis=0)  # under WORD_FLOOR is already 0
        matched |= per_word >= WORD_MATCH
    name_share = 100.0 * matched.sum(axis=0) / np.maximum(counts, 1)
    score = QUERY_SHARE * query_total / len(typed) + (1 - QUERY_SHARE) * name_share
    generic = [w for w in tokens if is_generic(w, t.name_words)]
    if generic and not generic_only:
        present = np.zeros(len(t.codes))
        for token in generic:
            present += (similarity[token][t.generic_words] >= WORD_MATCH).any(axis=0)
        score += GENERIC_BONUS * present / len(generic)
    return score


def _by_name(t: PracticeTable, text: str) -> list[int]:
    tokens = words(text)
    if all(len(w) < 2 for w in tokens):
        # Only lone letters, digits or punctuation ("a", "x", "!!! a"): no name to look for, and
        # every surgery named after a doctor's initial would match. Initials beside a word are kept
        # ("I J Healthcare").
        return []
    if not tokens:
        return []
    similarity = _Similarity(t)
    score = _scores(t, tokens, similarity)
    towns, rest = _town_in(tokens, t)
    if towns:
        in_town = np.isin(t.town_ids, [t.town_index[town] for town in towns])
        if rest and any(not is_generic(w, t.name_words) for w in rest):
            # Read as "<name> <town>": the name without the town words, and the town must agree.
            town_reading = _scores(t, rest, similarity) + TOWN_BONUS * in_town
        elif rest:
            # "<town> Medical Centre": the generic name in that town.
            town_reading = _scores(t, rest, similarity) * in_town
        else:
            # Only a town typed ("Stockton-on-Tees"): its practices are the candidates.
            town_reading = np.where(in_town, 100.0, 0.0)
        # A name matched word for word as typed (town words and all: "Baldock Surgery") keeps the
        # lead over every reading of the query as a name in a town.
        exact = score >= 100.0
        score = np.maximum(score + (TOWN_BONUS + GENERIC_BONUS + 1) * exact, town_reading)
    best = float(score.max())
    if best < MIN_SCORE:
        return []
    chosen = np.flatnonzero(score >= best - CANDIDATE_MARGIN)
    return sorted(chosen.tolist(), key=lambda i: (-score[i], t.full[i], t.codes[i]))


def gp_location(code: str) -> Location:
    """The surgery's position as a search location, with `area` = its sub-ICB location (found_by
    "gp", in the surgery's own district where that district is in the sub-ICB, else the sub-ICB's
    largest district) and `area_candidates` = every district of that sub-ICB."""
    t = practices()
    key = str(code or "").strip().upper()
    if key not in t.by_code:
        raise FinderError(
            f"No active GP practice in England has the code '{key[:12]}'. Try `gp NAME` to find it."
        )
    practice = t.practice(t.by_code[key])
    if practice.lat is not None:
        here = Location(
            practice.code, practice.postcode, "gp", practice.lat, practice.lon, "England", "postcode",
            "NHS ODS GP practices (epraccur); OS Code-Point Open", share_in_england=1.0,
        )  # fmt: skip
    else:
        # The practice's postcode has no position: its sector or outcode centre stands in.
        found = _lookup(practice.postcode)
        here = Location(
            practice.code, practice.postcode, "gp", found.lat if found else None, found.lon if found else None,
            "England", found.precision if found else "nation", found.source if found else "NHS ODS",
            share_in_england=1.0,
        )  # fmt: skip
    districts = areas.districts_of_sub_icb(practice.sub_icb_code)
    if not districts:
        return here
    located = _lookup(practice.postcode)
    own = located.area if located else None
    area = next((d for d in districts if own and d.district_code == own.district_code), districts[0])
    return Location(**{**here.__dict__, "area": area, "area_candidates": districts})


def _lookup(postcode: str) -> Location | None:
    try:
        return postcodes.lookup(postcode)
    except PostcodeError:
        return None
