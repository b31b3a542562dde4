"""finder/settings.py: every variable's default and how a value is read."""

from pathlib import Path

import pytest

from finder import store
from finder.settings import POSTCODES_IO, Settings, settings


def test_a_fresh_environment_gets_the_documented_defaults():
    fresh = Settings.from_env({"HOME": "/home/someone"})
    assert fresh.data_dir is None and fresh.http_cache is None and fresh.nhs_api_key is None
    assert not (fresh.debug or fresh.allow_private_hosts or fresh.offline_checks)
    assert fresh.postcodes_io_url == POSTCODES_IO and fresh.nhs_stats_urls == ()
    assert fresh.http_cache_path.name == "http.sqlite" and fresh.http_cache_path.parent.name == "ipt-finder"


@pytest.mark.parametrize("value, on", [("1", True), ("yes", True), ("0", False), ("", False), ("  ", False)])
def test_a_flag_is_on_when_set_and_not_0(value, on):
    assert Settings.from_env({"FINDER_DEBUG": value}).debug is on


def test_values_are_parsed_once_into_their_types():
    read = Settings.from_env(
        {
            "FINDER_DATA_DIR": "/srv/data",
            "FINDER_NHS_STATS_URLS": " https://a.example/1.csv  https://a.example/2.zip ",
            "FINDER_CACHE_DIR": "/var/cache/finder",
            "FINDER_POSTCODES_IO_URL": "http://127.0.0.1:8000/",
        }
    )
    assert read.data_dir == Path("/srv/data")
    assert read.nhs_stats_urls == ("https://a.example/1.csv", "https://a.example/2.zip")
    assert read.http_cache_path == Path("/var/cache/finder/http.sqlite")
    assert read.postcodes_io_url == "http://127.0.0.1:8000"


def test_the_api_key_never_appears_in_a_printed_settings_object():
    read = Settings.from_env({"NHS_API_KEY": "secret-key-123"})
    assert read.nhs_api_key == "secret-key-123"
    assert "secret-key-123" not in repr(read) and "secret-key-123" not in str(read)


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        settings().debug = True  # type: ignore[misc]


def test_the_data_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FINDER_DATA_DIR", str(tmp_path))
    assert store.data_dir() == tmp_path
    monkeypatch.delenv("FINDER_DATA_DIR")
    assert store.data_dir() == Path(store.__file__).resolve().parent.parent / "data"
