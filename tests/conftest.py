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

from finder.settings import settings  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch):
    """finder.settings reads the environment once per process; a test that changes a variable
    with monkeypatch.setenv/delenv gets settings read again (and the next test starts afresh)."""
    settings.cache_clear()
    for name in ("setenv", "delenv"):
        change = getattr(monkeypatch, name)

        def changed(*args, _change=change, **kwargs):
            _change(*args, **kwargs)
            settings.cache_clear()

        setattr(monkeypatch, name, changed)
    yield
    settings.cache_clear()


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
