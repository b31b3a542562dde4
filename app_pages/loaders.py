"""Cached loaders: the data each page reads, loaded once per data version."""

from __future__ import annotations

import streamlit as st

from finder import postcodes, services, store
from finder import search as finder_search
from finder.errors import FinderError


def data_stamp() -> tuple:
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
def _england_by_period(stamp: tuple) -> dict[str, dict]:
    """England's figures by period, so each service is compared with England in the same year."""
    try:
        return services.england_outcomes_by_period()
    except (FinderError, ValueError, AttributeError):
        return {}


def warm() -> None:
    """The data in memory before a search (a no-op once loaded for this data version)."""
    _warm_data(data_stamp())


def england_by_period() -> dict[str, dict]:
    return _england_by_period(data_stamp())


def practitioners_held() -> bool:
    """Whether any private practitioner is held: without any, the private options are hidden."""
    warm()
    try:
        return finder_search.dataset().count("private") > 0
    except FinderError:
        return False
