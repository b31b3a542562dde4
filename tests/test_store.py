"""Writes to data/ are atomic: the old files or the new ones, never a mixture or a torn file."""

import json
import os

import pytest

from finder import store


@pytest.fixture
def folder(tmp_path):
    """A data directory of its own (the test's cache directory, which holds the writer-lock
    holder, is beside it)."""
    directory = tmp_path / "data"
    directory.mkdir()
    return directory


def test_publish_replaces_files_together(folder):
    store.publish({"a.json": b"1", "b.json": b"1"}, directory=folder)
    store.publish({"a.json": b"2", "b.json": b"2"}, directory=folder)
    assert (folder / "a.json").read_bytes() == (folder / "b.json").read_bytes() == b"2"
    assert sorted(p.name for p in folder.iterdir()) == ["a.json", "b.json"]


def test_failed_validation_leaves_old_files_byte_identical(folder):
    store.publish({"a.json": b"old"}, directory=folder)

    def reject(temps):
        raise ValueError("bad data")

    with pytest.raises(ValueError):
        store.publish({"a.json": b"new"}, validate=reject, directory=folder)
    assert (folder / "a.json").read_bytes() == b"old"
    assert [p.name for p in folder.iterdir()] == ["a.json"]


def test_crash_after_commit_point_is_rolled_forward(tmp_path, monkeypatch):
    store.publish({"a.json": b"old", "b.json": b"old"}, directory=tmp_path)
    real_replace = os.replace
    calls = {"n": 0}

    def crash_on_second_data_rename(src, dst):
        # the journal's own rename is the first call; die after renaming one data file
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("killed")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_second_data_rename)
    with pytest.raises(SystemExit):
        store.publish({"a.json": b"new", "b.json": b"new"}, directory=tmp_path)
    monkeypatch.setattr(os, "replace", real_replace)
    # Half renamed on disk; the next reader or writer finishes the job from the journal.
    store.recover(tmp_path)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes() == b"new"
    assert not (tmp_path / store.JOURNAL_NAME).exists()


def test_crash_before_commit_point_keeps_old_files(folder):
    store.publish({"a.json": b"old"}, directory=folder)
    (folder / f"{store.TMP_PREFIX}a.json.xyz").write_bytes(b"half-written")
    store.recover(folder)
    assert [p.name for p in folder.iterdir()] == ["a.json"]
    assert (folder / "a.json").read_bytes() == b"old"


def test_manifest_entries_are_replaced_per_source(tmp_path):
    store.publish({"manifest.json": store.update_manifest("x", {"n": 1}, tmp_path)}, directory=tmp_path)
    store.publish({"manifest.json": store.update_manifest("y", {"n": 2}, tmp_path)}, directory=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["sources"] == {"x": {"n": 1}, "y": {"n": 2}}


def test_every_publish_records_each_files_checksum_and_count_in_the_manifest(tmp_path):
    """The release the doctor checks against: a file's checksum and record count, and the count
    of the release before, kept for files another publish did not touch."""
    import hashlib

    def doc(n: int) -> bytes:
        return store.json_bytes({"schema_version": 1, "records": [{"id": str(i)} for i in range(n)]})

    store.publish(
        {"a.json": doc(3), "manifest.json": store.update_manifest("a", {}, tmp_path)}, directory=tmp_path
    )
    store.publish({"b.json": doc(2)}, directory=tmp_path)  # no manifest given: it is kept current
    store.publish(
        {"a.json": doc(5), "manifest.json": store.update_manifest("a", {}, tmp_path)}, directory=tmp_path
    )
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["schema_version"] == 1
    assert manifest["files"] == {
        "a.json": {"sha256": hashlib.sha256(doc(5)).hexdigest(), "records": 5, "records_before": 3},
        "b.json": {"sha256": hashlib.sha256(doc(2)).hexdigest(), "records": 2},
    }


def test_readers_finish_an_interrupted_publish(data_copy, monkeypatch):
    """A publish killed between renames is rolled forward by the next search, not left half-done."""
    from finder import search

    real_replace = os.replace
    calls = {"n": 0}
    new_services = store.json_bytes({"schema_version": 1, "records": []})

    def crash_after_journal(src, dst):
        calls["n"] += 1
        if calls["n"] == 2:  # the journal is committed; no data file renamed yet
            raise SystemExit("killed")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_after_journal)
    with pytest.raises(SystemExit):
        store.publish(
            {"services.json": new_services, "practitioners.json": new_services}, directory=data_copy
        )
    monkeypatch.setattr(os, "replace", real_replace)
    assert (data_copy / store.JOURNAL_NAME).exists()
    search.search("CV1 1AH", radius_miles=5)
    assert not (data_copy / store.JOURNAL_NAME).exists()
    assert (data_copy / "services.json").read_bytes() == new_services


def test_writer_lock_is_exclusive_across_processes_and_reentrant(tmp_path):
    import subprocess
    import sys

    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
        "except BlockingIOError:\n    print('held')\n"
    )
    with store.writer_lock(tmp_path), store.writer_lock(tmp_path):
        inside = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True)
    after = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True)
    assert (inside.stdout.strip(), after.stdout.strip()) == ("held", "free")


def test_a_journal_cannot_move_files_outside_the_data_directory(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / f"{store.TMP_PREFIX}x").write_bytes(b"planted")
    (data / store.JOURNAL_NAME).write_text(
        json.dumps({"renames": [[f"{store.TMP_PREFIX}x", "../escaped.txt"]]})
    )
    store.recover(data)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (data / store.JOURNAL_NAME).exists()


# One stamp for every reader: after a publish each reader sees the new data without a restart, and
# data that did not change is not read again.


def test_the_data_version_changes_with_a_publish_and_only_then(data_copy):
    before = store.data_version(data_copy)
    assert store.data_version(data_copy) == before
    store.publish(
        {"practitioners.json": (data_copy / "practitioners.json").read_bytes()}, directory=data_copy
    )
    assert store.data_version(data_copy) != before


def test_publishes_in_quick_succession_are_each_seen(data_copy):
    """File times move in ticks of a few milliseconds: a publish within the same tick as the one
    before must still reach the next search."""
    from finder import search

    template = search.dataset().records[0]
    for n in range(1, 6):
        records = [{**template, "id": f"P-{i}", "kind": "private"} for i in range(n)]
        store.publish(
            {"practitioners.json": store.json_bytes({"schema_version": 1, "records": records})},
            directory=data_copy,
        )
        assert search.dataset().count("private") == n


def test_a_publish_leaves_a_directory_time_no_reader_has_seen(data_copy):
    """Readers in other processes compare only the directory's time (one stat per search), which
    moves in ticks of a few milliseconds: a publish's last step moves it past the time a reader
    may have seen in the tick of its renames."""
    import os

    from finder import store_files

    os.utime(data_copy)  # the directory changed in this clock tick, and a reader saw it
    seen = os.stat(data_copy).st_mtime_ns
    store_files.advance_directory_time(data_copy)
    assert os.stat(data_copy).st_mtime_ns > seen


def _republish_filtered_parquet(directory, name, keep):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(directory / name)
    table = table.filter(keep(table, pc))
    sink = directory / "rewritten.parquet.build"
    pq.write_table(table, sink)
    content = sink.read_bytes()
    sink.unlink()
    store.publish({name: content}, directory=directory)


def test_each_reader_sees_a_publish_without_a_restart(data_copy):
    from finder import gp, postcodes, search
    from finder.errors import FinderError

    # The records: a service published now is found by the next search.
    assert search.dataset().count("private") == 0
    practitioner = {**search.dataset().records[0], "id": "P-NEW", "kind": "private"}
    store.publish(
        {"practitioners.json": store.json_bytes({"schema_version": 1, "records": [practitioner]})},
        directory=data_copy,
    )
    assert search.dataset().count("private") == 1

    # The GP practices: a practice dropped from the list is no longer found.
    assert gp.gp_location("A81001").postcode
    _republish_filtered_parquet(
        data_copy, "gp_practices.parquet", lambda t, pc: pc.not_equal(t["code"], "A81001")
    )
    with pytest.raises(FinderError, match="No active GP practice"):
        gp.gp_location("A81001")

    # The postcode table: a postcode taken out is found by its sector's centre instead.
    assert not postcodes.lookup("CV1 1AH").approximate
    key = postcodes.encode_key("CV11AH")
    _republish_filtered_parquet(data_copy, "postcodes.parquet", lambda t, pc: pc.not_equal(t["key"], key))
    assert postcodes.lookup("CV1 1AH").approximate

    # The areas: a district renamed is the name the next lookup gives.
    assert postcodes.lookup("CV2 4DW").area.district_name == "Coventry"
    payload = json.loads((data_copy / "areas.json").read_text())
    payload["districts"]["E08000026"]["name"] = "Coventry (renamed)"
    store.publish({"areas.json": store.json_bytes(payload)}, directory=data_copy)
    assert postcodes.lookup("CV2 4DW").area.district_name == "Coventry (renamed)"


def test_unchanged_data_is_not_read_again(data_copy):
    from finder import areas, gp, postcodes, search

    readers = (search.dataset, postcodes.tables, areas.tables, gp.practices)
    first = [read() for read in readers]
    assert [read() for read in readers] == first  # the same objects: nothing read again
    # A publish of one file re-reads only what is made from it.
    store.publish(
        {"practitioners.json": (data_copy / "practitioners.json").read_bytes()}, directory=data_copy
    )
    after = [read() for read in readers]
    assert after[0] is not first[0]
    assert all(a is b for a, b in zip(after[1:], first[1:], strict=True))
