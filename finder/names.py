"""People's names as registers write them, and how two of them are compared.

Registers and the people who search them write the same name differently: "Dr Jane A. Smith-Jones
MBACP (Accred)", "SMITH-JONES, Jane", "Jane Smith Jones", "Jáne Smith". Comparison therefore works
on a parsed form: case and accents folded, titles and post-nominal letters removed, "Surname,
Forenames" reordered, and the surname split at hyphens so a person listed under either part of a
double-barrelled surname is still found. Middle names and initials are kept but never required:
registers often omit them, and a query that includes one must not fail because of it.

Scoring uses rapidfuzz. A fuzzy score only ever proposes a candidate; `NameMatch.exact` (same first
name and a shared surname part after folding) is the only kind of match the accreditation check
may call a confirmed identity.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

# Forms of address that are not part of the name.
TITLES = frozenset(
    {"dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "miss", "mx", "rev", "revd", "sir", "dame"}
)
# Post-nominal letters seen on UK therapy registers and in therapists' own listings: membership
# grades (MBACP, Accred, Snr Accred), registers (UKCP, HCPC, BABCP, NCPS), degrees and chartered
# titles. They are dropped wherever they appear, including inside brackets.
POST_NOMINALS = frozenset(
    {
        "mbacp",
        "accred",
        "accredited",
        "snr",
        "senior",
        "fbacp",
        "ukcp",
        "ukcpreg",
        "hcpc",
        "babcp",
        "ncps",
        "mncps",
        "mncs",
        "bps",
        "bacp",
        "reg",
        "registered",
        "member",
        "iptuk",
        "ipt",
        "phd",
        "dphil",
        "dclinpsy",
        "dcounspsych",
        "dpsych",
        "psyd",
        "cpsychol",
        "afbpss",
        "fbpss",
        "mbpss",
        "ba",
        "bsc",
        "ma",
        "msc",
        "mphil",
        "mres",
        "mb",
        "bs",
        "mbbs",
        "mbchb",
        "mrcpsych",
        "frcpsych",
        "md",
        "rmn",
        "rgn",
        "rn",
        "pgdip",
        "pgcert",
        "dip",
        "cert",
        "hons",
        "cbt",
        "sr",
        "jr",
    }
)
MAX_NAME_LENGTH = 120
FUZZY_CANDIDATE_SCORE = 85.0  # below this, two names are not worth showing as a possible match

_TOKEN_RE = re.compile(r"[a-z0-9']+(?:-[a-z0-9']+)*")


# Letters that Unicode does not decompose into a base letter and an accent: without this table
# "Łukasz", "Søren" or "Yıldız" would lose a letter and never match "Lukasz", "Soren", "Yildiz".
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t"}
)


def fold(text: str) -> str:
    """Lower case without accents: 'Jáne ÓBrien' -> 'jane obrien', 'Łukasz Søren' -> 'lukasz soren'.
    Apostrophes and hyphens are kept for the tokeniser; every other punctuation mark becomes a space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.casefold().translate(_UNDECOMPOSED).replace("’", "'").replace("‘", "'")
    plain = re.sub(r"[‐‑‒–—]", "-", plain)
    return re.sub(r"[^a-z0-9'\- ]+", " ", plain)


def _tokens(text: str) -> list[str]:
    tokens = []
    for token in _TOKEN_RE.findall(fold(text)):
        token = token.replace("'", "").strip("-")
        if token:
            tokens.append(token)
    return tokens


# Post-nominals that are also real surnames ("Jane Ma", "Ali Md"): dropped only when at least two
# other name words remain.
SURNAME_LIKE_POST_NOMINALS = frozenset(
    {"ma", "ba", "md", "bs", "mb", "rn", "sr", "jr", "reg", "senior", "member"}
)


def _is_noise(token: str) -> bool:
    return token in TITLES or token in POST_NOMINALS or token.isdigit()


def _clean(tokens: list[str]) -> list[str]:
    """Drop titles at the front, post-nominals at the end (and any unambiguous letters between)."""
    tokens = [t for t in tokens if not t.isdigit()]
    while tokens and tokens[0] in TITLES:
        tokens = tokens[1:]
    while tokens and tokens[-1] in POST_NOMINALS:
        if tokens[-1] in SURNAME_LIKE_POST_NOMINALS and len(tokens) <= 2:
            break
        tokens = tokens[:-1]
    return [t for t in tokens if t not in POST_NOMINALS or t in SURNAME_LIKE_POST_NOMINALS]


@dataclass(frozen=True)
class ParsedName:
    """A name reduced to what identifies a person on a register."""

    first: str  # folded first given name ("" when only a surname is known)
    middles: tuple[str, ...]  # folded middle names or initials, never required to match
    surname: str  # folded full surname, hyphens kept: "smith-jones"
    surname_parts: tuple[str, ...]  # the surname and each hyphen part: ("smith-jones", "smith", "jones")

    @property
    def key(self) -> str:
        """'first surname' without middle names: what a register search is sent."""
        return f"{self.first} {self.surname}".strip()

    @property
    def display(self) -> str:
        return " ".join(part.capitalize() for part in self.key.replace("-", "- ").split()).replace("- ", "-")


def parse_name(text: str) -> ParsedName:
    """Parse a name as typed or as a register shows it; raises ValueError when nothing is left once
    titles and post-nominals are removed."""
    text = re.sub(r"\([^)]*\)", " ", text)  # "(Accred)", "(Snr Accred)", "(UKCP Reg)"
    segments = [seg for seg in text.split(",") if any(not _is_noise(t) for t in _tokens(seg))]
    if len(segments) >= 2:
        # "Smith-Jones, Jane A" as registers print it: the first segment is the surname.
        surname_tokens = _clean(_tokens(segments[0]))
        given = _clean([t for seg in segments[1:] for t in _tokens(seg)])
        if not surname_tokens:
            raise ValueError("no name left after removing titles and letters")
        tokens = given + surname_tokens
        surname = "-".join(surname_tokens)
        given_tokens = given
    else:
        tokens = _clean(_tokens(" ".join(segments)))
        if not tokens:
            raise ValueError("no name left after removing titles and letters")
        surname = tokens[-1]
        given_tokens = tokens[:-1]
    if not tokens:
        raise ValueError("no name left after removing titles and letters")
    first = given_tokens[0] if given_tokens else ""
    middles = tuple(given_tokens[1:])
    parts = [surname]
    if "-" in surname:
        parts.extend(p for p in surname.split("-") if p)
    return ParsedName(first, middles, surname, tuple(dict.fromkeys(parts)))


@dataclass(frozen=True)
class NameMatch:
    score: float  # 0-100, rapidfuzz similarity of first name and best surname part
    exact: bool  # same first name and a shared surname part, after folding
    whole_surname: bool = False  # the surname agrees in full, not just one hyphen part

    @property
    def candidate(self) -> bool:
        return self.exact or self.score >= FUZZY_CANDIDATE_SCORE


def _first_names_agree(a: str, b: str) -> bool:
    return bool(a) and a == b


def compare(query: ParsedName, listed: ParsedName) -> NameMatch:
    """How well a register's name matches the name searched for. Middle names are ignored."""
    exact_surname = bool(set(query.surname_parts) & set(listed.surname_parts))
    surname_score = max(
        (fuzz.ratio(q, c) for q in query.surname_parts for c in listed.surname_parts), default=0.0
    )
    if not query.first or not listed.first:
        # Surname only: never an exact identity, at best a candidate.
        first_score = 50.0
    elif len(query.first) == 1 or len(listed.first) == 1:
        # An initial agrees with a name that starts with it, but proves little.
        first_score = 70.0 if query.first[0] == listed.first[0] else 0.0
    else:
        first_score = fuzz.ratio(query.first, listed.first)
    score = round(0.4 * first_score + 0.6 * surname_score, 1)
    exact = exact_surname and _first_names_agree(query.first, listed.first) and len(query.first) > 1
    return NameMatch(100.0 if exact else min(score, 99.0), exact, exact and query.surname == listed.surname)


class NameIndex:
    """Names of a register held for fast lookup: surname parts in a dict for exact hits, and the
    list of surname parts for rapidfuzz's C-speed search when the spelling differs."""

    def __init__(self, names: Sequence[str]):
        self.parsed: list[ParsedName | None] = []
        self._by_part: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(names):
            try:
                parsed = parse_name(name)
            except ValueError:
                parsed = None
            self.parsed.append(parsed)
            if parsed is not None:
                for part in parsed.surname_parts:
                    self._by_part[part].append(i)
        self._parts = list(self._by_part)

    def __len__(self) -> int:
        return len(self.parsed)

    def matches(self, query: ParsedName, *, fuzzy: bool = True) -> list[tuple[int, NameMatch]]:
        """Entries that match `query` exactly or closely enough to be shown, best first."""
        rows: set[int] = set()
        for part in query.surname_parts:
            rows.update(self._by_part.get(part, ()))
        if fuzzy:
            for part in query.surname_parts:
                for found, _score, _ in process.extract(
                    part, self._parts, scorer=fuzz.ratio, score_cutoff=75, limit=None
                ):
                    rows.update(self._by_part[found])
        scored = []
        for i in rows:
            listed = self.parsed[i]
            if listed is None:
                continue
            match = compare(query, listed)
            if match.candidate:
                scored.append((i, match))
        scored.sort(key=lambda item: (-item[1].score, item[0]))
        return scored


def match_names(query: str, names: Iterable[str]) -> list[tuple[int, NameMatch]]:
    """Convenience for one-off comparisons: indices of `names` that match `query`, best first."""
    return NameIndex(list(names)).matches(parse_name(query))
