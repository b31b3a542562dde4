"""UK postcodes: offline lookup of a postcode, sector, outcode or town.

A query resolves, in order, to a full postcode, a sector centroid (`SW1A 1`), an outcode centroid
(`SW1A`) or a town, and every answer says how precise it is so the app can say "approximate".
Reading what was typed is in finder.postcode_query, the tables in finder.postcode_tables and the
NHS area of a location in finder.postcode_areas; their public names are importable from here.
"""

from __future__ import annotations

from dataclasses import replace

from finder import areas, store
from finder.errors import PostcodeError
from finder.postcode_areas import with_area
from finder.postcode_query import (
    COUNTRIES,
    GSS_COUNTRY,
    MAX_QUERY_LENGTH,
    NATION_BY_AREA,
    NON_GEOGRAPHIC_AREAS,
    NON_GEOGRAPHIC_OUTCODES,
    PLACE_ALIASES,
    Location,
    OnlineFallback,
    ParsedQuery,
    _shorten,
    _words,
    clean_typed,
    parse_query,
    place_key,
)
from finder.postcode_tables import (
    MISSING_E6,
    PostcodeTables,
    decode_compact,
    decode_key,
    encode_key,
    encode_keys,
    tables,
)

__all__ = [
    "COUNTRIES",
    "GSS_COUNTRY",
    "MAX_QUERY_LENGTH",
    "MISSING_E6",
    "NATION_BY_AREA",
    "Location",
    "OnlineFallback",
    "ParsedQuery",
    "PostcodeTables",
    "clean_typed",
    "decode_compact",
    "decode_key",
    "encode_key",
    "encode_keys",
    "lookup",
    "parse_query",
    "place_key",
    "place_label",
    "shared_name_places",
    "tables",
    "with_area",
]


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
