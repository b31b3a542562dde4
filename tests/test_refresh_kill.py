"""A refresh killed in the middle of writing leaves data/ as it was or fully updated (SIGKILL: no
cleanup handlers run, as when a machine loses power or the job is cancelled)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from finder import store

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "refresh"))
import clinic_site
from clinic_site import clinic

RUNNER = Path(__file__).parent / "fixtures" / "refresh" / "run_cli.py"


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def start(server, data_dir, tmp_path, *extra, marker):
    env = {**os.environ, "FINDER_DATA_DIR": str(data_dir), "FINDER_TEST_PUBLISH_PAUSE": str(marker)}
    env.pop("NHS_API_KEY", None)
    return subprocess.Popen(
        [
            sys.executable,
            str(RUNNER),
            server.url(""),
            str(tmp_path / "http.sqlite"),
            *extra,
            "--",
            "--source",
            "clinics",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_when(marker: Path, process) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"refresh ended before the pause: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("refresh never reached the pause")
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


@pytest.fixture
def published_once(data_copy, local_server, tmp_path):
    """data/ after a first refresh of 5 clinics, and the site then changed (2 phones, 1 new clinic)."""
    clinics = [clinic(n) for n in range(1, 6)]
    clinic_site.serve(local_server, clinics)
    first = subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            local_server.url(""),
            str(tmp_path / "http.sqlite"),
            "--",
            "--source",
            "clinics",
        ],
        env={**os.environ, "FINDER_DATA_DIR": str(data_copy)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    clinics[0] = {**clinics[0], "phone": "020 7946 0900"}
    clinics[3] = {**clinics[3], "phone": "020 7946 0901"}
    clinic_site.serve(local_server, [*clinics, clinic(6)])
    return data_copy


def test_killed_before_the_commit_point_leaves_data_byte_identical(published_once, local_server, tmp_path):
    before = snapshot(published_once)
    marker = tmp_path / "paused"
    process = start(local_server, published_once, tmp_path, marker=marker)
    kill_when(marker, process)

    # The new files (the change report with them) were written beside the old ones under
    # temporary names, nothing renamed yet.
    leftovers = sorted(p.name for p in published_once.iterdir() if p.name.startswith(store.TMP_PREFIX))
    assert sorted(name[len(store.TMP_PREFIX) :].rsplit(".", 1)[0] for name in leftovers) == [
        "CHANGES.md",
        "clinics.json",
        "manifest.json",
        "refresh-report.json",
    ]
    assert {k: v for k, v in snapshot(published_once).items() if not k.startswith(".")} == before
    store.recover(published_once)  # what the next run (or any writer) does first
    assert snapshot(published_once) == before


def test_killed_between_renames_is_rolled_forward_to_fully_updated(published_once, local_server, tmp_path):
    before = snapshot(published_once)
    marker = tmp_path / "paused"
    process = start(local_server, published_once, tmp_path, "1", marker=marker)
    kill_when(marker, process)

    # Half-way: the journal is committed and one of the two files has been renamed.
    on_disk = snapshot(published_once)
    assert store.JOURNAL_NAME in on_disk
    assert (on_disk["clinics.json"] != before["clinics.json"]) != (
        on_disk["manifest.json"] != before["manifest.json"]
    )

    store.recover(published_once)
    after = snapshot(published_once)
    assert store.JOURNAL_NAME not in after and not any(name.startswith(".tmp-") for name in after)
    clinics = {r["id"]: r for r in json.loads(after["clinics.json"])["records"]}
    assert (clinics["clinic-001"]["phone"], clinics["clinic-004"]["phone"]) == (
        "020 7946 0900",
        "020 7946 0901",
    )
    assert "clinic-006" in clinics
    assert json.loads(after["manifest.json"])["sources"]["clinics"]["records"] == 6
    # The change report came with the data, so the new phone numbers are not published unreported.
    changes = after["CHANGES.md"].decode()
    assert "| clinic-001 | `Test Clinic 001` | phone | `020 7946 0001` | `020 7946 0900` |" in changes
    assert "- clinic-006: Test Clinic 006" in changes
    assert after["postcodes.parquet"] == before["postcodes.parquet"]
