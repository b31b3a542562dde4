"""The one way an importer reads a source file: bounded, regular files only, whole rows only.

Every importer (and the refresh, which feeds downloaded files to the same importers) opens its
source through this module, so one set of rules holds for all of them:

- `open_source(path)`: a regular file, or a clear one-line refusal for a missing path, a
  directory, a device (``/dev/zero`` would never end), a named pipe (a FIFO blocks until someone
  writes to it) or a socket. A symbolic link to a regular file is read like the file.
- `zip_members(path)` / `read_source_bytes(path)` / `open_stream(...)`: a zip's members are read
  *streamed*, with a cap on each member's declared and actual unpacked size, on the whole zip's,
  and on the compression ratio (a 3 MB zip that unpacks to 3 GiB is refused after reading at most
  `max_ratio` times its packed size, never held in memory). Never `ZipFile.read()` of a whole
  member, never pandas' own zip reading.
- every stream refuses NUL and other control characters (tab, CR and LF excepted), naming the
  line and column, and refuses a file that does not end with a newline (a download or copy cut
  off mid-row).
- `check_shrink(...)`: the shrink guard every table uses against what `data/` holds.
- `source_checksums(paths)`: sha256 of the source files, recorded in `data/manifest.json` so the
  audit tests can tell when `data/` was built from older files.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from finder.errors import SourceFormatError

MB = 1_000_000
CHUNK = 1 << 20
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Packed bytes for which a high ratio is harmless: a tiny, very repetitive file compresses far.
RATIO_SLACK = 4 * MB
# C0 controls and DEL, except tab, line feed and carriage return (ordinary CSV whitespace).
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Caps on what one source may unpack to. The defaults fit the NHS tables (half a megabyte
    each today) a hundredfold; the postcode importers pass larger ones."""

    max_bytes: int = 64 * MB  # one file or one zip member, unpacked
    max_total_bytes: int = 256 * MB  # all members of one zip together
    max_ratio: float = 100.0  # unpacked / packed; Code-Point Open is 13, a zip bomb is 1000+
    final_newline: bool = True


NHS_LIMITS = Limits()
# Code-Point Open: 129 members, the largest 3.9 MB, 162 MB in all. An ONS directory is one CSV of
# about 1.3 GB that pandas reads in chunks, so its single member may be larger.
POSTCODE_LIMITS = Limits(max_bytes=3_000 * MB, max_total_bytes=3_000 * MB)
TOWN_LIMITS = Limits(max_bytes=64 * MB)


def _kind(mode: int) -> str | None:
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file; it would wait for a writer"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return None


def open_source(path: Path | str) -> Path:
    """The path, checked to be a readable regular file; SourceFormatError otherwise."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise SourceFormatError(f"{path}: no such file") from None
    except OSError as error:
        raise SourceFormatError(f"{path}: cannot be read ({error.strerror or error})") from None
    problem = _kind(mode)
    if problem:
        raise SourceFormatError(f"{path}: {problem}")
    return path


@contextlib.contextmanager
def _open_regular(path: Path) -> Iterator[io.BufferedReader]:
    """Open without blocking (a FIFO swapped in after the check must not hang us) and re-check
    the opened file itself."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise SourceFormatError(f"{path}: cannot be read ({error.strerror or error})") from None
    problem = _kind(os.fstat(fd).st_mode)
    if problem:
        os.close(fd)
        raise SourceFormatError(f"{path}: {problem}")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        yield handle


def is_zip(path: Path) -> bool:
    with _open_regular(path) as handle:
        return handle.read(4) in ZIP_MAGIC


class GuardedStream(io.RawIOBase):
    """A byte stream that counts what it passes on and refuses, as it goes, more than the caps,
    control characters and a missing final newline. Reads in chunks: memory stays bounded."""

    def __init__(self, raw, name: str, limits: Limits, *, packed: int | None = None, budget=None):
        super().__init__()
        self._raw = raw
        self.name = name
        self._limits = limits
        self._packed = packed
        self._budget = budget  # a shared [bytes left] for all members of one zip
        self.bytes_read = 0
        self._line = 1
        self._line_start_commas = 0
        self._last = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._raw.read(min(len(buffer), CHUNK))
        if not chunk:
            self._at_end()
            return 0
        self._account(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def _account(self, chunk: bytes) -> None:
        self.bytes_read += len(chunk)
        limits = self._limits
        if self.bytes_read > limits.max_bytes:
            raise SourceFormatError(
                f"{self.name}: unpacks to more than {limits.max_bytes // MB:,} MB; refused (not this source?)"
            )
        if self._packed is not None and self.bytes_read > max(self._packed * limits.max_ratio, RATIO_SLACK):
            raise SourceFormatError(
                f"{self.name}: unpacks to more than {limits.max_ratio:g} times its packed size "
                "(a zip bomb or a damaged zip); refused"
            )
        if self._budget is not None:
            self._budget[0] -= len(chunk)
            if self._budget[0] < 0:
                raise SourceFormatError(
                    f"{self.name}: the zip unpacks to more than {limits.max_total_bytes // MB:,} MB "
                    "in all; refused"
                )
        bad = CONTROL.search(chunk)
        if bad:
            self._refuse_control(chunk, bad.start(), at_line_start=self._last in (b"", b"\n"))
        self._line += chunk.count(b"\n")
        self._last = chunk[-1:]

    def _refuse_control(self, chunk: bytes, at: int, *, at_line_start: bool) -> None:
        before = chunk[:at]
        line = self._line + before.count(b"\n")
        line_start = before.rfind(b"\n") + 1
        # The column counts the commas before it on its line (quoted commas aside: an estimate
        # that is exact for the NHS tables, which quote no commas before such a cell).
        column: int | None = before[line_start:].count(b",") + 1
        if line_start == 0 and not at_line_start:
            column = None  # the line began in an earlier chunk: name the line only
        where = f"line {line}" + (f", column {column}" if column else "")
        char = chunk[at]
        raise SourceFormatError(
            f"{self.name}: {where} holds a control character (U+{char:04X}); refused, "
            "nothing was imported (a binary or damaged file?)"
        )

    def _at_end(self) -> None:
        if self._limits.final_newline and self.bytes_read and self._last != b"\n":
            raise SourceFormatError(
                f"{self.name}: ends without a final newline, part-way through line {self._line}; "
                "the file looks truncated, nothing was imported"
            )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()
        super().close()


@contextlib.contextmanager
def open_stream(path: Path | str, limits: Limits = NHS_LIMITS) -> Iterator[io.BufferedReader[GuardedStream]]:
    """A guarded, buffered byte stream over a plain (not zip) source file."""
    path = open_source(path)
    with _open_regular(path) as handle:
        stream = GuardedStream(handle, path.name, limits)
        with io.BufferedReader(stream, CHUNK) as buffered:
            yield buffered


class ZipSource:
    """A zip opened for guarded, streamed reading of its members."""

    def __init__(self, archive: zipfile.ZipFile, name: str, limits: Limits):
        self.archive = archive
        self.name = name
        self.limits = limits
        self._budget = [limits.max_total_bytes]
        infos = archive.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise SourceFormatError(
                f"{name}: the zip declares {declared / MB:,.0f} MB unpacked, more than "
                f"{limits.max_total_bytes // MB:,} MB; refused"
            )
        for info in infos:
            self._check_declared(info)

    def _check_declared(self, info: zipfile.ZipInfo) -> None:
        limits = self.limits
        if info.file_size > limits.max_bytes:
            raise SourceFormatError(
                f"{self.name}:{info.filename}: declares {info.file_size / MB:,.0f} MB unpacked, more than "
                f"{limits.max_bytes // MB:,} MB; refused"
            )
        if info.file_size > max(info.compress_size * limits.max_ratio, RATIO_SLACK):
            raise SourceFormatError(
                f"{self.name}:{info.filename}: declares {info.file_size / max(info.compress_size, 1):,.0f} "
                f"times its packed size (a zip bomb?); refused"
            )

    def names(self) -> list[str]:
        return [i.filename for i in self.archive.infolist() if not i.is_dir()]

    @contextlib.contextmanager
    def open(
        self, member: str, *, final_newline: bool | None = None
    ) -> Iterator[io.BufferedReader[GuardedStream]]:
        info = self.archive.getinfo(member)
        limits = self.limits
        if final_newline is not None:
            limits = Limits(
                max_bytes=limits.max_bytes,
                max_total_bytes=limits.max_total_bytes,
                max_ratio=limits.max_ratio,
                final_newline=final_newline,
            )
        label = f"{self.name}:{member}"
        try:
            raw = self.archive.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as error:
            raise SourceFormatError(f"{label}: cannot be unpacked ({error})") from None
        stream = GuardedStream(raw, label, limits, packed=info.compress_size, budget=self._budget)
        with io.BufferedReader(stream, CHUNK) as buffered:
            try:
                yield buffered
            except (zipfile.BadZipFile, EOFError, OSError) as error:
                raise SourceFormatError(f"{label}: damaged or truncated zip ({error})") from None

    def read(self, member: str, *, final_newline: bool | None = None) -> bytes:
        """A member's bytes, read through the caps (for the small members the importers parse
        whole: NHS tables, Code-Point's column headers)."""
        with self.open(member, final_newline=final_newline) as stream:
            try:
                return stream.read()
            except (zipfile.BadZipFile, EOFError) as error:
                raise SourceFormatError(f"{self.name}:{member}: damaged or truncated zip ({error})") from None


@contextlib.contextmanager
def zip_members(path: Path | str, limits: Limits = NHS_LIMITS) -> Iterator[ZipSource]:
    path = open_source(path)
    with _open_regular(path) as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError):
            raise SourceFormatError(
                f"{path.name}: begins like a zip but is damaged or truncated (no central directory); "
                "nothing was imported"
            ) from None
        with archive:
            yield ZipSource(archive, path.name, limits)


def read_source_bytes(path: Path | str, limits: Limits = NHS_LIMITS) -> bytes:
    """A whole plain source file through the guards (bounded by `limits.max_bytes`)."""
    with open_stream(path, limits) as stream:
        return stream.read()


def read_csv_sources(path: Path | str, limits: Limits = NHS_LIMITS) -> list[tuple[str, bytes]]:
    """(name, bytes) of the file itself, or of every CSV member of a zip, all through the guards."""
    path = open_source(path)
    if is_zip(path):
        with zip_members(path, limits) as source:
            members = sorted(n for n in source.names() if n.lower().endswith(".csv"))
            if not members:
                raise SourceFormatError(f"{path.name}: a zip with no CSV file inside")
            return [(f"{path.name}:{m}", source.read(m)) for m in members]
    return [(path.name, read_source_bytes(path, limits))]


# --- shrink guard ------------------------------------------------------------------------------

# An import that would drop more than this share of what we hold is refused unless asked for:
# a truncated or partial file must not silently replace what data/ holds.
MAX_SHRINK = 0.2


def check_shrink(source: str, what: str, new: int, held: int, max_shrink: float | None) -> str | None:
    """Refuse `new` under (1 - max_shrink) of `held` (SourceFormatError naming --allow-shrink).
    With `max_shrink` None (--allow-shrink, or a full rebuild) a shrink is allowed and the line
    to report it is returned; None when nothing shrank."""
    if not held or new >= held * (1 - (max_shrink if max_shrink is not None else MAX_SHRINK)):
        return None
    if max_shrink is not None:
        raise SourceFormatError(
            f"{source}: {new:,} {what}, we hold {held:,}; refusing to drop more than {max_shrink:.0%} "
            "(a truncated or partial file?). Use --allow-shrink if this is intended."
        )
    return f"  shrink allowed: {new:,} {what} replace the {held:,} held before"


# --- provenance ----------------------------------------------------------------------------------


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with _open_regular(Path(path)) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def source_checksums(paths: Iterable[Path | str]) -> dict[str, str]:
    """{file name: sha256} of the source files an import read, for its manifest entry
    (`"source_sha256"`): the audit compares them with the shared files to spot a stale data/."""
    return {Path(p).name: sha256_file(p) for p in paths}
