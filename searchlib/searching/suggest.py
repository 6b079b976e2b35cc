"""'Did you mean': a corrected query when a word is unknown to the index.

Each word of the query (in the text fields) that no title or excerpt contains, as written, is
replaced by the most frequent known word within two edits that shares its first letter. The
correction is offered only when it finds more documents with every word than the query did.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .. import query as q
from ..analysis import Analyzer
from ..backends.base import Backend
from ..errors import QueryError

#: Fewer matches than this make a search look for a suggestion.
SUGGEST_BELOW = 3
_MAX_DISTANCE = 2


def suggest(
    backend: Backend,
    plain: Analyzer,
    text: str,
    node: q.Node,
    count_all_words: Callable[[q.Node], int],
    found: int,
) -> str | None:
    """A corrected ``text``, if it finds more than ``found`` documents with every word.

    ``count_all_words(tree)`` counts the documents (under the search's filters) that have
    every word of a query tree.
    """
    words = [text for field, text in q.terms(node) if field in (None, "title", "excerpt")]
    if not words:
        return None
    replacements: dict[str, str] = {}
    for word_text in words:
        tokens = list(plain.tokens(word_text))
        known = backend.term_stats("spell", [t.term for t in tokens])
        for token in tokens:
            word = token.term
            stats = known.get(word)
            if word.isdigit() or (stats is not None and stats.doc_frequency > 0):
                continue
            options = backend.similar_words(word, _MAX_DISTANCE, 1)
            if options:
                replacements[word_text[token.start : token.end]] = options[0]
    if not replacements:
        return None
    suggestion = text
    for wrong, right in replacements.items():
        suggestion = _replace_word(suggestion, wrong, right)
    if suggestion == text:
        return None
    try:
        parsed = q.parse(suggestion)
    except QueryError:
        return None
    return suggestion if count_all_words(parsed) > found else None


def _replace_word(text: str, wrong: str, right: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(wrong)}(?!\w)", right, text, flags=re.IGNORECASE)
