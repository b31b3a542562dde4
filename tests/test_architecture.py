"""Dependencies point one way: app.py -> finder <- scrapers.

The domain modules of finder/ import neither Streamlit, BeautifulSoup nor scrapers; only the
composition root (finder/cli/commands/, finder/cli/live.py) may reach scrapers, and the app never does.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSITION_ROOT = set((ROOT / "finder" / "cli").rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_no_ui_no_html_parser_no_scrapers():
    offenders = {}
    for path in sorted((ROOT / "finder").rglob("*.py")):
        forbidden = {"streamlit", "bs4"}
        if path not in COMPOSITION_ROOT:
            forbidden.add("scrapers")
        found = imported_modules(path) & forbidden
        if found:
            offenders[str(path.relative_to(ROOT))] = sorted(found)
    assert offenders == {}


def test_app_does_not_reach_scrapers_or_parse_html():
    assert not imported_modules(ROOT / "app.py") & {"scrapers", "bs4", "requests"}


def test_scrapers_never_import_the_app():
    for path in (ROOT / "scrapers").rglob("*.py"):
        assert not imported_modules(path) & {"streamlit", "app"}, path
