"""One module per CLI command: `HELP`, `add_arguments(parser)` and `run(args) -> exit code`.

They belong to the composition root, `finder.cli`: the only part of `finder` allowed to import
`scrapers` (lazily, inside `run`), so the domain modules never depend on the scraping code.
"""

import unicodedata


def terminal_line(line: str) -> str:
    """Text from data or register pages goes to a terminal: control characters (an escape
    sequence could rewrite the screen or plant a hidden link) are shown as spaces."""
    return "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in line)
