"""`python -m finder check NAME [--reg NUMBER] [--offline] [--json]`."""

import json

from finder.cli.commands import terminal_line

HELP = (
    "Check a named therapist: IPT UK accreditation plus a current core registration (HCPC, BACP live; "
    "links to check UKCP, CBT Register UK and NCPS by hand)."
)

_LABELS = {
    "current": "current",
    "current_with_conditions": "current, with conditions",
    "lapsed_or_removed": "lapsed or removed",
    "not_found": "not found",
    "ambiguous": "ambiguous",
    "check_failed": "check failed",
    "manual_check": "check by hand",
}


def add_arguments(parser):
    parser.add_argument("name", metavar="NAME", help='the therapist\'s name, e.g. "Dr Jane Smith MBACP"')
    parser.add_argument(
        "--reg",
        metavar="NUMBER",
        default=None,
        help="a registration number: HCPC like PYL012345, or a BACP/UKCP/BABCP number",
    )
    parser.add_argument("--offline", action="store_true", help="use only local data; no live register checks")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    from finder.cli import live

    result = live.check_therapist(args.name, args.reg, offline=args.offline)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
        return 0
    number = f" ({result.registration_number})" if result.registration_number else ""
    _print(f"{result.name}{number}, checked {result.checked_at}")
    for register in result.registers:
        level = f" [{register.level}]" if register.level else ""
        listed = f" as {register.name_on_register!r}" if register.name_on_register else ""
        _print(f"- {register.register}: {_LABELS[register.status]}{level}{listed}")
        if register.note:
            _print(f"    {register.note}")
        for candidate in register.candidates:
            where = f", {candidate['location']}" if candidate.get("location") else ""
            num = f" {candidate['registration_number']}" if candidate.get("registration_number") else ""
            _print(f"    candidate: {candidate['name']}{num}{where}")
        _print(f"    {register.url}")
    _print(result.overall.verdict)
    from finder import practitioners

    if not practitioners.load_practitioners():
        # For whoever runs the finder: how the IPT UK part can be answered locally.
        print(f"note: {practitioners.EMPTY_TABLE_HELP}")
    return 0


def _print(line: str) -> None:
    print(terminal_line(line))
