"""What the sources say about Interpersonal Therapy (IPT) at one NHS service, no more and no less.

`ipt_finding` is pure: it reads NHS England's therapy-based outcomes (every year held) and the
public-page facts of `service_links.csv`, and returns the service's `ipt_basis`:

- `official_latest`: NHS England's latest published year shows IPT courses > 0 for this service;
- `official_earlier`: an earlier year shows courses > 0 and the latest year's figure is suppressed
  (`*`, a small number: NHS England publishes no zeros in these tables, so `*` means "0 to a few")
  or not published for this service. Both years are said;
- `website`: the service's own page mentions Interpersonal Therapy/Psychotherapy (Dynamic
  Interpersonal Therapy, DIT, is a different therapy and never counts) and the page itself ties
  it to this service;
- None: nothing says so. A page tied to the service only by inference (a trust-wide page, a borough
  guessed from a site name) is kept as a note, never as this service's IPT claim.

When a new statistics year arrives, the year before becomes "earlier" without any other change:
the rule only compares the latest year held with the ones before it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import SupportsFloat

from finder.textrules import attribution_caveat

OFFICIAL_BASES = ("official_latest", "official_earlier")
SEEN_NOTE = "seen on public pages, date unknown"


@dataclass(frozen=True, kw_only=True)
class IptFinding:
    basis: str | None
    offers_ipt: bool | None  # True for the three bases; False only when the latest year published 0
    evidence: str | None
    sources: tuple[str | None, ...] = ()  # a year's table may name no source; unnamed ones are dropped
    verified: str | None = None  # when the statistics behind an official basis were imported


def _pct(value: float | None) -> str:
    return f"{value:g}%" if value is not None else "suppressed"


def _ipt_figures(section: Mapping, code: str) -> Mapping | None:
    """The provider's IPT row of one year's therapy-based outcomes, or None when not published."""
    entry = (section.get("providers") or {}).get(code)
    return (entry or {}).get("ipt")


def _official(code: str, therapy: Mapping[str, Mapping]) -> IptFinding:
    """The basis NHS England's figures give, comparing the latest year held with earlier ones."""
    if not therapy:
        return IptFinding(basis=None, offers_ipt=None, evidence=None)
    periods = sorted(therapy)
    latest = periods[-1]
    latest_row = _ipt_figures(therapy[latest], code)
    latest_courses = (latest_row or {}).get("courses")
    source, verified = therapy[latest].get("source"), therapy[latest].get("imported_at")
    if latest_courses is not None and latest_courses > 0:
        return IptFinding(
            basis="official_latest",
            offers_ipt=True,
            evidence=f"NHS England {latest}: {latest_courses:,} courses of IPT, "
            f"{_pct((latest_row or {}).get('recovery_pct'))} recovery",
            sources=(source,),
            verified=verified,
        )
    if latest_courses == 0:
        return IptFinding(
            basis=None,
            offers_ipt=False,
            evidence=f"NHS England {latest}: no courses of IPT published",
            sources=(source,),
            verified=verified,
        )
    for earlier in reversed(periods[:-1]):
        courses = (_ipt_figures(therapy[earlier], code) or {}).get("courses")
        if courses is not None and courses > 0:
            latest_words = (
                f"{latest} figure too small to publish"
                if latest_row is not None
                else f"no {latest} figure published for this service"
            )
            return IptFinding(
                basis="official_earlier",
                offers_ipt=True,
                evidence=f"NHS England figures: {courses:,} people had IPT here in {earlier}; {latest_words}",
                sources=(therapy[earlier].get("source"), source),
                verified=verified,
            )
    return IptFinding(basis=None, offers_ipt=None, evidence=None)


def _ipt_page(link: Mapping) -> str:
    """The page to cite for a public-page mention: the one about IPT where there is one."""
    urls = list(link.get("evidence_urls") or [])
    for url in urls:
        if "interpersonal" in url.lower() or "-ipt" in url.lower() or "/ipt" in url.lower():
            return url
    return urls[0] if urls else (link.get("website") or "the service's public pages")


def ipt_finding(code: str, therapy: Mapping[str, Mapping] | None, link: Mapping | None) -> IptFinding:
    """The IPT basis and its evidence for one service (see the module docstring)."""
    official = _official(code, therapy or {})
    if not link or link.get("offers_ipt") is not True:
        return official
    page = _ipt_page(link)
    caveat = attribution_caveat(link.get("service_name"), link.get("notes"))
    if caveat:
        note = (
            "a page about the wider organisation mentions IPT, but it is tied to this service only by "
            f"inference ({caveat}), so it is not this service's claim: {page} ({SEEN_NOTE})"
        )
        if official.evidence is None:
            return IptFinding(basis=None, offers_ipt=None, evidence=f"Not known for this service: {note}")
        return IptFinding(
            basis=official.basis,
            offers_ipt=official.offers_ipt,
            evidence=f"{official.evidence}; note: {note}",
            sources=official.sources,
            verified=official.verified,
        )
    mention = f"the service's own website mentions IPT: {page} ({SEEN_NOTE})"
    if official.basis in OFFICIAL_BASES:
        return IptFinding(
            basis=official.basis,
            offers_ipt=True,
            evidence=f"{official.evidence}; {mention}",
            sources=(*official.sources, "service_links.csv"),
            verified=official.verified,
        )
    evidence = mention[0].upper() + mention[1:]
    if official.evidence:  # the latest year published no courses: say both
        evidence = f"{evidence}; {official.evidence}"
    return IptFinding(
        basis="website",
        offers_ipt=True,
        evidence=evidence,
        sources=(*official.sources, "service_links.csv"),
        verified=official.verified,
    )


def as_number(value: object) -> float | None:
    """A published figure as a float; None when it is missing, not a number, NaN or a bool."""
    if isinstance(value, bool) or not isinstance(value, str | SupportsFloat):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def figures_shared_by(record: Mapping) -> str | None:
    """The provider whose services NHS England's figures count together, where it runs its NHS
    Talking Therapies under more than one name (Midlands Partnership's Staffordshire service and
    Thurrock Talking Therapies): the statistics are published per provider, so none of those
    services has figures of its own. None where every area it serves knows it by one name.
    `public_service_name`: a search result's provider-wide name, where `service_name` is local."""
    public = record.get("public_service_name") or record.get("service_name")
    rows = record.get("areas_served") or ()
    names = {row.get("local_service_name") or public for row in rows if isinstance(row, Mapping)}
    if len(names - {None, ""}) < 2:
        return None
    return str(record.get("provider") or record.get("name") or "") or None


def ipt_figures_shared_by(record: Mapping) -> str | None:
    """`figures_shared_by` where the IPT claim rests on NHS England's figures (a service's own
    website speaks for itself)."""
    return figures_shared_by(record) if record.get("ipt_basis") in OFFICIAL_BASES else None


# Said where the figures are a provider's, not the person's own service's.
ASK_WHERE_YOU_LIVE = "ask whether IPT is offered where you live"


def ipt_sentence(record: Mapping) -> str:
    """Whether a service gives Interpersonal Therapy, in words that say what the evidence is
    (its `ipt_basis`): NHS England's figures for the latest year, for an earlier year only, or
    the service's own website; nothing stronger than the source says. Where the figures count
    several services of one provider together, it says so. Plain text (the Open Referral feed
    carries it too)."""
    basis = record.get("ipt_basis")
    outcomes = record.get("outcomes")
    if not isinstance(outcomes, Mapping):
        outcomes = {}
    courses = as_number(outcomes.get("ipt_courses"))
    recovered = as_number(outcomes.get("ipt_recovery_pct"))
    period = outcomes.get("period")
    provider = ipt_figures_shared_by(record)
    if basis == "official_latest" and courses and period:
        people = f"{courses:,.0f} {'person' if courses == 1 else 'people'}"
        who, across = (
            ("Its provider delivered", ", across all its services") if provider else ("Delivered", "")
        )
        line = f"{who} Interpersonal Therapy (IPT) to {people} in {period}{across}"
        if recovered is not None:
            line += f"; {recovered:g}% recovered"
        if provider:
            line += f". NHS England doesn't publish figures for each service: {ASK_WHERE_YOU_LIVE}"
        return line + "."
    if basis == "official_earlier":
        # The evidence says both years, e.g. "10 people had IPT here in 2023-24; 2024-25 figure
        # too small to publish".
        evidence = str(record.get("ipt_evidence") or "").removeprefix("NHS England figures: ")
        if provider and evidence:
            return (
                f"Interpersonal Therapy (IPT), across all its provider's services: {evidence.rstrip('.')}. "
                f"Please {ASK_WHERE_YOU_LIVE}."
            )
        return f"Interpersonal Therapy (IPT): {evidence}" if evidence else "Delivered IPT in an earlier year."
    if basis == "website":
        return "Its own website mentions Interpersonal Therapy (IPT); NHS England's figures don't show it."
    offers = record.get("offers_ipt")
    if offers is True:
        return "Offers Interpersonal Therapy (IPT)."
    if offers is False:
        return "Does not offer Interpersonal Therapy (IPT), as far as we know."
    return "Interpersonal Therapy (IPT): not known. You can ask for it when you refer yourself."
