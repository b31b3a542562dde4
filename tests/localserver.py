"""A programmable HTTP server on 127.0.0.1 for network-path tests (never any other address).

    with LocalServer() as server:
        server.route("/page", body="<html>...</html>")
        server.route("/slow", body="...", delay=2.0)
        server.route("/flaky", responses=[(500, "oops"), (200, "ok")])
        server.route("/limited", status=429, headers={"Retry-After": "1"})
        server.route("/drip", body="...", trickle=0.5)  # one byte every half second
        server.route("/cut", body='{"a": [1', no_length=True)  # ends when the connection closes
        server.fallback = Route(status=500)  # every other path answers 500
        fetch(server.url("/page"))
        server.hits["/page"]  # requests received per path
        server.body_bytes_by_path["/page"]  # response body bytes sent per path

Routes match on the path without the query string, except a route registered with one
(`server.route("/results?type=gp", ...)`), which answers only requests whose query holds those
parameters with those values (the route naming the most parameters wins). Conditional requests are answered with 304
when the route has an `etag` and the client sends a matching If-None-Match, or (without an etag)
a `last_modified` date and the client sends it back in If-Modified-Since.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalServer

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client gave up on a slow answer (the timeout tests): expected, not news
        super().handle_error(request, client_address)


@dataclass
class Route:
    status: int = 200
    body: str | bytes = ""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    responses: list = field(default_factory=list)  # consumed in order, then falls back to status/body
    etag: str | None = None
    last_modified: str | None = None  # an HTTP date; If-Modified-Since equal to it is answered 304
    content_type: str = "text/html; charset=utf-8"
    truncate_to: int | None = None  # send a Content-Length larger than the body, then close
    trickle: float = 0.0  # seconds between the body's bytes: a server that never quite stops sending
    no_length: bool = False  # no Content-Length: the body ends when the connection closes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every response with a body.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        route, reply = self._record()
        if route is None:
            self._send(404, b"not found", {}, "text/plain")
            return
        if route.delay:
            time.sleep(route.delay)
        if reply is not None:
            status, body = reply[0], reply[1]
            headers = reply[2] if len(reply) > 2 else {}
        else:
            status, body, headers = route.status, route.body, dict(route.headers)
        headers = self._with_validators(route, headers)
        if self._not_modified(route):
            self._send(304, b"", headers, route.content_type)
            return
        data = body.encode("utf-8") if isinstance(body, str) else body
        if route.truncate_to is not None:
            self._send_and_close(status, data[: route.truncate_to], route.content_type, len(data))
        elif route.no_length:
            self._send_and_close(status, data, route.content_type, None)
        else:
            self._send(status, data, headers, route.content_type)

    def _record(self) -> tuple[Route | None, tuple | None]:
        """Count the request and pick its route and (for a route with a script) its next reply."""
        server = self.server.owner
        path = self._route_path = urlsplit(self.path).path
        with server._lock:
            server.hits[path] += 1
            server.requests.append((self.path, dict(self.headers)))
            route = server._match(path, self.path) or server.fallback
            reply = route.responses.pop(0) if route and route.responses else None
        return route, reply

    @staticmethod
    def _with_validators(route: Route, headers: dict) -> dict:
        if route.etag:
            headers = {**headers, "ETag": route.etag}
        if route.last_modified:
            headers = {**headers, "Last-Modified": route.last_modified}
        return headers

    def _not_modified(self, route: Route) -> bool:
        if route.etag:
            return self.headers.get("If-None-Match") == route.etag
        return bool(route.last_modified) and self.headers.get("If-Modified-Since") == route.last_modified

    def _send_and_close(self, status, data, content_type, length):
        """Send `data` (with a Content-Length of `length`, or none) and close the connection."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def _send(self, status, data, headers, content_type):
        server = self.server.owner
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        route = server._match(self._route_path, self.path) or server.fallback
        if data and route is not None and route.trickle:
            for index in range(len(data)):
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
                time.sleep(route.trickle)
        elif data:
            self.wfile.write(data)
        if data:
            with server._lock:
                server.body_bytes_sent += len(data)
                server.body_bytes_by_path[self._route_path] += len(data)


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = defaultdict(int)
        self.body_bytes_sent = 0
        self.body_bytes_by_path: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[str, dict]] = []
        self.fallback: Route | None = None  # the answer for every path without a route (else 404)
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def route(self, path: str, **kwargs) -> Route:
        route = Route(**kwargs)
        with self._lock:
            self.routes[path] = route
        return route

    def _match(self, path: str, full: str) -> Route | None:
        """The route for a request: the path's route with the most query parameters that the
        request carries, else the path's own route."""
        asked = set(parse_qsl(urlsplit(full).query))
        best, best_size = self.routes.get(path), -1
        for key, route in self.routes.items():
            parts = urlsplit(key)
            wanted = set(parse_qsl(parts.query))
            if parts.path == path and wanted and wanted <= asked and len(wanted) > best_size:
                best, best_size = route, len(wanted)
        return best

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
