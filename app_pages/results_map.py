"""The services of an answer on a map, drawn only when asked."""

from __future__ import annotations

import streamlit as st

ACCENT = "#1d70b8"  # NHS-style blue for services on the map
HERE = "#d4351c"  # red for the search point


def show_map(where, results: list[dict]) -> None:
    points = [
        {"lat": r["lat"], "lon": r["lon"], "color": ACCENT, "size": 120}
        for r in results
        if r.get("lat") is not None and r.get("lon") is not None
    ]
    if where.has_coordinates:
        points.append({"lat": where.lat, "lon": where.lon, "color": HERE, "size": 200})
    if not points:
        return
    # Drawn only when asked: the map library is heavy, and in a folded section it was still built
    # on every search. The toggle keeps its state, so the map stays open for the next search.
    if not st.toggle("Show these services on a map", key="fh_map"):
        return
    import pandas as pd

    st.caption("Red: your search point. Blue: the registered offices of the services above.")
    st.map(
        pd.DataFrame(points),
        latitude="lat",
        longitude="lon",
        color="color",
        size="size",
        height=380,
    )
