"""search(): distances, filters, notices and the CLI around it.

The records here are test-only, written to a temporary copy of data/; their positions come from
real postcodes in the embedded tables.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from geopy.distance import geodesic
from sample_records import record

from finder import store
from finder.errors import FinderError
from finder.search import search

ROOT = Path(__file__).resolve().parent.parent


def write(directory, services=(), practitioners=()):
    files = {
        "services.json": store.json_bytes({"schema_version": 1, "records": list(services)}),
        "practitioners.json": store.json_bytes({"schema_version": 1, "records": list(practitioners)}),
    }
    store.publish(files, directory=directory)


@pytest.fixture
def sample(data_copy):
    services = [
        record(
            "N-COV",
            "nhs",
            "CV1 1AH",
            offers_ipt=True,
            ipt_evidence="test evidence",
            self_referral_url="https://example.org/refer",
            # Takes people registered with a Coventry GP: its online form is offered to them.
            areas_served=[
                {
                    "code": "E08000026",
                    "name": "Coventry",
                    "basis": "name",
                    "confidence": "high",
                    "evidence": "test",
                }
            ],
        ),
        record("N-BHAM", "nhs", "B1 2AY", offers_ipt=False),
        record("N-LEEDS", "nhs", "LS1 4AP"),
        record("N-BERWICK", "nhs", "TD15 1AA"),
    ]
    practitioners = [
        record("P-RUGBY", "private", "CV21 2AA", offers_ipt=True, ipt_evidence="IPT UK", works_online=True),
        record(
            "P-ONLINE",
            "private",
            "EX1 1AA",
            offers_ipt=True,
            ipt_evidence="IPT UK",
            works_online=True,
            works_in_person=False,
        ),
        record("P-KELSO", "private", "TD5 7AA", offers_ipt=True, ipt_evidence="IPT UK"),
    ]
    write(data_copy, services, practitioners)
    return data_copy


def ids(response):
    return [r["id"] for r in response.results]


def test_results_are_sorted_by_distance_and_match_the_geodesic(sample):
    response = search("CV1 1AH", radius_miles=40)
    near = [r for r in response.results if r["within_radius"]]
    assert [r["id"] for r in near] == ["N-COV", "P-RUGBY", "N-BHAM"]
    distances = [r["distance_miles"] for r in near]
    assert distances == sorted(distances)
    origin = (response.query.lat, response.query.lon)
    for result in near[1:]:
        reference = geodesic(origin, (result["lat"], result["lon"])).miles
        assert result["distance_miles"] == pytest.approx(reference, rel=0.005)


def test_radius_limits_nearby_results(sample):
    assert "N-BHAM" not in ids(search("CV1 1AH", radius_miles=10))
    assert "N-LEEDS" in ids(search("CV1 1AH", radius_miles=150))


def test_online_practitioners_are_offered_anywhere_after_local_results(sample):
    response = search("LS1 4AP", radius_miles=5)
    assert ids(response)[0] == "N-LEEDS"
    online = [r for r in response.results if r["online_option"]]
    assert {r["id"] for r in online} == {"P-RUGBY", "P-ONLINE"}
    assert all(not r["within_radius"] for r in online)


def test_filters_narrow_the_list(sample):
    everything = ids(search("CV1 1AH", radius_miles=400))
    nhs = ids(search("CV1 1AH", radius_miles=400, kind="nhs"))
    private = ids(search("CV1 1AH", radius_miles=400, kind="private"))
    assert set(nhs) | set(private) == set(everything) and not set(nhs) & set(private)
    assert ids(search("CV1 1AH", radius_miles=400, kind="nhs", ipt=True)) == ["N-COV"]
    assert ids(search("CV1 1AH", radius_miles=400, self_referral_online=True)) == ["N-COV"]
    in_person = ids(search("CV1 1AH", radius_miles=400, kind="private", mode="in_person"))
    assert "P-ONLINE" not in in_person and "P-RUGBY" in in_person
    assert set(ids(search("CV1 1AH", radius_miles=400, kind="private", mode="online"))) == {
        "P-RUGBY",
        "P-ONLINE",
    }


def test_scottish_postcode_gets_no_nhs_england_services_but_keeps_private_ones(sample):
    response = search("TD5 7AA", radius_miles=30)
    assert all(r["kind"] == "private" for r in response.results)
    assert "P-KELSO" in ids(response)
    assert any("NHS Talking Therapies is for people in England" in n for n in response.notices)


def test_border_outcode_keeps_nhs_with_a_border_notice(sample):
    response = search("TD15", radius_miles=10)
    assert "N-BERWICK" in ids(response)
    assert any("border" in n for n in response.notices)
    assert any("Approximate location" in n for n in response.notices)


def test_northern_ireland_gets_online_options_and_the_nation_notice(sample):
    response = search("BT1 1AA")
    assert {r["id"] for r in response.results} == {"P-RUGBY", "P-ONLINE"}
    assert any("Northern Ireland" in n for n in response.notices)


def test_limit_caps_results(sample):
    assert len(search("CV1 1AH", radius_miles=400, limit=2).results) == 2


def test_no_results_suggests_what_to_try(data_copy):
    write(data_copy, [record("N-LEEDS", "nhs", "LS1 4AP")], [])
    response = search("TR21 0AB", radius_miles=5)
    assert response.results == []
    assert any("wider radius" in n for n in response.notices)
    # Someone looking for NHS help in England is not told about the empty private table...
    assert not any(n.code == "no_practitioners" for n in response.notices)
    # ...but someone asking for private therapists is.
    private = search("TR21 0AB", radius_miles=5, kind="private")
    assert any("don't hold any private" in n for n in private.notices)


def test_outside_england_with_nothing_held_promises_nothing(data_copy):
    write(data_copy, [record("N-LEEDS", "nhs", "LS1 4AP")], [])
    response = search("TD5 7AA", radius_miles=10)
    assert response.results == []
    nation = [n for n in response.notices if n.code == "nation"]
    assert len(nation) == 1 and "options are shown" not in nation[0]
    assert not any("wider radius" in n for n in response.notices)
    assert any(n.code == "no_practitioners" for n in response.notices)


def test_notices_serialise_as_plain_text(sample):
    payload = search("TD15", radius_miles=10).to_json()
    import json

    assert all(isinstance(n, str) for n in json.loads(json.dumps(payload))["notices"])


def test_dataset_is_reloaded_when_data_changes(sample):
    assert "N-LEEDS" not in ids(search("CV1 1AH", radius_miles=10))
    write(sample, [record("N-LEEDS", "nhs", "CV1 1AH")], [])
    assert ids(search("CV1 1AH", radius_miles=10)) == ["N-LEEDS"]


@pytest.mark.parametrize(
    "options",
    [
        {"radius_miles": 0},
        {"radius_miles": -1},
        {"radius_miles": 5000},
        {"kind": "x"},
        {"limit": 0},
        {"mode": "x"},
    ],
)
def test_bad_options_are_refused_clearly(sample, options):
    with pytest.raises(FinderError):
        search("CV1 1AH", **options)


def python_m_finder(*args, env_data=None):
    env = None
    if env_data is not None:
        import os

        env = {**os.environ, store.DATA_DIR_ENV: str(env_data)}
    return subprocess.run(
        [sys.executable, "-m", "finder", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_cli_search_json_has_query_results_and_notices(sample):
    """The one subprocess smoke test of `python -m finder`; the other CLI tests run in process."""
    done = python_m_finder("search", "cv1 1ah", "--radius-miles", "40", "--json", env_data=sample)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert set(payload) == {"query", "results", "notices"}
    assert payload["query"]["postcode"] == "CV1 1AH" and payload["query"]["kind"] == "postcode"
    first = payload["results"][0]
    for key in (
        "id",
        "kind",
        "name",
        "distance_miles",
        "lat",
        "lon",
        "offers_ipt",
        "ipt_evidence",
        "self_referral_url",
        "phone",
        "website",
        "source",
        "last_verified",
    ):
        assert key in first


def test_cli_postcode_json_keys(run_cli):
    done = run_cli("postcode", "LS1", "--json")
    payload = json.loads(done.stdout)
    for key in ("query", "postcode", "kind", "lat", "lon", "country", "precision", "source"):
        assert key in payload
    assert payload["postcode"] == "LS1" and payload["kind"] == "outcode"


@pytest.mark.parametrize(
    "args",
    [
        ("postcode", "NOT A POSTCODE 1"),
        ("search", "ZZ9 9ZZ"),
        ("search", "CV1 1AH", "--radius-miles", "abc"),
        ("postcode", ""),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(run_cli, args):
    done = run_cli(*args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [("postcode", "LS1"), ("import", "towns", "/"), ("import", "postcodes", "/dev/null"), ("export", "-")],
)
def test_cli_broken_data_or_paths_give_one_line_not_a_traceback(run_cli, tmp_path, args):
    not_a_directory = tmp_path / "afile"
    not_a_directory.write_text("x")
    done = run_cli(*args, env={store.DATA_DIR_ENV: str(not_a_directory)})
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_cli_errors_never_echo_terminal_escapes(run_cli):
    done = run_cli("postcode", "ab\x1b]0;pwned\x07c1")
    assert done.returncode == 2 and "\x1b" not in done.stderr and "\x07" not in done.stderr


def test_cli_text_output_shows_no_terminal_escapes_and_no_unsafe_links(run_cli, data_copy):
    hostile = record(
        "N-EVIL",
        "nhs",
        "CV1 1AH",
        name="Test \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ \x1b[31mred",
        website="javascript:alert(1)",
        self_referral_url="https://example.org/refer",
    )
    write(data_copy, [hostile], [])
    done = run_cli("search", "CV1 1AH", "--radius-miles", "1")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "javascript:" not in done.stdout
    assert "refer online: https://example.org/refer" in done.stdout


def test_an_nhs_only_search_never_mentions_private_practitioners(data_copy):
    write(data_copy, [record("N-LEEDS", "nhs", "LS1 4AP")], [])
    response = search("LS1 4AP", kind="nhs", mode="in_person")
    assert not any(n.code == "no_practitioners" for n in response.notices)


@pytest.mark.parametrize(
    "typed, said",
    [
        (
            "LS1 0AA",
            "We don't have an exact position for LS1 0AA, so we used the centre of the postcode district LS1",
        ),
        ("SW1A 1ZZ", "we used the centre of the postcode sector SW1A 1:"),
        ("SW1A 1", "the centre of the postcode sector SW1A 1,"),
        ("TD15", "the centre of the postcode district TD15,"),
    ],
)
def test_approximate_locations_name_the_area_actually_used(sample, typed, said):
    notices = [n for n in search(typed).notices if n.code == "approximate"]
    assert len(notices) == 1 and said in notices[0]


def test_every_command_has_working_help(run_cli):
    from finder.cli import COMMANDS

    for command in ["", *COMMANDS]:
        done = run_cli(*([command] if command else []), "--help")
        assert done.returncode == 0 and "usage:" in done.stdout, (command, done.stderr[-300:])
