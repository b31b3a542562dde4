"""The search a page shows: from the address bar, the form's widgets and the last search."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from finder.search import SearchRequest

RADIUS_CHOICES = (1, 2, 5, 10, 20, 50, 100)
DEFAULT_RADIUS = 10
RESULT_LIMIT = 50


def _search_from_params() -> SearchRequest:
    """The search described by the address bar (a shared link); a value it cannot use (a mangled
    distance, an unknown option) is left at its default so the link still searches."""
    request = SearchRequest.from_shared_link(st.query_params.to_dict())
    # The distance slider offers a few choices: the nearest one stands for any other distance.
    radius = min(RADIUS_CHOICES, key=lambda choice: abs(choice - request.radius_miles))
    return replace(request, radius_miles=radius, limit=RESULT_LIMIT)


def seed_search_widgets() -> None:
    """Fill the search form: from the address bar when a session starts (so a shared link works),
    and from the last search when coming back from another page (Streamlit forgets the widgets
    of a page that is not shown)."""
    if "fh_query" in st.session_state:
        return
    if not st.session_state.get("fh_started"):
        st.session_state.fh_started = True
        search = _search_from_params()
        st.session_state.fh_committed = search if search.query else None
    search = st.session_state.get("fh_committed") or NEW_SEARCH
    from_page = _widgets_the_page_sent()
    for field, key in _WIDGET_KEYS.items():  # the chosen GP surgery is not a widget
        if key not in from_page:
            st.session_state[key] = getattr(search, field)
    if "fh_radius" not in from_page:
        st.session_state.fh_radius = int(search.radius_miles)  # one of RADIUS_CHOICES


def _widgets_the_page_sent() -> frozenset[str]:
    """The form's fields whose values came with this run from the page, on a session's first run.

    That happens when the page's server stopped (a replica died or was replaced in a rolling
    update) and the page reconnected to another one, which starts a new session: what the person
    has typed since must win over the address bar, or their next search would be replaced by the
    previous one. Streamlit has no public call for this; should its internals change, nothing is
    taken from the page and the address bar wins, as on a fresh visit."""
    try:
        from streamlit.runtime.state.common import user_key_from_element_id
        from streamlit.runtime.state.session_state_proxy import get_session_state

        sent = get_session_state().get_widget_states()
        return frozenset(filter(None, (user_key_from_element_id(state.id) for state in sent)))
    except (AttributeError, ImportError, TypeError):
        return frozenset()


NEW_SEARCH = SearchRequest(radius_miles=DEFAULT_RADIUS, limit=RESULT_LIMIT)
# Which widget shows each part of the search.
_WIDGET_KEYS = {
    "query": "fh_query",
    "radius_miles": "fh_radius",
    "kind": "fh_kind",
    "self_referral_online": "fh_online",
    "ipt": "fh_ipt",
    "ipt_include_website": "fh_ipt_web",
    "mode": "fh_mode",
}


def current_search() -> SearchRequest:
    """The search the form describes (a new search leaves the surgery chosen before)."""
    return SearchRequest(
        **{field: st.session_state[key] for field, key in _WIDGET_KEYS.items()}, limit=RESULT_LIMIT
    )


def write_search_params(search: SearchRequest) -> None:
    """Put the search in the address bar (defaults left out, so links stay short)."""
    st.query_params.from_dict(search.to_query_params())


def count_new_search() -> None:
    """A new search was asked for: its number keys what is drawn once per search (the folded
    groups, the move of focus to the answer)."""
    st.session_state.fh_new_search = st.session_state.get("fh_new_search", 0) + 1


def commit(**changes: object) -> None:
    """Search again with `changes` to the last search (a place or GP surgery chosen from a list)."""
    committed = st.session_state.get("fh_committed") or NEW_SEARCH
    st.session_state.fh_committed = replace(committed, **changes)
    count_new_search()
