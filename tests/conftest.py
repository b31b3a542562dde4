import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT))
# The tests serve every page from 127.0.0.1, which the fetcher refuses outside tests (a refresh
# must never be steered at the machine's own services); subprocesses inherit this.
os.environ["FINDER_ALLOW_PRIVATE_HOSTS"] = "1"
sys.path.insert(0, str(ROOT / "tests"))

from finder.settings import settings  # noqa: E402

# The postcode tables are most of data/ (17 MB) and no test writes them in place: every write
# goes through store.publish, which renames a new file over the link and never touches its target.
LINKED = "*.parquet"


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch, tmp_path):
    """finder.settings reads the environment once per process; a test that changes a variable
    with monkeypatch.setenv/delenv gets settings read again (and the next test starts afresh).
    Each test has its own cache directory, so parallel workers never share an HTTP cache."""
    settings.cache_clear()
    for name in ("setenv", "delenv"):
        change = getattr(monkeypatch, name)

        def changed(*args, _change=change, **kwargs):
            _change(*args, **kwargs)
            settings.cache_clear()

        setattr(monkeypatch, name, changed)
    monkeypatch.setenv("FINDER_CACHE_DIR", str(tmp_path / "cache"))
    yield
    settings.cache_clear()


SCREENSHOTS = ROOT / "docs" / "screenshots"
# The README's screenshots are tracked files: a test run rewrites them only when asked to.
UPDATE_SCREENSHOTS_ENV = "FINDER_UPDATE_SCREENSHOTS"


def pytest_addoption(parser):
    parser.addoption(
        "--update-screenshots",
        action="store_true",
        help=f"write the browser test's screenshots to docs/screenshots/ (also: {UPDATE_SCREENSHOTS_ENV}=1)",
    )


@pytest.fixture(scope="session")
def screenshot_dir(request) -> Path | None:
    """Where the browser test saves its screenshots: docs/screenshots/ when --update-screenshots or
    FINDER_UPDATE_SCREENSHOTS=1 asks for them, else None (no screenshot is taken)."""
    if request.config.getoption("--update-screenshots") or os.environ.get(UPDATE_SCREENSHOTS_ENV) == "1":
        return SCREENSHOTS
    return None


def pytest_configure(config):
    # pytest-xdist registers this mark; without it (-p no:xdist) --strict-markers would refuse it.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under `--dist loadgroup` (.ci/run) a test module runs on one xdist worker, as under
    loadscope, so a module-scoped fixture is set up once; a module whose tests are marked with
    xdist_group (the browser test: one group per Streamlit server) is split by its marks, so its
    groups can run on different workers. tryfirst: xdist reads the marks after this hook."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def link_data(target: Path) -> Path:
    """A private data/ at `target`: the parquet tables linked to the committed ones, the rest copied."""
    linked = {path.name for path in (ROOT / "data").glob(LINKED)}
    shutil.copytree(ROOT / "data", target, ignore=lambda directory, names: linked & set(names))
    for name in linked:
        (target / name).symlink_to(ROOT / "data" / name)
    return target


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    """A private copy of the embedded data/, with FINDER_DATA_DIR pointing at it, for tests that
    write. The committed data/ is never written by a test (checked when the test ends)."""
    committed = {path: path.stat() for path in (ROOT / "data").glob(LINKED)}
    target = link_data(tmp_path / "data")
    monkeypatch.setenv("FINDER_DATA_DIR", str(target))
    yield target
    for path, before in committed.items():
        after = path.stat()
        assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns), (
            f"{path} was written"
        )


@pytest.fixture
def local_server():
    from localserver import LocalServer

    with LocalServer() as server:
        yield server


@dataclass(frozen=True, kw_only=True)
class Done:
    """What `python -m finder ...` would have given: exit code and the two streams."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """`python -m finder ARGS` in this process (finder.cli.main), in a second or less rather than
    a new interpreter's start-up; `env` sets variables for the run. tests/test_search.py keeps one
    subprocess smoke test of the real entry point."""
    from finder.cli import main

    def run(*args: str, env: dict[str, str] | None = None) -> Done:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse: --help (0) and usage errors (2)
            code = stop.code if isinstance(stop.code, int) else 1
        out, err = capsys.readouterr()
        return Done(returncode=code, stdout=out, stderr=err)

    return run
