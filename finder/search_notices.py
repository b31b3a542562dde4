"""What a person should know about a search's answer, said as notices beside the results rather
than as errors: an approximate location, NHS Talking Therapies being for England, a place over
several NHS areas, no covering service known, nothing within the radius.
"""

from __future__ import annotations

from finder import coverage
from finder.postcodes import Location


def nhs_available(location: Location) -> bool:
    """NHS Talking Therapies is England-only. A border outcode or town that is partly in England
    may still be served, so it keeps NHS results with a notice."""
    if location.country == "England":
        return True
    return bool(location.mixed_country and (location.share_in_england or 0) > 0)


def ipt_website_notice(more: int) -> list[Notice]:
    if not more:
        return []
    services = "service mentions IPT on its" if more == 1 else "services mention IPT on their"
    return [
        Notice(
            "ipt_website_mentions",
            f"{more} more NHS {services} own website, without NHS England figures that show it; "
            f"you can include {'it' if more == 1 else 'them'}.",
        )
    ]


def coverage_notices(location: Location, kind: str, tiers: coverage.Tiers, nhs_here: bool) -> list[Notice]:
    if kind == "private" or not nhs_here:
        return []
    notices = []
    area = location.area
    districts = sorted({a.district_name for a in location.area_candidates})
    if area is None and len(districts) == 1:
        # One district split between two NHS areas, and this postcode's ward is split too.
        notices.append(
            Notice(
                "split_district",
                f"Part of {districts[0]} is served by one NHS area and part by another, so the services "
                "of both are shown: which one takes you depends on your GP surgery.",
            )
        )
    elif area is None and districts:
        listed = ", ".join(districts[:-1]) + f" and {districts[-1]}"
        notices.append(
            Notice(
                "area_approximate",
                f"{location.postcode} covers more than one area ({listed}), so services for each are "
                "shown. Type your full postcode or your GP surgery to see only yours.",
            )
        )
    if (area is not None or location.area_candidates) and not tiers.any_general:
        # Without a general service known, a service whose role is unclear (registered here, say)
        # may cover the person, but is not said to be theirs.
        shown = (
            "Services that may cover it are shown first"
            if tiers.any_covering
            else "Services based in the same NHS area are shown"
        )
        notices.append(
            Notice(
                "no_covering_service",
                f"We don't know which NHS Talking Therapies service covers this area. {shown}; the NHS "
                "website can tell you for sure.",
            )
        )
    if location.kind != "gp" and (area is not None or location.area_candidates):
        notices.append(
            Notice(
                "gp_decides",
                "NHS Talking Therapies services take people by where their GP is registered, not their "
                "home address: if your GP is in another area, search for your GP surgery instead.",
            )
        )
    return notices


def _approximate_notice(location: Location) -> str:
    outcode = location.postcode.split(" ")[0]
    if location.precision == "place":
        return (
            f"Approximate location: we used the centre of {location.postcode}, so distances are approximate."
        )
    area, name = (
        ("postcode sector", location.postcode[: len(outcode) + 2])
        if location.precision == "sector"
        else ("postcode district", outcode)
    )
    if location.kind == "postcode":
        # A full postcode we hold no position for (new, mistyped or without coordinates).
        return (
            f"We don't have an exact position for {location.postcode}, so we used the centre of the "
            f"{area} {name}: distances are approximate."
        )
    return f"Approximate location: we used the centre of the {area} {name}, so distances are approximate."


class Notice(str):
    """A sentence to show with the results; `code` says which kind, so a page that explains the
    same thing its own way (the app's nation box) can leave it out. Serialises as plain text."""

    code: str

    def __new__(cls, code: str, text: str) -> Notice:
        notice = super().__new__(cls, text)
        notice.code = code
        return notice


def notices_for(
    location: Location, kind: str, mode: str, practitioners: int, results: list[dict], radius_miles: float
) -> list[Notice]:
    notices = []
    nhs_here = nhs_available(location)
    if location.terminated:
        notices.append(
            Notice("terminated", f"{location.postcode} is no longer in use; results are for where it was.")
        )
    if not location.has_coordinates:
        online = " Options that work online are shown." if results else ""
        notices.append(
            Notice(
                "no_position",
                f"We don't have a map position for {location.postcode}, so we can't list services by distance.{online}",
            )
        )
    elif location.approximate:
        notices.append(Notice("approximate", _approximate_notice(location)))
    if kind in ("all", "nhs"):
        if not nhs_here:
            shown = " Private and online options are shown." if results else ""
            notices.append(
                Notice(
                    "nation",
                    f"NHS Talking Therapies is for people in England; {location.postcode} is in "
                    f"{location.country}. Your GP is the first step there.{shown}",
                )
            )
        elif location.mixed_country:
            notices.append(
                Notice(
                    "border",
                    f"{location.postcode} is on a border: NHS Talking Therapies in England is for people "
                    "who live or are registered with a GP in England.",
                )
            )
    # Only worth saying where private practitioners were asked for, or are the only route.
    asked_for_private = kind == "private" or (kind == "all" and (mode != "any" or not nhs_here))
    if practitioners == 0 and asked_for_private:
        notices.append(
            Notice(
                "no_practitioners",
                "We don't hold any private IPT practitioners yet: no register export has been imported. "
                "You can check a named therapist on the 'Check a therapist' page.",
            )
        )
    if not results:
        if nhs_here or practitioners:
            notices.append(
                Notice(
                    "nothing_matched",
                    f"Nothing matched within {radius_miles:g} miles. Try a wider radius, fewer filters, "
                    "or services that work online.",
                )
            )
        else:
            notices.append(Notice("nothing_matched", "We hold nothing that matches for this area yet."))
    return notices
