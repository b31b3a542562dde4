import sys
from pathlib import Path

from finder.errors import FinderError

HELP = "Export the NHS service directory as Open Referral UK (HSDS 3.0) JSON or CSV."


def add_arguments(parser):
    from finder.export import FORMATS

    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="openreferral",
        help="openreferral: HSDS 3.0 JSON tables; csv: one row per service",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="file to write, or - for standard output")


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
        if args.out.is_dir():
            raise FinderError(f"{args.out} is a directory; give a file name")
        if not args.out.parent.exists():
            raise FinderError(f"{args.out.parent}: no such directory")
        store.atomic_write(args.out, text.encode("utf-8"))
    except OSError as error:
        raise FinderError(f"{args.out}: cannot be written ({error.strerror or error})") from None
    print(f"Wrote {len(records)} services as {args.format} to {args.out}")
    return 0
