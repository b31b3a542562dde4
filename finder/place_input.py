"""What a person typed in the search box, turned into something the search can use.

Pure functions over the place table (finder.postcodes.tables()); the app draws what they return.
- a postcode is pulled out of any pasted text ("14 Headingley Lane, Leeds LS6 3QG");
- a place name several places share is offered as choices ("St Ives, Cambridgeshire" or
  "St Ives, Cornwall"), and the app says which one it used;
- "Newport, Wales" picks the Newport in Wales;
- a name we do not hold gets the nearest spellings we do hold ("Manchestr" -> Manchester);
- text too long to be a postcode or a town gets a message, and the box keeps what was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finder.postcodes import MAX_QUERY_LENGTH, PostcodeTables, clean_typed, place_key, shared_name_places
from finder.postcodes import place_label as _label

# A full UK postcode anywhere in a line of text: the outward code, an optional space, the inward
# code. Word boundaries keep "LS63QGX" or a phone number from being read as one.
_POSTCODE_IN_TEXT = re.compile(r"(?<![A-Z0-9])([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})(?![A-Z0-9])")
NATIONS = ("England", "Wales", "Scotland", "Northern Ireland")
# What people type for a nation after a town name.
_NATION_WORDS = {
    "england": "England",
    "wales": "Wales",
    "scotland": "Scotland",
    "northernireland": "Northern Ireland",
}
# Words that name a GP surgery rather than a place, and the NHS code of a GP practice (A81001):
# such input is looked up among GP practices before (or instead of) the place table.
_SURGERY_WORDS = re.compile(
    r"\b(surgery|surgeries|medical cent(re|er)|health cent(re|er)|medical practice|practice|"
    r"medical group|doctors|dr|drs|gp)\b",
    re.IGNORECASE,
)
GP_PRACTICE_CODE = re.compile(r"[A-Z]\d{5}")
SUGGESTION_CUTOFF = 80  # rapidfuzz WRatio: "Manchestr" scores 95 against Manchester


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """The query to search for (None when there is nothing usable) and a sentence to show."""

    query: str | None
    note: str | None = None
    problem: str | None = None


@dataclass(frozen=True, kw_only=True)
class Choice:
    """A place a person may have meant: `label` to show, `query` to search when it is chosen."""

    label: str
    query: str


def find_postcode(text: str) -> str | None:
    """The last full postcode written in `text` ("... Leeds LS6 3QG" -> "LS6 3QG"), or None."""
    found = _POSTCODE_IN_TEXT.findall(" ".join(text.upper().split()))
    if not found:
        return None
    outward, inward = found[-1]
    return f"{outward} {inward}"


def prepare(text: object) -> Prepared:
    """Pull a postcode out of an address, or refuse text too long to be a postcode or a town."""
    if not isinstance(text, str) or not text.strip():
        return Prepared(query=None, problem="Please type a postcode (like LS6 3QG), a town or a GP surgery.")
    flat = clean_typed(text)  # "(LS6 3QG)", full-width letters, a pasted zero-width space
    if not flat:
        return Prepared(query=None, problem="Please type a postcode (like LS6 3QG), a town or a GP surgery.")
    postcode = find_postcode(flat)
    if postcode and postcode.replace(" ", "") != flat.upper().replace(" ", ""):
        return Prepared(query=postcode, note=f"We used the postcode {postcode} from what you typed.")
    if len(flat) > MAX_QUERY_LENGTH:
        return Prepared(
            query=None,
            problem="That is longer than a postcode or a town name, and we could not find a postcode in it. "
            "Please type just the postcode (like LS6 3QG) or the town.",
        )
    return Prepared(query=flat)


def looks_like_surgery(text: str) -> bool:
    """True for "Densham Surgery", "Abbey Grange Medical Practice" or a practice code "A81001"."""
    flat = " ".join(str(text).split())
    return bool(GP_PRACTICE_CODE.fullmatch(flat.upper()) or _SURGERY_WORDS.search(flat))


def with_nation(text: str, t: PostcodeTables) -> str:
    """'Newport, Wales' -> 'Newport, Newport' (the Newport in Wales that we hold); other text is
    returned unchanged. Only a nation after a comma or at the end is read this way."""
    match = re.fullmatch(r"(.+?)[ ,]+(england|wales|scotland|northern ireland)", text.strip(), re.IGNORECASE)
    if not match:
        return text
    nation = _NATION_WORDS[place_key(match[2])]
    key = place_key(match[1])
    row = t.places.get(key)
    if row is None:
        return text
    if row["country"] == nation and not _variants(key, t):
        return str(row["name"])
    in_nation = [v for v in _variants(key, t) if v["country"] == nation]
    if len(in_nation) >= 1:
        # Several in one nation: the one the table ranks first (most postcode districts) is the base
        # row when it is in that nation; otherwise ask with the first listed.
        best = [v for v in in_nation if (v["lat"], v["lon"]) == (row["lat"], row["lon"])]
        return str((best or in_nation)[0]["name"]) if len(in_nation) == 1 or best else text
    return text


def _variants(key: str, t: PostcodeTables) -> list[dict]:
    """The "<name>, <county>" rows kept for a name several places share."""
    return t.place_variants.get(key, [])


def choices(text: str, t: PostcodeTables) -> list[Choice]:
    """Every place `text` may mean: each place of that name, and longer names that begin with it
    ("Newcastle" -> Newcastle upon Tyne, Newcastle-under-Lyme, ...). Empty when there is none."""
    key = place_key(text)
    if len(key) < 3:
        return []
    found = [Choice(label=_label(v), query=str(v["name"])) for v in shared_name_places(text, t)]
    row = t.places.get(key)
    if row is not None and not found:
        found.append(Choice(label=_label(row), query=str(row["name"])))
    typed = text.lower().split()
    for other in t.places_starting_with(key):
        candidate = t.places[other]
        if other == key or candidate.get("qualified_of"):
            continue
        if str(candidate["name"]).lower().replace("-", " ").split()[: len(typed)] == typed or not typed:
            found.append(Choice(label=_label(candidate), query=str(candidate["name"])))
    return found[:8]


def suggestions(text: str, t: PostcodeTables, limit: int = 3) -> list[Choice]:
    """Places spelt nearly like `text`, for a name we do not hold ("Manchestr")."""
    from rapidfuzz import fuzz, process

    names = t.place_names
    matches = process.extract(
        text, list(names), scorer=fuzz.WRatio, limit=limit, score_cutoff=SUGGESTION_CUTOFF
    )
    return [Choice(label=_label(names[name]), query=name) for name, _, _ in matches]


def place_used(
    location_name: str, lat: float | None, lon: float | None, t: PostcodeTables
) -> tuple[str, list[Choice]]:
    """For a place name others share: the full name of the one used and the others as choices
    ("St Ives, Cambridgeshire" and [St Ives, Cornwall]). ("", []) when the name is unique."""
    row = t.places.get(place_key(location_name))
    key = (
        (row.get("qualified_of") or place_key(location_name)) if row is not None else place_key(location_name)
    )
    variants = _variants(key, t)
    if not variants:
        return "", []
    used = [v for v in variants if (v["lat"], v["lon"]) == (lat, lon)]
    name = str(used[0]["name"]) if used else location_name
    others = [Choice(label=_label(v), query=str(v["name"])) for v in variants if v not in used]
    return name, others
