"""The refresh job against a synthetic directory site on 127.0.0.1: publishing, change reports,
"last verified", and the faults that must keep a source's last good data."""

import fcntl
import json
import os
import sys

import pytest

from finder import cli
from finder.changes import diff_records
from scrapers.http import Fetcher
from scrapers.refresh import (
    CHANGES_FILE,
    REPORT_FILE,
    Candidate,
    RefreshOptions,
    Source,
    exit_code,
    run_refresh,
    write_reports,
)

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "fixtures" / "refresh"))
import clinic_site
from clinic_site import ClinicSource, clinic

DAY1, DAY2 = "2026-12-01", "2026-12-08"


def make_fetcher(tmp_path, **kwargs):
    options = {
        "min_interval": 0.0,
        "retries": 1,
        "backoff": 0.01,
        "timeout": 2.0,  # every local page must answer within it, even on a loaded 2-core machine
        "max_retry_wait": 5,
        "cache_path": tmp_path / "cache" / "http.sqlite",
    }
    options.update(kwargs)
    return Fetcher(**options)


def snapshot(directory):
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def records(directory, name="clinics.json"):
    return {r["id"]: r for r in json.loads((directory / name).read_text())["records"]}


def refresh(sources, tmp_path, today, **kwargs):
    fetch_options = kwargs.pop("fetch_options", {})
    fetcher = make_fetcher(tmp_path, **fetch_options)
    options = RefreshOptions(today=today, **kwargs)
    reports = run_refresh(sources, fetcher, options)
    write_reports(reports, options)
    fetcher.close()
    return {r.name: r for r in reports}, fetcher.stats()


def test_first_refresh_publishes_contract_records_and_a_report(data_copy, local_server, tmp_path):
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 6)])
    manifest_before = json.loads((data_copy / "manifest.json").read_text())

    reports, _ = refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1)

    assert reports["clinics"].status == "updated"
    document = json.loads((data_copy / "clinics.json").read_text())
    assert document["schema_version"] == 1
    assert [r["id"] for r in document["records"]] == [f"clinic-00{n}" for n in range(1, 6)]
    first = document["records"][0]
    assert (first["phone"], first["last_verified"], first["source"]) == (
        "020 7946 0001",
        DAY1,
        "https://clinics.example.org/clinics/clinic-001",
    )
    manifest = json.loads((data_copy / "manifest.json").read_text())["sources"]
    assert manifest["clinics"]["records"] == 5
    assert manifest["postcodes"] == manifest_before["sources"]["postcodes"]  # other entries untouched
    changes = (data_copy / CHANGES_FILE).read_text()
    assert f"## Refresh {DAY1}" in changes and "clinics: updated: 5 records, +5 added" in changes
    assert json.loads((data_copy / REPORT_FILE).read_text())["exit_code"] == 0


def test_second_refresh_with_nothing_changed_downloads_no_pages_and_writes_nothing(
    data_copy, local_server, tmp_path
):
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 6)])
    refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1)
    before = snapshot(data_copy)

    reports, stats = refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1)

    assert reports["clinics"].status == "unchanged"
    assert snapshot(data_copy) == before
    assert stats["downloads"] == 0 and stats["not_modified"] == 6


def test_changed_phone_and_link_are_reported_with_before_and_after(data_copy, local_server, tmp_path):
    clinics = [clinic(n) for n in range(1, 6)]
    clinic_site.serve(local_server, clinics)
    refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1)
    clinics[1] = {**clinics[1], "phone": "020 7946 0999", "self_referral_url": "https://example.org/new-form"}
    clinic_site.serve(local_server, clinics)

    reports, _ = refresh([ClinicSource(local_server.url(""))], tmp_path, DAY2)

    report = reports["clinics"]
    assert report.status == "updated"
    (change,) = report.changes.changed
    assert change.id == "clinic-002"
    assert {(f.field, f.before, f.after) for f in change.fields} == {
        ("phone", "020 7946 0002", "020 7946 0999"),
        ("self_referral_url", "https://example.org/clinic-002/refer", "https://example.org/new-form"),
    }
    text = (data_copy / CHANGES_FILE).read_text()
    assert "| clinic-002 | `Test Clinic 002` | phone | `020 7946 0002` | `020 7946 0999` |" in text
    assert text.index(f"## Refresh {DAY2}") < text.index(f"## Refresh {DAY1}")  # newest first
    saved = json.loads((data_copy / REPORT_FILE).read_text())
    assert saved["sources"][0]["changes"]["changed"][0]["fields"][0] == {
        "field": "phone",
        "before": "020 7946 0002",
        "after": "020 7946 0999",
    }
    assert "Data refresh 2026-12-08: 1 source(s) updated" in saved["commit_message"]
    # Every page was re-checked (most by a 304), so every record's date moves on.
    assert {r["last_verified"] for r in records(data_copy).values()} == {DAY2}


def test_a_record_whose_page_could_not_be_rechecked_keeps_its_old_date(data_copy, local_server, tmp_path):
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 6)])
    refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1)
    local_server.route("/clinics/clinic-003", status=500, body="oops")

    reports, _ = refresh([ClinicSource(local_server.url(""))], tmp_path, DAY2)

    assert reports["clinics"].status == "updated"
    dates = {record_id: r["last_verified"] for record_id, r in records(data_copy).items()}
    assert dates.pop("clinic-003") == DAY1
    assert set(dates.values()) == {DAY2}


FAULTS = {
    "server errors": ({"status": 500, "body": "Internal Server Error"}, "HTTP 500 after 2 attempts"),
    "429 with a long Retry-After": (
        {"status": 429, "body": "", "headers": {"Retry-After": "3600"}},
        "retry after 3600 s",
    ),
    "slower than the timeout": ({"delay": 5.0}, "no answer within 2 s"),
    "truncated HTML": ({"truncate_to": 60}, "truncated"),
    "changed layout": (
        {"body": "<html><body><div class='cards'><a href='/other/clinic-001'>One</a></div></body></html>"},
        "page layout changed: clinic index: no 'Clinics' heading",
    ),
    "empty results page": (
        {"body": clinic_site.index_html([])},
        "empty result (0 records); the previous 4 records are kept",
    ),
    "robots.txt disallows the path": (None, "robots.txt: disallowed by robots.txt"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_source_keeps_its_data_and_the_others_still_refresh(
    fault, data_copy, local_server, tmp_path
):
    good = [clinic(n) for n in range(1, 6)]
    other = [clinic(n) for n in range(101, 105)]
    clinic_site.serve(local_server, good)
    clinic_site.serve(local_server, other, prefix="/other")
    sources = [
        ClinicSource(local_server.url("")),
        ClinicSource(local_server.url(""), name="other", file_name="other.json", path="/other"),
    ]
    refresh(sources, tmp_path, DAY1)
    other_before = (data_copy / "other.json").read_bytes()

    route, reason = FAULTS[fault]
    if route is None:
        local_server.route("/robots.txt", body="User-agent: *\nDisallow: /other\n")
    else:
        full = {"body": clinic_site.index_html(other), **route}
        local_server.route("/other", **full)
    good[0] = {**good[0], "phone": "020 7946 0500"}
    clinic_site.serve(local_server, good)

    reports, _ = refresh(sources, tmp_path, DAY2)

    assert reports["clinics"].status == "updated"
    assert records(data_copy)["clinic-001"]["phone"] == "020 7946 0500"
    assert reports["other"].status == "kept"
    assert reason in reports["other"].reason
    assert (data_copy / "other.json").read_bytes() == other_before
    assert exit_code(reports.values()) == 1
    text = (data_copy / CHANGES_FILE).read_text()
    assert "### other: previous data kept" in text and reason in text


def test_429_with_a_short_retry_after_is_waited_out(data_copy, local_server, tmp_path):
    waits = []
    clinic_site.serve(
        local_server, [clinic(n) for n in range(1, 4)], responses=[(429, "busy", {"Retry-After": "2"})]
    )

    reports, _ = refresh(
        [ClinicSource(local_server.url(""))], tmp_path, DAY1, fetch_options={"sleep": waits.append}
    )

    assert reports["clinics"].status == "updated"
    assert waits == [2.0]
    assert local_server.hits["/clinics"] == 2


def test_a_shrink_beyond_the_limit_keeps_the_data_unless_allowed(data_copy, local_server, tmp_path):
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 11)])
    refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1)
    before = (data_copy / "clinics.json").read_bytes()
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 8)])

    reports, _ = refresh([ClinicSource(local_server.url(""))], tmp_path, DAY2)
    assert reports["clinics"].status == "kept"
    assert reports["clinics"].reason == "would remove 30% of records (10 -> 7), more than --max-shrink 20%"
    assert (data_copy / "clinics.json").read_bytes() == before

    reports, _ = refresh([ClinicSource(local_server.url(""))], tmp_path, DAY2, max_shrink=0.5)
    assert reports["clinics"].status == "updated"
    assert sorted(records(data_copy)) == [f"clinic-{n:03d}" for n in range(1, 8)]
    assert "- clinic-010: Test Clinic 010" in (data_copy / CHANGES_FILE).read_text()


def test_records_that_break_the_contract_are_not_published(data_copy, local_server, tmp_path):
    bad = [clinic(1), {**clinic(2), "website": "javascript:alert(1)"}]
    clinic_site.serve(local_server, bad)

    reports, _ = refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1)

    assert reports["clinics"].status == "kept"
    assert "failed validation: record 'clinic-002': website 'javascript:alert(1)' is not an http(s) link" in (
        reports["clinics"].reason
    )
    assert not (data_copy / "clinics.json").exists()


def test_dry_run_writes_nothing(data_copy, local_server, tmp_path):
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 4)])
    before = snapshot(data_copy)

    reports, _ = refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1, dry_run=True)

    assert reports["clinics"].status == "dry-run"
    assert len(reports["clinics"].changes.added) == 3
    assert snapshot(data_copy) == before


class BrokenSource(Source):
    name = "broken"

    def current(self):
        return None

    def fetch(self, fetch, today):
        return {}["a bug"]


class IdlessSource(Source):
    """A source with a bug: a record without its stable id, with only some records re-checked."""

    name = "idless"

    def current(self):
        return None

    def fetch(self, fetch, today):
        return Candidate(({"name": "Test Clinic 900"},), rechecked_ids=frozenset())


class UnreadableHeldSource(Source):
    """A source with a bug in reading what data/ holds."""

    name = "unreadable"

    def current(self):
        return None + 1

    def fetch(self, fetch, today):
        raise AssertionError("never reached: what is held could not be read")


def test_a_bug_before_or_after_fetching_fails_its_source_only(data_copy, local_server, tmp_path):
    clinic_site.serve(local_server, [clinic(1)])
    sources = [IdlessSource(), UnreadableHeldSource(), ClinicSource(local_server.url(""))]
    reports, _ = refresh(sources, tmp_path, DAY1)
    assert reports["idless"].status == "kept" and "KeyError" in reports["idless"].reason
    assert reports["unreadable"].status == "kept" and "TypeError" in reports["unreadable"].reason
    assert reports["clinics"].status == "updated"


def test_a_bug_in_one_source_does_not_stop_the_others(data_copy, local_server, tmp_path):
    clinic_site.serve(local_server, [clinic(1)])
    reports, _ = refresh([BrokenSource(), ClinicSource(local_server.url(""))], tmp_path, DAY1)
    assert reports["broken"].status == "kept"
    assert reports["broken"].reason == "unexpected error KeyError: 'a bug'"
    assert reports["clinics"].status == "updated"


class StoppedHere(Source):
    """The run ends here, as when the machine is shut down or `systemctl stop` kills the job."""

    name = "stopped"

    def current(self):
        return None

    def fetch(self, fetch, today):
        raise KeyboardInterrupt


def test_a_run_stopped_after_a_source_published_still_reports_its_changes(data_copy, local_server, tmp_path):
    clinics = [clinic(n) for n in range(1, 4)]
    clinic_site.serve(local_server, clinics)
    refresh([ClinicSource(local_server.url(""))], tmp_path, DAY1)
    clinics[0] = {**clinics[0], "phone": "020 7946 0500"}
    clinic_site.serve(local_server, clinics)

    with pytest.raises(KeyboardInterrupt):
        refresh([ClinicSource(local_server.url("")), StoppedHere()], tmp_path, DAY2)

    # The new phone number is published, so the next run will see no difference: the change
    # report must have been written with it, or nobody would ever be told the number changed.
    assert records(data_copy)["clinic-001"]["phone"] == "020 7946 0500"
    text = (data_copy / CHANGES_FILE).read_text()
    assert "| clinic-001 | `Test Clinic 001` | phone | `020 7946 0001` | `020 7946 0500` |" in text
    assert json.loads((data_copy / REPORT_FILE).read_text())["sources"][0]["status"] == "updated"

    # A run that completes writes its section once, whatever its sources published on the way.
    clinics[1] = {**clinics[1], "phone": "020 7946 0501"}
    clinic_site.serve(local_server, clinics)
    clinic_site.serve(local_server, [clinic(101)], prefix="/other")
    other = ClinicSource(local_server.url(""), name="other", file_name="other.json", path="/other")
    reports, _ = refresh([ClinicSource(local_server.url("")), other, BrokenSource()], tmp_path, "2026-12-15")
    assert [r.status for r in reports.values()] == ["updated", "updated", "kept"]
    text = (data_copy / CHANGES_FILE).read_text()
    assert [line for line in text.splitlines() if line.startswith("## Refresh")] == [
        "## Refresh 2026-12-15",
        f"## Refresh {DAY2}",
        f"## Refresh {DAY1}",
    ]
    assert "- broken: KEPT previous data" in text and "- other: updated: 1 records" in text
    assert json.loads((data_copy / REPORT_FILE).read_text())["exit_code"] == 1


def test_diff_ignores_bookkeeping_dates_but_counts_them_as_rechecked():
    old = [{"id": "a", "name": "A", "phone": "1", "last_verified": DAY1}]
    new = [{"id": "a", "name": "A", "phone": "1", "last_verified": DAY2}]
    changes = diff_records(old, new)
    assert not changes.has_changes and changes.reverified == 1


# -- the command line ------------------------------------------------------------------------------


@pytest.fixture
def cli_sources(local_server, tmp_path, monkeypatch):
    """`python -m finder refresh` with its sources and fetcher pointed at the local server."""
    from finder.cli.commands import refresh as command
    from scrapers import refresh as module

    sources = [
        ClinicSource(local_server.url("")),
        ClinicSource(local_server.url(""), name="other", file_name="other.json", path="/other"),
    ]
    monkeypatch.setattr(module, "default_sources", lambda: sources)
    monkeypatch.setattr(command, "make_fetcher", lambda args: make_fetcher(tmp_path))
    return sources


def test_cli_exit_codes_and_one_line_per_source(data_copy, local_server, cli_sources, capsys):
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 4)])
    clinic_site.serve(local_server, [clinic(n) for n in range(101, 104)], prefix="/other")
    assert cli.main(["refresh"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "clinics: updated: 3 records, +3 added, -0 removed, ~0 changed",
        "  read 3 records: 3 with a self-referral link, 3 with a phone number, 0 with the areas they cover",
        "other: updated: 3 records, +3 added, -0 removed, ~0 changed",
        "  read 3 records: 3 with a self-referral link, 3 with a phone number, 0 with the areas they cover",
    ]

    local_server.route("/other", status=503, body="down")
    assert cli.main(["refresh"]) == 1
    captured = capsys.readouterr()
    assert [line for line in captured.out.splitlines() if not line.startswith("  ")] == [
        "clinics: unchanged: 3 records, +0 added, -0 removed, ~0 changed",
        f"other: KEPT previous data: fetch failed: {local_server.url('/other')}: HTTP 503 after 2 attempts",
    ]
    assert "\r" not in captured.err  # no progress bars when not on a terminal


def test_cli_source_selection_and_summary_file(data_copy, local_server, cli_sources, capsys, tmp_path):
    clinic_site.serve(local_server, [clinic(1)])
    summary = tmp_path / "message.txt"
    assert cli.main(["refresh", "--source", "clinics", "--summary-file", str(summary)]) == 0
    assert capsys.readouterr().out.startswith("clinics: updated")
    assert not (data_copy / "other.json").exists()
    assert summary.read_text().splitlines()[0].endswith("1 source(s) updated")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["refresh", "--source", "nope"], "unknown source nope; choose from clinics, other"),
        (["refresh", "--max-shrink", "1.5"], "not between 0 and 1"),
        (["refresh", "--max-shrink", "lots"], "is not a number"),
        (["refresh", "--summary-file", "/no/such/directory/msg.txt"], "/no/such/directory does not exist"),
    ],
)
def test_cli_bad_usage_exits_2_with_one_line(argv, message, data_copy, cli_sources, capsys):
    before = snapshot(data_copy)
    with pytest.raises(SystemExit) as stopped:
        code = cli.main(argv)
        raise SystemExit(code)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert snapshot(data_copy) == before


def test_cli_dry_run_prints_what_would_change_and_writes_nothing(
    data_copy, local_server, cli_sources, capsys
):
    clinic_site.serve(local_server, [clinic(n) for n in range(1, 3)])
    before = snapshot(data_copy)
    assert cli.main(["refresh", "--dry-run", "--source", "clinics"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("clinics: would update: 2 records, +2 added")
    assert "(dry run: nothing written)" in out and "- clinic-002: Test Clinic 002" in out
    assert snapshot(data_copy) == before


def test_cli_dry_run_leaves_another_writers_files_alone(data_copy, local_server, cli_sources, capsys):
    """A dry run holds no writer lock, so it must not tidy data/ while a writer is at work: the
    temp file below stands for an import that is writing right now (holding the writer lock, as
    every writer does), and deleting it would lose that import's update."""
    clinic_site.serve(local_server, [clinic(1)])
    in_flight = data_copy / ".tmp-services.json.in-flight"
    in_flight.write_bytes(b'{"records": []}')
    writer = os.open(data_copy, os.O_RDONLY)
    fcntl.flock(writer, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        assert cli.main(["refresh", "--dry-run", "--source", "clinics"]) == 0
        assert in_flight.exists()
    finally:
        os.close(writer)


def test_the_weekly_run_still_revalidates_what_last_weeks_run_fetched(local_server, tmp_path, monkeypatch):
    """The cache only holds validators; every page is still asked for. It must outlive the weekly
    schedule (scheduled runs start late by minutes to hours), or unchanged pages are downloaded
    again every week."""
    import argparse
    import time as clock

    from finder.cli.commands import refresh as command

    monkeypatch.setenv(command.CACHE_ENV, str(tmp_path / "http.sqlite"))
    local_server.route("/page", body="<h1>Clinics</h1>" * 100, etag='"v1"')
    args = argparse.Namespace(no_cache=False)
    first = command.make_fetcher(args)
    first.min_interval = 0
    assert first(local_server.url("/page")).from_cache is False
    first.close()

    eight_days_later = clock.time() + 8 * 86400
    monkeypatch.setattr("time.time", lambda: eight_days_later)
    second = command.make_fetcher(args)
    second.min_interval = 0
    assert second(local_server.url("/page")).from_cache is True  # answered 304, no body sent
    second.close()
