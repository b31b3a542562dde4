import json

from finder import gp
from finder.cli.commands import terminal_line

HELP = "Find a GP surgery by its name, postcode or practice code (its area decides the NHS service)."


def add_arguments(parser):
    parser.add_argument(
        "query",
        metavar="QUERY",
        help='e.g. "Densham Surgery", "Densham Surgery Stockton", "TS18 1HU" or A81001',
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args) -> int:
    found = gp.find_practices(args.query)
    if args.json:
        print(
            json.dumps({"query": args.query, "practices": [p.to_json() for p in found]}, ensure_ascii=False)
        )
        return 0
    if not found:
        print(
            terminal_line(
                f"No GP surgery in England matches '{args.query}'. Try its postcode or practice code."
            )
        )
        return 0
    if len(found) > 1:
        print(f"{len(found)} surgeries match; add the town, or use the postcode or practice code:")
    for practice in found:
        area = practice.sub_icb_name or practice.sub_icb_code
        print(
            terminal_line(f"{practice.code}  {practice.name}, {practice.town} {practice.postcode}  ({area})")
        )
    return 0
