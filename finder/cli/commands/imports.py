import importlib
from pathlib import Path

from finder.imports import MAX_SHRINK

# Every importer refuses a much smaller file than what data/ holds unless --allow-shrink is given
# (importers added to IMPORTERS must accept `allow_shrink`).

HELP = "Import a source file into data/ (header checked; data/ is replaced atomically or not at all)."

# Source kind -> "module:function"; each function takes the path and returns report lines.
IMPORTERS = {
    "postcodes": (
        "finder.imports.postcodes:cli_import_postcodes",
        "OS Code-Point Open zip/CSV or an ONS Postcode Directory / NSPL CSV",
    ),
    "towns": ("finder.imports.postcodes:cli_import_towns", "outcode-to-town list for offline town search"),
    "areas": (
        "finder.imports.areas:cli_import_areas",
        "folder of ONS district/ward to sub-ICB and ICB tables (lad24_sicbl24_icb24.csv ...)",
    ),
    "gp-practices": (
        "finder.imports.gp:cli_import_gp_practices",
        "NHS ODS GP practice list epraccur (CSV as published, no header)",
    ),
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
    "service-areas": (
        "finder.imports.nhs_coverage:cli_import_service_areas",
        "the districts each NHS service serves, with basis, evidence and confidence",
    ),
    "service-roles": (
        "finder.imports.nhs_coverage:cli_import_service_roles",
        "what each NHS service is to the public: lead, partner, specialist, digital, site, unclear",
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
        help=f"accept a file holding fewer than {1 - MAX_SHRINK:.0%}% of the rows held now (postcodes, "
        "towns, active providers, service links, practitioners, or a year's providers in the statistics); "
        "the shrink is reported",
    )


def run(args) -> int:
    module_name, function_name = IMPORTERS[args.kind][0].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    options = {"allow_shrink": True} if args.allow_shrink else {}
    for line in function(args.path, **options):
        print(line)
    return 0
