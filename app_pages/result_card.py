"""One service or practitioner as a card: its name, the one next step, and the facts behind it."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from finder import presentation as fmt
from finder import urgent_help


def draw(entry, england: Mapping | None, show_distance: bool, *, patient_text: bool = True) -> None:
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
