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
import hashlib
import json
import os
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from finder.errors import FinderError
from finder.schema import MANIFEST_FILE
from finder.settings import DATA_DIR_ENV as DATA_DIR_ENV  # tests and the refresh job point data/ elsewhere
from finder.settings import settings

T = TypeVar("T")
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
    # The process id in the name only helps whoever investigates a leftover: a process id says
    # nothing about a writer in another container (PID namespace) or on another host, so who owns
    # a temp file is decided by the writer lock (remove_dead_temps).
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{final_name}.{os.getpid()}-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)  # mkstemp's 0600 would hide data/ from the app's user
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # A full disk or a failed flush: the half-written file is not left behind.
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


_process_lock = threading.RLock()
_held: dict[str, tuple[int, int]] = {}  # directory -> (fd, depth): the lock is re-entrant per process

# How long a writer waits for another writer before giving up (seconds; 0: do not wait).
from finder.settings import LOCK_WAIT_ENV as LOCK_WAIT_ENV  # noqa: E402  (named in messages)

DEFAULT_LOCK_WAIT = 60.0
LOCK_POLL = 0.1


class WriterBusy(FinderError):
    """Another process holds the writer lock past the wait limit. Exit code 1: nothing is wrong
    with the command, it can simply be run again later."""

    exit_code = 1


def lock_wait() -> float:
    configured = settings().lock_wait
    try:
        return max(0.0, float(configured)) if configured else DEFAULT_LOCK_WAIT
    except ValueError:
        raise FinderError(f"{LOCK_WAIT_ENV}={configured!r} is not a number of seconds") from None


def holder_file(directory: Path) -> Path:
    """Who holds the writer lock and since when: a small file in a folder of the cache directory
    that only the service's user can write (never in data/, where git and the audit would see it,
    and never in the shared /tmp, where another user could plant a link under a name they can
    predict), removed when the lock is released."""
    digest = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    return settings().cache_dir / "writer-lock" / f"{digest}.json"


def _private_folder(folder: Path) -> bool:
    """The holder's folder exists, is a real directory owned by this user, and no one else can
    write in it (so no one else can plant or replace the holder file)."""
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _read_holder(directory: Path) -> dict | None:
    """The holder's record, or None: a file this user does not own, or a link, is ignored."""
    try:
        fd = os.open(holder_file(directory), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_uid != os.geteuid():
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            holder = json.loads(handle.read(4096))
        return holder if isinstance(holder, dict) else None
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def _describe_holder(directory: Path) -> str:
    holder = _read_holder(directory)
    try:
        return f"since {holder['since']} (process {holder['pid']}: {holder['command']})"  # type: ignore[index]
    except (KeyError, TypeError):
        return "since an unknown time"


def _record_holder(directory: Path) -> None:
    info = {
        "pid": os.getpid(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "command": " ".join(["python -m finder", *sys.argv[1:3]])[:120],
    }
    path = holder_file(directory)
    if not _private_folder(path.parent):
        return  # the record only explains a wait; without a safe folder there is none
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    for _ in range(2):
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            # A holder that died without removing its record (the lock is ours now).
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        except OSError:
            return
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(info))
        return


def _forget_holder(directory: Path) -> None:
    holder = _read_holder(directory)
    if holder is not None and holder.get("pid") == os.getpid():
        with contextlib.suppress(OSError):
            holder_file(directory).unlink()


def _acquire(fd: int, directory: Path, wait: float, clock, sleep) -> None:
    """flock the directory, waiting at most `wait` seconds for another writer."""
    deadline = clock() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if clock() >= deadline:
            raise WriterBusy(
                f"another import is running {_describe_holder(directory)}; nothing was changed. "
                f"Try again when it has finished (waited {wait:g} s; {LOCK_WAIT_ENV} sets how long)"
            )
        if not told:
            print(
                f"waiting up to {wait:g} s for another import or refresh writing {directory} ...",
                file=sys.stderr,
            )
            told = True
        sleep(min(LOCK_POLL, max(0.0, deadline - clock())))


@contextlib.contextmanager
def writer_lock(
    directory: Path | None = None,
    *,
    wait: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Exclusive right to write the data directory, across processes (an flock on the directory
    itself, so no lock file appears in data/) and re-entrant within one process.

    A writer waits at most `wait` seconds (default $FINDER_LOCK_WAIT, else 60 s) and then raises
    WriterBusy naming who holds the lock since when. publish() takes it for each write; imports
    and build hold it for their whole run; the refresh only while it publishes."""
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
                _acquire(fd, directory, lock_wait() if wait is None else wait, clock, sleep)
            except BaseException:
                os.close(fd)
                raise
            _held[key] = (fd, 1)
            _record_holder(directory)
    try:
        yield
    finally:
        with _process_lock:
            fd, depth = _held[key]
            if depth == 1:
                del _held[key]
                _forget_holder(directory)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            else:
                _held[key] = (fd, depth - 1)


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


def atomic_write(path: Path, content: bytes) -> None:
    """Write one file outside data/ (an export, a summary) so a reader never sees it half-written."""
    path = Path(path)
    tmp = _write_temp(path.parent, path.name, content)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _not_regular(mode: int) -> str | None:
    for test, what in (
        (stat.S_ISDIR, "is a directory"),
        (stat.S_ISFIFO, "is a named pipe (FIFO)"),
        (stat.S_ISCHR, "is a device"),
        (stat.S_ISBLK, "is a device"),
        (stat.S_ISSOCK, "is a socket"),
    ):
        if test(mode):
            return what
    return None if stat.S_ISREG(mode) else "is not a regular file"


def write_output(path: Path, content: bytes, *, follow_symlink: bool = False) -> Path:
    """Write an export or summary to OUT, atomically, only ever as a regular file: a device, a
    named pipe or a socket at OUT is refused (replacing /dev/null with a file would break the
    system), and so is a symbolic link unless `follow_symlink`, which writes to its target.
    Returns the path written. The caller handles "-" (standard output)."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISLNK(mode):
        if not follow_symlink:
            raise FinderError(
                f"{path} is a symbolic link; not replaced (--follow-symlink writes to the file it points to)"
            )
        path = path.resolve()
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            mode = None
    problem = _not_regular(mode) if mode is not None else None
    if problem:
        raise FinderError(
            f"{path} {problem}; only a regular file is written here (use - for standard output)"
        )
    if not path.parent.is_dir():
        raise FinderError(f"{path.parent}: no such directory")
    atomic_write(path, content)
    return path


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
# Publishes this process has landed in each directory: file times move in coarse ticks (a few
# milliseconds), so two publishes in one tick leave the directory's time as it was; the count
# tells this process's readers apart. Another process's publish is seen by the directory's time
# and the manifest (each import publishes the manifest with its files).
_renamed_in: dict[str, int] = {}
RECOVERY_CHECK_SECONDS = 1.0


def data_version(directory: Path | None = None) -> tuple:
    """The one stamp every cached reader of data/ compares: it changes whenever a publish lands.

    A publish renames its files (and the manifest) into the directory, which changes the
    directory's own modification time; the manifest's identity (inode, time, size) is added for
    file systems whose directory times are coarse. Two stats, so it is cheap enough to ask on every
    search. When the directory has changed, an interrupted publish is first finished if no writer
    holds the lock (readers never wait for a writer; they read the last committed files)."""
    directory = directory or data_dir()
    key, manifest = _version_paths(directory)
    stamp = _directory_time(key)
    now = time.monotonic()
    seen, when = _ready.get(key, _NEVER_READY)
    if seen != stamp or now - when >= RECOVERY_CHECK_SECONDS:
        recover_if_needed(directory)
        stamp = _directory_time(key)  # recovery itself renames files in
        _ready[key] = (stamp, now)
    # The manifest's identity, inline: this runs once per search, where each call counts.
    try:
        info = os.stat(manifest)
        identity: tuple | None = (info.st_ino, info.st_mtime_ns, info.st_size)
    except OSError:
        identity = None
    return (key, stamp, identity, _renamed_in.get(key, 0))


_NEVER_READY = (-1, -RECOVERY_CHECK_SECONDS)


@functools.lru_cache(maxsize=64)
def _version_paths(directory: Path) -> tuple[str, str]:
    """The directory and its manifest as plain strings: data_version runs on every search and
    lookup, and os.stat on a string skips pathlib's joining and parsing (a third of its time)."""
    return str(directory), os.path.join(directory, MANIFEST_FILE)


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
