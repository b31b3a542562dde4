"""The local cluster (deploy/local-cluster.sh: two replicas and the Open Referral UK API behind
HAProxy) in a real browser: a person keeps getting answers when the replica serving them is
killed, and new visitors see no errors once HAProxy has marked it down. Through the same balancer,
without a browser, /oruk/ is the API.

The replicas run `python -m streamlit run app.py` (the container's command) on the committed
data/, so the assertions are about what holds for any release: a Leeds service for LS6 3QG, an
answer for a GP surgery. Needs Debian's chromium and haproxy (.ci/run installs both).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
import test_browser
from test_browser import (
    CHROMIUM,
    POSTCODE_BOX,
    free_port,
    new_page,
    open_search,
    wait_for_results,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "deploy" / "local-cluster.sh"
GP_ANSWER = "Services for people registered at The Densham Surgery"
CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'  # Streamlit's own mark
# Remembers when the page first sees its connection go (the state may come back before we look).
NOTICE_DISCONNECT = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(() => {
        if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') window.finderLostServer = true;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-connection-state']});
}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs Debian's haproxy"),
]


def cluster(run_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOCAL_CLUSTER_RUN_DIR": str(run_dir), "FINDER_OFFLINE_CHECKS": "1"}
    env.pop("FINDER_DATA_DIR", None)  # the committed data/, as the image carries it
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=180)


def replica_states(run_dir: Path, backend: str = "finder") -> dict[str, str]:
    """HAProxy's view of each server of a backend (UP, DOWN...), from its stats socket."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(run_dir / "haproxy.sock"))
        sock.sendall(b"show stat\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    header, *rows = answer.decode().splitlines()
    columns = header.lstrip("# ").split(",")
    states = {}
    for row in rows:
        fields = dict(zip(columns, row.split(","), strict=False))
        if fields.get("pxname") == backend and fields.get("svname") not in ("FRONTEND", "BACKEND"):
            states[fields["svname"]] = fields["status"]
    return states


@pytest.fixture(scope="module")
def running_cluster(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cluster")
    port = free_port()
    started = cluster(run_dir, "up", "2", str(port))
    assert started.returncode == 0, started.stderr
    pids = [
        int(pid)
        for name in ("replicas", "oruk", "haproxy")
        for pid in (run_dir / f"{name}.pid").read_text().split()
    ]
    try:
        yield run_dir, f"http://127.0.0.1:{port}"
    finally:
        stopped = cluster(run_dir, "down")
        assert stopped.returncode == 0, stopped.stderr
        assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]  # the API too


def search(page, url: str, place: str) -> None:
    """A new visit: search for a Leeds place and see a Leeds service first."""
    box = open_search(page, url)
    box.fill(place)
    box.press("Enter")
    wait_for_results(page)
    assert "Leeds" in page.locator('[data-testid="stHeading"] h3').first.inner_text()


def replica_cookie(page) -> str:
    return {c["name"]: c["value"] for c in page.context.cookies()}["FINDER_REPLICA"]


browser = test_browser.browser  # the module's one headless Chromium (a fixture)


def no_error_on(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Connection error").count() == 0
    assert page.get_by_text("Traceback").count() == 0


def test_the_balancer_serves_the_open_referral_api_at_oruk(running_cluster):
    run_dir, url = running_cluster
    assert replica_states(run_dir, "oruk") == {"oruk1": "UP"}
    root = requests.get(f"{url}/oruk/", timeout=10).json()
    assert root["version"] == "HSDS-UK-3.0" and root["openapi_url"] == f"{url}/oruk/openapi.json"
    assert "/services" in requests.get(root["openapi_url"], timeout=10).json()["paths"]
    # The fact: LS6 3QG is Leeds's, so Leeds's service comes first.
    listed = requests.get(f"{url}/oruk/services", params={"postcode": "LS6 3QG"}, timeout=30).json()
    first = listed["contents"][0]
    full = requests.get(f"{url}/oruk/services/{first['id']}", timeout=10).json()
    assert "Leeds" in {area["name"] for area in full["service_areas"]}
    # The app is still what answers everywhere else.
    assert requests.get(f"{url}/_stcore/health", timeout=10).text == "ok"


def test_a_visitor_keeps_their_answers_when_their_replica_dies(running_cluster, browser):
    run_dir, url = running_cluster
    pids = (run_dir / "replicas.pid").read_text().split()
    assert len(pids) == 2 and replica_states(run_dir) == {"replica1": "UP", "replica2": "UP"}

    # Bad use while it runs: a second `up` is refused with one line, and nothing changes.
    again = cluster(run_dir, "up", "2", str(free_port()))
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
    assert "already up" in again.stderr and (run_dir / "replicas.pid").read_text().split() == pids

    with new_page(browser) as page, new_page(browser) as other:
        search(page, url, "LS6 3QG")
        # Another visitor meanwhile goes to the other replica (the one with fewer open pages),
        # so both replicas are in service, as they are in production.
        search(other, url, "LS1 4AP")
        cookie = replica_cookie(page)
        assert replica_cookie(other) != cookie

        # The replica that served the first person (HAProxy's cookie names it) dies unwarned.
        served_by = int(cookie.removeprefix("r"))
        page.evaluate(NOTICE_DISCONNECT)
        os.kill(int(pids[served_by - 1]), signal.SIGKILL)

        # The page notices within about a second and reconnects to the live replica (it says
        # "Connecting" meanwhile); the person types their next search at a person's pace and
        # presses Enter once the page is connected again. What they typed must win over the
        # previous search in the address bar on the new replica's fresh session. (A search sent
        # in the instant before the page noticed would go down with the replica.)
        started = time.monotonic()
        page.wait_for_function("() => window.finderLostServer === true", timeout=5_000)
        box = page.locator(POSTCODE_BOX)
        box.fill("")
        box.press_sequentially("Densham Surgery", delay=80)
        page.wait_for_selector(CONNECTED, timeout=10_000)
        box.press("Enter")
        page.get_by_role("button", name="The Densham Surgery, Stockton-on-Tees").click(timeout=10_000)
        left_ms = 10_000 - 1000 * (time.monotonic() - started)
        page.get_by_text(GP_ANSWER).first.wait_for(timeout=max(1, left_ms))
        assert time.monotonic() - started < 10
        assert replica_cookie(page) != cookie
        no_error_on(page)

    dead = f"replica{served_by}"
    deadline = time.monotonic() + 10
    while replica_states(run_dir)[dead] != "DOWN":
        assert time.monotonic() < deadline, replica_states(run_dir)
        time.sleep(0.2)

    with new_page(browser) as page:  # a new visitor, on the live replica
        search(page, url, "LS6 3QG")
        no_error_on(page)
