import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT))
# The tests serve every page from 127.0.0.1, which the fetcher refuses outside tests (a refresh
# must never be steered at the machine's own services); subprocesses inherit this.
os.environ["FINDER_ALLOW_PRIVATE_HOSTS"] = "1"
sys.path.insert(0, str(ROOT / "tests"))


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
def screenshot_dir(request, tmp_path_factory) -> Path:
    """Where the browser test saves its screenshots: a temporary folder, unless
    --update-screenshots or FINDER_UPDATE_SCREENSHOTS=1 asks for docs/screenshots/."""
    if request.config.getoption("--update-screenshots") or os.environ.get(UPDATE_SCREENSHOTS_ENV) == "1":
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    """A private copy of the embedded data/, with FINDER_DATA_DIR pointing at it, for tests that
    write. The committed data/ is never written by a test."""
    target = tmp_path / "data"
    shutil.copytree(ROOT / "data", target)
    monkeypatch.setenv("FINDER_DATA_DIR", str(target))
    return target


@pytest.fixture
def local_server():
    from localserver import LocalServer

    with LocalServer() as server:
        yield server
