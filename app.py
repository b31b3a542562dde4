"""The finder's web app: find NHS Talking Therapies and IPT practitioners, check a therapist.

This file is the entry (`streamlit run app.py`): the page settings, the navigation between the
pages, and what every page shows (the crisis banner first, the links to the other pages last).
Each page is a module of `app_pages/`; it reads its widgets, makes one call into `finder`, and
draws what comes back. Words and links are made by `finder.presentation`; urgent-help numbers
live only in `finder.urgent_help`. Imported or scraped text is escaped before it reaches Markdown
and never rendered as HTML; only http(s) URLs become links. Searches are not logged and nothing
is tracked.
"""

from __future__ import annotations

import logging
import traceback

import streamlit as st

from app_pages import about_data, about_ipt, check_therapist, find_help
from finder import presentation as fmt
from finder import urgent_help

_log = logging.getLogger(__name__)  # errors only: never what anyone searched for

# Each page: what runs it, its title and icon, and its address (shared links use it).
PAGES = {
    "find": (find_help.page, "Find help", ":material/search:", "find-help"),
    "check": (check_therapist.page, "Check a therapist", ":material/badge:", "check"),
    "ipt": (about_ipt.page, "About IPT", ":material/forum:", "about-ipt"),
    "data": (about_data.page, "About the data", ":material/dataset:", "about-data"),
}


def urgent_help_box() -> None:
    """On every page, before anything else: a compact line of crisis numbers that opens to the
    full list. Talking therapies are not a crisis service."""
    with st.container(border=True, key="urgent_help"):
        st.markdown(fmt.crisis_line(urgent_help.CRISIS_LINES))
        with st.expander("More about getting help now"):
            st.markdown(f"**{urgent_help.NOT_A_CRISIS_SERVICE}**")
            st.markdown(fmt.helpline_list(urgent_help.CRISIS_LINES))
            st.caption(f"These numbers were last checked on {urgent_help.CHECKED_ON}.")


# A visible focus ring on every control (Streamlit's own is faint on checkboxes, radios and
# sliders), and a skip link that appears when it has keyboard focus. Static CSS: no data in it.
ACCESSIBILITY_CSS = """
<style>
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible,
[role="slider"]:focus-visible, [role="radio"]:focus-visible, [role="checkbox"]:focus-visible,
label:focus-within, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #ffb81c !important; outline-offset: 2px !important;
  box-shadow: 0 0 0 5px #212b32 !important;
}
[data-testid="stCaptionContainer"] { color: #4c6272 !important; }
[data-testid="stCaptionContainer"] a { color: #005eb8 !important; }
.skip-link { position: absolute; left: -10000px; top: 0; }
.skip-link:focus { position: static; display: inline-block; padding: 0.4rem 0.6rem;
  background: #ffb81c; color: #212b32; font-weight: 600; }
</style>
"""


def accessibility_aids() -> None:
    st.html(ACCESSIBILITY_CSS)


def site_nav(current: str) -> None:
    """The pages as labelled links (Streamlit's own top menu becomes an unlabelled "»" on phones)."""
    with st.container(horizontal=True, key="site_nav", gap="medium"):
        for key, (_, title, icon, _) in PAGES.items():
            if key != current:
                st.page_link(_page_objects[key], label=title, icon=icon)


_page_objects: dict = {}


def main(default: str = "find") -> None:
    """Build the navigation and run the chosen page. `default` is the page shown at the root
    address; tests use it to open each page through the same navigation."""
    st.set_page_config(page_title="Talking therapy finder", page_icon=":material/support:", layout="centered")
    for key, (function, title, icon, url_path) in PAGES.items():
        _page_objects[key] = st.Page(
            function, title=title, icon=icon, url_path=url_path, default=(key == default)
        )
    page = st.navigation(list(_page_objects.values()), position="hidden")
    accessibility_aids()
    urgent_help_box()
    current = next((k for k, p in _page_objects.items() if p.url_path == page.url_path), default)
    try:
        page.run()
    except Exception as error:  # never Streamlit's error page: a calm message and the way on
        # The stack only: the message could hold what someone typed, which is never logged.
        stack = "".join(traceback.format_tb(error.__traceback__))
        _log.error("page %r failed with %s\n%s", page.title, type(error).__name__, stack)
        st.error(
            "Sorry, something went wrong on our side and this page could not be shown. Please try "
            "again in a moment. If you need to talk to someone now, use the numbers at the top of "
            "this page.",
            icon=":material/error:",
        )
    st.divider()
    st.markdown("**More from this site**")
    site_nav(current)


if __name__ == "__main__":
    main()
