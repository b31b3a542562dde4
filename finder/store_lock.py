"""The writer lock of a data directory: one writer at a time across processes, containers and
hosts that share it (an flock on the directory itself), re-entrant within a process, and a small
record of who holds it so a writer kept waiting is told who and since when.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from finder.errors import FinderError
from finder.settings import LOCK_WAIT_ENV as LOCK_WAIT_ENV  # named in messages
from finder.settings import settings

_process_lock = threading.RLock()
_held: dict[str, tuple[int, int]] = {}  # directory -> (fd, depth): the lock is re-entrant per process

# How long a writer waits for another writer before giving up (seconds; 0: do not wait).

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
    directory: Path,
    *,
    wait: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Exclusive right to write the data directory, across processes (an flock on the directory
    itself, so no lock file appears in data/) and re-entrant within one process.

    A writer waits at most `wait` seconds (default $FINDER_LOCK_WAIT, else 60 s) and then raises
    WriterBusy naming who holds the lock since when. publish() takes it for each write; imports
    and build hold it for their whole run; the refresh only while it publishes. (finder.store's
    writer_lock is this one with data/ as the default directory.)"""
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
