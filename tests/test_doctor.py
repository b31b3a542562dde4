"""`python -m finder doctor`: an operator learns in one screen whether this copy of data/ is the
release its manifest describes, how old each source is, and (--live) which live source no longer
answers or parses. The live path runs against a 127.0.0.1 server with the sources' saved pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from helpers import RedirectAll

from finder import store
from finder.cli.commands import doctor as doctor_command

TODAY = dt.date.today().isoformat()


def records(n: int) -> bytes:
    return store.json_bytes({"schema_version": 1, "records": [{"id": str(i)} for i in range(n)]})


@pytest.fixture
def release(tmp_path, monkeypatch):
    """A small published data/ (two files, two sources), FINDER_DATA_DIR pointing at it."""
    directory = tmp_path / "data"
    for name, source, n in (("services.json", "services", 3), ("service_areas.json", "service-areas", 5)):
        manifest = store.update_manifest(source, {"imported_at": TODAY, "records": n}, directory)
        store.publish({name: records(n), "manifest.json": manifest}, directory=directory)
    monkeypatch.setenv("FINDER_DATA_DIR", str(directory))
    return directory


def lines(done) -> list[str]:
    return done.stdout.strip().splitlines()


def test_a_released_copy_is_fit_to_serve(release, run_cli):
    done = run_cli("doctor")
    assert done.returncode == 0, done.stdout
    assert "ok    data/services.json: 3 records, checksum matches the manifest" in lines(done)
    assert "ok    source service-areas: 0 days old" in done.stdout
    assert lines(done)[-1] == "fit to serve"


def test_a_changed_file_is_named_and_the_copy_is_not_fit(release, run_cli):
    (release / "service_areas.json").write_bytes(records(4))
    done = run_cli("doctor")
    assert done.returncode == 1
    assert "FAIL  data/service_areas.json: checksum differs from the manifest" in lines(done)
    assert "ok    data/services.json: 3 records, checksum matches the manifest" in lines(done)


def test_json_lists_every_check(release, run_cli):
    (release / "services.json").unlink()
    (release / "extra.json").write_bytes(records(1))
    report = json.loads(run_cli("doctor", "--json").stdout)
    assert report["ok"] is False
    failed = {c["name"]: c["detail"] for c in report["checks"] if not c["ok"]}
    assert failed == {
        "data/services.json": "missing (the manifest lists it)",
        "data/extra.json": "not in the manifest",
    }
    assert all(set(c) == {"name", "ok", "detail"} for c in report["checks"])


def test_a_republished_file_reports_the_count_of_the_release_before(release, run_cli):
    manifest = store.update_manifest("services", {"imported_at": TODAY}, release)
    store.publish({"services.json": records(7), "manifest.json": manifest}, directory=release)
    done = run_cli("doctor")
    assert (
        "ok    data/services.json: 7 records (the release before: 3), checksum matches the manifest"
        in lines(done)
    )


def test_an_old_source_and_another_schema_version_fail(release, run_cli):
    manifest = json.loads((release / "manifest.json").read_text())
    manifest["sources"]["services"]["imported_at"] = "2020-01-01"
    manifest["schema_version"] = 99
    (release / "manifest.json").write_text(json.dumps(manifest))
    done = run_cli("doctor")
    assert done.returncode == 1
    assert "FAIL  schema version: the manifest says 99, this code reads 1" in lines(done)
    assert any(
        line.startswith("FAIL  source services: ") and "older than 400 days" in line for line in lines(done)
    )


def test_no_manifest_is_one_clear_failure(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("FINDER_DATA_DIR", str(tmp_path))
    done = run_cli("doctor")
    assert done.returncode == 1 and lines(done)[0] == (
        "FAIL  data/manifest.json: missing: this is not a published data release"
    )


STATS_PAGE = (
    '<a href="/files/annual_main_2024-25.csv">Main</a> <a href="/files/therapy_2024-25.csv">Therapy</a>'
)


@pytest.fixture
def live_sources(local_server, fixtures, monkeypatch):
    """Every live source's page for its one known entry, as the real hosts answer them."""

    def saved(path: str) -> str:
        return (fixtures / path).read_text(encoding="utf-8")

    local_server.route("/robots.txt", body="User-agent: *\nAllow: /\n", content_type="text/plain")
    local_server.route(
        "/service-search/mental-health/find-an-nhs-talking-therapies-service/results",
        body=saved("nhsuk/results.html"),
    )
    local_server.route(
        "/ORD/2-0-0/organisations/RY6", body=saved("ods/97T.json"), content_type="application/json"
    )
    local_server.route(
        "/data-and-information/publications/statistical/nhs-talking-therapies-for-anxiety-and-depression-annual-reports/2024-25",
        body=STATS_PAGE,
    )
    local_server.route("/find-a-therapist.html", body=saved("iptuk/directory.html"))
    local_server.route("/check-the-register/professional-registration-detail/", body=saved("hcpc/found.html"))
    local_server.route("/search/Register", body=saved("bacp/found.html"))
    local_server.route(
        "/service-search-api/", body=saved("nhs_api/page1_v3.json"), content_type="application/json"
    )
    from scrapers.http import Fetcher

    fetch = RedirectAll(
        Fetcher(min_interval=0.0, retries=0, timeout=5.0, cache_path=None), local_server.url("/")
    )
    monkeypatch.setattr(doctor_command, "live_fetcher", lambda: fetch)
    monkeypatch.delenv("NHS_API_KEY", raising=False)
    return local_server


def test_live_checks_reach_and_parse_every_source(release, run_cli, live_sources):
    done = run_cli("doctor", "--live")
    assert done.returncode == 0, done.stdout
    live = [line for line in lines(done) if " live " in line]
    assert len(live) == len(doctor_command.LIVE_PROBES) and all(line.startswith("ok") for line in live)
    assert "ok    live NHS directory (Service Search API): not checked: NHS_API_KEY is not set" in done.stdout
    assert live_sources.hits["/robots.txt"] >= 1  # asked first, as every polite request is


def test_a_source_that_changed_its_page_fails_loudly_by_name(release, run_cli, live_sources, fixtures):
    live_sources.route("/find-a-therapist.html", body=(fixtures / "iptuk" / "changed.html").read_text())
    live_sources.route("/ORD/2-0-0/organisations/RY6", status=503)
    before = {p.name: p.read_bytes() for p in release.iterdir()}
    done = run_cli("doctor", "--live")
    assert done.returncode == 1
    failed = [line for line in lines(done) if line.startswith("FAIL")]
    assert [line.split(":")[0] for line in failed] == [
        "FAIL  live NHS Organisation Data Service",
        "FAIL  live IPT UK directory",
    ]
    assert "unreachable" in failed[0] and "no longer parses" in failed[1]
    assert {p.name: p.read_bytes() for p in release.iterdir()} == before  # the doctor only reads


def test_with_a_key_the_nhs_directory_is_asked_and_a_refused_layout_named(
    release, run_cli, live_sources, fixtures
):
    done = run_cli("doctor", "--live", env={"NHS_API_KEY": "test-key"})
    assert done.returncode == 0, done.stdout
    line = next(line for line in lines(done) if "NHS directory" in line)
    assert line.startswith("ok    live NHS directory (Service Search API): ") and "services read" in line
    changed = (fixtures / "nhs_api" / "changed_layout.json").read_text()
    live_sources.route("/service-search-api/", body=changed, content_type="application/json")
    done = run_cli("doctor", "--live", env={"NHS_API_KEY": "test-key"})
    assert done.returncode == 1
    assert [line.split(":")[0] for line in lines(done) if line.startswith("FAIL")] == [
        "FAIL  live NHS directory (Service Search API)"
    ]


def test_a_manifest_that_breaks_its_schema_is_named(release, run_cli):
    manifest = json.loads((release / "manifest.json").read_text())
    manifest["files"]["services.json"]["sha256"] = "not a checksum"
    (release / "manifest.json").write_text(json.dumps(manifest))
    done = run_cli("doctor")
    assert done.returncode == 1
    assert lines(done)[0].startswith(
        "FAIL  data/manifest.json: does not match its schema at files.services.json.sha256"
    )
