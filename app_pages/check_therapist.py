"""The Check a therapist page: each register's own answer, the summary first."""

from __future__ import annotations

import streamlit as st

from finder import presentation as fmt
from finder.cli import live
from finder.errors import FinderError
from finder.settings import settings


# FINDER_OFFLINE_CHECKS=1 (finder/settings.py) checks registers without any network access (demos,
# tests, a machine offline): the page then answers from local data and gives a link to search
# each register by hand.
def _offline_checks() -> bool:
    return settings().offline_checks


def page() -> None:
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
        st.markdown(
            "Possible matches: " + "; ".join(fmt.md_escape(fmt.candidate_text(c)) for c in candidates)
        )
