"""The memory backend: its scores by hand, its order to the last tie, its lifecycle and errors."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any as AnyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib.backends import available, backend_class
from searchlib.backends.base import Execution
from searchlib.backends.memory import MemoryBackend, levenshtein
from searchlib.errors import UsageError
from searchlib.plan import All, Any, Boost, Everything, Exclude, Filters, Fuzzy, Plan, Prefix, Words
from searchlib.records import Record
from searchlib.schema import FACETS, SORTS, Sort

from .conftest import TEXT, utc


def record(doc_id: str, title: str, excerpt: str = "", **fields: AnyType) -> Record:
    """A minimal record: no body, related titles, provider or topics unless given."""
    values: dict[str, AnyType] = {
        "kind": "article", "url": "", "provider": "", "published": None, "quality": None,
    }
    values.update(fields)
    return Record(id=doc_id, title=title, excerpt=excerpt, **values)


def backend(*records: Record) -> MemoryBackend:
    """A memory index holding ``records``."""
    index = MemoryBackend.create(None, "english")
    index.write(records, [])
    return index


def scores(index: MemoryBackend, plan: Plan) -> dict[str, float]:
    """Id -> score of every match, by relevance."""
    execution = index.execute(plan, Filters(), {}, "relevance", 0, 100)
    out = {}
    for hit, score in execution.page:
        assert score is not None
        out[hit.id] = score
    return out


def ids(execution: Execution) -> list[str]:
    return [hit.id for hit, _ in execution.page]


# -- BM25F by hand ---------------------------------------------------------------------------

K1, B = 1.2, 0.75


def saturate(idf: float, tfn: float) -> float:
    """``idf * tfn * (k1 + 1) / (tfn + k1)``."""
    return idf * tfn * (K1 + 1) / (tfn + K1)


#: Title terms: A "solar panel" (2), B "wind" (1), C "hydro" (1): average 4/3.
#: Excerpt terms: A "solar" (1), B "solar power wind" (3, "and" is a stopword), C "hydro dam"
#: (2): average 2. Three documents.
SOLAR = (
    record("A", "Solar panels", "Solar"),
    record("B", "Wind", "Solar power and wind"),
    record("C", "Hydro", "Hydro dams"),
)
IDF_DF2 = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # a term in two of three documents
IDF_DF1 = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))  # a term in one


def test_bm25f_of_one_word_over_several_fields() -> None:
    # "solar": title df 1, excerpt df 2, so df = 2. A: in its title (weight 1.5, length 2,
    # norm 0.25 + 0.75 * 2 / (4/3) = 1.375) and its excerpt (length 1, norm 0.625).
    # B: in its excerpt (length 3, norm 1.375). Weighted frequencies add up, then saturate once.
    got = scores(backend(*SOLAR), Words(("solar",), TEXT))
    assert got == pytest.approx({
        "A": saturate(IDF_DF2, 1.5 / 1.375 + 1 / 0.625),
        "B": saturate(IDF_DF2, 1 / 1.375),
    }, rel=1e-12)


def test_bm25f_of_a_phrase_counts_its_occurrences() -> None:
    # "solar power" occurs once, in B's excerpt: its df is 1.
    got = scores(backend(*SOLAR), Words(("solar", "power"), TEXT))
    assert got == pytest.approx({"B": saturate(IDF_DF1, 1 / 1.375)}, rel=1e-12)
    twice = backend(
        record("A", "Grid", "Solar power, solar power"), record("B", "Grid", "Wind farms")
    )
    # Two occurrences in a 4-term excerpt of average length 3; df 1 of 2.
    idf = math.log(1 + (2 - 1 + 0.5) / 1.5)
    assert scores(twice, Words(("solar", "power"), TEXT)) == pytest.approx(
        {"A": saturate(idf, 2 / (0.25 + 0.75 * 4 / 3))}, rel=1e-12
    )


def test_bm25f_of_prefix_and_fuzzy_sums_the_expanded_terms() -> None:
    index = backend(*SOLAR)
    # "p": "panel" (A's title) and "power" (B's excerpt), each in one document.
    expected = {
        "A": saturate(IDF_DF1, 1.5 / 1.375),
        "B": saturate(IDF_DF1, 1 / 1.375),
    }
    assert scores(index, Prefix(("p",), TEXT)) == pytest.approx(expected, rel=1e-12)
    assert scores(index, Fuzzy("pawer", 1, TEXT)) == pytest.approx(
        {"B": expected["B"]}, rel=1e-12
    )
    # "hydro" is in both fields of C: one term, one saturation.
    hydro = saturate(IDF_DF1, 1.5 / (0.25 + 0.75 / (4 / 3)) + 1 / (0.25 + 0.75 * 2 / 2))
    assert scores(index, Fuzzy("hydra", 1, TEXT)) == pytest.approx({"C": hydro}, rel=1e-12)


def test_bm25f_of_compound_plans() -> None:
    index = backend(*SOLAR)
    solar = scores(index, Words(("solar",), TEXT))
    # "wind": B's title (length 1, norm 0.25 + 0.75 * 1 / (4/3) = 0.8125) and excerpt; df 1.
    wind_b = saturate(IDF_DF1, 1.5 / 0.8125 + 1 / 1.375)
    assert scores(index, Words(("wind",), TEXT)) == pytest.approx({"B": wind_b}, rel=1e-12)
    both = All((Words(("solar",), TEXT), Words(("wind",), TEXT)))
    assert scores(index, both) == pytest.approx({"B": solar["B"] + wind_b}, rel=1e-12)
    either = Any((Words(("solar",), TEXT), Words(("wind",), TEXT)))
    assert scores(index, either) == pytest.approx(
        {"A": solar["A"], "B": solar["B"] + wind_b}, rel=1e-12
    )
    boosted = Boost(Words(("solar",), TEXT), 2.5)
    assert scores(index, boosted) == pytest.approx(
        {k: 2.5 * v for k, v in solar.items()}, rel=1e-12
    )
    minus = Exclude(Words(("solar",), TEXT), Words(("wind",), TEXT))
    assert scores(index, minus) == pytest.approx({"A": solar["A"]}, rel=1e-12)
    # Everything adds nothing to the score of the words next to it.
    assert scores(index, All((Everything(), Words(("solar",), TEXT)))) == pytest.approx(
        solar, rel=1e-12
    )


def test_plain_and_keyword_fields_weigh_one() -> None:
    index = backend(*SOLAR)
    # spell holds the distinct words of title and excerpt, unstemmed, once each: A "solar
    # panels" (2), B "wind solar power and" (4: stopwords kept), C "hydro dams" (2); average
    # 8/3; every frequency is 1.
    spell = scores(index, Words(("solar",), ("spell",)))
    assert spell == pytest.approx({
        "A": saturate(IDF_DF2, 1 / (0.25 + 0.75 * 2 / (8 / 3))),
        "B": saturate(IDF_DF2, 1 / (0.25 + 0.75 * 4 / (8 / 3))),
    }, rel=1e-12)
    # kind: one term in every document, of length 1.
    kind = scores(index, Words(("article",), ("kind",)))
    assert kind == pytest.approx(dict.fromkeys("ABC", math.log(1 + 0.5 / 3.5)), rel=1e-12)


def test_better_matches_score_higher() -> None:
    index = backend(
        record("title", "Glacier melt", "Ice"),
        record("excerpt", "Ice", "Glacier melt"),
        record("related", "Ice", "Snow", related_text="Glacier melt"),
        record("twice", "Glacier", "Glacier melt"),
        record("none", "Snow", "Rain"),
    )
    ranked = ids(index.execute(Words(("glacier",), TEXT), Filters(), {}, "relevance", 0, 10))
    assert ranked == ["twice", "title", "excerpt", "related"]


# -- order: every tie broken -----------------------------------------------------------------

TIES = (
    record("c", "Storm", published=utc("2026-05-01T00:00:00"), quality=5),
    record("a", "Storm", published=utc("2026-05-01T00:00:00"), quality=5),
    record("b", "Storm", published=utc("2026-05-01T00:00:00"), quality=5),
    record("e", "Storm", quality=5),
    record("d", "Storm"),
    record("f", "Storm", published=utc("2026-06-01T00:00:00")),
)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["f", "a", "b", "c", "d", "e"]),
        ("oldest", ["a", "b", "c", "f", "d", "e"]),
        ("quality", ["a", "b", "c", "e", "f", "d"]),
        ("relevance", ["f", "a", "b", "c", "d", "e"]),  # equal scores: newer first, then id
    ],
)
def test_equal_keys_go_by_id(sort: Sort, expected: list[str]) -> None:
    index = backend(*TIES)
    assert ids(index.execute(Words(("storm",), TEXT), Filters(), {}, sort, 0, 10)) == expected
    assert ids(index.execute(Everything(), Filters(), {}, sort, 0, 10)) == (
        ["f", "a", "b", "c", "d", "e"] if sort == "relevance" else expected
    )


def test_results_do_not_depend_on_write_order() -> None:
    one = backend(*TIES, *SOLAR)
    other = MemoryBackend.create(None, "english")
    for item in reversed((*SOLAR, *TIES)):
        other.write([item], [])
    other.write([record("gone", "Solar storm")], [])
    other.write([], ["gone"])
    plans: list[Plan] = [
        Everything(), Words(("solar",), TEXT), Words(("storm",), TEXT), Prefix(("s",), TEXT),
        Any((Words(("wind",), TEXT), Fuzzy("hydra", 1, TEXT))),
    ]
    for plan in plans:
        for sort in SORTS:
            facets: dict[str, Filters] = {facet: Filters() for facet in FACETS}
            first = one.execute(plan, Filters(), facets, sort, 0, 100)
            assert other.execute(plan, Filters(), facets, sort, 0, 100) == first
            assert one.execute(plan, Filters(), facets, sort, 0, 100) == first


def test_scores_are_given_only_when_ranked_by_score() -> None:
    index = backend(*SOLAR)
    solar = Words(("solar",), TEXT)
    for sort in ("newest", "oldest", "quality"):
        assert {s for _, s in index.execute(solar, Filters(), {}, sort, 0, 10).page} == {None}
    not_wind = Exclude(Everything(), Words(("wind",), TEXT))
    assert {s for _, s in index.execute(not_wind, Filters(), {}, "relevance", 0, 10).page} == {
        None
    }


# -- writes and generations ------------------------------------------------------------------


def test_generation_counts_commits() -> None:
    index = MemoryBackend.create(None, "english")
    assert index.generation() == 0
    index.write([record("a", "One")], [])
    assert index.generation() == 1
    index.write([], [])
    assert index.generation() == 1
    index.write(iter([]), iter([]))
    assert index.generation() == 1
    index.write([], ["no-such-id"])
    assert index.generation() == 2
    index.write([record("a", "Two"), record("b", "Three")], ["a"])
    assert index.generation() == 3
    assert {r.id: r.title for r in index.records()} == {"a": "Two", "b": "Three"}


def test_a_failing_write_changes_nothing() -> None:
    index = backend(record("a", "One"))

    def broken() -> Iterator[Record]:
        yield record("b", "Two")
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError):
        index.write(broken(), [])
    assert [r.id for r in index.records()] == ["a"]
    assert index.generation() == 1


def test_records_are_private_copies() -> None:
    original = record("a", "One", extra={"tags": ["x"]})
    index = backend(original)
    original.extra["tags"].append("changed")
    got = index.get("a")
    assert got is not None and got.extra == {"tags": ["x"]}
    got.extra["tags"].append("changed")
    assert index.get("a") == record("a", "One", extra={"tags": ["x"]})


def test_naive_dates_are_utc() -> None:
    index = backend(record("a", "One", published=datetime(2026, 5, 1, 12, 0)))
    got = index.get("a")
    assert got is not None and got.published == utc("2026-05-01T12:00:00")
    since = Filters(since=datetime(2026, 5, 1, 12, 0), until=datetime(2026, 5, 1, 12, 0))
    assert index.count(Everything(), since) == 1


def test_info_of_the_memory_index() -> None:
    index = backend(
        record("a", "One", provider="P", topics=("T", "U")),
        record("b", "Two", kind="related", topics=("T",)),
    )
    info = index.info()
    assert (info.count, info.size_bytes) == (2, 0)
    assert info.facets == {
        "topic": {"T": 2, "U": 1}, "provider": {"P": 1}, "kind": {"article": 1, "related": 1},
    }


def test_similar_words_order_and_the_word_itself() -> None:
    index = backend(
        record("a", "Storm storms stork"), record("b", "Storms story"), record("c", "Start"),
    )
    # storms 2, storm 1, stork 1, story 1 (alphabetical among equals); "start" is 2 away.
    assert index.similar_words("storm", 1, 10) == ["storms", "stork", "storm", "story"]
    assert index.similar_words("storm", 2, 10) == ["storms", "start", "stork", "storm", "story"]
    assert index.similar_words("storm", 0, 10) == ["storm"]
    assert index.similar_words("", 2, 10) == []
    assert index.similar_words("storm", -1, 10) == []
    assert index.similar_words("storm", 1, -1) == []


# -- lifecycle and errors --------------------------------------------------------------------


def test_it_is_registered() -> None:
    assert backend_class("memory") is MemoryBackend
    assert "memory" in available()
    assert (MemoryBackend.name, MemoryBackend.format_version) == ("memory", 1)


def test_it_has_no_files(tmp_path: Path) -> None:
    assert MemoryBackend.exists(tmp_path) is False
    assert MemoryBackend.owned_files(tmp_path) == []
    with pytest.raises(UsageError) as error:
        MemoryBackend.open(tmp_path, "english")
    assert str(error.value) == (
        f"the memory backend has no index on disk to open in {tmp_path}: "
        "create a new one without a path, or use an on-disk backend"
    )
    with pytest.raises(UsageError) as error:
        MemoryBackend.create(tmp_path, "english")
    assert str(error.value) == (
        f"the memory backend keeps its index in memory only and cannot create one in "
        f"{tmp_path}: create it without a path"
    )
    assert list(tmp_path.iterdir()) == []


def test_unknown_language() -> None:
    with pytest.raises(UsageError, match="unknown language 'klingon'"):
        MemoryBackend.create(None, "klingon")
    assert MemoryBackend.create(None, " French ").language == "french"


def test_closed_index_refuses_use() -> None:
    index = backend(record("a", "One"))
    index.close()
    for call in (
        index.info, index.generation, lambda: index.get("a"), lambda: list(index.records()),
        lambda: index.count(Everything(), Filters()), lambda: index.write([], ["a"]),
    ):
        with pytest.raises(UsageError, match=r"^the memory index is closed$"):
            call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i: i.execute(Everything(), Filters(), {}, "best", 0, 1), "unknown sort 'best'"),
        (lambda i: i.execute(Everything(), Filters(), {}, "newest", -1, 1),
         "offset must be 0 or more, not -1"),
        (lambda i: i.execute(Everything(), Filters(), {}, "newest", 0, -1),
         "limit must be 0 or more, not -1"),
        (lambda i: i.execute(Everything(), Filters(), {"colour": Filters()}, "newest", 0, 1),
         "unknown facet 'colour'"),
        (lambda i: i.count(Words(("x",), ("headline",)), Filters()), "unknown field 'headline'"),
        (lambda i: i.term_stats("headline", ["x"]), "unknown field 'headline'"),
    ],
)
def test_bad_arguments_name_themselves(call: AnyType, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(backend(record("a", "One")))


def test_empty_nodes_match_nothing() -> None:
    index = backend(*SOLAR)
    for plan in (
        All(()), Any(()), Words((), TEXT), Words(("solar",), ()), Prefix((), TEXT),
        Fuzzy("solar", -1, TEXT), Words(("solar", "power"), ("related", "spell")),
    ):
        assert index.count(plan, Filters()) == 0, plan
    assert index.count(None, Filters()) == 0


# -- edit distance ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0), ("a", "", 1), ("", "abc", 3), ("glacier", "glacier", 0),
        ("glacier", "glaceir", 2),  # a transposition is two edits
        ("kitten", "sitting", 3), ("camra", "camera", 1), ("camra", "cameras", 2),
        ("zürich", "zurich", 1),
    ],
)
def test_levenshtein(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance
    assert levenshtein(b, a) == distance


@given(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8))
def test_levenshtein_is_a_metric(a: str, b: str, c: str) -> None:
    assert levenshtein(a, b) == levenshtein(b, a)
    assert (levenshtein(a, b) == 0) == (a == b)
    assert levenshtein(a, c) <= levenshtein(a, b) + levenshtein(b, c)
    assert abs(len(a) - len(b)) <= levenshtein(a, b) <= max(len(a), len(b))
