"""The bounded cache of decoded postings (``whoosh_segments.PostingsCache``): least recently
used evicted first once its bytes pass the budget; asking or keeping several entries at once
is the same as one by one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.backends.whoosh_segments import PostingsCache


def test_the_least_recently_used_entries_go_first_once_the_budget_is_passed() -> None:
    cache = PostingsCache(100)
    cache.put(("s1", "w", b"a"), "a", 40)
    cache.put(("s1", "w", b"b"), "b", 40)
    assert cache.get(("s1", "w", b"a")) == "a"  # now the most recently used
    cache.put(("s2", "w", b"c"), "c", 40)
    assert cache.get(("s1", "w", b"b")) is None
    assert cache.get_many([("s1", "w", b"a"), ("s1", "w", b"b"), ("s2", "w", b"c")]) == [
        "a", None, "c",
    ]
    assert cache.bytes == 80 and len(cache) == 2
    cache.put(("s1", "w", b"big"), "big", 101)  # alone past the budget: not kept
    assert cache.get(("s1", "w", b"big")) is None and cache.bytes == 80
    cache.drop_segments(["s1"])
    assert cache.get_many([("s1", "w", b"a"), ("s2", "w", b"c")]) == [None, "c"]
    assert cache.bytes == 40
    cache.resize(30)
    assert len(cache) == 0 and cache.bytes == 0


operations = st.lists(
    st.tuples(
        st.booleans(),  # True: keep entries; False: ask for keys
        st.lists(st.tuples(st.integers(0, 8), st.integers(1, 40)), min_size=1, max_size=5),
    ),
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(operations)
def test_several_at_once_is_one_by_one(steps: list[tuple[bool, list[tuple[int, int]]]]) -> None:
    together, alone = PostingsCache(100), PostingsCache(100)
    for keeping, entries in steps:
        if keeping:
            together.put_many((key, f"v{key}.{size}", size) for key, size in entries)
            for key, size in entries:
                alone.put(key, f"v{key}.{size}", size)
        else:
            keys = [key for key, _ in entries]
            assert together.get_many(keys) == [alone.get(key) for key in keys]
        assert together.bytes == alone.bytes <= 100
        assert len(together) == len(alone)
    everything = list(range(9))
    assert together.get_many(everything) == alone.get_many(everything)
