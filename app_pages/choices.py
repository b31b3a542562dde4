"""Places and GP surgeries a person may have meant, as buttons that search for them."""

from __future__ import annotations

import streamlit as st

from app_pages import search_state
from finder import presentation as fmt
from finder.errors import FinderError


def _choose_place(query: str) -> None:
    st.session_state.fh_query = query
    search_state.commit(query=query, gp=None)


def place_buttons(options, key: str) -> None:
    """Places a person may have meant, as buttons that search for that place."""
    with st.container(horizontal=True, key=f"choices_{key}"):
        for i, choice in enumerate(options):
            st.button(
                fmt.md_escape(choice.label), key=f"{key}_{i}", on_click=_choose_place, args=(choice.query,)
            )


def _choose_practice(code: str) -> None:
    """Search from the chosen GP surgery (the box keeps what was typed)."""
    search_state.commit(gp=code)


def practices(query: str) -> list:
    from finder import gp

    try:
        return gp.find_practices(query, limit=6)
    except FinderError:  # no GP table, or input it cannot read: offer nothing
        return []


def practice_buttons(found: list) -> None:
    """GP surgeries a person may have meant, as buttons that search from that surgery."""
    with st.container(horizontal=True, key="choices_practice"):
        for practice in found:
            st.button(
                fmt.md_escape(fmt.practice_label(practice)),
                key=f"gp_choice_{practice.code}",
                on_click=_choose_practice,
                args=(practice.code,),
            )


def offer_practices(query: str, found: list | None = None) -> bool:
    """For input that names a GP surgery: the matching surgeries to choose from."""
    found = practices(query) if found is None else found
    if not found:
        return False
    st.markdown("**Is this your GP surgery?** Choose it to see the services for its patients.")
    practice_buttons(found)
    return True
