import contextlib
import csv
from collections.abc import Iterator
from pathlib import Path

from finder.errors import FinderError, SourceFormatError
from finder.imports import MAX_SHRINK
from finder.imports.references import MAX_GROWTH, MAX_ROLE_CHANGE, Allow
from finder.imports.registry import BY_NAME, IMPORTERS

# Every importer refuses a much smaller file than what data/ holds unless --allow-shrink is given.

HELP = "Import a source file into data/ (header checked; data/ is replaced atomically or not at all)."


def add_arguments(parser):
    parser.add_argument(
        "kind",
        choices=sorted(BY_NAME),
        metavar="KIND",
        help="; ".join(f"{i.name}: {i.help}" for i in sorted(IMPORTERS, key=lambda i: i.name)),
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
    parser.add_argument(
        "--allow-growth",
        action="store_true",
        help=f"accept a table more than {MAX_GROWTH:g} times the rows held now (service areas and roles); "
        "the growth is reported",
    )
    parser.add_argument(
        "--allow-mass-change",
        action="store_true",
        help=f"accept service roles that change more than {MAX_ROLE_CHANGE:.0%}% of the services held "
        "(for example every service marked probably ended); the change is reported",
    )


def run(args) -> int:
    importer = BY_NAME[args.kind]
    allow = Allow(growth=args.allow_growth, mass_change=args.allow_mass_change)
    with naming_the_file(args.path, args.kind):
        lines = importer.run(args.path, None if args.allow_shrink else MAX_SHRINK, allow)
    for line in lines:
        print(line)
    return 0


@contextlib.contextmanager
def naming_the_file(path: Path, kind: str) -> Iterator[None]:
    """Every refusal is one line that names the file: the importers' own messages name it (and
    the row and column); one that does not is prefixed with it, and a value no check foresaw
    (a ValueError, a decoding error deep in a library) is said as this file's problem."""
    try:
        yield
    except FinderError as error:
        if path.name in str(error) or not isinstance(error, SourceFormatError):
            raise  # named already, or not about the file (another import holds the lock)
        raise SourceFormatError(f"{path.name}: {error}") from error
    except (ValueError, LookupError, AttributeError, TypeError, csv.Error) as error:
        detail = " ".join(str(error).split())[:160]
        raise SourceFormatError(
            f"{path.name}: not a readable {kind} file ({detail}). Nothing was imported; data/ is unchanged."
        ) from error
