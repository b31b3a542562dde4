"""The shared polite HTTP layer, against the 127.0.0.1 test server only."""

import email.utils
import time
import zipfile

import pytest

from finder import PROJECT_URL
from scrapers.http import USER_AGENT, Fetcher, FetchError, RobotsDisallowed, retry_after_seconds


class FakeTime:
    """A clock that only moves when the fetcher sleeps, so waits are checked without timing."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def make(tmp_path=None, **kwargs):
    fake = FakeTime()
    options = {
        "min_interval": 0.0,
        "retries": 2,
        "backoff": 1.0,
        "timeout": 5.0,
        "sleep": fake.sleep,
        "clock": fake.clock,
    }
    if tmp_path is not None:
        options["cache_path"] = tmp_path / "cache" / "http.sqlite"
    options.update(kwargs)
    return Fetcher(**options), fake


def test_user_agent_names_the_project_and_its_repository(local_server):
    local_server.route("/page", body="<p>hello</p>")
    fetcher, _ = make()
    assert fetcher(local_server.url("/page")).text == "<p>hello</p>"
    sent = next(headers for path, headers in local_server.requests if path == "/page")
    assert sent["User-Agent"] == USER_AGENT
    assert PROJECT_URL in USER_AGENT and "ipt-finder" in USER_AGENT


def test_robots_txt_disallowed_path_is_not_requested(local_server):
    local_server.route("/robots.txt", body="User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    local_server.route("/private/list", body="secret")
    local_server.route("/public", body="open")
    fetcher, _ = make()
    with pytest.raises(RobotsDisallowed, match=r"disallowed by robots\.txt"):
        fetcher(local_server.url("/private/list"))
    assert fetcher(local_server.url("/public")).text == "open"
    assert local_server.hits["/private/list"] == 0
    assert local_server.hits["/robots.txt"] == 1  # once per host per run
    assert fetcher.stats()["robots_disallowed"] == 1


def test_robots_txt_rules_for_our_agent_apply(local_server):
    local_server.route("/robots.txt", body="User-agent: ipt-finder\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    local_server.route("/page", body="x")
    fetcher, _ = make()
    with pytest.raises(RobotsDisallowed):
        fetcher(local_server.url("/page"))


def test_missing_robots_txt_allows_everything(local_server):
    local_server.route("/page", body="ok")  # /robots.txt answers 404
    fetcher, _ = make()
    assert fetcher(local_server.url("/page")).status == 200


def test_robots_txt_server_error_means_do_not_crawl_this_run(local_server):
    local_server.route("/robots.txt", status=503, body="down")
    local_server.route("/page", body="ok")
    fetcher, _ = make()
    with pytest.raises(RobotsDisallowed, match=r"robots\.txt answered HTTP 503"):
        fetcher(local_server.url("/page"))
    with pytest.raises(RobotsDisallowed):
        fetcher(local_server.url("/page"))
    assert local_server.hits["/page"] == 0
    assert local_server.hits["/robots.txt"] == 1


def test_server_errors_are_retried_with_exponential_backoff(local_server):
    local_server.route("/flaky", body="fine", responses=[(500, "oops"), (502, "oops")])
    fetcher, fake = make(retries=3, backoff=0.5)
    assert fetcher(local_server.url("/flaky")).text == "fine"
    assert local_server.hits["/flaky"] == 3
    assert fake.sleeps == [0.5, 1.0]
    assert fetcher.stats()["retries"] == 2


def test_persistent_server_error_raises_after_the_retries(local_server):
    local_server.route("/broken", status=500, body="oops")
    fetcher, _ = make(retries=2)
    with pytest.raises(FetchError, match="HTTP 500 after 3 attempts"):
        fetcher(local_server.url("/broken"))
    assert local_server.hits["/broken"] == 3


def test_429_waits_as_long_as_retry_after_asks(local_server):
    local_server.route("/limited", body="ok", responses=[(429, "slow down", {"Retry-After": "7"})])
    fetcher, fake = make(backoff=0.1)
    assert fetcher(local_server.url("/limited")).text == "ok"
    assert fake.sleeps == [7.0]


def test_retry_after_longer_than_the_cap_gives_up_without_hammering(local_server):
    local_server.route("/limited", status=429, body="later", headers={"Retry-After": "3600"})
    fetcher, fake = make(max_retry_wait=60)
    with pytest.raises(FetchError, match="retry after 3600 s"):
        fetcher(local_server.url("/limited"))
    assert local_server.hits["/limited"] == 1
    assert fake.sleeps == []


def test_retry_after_accepts_seconds_and_http_dates():
    now = 1_700_000_000.0
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds(email.utils.formatdate(now + 90, usegmt=True), now) == pytest.approx(90, abs=1)
    assert retry_after_seconds(email.utils.formatdate(now - 90, usegmt=True), now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_response_slower_than_the_timeout_fails(local_server):
    # Ordinary answers (robots.txt here) get a second, which a loaded machine still manages.
    local_server.route("/slow", body="late", delay=5.0)
    fetcher, _ = make(timeout=1.0, retries=0)
    with pytest.raises(FetchError, match=r"no answer within 1 s"):
        fetcher(local_server.url("/slow"))


def test_truncated_body_is_an_error_not_a_short_page(local_server):
    local_server.route("/cut", body="<html><body>" + "x" * 5000 + "</body></html>", truncate_to=100)
    fetcher, _ = make(retries=1)
    with pytest.raises(FetchError, match="truncated"):
        fetcher(local_server.url("/cut"))


def test_404_is_returned_for_the_caller_but_403_raises(local_server):
    local_server.route("/forbidden", status=403, body="no")
    fetcher, _ = make()
    assert fetcher(local_server.url("/gone")).status == 404
    with pytest.raises(FetchError, match="HTTP 403"):
        fetcher(local_server.url("/forbidden"))


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://example.org/x", "data:,hi"]
)
def test_only_http_urls_are_fetched(url):
    fetcher, _ = make()
    with pytest.raises(FetchError, match="only http"):
        fetcher(url)
    assert fetcher.stats()["requests"] == 0


def test_redirect_to_a_non_http_scheme_is_refused(local_server):
    local_server.route("/jump", status=302, headers={"Location": "javascript:alert(1)"})
    fetcher, _ = make()
    with pytest.raises(FetchError, match="non-http"):
        fetcher(local_server.url("/jump"))


def test_redirects_are_followed_and_checked_against_robots(local_server):
    local_server.route("/robots.txt", body="User-agent: *\nDisallow: /hidden\n")
    local_server.route("/old", status=301, headers={"Location": "/new"})
    local_server.route("/new", body="moved here")
    local_server.route("/sneaky", status=302, headers={"Location": "/hidden"})
    fetcher, _ = make()
    response = fetcher(local_server.url("/old"))
    assert (response.text, response.url) == ("moved here", local_server.url("/new"))
    with pytest.raises(RobotsDisallowed):
        fetcher(local_server.url("/sneaky"))
    assert local_server.hits["/hidden"] == 0


def test_at_most_one_request_per_interval_per_host(local_server):
    local_server.route("/a", body="a")
    fetcher, fake = make(min_interval=1.0)
    for _ in range(3):
        fetcher(local_server.url("/a"))
    # robots.txt, then three pages: each waits for the host's next one-second slot.
    assert fake.sleeps == [1.0, 1.0, 1.0]
    assert fake.now == 1003.0


def test_robots_crawl_delay_slows_the_host_down(local_server):
    local_server.route("/robots.txt", body="User-agent: *\nCrawl-delay: 4\n")
    local_server.route("/a", body="a")
    fetcher, fake = make(min_interval=1.0)
    fetcher(local_server.url("/a"))
    fetcher(local_server.url("/a"))
    assert fake.sleeps == [1.0, 4.0]


def test_unchanged_page_is_not_downloaded_again_with_an_etag(local_server, tmp_path):
    body = "<html>" + "service details " * 200 + "</html>"
    local_server.route("/page", body=body, etag='"v1"')
    first, _ = make(tmp_path)
    assert first(local_server.url("/page")).from_cache is False
    first.close()
    sent_after_first = local_server.body_bytes_by_path["/page"]

    second, _ = make(tmp_path)  # a later run: same cache file, new process state
    again = second(local_server.url("/page"))
    assert again.text == body and again.from_cache is True
    assert local_server.body_bytes_by_path["/page"] == sent_after_first == len(body)  # 304: no body sent
    last = [headers for path, headers in local_server.requests if path == "/page"][-1]
    assert last["If-None-Match"] == '"v1"'
    stats = second.stats()
    assert (stats["downloads"], stats["not_modified"], stats["cache_hits"]) == (0, 1, 1)


def test_changed_page_is_downloaded_again(local_server, tmp_path):
    local_server.route("/page", body="old phone", etag='"v1"')
    fetcher, _ = make(tmp_path)
    fetcher(local_server.url("/page"))
    local_server.route("/page", body="new phone", etag='"v2"')
    response = fetcher(local_server.url("/page"))
    assert (response.text, response.from_cache) == ("new phone", False)


def test_last_modified_is_used_when_there_is_no_etag(local_server, tmp_path):
    stamp = "Wed, 21 Oct 2026 07:28:00 GMT"
    local_server.route("/page", body="content", last_modified=stamp)
    fetcher, _ = make(tmp_path)
    fetcher(local_server.url("/page"))
    second = fetcher(local_server.url("/page"))
    assert second.from_cache and second.text == "content"
    last = [headers for path, headers in local_server.requests if path == "/page"][-1]
    assert last["If-Modified-Since"] == stamp


def test_download_saves_binary_files_and_revalidates(local_server, tmp_path):
    archive = tmp_path / "src.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("stats.csv", "OrgCode,Count\nRXX,5\n")
    local_server.route("/stats.zip", body=archive.read_bytes(), etag='"z1"', content_type="application/zip")
    fetcher, _ = make(tmp_path)
    target = tmp_path / "downloads" / "stats.zip"
    first = fetcher.download(local_server.url("/stats.zip"), target)
    assert not first.not_modified and zipfile.ZipFile(target).read("stats.csv").startswith(b"OrgCode")
    second = fetcher.download(local_server.url("/stats.zip"), target)
    assert second.not_modified and target.read_bytes() == archive.read_bytes()


def test_truncated_download_leaves_the_previous_file(local_server, tmp_path):
    target = tmp_path / "stats.zip"
    target.write_bytes(b"previous good file")
    local_server.route("/stats.zip", body=b"PK" + b"x" * 5000, truncate_to=50, content_type="application/zip")
    fetcher, _ = make(tmp_path, retries=0)
    with pytest.raises(FetchError, match="truncated"):
        fetcher.download(local_server.url("/stats.zip"), target)
    assert target.read_bytes() == b"previous good file"


def test_download_follows_redirects_to_the_file(local_server, tmp_path):
    local_server.route("/latest.csv", status=302, headers={"Location": "/files/2024-25/main.csv"})
    local_server.route("/files/2024-25/main.csv", body=b"OrgType,OrgCode\n", content_type="text/csv")
    fetcher, _ = make(tmp_path)
    saved = fetcher.download(local_server.url("/latest.csv"), tmp_path / "main.csv")
    assert saved.path.read_bytes() == b"OrgType,OrgCode\n"


def test_a_redirect_to_another_host_does_not_carry_the_api_key(local_server):
    from localserver import LocalServer

    with LocalServer() as elsewhere:  # another origin (another port on 127.0.0.1)
        elsewhere.route("/landing", body="moved")
        local_server.route("/api", status=302, headers={"Location": elsewhere.url("/landing")})
        local_server.route("/same", status=302, headers={"Location": "/api2"})
        local_server.route("/api2", body="{}")
        fetcher, _ = make()
        sent = {"apikey": "secret-key", "Accept": "application/json"}
        assert fetcher(local_server.url("/api"), headers=sent).text == "moved"
        assert fetcher(local_server.url("/same"), headers=sent).text == "{}"
        (landing,) = [headers for path, headers in elsewhere.requests if path == "/landing"]
    assert "apikey" not in {k.lower() for k in landing}
    assert landing["Accept"] == "application/json"
    (same_host,) = [headers for path, headers in local_server.requests if path == "/api2"]
    assert same_host["apikey"] == "secret-key"  # the same API may move its own paths


def test_robots_txt_answering_429_means_do_not_crawl_this_run(local_server):
    local_server.route("/robots.txt", status=429, body="slow down", headers={"Retry-After": "60"})
    local_server.route("/page", body="ok")
    fetcher, _ = make()
    with pytest.raises(RobotsDisallowed, match=r"robots\.txt answered HTTP 429"):
        fetcher(local_server.url("/page"))
    assert local_server.hits["/page"] == 0


def test_html_without_a_charset_header_is_read_as_utf8_not_latin1(local_server):
    # Many sites send "Content-Type: text/html" and declare UTF-8 only inside the page; read as
    # ISO-8859-1 (the HTTP default), a therapist's name would be published as "SiobhÃ¡n".
    local_server.route("/therapist", body="<h1>Siobhán O’Neill – IPT</h1>", content_type="text/html")
    local_server.route("/old", body="<h1>Café</h1>".encode("cp1252"), content_type="text/html")
    local_server.route(
        "/declared", body="<h1>Café</h1>".encode("cp1252"), content_type="text/html; charset=windows-1252"
    )
    fetcher, _ = make()
    assert fetcher(local_server.url("/therapist")).text == "<h1>Siobhán O’Neill – IPT</h1>"
    assert fetcher(local_server.url("/old")).text == "<h1>Café</h1>"
    assert fetcher(local_server.url("/declared")).text == "<h1>Café</h1>"


def test_an_answer_that_keeps_trickling_in_is_given_up(local_server):
    # Each byte comes well within the per-read timeout, so only a limit on the whole answer stops
    # a server that sends forever from holding the refresh (and the weekly job) for hours.
    local_server.route("/drip", body="<html>" + "x" * 60 + "</html>", trickle=0.25)
    fetcher, _ = make(timeout=5.0, max_body_seconds=1.0)
    with pytest.raises(FetchError, match=r"answer still arriving after 1 s"):
        fetcher(local_server.url("/drip"))
    assert local_server.hits["/drip"] == 1  # not retried: it would only take as long again


def test_an_unchanged_file_is_not_downloaded_again_into_a_new_place(local_server, tmp_path):
    # The refresh downloads into a fresh staging directory each run: the fetcher keeps its own
    # copy beside the cache, so a weekly run with FINDER_POSTCODES_SOURCE set does not fetch the
    # whole Code-Point release again when it has not changed.
    release = b"PK" + bytes(range(256)) * 40
    local_server.route("/codepo_gb.zip", body=release, etag='"2025.2.0"', content_type="application/zip")
    first, _ = make(tmp_path)
    assert not first.download(
        local_server.url("/codepo_gb.zip"), tmp_path / "run1" / "codepo_gb.zip"
    ).not_modified
    first.close()
    sent = local_server.body_bytes_by_path["/codepo_gb.zip"]

    second, _ = make(tmp_path)  # next week: same cache, new staging directory
    again = second.download(local_server.url("/codepo_gb.zip"), tmp_path / "run2" / "codepo_gb.zip")
    assert again.not_modified and (tmp_path / "run2" / "codepo_gb.zip").read_bytes() == release
    assert local_server.body_bytes_by_path["/codepo_gb.zip"] == sent == len(release)

    local_server.route(
        "/codepo_gb.zip", body=release + b"new", etag='"2026.1.0"', content_type="application/zip"
    )
    newer = second.download(local_server.url("/codepo_gb.zip"), tmp_path / "run3" / "codepo_gb.zip")
    assert not newer.not_modified and (tmp_path / "run3" / "codepo_gb.zip").read_bytes() == release + b"new"


def test_a_robots_txt_that_keeps_trickling_in_closes_the_host(local_server):
    local_server.route("/robots.txt", body="User-agent: *\n" + "#" * 60 + "\n", trickle=0.25)
    local_server.route("/page", body="ok")
    fetcher, _ = make(timeout=5.0, max_body_seconds=1.0)
    with pytest.raises(RobotsDisallowed, match=r"robots\.txt could not be fetched"):
        fetcher(local_server.url("/page"))
    assert local_server.hits["/page"] == 0


def test_a_private_or_loopback_address_is_never_fetched_outside_tests(local_server):
    from scrapers.http import Fetcher, FetchError

    local_server.route("/internal-secret", body="SECRET")
    fetcher = Fetcher(min_interval=0, retries=0, allow_private=False)
    with pytest.raises(FetchError, match="non-public address"):
        fetcher.get(local_server.url("/internal-secret"))
    assert local_server.hits.get("/internal-secret", 0) == 0


def test_a_page_larger_than_the_limit_is_refused_even_when_compressed(local_server):
    import gzip

    from scrapers.http import Fetcher, FetchError

    bomb = gzip.compress(b"a" * 5_000_000)
    local_server.route("/bomb", body=bomb, headers={"Content-Encoding": "gzip"})
    local_server.route("/big", body="b" * 300_000)
    fetcher = Fetcher(min_interval=0, retries=0, respect_robots=False, max_bytes=1_000_000)
    with pytest.raises(FetchError, match="limit"):
        fetcher.get(local_server.url("/bomb"))
    small = Fetcher(min_interval=0, retries=0, respect_robots=False, max_bytes=100_000)
    with pytest.raises(FetchError, match="limit"):
        small.get(local_server.url("/big"))
    assert len(fetcher.get(local_server.url("/big")).text) == 300_000


def test_robots_txt_redirected_to_a_private_address_closes_the_host(local_server, monkeypatch):
    import scrapers.http.fetcher as http_module
    from scrapers.http import Fetcher, RobotsDisallowed

    real_check = http_module.check_public_address

    def only_the_redirect_target_is_checked(url):
        # The test server itself is on 127.0.0.1; the redirect's 10.0.0.1 gets the real check.
        if "10.0.0.1" in url:
            real_check(url)

    monkeypatch.setattr(http_module, "check_public_address", only_the_redirect_target_is_checked)
    local_server.route("/robots.txt", status=302, headers={"Location": "http://10.0.0.1/robots.txt"})
    local_server.route("/page", body="ok")
    fetcher = Fetcher(min_interval=0, retries=0, allow_private=False)
    with pytest.raises(RobotsDisallowed):
        fetcher.get(local_server.url("/page"))
    assert local_server.hits.get("/page", 0) == 0


def test_a_kept_page_is_still_asked_for_every_time(local_server):
    # "Last verified" is only honest when the server was asked: the in-memory cache of the app's
    # register checks sends a conditional request each time, and an unchanged page comes back 304.
    local_server.route("/register", body="<html>Registered</html>", etag='"r1"')
    fetcher, _ = make(cache_path=":memory:")
    for _ in range(3):
        assert fetcher(local_server.url("/register")).text == "<html>Registered</html>"
    assert local_server.hits["/register"] == 3
    assert local_server.body_bytes_by_path["/register"] == len("<html>Registered</html>")
    assert fetcher.stats()["not_modified"] == 2


def test_a_failed_re_check_is_an_error_not_the_kept_copy(local_server, tmp_path):
    local_server.route("/page", body="<html>old answer</html>", etag='"v1"')
    fetcher, _ = make(tmp_path, retries=0)
    fetcher(local_server.url("/page"))
    local_server.route("/page", body="<html>new answer, cut short</html>", etag='"v2"', truncate_to=10)
    with pytest.raises(FetchError, match="truncated"):
        fetcher(local_server.url("/page"))
    local_server.route("/page", status=500, body="down")
    with pytest.raises(FetchError, match="HTTP 500"):
        fetcher(local_server.url("/page"))


def test_the_api_key_is_not_written_into_the_cache_file(local_server, tmp_path):
    local_server.route("/api", body='{"ok": true}', etag='"a1"', content_type="application/json")
    fetcher, _ = make(tmp_path)
    fetcher(local_server.url("/api"), headers={"apikey": "secret-key-123"})
    fetcher.close()
    stored = b"".join(path.read_bytes() for path in (tmp_path / "cache").iterdir())
    assert b"ipt-finder" in stored  # the request's headers are kept with the page, in plain text
    assert b"secret-key-123" not in stored
    later, _ = make(tmp_path)
    assert later(local_server.url("/api"), headers={"apikey": "secret-key-123"}).from_cache


def test_robots_txt_the_most_specific_rule_wins(local_server):
    # RFC 9309: the longest matching path decides, whatever the order of the lines.
    local_server.route("/robots.txt", body="User-agent: *\nDisallow: /services\nAllow: /services/ipt\n")
    local_server.route("/services/ipt", body="ipt")
    local_server.route("/services/other", body="other")
    fetcher, _ = make()
    assert fetcher(local_server.url("/services/ipt")).text == "ipt"
    with pytest.raises(RobotsDisallowed):
        fetcher(local_server.url("/services/other"))


def test_pages_kept_longer_than_cache_days_are_dropped_while_running(local_server):
    # The app runs for weeks with register pages (people's names) in memory: they go once they are
    # older than cache_days, checked hourly, and are then downloaded afresh.
    local_server.route("/register", body="<html>Registered</html>", etag='"r1"')
    fetcher, fake = make(cache_path=":memory:", cache_days=0.2 / 86400)  # 0.2 s
    fetcher(local_server.url("/register"))
    time.sleep(0.3)
    assert fetcher(local_server.url("/register")).from_cache  # within the hour: re-checked, 304
    fake.now += 3601
    assert not fetcher(local_server.url("/register")).from_cache
    assert local_server.body_bytes_by_path["/register"] == 2 * len("<html>Registered</html>")
