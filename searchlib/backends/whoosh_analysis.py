"""searchlib's analyzer in the shape Whoosh calls, and pickles into every index.

Whoosh stores the schema, analyzers included, as a pickle in the index's table of contents.
So this class must stay importable under this exact module path and name, and its pickled
state is only plain settings: the nltk stemmer and caches are rebuilt on first use. Renaming
it would make existing indexes unreadable; change ``SCHEMA_VERSION`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Composable, Token

from ..analysis import Analyzer


class NltkAnalyzer(Composable):  # type: ignore[misc]
    """A Whoosh analyzer running :class:`searchlib.analysis.Analyzer`."""

    def __init__(self, language: str, stem: bool = True, stopwords: bool = True) -> None:
        self.language = language
        self.stem = stem
        self.stopwords = stopwords
        self._analyzer: Analyzer | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"language": self.language, "stem": self.stem, "stopwords": self.stopwords}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._analyzer = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NltkAnalyzer) and self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash((self.language, self.stem, self.stopwords))

    @property
    def analyzer(self) -> Analyzer:
        """The engine-neutral analyzer, built lazily (it is not pickled)."""
        if self._analyzer is None:
            self._analyzer = Analyzer(
                self.language, stem=self.stem, remove_stopwords=self.stopwords
            )
        return self._analyzer

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for t in self.analyzer.tokens(value, keep_stopped=not removestops):
            token.text = t.term
            token.boost = 1.0
            token.stopped = t.stopped
            if keeporiginal:
                token.original = value[t.start : t.end]
            if positions:
                token.pos = start_pos + t.position
            if chars:
                token.startchar = start_char + t.start
                token.endchar = start_char + t.end
            yield token
