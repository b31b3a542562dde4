"""The answer to a search: what it is for, the notices, the groups of services, the map and the CSV."""

from __future__ import annotations

import logging
from dataclasses import replace

import streamlit as st

from app_pages import groups, loaders, results_map, search_state
from app_pages.choices import offer_practices, place_buttons, practices
from app_pages.focus import move_to_answer
from finder import place_input, postcodes, urgent_help
from finder import presentation as fmt
from finder import search as finder_search
from finder.errors import FinderError, PostcodeError
from finder.search import SearchRequest

IPT_UK_DIRECTORY = "https://www.iptuk.net/find-a-therapist.html"  # as finder.cli.live links it
PRIVATE_HINT = (
    "Looking for a private IPT therapist? Find an accredited one in "
    f"[IPT UK's directory]({IPT_UK_DIRECTORY}), then check them on the Check a therapist page."
)

_log = logging.getLogger(__name__)  # errors only: never what anyone searched for


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
            st.markdown(fmt.helpline_list(route.helplines))
        st.caption(f"These links and numbers were last checked on {urgent_help.CHECKED_ON}.")


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
        found = practices(query)
        if found:  # not a place we know: perhaps the name of a GP surgery
            st.warning(f"We don't know a place called {fmt.md_escape(query)}.", icon=":material/help:")
            offer_practices(query, found)
            if options:
                st.markdown("Or did you mean the place:")
                place_buttons(options, "place_suggestion")
            return
    st.error(fmt.md_escape(str(error)), icon=":material/error:")
    if options:
        st.markdown("Did you mean:")
        place_buttons(options, "place_suggestion")


def show_results(search: SearchRequest, *, practitioners: bool = True) -> None:
    loaders.warm()
    practice = _chosen_practice(search.gp)
    if practice is None:
        query = _resolve(search)
        if query is None:
            return
        if place_input.looks_like_surgery(query) and offer_practices(query):
            return
    else:
        query = practice.code
    try:
        response = finder_search.search(
            replace(
                search,
                query=query,
                kind=search.kind if practitioners else "nhs",
                limit=search_state.RESULT_LIMIT,
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
            f"Sorry, the search is not working just now. Please try again later, or {nhs_website_link()}.",
            icon=":material/error:",
        )
        return
    _answer(search, response, practitioners, practice)


def _chosen_practice(code: str | None):
    """The GP surgery a search is from (chosen from a list or in a shared link), or None."""
    if not code:
        return None
    found = practices(code)
    return found[0] if found and found[0].code == code else None


def _answer(search: SearchRequest, response, practitioners: bool, practice=None) -> None:
    where = response.query
    _answer_heading(search, where, practice)
    grouped = fmt.group_results(response.results)
    # A box with a button to the NHS finder, instead of the notice, where it is the next step.
    finder_box = fmt.nhs_finder_is_next_step(
        grouped, response.notices, response.results
    ) and finder_search.nhs_available(where)
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
            st.markdown(f"You can also {nhs_website_link()}.")
        return
    if finder_box:
        nhs_finder_box(where)
    if not nation_shown:
        _only_online_options_note(search, where, results)
    england_by_period = loaders.england_by_period()
    shown = 0
    for group in grouped:
        shown = groups.draw_group(group, england_by_period, search, shown, where)
    if not practitioners:
        st.caption(PRIVATE_HINT)
    results_map.show_map(where, results[: groups.RESULTS_SHOWN])
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
    move_to_answer()
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
        f"can use them from where you are. You can also {nhs_website_link()}.",
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


def nhs_website_link() -> str:
    return fmt.md_link(
        "find your local NHS Talking Therapies service on the NHS website",
        urgent_help.NHS_TALKING_THERAPIES_FINDER,
    )
