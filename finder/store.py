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
import functools
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from finder.errors import FinderError
from finder.schema import MANIFEST_FILE
from finder.settings import DATA_DIR_ENV as DATA_DIR_ENV  # tests and the refresh job point data/ elsewhere
from finder.settings import settings

# The writer lock and the atomic file writes live in their own modules; their public names are
# importable from here too.
from finder.store_files import TMP_PREFIX as TMP_PREFIX
from finder.store_files import _fsync_dir, _write_temp, advance_directory_time
from finder.store_files import atomic_write as atomic_write
from finder.store_files import write_output as write_output
from finder.store_lock import DEFAULT_LOCK_WAIT as DEFAULT_LOCK_WAIT
from finder.store_lock import LOCK_POLL as LOCK_POLL
from finder.store_lock import LOCK_WAIT_ENV as LOCK_WAIT_ENV
from finder.store_lock import WriterBusy as WriterBusy
from finder.store_lock import _held, _process_lock
from finder.store_lock import holder_file as holder_file
from finder.store_lock import lock_wait as lock_wait
from finder.store_lock import writer_lock as _directory_writer_lock

T = TypeVar("T")
JOURNAL_NAME = ".publish-journal.json"

# Resolved once: data_dir() is on every search's path.
_REPOSITORY_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_dir() -> Path:
    configured = settings().data_dir
    if configured:
        return configured
    return _REPOSITORY_DATA_DIR


def writer_lock(
    directory: Path | None = None,
    *,
    wait: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> contextlib.AbstractContextManager[None]:
    """Exclusive right to write the data directory (by default data/): see
    finder.store_lock.writer_lock."""
    return _directory_writer_lock(directory or data_dir(), wait=wait, clock=clock, sleep=sleep)


def recover_if_needed(directory: Path | None = None) -> None:
    """For readers, which never wait for a writer: finish an interrupted publish only when no
    writer holds the lock (a non-blocking try); otherwise read the last committed files as they
    are. Either way, remove temp files left by a writer that stopped without committing."""
    directory = directory or data_dir()
    if (directory / JOURNAL_NAME).exists():
        with contextlib.suppress(OSError):
            try:
                with writer_lock(directory, wait=0):
                    _recover_or_warn(directory)
                    return
            except WriterBusy:
                pass
    # Readers are on every search's path: listing data/ for dead temp files is done at most every
    # few seconds per folder (the next writer sweeps them anyway).
    now = time.monotonic()
    key = str(directory)
    if now - _swept.get(key, -SWEEP_SECONDS) >= SWEEP_SECONDS:
        _swept[key] = now
        remove_dead_temps(directory)


SWEEP_SECONDS = 5.0
_swept: dict[str, float] = {}


def _plain_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and bool(name)
        and "/" not in name
        and "\\" not in name
        and name not in (".", "..")
    )


class MalformedJournal(ValueError):
    pass


def read_journal(directory: Path) -> list[tuple[str, str]] | None:
    """The pending renames (temp name, data file name), None without a journal; MalformedJournal
    when it is not a list of pairs of our own temp names and data file names."""
    journal = directory / JOURNAL_NAME
    try:
        document = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as error:
        raise MalformedJournal(f"not JSON ({error})") from None
    renames = document.get("renames") if isinstance(document, dict) else None
    if not isinstance(renames, list):
        raise MalformedJournal("no list of renames")
    pairs = []
    for entry in renames:
        if not (isinstance(entry, list) and len(entry) == 2):
            raise MalformedJournal(f"a rename that is not a pair: {str(entry)[:60]}")
        tmp_name, final_name = entry
        if not (_plain_name(final_name) and _plain_name(tmp_name) and tmp_name.startswith(TMP_PREFIX)):
            raise MalformedJournal(f"a rename outside our own temp files: {str(entry)[:60]}")
        pairs.append((tmp_name, final_name))
    return pairs


def _move_journal_aside(directory: Path, problem: str) -> None:
    """Keep a damaged journal for whoever investigates, outside data/, and say where it went."""
    journal = directory / JOURNAL_NAME
    base = settings().cache_dir
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    for folder in (base / "malformed-journals", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"publish-journal-{stamp}-{os.getpid()}.json"
            target.write_bytes(journal.read_bytes())
            break
        except OSError:
            target = None
    journal.unlink(missing_ok=True)
    kept = f"moved to {target}" if target else "removed"
    print(
        f"warning: {directory / JOURNAL_NAME} was malformed ({problem}); {kept}, the last committed files are used",
        file=sys.stderr,
    )


def committed_path(name: str, directory: Path | None = None) -> Path:
    """Where the last committed version of data file `name` is: its temp file while a committed
    publish waits to be rolled forward (a writer stopped after its commit point), else the file."""
    directory = directory or data_dir()
    if (directory / JOURNAL_NAME).exists():
        with contextlib.suppress(MalformedJournal):
            for tmp_name, final_name in read_journal(directory) or ():
                if final_name == name and (directory / tmp_name).exists():
                    return directory / tmp_name
    return directory / name


def remove_dead_temps(directory: Path) -> None:
    """Remove temp files that no journal needs, left by a publish stopped before its commit point,
    but only while no writer holds the lock: a writer's temp files are written and renamed with
    the lock held, so with the lock free none is being written. This holds across containers and
    hosts that share data/ (the lock is on the directory itself), where a process id would not:
    from another PID namespace every writer looks dead. Safe without the lock held."""
    try:
        if not any(entry.name.startswith(TMP_PREFIX) for entry in os.scandir(directory)):
            return
    except OSError:
        return
    key = str(directory.resolve())
    with _process_lock:
        if key in _held:
            return  # this process is the writer: its temp files are live
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a writer is at work, here or in another container: leave its files
            _remove_unjournaled_temps(directory)
        finally:
            os.close(fd)  # releases the lock


def _remove_unjournaled_temps(directory: Path) -> None:
    try:
        needed = {tmp for tmp, _ in read_journal(directory) or ()}
    except MalformedJournal:
        return  # the next writer moves it aside; until then keep everything
    for stray in directory.glob(f"{TMP_PREFIX}*"):
        if stray.name not in needed:
            with contextlib.suppress(OSError):
                stray.unlink()


class LostPublish(FinderError):
    """A journal names temp files that are gone (removed by something other than this publish):
    rolling it forward would publish half of a set of files that must change together."""


def _recover_or_warn(directory: Path) -> None:
    """recover() for readers and for a writer's first step: a lost publish is reported, not
    raised (the journal is already moved aside and the previous files are in place)."""
    try:
        recover(directory)
    except LostPublish as lost:
        print(f"warning: {lost}", file=sys.stderr)


def _identity_of(path: Path) -> list[int]:
    info = os.stat(path)
    return [info.st_ino, info.st_size]


def _missing_temps(directory: Path, renames: list[tuple[str, str]], identities: dict) -> list[str]:
    """The data files whose new version is neither in its temp file nor already renamed into
    place (the same inode and size as the temp file the journal recorded)."""
    missing = []
    for tmp_name, final_name in renames:
        if (directory / tmp_name).exists():
            continue
        recorded = identities.get(tmp_name)
        if recorded is None:
            continue  # a journal from before identities were kept: nothing to compare
        try:
            if _identity_of(directory / final_name) == recorded:
                continue  # renamed already, by a roll-forward that was itself interrupted
        except OSError:
            pass
        missing.append(final_name)
    return missing


def recover(directory: Path | None = None) -> None:
    """Finish a publish that was interrupted after its journal was written; drop stray temp files.
    Call with the writer lock held.

    Temp files without a journal belong to a publish that never reached its commit point: the old
    files are still in place, so the temp files are simply removed. A malformed journal (edited by
    hand, or damaged) is moved aside with a warning: the data files are left as they are.
    """
    directory = directory or data_dir()
    if not directory.is_dir():
        return
    journal = directory / JOURNAL_NAME
    try:
        renames = read_journal(directory) or []
    except MalformedJournal as problem:
        _move_journal_aside(directory, str(problem))
        renames = []
    missing = _missing_temps(directory, renames, _journal_identities(directory)) if renames else []
    if missing:
        _move_journal_aside(directory, f"the new {', '.join(missing)} had gone")
        _remove_unjournaled_temps(directory)
        raise LostPublish(
            f"a publish of {', '.join(f for _, f in renames)} was lost before it landed: its new "
            f"{', '.join(missing)} had been removed. Nothing of it was used; run the import again"
        )
    for tmp_name, final_name in renames:
        tmp = directory / tmp_name
        if tmp.exists():
            os.replace(tmp, directory / final_name)
    if renames:
        _fsync_dir(directory)
        _renamed_in[str(directory)] = _renamed_in.get(str(directory), 0) + 1
    journal.unlink(missing_ok=True)
    for stray in directory.glob(f"{TMP_PREFIX}*"):
        try:
            stray.unlink()
        except OSError:
            pass
    if renames:
        advance_directory_time(directory)  # the one thing data_version asks of another process


def _journal_identities(directory: Path) -> dict:
    """Inode and size of each temp file when the journal was written, by temp name."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        identities = json.loads((directory / JOURNAL_NAME).read_text(encoding="utf-8")).get("identities")
        if isinstance(identities, dict):
            return identities
    return {}


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
        _recover_or_warn(directory)
        files = _with_release_manifest(files, directory)
        temps: dict[str, Path] = {}
        try:
            for name, content in files.items():
                if "/" in name or name.startswith("."):
                    raise ValueError(f"not a data file name: {name!r}")
                temps[name] = _write_temp(directory, name, content)
            if validate is not None:
                validate(temps)
            renames = [[tmp.name, name] for name, tmp in temps.items()]
            identities = {tmp.name: _identity_of(tmp) for tmp in temps.values()}
            journal = {"renames": renames, "identities": identities}
            journal_tmp = _write_temp(directory, JOURNAL_NAME, json.dumps(journal).encode())
            os.replace(journal_tmp, directory / JOURNAL_NAME)  # the commit point
            _fsync_dir(directory)
        except BaseException:
            for tmp in temps.values():
                tmp.unlink(missing_ok=True)
            raise
        recover(directory)


def _with_release_manifest(files: Mapping[str, bytes], directory: Path) -> Mapping[str, bytes]:
    """Where data/ has a manifest (or this publish brings one), it is published too, with each
    file's checksum and record count (finder.release), so it always describes the files beside it."""
    from finder import release

    committed = read_json(MANIFEST_FILE, directory, default=None)
    manifest = json.loads(files[MANIFEST_FILE]) if MANIFEST_FILE in files else committed
    if not (isinstance(manifest, dict) and isinstance(manifest.get("sources"), dict)):
        return files  # not a manifest of sources (nothing published yet, or a test's stand-in)
    return {**files, MANIFEST_FILE: json_bytes(release.stamp(manifest, files, committed))}


def record_release(directory: Path | None = None) -> None:
    """Describe every data file in the manifest as it is now: for a data/ built before the
    manifest carried checksums, or put together by hand (an operator's decision: the doctor then
    takes these files as the release)."""
    directory = directory or data_dir()
    with writer_lock(directory):
        names = sorted(
            p.name
            for p in directory.iterdir()
            if p.suffix in (".json", ".parquet") and p.name != MANIFEST_FILE
        )
        files = {name: (directory / name).read_bytes() for name in names}
        publish({**files, MANIFEST_FILE: (directory / MANIFEST_FILE).read_bytes()}, directory=directory)


def data_stamp(directory: Path | None = None) -> tuple:
    """Identity of every data file (name, inode, mtime, size): a publish renames new files in,
    so any other writer's publish between two stamps changes it."""
    directory = directory or data_dir()
    stamp = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(directory):
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            with contextlib.suppress(FileNotFoundError):
                info = entry.stat(follow_symlinks=False)
                stamp.append((entry.name, info.st_ino, info.st_mtime_ns, info.st_size))
    return tuple(sorted(stamp))


def _identity(path: str | Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


# When each data directory was last made ready to read (an interrupted publish rolled forward,
# dead writers' temp files swept), and its directory time then: readers run recovery when the
# directory has changed, and otherwise at most once a second.
_ready: dict[str, tuple[int | None, float]] = {}
# Publishes this process has landed in each directory: the directory's time moves on with
# each publish (advance_directory_time), and the count tells this process's readers apart
# without waiting for that.
_renamed_in: dict[str, int] = {}
RECOVERY_CHECK_SECONDS = 1.0


def data_version(directory: Path | None = None) -> tuple:
    """The one stamp every cached reader of data/ compares: it changes whenever a publish lands.

    A publish renames its files into the directory and then moves the directory's modification
    time past any it had during the renames (store_files.advance_directory_time), so one stat
    tells any process that data/ changed: cheap enough to ask once per search. When the
    directory has changed, an interrupted publish is first finished if no writer holds the
    lock (readers never wait for a writer; they read the last committed files)."""
    directory = directory or data_dir()
    key = _version_key(directory)
    stamp = _directory_time(key)
    now = time.monotonic()
    seen, when = _ready.get(key, _NEVER_READY)
    if seen != stamp or now - when >= RECOVERY_CHECK_SECONDS:
        recover_if_needed(directory)
        stamp = _directory_time(key)  # recovery itself renames files in
        _ready[key] = (stamp, now)
    return (key, stamp, _renamed_in.get(key, 0))


_NEVER_READY = (-1, -RECOVERY_CHECK_SECONDS)


@functools.lru_cache(maxsize=64)
def _version_key(directory: Path) -> str:
    """The directory as a plain string: data_version runs on every search and lookup, and os.stat
    on a string skips pathlib's joining and parsing."""
    return str(directory)


def _directory_time(directory: str) -> int | None:
    try:
        return os.stat(directory).st_mtime_ns
    except OSError:
        return None


@dataclass(frozen=True, kw_only=True)
class _Loaded(Generic[T]):
    version: tuple
    files: tuple[tuple[int, int, int] | None, ...]
    value: T


class DataCache(Generic[T]):
    """What `load(directory)` made of some files of data/, kept until data_version() changes
    and, after that, one of those files has (a publish of other files does not re-read them).

    One per reader: the search records, the postcode tables, the areas, the GP practices. Readers
    never wait for a writer; two threads finding the data changed load it once."""

    def __init__(self, names: tuple[str, ...], load: Callable[[Path], T]):
        self.names = names
        self._load = load
        self._loaded: _Loaded[T] | None = None
        self._lock = threading.Lock()

    def get(self, directory: Path | None = None, *, version: tuple | None = None) -> T:
        """The loaded value. `version`: data_version() of `directory` as the caller just asked
        it, so one search that reads several caches checks data/ once (a publish that lands
        during that search is seen by the next one)."""
        directory = directory or data_dir()
        if version is None:
            version = data_version(directory)
        loaded = self._loaded
        if loaded is not None and loaded.version == version:
            return loaded.value
        with self._lock:
            files = tuple(_identity(committed_path(name, directory)) for name in self.names)
            loaded = self._loaded
            if loaded is None or loaded.version[0] != version[0] or loaded.files != files:
                loaded = _Loaded(version=version, files=files, value=self._load(directory))
            self._loaded = _Loaded(version=version, files=files, value=loaded.value)
            return loaded.value

    def clear(self) -> None:
        self._loaded = None


def json_bytes(obj: object) -> bytes:
    """Stable, diff-friendly JSON for committed data files."""
    return (json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def read_json(name: str, directory: Path | None = None, default: object = None) -> object:
    path = committed_path(name, directory)
    if not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def update_manifest(source: str, info: Mapping[str, object], directory: Path | None = None) -> bytes:
    """Return the bytes of `manifest.json` with `source`'s entry replaced, for publishing together
    with that source's files so the manifest never describes data that is not there."""
    manifest = read_json(MANIFEST_FILE, directory, default={}) or {}
    sources = dict(manifest.get("sources", {})) if isinstance(manifest, dict) else {}
    sources[source] = dict(info)
    kept = manifest if isinstance(manifest, dict) else {}  # the files' checksums, stamped by publish
    return json_bytes({**kept, "sources": dict(sorted(sources.items()))})
