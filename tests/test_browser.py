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
from contextlib import contextmanager
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

from conftest import NEWS  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from searchlib import Engine  # noqa: E402
from searchlib.cli import sample_corpus  # noqa: E402
from searchlib.http import create_app  # noqa: E402

QUERY = "facial OR cameras OR heatwave"
PHONE = {"width": 390, "height": 844}
# The sample corpus's providers, by count then name: 20, more than the page first shows.
SAMPLE_PROVIDERS = [
    "Kestrel Science", "Foghorn Review", "Atlas Policy Desk", "Ledgerline Markets",
    "Copper Valley News", "Meridian Wire", "Vital Signs Journal", "Greenline Report",
    "Northgate Times", "Quill & Byte", "Bellwether Finance", "Circuit Review", "Datum Weekly",
    "Harbor Ledger", "Lakeside Courier", "Pinecrest Daily", "Stadium Post", "Orbital Notes",
    "The Civic Lantern", "Tidewater Gazette",
]


@pytest.fixture(scope="module")
def server(shared_engine: Engine) -> Iterator[str]:
    """uvicorn serving the fixture corpus on a free loopback port; yields its base URL."""
    with serving(shared_engine) as url:
        yield url


@pytest.fixture(scope="module")
def sample_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """uvicorn serving the bundled sample corpus (20 providers); yields its base URL."""
    with Engine(tmp_path_factory.mktemp("sample") / "index") as engine:
        engine.index([sample_corpus()])
        with serving(engine) as url:
            yield url


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """uvicorn serving ``engine`` on a free loopback port, in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(engine), log_level="warning", lifespan="off")
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
def viewport() -> dict[str, int]:
    """The page's window size (a test overrides it with ``@pytest.mark.parametrize``)."""
    return {"width": 1100, "height": 900}


@pytest.fixture
def page(browser: Any, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, locale="en-US")
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


def facet_values(page: Page, name: str) -> list[str]:
    return page.locator(f"#facet-{name} .facet-values .value").all_inner_texts()


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


def test_empty_filters_message_and_its_button(page: Page, server: str) -> None:
    # Filter values in another case still select their facet values.
    page.goto(f"{server}/?q=lander&provider=space+today")
    expect(page.locator("#summary")).to_contain_text("2 results")
    assert facet(page, "provider", "Space Today").is_checked()
    expect(page.locator("#messages .message")).to_have_count(0)
    # Unticking the value as written removes the value as typed in the URL.
    facet(page, "provider", "Space Today").uncheck()
    expect(page.locator("#summary")).to_contain_text("2 results")
    assert "provider=" not in page.url

    # One filter emptied the search: say which, and offer to remove it.
    page.goto(f"{server}/?q=lander&provider=Jurist")
    expect(page.locator("#summary")).to_have_text("No results for “lander”.")
    message = page.locator("#messages .empty-filters")
    expect(message).to_have_text(
        "No results with provider “Jurist”; without that filter: 2 results. Remove that filter"
    )
    message.get_by_role("button", name="Remove that filter").click()
    expect(page.locator("#summary")).to_contain_text("2 results")
    assert "provider=" not in page.url and "q=lander" in page.url
    expect(page.locator("#messages .message")).to_have_count(0)

    # Several filters together, a date among them: all are named, one button removes them.
    page.goto(f"{server}/?q=lander&topic=AI&provider=Jurist&since=2027-01-01")
    expect(page.locator("#messages .empty-filters")).to_have_text(
        "No results with topic “AI”, provider “Jurist” and dates from 2027-01-01; without "
        "these filters: 2 results. Remove these filters"
    )
    page.get_by_role("button", name="Remove these filters").click()
    expect(page.locator("#summary")).to_contain_text("2 results")
    assert page.url == f"{server}/?q=lander"
    page.go_back()
    expect(page.locator("#messages .empty-filters")).to_contain_text("these filters: 2 results.")


def test_relaxed_sentence_and_added_words(page: Page, server: str) -> None:
    page.goto(f"{server}/?q=heatwave+zebra")
    expect(page.locator("#summary")).to_contain_text("3 results")
    expect(page.locator("#messages .relaxed")).to_have_text(
        "No results with every word; showing results with any. Missing: zebra"
    )
    expect(page.locator("#messages .feedback")).to_have_count(0)

    # A long query is not "relaxed"; its added words are listed as the CLI lists them.
    page.fill("#q", "police cameras face matching metro network")
    page.press("#q", "Enter")
    expect(page.locator("#summary")).to_contain_text("5 results")
    expect(page.locator("#messages .relaxed")).to_have_count(0)
    expect(page.locator("#messages .feedback")).to_have_text(
        "Also searched for: add, city, expand, flaw, script, court, shops, consent, limits, ruled"
    )


def test_screenshot(page: Page, server: str) -> None:
    page.goto(f"{server}/?q=facial+OR+heatwave&topic=AI&topic=Climate")
    expect(page.locator("#summary")).to_contain_text("results")
    page.wait_for_function("document.fonts.status === 'loaded'")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000


def test_show_more_and_fewer(page: Page, sample_server: str) -> None:
    page.goto(f"{sample_server}/")
    expect(page.locator("#summary")).to_contain_text("93 results")
    more = page.locator("#facet-provider .facet-more")
    expect(more).to_have_text("Show more")
    expect(more).to_have_attribute("aria-expanded", "false")
    assert facet_values(page, "provider") == SAMPLE_PROVIDERS[:10]
    expect(page.locator("#facet-topic .facet-more")).to_be_hidden()  # 10 topics: all shown

    # With the keyboard: the button loads every value, sorted by count, then name.
    more.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#facet-provider .facet-values li")).to_have_count(20)
    assert facet_values(page, "provider") == SAMPLE_PROVIDERS
    assert facet_count(page, "provider", "Tidewater Gazette") == 2
    expect(more).to_have_text("Show fewer")
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(more).to_be_focused()

    # Ticking a value keeps the list open, re-counted for the new search, and the focus.
    facet(page, "provider", "Orbital Notes").focus()
    page.keyboard.press("Space")
    expect(page.locator("#summary")).to_contain_text("2 results")
    assert "provider=Orbital+Notes" in page.url
    expect(page.locator("#facet-provider .facet-values li")).to_have_count(20)
    expect(facet(page, "provider", "Orbital Notes")).to_be_checked()
    expect(facet(page, "provider", "Orbital Notes")).to_be_focused()
    # Topic counts follow the provider; the provider facet keeps every provider's count.
    assert facet_count(page, "provider", "Kestrel Science") == 10

    # Ticking a topic re-counts the open provider list (disjunctive: its own filter is off).
    facet(page, "topic", "Space").check()
    expect(page.locator("#summary")).to_contain_text("2 results")
    expect(page.locator("#facet-provider .facet-values li")).not_to_have_count(20)
    assert facet_values(page, "provider") == page.evaluate(
        """async () => (await (await fetch("facets/provider?topic=Space&provider=Orbital+Notes"))
            .json()).values.map((v) => v.value)"""
    )
    expect(more).to_be_hidden()  # these few are all there are

    # Without the topic, every provider again, until "Show fewer".
    facet(page, "topic", "Space").uncheck()
    expect(page.locator("#facet-provider .facet-values li")).to_have_count(20)
    more.click()
    expect(more).to_have_text("Show more")
    # The top ten, and the selected provider, which is always listed.
    assert facet_values(page, "provider") == [*SAMPLE_PROVIDERS[:10], "Orbital Notes"]


def test_provider_filter_box(page: Page, sample_server: str) -> None:
    page.goto(f"{sample_server}/")
    box = page.locator("#filter-provider")
    expect(box).to_be_visible()
    expect(page.get_by_label("Filter providers")).to_have_count(1)

    # Typing searches every provider, not only the ten shown: case and accents do not matter.
    box.fill("LEDGER")
    expect(page.locator("#facet-provider .facet-values li")).to_have_count(2)
    assert facet_values(page, "provider") == ["Ledgerline Markets", "Harbor Ledger"]
    expect(page.locator("#facet-provider .facet-more")).to_be_hidden()
    box.fill("gazétte")
    expect(page.locator("#facet-provider .facet-values li")).to_have_count(1)
    assert facet_values(page, "provider") == ["Tidewater Gazette"]
    box.fill("nothing like it")
    expect(page.locator("#facet-provider .facet-values li")).to_have_count(0)
    expect(page.locator("#facet-provider .facet-empty")).to_have_text(
        "No provider matches “nothing like it”."
    )

    # Arrow down from the box to the values; Space ticks one; the filter stays.
    box.fill("ledger")
    expect(page.locator("#facet-provider .facet-values li")).to_have_count(2)
    box.press("ArrowDown")
    expect(facet(page, "provider", "Ledgerline Markets")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#summary")).to_contain_text("8 results")
    expect(box).to_have_value("ledger")
    assert facet_values(page, "provider") == ["Ledgerline Markets", "Harbor Ledger"]
    expect(facet(page, "provider", "Ledgerline Markets")).to_be_checked()

    # Escape empties the box: the top ten again.
    box.press("Escape")
    expect(page.locator("#facet-provider .facet-values li")).to_have_count(10)
    expect(box).to_have_value("")
    expect(page.locator("#facet-provider .facet-empty")).to_be_hidden()


def test_kind_facet(page: Page, server: str) -> None:
    page.goto(f"{server}/")
    expect(page.locator("#summary")).to_contain_text("12 results")
    assert facet_values(page, "kind") == ["Articles", "Related coverage"]
    assert facet_count(page, "kind", "article") == 9
    assert facet_count(page, "kind", "related") == 3

    facet(page, "kind", "related").check()
    expect(page.locator("#summary")).to_contain_text("3 results")
    assert page.url.endswith("/?kind=related")
    expect(facet(page, "kind", "related")).to_be_checked()
    expect(facet(page, "kind", "article")).not_to_be_checked()
    assert facet_count(page, "kind", "article") == 9  # disjunctive: still counted
    assert page.locator("#hits .kind").all_inner_texts() == ["related"] * 3

    # Both kinds are no filter at all (click: the box is unticked again once the page loads).
    facet(page, "kind", "article").click()
    expect(page.locator("#summary")).to_contain_text("12 results")
    assert "kind=" not in page.url
    expect(facet(page, "kind", "article")).not_to_be_checked()
    expect(facet(page, "kind", "related")).not_to_be_checked()

    facet(page, "kind", "article").check()
    expect(page.locator("#summary")).to_contain_text("9 results")
    facet(page, "kind", "article").uncheck()
    expect(page.locator("#summary")).to_contain_text("12 results")


def test_busy_while_a_search_runs(page: Page, server: str) -> None:
    page.goto(f"{server}/?q=lander")
    expect(page.locator("#summary")).to_contain_text("2 results")
    expect(page.locator("#main")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#busy")).to_be_hidden()
    before = page.locator("#hits").bounding_box()

    held: list[Any] = []
    # Requests to /search are held, and answered only when released below.
    page.route(re.compile(r"/search\?"), lambda route: held.append(route))
    page.fill("#q", "heatwave")
    page.press("#q", "Enter")
    expect(page.locator("#main")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#busy")).to_be_visible()
    assert page.locator("#hits").bounding_box() == before  # nothing moves
    assert len(held) == 1

    held[0].continue_()
    expect(page.locator("#summary")).to_contain_text("3 results")
    expect(page.locator("#main")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#busy")).to_be_hidden()


@pytest.mark.parametrize("viewport", [PHONE])
def test_phone_layout(page: Page, server: str) -> None:
    page.goto(f"{server}/?q={QUERY}&topic=AI")
    expect(page.locator("#summary")).to_contain_text("3 results")

    # Results first: the first hit is on screen without scrolling; the facets wait.
    first = page.locator("#hits .hit").first
    expect(first).to_be_in_viewport(ratio=1)
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    expect(page.locator("#facet-topic")).to_be_hidden()
    toggle = page.locator("#filters-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_text("Filters 1")  # one active filter
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The toggle opens the facets; a value ticked there filters; "Show 2 results" closes.
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#facet-topic")).to_be_visible()
    expect(page.locator("#facet-kind")).to_be_visible()
    facet(page, "provider", "Jurist").check()
    expect(page.locator("#summary")).to_contain_text("1 result ")
    expect(toggle).to_have_text("Filters 2")
    done = page.locator("#filters-done")
    expect(done).to_have_text("Show 1 result")
    done.click()
    expect(page.locator("#facet-topic")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()

    # Escape closes it too; a second click on the toggle as well.
    toggle.press("Enter")
    expect(page.locator("#facet-topic")).to_be_visible()
    facet(page, "topic", "AI").focus()
    page.keyboard.press("Escape")
    expect(page.locator("#facet-topic")).to_be_hidden()
    expect(toggle).to_be_focused()
    toggle.click()
    toggle.click()
    expect(page.locator("#facet-topic")).to_be_hidden()

    # At desktop width the facets show beside the results, with no toggle.
    page.set_viewport_size({"width": 1100, "height": 900})
    expect(toggle).to_be_hidden()
    expect(page.locator("#facet-topic")).to_be_visible()
    hits = page.locator("#hits").bounding_box()
    facets = page.locator("#filters").bounding_box()
    assert hits is not None and facets is not None and facets["x"] < hits["x"]


def test_timeline_bar_sets_the_date_filter(page: Page, server: str) -> None:
    page.goto(f"{server}/")
    expect(page.locator("#summary")).to_contain_text("12 results")
    bars = page.locator("#timeline .bar")
    expect(bars).to_have_count(10)  # weeks from 2026-08-24 to 2026-10-26
    assert page.get_attribute("#timeline", "aria-label") == "Matches by week"
    bar = page.locator('#timeline .bar[data-since="2026-09-28"]')
    assert bar.get_attribute("aria-label") == "2026-09-28 to 2026-10-04: 3 results"
    bar.click()
    expect(page.locator("#summary")).to_contain_text("3 results")
    assert "since=2026-09-28&until=2026-10-04" in page.url
    assert page.input_value("#since") == "2026-09-28"
    assert page.input_value("#until") == "2026-10-04"
    # The timeline ignores its own filter: every week is still there, this one pressed.
    expect(bars).to_have_count(10)
    expect(bar).to_have_attribute("aria-pressed", "true")
    expect(page.locator('#timeline .bar[aria-pressed="true"]')).to_have_count(1)
    # An empty week cannot be chosen.
    assert page.locator('#timeline .bar[data-since="2026-09-21"]').is_disabled()
    page.click("#clear-dates")
    expect(page.locator("#summary")).to_contain_text("12 results")
    expect(page.locator('#timeline .bar[aria-pressed="true"]')).to_have_count(0)


def test_one_result_per_story(page: Page, server: str) -> None:
    page.goto(f"{server}/?q=heatwave")
    expect(page.locator("#summary")).to_contain_text("3 results · showing 1–3")
    page.check("#collapse")
    expect(page.locator("#summary")).to_contain_text("3 results in 2 stories · showing 1–2")
    assert "collapse=story" in page.url
    assert hit_titles(page) == [
        "Heatwave breaks records across Europe", "Heatwave strains the power grid",
    ]
    coverage = page.locator("#hits .hit-coverage")
    expect(coverage).to_have_count(1)
    expect(coverage).to_have_text(
        "Story: 2 results from 2 providers · also Energy Wire: "
        "Solar power output hits new high during heatwave"
    )
    assert coverage.locator("a").get_attribute("href") == "https://energywire.example/solar-record"
    page.uncheck("#collapse")
    expect(page.locator("#summary")).to_contain_text("3 results · showing 1–3")
    expect(coverage).to_have_count(0)


def test_favour_recent(page: Page, server: str) -> None:
    page.goto(f"{server}/?q=cameras")
    expect(page.locator("#summary")).to_contain_text("3 results")
    assert hit_titles(page)[:2] == [
        "Police expand facial recognition cameras",
        "<script>alert(1)</script> Security flaw in camera firmware",
    ]
    page.select_option("#freshness", "7d")
    expect(page.locator("#hits .hit-title").first).to_have_text(
        "<script>alert(1)</script> Security flaw in camera firmware"
    )
    assert "freshness=7d&freshness_from=newest" in page.url
    # Sorting by date is a separate choice: it turns freshness off.
    page.select_option("#sort", "oldest")
    expect(page.locator("#freshness")).to_be_disabled()
    assert "freshness" not in page.url


def test_typeahead_keyboard_and_click(page: Page, server: str) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.split("/suggest?", 1)[1])
            if "/suggest?" in r.url else None)
    page.goto(f"{server}/")
    expect(page.locator("#summary")).to_contain_text("results")
    box = page.locator("#q")
    options = page.locator("#typeahead [role=option]")

    # Keys 30 ms apart: one request, once typing pauses.
    box.press_sequentially("hea", delay=30)
    expect(options).to_have_text(["heatwave", "heatwave breaks", "heatwave strains"])
    assert asked == ["q=hea&limit=8"]
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "typeahead-1")
    box.press("Escape")
    expect(page.locator("#typeahead")).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("hea")

    # Enter on a highlighted completion searches it.
    box.press_sequentially("t", delay=30)
    expect(options).to_have_text(["heatwave", "heatwave breaks", "heatwave strains"])
    box.press("ArrowUp")  # from the box, up wraps round to the last completion
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/\?q=heatwave\+strains$"))
    expect(box).to_have_value("heatwave strains")
    expect(page.locator("#typeahead")).to_be_hidden()

    # A click on a completion searches it.
    box.fill("")
    box.press_sequentially("fac", delay=30)
    page.locator("#typeahead [role=option]", has_text="facial recognition").click()
    expect(page).to_have_url(re.compile(r"/\?q=facial\+recognition$"))
    expect(box).to_have_value("facial recognition")
    expect(page.locator("#typeahead")).to_be_hidden()
    expect(page.locator("#summary")).to_contain_text("3 results")
    assert hit_titles(page) == [
        "Court limits facial recognition in shops", "Police expand facial recognition cameras",
        "China sets limits on facial recognition",
    ]
    assert asked == ["q=hea&limit=8", "q=heat&limit=8", "q=fac&limit=8"]


def test_synonyms_are_named_and_marked(page: Page) -> None:
    with Engine.in_memory() as engine:
        engine.index([NEWS])
        engine.add_synonyms(["rover", "lander"])
        with serving(engine) as url:
            page.goto(f"{url}/?q=rover")
            expect(page.locator("#summary")).to_contain_text("2 results")
            expect(page.locator("#messages .synonyms")).to_have_text(
                "Synonyms: rover = rover, lander"
            )
            expect(page.locator("#hits .hit-title mark").first).to_have_text("lander")
