import json

from finder.cli.commands import terminal_line
from finder.cli.live import online_fallback
from finder.records import safe_url
from finder.search import KINDS, search

HELP = "Find NHS Talking Therapies services and private IPT practitioners near a postcode or town."


def add_arguments(parser):
    parser.add_argument("query", metavar="QUERY", help='postcode, sector, outcode or town, e.g. "CV1 1AH"')
    parser.add_argument("--radius-miles", type=float, default=10.0, metavar="R", help="default 10")
    parser.add_argument("--kind", choices=KINDS[1:] + KINDS[:1], default="all")
    parser.add_argument(
        "--self-referral-online", action="store_true", help="only services with an online self-referral form"
    )
    parser.add_argument(
        "--ipt", action="store_true", help="only services with evidence that they deliver IPT"
    )
    parser.add_argument(
        "--mode",
        choices=("any", "online", "in_person"),
        default="any",
        help="private practitioners: how they work",
    )
    parser.add_argument("--limit", type=int, default=50, metavar="N")
    parser.add_argument(
        "--online-lookup",
        action="store_true",
        help="ask postcodes.io / Nominatim for places the embedded data lacks",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args) -> int:
    response = search(
        args.query,
        radius_miles=args.radius_miles,
        kind=args.kind,
        self_referral_online=args.self_referral_online,
        ipt=args.ipt,
        limit=args.limit,
        mode=args.mode,
        fallback=online_fallback() if args.online_lookup else None,
    )
    if args.json:
        print(json.dumps(response.to_json(), ensure_ascii=False))
        return 0
    location = response.query
    print(f"Near {location.postcode} ({location.country}), within {args.radius_miles:g} miles:")
    for notice in response.notices:
        print(terminal_line(f"note: {notice}"))
    for result in response.results:
        distance = "" if result["distance_miles"] is None else f"{result['distance_miles']:.1f} mi"
        if result["online_option"]:
            distance = f"online {distance}".strip()
        ipt = {True: "IPT: yes", False: "IPT: no", None: "IPT: unknown"}[result["offers_ipt"]]
        print(terminal_line(f"{distance:>16}  {result['name']}  [{result['kind']}; {ipt}]"))
        for label, key in (("refer online", "self_referral_url"), ("phone", "phone"), ("website", "website")):
            value = result.get(key)
            if key != "phone":
                value = safe_url(value)  # only http(s) links are ever shown
            if value:
                print(terminal_line(f"{'':18}{label}: {value}"))
    return 0
