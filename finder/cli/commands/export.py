import sys
from pathlib import Path

from finder.errors import FinderError

HELP = "Export the NHS service directory as Open Referral UK (HSDS 3.0, UK profile) JSON or CSV."


def add_arguments(parser):
    from finder.export import FORMATS

    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="openreferral",
        help="openreferral: HSDS 3.0 tables as the Open Referral UK profile has them; csv: one row per service",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="file to write, or - for standard output")
    parser.add_argument(
        "--follow-symlink",
        action="store_true",
        help="when OUT is a symbolic link, write to the file it points to (refused otherwise)",
    )


def run(args) -> int:
    from finder import export, services, store

    records = services.load_services()
    if not records:
        raise FinderError("data/services.json is empty or missing: run `python -m finder build` first")
    text = export.export_text(args.format, records)
    if str(args.out) == "-":
        sys.stdout.write(text)
        return 0
    try:
        store.write_output(args.out, text.encode("utf-8"), follow_symlink=args.follow_symlink)
    except OSError as error:
        raise FinderError(f"{args.out}: cannot be written ({error.strerror or error})") from None
    print(f"Wrote {len(records)} services as {args.format} to {args.out}")
    return 0
