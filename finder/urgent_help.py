"""Crisis signposting: the one reviewed place in the code for urgent-help numbers and routes.

Talking therapies are not a crisis service, so every page of the app shows these lines. Each entry
records the public page that confirms it; `CHECKED_ON` is the date they were last checked. Change a
number only after checking it on the service's own page, and update `CHECKED_ON` when you do.

Only numbers we are sure of are listed. Where a nation has no single number we can vouch for
(the Channel Islands and the Isle of Man), the route is the person's GP or local emergency services.

Each nation's route also links to that nation's own official health information site. Only the
home pages of well-known official sites are linked (NHS 111 Wales, NHS inform, nidirect, gov.je,
gov.gg, gov.im): deep links move and would need checking more often. They were checked with the
numbers, on `CHECKED_ON`.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECKED_ON = "2026-11-25"

NOT_A_CRISIS = "Talking therapies are not a crisis service."
NOT_A_CRISIS_SERVICE = f"{NOT_A_CRISIS} If you need help now, use one of these:"


@dataclass(frozen=True)
class Helpline:
    """One way to get urgent help. `dial` is what goes in a tel: link (digits only); `text_to`
    is set for text services, with `text_word` the word to send."""

    name: str
    how: str  # what to do, in words: "Call 999 or go to A&E"
    when: str  # who it is for, in plain words
    # The one-line form shown at the top of every page: words before the link, and the link's own
    # words ("Samaritans" [116 123]; `how` where none is written).
    short_lead: str = ""
    short_link: str = ""
    dial: str | None = None
    text_to: str | None = None
    text_word: str | None = None
    area: str = "UK"
    confirmed_by: tuple[str, ...] = ()


EMERGENCY = Helpline(
    name="999 or A&E",
    how="Call 999 or go to A&E",
    when="if your life, or someone else's, is at risk right now",
    short_lead="Call",
    short_link="999",
    dial="999",
    confirmed_by=(
        "https://www.norwoodmc.co.uk/2024/08/14/nhs-111-option-2-for-crisis-mental-health-support/",
    ),
)

NHS_111_ENGLAND = Helpline(
    name="NHS 111, mental health option",
    how="Call 111 and choose the mental health option (option 2)",
    when="for urgent mental health help in England, any time, day or night",
    short_link="NHS 111, option 2",
    dial="111",
    area="England",
    confirmed_by=(
        "https://www.pendeensurgery.nhs.uk/health-information/urgent-mental-health-support-and-mental-health-and-wellness",
        "https://www.oundlesurgery.nhs.uk/news/accessing-mental-health-services-via-111",
    ),
)

SAMARITANS = Helpline(
    name="Samaritans",
    how="Call Samaritans free on 116 123",
    when="to talk to someone, any time, about anything that is troubling you",
    short_lead="Samaritans",
    short_link="116 123",
    dial="116123",
    confirmed_by=("https://www.samaritans.org/how-we-can-help/contact-samaritan/",),
)

SHOUT = Helpline(
    name="Shout",
    how="Text SHOUT to 85258",
    when="if you would rather text than talk, any time",
    short_lead="Text SHOUT to",
    short_link="85258",
    text_to="85258",
    text_word="SHOUT",
    confirmed_by=("https://giveusashout.org/about-us/faq/",),
)

# The lines shown on every page, in the order a person in crisis should consider them.
CRISIS_LINES: tuple[Helpline, ...] = (EMERGENCY, NHS_111_ENGLAND, SAMARITANS, SHOUT)


@dataclass(frozen=True, kw_only=True)
class NationLink:
    label: str
    url: str


@dataclass(frozen=True)
class NationRoute:
    """Where someone outside England goes instead of NHS Talking Therapies (England-only)."""

    country: str  # as finder.postcodes names it
    place: str  # as people say it in a sentence: "the Isle of Man"
    summary: str
    helplines: tuple[Helpline, ...]
    links: tuple[NationLink, ...] = ()


NATION_LINKS: dict[str, tuple[NationLink, ...]] = {
    "Wales": (
        NationLink(label="NHS 111 Wales: health advice and local services", url="https://111.wales.nhs.uk/"),
    ),
    "Scotland": (
        NationLink(
            label="NHS inform: Scotland's health information service", url="https://www.nhsinform.scot/"
        ),
    ),
    "Northern Ireland": (
        NationLink(
            label="nidirect: Northern Ireland's public services, including health",
            url="https://www.nidirect.gov.uk/",
        ),
    ),
    "Channel Islands": (
        NationLink(label="Government of Jersey: health and wellbeing", url="https://www.gov.je/"),
        NationLink(label="States of Guernsey: health and social care", url="https://www.gov.gg/"),
    ),
    "Isle of Man": (
        NationLink(label="Isle of Man Government: health and social care", url="https://www.gov.im/"),
    ),
}


NHS_24_SCOTLAND = Helpline(
    name="NHS 24",
    how="Call NHS 24 on 111",
    when="for urgent mental health help in Scotland (its Mental Health Hub), when your GP is closed",
    dial="111",
    area="Scotland",
    confirmed_by=("https://en.wikipedia.org/wiki/NHS_24", "https://nen.press/tag/mental-health-hub"),
)

NHS_111_WALES = Helpline(
    name="NHS 111 Wales",
    how="Call 111 and press 2 for mental health",
    when="for urgent mental health help in Wales, any time, day or night",
    dial="111",
    area="Wales",
    confirmed_by=(
        "https://careappointments.com/care-news/wales/195930/phone-line-for-people-requiring-urgent-mental-health-support-launched-across-wales/",
        "https://www.wired-gov.net/wg/news.nsf/articles/more+than+200000+calls+to+urgent+mental+health+service+10102025161000?open",
    ),
)

LIFELINE_NI = Helpline(
    name="Lifeline",
    how="Call Lifeline free on 0808 808 8000",
    when="if you are in distress or despair in Northern Ireland, any time",
    dial="08088088000",
    area="Northern Ireland",
    confirmed_by=(
        "https://www.lifelinehelpline.info/page/about.html",
        "https://publichealth.hscni.net/news/world-suicide-prevention-day-contact-lifeline-if-youre-distress-or-despair",
    ),
)

_NOT_ENGLAND = (
    "NHS Talking Therapies is an NHS England service, so it does not cover {place}. "
    "Your GP is the first step to talking therapy from the health service where you live."
)
_EMERGENCY_LOCAL = " In an emergency, call 999 or your local emergency services."


def _route(country: str, place: str, helplines: tuple[Helpline, ...], extra: str = "") -> NationRoute:
    return NationRoute(
        country, place, _NOT_ENGLAND.format(place=place) + extra, helplines, NATION_LINKS.get(country, ())
    )


NATION_ROUTES: dict[str, NationRoute] = {
    "Scotland": _route("Scotland", "Scotland", (NHS_24_SCOTLAND, SAMARITANS, SHOUT)),
    "Wales": _route("Wales", "Wales", (NHS_111_WALES, SAMARITANS, SHOUT)),
    "Northern Ireland": _route("Northern Ireland", "Northern Ireland", (LIFELINE_NI, SAMARITANS, SHOUT)),
    "Channel Islands": _route("Channel Islands", "the Channel Islands", (), _EMERGENCY_LOCAL),
    "Isle of Man": _route("Isle of Man", "the Isle of Man", (), _EMERGENCY_LOCAL),
}


# The NHS website's own finder for NHS Talking Therapies (England), where anyone can find their
# service's self-referral route. Confirmed as the link used by NHS-facing pages and many public
# projects (for example the stored copies indexed for this project, 2026-11-25).
NHS_TALKING_THERAPIES_FINDER = (
    "https://www.nhs.uk/service-search/mental-health/find-an-NHS-talking-therapies-service/"
)


def nation_route(country: str | None) -> NationRoute | None:
    """The route for a country outside England, or None for England (and unknown places)."""
    if not country:
        return None
    return NATION_ROUTES.get(country)


def tel_link(helpline: Helpline) -> str | None:
    """A tel: or sms: link for the helpline, or None if it has neither."""
    if helpline.dial:
        return f"tel:{helpline.dial}"
    if helpline.text_to:
        return f"sms:{helpline.text_to}"
    return None
