"""The About the data page: the sources, their licences, how to report a wrong entry, privacy."""

from __future__ import annotations

import streamlit as st

from finder import PROJECT_URL, store
from finder import presentation as fmt
from finder import search as finder_search
from finder.errors import FinderError
from finder.settings import settings

# Where visitors report a wrong entry: the project's issue tracker unless a deployment names its
# own (a contact form, say) in FINDER_REPORT_URL.
REPORT_URL = settings().report_url or f"{PROJECT_URL}/issues/new"


def page() -> None:
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
            st.table(fmt.source_rows(entry), hide_index=True, hide_header=True)

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
