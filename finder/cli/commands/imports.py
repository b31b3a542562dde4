import importlib
from pathlib import Path

from finder.imports import MAX_SHRINK

# The importers that refuse a much smaller file unless --allow-shrink is given.
SHRINK_GUARDED = ("postcodes", "towns", "nhs-providers")

HELP = "Import a source file into data/ (header checked; data/ is replaced atomically or not at all)."

# Source kind -> "module:function"; each function takes the path and returns report lines.
IMPORTERS = {
    "postcodes": (
        "finder.imports.postcodes:cli_import_postcodes",
        "OS Code-Point Open zip/CSV or an ONS Postcode Directory / NSPL CSV",
    ),
    "towns": ("finder.imports.postcodes:cli_import_towns", "outcode-to-town list for offline town search"),
    "nhs-providers": (
        "finder.imports.nhs:cli_import_providers",
        "ODS list of NHS Talking Therapies providers",
    ),
    "nhs-outcomes": (
        "finder.imports.nhs:cli_import_outcomes",
        "NHS England annual main measures or therapy-based outcomes (CSV or zip)",
    ),
    "service-links": (
        "finder.imports.nhs:cli_import_service_links",
        "service websites, self-referral and IPT evidence",
    ),
    "practitioners": (
        "finder.imports.practitioners:cli_import_practitioners",
        "register export of IPT practitioners (template in README)",
    ),
}


def add_arguments(parser):
    parser.add_argument(
        "kind",
        choices=sorted(IMPORTERS),
        metavar="KIND",
        help="; ".join(f"{k}: {v[1]}" for k, v in sorted(IMPORTERS.items())),
    )
    parser.add_argument("path", type=Path, metavar="PATH")
    parser.add_argument(
        "--allow-shrink",
        action="store_true",
        # "%%": argparse formats help text with %, so a literal percent sign is doubled.
        help=f"{', '.join(SHRINK_GUARDED)}: accept a file holding fewer than {1 - MAX_SHRINK:.0%}% "
        "of the postcodes, towns or active providers held now",
    )


def run(args) -> int:
    module_name, function_name = IMPORTERS[args.kind][0].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    options = {"allow_shrink": True} if args.allow_shrink and args.kind in SHRINK_GUARDED else {}
    for line in function(args.path, **options):
        print(line)
    return 0
