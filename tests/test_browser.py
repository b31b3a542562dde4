"""The app in a real browser: `streamlit run app.py` on 127.0.0.1, driven by headless Chromium.

Needs Debian's chromium at /usr/bin/chromium (Playwright's own browser download is not used).
Run with `pytest -m browser`. Screenshots are taken only with `pytest -m browser
--update-screenshots` (or FINDER_UPDATE_SCREENSHOTS=1), which saves docs/screenshots/*.png for the README.

The app is served from a temporary data directory with test-only records (see test_app.py), so
the test does not depend on which services the committed data holds; no page leaves 127.0.0.1
(register checks run in the app's offline mode, map tiles are not awaited).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(env_overrides: dict[str, str], timeout: float = 60.0):
    """Start `streamlit run app.py` on a free local port; yield its base URL."""
    port = free_port()
    env = {**os.environ, **env_overrides}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited: {process.stdout.read().decode(errors='replace')[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not start in time")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module's tests on this worker; each test gets its own
    context (cookies, storage and cache of its own, as a fresh profile had)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def new_page(browser, viewport: dict[str, int] | None = None):
    """A page in a new browser context (nothing carried over from another test)."""
    context = browser.new_context(viewport=viewport or {"width": 1100, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
    finally:
        context.close()


# The tests share two Streamlit servers: one on test records (SAMPLE), one on the committed data/
# (COMMITTED). --dist loadgroup keeps each group on one xdist worker, so each server starts once
# and the two groups can run side by side.
SAMPLE = pytest.mark.xdist_group("browser-sample")
COMMITTED = pytest.mark.xdist_group("browser-committed")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from test_app import build_app_data

    directory = build_app_data(tmp_path_factory.mktemp("browserdata"))
    with streamlit_server({"FINDER_DATA_DIR": str(directory), "FINDER_OFFLINE_CHECKS": "1"}) as url:
        yield url


@pytest.fixture
def page(app_url, browser):
    with new_page(browser) as page:
        yield page


def focused_is(page, selector: str) -> bool:
    return page.evaluate(f"document.activeElement === document.querySelector({selector!r})")


def tab_to(page, selector: str, limit: int = 60) -> int:
    """Press Tab until the element matching `selector` has focus; return how many presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused_is(page, selector):
            return presses
    raise AssertionError(f"Tab never reached {selector}")


# True once a search's run has finished drawing: the share hint (drawn after the last result) is
# from this run, and Streamlit has removed every element left over ("stale") from the last run.
RESULTS_DRAWN = """() => {
    const fresh = '[data-testid="stElementContainer"]:not([data-stale="true"])';
    const hint = [...document.querySelectorAll(fresh)].some(e => e.innerText.includes("To share this search"));
    return hint && !document.querySelector('[data-testid="stElementContainer"][data-stale="true"]');
}"""


def wait_for_results(page) -> None:
    """Until the whole result list of the latest search is on screen."""
    page.wait_for_function(RESULTS_DRAWN)
    assert page.locator('[data-testid="stHeading"] h3').count() >= 1


POSTCODE_BOX = 'input[aria-label="Postcode, town or GP surgery"]'


# Streamlit dims what a rerun is replacing ("stale" elements fade) and shows a running status:
# axe would measure the faded colours, so it runs once the page has finished drawing and the fade
# back to full colour (a CSS transition) has ended.
PAGE_IDLE = """() => !document.querySelector('[data-stale="true"]')
    && !document.querySelector('[data-testid="stStatusWidget"] button')
    && document.getAnimations().every(a => !(a instanceof CSSTransition) || a.playState !== 'running')"""


def open_search(page, url: str):
    """Load the search page and wait until its first run has finished: an Enter pressed while
    Streamlit is still running the page's first run can be lost (the search never starts)."""
    page.goto(url)
    box = page.locator(POSTCODE_BOX)
    box.wait_for()
    page.wait_for_function(PAGE_IDLE)
    return box


@SAMPLE
def test_search_by_keyboard_shows_results_and_the_self_referral_link(page, app_url):
    page.goto(app_url)
    page.locator(POSTCODE_BOX).wait_for()
    assert page.get_by_text("not a crisis service").count() >= 1
    assert page.locator('a[href="tel:116123"]').count() >= 1  # the urgent-help numbers are dialable

    # Keyboard only: Tab reaches the postcode box, typing and Enter submit the search.
    tab_to(page, POSTCODE_BOX)
    page.keyboard.type("CV1 1AH")
    page.keyboard.press("Enter")
    wait_for_results(page)

    refer = page.get_by_role("link", name="Refer yourself online").first
    assert refer.get_attribute("href") == "https://example.org/refer-cov"
    assert refer.get_attribute("target") == "_blank"
    assert page.locator('a[href^="javascript:"], a[href^="data:"]').count() == 0
    assert page.locator('a[href*="evil.example"]').count() == 0  # bare addresses in data stay text
    assert page.locator("b", has_text="bold").count() == 0  # markup in data is shown as text
    assert "q=CV1+1AH" in page.url or "q=CV1%201AH" in page.url  # shareable

    # The Search button is reachable by keyboard too.
    page.locator(POSTCODE_BOX).focus()
    button = 'button[data-testid="stBaseButton-primaryFormSubmit"]'
    tab_to(page, button)


@SAMPLE
def test_a_shared_link_restores_the_search(page, app_url):
    page.goto(f"{app_url}/?q=CV1+1AH&r=50&kind=private")
    wait_for_results(page)
    assert page.get_by_text("Test nhs N-COV").count() == 0
    assert page.get_by_text("Test private P-INPERSON").count() == 1


@SAMPLE
def test_coming_back_from_another_page_keeps_the_search(page, app_url):
    page.goto(f"{app_url}/?q=CV1+1AH&ipt=1")
    wait_for_results(page)
    page.get_by_role("link", name="About IPT").first.click()
    page.get_by_role("heading", name="About Interpersonal Therapy (IPT)").wait_for()
    page.get_by_role("link", name="Find help").first.click()
    wait_for_results(page)
    assert page.locator(POSTCODE_BOX).input_value() == "CV1 1AH"
    page.get_by_text("More options", exact=True).click()
    assert page.get_by_role("checkbox", name="Delivers IPT").is_checked()
    assert "q=CV1" in page.url


@SAMPLE
def test_invalid_postcode_shows_an_inline_message(page, app_url):
    box = open_search(page, app_url)
    box.fill("CV1 1A1")
    box.press("Enter")
    page.get_by_text("doesn't look like a UK postcode").wait_for()
    assert page.get_by_text("Traceback").count() == 0


@SAMPLE
def test_check_page(page, app_url):
    page.goto(f"{app_url}/check")
    box = page.locator('input[aria-label="Therapist\'s name"]')
    box.wait_for()
    box.fill("Jane Example")
    box.press("Enter")
    page.get_by_text("Check by hand").first.wait_for()
    assert page.get_by_text("not a crisis service").count() >= 1


@SAMPLE
def test_every_search_in_a_session_moves_focus_to_its_answer_without_page_errors(page, app_url):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    box = open_search(page, app_url)
    for query in ("CV1 1AH", "B1 2AY", "LS1 4AP"):
        box.fill(query)
        box.press("Enter")
        page.get_by_role("heading", name=f"Results for {query}").wait_for()
        wait_for_results(page)
        page.wait_for_function("document.activeElement && document.activeElement.id === 'answer'")
        assert page.evaluate("document.activeElement.innerText").startswith(f"Results for {query}")
        box.focus()  # the next search starts from the box, as a person's would
    assert errors == []


SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_function(PAGE_IDLE)
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def _in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and 0 <= box["y"] and box["y"] + min(box["height"], 40) <= size["height"]


# The same rule as _in_viewport, in the page: the first result's top (40 px of it) is on screen.
FIRST_RESULT_IN_VIEW = """() => {
    const first = document.querySelector('[data-testid="stHeading"] h3');
    if (!first) return false;
    const box = first.getBoundingClientRect();
    return box.top >= 0 && box.top + Math.min(box.height, 40) <= window.innerHeight;
}"""


def wait_for_answer_in_view(page) -> None:
    """After a search the app moves focus and the view to the answer; wait until that has happened
    and the view has stopped on the first result (at most a few seconds)."""
    page.wait_for_function("document.activeElement && document.activeElement.id === 'answer'")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(FIRST_RESULT_IN_VIEW, timeout=5_000)
    except PlaywrightTimeout:
        pass  # the caller's assertion says what is wrong


@SAMPLE
@pytest.mark.parametrize("size", list(SIZES))
def test_after_search_the_first_result_is_in_view_and_every_page_passes_axe(app_url, browser, size):
    with new_page(browser, SIZES[size]) as page:
        page.goto(app_url)
        box = page.locator(POSTCODE_BOX)
        box.wait_for()
        assert _in_viewport(page, box)  # the box is on the first screen, with the Search button
        assert _in_viewport(page, page.get_by_role("button", name="Search"))
        assert serious_violations(page) == []
        box.fill("CV1 1AH")
        box.press("Enter")
        wait_for_results(page)
        first = page.locator('[data-testid="stHeading"] h3').first
        wait_for_answer_in_view(page)
        assert _in_viewport(page, first)
        assert serious_violations(page) == []
        for path, ready in (
            ("check", "Therapist's name"),
            ("about-ipt", "What it is"),
            ("about-data", "Sources"),
        ):
            page.goto(f"{app_url}/{path}")
            page.get_by_text(ready).first.wait_for()
            assert serious_violations(page) == [], path


def real_service_with_referral_link() -> dict | None:
    """An NHS service in the committed data/ with an online self-referral link."""
    from finder.search import dataset

    candidates = [
        record
        for record in dataset().records
        if record.get("kind") == "nhs" and record.get("self_referral_url") and record.get("postcode")
    ]
    # Prefer a service that offers IPT, so the screenshot shows what the finder is for.
    candidates.sort(key=lambda record: (record.get("offers_ipt") is not True, record["id"]))
    return candidates[0] if candidates else None


@pytest.fixture(scope="module")
def real_app_url():
    """The app on the committed data/ (read only), for screenshots of what visitors see."""
    with streamlit_server({"FINDER_OFFLINE_CHECKS": "1"}) as url:
        yield url


@COMMITTED
def test_screenshots_of_the_committed_data(real_app_url, browser, monkeypatch, screenshot_dir):
    """The README's pictures of what visitors see, on the committed data. Without
    --update-screenshots nothing is captured, but every step still runs and is checked."""
    monkeypatch.delenv("FINDER_DATA_DIR", raising=False)

    def shot(page, name: str, settle_ms: int) -> None:
        # The pause lets the view finish moving and fading in: it matters for a picture only.
        if screenshot_dir is not None:
            page.wait_for_timeout(settle_ms)
            page.screenshot(path=str(_shot(screenshot_dir, f"{name}.png")))

    for size, viewport in SIZES.items():
        with new_page(browser, viewport) as page:
            box = open_search(page, real_app_url)
            shot(page, f"search-{size}", 500)
            box.fill("LS6 3QG")
            box.press("Enter")
            wait_for_results(page)
            shot(page, f"results-{size}", 800)  # the view has moved to the answer
            # Brighton and Hove: no general service is known to cover it, so the NHS finder is
            # the next step.
            box.fill("BN1 1AA")
            box.press("Enter")
            page.get_by_role("link", name="Find your service on the NHS website").wait_for()
            wait_for_results(page)
            shot(page, f"no-service-{size}", 800)
            # A GP surgery typed in the box: choose it, and see the services for its patients.
            box.fill("Densham Surgery")
            box.press("Enter")
            page.get_by_role("button", name="The Densham Surgery, Stockton-on-Tees").click()
            page.get_by_text("Services for people registered at The Densham Surgery").first.wait_for()
            wait_for_results(page)
            assert "gp=A81001" in page.url
            shot(page, f"gp-{size}", 800)
            page.goto(f"{real_app_url}/check")
            name = page.locator('input[aria-label="Therapist\'s name"]')
            name.wait_for()
            page.wait_for_function(PAGE_IDLE)  # the form is live (Enter pressed earlier can be lost)
            name.fill("Jane Example")
            page.locator('input[aria-label="Registration number (optional)"]').fill("PYL012345")
            name.press("Enter")
            page.get_by_text("Check by hand").first.wait_for()
            shot(page, f"check-{size}", 500)
            if screenshot_dir is not None:  # the axe test checks this page draws, at both sizes
                page.goto(f"{real_app_url}/about-ipt")
                page.get_by_text("What it is").first.wait_for()
                shot(page, f"about-{size}", 1500)


def _shot(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name


def _your_service_names(page) -> list[str]:
    """The card headings under "Your NHS Talking Therapies service" (the first, open group)."""
    return page.evaluate(
        """() => {
        const heads = [...document.querySelectorAll('[data-testid="stHeading"] h3, [data-testid="stHeading"] h2')];
        const start = heads.findIndex(h => h.innerText.startsWith("Your NHS Talking Therapies service"));
        if (start < 0) return [];
        const names = [];
        for (const h of heads.slice(start + 1)) { if (h.tagName === "H2") break; names.push(h.innerText); }
        return names;
    }"""
    )


@COMMITTED
@pytest.mark.parametrize("size", list(SIZES))
def test_coverage_order_on_the_committed_data(real_app_url, browser, size):
    """On the real data the service that takes the person comes first and in view: Leeds for LS6,
    several Derbyshire providers for Derby, and in Harrogate none of the neighbouring ones."""
    with new_page(browser, SIZES[size]) as page:
        for postcode in ("LS6 3QG", "DE1 1AA", "HG1 1AA"):
            box = open_search(page, real_app_url)
            box.fill(postcode)
            box.press("Enter")
            wait_for_results(page)
            wait_for_answer_in_view(page)
            yours = _your_service_names(page)
            if postcode == "LS6 3QG":
                first = page.locator('[data-testid="stHeading"] h3').first
                assert "Leeds" in first.inner_text() and _in_viewport(page, first)
                assert yours and "Leeds" in yours[0]
            elif postcode == "DE1 1AA":
                # Derby and Derbyshire: several providers cover the city and people may choose; they
                # come before anything else on the page.
                first = page.locator('[data-testid="stHeading"] h3').first.inner_text()
                assert len(yours) >= 2 and yours[0] == first
            else:
                assert yours and not [n for n in yours if "Nottingham" in n or "Darlington" in n]
