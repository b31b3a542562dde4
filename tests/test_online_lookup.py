"""The optional postcodes.io fallback, against a local server (never the real service)."""

import json

import pytest

from finder import online
from finder.postcodes import lookup


@pytest.fixture
def postcodes_io(local_server, monkeypatch):
    monkeypatch.setenv("FINDER_POSTCODES_IO_URL", local_server.url(""))
    online.postcodes_io.cache_clear()
    yield local_server
    online.postcodes_io.cache_clear()


def test_offline_by_default_an_unknown_postcode_falls_back_to_its_sector(postcodes_io):
    location = lookup("SW1A 1ZZ")
    assert location.precision in ("sector", "outcode")
    assert postcodes_io.hits == {}


def test_terminated_postcode_from_postcodes_io_is_used_and_marked(postcodes_io):
    postcodes_io.route(
        "/postcodes/SW1A%201ZZ", status=404, body='{"status":404,"error":"Postcode not found"}'
    )
    postcodes_io.route(
        "/terminated_postcodes/SW1A%201ZZ",
        body=json.dumps(
            {
                "status": 200,
                "result": {
                    "postcode": "SW1A 1ZZ",
                    "year_terminated": 2015,
                    "month_terminated": 2,
                    "longitude": -0.02,
                    "latitude": 51.53,
                },
            }
        ),
    )
    location = lookup("SW1A 1ZZ", online=True)
    assert location.terminated and location.precision == "postcode"
    assert (location.lat, location.lon) == (51.53, -0.02)
    assert location.country == "England"  # postcodes.io gives no nation for terminated codes


def test_postcodes_io_down_still_answers_from_embedded_data(postcodes_io):
    postcodes_io.route("/postcodes/SW1A%201ZZ", status=500, body="oops")
    postcodes_io.route("/terminated_postcodes/SW1A%201ZZ", status=500, body="oops")
    location = lookup("SW1A 1ZZ", online=True)
    assert location.approximate and location.country == "England"
