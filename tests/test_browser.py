"""The search page end to end, in real headless Chromium driven by Playwright.

Needs Debian's ``chromium`` at /usr/bin/chromium and the ``playwright`` package (not its
downloaded browsers); skips with the reason when either is missing. The server is uvicorn on a
free loopback port, in a thread, over the fixture corpus. Saves ``docs/search-page.png``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "search-page.png"

if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
playwright = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)
uvicorn = pytest.importorskip("uvicorn", reason="the HTTP API needs the server extra")

from playwright.sync_api import Page, expect  # noqa: E402

from searchlib import Engine  # noqa: E402
from searchlib.http import create_app  # noqa: E402

QUERY = "facial OR cameras OR heatwave"


@pytest.fixture(scope="module")
def server(shared_engine: Engine) -> Iterator[str]:
    """uvicorn serving the fixture corpus on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(shared_engine), log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    expected = "the server responded with a status of 422"  # the error step (a bad date)
    tab.on("console", lambda m: problems.append(m.text)
           if m.type == "error" and expected not in m.text else None)
    tab.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    yield tab
    context.close()
    assert problems == []


def summary_total(page: Page) -> int:
    text = page.locator("#summary").inner_text()
    match = re.match(r"(\d+) results?", text)
    assert match, text
    return int(match.group(1))


def hit_titles(page: Page) -> list[str]:
    return page.locator("#hits .hit-title").all_inner_texts()


def facet(page: Page, name: str, value: str) -> Any:
    return page.locator(f'#facet-{name} input[type="checkbox"][value="{value}"]')


def facet_count(page: Page, name: str, value: str) -> int:
    count = page.locator(f'#facet-{name} label:has(input[value="{value}"]) .count')
    return int(count.inner_text())


def test_search_filter_page_and_go_back(page: Page, server: str) -> None:
    page.goto(f"{server}/?limit=1")
    expect(page.locator("#summary")).to_contain_text("12 results · showing 1–1")

    # Type a query.
    page.fill("#q", QUERY)
    page.press("#q", "Enter")
    expect(page.locator("#summary")).to_contain_text("7 results · showing 1–1")
    assert page.url == f"{server}/?q=facial+OR+cameras+OR+heatwave&limit=1"
    assert page.title() == f"{QUERY} - Search"
    assert page.locator("#hits .hit-title mark").count() >= 1
    assert facet_count(page, "topic", "AI") == 3
    assert facet_count(page, "topic", "Climate") == 3
    assert facet_count(page, "provider", "Metro Daily") == 2

    # Tick a provider: the total, the hits and the other facet's counts change; the
    # provider facet is disjunctive, so the other providers stay listed with their counts.
    facet(page, "provider", "Metro Daily").check()
    expect(page.locator("#summary")).to_contain_text("2 results · showing 1–1")
    assert "provider=Metro+Daily" in page.url
    assert facet(page, "provider", "Metro Daily").is_checked()
    assert facet_count(page, "provider", "Jurist") == 1
    assert facet_count(page, "topic", "AI") == 1
    assert facet_count(page, "topic", "Security") == 2
    expect(facet(page, "topic", "Climate")).to_have_count(0)
    assert page.locator("#hits .provider").all_inner_texts() == ["Metro Daily"]
    first = hit_titles(page)
    expect(page.locator("#page-info")).to_have_text("Page 1 of 2")
    expect(page.locator("#prev")).to_be_disabled()

    # Next page.
    page.click("#next")
    expect(page.locator("#summary")).to_contain_text("2 results · showing 2–2")
    expect(page.locator("#page-info")).to_have_text("Page 2 of 2")
    expect(page.locator("#next")).to_be_disabled()
    second = hit_titles(page)
    assert second != first
    assert "offset=1" in page.url
    # The fixture title "<script>alert(1)</script> ..." is shown as text, never run.
    assert any(title.startswith("<script>alert(1)</script>") for title in first + second)

    # The back button restores each earlier state.
    page.go_back()
    expect(page.locator("#summary")).to_contain_text("2 results · showing 1–1")
    assert hit_titles(page) == first
    assert facet(page, "provider", "Metro Daily").is_checked()
    page.go_back()
    expect(page.locator("#summary")).to_contain_text("7 results · showing 1–1")
    assert not facet(page, "provider", "Metro Daily").is_checked()
    assert page.input_value("#q") == QUERY
    page.go_back()
    expect(page.locator("#summary")).to_contain_text("12 results")
    assert page.input_value("#q") == ""
    page.go_forward()
    expect(page.locator("#summary")).to_contain_text("7 results")
    assert page.input_value("#q") == QUERY


def test_shared_url_dates_sort_and_suggestion(page: Page, server: str) -> None:
    # A shared URL opens in that state.
    page.goto(f"{server}/?q=heatwave&sort=newest&provider=Energy+Wire&provider=Weather+Desk")
    expect(page.locator("#summary")).to_contain_text("2 results")
    assert page.input_value("#sort") == "newest"
    assert facet(page, "provider", "Energy Wire").is_checked()
    assert facet(page, "provider", "Weather Desk").is_checked()
    assert hit_titles(page) == [
        "Solar power output hits new high during heatwave",
        "Heatwave breaks records across Europe",
    ]
    assert page.locator("#hits time").first.inner_text() == "Oct 1, 2026"

    # A date range and the sort order.
    page.fill("#since", "2026-10-01")
    expect(page.locator("#summary")).to_contain_text("1 result ")
    assert "since=2026-10-01" in page.url
    page.click("#clear-dates")
    expect(page.locator("#summary")).to_contain_text("2 results")
    page.select_option("#sort", "oldest")
    expect(page.locator("#hits .hit-title").first).to_have_text(
        "Heatwave breaks records across Europe"
    )

    # "Did you mean" when a word is unknown.
    page.goto(f"{server}/?q=landr")
    expect(page.locator("#suggestion")).to_be_visible()
    page.click("#suggestion-link")
    expect(page.locator("#summary")).to_contain_text("2 results")
    assert page.input_value("#q") == "lander"
    expect(page.locator("#suggestion")).to_be_hidden()

    # A query with a syntax error is searched as plain words, and a line says so.
    page.fill("#q", '"mars lander')
    page.press("#q", "Enter")
    expect(page.locator("#notices")).to_have_text(
        "Unclosed quote at position 0: searched for the words after it, not as a phrase."
    )
    expect(page.locator("#summary")).to_contain_text("1 result")
    expect(page.locator("#hits .hit-title")).to_have_text(["Mars lander touches down safely"])
    page.fill("#q", "lander")
    page.press("#q", "Enter")
    expect(page.locator("#summary")).to_contain_text("2 results")
    expect(page.locator("#notices")).to_be_hidden()

    # An error is shown, not thrown.
    page.goto(f"{server}/?q=lander&since=yesterday")
    expect(page.locator("#error")).to_contain_text("since must be a date like")
    expect(page.locator("#notices")).to_be_hidden()


def test_screenshot(page: Page, server: str) -> None:
    page.goto(f"{server}/?q=facial+OR+heatwave&topic=AI&topic=Climate")
    expect(page.locator("#summary")).to_contain_text("results")
    page.wait_for_function("document.fonts.status === 'loaded'")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
