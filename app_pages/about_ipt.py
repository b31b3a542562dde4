"""The About IPT page: what it is, who it helps, and how it does in NHS Talking Therapies."""

from __future__ import annotations

import streamlit as st

from finder import about_ipt, services
from finder import presentation as fmt
from finder.errors import FinderError


def page() -> None:
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
