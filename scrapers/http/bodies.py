"""Reading an answer's body within its limits, and telling one that was cut short.

Why by hand: requests-cache 1.3 reads a cacheable answer's whole body as soon as it arrives
(even with stream=True), with no byte limit and no deadline. So the Fetcher reads every body in
a requests `response` hook, which runs before requests-cache stores anything: the byte cap
(after decompression: a gzip bomb stops at the cap), the whole-answer watchdog and the
truncation checks apply to every answer, and a cut-short body is never cached.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapers.http.answers import FetchError

if TYPE_CHECKING:
    import requests


def incomplete_body(url: str, content_type: str, body: bytes) -> str | None:
    """Why a body that came without a Content-Length is evidently cut short, where its format
    allows telling: JSON that does not parse, a CSV without its final newline, HTML without its
    closing tag, a zip without its central directory. None when it looks whole (or can't tell)."""
    kind = content_type.split(";")[0].strip().lower()
    path = urlsplit(url).path.lower()
    if kind.endswith("json") or path.endswith(".json"):
        try:
            json.loads(body)
        except ValueError:
            return "the JSON does not parse to its end"
    elif kind in ("text/csv", "application/csv") or path.endswith(".csv"):
        if not body.endswith(b"\n"):
            return "the CSV ends without its final newline"
    elif kind == "text/html" or path.endswith((".html", ".htm")):
        if b"</html" not in body[-4096:].lower():
            return "the HTML ends before its closing </html> tag"
    elif kind in ("application/zip", "application/x-zip-compressed") or path.endswith(".zip"):
        if b"PK\x05\x06" not in body[-70_000:]:
            return "the zip has no central directory at its end"
    return None


def body_text(reply: requests.Response) -> str:
    """The body as text: in the charset the server declares, else UTF-8 (what pages almost always
    declare inside themselves; HTTP's ISO-8859-1 default would publish "SiobhÃ¡n" for "Siobhán"),
    else Windows-1252, the usual older alternative."""
    if "charset=" in reply.headers.get("Content-Type", "").lower():
        return str(reply.text)
    content: bytes = reply.content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _read_capped(url: str, reply: requests.Response, limit: int) -> None:
    """Read the body (decompressed) into the reply, refusing more than `limit` bytes."""
    chunks: list[bytes] = []
    total = 0
    for chunk in reply.iter_content(65536):
        total += len(chunk)
        if total > limit:
            reply.close()
            raise FetchError(url, f"answer is over the {limit:,}-byte limit; not read further")
        chunks.append(chunk)
    reply._content = b"".join(chunks)
    reply._content_consumed = True


def read_body(url: str, reply: requests.Response, max_seconds: float, limit: int) -> None:
    """Read the whole body within `max_seconds` and `limit` bytes. The timeout bounds each read,
    not the answer: a server sending a byte now and then would hold the refresh for hours. A
    watchdog shuts the answer down (urllib3's shutdown() is made to interrupt a read in another
    thread)."""
    declared = reply.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        reply.close()
        raise FetchError(url, f"answer of {int(declared):,} bytes is over the {limit:,}-byte limit")
    shutdown = getattr(reply.raw, "shutdown", None)
    if shutdown is None:  # urllib3 older than 2.3: the per-read timeout is all there is
        _read_capped(url, reply, limit)
        return
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        shutdown()

    watchdog = threading.Timer(max_seconds, stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        _read_capped(url, reply, limit)
    except Exception:
        if not stopped.is_set():
            raise
    finally:
        watchdog.cancel()
    if stopped.is_set():
        reply.close()
        raise FetchError(url, f"answer still arriving after {max_seconds:g} s; not waiting any longer")


def check_complete(url: str, reply: requests.Response) -> bytes:
    """The body, or FetchError when fewer bytes arrived than Content-Length announced, or, without a
    Content-Length, when the format shows the body was cut short."""
    body: bytes = reply.content
    expected = reply.headers.get("Content-Length")
    if (
        expected
        and expected.isdigit()
        and not reply.headers.get("Content-Encoding")
        and len(body) != int(expected)
    ):
        raise FetchError(url, f"truncated body: {len(body)} of {expected} bytes")
    if not expected and reply.status_code == 200 and body:
        problem = incomplete_body(url, reply.headers.get("Content-Type", ""), body)
        if problem:
            raise FetchError(url, f"truncated body (no Content-Length): {problem}")
    return body


def body_reader(url: str, max_seconds: float, limit: int) -> Callable[..., None]:
    """A requests `response` hook that reads the answer's body within its limits and checks it is
    whole. It runs before requests-cache sees the answer, so nothing over a limit or cut short is
    ever stored. It reads once: requests-cache dispatches the hook again on what it returns."""
    done = False

    def read(reply: requests.Response, *_args: object, **_kwargs: object) -> None:
        nonlocal done
        if done:
            return
        done = True
        read_body(url, reply, max_seconds, limit)
        check_complete(url, reply)

    return read
