import json

from finder import postcodes

HELP = "Resolve a postcode, sector, outcode or town to a location (offline by default)."


def add_arguments(parser):
    parser.add_argument("query", metavar="QUERY", help='e.g. "SW1A 1AA", "SW1A 1", "LS1" or a town')
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--online",
        action="store_true",
        help="also ask postcodes.io / OpenStreetMap Nominatim for what the embedded data lacks",
    )


def run(args) -> int:
    from finder.cli.live import online_fallback

    location = postcodes.lookup(args.query, fallback=online_fallback() if args.online else None)
    if args.json:
        print(json.dumps(location.to_json(), ensure_ascii=False))
        return 0
    where = f"{location.lat:.6f}, {location.lon:.6f}" if location.has_coordinates else "no coordinates"
    note = " (approximate: " + location.precision + " centre)" if location.approximate else ""
    print(f"{location.postcode}: {where}{note}, {location.country}")
    if location.terminated:
        print("note: this postcode is no longer in use")
    return 0
