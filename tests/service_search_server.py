"""A stand-in for NHS England's Service Search API version 3 on 127.0.0.1, for network-path tests.

It holds the records of tests/fixtures/nhs_api/page1_v3.json and page2_v3.json and answers as the
v3 gateway does where it matters to the client (specification/service-search-api.yaml and
proxies/live/apiproxy/policies/VerifyApiKey.FromHeader.xml of NHSDigital/service-search-api):
- 401 without an `apikey` header, or with another key than `key` when one is given (the
  gateway's key check);
- 404 without `api-version=3` ("Invalid API version");
- otherwise the records, in SearchKey order, after the key named by `SearchKey gt '...'` in
  `$filter`, at most `$top` of them (default 50).

    with ServiceSearchServer() as api:
        api.url  # base URL for FINDER_NHS_API_URL
        api.requests  # (path, query parameters, headers) of every request received
        api.api_requests()  # the same for the API's own path (not robots.txt)
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "nhs_api"
PAGES = ("page1_v3.json", "page2_v3.json")
_AFTER = re.compile(r"SearchKey gt '((?:[^']|'')*)'")


def fixture_records() -> list[dict]:
    return [record for name in PAGES for record in json.loads((FIXTURES / name).read_text())["value"]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        owner = self.server.owner
        with owner.lock:
            owner.requests.append((parts.path, query, dict(self.headers)))
        key = self.headers.get("apikey")
        if not key or (owner.key is not None and key != owner.key):
            self._answer(
                401, {"fault": {"faultstring": "Failed to resolve API Key variable request.header.apikey"}}
            )
        elif query.get("api-version") != owner.version_required:
            self._answer(404, {"title": "Invalid API version", "status": 404})
        else:
            self._answer(200, owner.page(query))

    def _answer(self, status: int, document: dict) -> None:
        data = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ServiceSearchServer


class ServiceSearchServer:
    def __init__(self, records: list[dict] | None = None, key: str | None = None) -> None:
        self.key = key  # the only key accepted (None: any)
        self.version_required = "3"
        self.records = sorted(
            records if records is not None else fixture_records(), key=lambda r: r["SearchKey"]
        )
        self.requests: list[tuple[str, dict, dict]] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/service-search-api/"

    def api_requests(self) -> list[tuple[dict, dict]]:
        return [(query, headers) for path, query, headers in self.requests if path == urlsplit(self.url).path]

    def page(self, query: dict) -> dict:
        found = _AFTER.search(query.get("$filter", ""))
        after = found[1].replace("''", "'") if found else None
        rest = [r for r in self.records if after is None or r["SearchKey"] > after]
        top = int(query.get("$top", "50"))
        return {"@odata.count": len(self.records), "value": rest[:top]}

    def __enter__(self) -> ServiceSearchServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
