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
    if location.area:
        area = location.area
        print(f"NHS area: {area.district_name}, {area.sub_icb_name or 'sub-ICB location not known'}")
    elif location.area_candidates:
        names = sorted({f"{a.district_name} ({a.sub_icb_name})" for a in location.area_candidates})
        if len(names) == 1:  # the rest of the outcode or town is in Wales or Scotland
            print(f"NHS area (the part in England): {names[0]}")
        else:
            print(f"NHS area: one of {', '.join(names)}")
    return 0
