"""A service's outcomes (recovery, waits) against England's figures for the same year."""

from __future__ import annotations

from collections.abc import Mapping

from finder.ipt_evidence import as_number
from finder.presentation.text import md_escape


def compare_to_england(value: object, england: object, *, margin: float = 2.0) -> str | None:
    """'higher than', 'lower than' or 'about the same as' the England average.

    Differences within `margin` percentage points are called 'about the same': single-year
    provider figures move by a point or two on chance alone, and the published numbers are rounded.
    """
    mine, average = as_number(value), as_number(england)
    if mine is None or average is None:
        return None
    return _comparison(mine, average, margin)


def _comparison(mine: float, average: float, margin: float = 2.0) -> str:
    if mine >= average + margin:
        return "higher than"
    if mine <= average - margin:
        return "lower than"
    return "about the same as"


def outcome_line(label: str, value: object, england: object) -> str | None:
    """'Recovery: 47% (England average 50.5%, about the same)' or None when not published."""
    mine = as_number(value)
    if mine is None:
        return None
    average = as_number(england)
    if average is None:
        return f"{label}: {mine:g}%"
    comparison = compare_to_england(mine, average)
    return f"{label}: {mine:g}% ({comparison} the England average of {average:g}%)"


def england_for(record: Mapping, england_by_period: Mapping | None) -> Mapping | None:
    """England's figures for the same year as the record's own outcomes, or None."""
    outcomes = record.get("outcomes")
    if not isinstance(outcomes, Mapping) or not england_by_period:
        return None
    return england_by_period.get(outcomes.get("period"))


def outcome_lines(outcomes: Mapping | None, england: Mapping | None) -> list[str]:
    """The two measures people ask about: recovery, and starting treatment within 6 weeks,
    compared with England's figures when those are for the same period."""
    if not outcomes:
        return []
    england = england or {}
    if england.get("period") and outcomes.get("period") and england["period"] != outcomes["period"]:
        england = {}  # a service's figures are only compared with England's for the same year
    lines = [
        outcome_line("Recovery", outcomes.get("recovery_pct"), england.get("recovery_pct")),
        outcome_line(
            "Started treatment within 6 weeks of referral",
            outcomes.get("within_6_weeks_pct"),
            england.get("within_6_weeks_pct"),
        ),
    ]
    shown = [line for line in lines if line]
    if shown and outcomes.get("period"):
        shown.append(f"NHS England figures for {outcomes['period']}")
    return shown


def outcomes_sentence(
    outcomes: Mapping | None, england: Mapping | None, *, shared_by: str | None = None
) -> str | None:
    """Recovery and waiting in one line, each next to England's figure for the same year.
    `shared_by`: the provider whose services the figures count together (ipt_evidence.figures_shared_by)."""
    if not isinstance(outcomes, Mapping) or not outcomes.get("period"):
        return None
    england = england if isinstance(england, Mapping) else {}
    if england.get("period") and england["period"] != outcomes["period"]:
        england = {}  # compared only with England's figures for the same year
    parts = []
    for label, key in (
        ("recovered", "recovery_pct"),
        ("started treatment within 6 weeks", "within_6_weeks_pct"),
    ):
        mine = as_number(outcomes.get(key))
        if mine is None:
            continue
        theirs = as_number(england.get(key))
        part = f"{mine:g}% {label}"
        if theirs is not None:
            part += (
                f" (England {theirs:g}%: {_comparison(mine, theirs).replace(' as', '').replace(' than', '')})"
            )
        parts.append(part)
    if not parts:
        return None
    whose = ", across all its provider's services" if shared_by else ""
    return md_escape(f"In {outcomes['period']}{whose}, " + " and ".join(parts) + ".")
