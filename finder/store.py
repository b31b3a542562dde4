"""The built dataset in `data/`, and the only code that writes it.

Every write goes through `publish()`: new files are written beside the old ones under temporary
names, validated by the caller, flushed to disk, and then renamed over the old ones. A set of
files that must change together is recorded in a journal before the first rename, so a process
killed between two renames is rolled forward by the next reader or writer (`recover()`): `data/`
is always either as it was or fully updated, never half-written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from finder.settings import DATA_DIR_ENV as DATA_DIR_ENV  # tests and the refresh job point data/ elsewhere
from finder.settings import settings

JOURNAL_NAME = ".publish-journal.json"
TMP_PREFIX = ".tmp-"

# Resolved once: data_dir() is on every search's path.
_REPOSITORY_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_dir() -> Path:
    configured = settings().data_dir
    if configured:
        return configured
    return _REPOSITORY_DATA_DIR


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(directory: Path, final_name: str, content: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{final_name}.", dir=directory)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o644)  # mkstemp's 0600 would hide data/ from the app's user
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(tmp)


_process_lock = threading.RLock()
_held: dict[str, tuple[int, int]] = {}  # directory -> (fd, depth): the lock is re-entrant per process


@contextlib.contextmanager
def writer_lock(directory: Path | None = None) -> Iterator[None]:
    """Exclusive right to write the data directory, across processes (an flock on the directory
    itself, so no lock file appears in data/) and re-entrant within one process.

    publish() takes it for each write; commands that read the manifest or a table and then
    publish (imports, build, refresh) hold it for their whole run, so two writers can never
    interleave and lose each other's update.
    """
    directory = directory or data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    key = str(directory.resolve())
    with _process_lock:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
        else:
            fd = os.open(directory, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(
                    f"waiting for another import or refresh to finish writing {directory} ...",
                    file=sys.stderr,
                )
                fcntl.flock(fd, fcntl.LOCK_EX)
            _held[key] = (fd, 1)
    try:
        yield
    finally:
        with _process_lock:
            fd, depth = _held[key]
            if depth == 1:
                del _held[key]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            else:
                _held[key] = (fd, depth - 1)


def recover_if_needed(directory: Path | None = None) -> None:
    """For readers: finish an interrupted publish if one is pending and we may write; a read-only
    deployment simply reads what is there (the next writer rolls the journal forward)."""
    directory = directory or data_dir()
    if (directory / JOURNAL_NAME).exists():
        with contextlib.suppress(OSError):
            with writer_lock(directory):
                recover(directory)


def _plain_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and bool(name)
        and "/" not in name
        and "\\" not in name
        and name not in (".", "..")
    )


def recover(directory: Path | None = None) -> None:
    """Finish a publish that was interrupted after its journal was written; drop stray temp files.

    Temp files without a journal belong to a publish that never reached its commit point: the old
    files are still in place, so the temp files are simply removed.
    """
    directory = directory or data_dir()
    if not directory.is_dir():
        return
    journal = directory / JOURNAL_NAME
    if journal.exists():
        try:
            renames = json.loads(journal.read_text())["renames"]
        except (ValueError, KeyError, OSError):
            # A journal is written to a temp name and renamed, so a torn journal cannot exist;
            # a damaged one means someone edited it: keep the old data and discard it.
            renames = []
        for tmp_name, final_name in renames:
            if not (_plain_name(final_name) and _plain_name(tmp_name) and tmp_name.startswith(TMP_PREFIX)):
                continue  # only ever rename our own temp files onto data files in this folder
            tmp = directory / tmp_name
            if tmp.exists():
                os.replace(tmp, directory / final_name)
        _fsync_dir(directory)
        journal.unlink(missing_ok=True)
    for stray in directory.glob(f"{TMP_PREFIX}*"):
        try:
            stray.unlink()
        except OSError:
            pass


def publish(
    files: Mapping[str, bytes],
    *,
    validate: Callable[[Mapping[str, Path]], None] | None = None,
    directory: Path | None = None,
) -> None:
    """Atomically replace `files` (name -> content) in the data directory.

    `validate` receives the temp paths before anything is replaced and raises to abort; on any
    failure the temp files are removed and the previous files stay byte-identical.
    """
    directory = directory or data_dir()
    with writer_lock(directory):
        recover(directory)
        temps: dict[str, Path] = {}
        try:
            for name, content in files.items():
                if "/" in name or name.startswith("."):
                    raise ValueError(f"not a data file name: {name!r}")
                temps[name] = _write_temp(directory, name, content)
            if validate is not None:
                validate(temps)
            renames = [[tmp.name, name] for name, tmp in temps.items()]
            journal_tmp = _write_temp(directory, JOURNAL_NAME, json.dumps({"renames": renames}).encode())
            os.replace(journal_tmp, directory / JOURNAL_NAME)  # the commit point
            _fsync_dir(directory)
        except BaseException:
            for tmp in temps.values():
                tmp.unlink(missing_ok=True)
            raise
        recover(directory)


def atomic_write(path: Path, content: bytes) -> None:
    """Write one file outside data/ (an export, a summary) so a reader never sees it half-written."""
    path = Path(path)
    tmp = _write_temp(path.parent, path.name, content)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_bytes(obj: object) -> bytes:
    """Stable, diff-friendly JSON for committed data files."""
    return (json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def read_json(name: str, directory: Path | None = None, default: object = None) -> object:
    path = (directory or data_dir()) / name
    if not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def update_manifest(source: str, info: Mapping[str, object], directory: Path | None = None) -> bytes:
    """Return the bytes of `manifest.json` with `source`'s entry replaced, for publishing together
    with that source's files so the manifest never describes data that is not there."""
    manifest = read_json("manifest.json", directory, default={}) or {}
    sources = dict(manifest.get("sources", {}))
    sources[source] = dict(info)
    return json_bytes({"sources": dict(sorted(sources.items()))})
