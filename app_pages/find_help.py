"""The Find help page: the search form, and the answer under it."""

from __future__ import annotations

import streamlit as st

from app_pages import answer, loaders, search_state
from finder import search as finder_search

SEARCH_LABEL = "Postcode, town or GP surgery"
KIND_LABELS = {"all": "NHS and private", "nhs": "NHS only", "private": "Private only"}
MODE_LABELS = {"any": "Online or in person", "online": "Online", "in_person": "In person"}


def page() -> None:
    st.markdown('<a class="skip-link" href="#search-form">Skip to the search box</a>', unsafe_allow_html=True)
    st.title("Find talking therapy")
    st.markdown("Find your free NHS Talking Therapies service and how to refer yourself.")
    search_state.seed_search_widgets()
    practitioners = loaders.practitioners_held()
    st.html('<span id="search-form"></span>')
    submitted = search_form(practitioners)
    if submitted:
        search = search_state.current_search()
        st.session_state.fh_committed = search if search.query else None
        search_state.count_new_search()
        if not search.query:
            st.query_params.clear()
            st.error(
                "Please type a postcode (like LS6 3QG), a town or a GP surgery.", icon=":material/error:"
            )
            return
    committed = st.session_state.get("fh_committed")
    if committed:
        search_state.write_search_params(committed)  # also after coming back from another page
        answer.show_results(committed, practitioners=practitioners)
    elif not practitioners:
        st.caption(answer.PRIVATE_HINT)


# The private options, shown only when private practitioners are held: label, choices, widget.
PRIVATE_OPTIONS = (
    ("Show", KIND_LABELS, "fh_kind"),
    ("Private therapists: online or in person", MODE_LABELS, "fh_mode"),
)


def search_form(practitioners: bool) -> bool:
    """The search box and its options; True when Search was pressed (or Enter in the box)."""
    with st.form("find_help_form", enter_to_submit=True, border=False):
        st.text_input(
            SEARCH_LABEL,
            key="fh_query",
            max_chars=finder_search.MAX_QUERY_CHARS,  # a pasted address is read for its postcode, so it is not cut short
            placeholder="For example LS6 3QG or Leeds",
            autocomplete="postal-code",
        )
        submitted = st.form_submit_button("Search", type="primary", key="fh_search")
        with st.expander("More options"):
            st.checkbox("I can refer myself online", key="fh_online")
            st.checkbox("Delivers IPT", key="fh_ipt")
            st.checkbox(
                "Also services whose own website mentions IPT (NHS England's figures don't show it)",
                key="fh_ipt_web",
            )
            st.select_slider(
                "Other services near you: how far (miles)",
                options=search_state.RADIUS_CHOICES,
                key="fh_radius",
            )
            for label, choices, key in PRIVATE_OPTIONS if practitioners else ():
                st.radio(label, options=list(choices), format_func=choices.get, key=key, horizontal=True)
    return submitted
