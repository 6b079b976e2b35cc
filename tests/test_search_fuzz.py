"""Property tests: any query string, filter value, date or number gives results or our error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import RELEVANCE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchlib import Engine, QueryError, SearchResults, UsageError
from searchlib.query import parse, parse_lenient

SYNTAX = st.sampled_from(['"', "(", ")", "-", "*", "~", ":", " OR ", " AND ", " NOT ", "~2"])
WORDS = st.sampled_from(
    ["facial", "heatwave", "title:", "provider:", "topic:", "kind:", "人脸识别", "zürich", "a"]
)
QUERY_TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(SYNTAX, WORDS, st.text(max_size=5)), max_size=40).map("".join),
)
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def search_or_error(engine: Engine, text: str, **kwargs: Any) -> SearchResults | None:
    try:
        results = engine.search(text, **kwargs)
    except UsageError as exc:  # QueryError is a UsageError
        assert str(exc) and "\n" not in str(exc)
        return None
    assert results.total >= len(results.hits)
    return results


@FUZZ
@given(text=QUERY_TEXT)
def test_any_query_string(shared_engine: Engine, text: str) -> None:
    results = search_or_error(shared_engine, text)
    if results is not None:
        for hit in results.hits:
            for marked in hit.highlights.values():
                assert "<script" not in marked


@FUZZ
@given(
    topics=st.lists(st.one_of(st.text(max_size=10), st.sampled_from(["AI", "Climate"]))),
    providers=st.lists(st.text(max_size=10)),
    kind=st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["article", "related"])),
    since=st.one_of(st.none(), st.text(max_size=25), st.dates().map(str)),
    until=st.one_of(st.none(), st.text(max_size=25), st.dates().map(str)),
    sort=st.one_of(st.text(max_size=8), st.sampled_from(["relevance", "newest", "quality"])),
    limit=st.integers(-10, 2000),
    offset=st.integers(-10, 200_000),
)
def test_any_filters_and_numbers(shared_engine: Engine, **kwargs: Any) -> None:
    search_or_error(shared_engine, "facial", **kwargs)


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("(" * 5000, "query is too long: 5000 characters, the limit is 1000"),
        ("(" * 40 + "a" + ")" * 40,
         "parentheses are nested too deeply at position 32: the limit is 32 levels"),
        ('"' * 999, "unclosed quote at position 998"),
        ("OR " * 333, "OR at position 0 needs a term on both sides"),
        ("facial OR", "OR at position 7 needs a term on both sides"),
        ("a*", 'prefix "a*" is too short: use at least 2 characters before *'),
        ("-" * 999, 12),  # lone dashes are punctuation: the query matches everything
        ("\x00\x1f" * 50, 12),  # control characters are whitespace
    ],
)
def test_hostile_queries(shared_engine: Engine, text: str, outcome: str | int) -> None:
    if isinstance(outcome, int):
        assert shared_engine.search(text, strict=True).total == outcome
    else:
        with pytest.raises(QueryError) as info:
            shared_engine.search(text, strict=True)
        assert str(info.value) == outcome
    # Read leniently, each of them is searched.
    results = shared_engine.search(text)
    assert results.total >= len(results.hits)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(QUERY_TEXT, st.text(min_size=900, max_size=1500)))
def test_every_text_gives_results_by_default(shared_engine: Engine, text: str) -> None:
    results = shared_engine.search(text, feedback="off")  # never raises
    assert results.query == text
    assert results.total >= len(results.hits)
    assert all(n.code in ("syntax", "truncated") and n.message for n in results.notices)
    try:
        shared_engine.search(text, strict=True)
    except QueryError:
        assert results.notices  # what strict refuses is never read silently


def _smart_queries(path: Path) -> dict[str, str]:
    """The ``.W`` text of each ``.I`` record of a SMART-format query file, blanks joined."""
    queries: dict[str, list[str]] = {}
    current, section = "", ""
    for line in path.read_text(encoding="latin-1").splitlines():
        marker = re.match(r"^\.([A-Z])(?:\s+(.*))?$", line.rstrip())
        if marker:
            section = marker.group(1)
            if section == "I":
                current = str(int(marker.group(2)))
            elif section == "W":
                queries[current] = [marker.group(2) or ""]
        elif section == "W":
            queries[current].append(line)
    return {qid: " ".join(" ".join(lines).split()) for qid, lines in queries.items()}


@pytest.mark.skipif(
    not RELEVANCE.is_dir(),
    reason=f"needs the test collections at {RELEVANCE} (set SEARCHLIB_TEST_RELEVANCE)",
)
@pytest.mark.parametrize(
    ("name", "count", "refused"),
    [
        ("cacm/query.text", 64, {"33": "unclosed quote at position 451",
                                 "64": "unclosed '(' at position 33"}),
        ("cisi/CISI.QRY", 112, {qid: "query is too long" for qid in (
            "67", "70", "71", "85", "90", "91", "93", "102", "106", "109")}),
    ],
)
def test_every_query_of_the_test_collections_is_searched(
    shared_engine: Engine, name: str, count: int, refused: dict[str, str]
) -> None:
    queries = _smart_queries(RELEVANCE / name)
    assert len(queries) == count
    for qid, text in queries.items():
        if qid not in refused:
            assert parse_lenient(text) == (parse(text), ()), qid
            continue
        # The queries strict parsing refuses are searched, with a notice.
        results = shared_engine.search(text, limit=1, feedback="off")
        assert results.notices, qid
        with pytest.raises(QueryError, match=re.escape(refused[qid])):
            shared_engine.search(text, strict=True)
