"""What Interpersonal Therapy is, in our own plain words, and the numbers behind the IPT chart.

The text is ours (not copied from any service's page). Figures come from NHS England's
"Therapy-based outcomes" annual data through `finder.services.therapy_outcomes()`; this module
only picks and shapes them for the chart, so the shaping is tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from finder.ipt_evidence import as_number

TITLE = "About Interpersonal Therapy (IPT)"

WHAT_IT_IS = """\
Interpersonal Therapy (IPT) is a talking therapy for depression. It starts from a simple
observation: how we feel and how things are going with the people around us affect each other.
When life changes (a loss, a falling-out, a new role such as becoming a parent or retiring, or
feeling cut off from others), low mood can follow, and low mood in turn makes relationships harder.

In IPT you and your therapist agree on one or two of these areas to focus on. Together you look at
what is happening, what you need from the people in your life, and how to ask for it, and you try
out new ways of handling things between sessions. It is a structured therapy with an agreed
number of sessions, usually between 12 and 16, weekly.
"""

WHO_IT_HELPS = """\
IPT is offered in NHS Talking Therapies for adults with depression, and it can suit people whose
low mood is bound up with grief, conflict, a big life change or loneliness. It is one of the
therapies for depression recommended in national (NICE) guidance, alongside cognitive behavioural
therapy (CBT) and others. Not every service offers IPT: the finder shows where a service says it
does, and you can ask for it when you refer yourself.
"""

HOW_TO_GET_IT = """\
**Through the NHS (England):** refer yourself to your local NHS Talking Therapies service, online
or by phone, using the **Find help** page. You do not need to see your GP first. When you are
assessed, you can say that you would like IPT and ask whether the service offers it.

**Privately:** look for a practitioner accredited by IPTUK, the professional body for IPT in the
UK, and check their registration on the **Check a therapist** page before you book.
"""

CHART_INTRO = """\
How people did after a course of each type of therapy in NHS Talking Therapies in England.
*Recovery* means a person's scores for depression and anxiety moved below the level that counts as
a clinical problem; *reliable improvement* means their scores improved by more than measurement
error alone would explain. Therapies with few courses are less certain.
"""

# How the NHS data names IPT; the chart highlights this row.
IPT_THERAPY_TYPE = "Interpersonal Psycho therapy (IPT)"
# Therapy types with fewer courses than this in a year are left out of the chart: their
# percentages swing widely on small numbers and would crowd out the comparison people want.
MIN_COURSES = 500


def is_ipt(therapy_type: str) -> bool:
    return "(ipt)" in therapy_type.lower() or therapy_type.lower().startswith("interpersonal")


def chart_rows(rows: Iterable[Mapping], *, min_courses: int = MIN_COURSES) -> tuple[str | None, list[dict]]:
    """(period, rows) for the latest period: one row per therapy type with enough courses, sorted
    by recovery, best first. Duplicate rows for a therapy type are dropped (the published file
    repeats some)."""
    rows = [row for row in rows if row.get("period") and row.get("therapy_type")]
    if not rows:
        return None, []
    period = max(str(row["period"]) for row in rows)
    seen: dict[str, dict] = {}
    for row in rows:
        if str(row["period"]) != period or row["therapy_type"] in seen:
            continue
        courses = as_number(row.get("courses"))
        recovery = as_number(row.get("recovery_pct"))
        improvement = as_number(row.get("improvement_pct"))
        if courses is None or courses < min_courses or recovery is None:
            continue
        seen[row["therapy_type"]] = {
            "therapy_type": str(row["therapy_type"]),
            "courses": int(courses),
            "recovery_pct": recovery,
            "improvement_pct": improvement,
            "is_ipt": is_ipt(str(row["therapy_type"])),
            "source": row.get("source"),
        }
    chosen = sorted(seen.values(), key=lambda r: (-r["recovery_pct"], r["therapy_type"]))
    return period, chosen


def ipt_summary(period: str | None, rows: list[dict]) -> str | None:
    """One sentence on IPT's figures and rank, or None if IPT is not in the rows."""
    ipt = next((row for row in rows if row["is_ipt"]), None)
    if ipt is None or period is None:
        return None
    rank = rows.index(ipt) + 1
    improvement = (
        f" and {ipt['improvement_pct']:g}% reliably improved" if ipt["improvement_pct"] is not None else ""
    )
    return (
        f"In {period}, {ipt['courses']:,} courses of IPT finished in England: {ipt['recovery_pct']:g}% of "
        f"people recovered{improvement}. That puts IPT {_ordinal(rank)} of the {len(rows)} therapy types "
        f"with at least {MIN_COURSES} courses, ranked by recovery."
    )


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"
