"""One group of the answer (the person's own service, national services, others nearby...)."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages import result_card
from finder import presentation as fmt
from finder.search import SearchRequest

RESULTS_SHOWN = 20  # drawn at first; "Show all" draws the rest of RESULT_LIMIT


def draw_group(group, england_by_period, search: SearchRequest, shown: int, where=None) -> int:
    """One group of the answer; open or folded. Returns how many cards have been drawn so far."""
    if group.folded:
        # Folded groups are drawn only once opened (a rerun): most searches never open them, and
        # drawing every card inside them made each search several times slower. The key is new
        # for each search, so a new search starts with them folded again.
        search_number = st.session_state.get("fh_new_search", 0)
        body: DeltaGenerator = st.expander(
            f"{group.heading} ({len(group.entries)})",
            key=f"fh_group_{group.key}_{search_number}",
            on_change="rerun",
        )
    else:
        body = st.container()
    with body:
        if group.folded and not getattr(body, "open", True):
            return shown
        if not group.folded:
            st.header(group.heading)  # level 2, like "Results for ...": the cards under it are level 3
        if group.intro:
            st.markdown(group.intro)
        if group.key == "nearby":
            icb = fmt.icb_words(getattr(where, "area", None))
            if icb and any(e.record.get("coverage") == "same_icb" for e in group.entries):
                st.markdown(icb)
            miles = "mile" if search.radius_miles == 1 else "miles"
            st.markdown(
                f"Within {search.radius_miles:g} {miles} in a straight line (change this under More options)."
            )
        all_shown = st.session_state.get("fh_show_all") == search
        heading = None
        for entry in group.entries:
            if shown >= RESULTS_SHOWN and not all_shown:
                if st.button("Show all results", key=f"fh_more_{group.key}"):
                    st.session_state.fh_show_all = search
                    st.rerun()
                break
            if entry.subheading and entry.subheading != heading:
                heading = entry.subheading
                st.markdown(f"**{fmt.md_escape(heading)}**")
            result_card.draw(
                entry,
                fmt.england_for(entry.record, england_by_period),
                group.show_distance,
                patient_text=not group.folded,
            )
            shown += 1
    return shown
