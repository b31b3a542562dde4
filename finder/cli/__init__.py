"""`python -m finder COMMAND ...`: every command has --help; bad input exits 2 with one line.

This package is the composition root: the CLI commands (finder/cli/commands/) and the live checks
(finder/cli/live.py, also used by the app) wire the scrapers and the one HTTP fetcher into the
domain. No other module of finder/ imports scrapers (tests/test_architecture.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from finder import store
from finder.errors import FinderError
from finder.settings import settings

# Commands that write data/: each holds the writer lock for its whole run, so a read of the
# manifest and the publish that follows can't interleave with another writer. The refresh is not
# one of them: it fetches for minutes without the lock and takes it only to publish (checking
# that data/ did not change meanwhile), so a slow site never blocks an import.
WRITING_COMMANDS = frozenset({"import", "build"})

# Command name -> module in finder.cli.commands. Each module owns its arguments and behaviour.
COMMANDS = {
    "postcode": "postcode",
    "search": "search",
    "gp": "gp",
    "import": "imports",
    "build": "build",
    "export": "export",
    "check": "check",
    "refresh": "refresh",
    "api": "api",
    "doctor": "doctor",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, no usage dump
        print(f"{self.prog}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or, given the arguments, of the one command they name: each
    command imports only what it needs (a search never loads the importers' pandas), so a
    command's start stays short."""
    parser = _Parser(prog="python -m finder", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    named = _command_named(argv)
    for name, module_name in COMMANDS.items():
        if named is not None and name != named:
            sub.add_parser(name)  # listed, so a mistyped command's error names the choices
            continue
        module = importlib.import_module(f"finder.cli.commands.{module_name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def _command_named(argv: list[str] | None) -> str | None:
    """The command the arguments name (their first word), None when they name none (or when no
    arguments are given: the parser of every command)."""
    first = argv[0] if argv else None
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        if args.command in WRITING_COMMANDS and not getattr(args, "dry_run", False):
            with store.writer_lock():
                return int(args.run(args) or 0)
        return int(args.run(args) or 0)
    except store.WriterBusy as error:
        _error_line(str(error))
        return error.exit_code
    except FinderError as error:
        _error_line(str(error))
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:
        # A damaged file, an unreadable path, a full disk: one line for the operator, not a
        # traceback (FINDER_DEBUG=1 shows it). Data is untouched: every write is atomic.
        if settings().debug:
            raise
        _error_line(f"{type(error).__name__}: {error} (set FINDER_DEBUG=1 for the details)")
        return 2


def _error_line(message: str) -> None:
    from finder.cli.commands import terminal_line

    # The message may quote what was typed or read: no control characters reach the terminal.
    first = message.splitlines()[0] if message else ""
    line = terminal_line(f"error: {first}")
    print(line.encode("utf-8", "replace").decode("utf-8"), file=sys.stderr)
