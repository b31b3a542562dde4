"""Dependencies point one way: app.py and its pages (app_pages/) -> finder <- scrapers, with
finder/cli/ (the composition root) the only part of finder that reaches scrapers.

Checked with the standard library's ast rather than grimp/import-linter: the project uses absolute
imports only, so a module's imports are read straight from its source (lazy ones inside functions
included), and the rules below are a few lines each without another dependency or config format.
"""

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSITION_ROOT = set((ROOT / "finder" / "cli").rglob("*.py"))
APP = sorted([ROOT / "app.py", *(ROOT / "app_pages").rglob("*.py")])
PRODUCTION = sorted([*(ROOT / "finder").rglob("*.py"), *(ROOT / "scrapers").rglob("*.py"), *APP])


def imported_modules(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_names(path)}


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def imported_names(path: Path) -> set[str]:
    """Every dotted name `path` imports; `from a import b` gives both a and a.b (b may be a module)."""
    tree = parsed(path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PRODUCTION}
    graph = {}
    for name, path in modules.items():
        graph[name] = {imported for imported in imported_names(path) if imported in modules} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


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
    assert len(APP) > 5  # the entry and its pages are all checked
    for path in APP:
        assert not imported_modules(path) & {"scrapers", "bs4", "requests"}, path.name


def test_pages_never_import_the_entry():
    # `streamlit run app.py` runs app.py as __main__: a page importing `app` would load a second
    # copy of it, with navigation of its own.
    for path in APP:
        assert "app" not in imported_modules(path), path.name


def test_scrapers_never_import_the_app_or_the_composition_root():
    for path in (ROOT / "scrapers").rglob("*.py"):
        assert not imported_modules(path) & {"streamlit", "app", "app_pages"}, path
        assert not {n for n in imported_names(path) if n.startswith("finder.cli")}, path


def test_the_domain_never_imports_the_app():
    for path in sorted((ROOT / "finder").rglob("*.py")):
        assert not imported_modules(path) & {"app", "app_pages"}, path


def test_the_words_read_no_data():
    # finder.presentation turns what a search returns into words: it never loads data itself,
    # so the app and the command line say the same thing about the same records.
    readers = {"finder.store", "finder.search", "finder.services", "finder.postcodes", "finder.gp"}
    for path in sorted((ROOT / "finder" / "presentation").glob("*.py")):
        assert not project_imports(path, "finder") & readers, path.name


def test_no_import_cycles_among_project_modules():
    graph = import_graph()
    assert (
        "finder.postcodes" in graph and "scrapers.http" in graph["scrapers.postcodes_io"]
    )  # the graph is real
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def reads_environment(path: Path) -> list[int]:
    """Lines where `path` touches os.environ / os.getenv (or imports them from os)."""
    tree = parsed(path)
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"environ", "getenv", "environb", "getenvb"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if {alias.name for alias in node.names} & {"environ", "getenv", "environb", "getenvb"}:
                lines.append(node.lineno)
    return lines


def test_only_the_settings_module_reads_the_environment():
    settings = ROOT / "finder" / "settings.py"
    assert reads_environment(settings)  # the check sees a real read
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in PRODUCTION
        if path != settings and (lines := reads_environment(path))
    }
    assert offenders == {}


def test_test_helpers_do_not_ship_in_production_modules():
    defined = {}
    for path in PRODUCTION:
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name in {
                "StaticFetcher",
                "RedirectAll",
            }:
                defined[node.name] = str(path.relative_to(ROOT))
    assert defined == {}


def project_imports(path: Path, prefix: str) -> set[str]:
    return {name for name in imported_names(path) if name == prefix or name.startswith(prefix + ".")}


def test_the_schema_package_depends_on_nothing_else_in_the_project():
    # Every reader and writer validates through finder.schema, so it must not import any of them.
    for path in sorted((ROOT / "finder" / "schema").glob("*.py")):
        outside = {
            name
            for name in project_imports(path, "finder")
            if not name.startswith("finder.schema") and not name.startswith("finder.errors")
        }
        assert outside == set(), path.name


# The accreditation package by what it does: each module imports only those before it.
ACCREDITATION_LAYERS = ("numbers", "results", "matching", "registers", "verdict")


# The HTTP layer by what it does: what a fetch gives, reading bodies, the caches, the Fetcher.
HTTP_LAYERS = ("answers", "bodies", "caches", "fetcher")


def check_layers(package: str, layers: tuple[str, ...]) -> None:
    """`package`'s modules are exactly `layers`, and each imports only the layers before it."""
    folder = ROOT.joinpath(*package.split("."))
    assert {p.stem for p in folder.glob("*.py")} == {"__init__", *layers}, package
    depth = package.count(".") + 2
    for position, layer in enumerate(layers):
        allowed = {f"{package}.{below}" for below in layers[:position]}
        used = {
            ".".join(name.split(".")[:depth]) for name in project_imports(folder / f"{layer}.py", package)
        }
        assert used <= allowed, (package, layer, sorted(used - allowed))


def test_accreditation_modules_import_only_the_layers_before_them():
    check_layers("finder.accreditation", ACCREDITATION_LAYERS)


def test_http_modules_import_only_the_layers_before_them():
    check_layers("scrapers.http", HTTP_LAYERS)


# The refresh by what it does: what a run may do, what a source is, the reports, running the
# sources, the NHS tables' staging, the NHS directory, the real sources.
REFRESH_LAYERS = ("limits", "source", "reports", "runner", "staging", "directory", "sources")


def test_refresh_modules_import_only_the_layers_before_them():
    check_layers("scrapers.refresh", REFRESH_LAYERS)


def test_the_accreditation_package_keeps_its_public_names():
    # Callers import from finder.accreditation, whatever module holds the rule.
    import finder.accreditation as acc

    for name in acc.__all__:
        assert getattr(acc, name) is not None, name
    assert acc.parse_registration_number("HCPC PYL012345").text == "PYL012345"


# Each importer package runs read -> map -> publish, one module per step. The maps are pure: they
# take rows and give records, reading and writing nothing, so neither data/ (finder.store), the
# source files (guard, tables' readers) nor a later step is within their reach.
IMPORTER_STEPS = {
    "nhs": {
        "read": (),
        "providers": ("read",),
        "outcomes": ("read",),
        "links": (),
        "publish": ("links", "outcomes"),
    },
    "postcodes": {"read": (), "mapping": (), "towns": ("read",), "publish": ("mapping",)},
}
PURE_STEPS = {"nhs": ("providers", "outcomes", "links"), "postcodes": ("mapping", "towns")}
NO_IO = {"finder.store", "finder.imports.guard", "finder.imports.registry"}


def test_importer_packages_run_read_map_publish_in_that_order():
    for package, steps in IMPORTER_STEPS.items():
        folder = ROOT / "finder" / "imports" / package
        assert {p.stem for p in folder.glob("*.py")} == {"__init__", *steps}, package
        for step, allowed in steps.items():
            prefix = f"finder.imports.{package}"
            used = {".".join(n.split(".")[:4]) for n in project_imports(folder / f"{step}.py", prefix)}
            assert used <= {f"{prefix}.{below}" for below in allowed}, (package, step, sorted(used))
        for step in PURE_STEPS[package]:
            names = imported_names(folder / f"{step}.py")
            reach = {n for n in names if n in NO_IO or n.startswith("finder.imports.guard")}
            assert reach == set(), (package, step, sorted(reach))
            assert "finder.imports.tables.read_table" not in names, (package, step)


def test_importer_packages_keep_their_old_import_paths():
    # The registry, the refresh and the tests call the importers by their package's name.
    from finder.imports import nhs, postcodes

    for package in (nhs, postcodes):
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)
    assert callable(nhs.import_outcomes) and nhs.period_from_name("annual_main_2024-25.csv") == "2024-25"


MAX_MODULE_LINES = 500
MAX_ENTRY_LINES = 150  # app.py: settings, navigation and the crisis banner; the pages are modules
# Modules still over the limit, each to be split by subject (issue 20): none is left, and no
# module may join the list.
OVER_THE_LIMIT: set[str] = set()


def test_no_new_module_over_500_lines():
    long = {
        str(path.relative_to(ROOT))
        for path in PRODUCTION
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES
    }
    assert long - OVER_THE_LIMIT == set()
    # A module split leaves the list: it only shrinks.
    assert OVER_THE_LIMIT - long == set()


def test_the_app_entry_stays_short():
    assert len((ROOT / "app.py").read_text(encoding="utf-8").splitlines()) <= MAX_ENTRY_LINES


def loads_pydantic(code: str) -> bool:
    import subprocess
    import sys

    probe = f"import sys\n{code}\nprint('pydantic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip() == "True"


def test_searching_never_loads_the_record_models():
    # pydantic checks records before a write; loading it on the search path, or with the commands'
    # modules, would slow every first search and every command-line answer.
    search_path = (
        "import finder.search, finder.gp, finder.presentation, finder.practitioners, finder.schema\n"
        "import finder.cli, finder.imports.registry\n"
        "finder.schema.validate([{k: None for k in finder.schema.RECORD_KEYS}], level='keys')"
    )
    assert not loads_pydantic(search_path)
    assert loads_pydantic(
        "import finder.schema\nfinder.schema.validate([], kind='nhs')"
    )  # the probe can tell


def test_a_command_line_search_loads_neither_pandas_nor_the_other_commands():
    """A search from the command line waits for every module it imports: the importers' pandas,
    the app's Streamlit and the scrapers' HTML parser are not among them (each cost it up to half
    a second before: see bench/bench_cli.py)."""
    import subprocess
    import sys

    probe = (
        "import sys, runpy\n"
        "sys.argv = ['finder', 'search', 'LS1 4AP', '--kind', 'nhs']\n"
        "try:\n    runpy.run_module('finder', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('pandas', 'streamlit', 'bs4', 'finder.imports.registry') if m in sys.modules),"
        " file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "Your area" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"
