"""The finder's web app: find NHS Talking Therapies and IPT practitioners, check a therapist.

Thin by design: each page reads its widgets, makes one call into `finder`, and renders what comes
back. Words and links are made by `finder.presentation`; urgent-help numbers live only in
`finder.urgent_help`. Imported or scraped text is escaped before it reaches Markdown and never
rendered as HTML; only http(s) URLs become links. Searches are not logged and nothing is tracked.

Run with `streamlit run app.py`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from dataclasses import replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from finder import PROJECT_URL, about_ipt, place_input, postcodes, services, store, urgent_help
from finder import presentation as fmt
from finder import search as finder_search
from finder.cli import live
from finder.errors import FinderError, PostcodeError
from finder.search import SearchRequest
from finder.settings import settings

RADIUS_CHOICES = (1, 2, 5, 10, 20, 50, 100)
DEFAULT_RADIUS = 10
KIND_LABELS = {"all": "NHS and private", "nhs": "NHS only", "private": "Private only"}
MODE_LABELS = {"any": "Online or in person", "online": "Online", "in_person": "In person"}
RESULT_LIMIT = 50
RESULTS_SHOWN = 20  # drawn at first; "Show all" draws the rest of RESULT_LIMIT
# FINDER_OFFLINE_CHECKS=1 (finder/settings.py) checks registers without any network access (demos,
# tests, a machine offline): the check page then answers from local data and gives a link to
# search each register by hand.
# Where visitors report a wrong entry: the project's issue tracker unless a deployment names its
# own (a contact form, say) in FINDER_REPORT_URL.
REPORT_URL = settings().report_url or f"{PROJECT_URL}/issues/new"

ACCENT = "#1d70b8"  # NHS-style blue for services on the map
HERE = "#d4351c"  # red for the search point
# finder.search's notice for a postcode outside England begins with this; the app's nation box
# says the same with that nation's own route, so the notice is not shown twice.

_log = logging.getLogger(__name__)  # errors only: never what anyone searched for


# ---------------------------------------------------------------------------------------------
# Shared pieces


def urgent_help_box() -> None:
    """On every page, before anything else: a compact line of crisis numbers that opens to the
    full list. Talking therapies are not a crisis service."""
    with st.container(border=True, key="urgent_help"):
        st.markdown(
            "**Need help now?** Call [999](tel:999) · [NHS 111, option 2](tel:111) · "
            "Samaritans [116 123](tel:116123) · Text SHOUT to [85258](sms:85258). "
            "Talking therapies are not a crisis service."
        )
        with st.expander("More about getting help now"):
            st.markdown(f"**{urgent_help.NOT_A_CRISIS_SERVICE}**")
            st.markdown(_helpline_list(urgent_help.CRISIS_LINES))
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


def _helpline_list(helplines) -> str:
    """A Markdown list of helplines; numbers to call are tel: links (text services stay text)."""
    lines = []
    for line in helplines:
        link = urgent_help.tel_link(line)
        how = f"[{line.how}]({link})" if link and link.startswith("tel:") else line.how
        lines.append(f"- **{how}** {line.when}.")
    return "\n".join(lines)


def nation_route_box(country: str) -> None:
    route = urgent_help.nation_route(country)
    if route is None:
        return
    with st.container(border=True, key="nation_route"):
        st.markdown(f"### If you live in {fmt.md_escape(route.place)}")
        st.markdown(fmt.md_escape(route.summary))
        if route.links:
            st.markdown("\n".join(f"- {fmt.md_link(link.label, link.url)}" for link in route.links))
        if route.helplines:
            st.markdown(_helpline_list(route.helplines))
        st.caption(f"These links and numbers were last checked on {urgent_help.CHECKED_ON}.")


def _data_stamp() -> tuple:
    """Changes whenever a publish replaces files in data/, so cached data is reloaded after a
    refresh (finder.store's one stamp, which every finder reader uses too)."""
    return store.data_version()


@st.cache_resource(max_entries=1, show_spinner=False)
def _warm_data(stamp: tuple) -> bool:
    """Load the postcode tables and records once per data version (finder keeps them in memory
    and notices replaced files itself; this makes the first search of a session fast)."""
    try:
        finder_search.dataset()
        postcodes.tables()
    except FinderError:
        return False
    return True


@st.cache_resource(max_entries=1, show_spinner=False)
def _england(stamp: tuple) -> dict[str, dict]:
    """England's figures by period, so each service is compared with England in the same year."""
    try:
        return services.england_outcomes_by_period()
    except (FinderError, ValueError, AttributeError):
        return {}


# ---------------------------------------------------------------------------------------------
# Find help


def _search_from_params() -> SearchRequest:
    """The search described by the address bar (a shared link); a value it cannot use (a mangled
    distance, an unknown option) is left at its default so the link still searches."""
    request = SearchRequest.from_shared_link(st.query_params.to_dict())
    # The distance slider offers a few choices: the nearest one stands for any other distance.
    radius = min(RADIUS_CHOICES, key=lambda choice: abs(choice - request.radius_miles))
    return replace(request, radius_miles=radius, limit=RESULT_LIMIT)


def _seed_search_widgets() -> None:
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


def _current_search() -> SearchRequest:
    """The search the form describes (a new search leaves the surgery chosen before)."""
    return SearchRequest(
        **{field: st.session_state[key] for field, key in _WIDGET_KEYS.items()}, limit=RESULT_LIMIT
    )


def _write_search_params(search: SearchRequest) -> None:
    """Put the search in the address bar (defaults left out, so links stay short)."""
    st.query_params.from_dict(search.to_query_params())


SEARCH_LABEL = "Postcode, town or GP surgery"


def _practitioners_held() -> bool:
    _warm_data(_data_stamp())
    try:
        return finder_search.dataset().count("private") > 0
    except FinderError:
        return False


def find_help_page() -> None:
    st.markdown('<a class="skip-link" href="#search-form">Skip to the search box</a>', unsafe_allow_html=True)
    st.title("Find talking therapy")
    st.markdown("Find your free NHS Talking Therapies service and how to refer yourself.")
    _seed_search_widgets()
    practitioners = _practitioners_held()
    st.html('<span id="search-form"></span>')
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
                "Other services near you: how far (miles)", options=RADIUS_CHOICES, key="fh_radius"
            )
            if practitioners:
                st.radio(
                    "Show",
                    options=list(KIND_LABELS),
                    format_func=KIND_LABELS.get,
                    key="fh_kind",
                    horizontal=True,
                )
                st.radio(
                    "Private therapists: online or in person",
                    options=list(MODE_LABELS),
                    format_func=MODE_LABELS.get,
                    key="fh_mode",
                    horizontal=True,
                )
    if submitted:
        search = _current_search()
        st.session_state.fh_committed = search if search.query else None
        st.session_state.fh_new_search = st.session_state.get("fh_new_search", 0) + 1
        if not search.query:
            st.query_params.clear()
            st.error(
                "Please type a postcode (like LS6 3QG), a town or a GP surgery.", icon=":material/error:"
            )
            return
    committed = st.session_state.get("fh_committed")
    if committed:
        _write_search_params(committed)  # also after coming back from another page
        show_results(committed, practitioners=practitioners)
    elif not practitioners:
        st.caption(PRIVATE_HINT)


IPT_UK_DIRECTORY = "https://www.iptuk.net/find-a-therapist.html"  # as finder.cli.live links it
PRIVATE_HINT = (
    "Looking for a private IPT therapist? Find an accredited one in "
    f"[IPT UK's directory]({IPT_UK_DIRECTORY}), then check them on the Check a therapist page."
)


def _choose_place(query: str) -> None:
    st.session_state.fh_query = query
    committed = st.session_state.get("fh_committed") or NEW_SEARCH
    st.session_state.fh_committed = replace(committed, query=query, gp=None)
    st.session_state.fh_new_search = st.session_state.get("fh_new_search", 0) + 1


def place_buttons(options, key: str) -> None:
    """Places a person may have meant, as buttons that search for that place."""
    with st.container(horizontal=True, key=f"choices_{key}"):
        for i, choice in enumerate(options):
            st.button(choice.label, key=f"{key}_{i}", on_click=_choose_place, args=(choice.query,))


def _choose_practice(code: str) -> None:
    """Search from the chosen GP surgery (the box keeps what was typed)."""
    committed = st.session_state.get("fh_committed") or NEW_SEARCH
    st.session_state.fh_committed = replace(committed, gp=code)
    st.session_state.fh_new_search = st.session_state.get("fh_new_search", 0) + 1


def _practices(query: str) -> list:
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
                fmt.practice_label(practice),
                key=f"gp_choice_{practice.code}",
                on_click=_choose_practice,
                args=(practice.code,),
            )


def _offer_practices(query: str, found: list | None = None) -> bool:
    """For input that names a GP surgery: the matching surgeries to choose from."""
    found = _practices(query) if found is None else found
    if not found:
        return False
    st.markdown("**Is this your GP surgery?** Choose it to see the services for its patients.")
    practice_buttons(found)
    return True


def _resolve(search: SearchRequest) -> str | None:
    """The query as the search will read it, or None after saying what to change."""
    prepared = place_input.prepare(search.query)
    if prepared.problem:
        st.error(prepared.problem, icon=":material/error:")
        return None
    if prepared.note:
        st.info(fmt.md_escape(prepared.note), icon=":material/info:")
    if prepared.query is None:
        return None
    try:
        return place_input.with_nation(prepared.query, postcodes.tables())
    except FinderError:
        return prepared.query


def _place_problem(error: PostcodeError, query: str) -> None:
    """A query that found no single place: the choices or nearest spellings as buttons."""
    try:
        t = postcodes.tables()
    except FinderError:
        t = None
    options = []
    if t is not None and error.reason == "ambiguous":
        options = place_input.choices(query, t)
        if options:
            st.warning(
                f"More than one place is called {fmt.md_escape(query)}. Which one?", icon=":material/help:"
            )
            place_buttons(options, "place_choice")
            return
    if t is not None and error.reason == "unknown":
        options = place_input.suggestions(query, t)
        found = _practices(query)
        if found:  # not a place we know: perhaps the name of a GP surgery
            st.warning(f"We don't know a place called {fmt.md_escape(query)}.", icon=":material/help:")
            _offer_practices(query, found)
            if options:
                st.markdown("Or did you mean the place:")
                place_buttons(options, "place_suggestion")
            return
    st.error(fmt.md_escape(str(error)), icon=":material/error:")
    if options:
        st.markdown("Did you mean:")
        place_buttons(options, "place_suggestion")


def _move_to_answer() -> None:
    """After Search, move keyboard focus (and so the screen reader) and the view to the answer.
    Streamlit cannot move focus itself; a small script does it once per search."""
    counter = st.session_state.get("fh_new_search", 0)
    if not counter or st.session_state.get("fh_moved") == counter:
        return
    st.session_state.fh_moved = counter
    # st.html runs the script in the page itself: no frame to load, unlike components.html.
    st.html(
        # Each search's script runs in the same page: its names live in a function of their own
        # (a second top-level `let tries` would be a redeclaration, and the script would stop).
        f"""<script>/* search {counter} */
        (() => {{
        let tries = 0, checks = 0, left = null;
        const move = () => {{
          const target = document.getElementById("answer");
          if (!target) {{ if (tries++ < 40) setTimeout(move, 50); return; }}
          if (left === null) {{
            target.setAttribute("tabindex", "-1");
            target.focus({{preventScroll: true}});
          }} else if (Math.abs(target.getBoundingClientRect().top - left) > 2) {{
            return;  // the person has scrolled since: the view is theirs
          }}
          target.scrollIntoView({{block: "start"}});
          left = target.getBoundingClientRect().top;
          // The cards below may still be drawing, and a page not yet tall enough cannot bring the
          // answer to the top: on a slow phone the first card stayed below the screen. Try again
          // while the answer is not at the top, for a second and a half.
          if (left > 4 && checks++ < 15) setTimeout(move, 100);
        }};
        move();
        }})();
        </script>""",
        unsafe_allow_javascript=True,
    )


def show_results(search: SearchRequest, *, practitioners: bool = True) -> None:
    _warm_data(_data_stamp())
    practice = _chosen_practice(search.gp)
    if practice is None:
        query = _resolve(search)
        if query is None:
            return
        if place_input.looks_like_surgery(query) and _offer_practices(query):
            return
    else:
        query = practice.code
    try:
        response = finder_search.search(
            replace(
                search,
                query=query,
                kind=search.kind if practitioners else "nhs",
                limit=RESULT_LIMIT,
                gp=practice.code if practice else None,
            )
        )
    except FinderError as error:
        if isinstance(error, PostcodeError) and error.reason != "no_data":
            _place_problem(error, query)
            return
        # The data could not be read: the operator's problem (logged for them), not the visitor's.
        _log.error("search failed: %s", error)
        st.error(
            f"Sorry, the search is not working just now. Please try again later, or {_nhs_website_link()}.",
            icon=":material/error:",
        )
        return
    _answer(search, response, practitioners, practice)


def _chosen_practice(code: str | None):
    """The GP surgery a search is from (chosen from a list or in a shared link), or None."""
    if not code:
        return None
    found = _practices(code)
    return found[0] if found and found[0].code == code else None


def _answer(search: SearchRequest, response, practitioners: bool, practice=None) -> None:
    where = response.query
    _answer_heading(search, where, practice)
    groups = fmt.group_results(response.results)
    # Without a general service known to cover the person, the NHS finder is the next step: a box
    # with a button says so, instead of the notice.
    unknown = any(getattr(n, "code", None) == "no_covering_service" for n in response.notices)
    finder_box = bool(
        (unknown or not any(g.key == "yours" for g in groups))
        and any(r.get("kind") == "nhs" for r in response.results)
        and finder_search.nhs_available(where)
    )
    nation_shown = _has_nation_route(where)
    if nation_shown:
        nation_route_box(where.country)
        if not response.results:
            return  # the nation's route says it all
    notices = _notices_to_show(response.notices, finder_box=finder_box, nation_shown=nation_shown)
    _draw_notices(notices, practitioners)
    results = response.results
    if not results:
        if not notices:
            st.markdown(
                "**No services matched.** Try fewer options, or a longer distance under More options."
            )
        if finder_search.nhs_available(where):
            st.markdown(f"You can also {_nhs_website_link()}.")
        return
    if finder_box:
        nhs_finder_box(where)
    if not nation_shown:
        _only_online_options_note(search, where, results)
    england_by_period = _england(_data_stamp())
    shown = 0
    for group in groups:
        shown = _draw_group(group, england_by_period, search, shown, where)
    if not practitioners:
        st.caption(PRIVATE_HINT)
    show_map(where, results[:RESULTS_SHOWN])
    st.download_button(
        "Download these results (CSV)",
        data=fmt.results_csv(results),
        file_name="talking-therapy-results.csv",
        mime="text/csv",
        on_click="ignore",
        key="fh_csv",
    )
    st.caption("To share this search, copy the address from your browser's address bar.")


def _answer_heading(search: SearchRequest, where, practice) -> None:
    """What the answer is for (the surgery, or the place), and other places of the same name."""
    if practice is not None:
        label = fmt.md_escape(fmt.practice_label(practice))
        st.header(f"Services for people registered at {label}", anchor="answer")
        st.markdown("Not your surgery? Type its name, or your postcode, in the box above.")
    else:
        place = fmt.md_escape(where.postcode or search.query)
        st.header(f"Results for {place}", anchor="answer")
    _move_to_answer()
    if where.kind == "place":
        try:
            used, others = place_input.place_used(where.postcode, where.lat, where.lon, postcodes.tables())
        except FinderError:
            used, others = "", []
        if others:
            st.markdown(f"We used **{fmt.md_escape(used)}**. Not this one?")
            place_buttons(others, "place_other")


def _has_nation_route(where) -> bool:
    return bool(where.country and where.country != "England" and urgent_help.nation_route(where.country))


def _notices_to_show(notices: list, *, finder_box: bool, nation_shown: bool) -> list:
    """The search's notices less those the page says its own way: the NHS finder box replaces
    "no covering service"; the nation's route replaces the empty-result and missing-practitioner
    notices."""
    hidden = set()
    if finder_box:
        hidden.add("no_covering_service")
    if nation_shown:
        hidden |= {"nation", "nothing_matched", "no_practitioners"}
    return [n for n in notices if getattr(n, "code", None) not in hidden]


def _draw_notices(notices: list, practitioners: bool) -> None:
    for notice in notices:
        code = getattr(notice, "code", None)
        if code == "no_practitioners" and not practitioners:
            continue
        if code == "gp_decides":
            # Said on every postcode search: a line, not a box, so the answer stays on a phone's
            # first screen.
            st.markdown(fmt.md_escape(notice))
            continue
        st.info(fmt.md_escape(notice), icon=":material/info:")


def _only_online_options_note(search: SearchRequest, where, results: list[dict]) -> None:
    """Nothing near and no service for the person's area: what is listed works online."""
    localised = any(r.get("coverage") in ("covers", "covers_part", "same_icb") for r in results)
    if not where.has_coordinates or localised or any(r.get("within_radius") for r in results):
        return
    miles = "mile" if search.radius_miles == 1 else "miles"
    st.info(
        f"Nothing matched within {search.radius_miles:g} {miles}. The options below work online, so you "
        f"can use them from where you are. You can also {_nhs_website_link()}.",
        icon=":material/info:",
    )


def nhs_finder_box(where) -> None:
    """No service is known to cover the person: the NHS website finds it from their GP surgery."""
    area = getattr(where, "area", None)
    place = f"{area.district_name}" if area else "your area"
    with st.container(border=True, key="nhs_finder"):
        st.subheader("Find your NHS Talking Therapies service")
        st.markdown(
            f"We don't know which NHS Talking Therapies service covers {fmt.md_escape(place)}. "
            "The NHS website finds it from your GP surgery, and shows how to refer yourself."
        )
        st.link_button(
            "Find your service on the NHS website",
            urgent_help.NHS_TALKING_THERAPIES_FINDER,
            type="primary",
            icon=":material/open_in_new:",
        )
        st.caption(
            "The services below may cover your area, are based in your NHS area or are open to anyone "
            "in England."
        )


def _icb_words(where) -> str | None:
    """Which NHS area "based in your NHS area" means, and whether we inferred it."""
    area = getattr(where, "area", None)
    if area is None or not area.icb_name:
        return None
    words = f"Services based in your NHS area ({area.icb_name}) come first."
    if area.icb_inferred:
        words += (
            f" The NHS reorganised its areas in April 2026: we worked out that {area.district_name} is "
            "now in this one from the published changes, so it may be wrong."
        )
    return fmt.md_escape(words)


def _draw_group(group, england_by_period, search: SearchRequest, shown: int, where=None) -> int:
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
            icb = _icb_words(where)
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
            result_card(
                entry,
                fmt.england_for(entry.record, england_by_period),
                group.show_distance,
                patient_text=not group.folded,
            )
            shown += 1
    return shown


def _nhs_website_link() -> str:
    return fmt.md_link(
        "find your local NHS Talking Therapies service on the NHS website",
        urgent_help.NHS_TALKING_THERAPIES_FINDER,
    )


def result_card(entry, england: Mapping | None, show_distance: bool, *, patient_text: bool = True) -> None:
    """One service. The "Send to a patient" text is built only for the open group (the services
    that take the person): a copyable code box on every folded card slowed each search."""
    record = entry.record
    card = fmt.result_card(
        record, england, nhs_finder_url=urgent_help.NHS_TALKING_THERAPIES_FINDER, show_distance=show_distance
    )
    with st.container(border=True):
        st.subheader(card.title, anchor=False)  # level 3, under its group's heading
        if card.run_by:
            st.caption(card.run_by)
        if card.who_for:
            st.markdown(card.who_for)
        if card.action:
            st.link_button(
                card.action.label,
                card.action.url,
                type="primary",
                icon=":material/call:" if card.action.url.startswith("tel:") else ":material/open_in_new:",
                key=f"act_{record.get('id')}",
            )
        lines = [line for line in (card.distance, card.ipt, card.outcomes) if line]
        st.markdown("  \n".join(lines))
        for partner in entry.partners:
            st.markdown(fmt.partner_line(partner, record))
        if card.contacts or card.details:
            st.markdown("  \n".join((*card.details, *card.contacts)))
        with st.expander("Where this comes from"):
            st.markdown("\n".join(f"- {line}" for line in card.sources) or "No sources recorded.")
        if patient_text and record.get("kind") == "nhs":
            with st.expander("Send to a patient"):
                st.caption(
                    "Plain text to copy into a message or print (the copy button is at the top right)."
                )
                st.code(
                    fmt.patient_text(
                        record,
                        urgent_help.CRISIS_LINES,
                        not_a_crisis=urgent_help.NOT_A_CRISIS_SERVICE,
                        nhs_finder_url=urgent_help.NHS_TALKING_THERAPIES_FINDER,
                    ),
                    language=None,
                    wrap_lines=True,
                )


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


# ---------------------------------------------------------------------------------------------
# Check a therapist


def _offline_checks() -> bool:
    return settings().offline_checks


def check_page() -> None:
    st.title("Check a therapist")
    st.markdown(
        "Check that a therapist is on the professional registers they say they belong to, and "
        "whether they are accredited for Interpersonal Therapy (IPT). We ask each register's own "
        "public search and show when we checked."
    )
    with st.form("check_form", enter_to_submit=True):
        name = st.text_input("Therapist's name", key="ck_name", max_chars=100)
        number = st.text_input("Registration number (optional)", key="ck_number", max_chars=40)
        submitted = st.form_submit_button("Check", type="primary", key="ck_submit")
    if submitted:
        with st.spinner("Asking the registers..."):
            try:
                result = live.check_therapist(name, number.strip() or None, offline=_offline_checks())
            except FinderError as error:
                st.error(fmt.md_escape(str(error)), icon=":material/error:")
                st.session_state.ck_result = None
                return
        st.session_state.ck_result = result.to_json()
    shown = st.session_state.get("ck_result")
    if shown:
        show_check(shown)


def _parsed_number(result: dict):
    from finder.accreditation import parse_registration_number

    try:
        return parse_registration_number((result.get("query") or {}).get("registration_number"))
    except FinderError:
        return None


def show_check(result: dict) -> None:
    """A three-line summary first; each register's details folded, the relevant ones open."""
    number = _parsed_number(result)
    summary = fmt.check_summary(result, number)
    accredited = (result.get("overall") or {}).get("ipt_accredited")
    (st.success if accredited else st.info)("  \n".join(summary), icon=":material/fact_check:")
    registers = result.get("registers") or []
    if not registers:
        return
    relevant = fmt.relevant_registers(registers, getattr(number, "kind", None))
    st.markdown("#### What each register said")
    for register in registers:
        name = str(register.get("register") or "")
        words = fmt.status_words(register.get("status", ""))
        with st.expander(f"{name}: {words.words.split(':')[0]}", expanded=name in relevant):
            _register_details(register, words)


def _register_details(register: dict, words) -> None:
    status = register.get("status", "")
    show = {"success": st.success, "warning": st.warning, "error": st.error}.get(words.tone, st.info)
    show(fmt.md_escape(words.words), icon=words.icon)
    url = register.get("url")
    facts = [
        ("Level", register.get("level")),
        ("Number", register.get("registration_number")),
        ("Name on register", register.get("name_on_register")),
    ]
    lines = [f"{label}: {fmt.md_escape(value)}" for label, value in facts if value]
    if status != "manual_check":  # a register left to be checked by hand was not checked here
        checked = fmt.checked_text(register.get("checked_at"))
        if checked:
            lines.append(f"Checked: {fmt.md_escape(checked)}")
    if fmt.safe_url(url):
        lines.append(fmt.md_link("Open this register's own search", url))
    st.markdown("  \n".join(lines))
    candidates = register.get("candidates") or []
    if candidates:
        st.markdown("Possible matches: " + "; ".join(fmt.md_escape(_candidate(c)) for c in candidates))


def _candidate(candidate: object) -> str:
    if isinstance(candidate, dict):
        parts = [candidate.get("name"), candidate.get("registration_number"), candidate.get("location")]
        return ", ".join(str(p) for p in parts if p)
    return str(candidate)


# ---------------------------------------------------------------------------------------------
# About IPT


def about_ipt_page() -> None:
    st.title(about_ipt.TITLE)
    st.markdown("## What it is")
    st.markdown(about_ipt.WHAT_IT_IS)
    st.markdown("## Who it helps")
    st.markdown(about_ipt.WHO_IT_HELPS)
    st.markdown("## How IPT compares in NHS Talking Therapies")
    try:
        period, chart = about_ipt.chart_rows(services.therapy_outcomes())
        missing = "The outcomes by therapy type have not been imported yet."
    except (FinderError, ValueError, KeyError, TypeError, AttributeError):
        period, chart = None, []
        missing = "The outcomes by therapy type could not be read just now."
    if not chart or period is None:
        st.info(missing, icon=":material/info:")
    else:
        st.markdown(about_ipt.CHART_INTRO)
        summary = about_ipt.ipt_summary(period, chart)
        if summary:
            st.markdown(f"**{fmt.md_escape(summary)}**")
        therapy_chart(period, chart)
        sources = sorted({str(r["source"]) for r in chart if r.get("source")})
        source_text = "; ".join(fmt.md_escape(s) for s in sources) or "NHS England"
        st.caption(
            f"Source: NHS England, NHS Talking Therapies annual reports, therapy-based outcomes "
            f"{fmt.md_escape(period)} ({source_text}). Open Government Licence v3.0."
        )
    st.markdown("## How to get IPT")
    st.markdown(about_ipt.HOW_TO_GET_IT)


def therapy_chart(period: str, rows: list[dict]) -> None:
    import altair as alt
    import pandas as pd

    long = pd.DataFrame(
        [
            {
                "Therapy": r["therapy_type"],
                "Measure": measure,
                "Percent": r[key],
                "Courses": r["courses"],
                "IPT": r["is_ipt"],
            }
            for r in rows
            for measure, key in (("Recovery", "recovery_pct"), ("Reliable improvement", "improvement_pct"))
            if r[key] is not None
        ]
    )
    order = [r["therapy_type"] for r in rows]
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("Therapy:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
            yOffset=alt.YOffset("Measure:N"),
            x=alt.X("Percent:Q", title="% of people finishing a course", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("Measure:N", legend=alt.Legend(orient="bottom", title=None)),
            opacity=alt.condition(alt.datum.IPT, alt.value(1.0), alt.value(0.55)),
            tooltip=["Therapy", "Measure", "Percent", "Courses"],
        )
        .properties(height=max(240, 34 * len(rows)))
    )
    st.altair_chart(
        chart,
        width="stretch",
        alt=f"Bar chart of recovery and reliable improvement by therapy type, England {period}",
    )
    with st.expander("The same figures as a table"):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Therapy": r["therapy_type"],
                        "Courses": r["courses"],
                        "Recovery %": r["recovery_pct"],
                        "Reliable improvement %": r["improvement_pct"],
                    }
                    for r in rows
                ]
            ),
            hide_index=True,
        )


# ---------------------------------------------------------------------------------------------
# About the data


def about_data_page() -> None:
    st.title("About the data")
    st.markdown(
        "The finder is built from public, openly licensed data. NHS services come from NHS England "
        "and the NHS Organisation Data Service; outcomes from NHS England's published statistics; "
        "postcodes from Ordnance Survey Code-Point Open. Each entry shows when it was last verified "
        "and links to where it came from."
    )
    info: dict = {}
    try:
        info = finder_search.dataset_info()
    except FinderError as error:
        st.error(fmt.md_escape(str(error)), icon=":material/error:")
    if not info:
        info = {"manifest": store.read_json("manifest.json", default={}) or {}}
    counts = []
    if "nhs_services" in info:
        counts.append(f"{info['nhs_services']:,} NHS Talking Therapies services")
    if "private_practitioners" in info:
        counts.append(f"{info['private_practitioners']:,} private practitioners")
    if counts:
        st.markdown("The finder holds " + " and ".join(counts) + ".")

    sources = (info.get("manifest") or {}).get("sources") or {}
    st.markdown("## Sources")
    if not sources:
        st.info("No sources have been imported yet.", icon=":material/info:")
    for name, entry in sources.items():
        with st.container(border=True):
            st.markdown(f"### {fmt.md_escape(fmt.source_title(name))}")
            st.table(_source_rows(entry), hide_index=True, hide_header=True)

    st.markdown("## Something wrong?")
    st.markdown(
        "If an entry is wrong or out of date (a closed service, a changed phone number, a "
        f"therapist's details), please {fmt.md_link('report it on our issue tracker', REPORT_URL)} "
        "with the name of the entry and what should change. Please do not include anything about "
        "your own health."
    )
    st.markdown("## Privacy")
    st.markdown(
        "The finder does not record what you search for and uses no analytics, tracking or "
        "advertising cookies. Your search is kept only in your browser's address bar, so you can share it. "
        "The map below the results is drawn with map tiles from CARTO, so your browser asks CARTO for "
        "the map around the area you searched; the list above the map works without it."
    )


def _source_rows(entry: dict) -> list[dict]:
    rows = []
    refreshed = entry.get("refreshed_at") or entry.get("imported_at")
    labels = (("source", "What"), ("licence", "Licence"))
    for key, label in labels:
        if entry.get(key):
            value = entry[key]
            text = fmt.md_link(value, value) if fmt.safe_url(value) else fmt.md_escape(value)
            rows.append({"": label, " ": text})
    if refreshed:
        rows.append({"": "Last refreshed", " ": fmt.md_escape(refreshed)})
    counts = entry.get("counts")
    if isinstance(counts, dict):
        numbers = {k: v for k, v in counts.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    else:
        numbers = {k: v for k, v in entry.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if numbers:
        rows.append(
            {
                "": "Counts",
                " ": fmt.md_escape(", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in numbers.items())),
            }
        )
    attribution = entry.get("attribution")
    if attribution:
        if isinstance(attribution, list | tuple):
            attribution = "; ".join(str(a) for a in attribution)
        rows.append({"": "Attribution", " ": fmt.md_escape(attribution)})
    return rows


# ---------------------------------------------------------------------------------------------
# Navigation

PAGES = {
    "find": (find_help_page, "Find help", ":material/search:", "find-help"),
    "check": (check_page, "Check a therapist", ":material/badge:", "check"),
    "ipt": (about_ipt_page, "About IPT", ":material/forum:", "about-ipt"),
    "data": (about_data_page, "About the data", ":material/dataset:", "about-data"),
}


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
