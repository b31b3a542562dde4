"""Files written whole or not at all: a temp file beside the final one, flushed to disk, then
renamed over it. finder.store publishes data/ this way; exports and summaries written outside
data/ use atomic_write and write_output.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from pathlib import Path

from finder.errors import FinderError

TMP_PREFIX = ".tmp-"
# How long a writer waits for its directory's time to move on (file systems keeping times in
# whole seconds need up to two); past it, the writer gives up waiting (nothing is lost, but a
# reader in another process may not notice the change until the next publish).
MAX_TICK_WAIT = 2.5


def advance_directory_time(directory: Path) -> None:
    """Leave `directory` with a modification time later than any it had while this writer renamed
    files in. File times move in ticks of a few milliseconds, so renames within one tick leave
    the time a reader may already have seen mid-publish: touching the directory once the clock
    has moved on gives every reader that compares the directory's time a new one."""
    try:
        last = os.stat(directory).st_mtime_ns
        deadline = time.monotonic() + MAX_TICK_WAIT
        while True:
            os.utime(directory)
            if os.stat(directory).st_mtime_ns != last or time.monotonic() >= deadline:
                return
            time.sleep(0.001)
    except OSError:
        return  # a directory this user may not touch: readers still see the renames' own time


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
