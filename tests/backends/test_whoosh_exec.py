"""The Whoosh backend's array executor against Whoosh's own matchers, the reference.

``WhooshBackend.execute``/``count`` evaluate plans with numpy over per-segment arrays;
``_execute_with_matchers``/``_count_with_matchers`` run the same plans through Whoosh's
matchers (``to_whoosh``). On random plans, filters and sorts over an index with several
segments (one of more than 5,000 documents, where Whoosh scores expanded prefixes
differently), deleted and rewritten documents, both must give the same totals, facet counts
and hits, and the same scores within 1e-6 relative.
"""

from __future__ import annotations

import itertools
import pickle
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

from searchlib.backends import whoosh_exec
from searchlib.backends.base import Execution
from searchlib.backends.whoosh import WhooshBackend
from searchlib.backends.whoosh_codec import POSTINGS_PER_BLOCK
from searchlib.backends.whoosh_postings import EXTENSION, PLAIN_FIELDS, PostingsFile
from searchlib.backends.whoosh_segments import (
    position_decoder,
    read_positions,
    read_postings,
)
from searchlib.backends.whoosh_stored import StoredFields
from searchlib.backends.whoosh_terms import TermDictionary
from searchlib.plan import All, Any, Boost, Everything, Exclude, Filters, Fuzzy, Plan, Prefix, Words
from searchlib.records import Record
from searchlib.schema import FACETS, FIELD_WEIGHTS, SORTS, Sort

#: Words the plans use; the big segment has them rarely, the small ones often.
WORDS = [
    "virus", "vaccine", "trial", "school", "lockdown", "europe", "mask", "testing", "cases",
    "deaths", "hospital", "border", "travel", "economy", "market", "workers", "rent", "city",
    "state", "court", "vote",
]
#: Filler for the big segment: many distinct words, so that its postings are long and its
#: term dictionary has prefixes that expand to several terms.
FILLER = [f"{a}{b}{c}" for a in "qxzjn" for b in "aeiou" for c in ("lm", "rn", "st", "xy")]
TOPICS = ("Health", "Europe", "Money", "Law")
PROVIDERS = ("Reuters", "AP", "BBC", "")
START = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = ("title", "excerpt", "body", "related")
FIELD_SETS = [
    TEXT, ("title", "excerpt", "body"), ("title",), ("excerpt", "related"), ("related",),
    ("body",), ("spell",), ("title", "spell"),
]
BIG = 5100


def make_record(rng: random.Random, n: int, vocabulary: list[str], share: float) -> Record:
    """A document whose words come from ``vocabulary``, with WORDS at ``share``."""

    def words(count: int) -> str:
        return " ".join(
            rng.choice(WORDS) if rng.random() < share else rng.choice(vocabulary)
            for _ in range(count)
        )

    dated = rng.random() > 0.1
    return Record(
        id=f"d{n}",
        kind="related" if rng.random() < 0.1 else "article",
        title=words(rng.randint(2, 6)),
        excerpt=words(rng.randint(0, 12)),
        body=words(rng.randint(0, 30)) if rng.random() < 0.5 else "",
        related_text=words(rng.randint(1, 5)) if rng.random() < 0.3 else "",
        url=f"https://example.com/{n}",
        provider=rng.choice(PROVIDERS),
        # Few distinct dates, so that sorts meet ties.
        published=START + timedelta(days=rng.randint(0, 40)) if dated else None,
        quality=rng.randint(0, 3) if rng.random() > 0.2 else None,
        topics=tuple(rng.sample(TOPICS, rng.randint(0, 2))),
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhooshBackend]:
    backend = build_index(tmp_path_factory.mktemp("exec") / "ix")
    yield backend
    backend.close()


def build_index(path: Path) -> WhooshBackend:
    """A big segment, three small ones, deletions in old segments, rewritten documents."""
    rng = random.Random(7)
    backend = WhooshBackend.create(path, "english")
    backend.write([make_record(rng, n, FILLER, 0.03) for n in range(BIG)], [])
    n = BIG
    for _ in range(3):
        records = [make_record(rng, n + i, FILLER[:10], 0.8) for i in range(40)]
        n += 40
        # Rewrite two documents of earlier segments and delete three.
        records += [make_record(rng, rng.randrange(n - 40), FILLER[:10], 0.8) for _ in range(2)]
        backend.write(records, [f"d{rng.randrange(n)}" for _ in range(3)])
    sizes = [r.doc_count_all() for r, _ in backend._current()[0].reader().leaf_readers()]
    assert len(sizes) == 4 and max(sizes) > 5000, sizes
    return backend


@dataclass(frozen=True)
class Vocabulary:
    """Index terms to build plans from (read from the index, so they are analysed)."""

    terms: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]


def vocabulary(backend: WhooshBackend) -> Vocabulary:
    reader = backend._current()[0].reader()
    terms = sorted({t.decode() for t in reader.lexicon("excerpt")} & set(_analysed()))
    pairs = [(a, b) for a in terms[:8] for b in terms[:8]]
    return Vocabulary(tuple(terms), tuple([*pairs, (terms[0], terms[1], terms[2])]))


def _analysed() -> list[str]:
    from searchlib.analysis import Analyzer

    analyzer = Analyzer("english")
    return [t for w in WORDS for t in analyzer.terms(w)]


VOCABULARY: Vocabulary | None = None


def plans() -> st.SearchStrategy[Plan]:
    """Random plans over the index's words, every node type."""

    def build(vocab: Vocabulary) -> st.SearchStrategy[Plan]:
        fields = st.sampled_from(FIELD_SETS)
        prefixes = sorted({t[:k] for t in vocab.terms for k in (1, 2, 3)})
        leaves = st.one_of(
            st.builds(lambda t, f: Words((t,), f), st.sampled_from(vocab.terms), fields),
            st.builds(Words, st.sampled_from(vocab.phrases), fields),
            st.builds(
                Prefix, st.lists(st.sampled_from(prefixes), min_size=1, max_size=2,
                                 unique=True).map(tuple), fields,
            ),
            st.builds(
                lambda t, d, f: Fuzzy(t[:-1] + "x", d, f),
                st.sampled_from(vocab.terms), st.integers(0, 2), fields,
            ),
            st.builds(lambda t: Words((t,), ("topic_text",)),
                      st.sampled_from(["health", "europe", "money", "law"])),
            st.builds(lambda t: Words((t,), ("kind",)), st.sampled_from(["article", "related"])),
            st.just(Everything()),
        )
        return st.recursive(
            leaves,
            lambda children: st.one_of(
                st.lists(children, min_size=1, max_size=3).map(lambda c: All(tuple(c))),
                st.lists(children, min_size=1, max_size=3).map(lambda c: Any(tuple(c))),
                st.builds(Exclude, children, children),
                st.builds(Boost, children, st.sampled_from([0.5, 2.0, 10.0])),
            ),
            max_leaves=5,
        )

    return st.deferred(lambda: build(_vocab()))


def _vocab() -> Vocabulary:
    assert VOCABULARY is not None
    return VOCABULARY


FILTERS = st.builds(
    Filters,
    topics=st.lists(st.sampled_from(TOPICS), max_size=2, unique=True).map(tuple),
    providers=st.lists(st.sampled_from(PROVIDERS[:3]), max_size=2, unique=True).map(tuple),
    kinds=st.lists(st.sampled_from(["article", "related"]), max_size=1).map(tuple),
    since=st.sampled_from([None, START + timedelta(days=5)]),
    until=st.sampled_from([None, START + timedelta(days=30, hours=12)]),
    exclude_ids=st.lists(st.sampled_from([f"d{BIG + n}" for n in range(0, 120, 3)]),
                         max_size=2).map(tuple),
)
RANDOM = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", autouse=True)
def _vocabulary(index: WhooshBackend) -> None:
    global VOCABULARY
    VOCABULARY = vocabulary(index)


def both(
    backend: WhooshBackend, plan: Plan | None, filters: Filters, sort: Sort,
    offset: int = 0, limit: int = 10_000,
) -> tuple[Execution, Execution]:
    facets = {name: filters.without(name) for name in FACETS}
    new = backend.execute(plan, filters, facets, sort, offset, limit)
    try:
        old = backend._execute_with_matchers(plan, filters, facets, sort, offset, limit)
    except IndexError:
        # Whoosh's own matchers crash on some nested exclusions of phrases (a span matcher
        # read past its block); the array executor has no such case, and nothing to compare.
        reject()
    return new, old


def assert_same(new: Execution, old: Execution, sort: Sort) -> None:
    assert new.total == old.total
    assert {k: dict(v) for k, v in new.facets.items()} == {
        k: dict(v) for k, v in old.facets.items()
    }
    new_scores = {r.id: s for r, s in new.page}
    old_scores = {r.id: s for r, s in old.page}
    assert new_scores.keys() == old_scores.keys()
    for doc_id, expected in old_scores.items():
        got = new_scores[doc_id]
        if expected is None:
            assert got is None
        else:
            assert got is not None
            assert got == pytest.approx(expected, rel=1e-6), doc_id
    if sort != "relevance" or not new.page or new.page[0][1] is None:
        # Orders by stored columns are exact: both break ties by index order.
        assert [r.id for r, _ in new.page] == [r.id for r, _ in old.page]
    else:
        # Scores equal within rounding may come out in either order; clearly different
        # scores may not.
        scores = [s for _, s in new.page]
        assert all(a is not None and b is not None and a >= b * (1 - 1e-9)
                   for a, b in itertools.pairwise(scores))
        old_rank = {r.id: i for i, (r, _) in enumerate(old.page)}
        for (a, sa), (b, sb) in itertools.pairwise(new.page):
            if sa is not None and sb is not None and sa > sb * (1 + 1e-9):
                assert old_rank[a.id] < old_rank[b.id]


@RANDOM
@given(plan=plans(), filters=FILTERS, sort=st.sampled_from(SORTS))
def test_random_plans_give_what_whoosh_matchers_give(
    index: WhooshBackend, plan: Plan, filters: Filters, sort: Sort
) -> None:
    note(repr(plan))
    new, old = both(index, plan, filters, sort)
    assert_same(new, old, sort)
    assert index.count(plan, filters) == index._count_with_matchers(plan, filters) == new.total


def test_nested_exclusions_of_phrases_that_crash_whoosh_matchers(index: WhooshBackend) -> None:
    """Whoosh's matchers raise IndexError on this plan; the array executor answers it."""
    text = ("title", "excerpt", "body", "related")
    plan = Exclude(
        Words(("case",), text),
        Exclude(Words(("citi", "border"), ("body",)), Words(("death", "economi"), text)),
    )
    with pytest.raises(IndexError):
        index._execute_with_matchers(plan, Filters(), {}, "relevance", 0, 10)
    excluded = Exclude(Words(("citi", "border"), ("body",)), Words(("death", "economi"), text))
    expected = index.count(Words(("case",), text), Filters()) - index.count(
        All((Words(("case",), text), excluded)), Filters()
    )
    assert index.count(plan, Filters()) == expected > 0


@RANDOM
@given(plan=plans(), offset=st.integers(0, 30), limit=st.integers(0, 12))
def test_random_pages_are_windows_of_the_same_order(
    index: WhooshBackend, plan: Plan, offset: int, limit: int
) -> None:
    whole = index.execute(plan, Filters(), {}, "relevance", 0, 10_000)
    page = index.execute(plan, Filters(), {}, "relevance", offset, limit)
    assert page.total == whole.total
    assert [r.id for r, _ in page.page] == [r.id for r, _ in whole.page][offset:offset + limit]


@pytest.mark.parametrize("plan", [
    Words(("virus",), TEXT),
    Any((Words(("school",), ("title",)), Boost(Words(("europ",), TEXT), 2.0))),
    Words(("school", "lockdown"), TEXT),
    Prefix(("va",), TEXT),  # one expansion: Whoosh scores it without weight or boost
    Prefix(("q",), ("title", "body")),  # many expansions in every segment
    Prefix(("c",), TEXT),  # three: BM25 in the big segment, 1 a match in the small ones
    Prefix(("xa",), ("title",)),  # only in the big segment
    Boost(Prefix(("co",), TEXT), 3.0),
    Fuzzy("viras", 1, TEXT),
    Exclude(Everything(), Words(("virus",), TEXT)),
    All((Everything(), Words(("mask",), ("excerpt",)))),
    Words(("article",), ("kind",)),
    None,
])
@pytest.mark.parametrize("sort", SORTS)
def test_chosen_plans_give_what_whoosh_matchers_give(
    index: WhooshBackend, plan: Plan | None, sort: Sort
) -> None:
    new, old = both(index, plan, Filters(), sort)
    assert_same(new, old, sort)
    if plan is not None:
        assert new.total > 0


@pytest.mark.parametrize("direct", [True, False], ids=["pread", "whoosh-reader"])
def test_postings_decode_like_whoosh_matchers(index: WhooshBackend, direct: bool) -> None:
    """Every term of three fields decodes, block by block, to what Whoosh's matcher walks,
    whether the segment file is read directly or through Whoosh's reader (``kind`` has
    lists of several blocks; rare words, gaps of more than a byte)."""
    searcher, _ = index._current()
    checked = long = wide = 0
    for segreader, _ in searcher.reader().leaf_readers():
        dictionary = TermDictionary.of(segreader) if direct else None
        assert (dictionary is not None) == direct
        for field, btext in [(f, b) for f in ("title", "excerpt", "kind")
                             for b in segreader.lexicon(f)]:
            fmt = segreader.schema[field].format
            matcher = segreader._terms.matcher(field, btext, fmt)
            docs, weights, values = [], [], []
            while matcher.is_active():
                docs.append(matcher.id())
                weights.append(matcher.weight())
                values.append(matcher.value())
                matcher.next()
            for with_values in (True, False):
                postings = read_postings(
                    segreader, field, btext, values=with_values, dictionary=dictionary
                )
                assert postings.docs.tolist() == docs
                assert postings.weights.tolist() == weights
                if field != "kind":  # no positions: values are never read there
                    assert list(postings.values or ()) == (values if with_values else [])
            checked += 1
            long += len(docs) > POSTINGS_PER_BLOCK  # several blocks
            wide += bool(np.any(np.diff(docs) >= 256))  # gaps that pickle as BININT2
    assert checked > 50 and long >= 2 and wide > 5


def _check_positions(backend: WhooshBackend, fields: tuple[str, ...]) -> tuple[int, int]:
    """Compare ``read_positions`` with Whoosh's matcher for every term of ``fields``, on
    random ascending subsets of its documents, and ``position_decoder`` with Whoosh's
    decoding; returns (terms checked, of several blocks)."""
    searcher, _ = backend._current()
    rng = random.Random(11)
    checked = long = 0
    for segreader, _ in searcher.reader().leaf_readers():
        dictionary = TermDictionary.of(segreader)
        for field, btext in [(f, b) for f in fields for b in segreader.lexicon(f)]:
            matcher = segreader._terms.matcher(field, btext, segreader.schema[field].format)
            values: dict[int, bytes] = {}
            while matcher.is_active():
                values[matcher.id()] = matcher.value()
                matcher.next()
            docs = sorted(values)
            subsets = [docs, docs[:1], docs[-1:], [], sorted(rng.sample(docs, len(docs) // 3))]
            if len(docs) > POSTINGS_PER_BLOCK:
                long += 1
                subsets.append([docs[POSTINGS_PER_BLOCK - 1], docs[POSTINGS_PER_BLOCK]])
                subsets.append(docs[POSTINGS_PER_BLOCK + 1:])  # the first block skipped
            fmt = segreader.schema[field].format
            decode = position_decoder(fmt)
            assert [list(decode(value)) for value in values.values()] == [
                fmt.decode_positions(value) for value in values.values()
            ]
            for subset in subsets:
                for reader in (dictionary, None):
                    found = read_positions(
                        segreader, field, btext, np.asarray(subset, dtype=np.int32),
                        dictionary=reader,
                    )
                    assert found == [values[doc] for doc in subset]
            checked += 1
            missing = next(doc for doc in itertools.count() if doc not in values)
            with pytest.raises(pickle.UnpicklingError, match=r"lack a document"):
                read_positions(
                    segreader, field, btext, np.asarray([missing], dtype=np.int32),
                    dictionary=dictionary,
                )
    return checked, long


def test_positions_of_some_documents_are_what_whoosh_reads(index: WhooshBackend) -> None:
    """``read_positions`` gives, for any ascending subset of a term's documents, the values
    Whoosh's matcher gives there; a document without the term is a damaged index's error."""
    checked, _ = _check_positions(index, ("title", "excerpt"))
    assert checked > 100


def test_positions_skip_the_blocks_without_a_wanted_document(tmp_path: Path) -> None:
    """Terms in several blocks: wanted documents in any of them, the first ones skipped."""
    backend = WhooshBackend.create(tmp_path / "ix", "english")
    rng = random.Random(5)
    backend.write([
        Record(
            id=f"b{n}", kind="article", title=f"glacier {rng.choice(WORDS)} survey glacier",
            excerpt="", url=f"https://example.com/b{n}", provider="", published=None,
            quality=None,
        )
        for n in range(3 * POSTINGS_PER_BLOCK + 7)
    ], [])
    checked, long = _check_positions(backend, ("title",))
    backend.close()
    assert checked > 3 and long == 2  # "glacier" and "survey"


def _whoosh_entry(terms: object, fieldname: str, btext: bytes) -> bytes | None:
    """The entry Whoosh's own hash table reader gives for a term, or None."""
    if fieldname not in terms._fieldmap:  # type: ignore[attr-defined]
        return None
    key = terms._keycoder(fieldname, btext)  # type: ignore[attr-defined]
    return terms._tindex.get(key)  # type: ignore[attr-defined,no-any-return]


def test_the_term_dictionary_reads_what_whoosh_reads(index: WhooshBackend) -> None:
    """Every term's entry, read from the segment file with ``pread``, is the bytes Whoosh's
    hash table reader gives; terms a segment lacks are None (a longer word, an unknown
    field); so are all the keys that share a hash table slot chain with present ones."""
    searcher, _ = index._current()
    for segreader, _ in searcher.reader().leaf_readers():
        dictionary = TermDictionary.of(segreader)
        assert dictionary is not None
        terms = segreader._terms
        keys = [key for key, _ in terms.items()]
        assert len(keys) > 100
        for fieldname, btext in keys:
            entry = dictionary.entry(fieldname, btext)
            assert entry is not None
            assert entry == _whoosh_entry(terms, fieldname, btext)
            assert dictionary.entry(fieldname, btext + b"~") is None
        assert dictionary.entry("no such field", b"virus") is None


@settings(max_examples=200, deadline=None)
@given(
    fieldname=st.sampled_from([*TEXT, "spell", "id", "nothing"]), btext=st.binary(max_size=12)
)
def test_any_key_reads_as_whoosh_reads_it(
    index: WhooshBackend, fieldname: str, btext: bytes
) -> None:
    searcher, _ = index._current()
    for segreader, _ in searcher.reader().leaf_readers():
        dictionary = TermDictionary.of(segreader)
        assert dictionary is not None
        assert dictionary.entry(fieldname, btext) == _whoosh_entry(
            segreader._terms, fieldname, btext
        )


GAPS = st.one_of(st.integers(1, 255), st.integers(256, 65_535), st.integers(65_536, 2**22))


@settings(max_examples=300, deadline=None)
@given(
    first=st.one_of(st.integers(0, 255), st.integers(256, 2**24)),
    gaps=st.lists(st.one_of(st.just(1), GAPS), max_size=127),
    weights=st.sampled_from(["ones", "same", "varied"]),
)
def test_blocks_are_read_without_unpickling_as_pickle_reads_them(
    first: int, gaps: list[int], weights: str
) -> None:
    """A block pickled as Whoosh's W3PostingsWriter pickles it reads the same either way:
    document gaps of one, two and four bytes, weights all 1, all equal or each its own."""
    from array import array

    from whoosh.util.numlists import delta_encode

    from searchlib.backends.whoosh_segments import _ids_and_weights

    ids = list(itertools.accumulate([first, *gaps]))
    count = len(ids)
    floats = array("f", [1.0 + (n % 5 if weights == "varied" else weights == "same")
                         for n in range(count)])
    # W3PostingsWriter._mini_weights: None when all are 1, one float when all are equal.
    mini: object = (None if weights == "ones" else floats[0] if weights == "same"
                    else tuple(floats))
    values = tuple(bytes([n % 7]) * (n % 3) for n in range(count))
    data = pickle.dumps((tuple(delta_encode(array("I", ids))), mini, values), 2)
    parsed = _ids_and_weights(data, count)
    if count < 4:  # tuples of up to 3 pickle differently: left to pickle
        assert parsed is None
        return
    assert parsed is not None
    deltas, read = parsed
    assert np.cumsum(deltas).tolist() == ids
    assert read.tolist() == list(floats)


def test_segment_arrays_are_built_once_and_kept_across_commits(tmp_path: Path) -> None:
    rng = random.Random(3)
    backend = WhooshBackend.create(tmp_path / "ix", "english")
    backend.write([make_record(rng, n, FILLER, 0.5) for n in range(30)], [])
    assert backend.execute(Words(("virus",), TEXT), Filters(), {"topic": Filters()},
                           "newest", 0, 5).total > 0
    first = dict(backend._segments.data)
    (segid, data), = first.items()
    lengths = data.lengths["title"]
    assert lengths is not None and data.kind is not None and data.dated is not None
    cached = len(backend._segments.postings)
    assert cached > 0
    # A commit that adds a segment keeps the old segment's arrays (the same objects).
    backend.write([make_record(rng, 100 + n, FILLER, 0.5) for n in range(5)], [])
    backend.execute(Words(("virus",), TEXT), Filters(), {"topic": Filters()}, "newest", 0, 5)
    assert backend._segments.data[segid] is data
    assert data.lengths["title"] is lengths
    assert len(backend._segments.data) == 2
    # Deleting from the old segment changes its live mask only.
    total = backend.count(Everything(), Filters())
    live_before = data.live_mask
    assert live_before is not None and bool(live_before.all())
    backend.write([], ["d0", "d1"])
    assert backend.count(Everything(), Filters()) == total - 2
    assert data.live_mask is not None and int((~data.live_mask).sum()) == 2
    assert backend._segments.data[segid] is data and data.lengths["title"] is lengths
    # A merge replaces both segments: their arrays and cached postings are dropped.
    backend.optimize()
    assert backend.count(Everything(), Filters()) == total - 2
    assert segid not in backend._segments.data and len(backend._segments.data) == 1
    assert all(key[0] != segid for key in backend._segments.postings._entries)
    backend.close()


def test_postings_files_hold_what_the_blocks_hold(index: WhooshBackend) -> None:
    """Every segment has a postings file (those of bulk writes inside their compound file,
    the merged ones beside it), and every word of its text fields reads from it, field by
    field, as from Whoosh's blocks, with Whoosh's term statistics."""
    searcher, _ = index._current()
    checked = several = 0
    for segreader, _ in searcher.reader().leaf_readers():
        plain = PostingsFile.of(segreader)
        assert plain is not None
        assert plain.fields == PLAIN_FIELDS
        dictionary = TermDictionary.of(segreader)
        lexicons = {field: set(segreader.lexicon(field)) for field in PLAIN_FIELDS}
        for btext in set().union(*lexicons.values()):
            word = plain.word(btext)
            several += len(word.fields) > 1
            for index_, field in enumerate(PLAIN_FIELDS):
                docs, weights = word.field(index_)
                if btext not in lexicons[field]:
                    assert docs.size == 0 and word.row(index_) is None
                    continue
                blocks = read_postings(segreader, field, btext, dictionary=dictionary)
                assert docs.tolist() == blocks.docs.tolist()
                assert weights.tolist() == blocks.weights.tolist()
                info = segreader._terms.term_info(field, btext)
                assert word.stats(index_) == (info.doc_frequency(), info.weight())
                checked += 1
            assert plain.find(btext + b"~") is None or any(
                btext + b"~" in lexicon for lexicon in lexicons.values()
            )
        plain.close()
    assert checked > 500 and several > 100


def test_stored_fields_read_directly_are_what_whoosh_reads(index: WhooshBackend) -> None:
    searcher, _ = index._current()
    checked = 0
    for segreader, _ in searcher.reader().leaf_readers():
        stored = StoredFields.of(segreader)
        assert stored is not None
        for docnum in range(segreader.doc_count_all()):
            assert stored.get(docnum) == segreader.stored_fields(docnum)
            checked += 1
        stored.close()
    assert checked > BIG


def test_the_records_of_a_page_are_built_once_and_kept(index: WhooshBackend) -> None:
    """A query with feedback shows its first pass's documents again: their records come
    from the segments' cache, equal to the stored documents."""
    plan = Everything()
    first = index.execute(plan, Filters(), {}, "newest", 0, 20)
    again = index.execute(plan, Filters(), {}, "newest", 5, 10)
    assert [record for record, _ in again.page] == [record for record, _ in first.page[5:15]]
    assert all(
        kept is shown for (kept, _), (shown, _) in zip(again.page, first.page[5:15], strict=True)
    )
    for record, _ in first.page:
        assert index.get(record.id) == record


def test_segments_without_postings_files_give_the_same_results(
    index: WhooshBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read through Whoosh's blocks only (an index of an older searchlib, or a file that
    cannot be read), every plan gives the same results, scores included."""
    plans = [Words((t,), TEXT) for t in _vocab().terms[:30]]
    plans += [All((Words((a,), TEXT), Words((b,), FIELD_SETS[1])))
              for a, b in itertools.pairwise(_vocab().terms[:12])]
    plans += [Words(phrase, ("title", "excerpt")) for phrase in _vocab().phrases[:10]]
    facets = {name: Filters() for name in FACETS}
    with_files = [index.execute(plan, Filters(), facets, "relevance", 0, 50) for plan in plans]
    monkeypatch.setattr(PostingsFile, "of", classmethod(lambda cls, segreader: None))
    plain = WhooshBackend.open(index.location, "english")
    try:
        for plan, expected in zip(plans, with_files, strict=True):
            got = plain.execute(plan, Filters(), facets, "relevance", 0, 50)
            # The same sums, added in field order rather than by numpy's reduceat: the last
            # bit may differ.
            assert_same(got, expected, "relevance")
    finally:
        plain.close()


def test_words_computed_together_are_the_words_computed_alone(
    index: WhooshBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``View.prefetch`` computes a plan's new words in one pass per segment: the same
    numbers, bit for bit, as one word at a time (segments with deletions included)."""
    terms = list(_vocab().terms[:40])
    plan = Any(tuple(Boost(Words((t,), TEXT), 1 + i / 10) for i, t in enumerate(terms)))
    facets = {name: Filters() for name in FACETS}
    results = []
    calls = []
    saturate = whoosh_exec._saturate
    monkeypatch.setattr(whoosh_exec, "_saturate", lambda t: calls.append(t.size) or saturate(t))
    for batch in (10_000, 3):  # alone, then together
        monkeypatch.setattr(whoosh_exec, "_BATCH", batch)
        calls.clear()
        backend = WhooshBackend.open(index.location, "english")
        try:
            execution = backend.execute(plan, Filters(), facets, "relevance", 0, 100)
            view = backend._current_view()
            assert any(leaf.deleted for leaf in view.leaves)
            saturated = {}
            for leaf in view.leaves:
                for term in terms:
                    parts = tuple((f, term.encode(), FIELD_WEIGHTS[f]) for f in TEXT)
                    found = backend._segments.postings.get(view.saturated_key(leaf, parts))
                    assert found is not None
                    saturated[leaf.segid, term] = found
            results.append((execution, saturated))
            # One word at a time: one saturation per word and segment; together: per segment.
            assert len(calls) == (len(terms) * len(view.leaves) if batch > 3 else len(view.leaves))
        finally:
            backend.close()
    (alone, alone_words), (together, together_words) = results
    assert together == alone
    assert alone_words.keys() == together_words.keys()
    for key, (docs, values) in alone_words.items():
        assert np.array_equal(docs, together_words[key][0]), key
        assert np.array_equal(values, together_words[key][1]), key


def test_merged_segments_get_a_postings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    backend = WhooshBackend.create(tmp_path / "ix", "english")
    for start in range(0, 40, 10):
        backend.write([make_record(rng, n, FILLER, 0.5) for n in range(start, start + 10)], [])
    plan = Any((Words(("virus",), TEXT), Words(("school",), TEXT)))
    before = backend.execute(plan, Filters(), {}, "relevance", 0, 40)
    old = {p.name for p in (tmp_path / "ix").glob("*.spl")}
    backend.optimize()
    searcher, _ = backend._current()
    (segreader, _), = searcher.reader().leaf_readers()
    name = segreader.segment().make_filename(EXTENSION)
    files = {p.name for p in (tmp_path / "ix").glob("*.spl")}
    assert files == {name} and name not in old  # beside the segment; none left of others
    assert not list((tmp_path / "ix").glob("*.tmp"))
    plain = PostingsFile.of(segreader)
    assert plain is not None and plain.word(b"virus").docs.size > 0
    plain.close()
    after = backend.execute(plan, Filters(), {}, "relevance", 0, 40)
    assert after.total == before.total
    assert {r.id for r, _ in after.page} == {r.id for r, _ in before.page}
    backend.close()
    monkeypatch.setattr(PostingsFile, "of", classmethod(lambda cls, segreader: None))
    blocks_only = WhooshBackend.open(tmp_path / "ix", "english")
    assert_same(blocks_only.execute(plan, Filters(), {}, "relevance", 0, 40), after, "relevance")
    blocks_only.close()


def test_the_postings_cache_keeps_to_its_budget(index: WhooshBackend) -> None:
    plan = Any(tuple(Words((t,), TEXT) for t in _vocab().terms))
    expected = index.execute(plan, Filters(), {}, "relevance", 0, 20)
    assert index.cache_mb == 96
    small = WhooshBackend.open(Path(index.location), "english", cache_mb=0.01)
    try:
        assert small.cache_mb == pytest.approx(0.01, rel=1e-3)
        got = small.execute(plan, Filters(), {}, "relevance", 0, 20)
        assert 0 < small._segments.postings.bytes <= 0.01 * 2**20
        small.set_cache_mb(0)
        assert len(small._segments.postings) == 0
        again = small.execute(Any((plan, Everything())), Filters(), {}, "relevance", 0, 20)
        assert len(small._segments.postings) == 0
        expected_again = index.execute(Any((plan, Everything())), Filters(), {}, "relevance", 0, 20)
    finally:
        small.close()
    assert [(r.id, s) for r, s in got.page] == [(r.id, s) for r, s in expected.page]
    assert [(r.id, s) for r, s in again.page] == [(r.id, s) for r, s in expected_again.page]


@pytest.mark.parametrize("bad", [-1, float("nan"), "big"])
def test_a_bad_cache_size_is_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="cache_mb must be a number of megabytes, 0 or more"):
        WhooshBackend.create(tmp_path / "ix", "english", cache_mb=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", TEXT)
def test_term_stats_count_live_documents(field: str, index: WhooshBackend) -> None:
    # Many terms at once (a segment's words in one pass), in a segment with deletions too.
    searcher, _ = index._current()
    terms = [*_vocab().terms[:30], "nosuchword"]
    fresh = WhooshBackend.open(index.location, "english")
    try:
        for backend in (fresh, fresh, index):  # new, then from the searcher's memory
            # Another field asked first: every field's statistics of the words come from
            # the same reads and are kept.
            backend.term_stats("excerpt" if field == "title" else "title", terms[::2])
            stats = backend.term_stats(field, terms)
            for term in terms:
                postings = searcher.postings(field, term) if term != "nosuchword" else None
                docs = frequency = 0
                while postings is not None and postings.is_active():  # skips deleted ones
                    docs += 1
                    frequency += int(postings.weight())
                    postings.next()
                assert (stats[term].doc_frequency, stats[term].frequency) == (docs, frequency)
    finally:
        fresh.close()


def test_lengths_table_decodes_every_byte() -> None:
    from whoosh.util.numeric import byte_to_length

    from searchlib.backends.whoosh_segments import LENGTHS

    assert LENGTHS.tolist() == [float(byte_to_length(b)) for b in range(256)]
    assert np.all(np.diff(LENGTHS) > 0)


def test_the_engine_sets_the_cache_size(tmp_path: Path) -> None:
    from searchlib import Engine, UsageError

    with Engine(tmp_path / "ix", cache_mb=5) as engine:
        assert isinstance(engine.backend, WhooshBackend)
        assert engine.backend.cache_mb == 5
    with Engine(tmp_path / "ix") as engine:
        assert isinstance(engine.backend, WhooshBackend)
        assert engine.backend.cache_mb == 96
    with Engine(None, backend="memory", cache_mb=5) as engine:  # no cache: ignored
        assert engine.search("").total == 0
    for bad in (-1, float("nan"), float("inf"), "64", True):
        with pytest.raises(UsageError) as caught:
            Engine(tmp_path / "ix", cache_mb=bad)  # type: ignore[arg-type]
        assert str(caught.value) == (
            f"cache_mb must be a number of megabytes, 0 or more, not {bad!r}"
        )


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sort": "best"}, "unknown sort 'best': choose one of relevance, newest, oldest, quality"),
    ({"offset": -1}, "offset must be 0 or more, not -1"),
    ({"limit": -2}, "limit must be 0 or more, not -2"),
    ({"facets": {"colour": Filters()}},
     "unknown facet 'colour': choose one of topic, provider, kind, day"),
])
def test_bad_arguments_are_refused_like_the_reference_backend(
    index: WhooshBackend, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "plan": Everything(), "filters": Filters(), "facets": {}, "sort": "newest",
        "offset": 0, "limit": 10, **kwargs,
    }
    with pytest.raises(ValueError) as caught:
        index.execute(**arguments)  # type: ignore[arg-type]
    assert str(caught.value) == message


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 5000),
    window=st.integers(1, 1500),
    distinct=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
)
def test_smallest_is_partial_selection_over_everything(
    size: int, window: int, distinct: int, seed: int
) -> None:
    # Few distinct values force ties at the window's edge; sizes above twice the head take
    # the pre-selection, and a window wider than the head does not.
    window = min(window, size)
    rng = np.random.default_rng(seed)
    primary = rng.integers(0, distinct, size).astype(np.float64) * 0.5
    if rng.random() < 0.5:
        primary = np.sort(primary)[::-1].copy()  # the worst order for the head's guess
    expected = np.flatnonzero(primary <= np.partition(primary, window - 1)[window - 1])
    assert np.array_equal(whoosh_exec._smallest(primary, window), expected)
