"""One module per CLI command: `HELP`, `add_arguments(parser)` and `run(args) -> exit code`.

This package is the composition root: the only part of `finder` allowed to import `scrapers`
(lazily, inside `run`), so the domain modules never depend on the scraping code.
"""
