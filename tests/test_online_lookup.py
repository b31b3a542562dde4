"""The optional online fallbacks (postcodes.io, Nominatim), against a local server (never the real
services), injected into postcodes.lookup as the CLI injects them."""

import json

import pytest

from finder.cli import live
from finder.errors import PostcodeError
from finder.postcodes import lookup


@pytest.fixture
def online(local_server, monkeypatch):
    monkeypatch.setenv("FINDER_POSTCODES_IO_URL", local_server.url(""))
    monkeypatch.setenv("FINDER_NOMINATIM_URL", local_server.url(""))
    live.online_fallback.cache_clear()
    yield local_server
    live.online_fallback.cache_clear()


def test_offline_by_default_an_unknown_postcode_falls_back_to_its_sector(online):
    location = lookup("SW1A 1ZZ")
    assert location.precision in ("sector", "outcode")
    assert online.hits == {}


def test_terminated_postcode_from_postcodes_io_is_used_and_marked(online):
    online.route("/postcodes/SW1A%201ZZ", status=404, body='{"status":404,"error":"Postcode not found"}')
    online.route(
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
    location = lookup("SW1A 1ZZ", fallback=live.online_fallback())
    assert location.terminated and location.precision == "postcode"
    assert (location.lat, location.lon) == (51.53, -0.02)
    assert location.country == "England"  # postcodes.io gives no nation for terminated codes


def test_postcodes_io_down_still_answers_from_embedded_data(online):
    online.route("/postcodes/SW1A%201ZZ", status=500, body="oops")
    online.route("/terminated_postcodes/SW1A%201ZZ", status=500, body="oops")
    location = lookup("SW1A 1ZZ", fallback=live.online_fallback())
    assert location.approximate and location.country == "England"


def test_a_place_the_gazetteer_lacks_is_found_on_nominatim(online):
    online.route(
        "/search",
        body=json.dumps(
            [
                {
                    "lat": "52.0567",
                    "lon": "1.1482",
                    "display_name": "Nowhereton, Suffolk, England, United Kingdom",
                    "address": {"village": "Nowhereton", "state": "England", "country": "United Kingdom"},
                }
            ]
        ),
    )
    with pytest.raises(PostcodeError):
        lookup("Nowhereton")  # offline: not in the embedded gazetteer
    location = lookup("Nowhereton", fallback=live.online_fallback())
    assert (location.postcode, location.precision, location.country) == ("Nowhereton", "place", "England")
    assert (location.lat, location.lon) == (52.0567, 1.1482)
    assert location.source == "OpenStreetMap Nominatim"
    sent = online.requests[-1][0]
    assert "countrycodes=gb" in sent and "q=Nowhereton" in sent


def test_nominatim_finding_nothing_leaves_the_clear_error(online):
    online.route("/search", body="[]")
    with pytest.raises(PostcodeError) as error:
        lookup("Nowhereton", fallback=live.online_fallback())
    assert error.value.reason == "unknown"
