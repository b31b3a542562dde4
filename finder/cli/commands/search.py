import argparse
import json

from finder.cli.commands import terminal_line
from finder.errors import FinderError
from finder.ipt_evidence import ipt_figures_shared_by
from finder.presentation import GROUP_ALSO, coverage_words, group_key, local_names_words, service_title
from finder.schema import safe_url
from finder.search import KINDS, MODES, SearchRequest
from finder.search import run as run_search

# The defaults are SearchRequest's, so the CLI and the app's shared links agree.
DEFAULT = SearchRequest()

HELP = "Find NHS Talking Therapies services and private IPT practitioners near a postcode or town."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query", metavar="QUERY", nargs="?", help='postcode, sector, outcode or town, e.g. "CV1 1AH"'
    )
    parser.add_argument(
        "--gp",
        metavar="CODE",
        help="search from your GP surgery (its practice code, see the gp command) instead of a postcode",
    )
    parser.add_argument(
        "--radius-miles",
        type=float,
        default=DEFAULT.radius_miles,
        metavar="R",
        help=f"default {DEFAULT.radius_miles:g}",
    )
    parser.add_argument("--kind", choices=KINDS[1:] + KINDS[:1], default=DEFAULT.kind)
    parser.add_argument(
        "--self-referral-online", action="store_true", help="only services with an online self-referral form"
    )
    parser.add_argument(
        "--ipt",
        action="store_true",
        help="only services whose NHS England figures show IPT (and accredited practitioners)",
    )
    parser.add_argument(
        "--ipt-include-website",
        action="store_true",
        help="with --ipt: also NHS services whose own website mentions IPT",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=DEFAULT.mode,
        help="private practitioners: how they work",
    )
    parser.add_argument("--limit", type=int, default=DEFAULT.limit, metavar="N")
    parser.add_argument(
        "--online-lookup",
        action="store_true",
        help="ask postcodes.io / Nominatim for places the embedded data lacks",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def request_from(args: argparse.Namespace) -> SearchRequest:
    """The options as a SearchRequest, which checks them (one line, exit 2, when one is wrong)."""
    if not args.query and not args.gp:
        raise FinderError("give a postcode or town, or --gp CODE")
    return SearchRequest(
        query=args.query or "",
        gp=args.gp,
        radius_miles=args.radius_miles,
        kind=args.kind,
        mode=args.mode,
        ipt=args.ipt,
        ipt_include_website=args.ipt_include_website,
        self_referral_online=args.self_referral_online,
        limit=args.limit,
    )


def run(args: argparse.Namespace) -> int:
    request = request_from(args)
    fallback = None
    if args.online_lookup:  # the online look-ups' HTTP layer is loaded only when asked for
        from finder.cli.live import online_fallback

        fallback = online_fallback()
    response = run_search(request, fallback=fallback)
    if args.json:
        print(json.dumps(response.to_json(), ensure_ascii=False))
        return 0
    location = response.query
    print(f"Near {location.postcode} ({location.country}), within {request.radius_miles:g} miles:")
    for notice in response.notices:
        print(terminal_line(f"note: {notice}"))
    heading = None
    for result in response.results:
        group = _heading(result)
        if group != heading:
            heading = group
            print()
            print(terminal_line(group))
        _print_result(result)
    return 0


# The plain-text output groups NHS services the way a person needs them: the service(s) that will
# take them first, whatever the distance; services for one group of people that cover the area
# after them, never as "Your area" (the app's groups, finder.presentation.group_key).
GROUPS = {
    "covers": "Your area",
    "also": GROUP_ALSO,
    "covers_part": "Parts of this place (type your postcode or GP surgery to see which is yours)",
    "national": "Anywhere in England",
    "same_icb": "Based in your NHS area (not known to cover you)",
    "elsewhere": "Nearby (may only accept people registered with a GP in its own area)",
}


def _heading(result: dict) -> str:
    if result["kind"] != "nhs":
        return "Private"
    if group_key(result) == "also":
        return GROUPS["also"]
    return GROUPS.get(str(result.get("coverage")), GROUPS["elsewhere"])


def _coverage_lines(result: dict) -> list[str]:
    """The card's words on a partial or uncertain coverage and on several local names."""
    return [words for words in (coverage_words(result), local_names_words(result)) if words]


def _print_result(result: dict) -> None:
    distance = "" if result["distance_miles"] is None else f"{result['distance_miles']:.1f} mi"
    if result["online_option"]:
        distance = f"online {distance}".strip()
    elif result["kind"] == "nhs" and result.get("coverage") != "elsewhere" and distance:
        distance = f"office {distance}"  # a registered office, not where people are seen
    ipt = {True: "IPT: yes", False: "IPT: no", None: "IPT: unknown"}[result["offers_ipt"]]
    if result["offers_ipt"] is True and ipt_figures_shared_by(result):
        ipt += " (its provider's figures, for all its services)"
    name, _ = service_title(result)  # the name people know, never a bare site name
    print(terminal_line(f"{distance:>16}  {name}  [{result['kind']}; {ipt}]"))
    if result.get("audience"):
        print(terminal_line(f"{'':18}for: {result['audience']}"))
    for words in _coverage_lines(result):
        print(terminal_line(f"{'':18}{words}"))
    for partner in result.get("delivered_with") or []:
        if partner.get("role") not in ("site", "part"):  # the service itself, not a partner
            print(terminal_line(f"{'':18}with: {partner['name']}"))
    for label, key in (("refer online", "self_referral_url"), ("phone", "phone"), ("website", "website")):
        value = result.get(key)
        if key != "phone":
            value = safe_url(value)  # only http(s) links are ever shown
        if value:
            print(terminal_line(f"{'':18}{label}: {value}"))
