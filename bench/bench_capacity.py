"""How many visitors one replica serves (run on demand: python bench/bench_capacity.py).

K visitors at once (K = 1, 5, 10, 20; each its own Playwright browser context, so its own
Streamlit session), each doing 5 searches one after another, first against one replica and then
against the 2-replica cluster behind HAProxy. Both are started with deploy/local-cluster.sh, which
runs the container's command, on the committed data/. Reported per K:
- median and p95 time from pressing Enter to the whole result list drawn, and errors (a search
  that failed or took over 30 s);
- the server CPU time per search (user + system time of the replica processes over the run,
  divided by the searches; this includes each new session's first page run);
- each replica's resident memory when idle (data loaded, no visitor), and what each session
  still open costs on top (measured with the K sessions open at the end of the run).
The visitors' Chromium runs on the same 2 cores as the servers, so the times are an upper bound
for servers with cores of their own. With `--client protocol` each visitor is instead a websocket
speaking Streamlit's own protocol, as its page does (the first page, then each search as the
form's values and its submit button), timed from sending the search to the server's "script
finished" (every element of the answer sent; the page's own drawing, measured by the browser
visitors, is not included): 20 visitors then cost the machine a few coroutines, not 20 browsers.
Targets: 20 visitors on one replica with p95 <= 1.5 s and no errors; an idle replica <= 350 MB;
each added session <= 5 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_browser import CHROMIUM, CHROMIUM_FLAGS, POSTCODE_BOX, RESULTS_DRAWN, free_port  # noqa: E402

TARGET_P95_S = 1.5
TARGET_IDLE_MB = 350
TARGET_SESSION_MB = 5
SEARCH_TIMEOUT_MS = 30_000
OPEN_TIMEOUT_MS = 60_000
ARRIVAL_GAP_S = 0.2
# Real places across England: a city centre, a suburb, a town; each visitor starts at its own.
POSTCODES = ["LS6 3QG", "DE1 1AA", "CV1 1AH", "M1 1AE", "B1 2AY", "NE1 7RU", "BS1 5TR", "CB2 1TN", "HG1 1AA"]
PAGE_IDLE = "() => !document.querySelector('[data-stale=\"true\"]') && !document.querySelector('[data-testid=\"stStatusWidget\"] button')"


@dataclass(frozen=True)
class Round:
    visitors: int
    times: list[float]
    errors: int
    cpu_seconds: float
    rss_mb_after: list[float]


def cluster(run_dir: Path, *args: str) -> None:
    env = {**os.environ, "LOCAL_CLUSTER_RUN_DIR": str(run_dir), "FINDER_OFFLINE_CHECKS": "1"}
    env.pop("FINDER_DATA_DIR", None)
    done = subprocess.run(
        ["bash", str(ROOT / "deploy" / "local-cluster.sh"), *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"local-cluster.sh {' '.join(args)}: {done.stderr.strip()}")


def replica_pids(run_dir: Path) -> list[int]:
    return [int(pid) for pid in (run_dir / "replicas.pid").read_text().split()]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


async def visitor(browser, url: str, first: int, searches: int, times: list[float]) -> int:
    """One person: opens the page, searches `searches` places in turn; returns their errors.
    People arrive a little apart (a fifth of a second between each), not in the same instant."""
    errors = 0
    await asyncio.sleep(ARRIVAL_GAP_S * first)
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        page = await context.new_page()
        page.set_default_timeout(SEARCH_TIMEOUT_MS)
        try:
            await page.goto(url, timeout=OPEN_TIMEOUT_MS)
            box = page.locator(POSTCODE_BOX)
            await box.wait_for()
            await page.wait_for_function(PAGE_IDLE)
        except Exception:
            return searches  # the page never opened: every search this person meant to do failed
        for n in range(searches):
            place = POSTCODES[(first + n) % len(POSTCODES)]
            try:
                await box.fill(place)
                started = time.perf_counter()
                await box.press("Enter")
                await page.get_by_text(f"Results for {place}").first.wait_for()
                await page.wait_for_function(RESULTS_DRAWN)
                times.append(time.perf_counter() - started)
                if await page.locator('[data-testid="stException"]').count():
                    errors += 1
            except Exception:
                errors += 1
        return errors
    finally:
        # The session stays open until the round's memory is read (the caller closes contexts).
        visitor.open.append(context)


visitor.open = []  # type: ignore[attr-defined]


async def _rerun(ws, widgets: dict[str, str | bool]) -> list:
    """Send one run of the page (the query string empty, as after the first page; `widgets` the
    form's values and the submit trigger) and return the elements the server sent until it
    finished."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = BackMsg()
    state = message.rerun_script
    state.query_string, state.page_script_hash = "", ""
    for widget_id, value in widgets.items():
        widget = state.widget_states.widgets.add()
        widget.id = widget_id
        if isinstance(value, bool):
            widget.trigger_value = value
        else:
            widget.string_value = value
    await ws.send(message.SerializeToString())
    elements = []
    while True:
        received = ForwardMsg()
        received.ParseFromString(await asyncio.wait_for(ws.recv(), SEARCH_TIMEOUT_MS / 1000))
        kind = received.WhichOneof("type")
        if kind == "delta" and received.delta.WhichOneof("type") == "new_element":
            elements.append(received.delta.new_element)
        elif kind == "script_finished":
            return elements


def _texts(elements: list) -> list[str]:
    return [
        getattr(e, e.WhichOneof("type")).body
        for e in elements
        if e.WhichOneof("type") in ("markdown", "heading")
    ]


async def open_page(url: str, first: int):
    """A person's page opening (Streamlit's websocket and the page's first run): the socket, and
    the ids of the search box and the search button; None when it did not open."""
    import websockets

    await asyncio.sleep(ARRIVAL_GAP_S * first)
    try:
        ws = await websockets.connect(
            url.replace("http://", "ws://") + "/_stcore/stream",
            subprotocols=["streamlit"],
            max_size=None,
            open_timeout=OPEN_TIMEOUT_MS / 1000,
        )
        page = await _rerun(ws, {})
    except Exception:
        return None
    (box,) = [
        e.text_input.id
        for e in page
        if e.WhichOneof("type") == "text_input" and e.text_input.id.endswith("fh_query")
    ]
    (submit,) = [e.button.id for e in page if e.WhichOneof("type") == "button" and e.button.is_form_submitter]
    return ws, box, submit


async def protocol_searches(opened, first: int, searches: int, times: list[float]) -> int:
    """One person with their page open searches `searches` places in turn through the search form,
    as their page sends it; returns their errors."""
    if opened is None:
        return searches  # the page never opened: every search this person meant to do failed
    ws, box, submit = opened
    errors = 0
    for n in range(searches):
        place = POSTCODES[(first + n) % len(POSTCODES)]
        started = time.perf_counter()
        try:
            answer = await _rerun(ws, {box: place, submit: True})
            times.append(time.perf_counter() - started)
            shown = any(f"Results for {place}" in text for text in _texts(answer))
            errors += not shown or any(e.WhichOneof("type") == "exception" for e in answer)
        except Exception:
            errors += 1
    return errors


async def protocol_round(url: str, k: int, searches: int, pids: list[int]) -> Round:
    """K people open the page (a fifth of a second apart), then all search at once, back to back:
    with no browser to slow them, without this they would hardly overlap."""
    times: list[float] = []
    cpu_before = cpu_seconds(pids)
    opened = await asyncio.gather(*(open_page(url, i) for i in range(k)))
    errors = await asyncio.gather(*(protocol_searches(o, i, searches, times) for i, o in enumerate(opened)))
    cpu = cpu_seconds(pids) - cpu_before
    rss_after = [rss_mb(pid) for pid in pids]  # K sessions still open
    for found in opened:
        if found is not None:
            await found[0].close()
    return Round(k, times, sum(errors), cpu, rss_after)


async def measure_protocol(
    url: str, pids: list[int], rounds: list[int], searches: int
) -> tuple[list[float], list[Round]]:
    # As `measure`: every replica warmed, then idle memory with the data loaded and no session.
    await protocol_round(url, len(pids) * 2, 1, pids)
    await asyncio.sleep(3)
    idle = [rss_mb(pid) for pid in pids]
    return idle, [await protocol_round(url, k, searches, pids) for k in rounds]


async def one_round(browser, url: str, k: int, searches: int, pids: list[int]) -> Round:
    times: list[float] = []
    cpu_before = cpu_seconds(pids)
    errors = await asyncio.gather(*(visitor(browser, url, i, searches, times) for i in range(k)))
    cpu = cpu_seconds(pids) - cpu_before
    rss_after = [rss_mb(pid) for pid in pids]  # K sessions still open
    for context in visitor.open:  # type: ignore[attr-defined]
        await context.close()
    visitor.open.clear()  # type: ignore[attr-defined]
    return Round(k, times, sum(errors), cpu, rss_after)


async def measure(
    url: str, pids: list[int], rounds: list[int], searches: int
) -> tuple[list[float], list[Round]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            # Warm every replica (its first visitor loads data/), then let the sessions expire
            # from the count: idle memory is with the data loaded and no page open.
            await one_round(browser, url, len(pids) * 2, 1, pids)
            await asyncio.sleep(3)
            idle = [rss_mb(pid) for pid in pids]
            results = [await one_round(browser, url, k, searches, pids) for k in rounds]
        finally:
            await browser.close()
    return idle, results


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def report(label: str, idle: list[float], results: list[Round], searches: int) -> None:
    print(
        f"\n{label}: idle RSS per replica {', '.join(f'{mb:.0f} MB' for mb in idle)} (target <= {TARGET_IDLE_MB} MB)"
    )
    print("  visitors  searches  median s  p95 s  errors  CPU ms/search  RSS MB (sessions open)  MB/session")
    for r in results:
        per_session = (sum(r.rss_mb_after) - sum(idle)) / r.visitors
        median = statistics.median(r.times) if r.times else float("nan")
        worst = p95(r.times) if r.times else float("nan")
        print(
            f"  {r.visitors:8d}  {r.visitors * searches:8d}  {median:8.2f}  {worst:5.2f}  {r.errors:6d}"
            f"  {1000 * r.cpu_seconds / (r.visitors * searches):13.0f}"
            f"  {' + '.join(f'{mb:.0f}' for mb in r.rss_mb_after):>22}  {per_session:10.1f}"
        )


def run(
    replicas: int, rounds: list[int], searches: int, direct: bool, client: str = "browser"
) -> tuple[list[float], list[Round]]:
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as run_dir:
        run_path = Path(run_dir)
        port = free_port()
        cluster(run_path, "up", str(replicas), str(port))
        try:
            pids = replica_pids(run_path)
            # One replica is measured on its own port (no balancer); the cluster through HAProxy.
            target = (run_path / "replicas.ports").read_text().split()[0] if direct else str(port)
            how = measure_protocol if client == "protocol" else measure
            return asyncio.run(how(f"http://127.0.0.1:{target}", pids, rounds, searches))
        finally:
            cluster(run_path, "down")


def main() -> None:
    # Stopped from outside: still run the `finally` that stops the cluster it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--searches", type=int, default=5)
    parser.add_argument(
        "--client",
        choices=("browser", "protocol"),
        default="browser",
        help="visitors as Chromium pages (default), or as Streamlit's websocket protocol without a browser",
    )
    args = parser.parse_args()
    print(
        f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} cores"
    )
    print(f"visitors: {args.client}")
    one = run(1, args.visitors, args.searches, direct=True, client=args.client)
    report("one replica", *one, args.searches)
    two = run(2, args.visitors, args.searches, direct=False, client=args.client)
    report("two replicas behind HAProxy", *two, args.searches)
    top = max(args.visitors)
    worst_one = next(r for r in one[1] if r.visitors == top)
    errors_ok = worst_one.errors == 0
    p95_one = p95(worst_one.times)
    per_session = (sum(worst_one.rss_mb_after) - sum(one[0])) / top
    print(
        f"\ntargets, {top} visitors on one replica: p95 {p95_one:.2f} s (<= {TARGET_P95_S}: "
        f"{'met' if p95_one <= TARGET_P95_S else 'MISSED'}), errors {worst_one.errors} "
        f"({'met' if errors_ok else 'MISSED'}); idle {one[0][0]:.0f} MB (<= {TARGET_IDLE_MB}: "
        f"{'met' if one[0][0] <= TARGET_IDLE_MB else 'MISSED'}); {per_session:.1f} MB a session "
        f"(<= {TARGET_SESSION_MB}: {'met' if per_session <= TARGET_SESSION_MB else 'MISSED'})"
    )
    cpu_per_search = worst_one.cpu_seconds / (top * args.searches)
    print(
        f"one core serves about {1 / cpu_per_search:.1f} searches a second at {1000 * cpu_per_search:.0f} ms of "
        f"server CPU each: 50 searches a second need about {50 * cpu_per_search:.1f} cores"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
