"""Edit distance, for fuzzy terms and spelling suggestions."""

from __future__ import annotations


def within_distance(a: str, b: str, limit: int) -> bool:
    """Whether ``a`` and ``b`` are at most ``limit`` Levenshtein edits apart."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)
            ))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit
