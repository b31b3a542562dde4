"""Mapping the towns list to the place table for offline place search (pure: reads and writes
nothing). A town's position is the centroid of its outcodes' centroids from our own postcode tables
where we have them (more accurate and current), else the list's approximate coordinates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from finder.imports.postcodes.read import UK_LAT, UK_LON
from finder.postcodes import place_key

TOWNS_COUNTRY = {
    "ENG": "England",
    "SCT": "Scotland",
    "WLS": "Wales",
    "NIR": "Northern Ireland",
    "GG": "Channel Islands",
    "JE": "Channel Islands",
    "IM": "Isle of Man",
}


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
