"""Text analysis: text in, index terms out. Engine-neutral and offline.

The pipeline for each token:

1. **Tokenize** on Unicode word characters. Runs of CJK characters (which use no spaces) become
   overlapping character bigrams, so that ``识别`` finds ``人脸识别``.
2. **Case-fold** (``Straße`` -> ``strasse``).
3. **Stopwords** are dropped: the English list ships with searchlib; other languages use nltk's
   stopwords corpus when it is installed, and no stopwords otherwise.
4. **Stem** with nltk's Snowball stemmer for the index's language (no downloaded data needed).
5. **Fold accents** (``zürich`` -> ``zurich``), after stemming because Snowball stemmers for
   accented languages expect the accents.

Example::

    >>> Analyzer("english").terms("The Zürich courts ruled on facial-recognition")
    ['zurich', 'court', 'rule', 'facial', 'recognit']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .errors import UsageError

DEFAULT_LANGUAGE = "english"

#: Languages with a Snowball stemmer in nltk.
LANGUAGES = (
    "arabic", "danish", "dutch", "english", "finnish", "french", "german", "hungarian",
    "italian", "norwegian", "portuguese", "romanian", "russian", "spanish", "swedish",
)

_CJK_RANGES = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK Extension A
    "\u4e00-\u9fff"  # CJK Unified Ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # CJK Compatibility Ideographs
    "\U00020000-\U0002ffff"  # CJK Extensions B-F
)
# Combining marks are not word characters to ``re``, yet "Zu\u0308rich" (decomposed) is one word.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_TOKEN = re.compile(
    rf"(?P<cjk>[{_CJK_RANGES}]+)|(?P<word>[^\W{_CJK_RANGES}](?:[^\W{_CJK_RANGES}]|[{_MARKS}])*)"
)

# Letters that Unicode does not decompose into base + accent.
_FOLD_EXTRA = str.maketrans({
    "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    "Ø": "O", "Æ": "AE", "Œ": "OE", "Ł": "L", "Đ": "D", "Ð": "D", "Þ": "TH",
})

#: Stem-and-fold results kept per analyzer; news vocabularies repeat heavily.
_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Token:
    """One analysed token: the index term, its position, and where it stands in the text."""

    term: str
    position: int
    start: int
    end: int
    stopped: bool = False


def fold_accents(text: str) -> str:
    """Strip accents and diacritics: ``fold_accents("São Paulo") == "Sao Paulo"``."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_value(value: str) -> str:
    """The key under which facet values match: case and accents folded, spaces collapsed.

    ``fold_value("  Zürich   News ") == fold_value("ZURICH news") == "zurich news"``. A filter
    value selects every facet value with the same key, so ``--provider reuters`` finds
    ``Reuters``. Accents go first, since case folding turns some marks into letters (U+0345
    into ``ι``), and again after it, since case folding can produce marks (``İ`` -> ``i̇``).
    """
    folded = fold_accents(fold_accents(value).casefold()).casefold()
    return " ".join(folded.split())


def check_language(language: str) -> str:
    """Return ``language`` normalised, or raise :class:`UsageError` listing the choices."""
    name = language.strip().lower()
    if name not in LANGUAGES:
        raise UsageError(f"unknown language {language!r}: choose one of {', '.join(LANGUAGES)}")
    return name


@cache
def stopwords(language: str) -> frozenset[str]:
    """The stopwords of ``language``: shipped for English, from nltk's corpus when installed."""
    language = check_language(language)
    shipped = resources.files("searchlib") / "data" / f"stopwords-{language}.txt"
    if shipped.is_file():
        lines = shipped.read_text(encoding="utf-8").splitlines()
        return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))
    try:  # nltk's corpus is optional data: use it only if someone installed it
        from nltk.corpus import stopwords as nltk_stopwords

        return frozenset(nltk_stopwords.words(language))
    except (LookupError, OSError):
        return frozenset()


def _stemmer(language: str) -> Callable[[str], str]:
    from nltk.stem.snowball import SnowballStemmer

    stem: Callable[[str], str] = SnowballStemmer(language).stem
    return stem


class Analyzer:
    """Turns text into index terms for one language.

    ``stem=False`` and ``remove_stopwords=False`` give the plain folded words that spelling
    suggestions and prefix queries need.
    """

    def __init__(
        self, language: str = DEFAULT_LANGUAGE, *, stem: bool = True, remove_stopwords: bool = True
    ) -> None:
        self.language = check_language(language)
        self.stem = stem
        self.remove_stopwords = remove_stopwords
        self._stops = stopwords(self.language) if remove_stopwords else frozenset()
        self._stemmer: Callable[[str], str] | None = _stemmer(self.language) if stem else None
        self._cache: dict[str, str] = {}

    def normalize(self, word: str) -> str:
        """Stem and fold one lower-cased word (cached)."""
        term = self._cache.get(word)
        if term is None:
            term = word
            if not word.isascii():
                # One spelling per word: composed accents, as the stemmers expect.
                term = unicodedata.normalize("NFC", word)
            term = self._stemmer(term) if self._stemmer is not None else term
            if not term.isascii():
                # Compatibility letters (mathematical bold A) fold to capitals: fold case again.
                term = fold_accents(term).lower()
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = term
        return term

    def tokens(self, text: str, *, keep_stopped: bool = False) -> Iterator[Token]:
        """Yield the tokens of ``text``; stopwords are skipped unless ``keep_stopped``.

        Positions count only kept tokens, so a phrase matches across a removed stopword
        ("state of the art" finds "state-of-the-art").
        """
        position = 0
        for match in _TOKEN.finditer(text):
            start = match.start()
            cjk = match.group("cjk")
            if cjk is not None:
                # Overlapping bigrams; a lone CJK character is its own token.
                if len(cjk) == 1:
                    yield Token(cjk, position, start, start + 1)
                    position += 1
                    continue
                for i in range(len(cjk) - 1):
                    yield Token(cjk[i : i + 2], position, start + i, start + i + 2)
                    position += 1
                continue
            word = match.group("word").casefold()
            if word in self._stops:
                if keep_stopped:
                    yield Token(word, position, start, match.end(), stopped=True)
                continue
            yield Token(self.normalize(word), position, start, match.end())
            position += 1

    def terms(self, text: str) -> list[str]:
        """The index terms of ``text``, in order."""
        return [t.term for t in self.tokens(text)]
