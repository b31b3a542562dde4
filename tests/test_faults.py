"""The fault matrix of issue 12: one test per reproduction. Each asserts the exit code, the one-line
message and that data/ (a temporary copy) is byte-identical afterwards. Time-bound cases run on
injected clocks; the bombs run in a subprocess whose peak memory is measured with `resource`."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import test_refresh_sources
from helpers import RedirectAll
from localserver import Route

from finder import cli, store, store_lock
from scrapers import refresh
from scrapers.http import Fetcher, FetchError, check_complete

# The NHS tables built from tests/fixtures/nhs_stats by the importers (fixtures shared with the
# refresh-source tests), and the ODS answers they serve.
clean_copy = test_refresh_sources.clean_copy
nhs_data = test_refresh_sources.nhs_data
ORD_PATH = test_refresh_sources.ORD_PATH
serve_ord = test_refresh_sources.serve_ord

ROOT = Path(__file__).resolve().parent.parent
SHARED_NHS = ROOT.parent / "shared" / "data" / "nhs"
LINKS = ROOT / "tests" / "fixtures" / "nhs_stats" / "service_links.csv"
MAIN = ROOT / "tests" / "fixtures" / "nhs_stats" / "annual_main_2024-25.csv"
MEMORY_LIMIT_KB = 500_000


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def run_cli(argv, capsys):
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- imports: bombs ---------------------------------------------------------------------------


def forged_bomb(path: Path, member: str, declared: int) -> Path:
    """A small zip whose headers declare `declared` unpacked bytes for `member` (the shape of a
    3 GiB bomb without writing 3 GiB in the test)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, b"OrgType,OrgCode\n" * 1000)
    blob = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = blob.index(signature)
        blob[at + offset : at + offset + 4] = struct.pack("<I", declared)
    path.write_bytes(bytes(blob))
    return path


def ratio_bomb(path: Path, member: str, megabytes: int = 40) -> Path:
    """An honest zip that unpacks 40 MB of one repeated row from about 100 KB."""
    row = b"Provider,RXX,Some trust,Total,Total,Total,1,2,3,4,5,6,7,8\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(member, "w") as handle:
        block = row * 16384
        for _ in range(megabytes * 1_000_000 // len(block)):
            handle.write(block)
    return path


def peak_memory_kb(argv: list[str], env: dict) -> tuple[subprocess.CompletedProcess, int]:
    """Run `python -m finder ...` in a child and return its result and peak resident memory."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "finder", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    code, peak = done.stdout.split()
    return subprocess.CompletedProcess(argv, int(code), "", done.stderr), int(peak)


@pytest.mark.parametrize(
    ("kind", "member", "expected"),
    [
        ("nhs-outcomes", "annual_main_2024-25.csv", "declares 3,221 MB unpacked"),
        ("service-links", "service_links.csv", "declares 3,221 MB unpacked"),
        ("postcodes", "ONSPD.csv", "declares 3,221 MB unpacked, more than 3,000 MB"),
    ],
)
def test_zip_bomb_is_refused_within_memory(kind, member, expected, data_copy, tmp_path):
    before = snapshot(data_copy)
    bomb = forged_bomb(tmp_path / "bomb.zip", member, 3 << 30)
    done, peak = peak_memory_kb(["import", kind, str(bomb)], dict(os.environ))
    assert done.returncode == 2
    assert expected in one_line_error(done.stderr)
    assert peak < MEMORY_LIMIT_KB
    assert snapshot(data_copy) == before


def test_ratio_bomb_is_refused_before_unpacking(data_copy, tmp_path, capsys):
    before = snapshot(data_copy)
    bomb = ratio_bomb(tmp_path / "annual_main_2024-25.zip", "annual_main_2024-25.csv")
    code, _, err = run_cli(["import", "nhs-outcomes", str(bomb)], capsys)
    assert code == 2 and "times its packed size (a zip bomb?); refused" in one_line_error(err)
    assert snapshot(data_copy) == before


def test_a_member_lying_about_its_size_is_never_unpacked_past_it(data_copy, tmp_path, capsys):
    before = snapshot(data_copy)
    bomb = ratio_bomb(tmp_path / "annual_main_2024-25.zip", "annual_main_2024-25.csv", megabytes=8)
    forged = bytearray(bomb.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = forged.index(signature)
        forged[at + offset : at + offset + 4] = struct.pack("<I", 1000)  # claims 1 kB
    bomb.write_bytes(bytes(forged))
    code, _, err = run_cli(["import", "nhs-outcomes", str(bomb)], capsys)
    assert code == 2 and "damaged or truncated zip" in one_line_error(err)
    assert snapshot(data_copy) == before


def test_the_streamed_cap_stops_an_endless_member():
    from finder.errors import SourceFormatError
    from finder.imports import guard

    class Endless:
        def read(self, n):
            return b"a,b\n" * (n // 4)

    stream = guard.GuardedStream(Endless(), "endless.csv", guard.Limits(max_bytes=5_000_000))
    with pytest.raises(SourceFormatError, match="unpacks to more than 5 MB"):
        while stream.read(1 << 20):
            pass
    assert stream.bytes_read <= 5_000_000 + (1 << 20)


# --- imports: truncation, NUL, special files ---------------------------------------------------


def test_a_file_cut_mid_row_is_refused(data_copy, tmp_path, capsys):
    before = snapshot(data_copy)
    cut = tmp_path / "service_links.csv"
    cut.write_bytes(LINKS.read_bytes()[:3000])
    code, _, err = run_cli(["import", "service-links", str(cut)], capsys)
    assert code == 2 and "ends without a final newline" in one_line_error(err)
    assert snapshot(data_copy) == before


def test_a_file_cut_between_rows_is_refused_as_a_shrink_unless_allowed(data_copy, tmp_path, capsys):
    before = snapshot(data_copy)
    lines = LINKS.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "service_links.csv"
    cut.write_bytes(b"".join(lines[:4]))  # header and 3 of the fixture's rows, whole lines
    held = len(json.loads((data_copy / "service_links.json").read_text())["records"])
    code, _, err = run_cli(["import", "service-links", str(cut)], capsys)
    message = one_line_error(err)
    assert code == 2 and f"3 service-link rows, we hold {held}" in message and "--allow-shrink" in message
    assert snapshot(data_copy) == before

    code, out, _ = run_cli(["import", "service-links", str(cut), "--allow-shrink"], capsys)
    assert code == 0 and f"shrink allowed: 3 service-link rows replace the {held} held before" in out


def test_half_a_year_of_statistics_is_refused_as_a_shrink(data_copy, tmp_path, capsys):
    held = json.loads((data_copy / "nhs_outcomes.json").read_text())["main"]["2024-25"]["providers"]
    source = SHARED_NHS / "annual_main_2024-25.csv"
    if not source.is_file():
        pytest.skip("the shared statistics are not here")
    before = snapshot(data_copy)
    lines = source.read_bytes().splitlines(keepends=True)
    half = tmp_path / "annual_main_2024-25.csv"
    # The England row comes first; the first 40% of the rows hold about a third of the providers.
    half.write_bytes(b"".join(lines[: len(lines) * 2 // 5]))
    code, _, err = run_cli(["import", "nhs-outcomes", str(half)], capsys)
    message = one_line_error(err)
    assert code == 2 and f"providers for 2024-25, we hold {len(held)}" in message
    assert snapshot(data_copy) == before


def test_nul_in_a_cell_is_refused_with_line_and_column(data_copy, tmp_path, capsys):
    before = snapshot(data_copy)
    lines = LINKS.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b",", b",Leeds\x00", 1)
    bad = tmp_path / "service_links.csv"
    bad.write_bytes(b"".join(lines))
    code, _, err = run_cli(["import", "service-links", str(bad)], capsys)
    assert code == 2 and "line 3, column 2 holds a control character (U+0000)" in one_line_error(err)
    assert snapshot(data_copy) == before


def test_a_fifo_is_refused_at_once(data_copy, tmp_path):
    before = snapshot(data_copy)
    fifo = tmp_path / "towns.csv"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "finder", "import", "towns", str(fifo)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,  # before the fix this hung for ever, holding the writer lock
    )
    assert done.returncode == 2
    assert "is a named pipe (FIFO), not a file" in one_line_error(done.stderr)
    assert snapshot(data_copy) == before


@pytest.mark.parametrize(
    ("kind", "path", "expected"),
    [
        ("towns", "/dev/zero", "/dev/zero: is a device, not a file"),
        ("postcodes", "/dev/null", "/dev/null: is a device, not a file"),
        ("nhs-providers", "/dev/zero", "/dev/zero: is a device, not a file"),
        ("practitioners", "/dev/zero", "/dev/zero: is a device, not a file"),
        ("towns", "/tmp", "/tmp: is a directory, not a file"),
        ("service-links", "/no/such/file.csv", "/no/such/file.csv: no such file"),
    ],
)
def test_special_files_are_refused_with_what_they_are(kind, path, expected, data_copy, capsys):
    before = snapshot(data_copy)
    code, _, err = run_cli(["import", kind, path], capsys)
    assert code == 2 and expected in one_line_error(err)
    assert snapshot(data_copy) == before


def test_a_truncated_codepoint_zip_says_so(data_copy, tmp_path, capsys):
    from test_postcodes import make_codepoint_zip

    whole = make_codepoint_zip(tmp_path / "whole.zip", [("LS1 1AA", 10, 430000, 433000, "E92000001")] * 3)
    cut = tmp_path / "codepo.zip"
    cut.write_bytes(whole.read_bytes()[:-60])
    before = snapshot(data_copy)
    code, _, err = run_cli(["import", "postcodes", str(cut)], capsys)
    assert code == 2 and "begins like a zip but is damaged or truncated" in one_line_error(err)
    assert snapshot(data_copy) == before


# --- locks and the journal ---------------------------------------------------------------------


def hold_lock(directory: Path) -> int:
    fd = os.open(directory, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_a_stuck_writer_makes_the_next_one_give_up(data_copy, tmp_path):
    before = snapshot(data_copy)
    # A FIFO no longer hangs an import, so the stuck writer is simulated: the lock held, and the
    # holder recorded, as a writer stopped mid-import leaves them.
    fd = hold_lock(data_copy)
    store_lock._record_holder(data_copy)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "finder", "import", "service-links", str(LINKS)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, FINDER_LOCK_WAIT="0.5"),
            timeout=60,
        )
    finally:
        os.close(fd)
        store.holder_file(data_copy).unlink(missing_ok=True)
    assert done.returncode == 1
    message = one_line_error(done.stderr)
    assert "another import is running since " in message and f"(process {os.getpid()}:" in message
    assert snapshot(data_copy) == before


def test_the_writer_wait_is_bounded_by_its_clock_not_by_sleeping(data_copy):
    fd = hold_lock(data_copy)
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    other = os.open(data_copy, os.O_RDONLY)
    try:
        with pytest.raises(store.WriterBusy, match="another import is running since"):
            store_lock._acquire(other, data_copy, 30.0, lambda: now[0], sleep)
    finally:
        os.close(other)
        os.close(fd)
    assert 30.0 <= now[0] < 30.2 and max(slept) <= store.LOCK_POLL


def test_readers_never_wait_and_read_the_last_committed_files(data_copy):
    from finder import search

    services = json.loads((data_copy / "services.json").read_text())
    newer = {**services, "records": services["records"][:1]}
    tmp = data_copy / f"{store.TMP_PREFIX}services.json.{os.getpid()}-test"
    tmp.write_bytes(store.json_bytes(newer))
    journal = data_copy / store.JOURNAL_NAME
    journal.write_text(json.dumps({"renames": [[tmp.name, "services.json"]]}))
    fd = hold_lock(data_copy)  # the writer stopped between its commit point and its renames
    try:
        records = search.dataset().records
        assert [r["id"] for r in records if r["kind"] == "nhs"] == [newer["records"][0]["id"]]
        assert journal.exists()  # not rolled forward: a writer holds the lock
    finally:
        os.close(fd)
    store.recover_if_needed(data_copy)
    assert not journal.exists() and json.loads((data_copy / "services.json").read_text()) == newer


def test_a_malformed_journal_is_moved_aside_with_a_warning(data_copy, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FINDER_CACHE_DIR", str(tmp_path / "cache"))
    before = snapshot(data_copy)
    journal = data_copy / store.JOURNAL_NAME
    journal.write_text(json.dumps({"renames": [[".tmp-x"]]}))
    code, out, err = run_cli(["postcode", "LS1 4AP"], capsys)
    assert code == 0 and out.startswith("LS1 4AP")
    assert "was malformed (a rename that is not a pair" in err and "the last committed files are used" in err
    assert not journal.exists()
    aside = list((tmp_path / "cache" / "malformed-journals").iterdir())
    assert len(aside) == 1 and json.loads(aside[0].read_text()) == {"renames": [[".tmp-x"]]}
    assert snapshot(data_copy) == before
    code, _, _ = run_cli(["import", "service-links", str(LINKS), "--allow-shrink"], capsys)
    assert code == 0  # and writers work again


def test_temp_files_are_removed_by_readers_only_while_no_writer_holds_the_lock(data_copy):
    stray = data_copy / f"{store.TMP_PREFIX}services.json.{os.getpid()}-abc123"
    stray.write_text("being written")
    fd = hold_lock(data_copy)  # a writer at work (its process id says nothing across containers)
    try:
        store.remove_dead_temps(data_copy)
        assert stray.exists()
    finally:
        os.close(fd)
    store.remove_dead_temps(data_copy)  # the writer stopped without committing
    assert not stray.exists()


UNSHARE = "/usr/bin/unshare"
SWEEP_FROM_ANOTHER_NAMESPACE = (
    "import sys; from pathlib import Path; from finder import store; "
    "store.recover_if_needed(Path(sys.argv[1])); store.remove_dead_temps(Path(sys.argv[1]))"
)


@pytest.mark.skipif(not (os.path.exists(UNSHARE) and os.geteuid() == 0), reason="needs unshare as root")
def test_a_reader_in_another_pid_namespace_never_removes_a_live_writers_files(data_copy, capsys):
    """The app and the refresh in separate containers: the reader cannot see the writer's process,
    so every writer looked dead and its temp files were swept mid-publish ("Imported" with exit 0
    while nothing was published)."""
    swept = []

    def reader_in_another_container(temps):
        done = subprocess.run(
            [UNSHARE, "--pid", "--fork", sys.executable, "-c", SWEEP_FROM_ANOTHER_NAMESPACE, str(data_copy)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        swept.append([name for name, path in temps.items() if not path.exists()])

    new = b'{"new": true}\n'
    store.publish(
        {"services.json": new, "manifest.json": new},
        validate=reader_in_another_container,
        directory=data_copy,
    )
    assert swept == [[]]
    assert (data_copy / "services.json").read_bytes() == new == (data_copy / "manifest.json").read_bytes()


def test_a_publish_whose_temp_files_vanish_fails_and_keeps_the_old_files(data_copy, monkeypatch):
    before = snapshot(data_copy)
    real_replace = os.replace

    def someone_sweeps_after_the_commit_point(src, dst):
        real_replace(src, dst)
        if str(dst).endswith(store.JOURNAL_NAME):
            next(data_copy.glob(f"{store.TMP_PREFIX}services.json*")).unlink()

    monkeypatch.setattr(os, "replace", someone_sweeps_after_the_commit_point)
    with pytest.raises(store.LostPublish, match=r"services\.json had been removed"):
        store.publish({"services.json": b"{}", "manifest.json": b"{}"}, directory=data_copy)
    monkeypatch.setattr(os, "replace", real_replace)
    assert snapshot(data_copy) == before  # neither half of the set landed
    assert not (data_copy / store.JOURNAL_NAME).exists()


def test_a_temp_file_is_removed_when_writing_it_fails(data_copy, monkeypatch):
    before = snapshot(data_copy)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        store.publish({"services.json": b"{}"}, directory=data_copy)
    monkeypatch.undo()
    assert not list(data_copy.glob(f"{store.TMP_PREFIX}*"))
    assert snapshot(data_copy) == before


def test_the_writer_lock_holder_is_never_written_through_a_planted_link(data_copy, tmp_path):
    holder = store.holder_file(data_copy)
    assert not str(holder).startswith("/tmp/ipt-finder")  # not a predictable name in shared /tmp
    victim = tmp_path / "victim"
    victim.write_text("precious")
    holder.parent.mkdir(parents=True, exist_ok=True)
    holder.symlink_to(victim)
    with store.writer_lock(data_copy):
        assert victim.read_text() == "precious"
        assert json.loads(holder.read_text())["pid"] == os.getpid()  # the link was replaced
    assert not holder.exists() and victim.read_text() == "precious"


def test_the_holder_folder_is_made_for_the_service_user_alone(data_copy):
    with store.writer_lock(data_copy):
        assert store.holder_file(data_copy).exists()
    assert stat.S_IMODE(store.holder_file(data_copy).parent.stat().st_mode) == 0o700


def test_a_holder_file_someone_else_owns_is_ignored(data_copy):
    holder = store.holder_file(data_copy)
    holder.parent.mkdir(parents=True, exist_ok=True)
    holder.write_text(json.dumps({"pid": 1, "since": "forged", "command": "rm -rf /"}))
    os.chown(holder, 65534, 65534)
    fd = hold_lock(data_copy)
    try:
        with pytest.raises(store.WriterBusy) as busy:
            with store.writer_lock(data_copy, wait=0):
                pass
    finally:
        os.close(fd)
    assert "forged" not in str(busy.value) and "since an unknown time" in str(busy.value)


def test_no_holder_is_recorded_in_a_folder_others_can_write(data_copy):
    holder = store.holder_file(data_copy)
    holder.parent.mkdir(parents=True, exist_ok=True)
    holder.parent.chmod(0o777)
    with store.writer_lock(data_copy):
        assert not holder.exists()


# --- exports --------------------------------------------------------------------------------------


def test_export_refuses_a_fifo_a_device_and_a_symlink(data_copy, tmp_path, capsys):
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    code, _, err = run_cli(["export", "--format", "csv", str(fifo)], capsys)
    assert code == 2 and "is a named pipe (FIFO); only a regular file is written here" in one_line_error(err)
    assert Path(fifo).is_fifo()

    code, _, err = run_cli(["export", "--format", "csv", "/dev/null"], capsys)
    assert code == 2 and "/dev/null is a device" in one_line_error(err)
    assert Path("/dev/null").is_char_device()

    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    code, _, err = run_cli(["export", "--format", "csv", str(link)], capsys)
    assert code == 2 and "is a symbolic link; not replaced" in one_line_error(err)
    assert target.read_text() == "old" and link.is_symlink()
    code, _, _ = run_cli(["export", "--format", "csv", "--follow-symlink", str(link)], capsys)
    assert code == 0 and link.is_symlink() and target.read_text().startswith("id,")


def test_refresh_summary_refuses_a_fifo_before_fetching(data_copy, tmp_path, capsys):
    fifo = tmp_path / "summary.txt"
    os.mkfifo(fifo)
    code, _, err = run_cli(["refresh", "--source", "postcodes", "--summary-file", str(fifo)], capsys)
    assert code == 2 and "is not a regular file" in one_line_error(err)


# --- the refresh ----------------------------------------------------------------------------------


class Clock:
    """A clock the fake fetches move: time passes only when a request 'takes' it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_an_all_failing_host_trips_the_breaker(nhs_data, local_server):
    before = snapshot(nhs_data)
    local_server.fallback = Route(status=500, body="down")
    local_server.route("/robots.txt", status=404)  # crawling allowed: every page answers 500
    fetcher = Fetcher(min_interval=0, retries=0, timeout=10)
    options = refresh.RefreshOptions(today="2026-11-25", breaker=3)
    reports = refresh.run_refresh([refresh.OdsSource()], RedirectAll(fetcher, local_server.url("")), options)
    (report,) = reports
    assert report.status == "kept" and refresh.exit_code(reports) == 1
    assert (
        "circuit breaker: directory.spineservices.nhs.uk failed 3 requests in a row (HTTP 500"
        in report.reason
    )
    assert sum(local_server.hits[ORD_PATH + c] for c in _codes(nhs_data)) == 3  # then no more asked
    assert snapshot(nhs_data) == before


def _codes(directory):
    return [r["org_code"] for r in json.loads((directory / "nhs_providers.json").read_text())["records"]]


def test_a_trickling_host_is_cut_off_by_the_source_deadline(nhs_data):
    """Each answer 'takes' 100 s on the injected clock: the source stops at its limit."""
    before = snapshot(nhs_data)
    clock = Clock()
    asked = []

    def trickle(url, params=None, headers=None):
        asked.append(url)
        clock.now += 100.0
        raise FetchError(url, "answer still arriving after 60 s; not waiting any longer")

    options = refresh.RefreshOptions(today="2026-11-25", clock=clock, source_deadline=250, breaker=100)
    reports = refresh.run_refresh([refresh.OdsSource()], trickle, options)
    (report,) = reports
    assert report.status == "kept" and len(asked) == 3  # 0, 100, 200 s; at 300 s the limit has passed
    assert "its time limit was reached (the rest is left for the next run)" in report.reason
    assert snapshot(nhs_data) == before


def test_the_run_deadline_keeps_sources_not_started(nhs_data):
    before = snapshot(nhs_data)
    clock = Clock()

    def slow(url, params=None, headers=None):
        clock.now += 400.0
        raise FetchError(url, "no answer within 15 s")

    options = refresh.RefreshOptions(today="2026-11-25", clock=clock, deadline=500, source_deadline=500)
    reports = refresh.run_refresh([refresh.OdsSource(), refresh.ServiceSitesSource()], slow, options)
    assert [r.status for r in reports] == ["kept", "kept"]
    assert reports[1].reason.startswith("not started: the run's time limit (--deadline 500 s) was reached")
    assert snapshot(nhs_data) == before


def test_a_long_retry_after_is_left_for_the_next_run(nhs_data, local_server):
    before = snapshot(nhs_data)
    for code in _codes(nhs_data):
        local_server.route(ORD_PATH + code, status=429, headers={"Retry-After": "120"}, body="slow down")
    slept = []
    fetcher = Fetcher(min_interval=0, retries=3, timeout=10, max_retry_wait=30, sleep=slept.append)
    options = refresh.RefreshOptions(today="2026-11-25")
    reports = refresh.run_refresh([refresh.OdsSource()], RedirectAll(fetcher, local_server.url("")), options)
    (report,) = reports
    assert report.status == "kept"
    assert "server asked to retry after 120 s (more than 30 s): try next run" in report.reason
    assert not [s for s in slept if s >= 30]  # never waited what the server asked
    assert snapshot(nhs_data) == before


def test_a_body_cut_short_without_content_length_is_refused(local_server):
    local_server.route("/cut.json", body='{"records": [1, 2', content_type="application/json", no_length=True)
    local_server.route(
        "/whole.json", body='{"records": [1, 2]}', content_type="application/json", no_length=True
    )
    fetcher = Fetcher(min_interval=0, retries=0, timeout=10, respect_robots=False)
    with pytest.raises(FetchError, match="truncated body \\(no Content-Length\\): the JSON does not parse"):
        fetcher(local_server.url("/cut.json"))
    assert fetcher(local_server.url("/whole.json")).text == '{"records": [1, 2]}'

    class Reply:
        def __init__(self, body, kind):
            self.content, self.headers, self.status_code = body, {"Content-Type": kind}, 200

    with pytest.raises(FetchError, match="the JSON does not parse to its end"):
        check_complete("http://x/a.json", Reply(b'{"records": [1, 2', "application/json"))
    with pytest.raises(FetchError, match="the CSV ends without its final newline"):
        check_complete("http://x/a.csv", Reply(b"a,b\n1,", "text/csv"))
    with pytest.raises(FetchError, match="before its closing </html> tag"):
        check_complete("http://x/p", Reply(b"<html><body><p>Call 0300", "text/html"))
    assert check_complete("http://x/p", Reply(b"<html><body></body></html>\n", "text/html"))


def test_a_mass_rename_is_held_for_review_then_publishable(nhs_data, local_server):
    before = snapshot(nhs_data)
    renamed = {code: {"org_name": f"<b>{code}</b>"} for code in _codes(nhs_data)}
    serve_ord(local_server, nhs_data, renamed)
    fetcher = Fetcher(min_interval=0, retries=0, timeout=10)
    redirect = RedirectAll(fetcher, local_server.url(""))
    options = refresh.RefreshOptions(today="2026-11-25", mass_change_min=5)
    reports = refresh.run_refresh([refresh.OdsSource()], redirect, options)
    (report,) = reports
    assert report.status == "kept" and refresh.exit_code(reports) == 1
    assert "held for review: 100% of records would change name, link or phone at once" in report.reason
    assert report.changes.changed  # reported, with every change listed
    refresh.write_reports(reports, options)
    assert snapshot(nhs_data) == before

    accept = refresh.RefreshOptions(today="2026-11-25", mass_change_min=5, accept_mass_change=True)
    (report,) = refresh.run_refresh([refresh.OdsSource()], redirect, accept)
    assert report.status == "updated"


def test_refresh_against_a_host_answering_500_ends_within_its_deadline(
    data_copy, local_server, monkeypatch, capsys
):
    """`python -m finder refresh`, every request answered 500, small injected limits: every source
    keeps its data, the run ends, exit 1."""
    from finder.cli.commands import refresh as command

    before = snapshot(data_copy)
    local_server.fallback = Route(status=500, body="down")
    monkeypatch.setattr(
        command,
        "make_fetcher",
        lambda args: RedirectAll(
            Fetcher(min_interval=0, retries=1, backoff=0.01, timeout=5), local_server.url("")
        ),
    )
    code, out, _ = run_cli(
        ["refresh", "--deadline", "60", "--source-deadline", "30", "--breaker", "3"], capsys
    )
    assert code == 1
    lines = out.splitlines()
    assert all(": KEPT previous data:" in line or ": skipped:" in line for line in lines), lines
    assert snapshot(data_copy) == before
