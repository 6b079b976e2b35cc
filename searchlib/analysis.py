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

import importlib
import importlib.util
import os
import re
import sys
import threading
import types
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any

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
# Unrolled ("a run of letters, then marks and letters") rather than one alternation per
# character: the same matches, findall in half the time.
_LETTER = rf"[^\W{_CJK_RANGES}]"
_WORD = rf"{_LETTER}+(?:[{_MARKS}]+{_LETTER}*)*"


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The token pattern, the word pattern, and a CJK test, compiled on first use.

    Compiling these character classes takes milliseconds each: a process that never analyses
    text (or not yet) does not pay for them at import.
    """
    return (
        re.compile(rf"(?P<cjk>[{_CJK_RANGES}]+)|(?P<word>{_WORD})"),
        # The words of a text without CJK characters, as ``findall`` lists them.
        re.compile(_WORD),
        re.compile(f"[{_CJK_RANGES}]"),
    )


@cache
def _ascii_words() -> re.Pattern[str]:
    """A test for characters that make a text's words other than ASCII runs: non-ASCII word
    characters (CJK among them) and combining marks."""
    return re.compile(rf"[^\W\x00-\x7f]|[{_MARKS}]")


@cache
def _ascii_word() -> re.Pattern[str]:
    """An ASCII word, as the word pattern reads it in a text of ASCII words."""
    return re.compile(r"[A-Za-z0-9_]+")


@cache
def _splitter() -> re.Pattern[str]:
    """The word pattern captured: ``split`` gives the text between words and the words in
    turn, so their offsets are the running sums of the parts' lengths."""
    return re.compile(f"({_WORD})")

def kept_head(term: str) -> int:
    """How many first characters of ``term`` the words it is the term of start with
    (lower-cased), when those characters are ASCII: 1 for a term of up to 3 characters, 2
    for 4, else 3. Snowball's stemmers (but Arabic's, Russian's and Finnish's) rewrite only
    a word's end, where at most the two last characters of the stem differ from the word
    ("dying" -> "die", "ability" -> "abil"); tests check it per language on random words
    and on a real corpus's vocabulary."""
    return max(1, min(3, len(term) - 2))


def _lead_keys(word: str) -> tuple[str, ...]:
    """What :meth:`Analyzer.heads` may hold of a word's term: the word's first one, two and
    three characters lower-cased if they are ASCII; else its ASCII first character, marked;
    else nothing (the word may be the word of any term)."""
    lead = word[:3]
    if lead.isascii():
        low = lead.lower()
        return (low[:1], low[:2], low)
    first = word[0]
    return ("\x00" + first.lower(),) if first.isascii() else ()


# Letters that Unicode does not decompose into base + accent.
_FOLD_EXTRA = str.maketrans({
    "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    "Ø": "O", "Æ": "AE", "Œ": "OE", "Ł": "L", "Đ": "D", "Ð": "D", "Þ": "TH",
})

#: Words whose terms an analyzer remembers (each of its two memos): news vocabularies are
#: Zipfian, so a bounded memo answers nearly every token. When one is full it is emptied.
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
    stem: Callable[[str], str] = snowball_class()(language).stem
    return stem


_SNOWBALL_LOCK = threading.Lock()


@cache
def snowball_class() -> Any:
    """nltk's ``SnowballStemmer`` class, loaded without running ``nltk/__init__.py``.

    Importing ``nltk`` imports nearly all of nltk (``nltk.metrics`` pulls in scipy.stats when
    scipy is installed: over a second), though the Snowball stemmers need none of it. So the
    module ``nltk.stem.snowball`` and the few small nltk modules it imports are run from nltk's
    own files under stand-in ``nltk`` and ``nltk.stem`` packages, which are removed again at
    once: a later ``import nltk`` anywhere gets the real package, whole. The stemmer code is
    nltk's own, so the stems are the same (a test checks this over a real corpus's whole
    vocabulary). When nltk is already imported, or this fails in any way (another nltk
    layout), the ordinary import is used.
    """
    if "nltk" not in sys.modules:
        with _SNOWBALL_LOCK:
            try:
                found = _snowball_without_nltk_init()
            except Exception:  # any surprise: the ordinary import below still works
                found = None
            if found is not None:
                return found
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer


class _NoCorpus:
    """Stands in for ``nltk.corpus.stopwords``, used only with ``ignore_stopwords=True``."""

    def words(self, language: str) -> list[str]:
        raise LookupError("nltk's stopwords corpus is not loaded for the Snowball stemmer")


def _snowball_without_nltk_init() -> Any:
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)
    stand_ins = {
        "nltk": _package("nltk", root),
        "nltk.stem": _package("nltk.stem", [os.path.join(folder, "stem") for folder in root]),
        "nltk.corpus": _package("nltk.corpus", []),
    }
    stand_ins["nltk.corpus"].stopwords = _NoCorpus()  # type: ignore[attr-defined]
    # Other threads must not import nltk while the stand-ins are in place: the import lock
    # stops them from starting any import meanwhile (this thread's own imports go ahead).
    import _imp

    _imp.acquire_lock()
    try:
        if any(name == "nltk" or name.startswith("nltk.") for name in sys.modules):
            return None
        sys.modules.update(stand_ins)
        try:
            module = importlib.import_module("nltk.stem.snowball")
            found = module.SnowballStemmer
        finally:
            for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
                del sys.modules[name]
    finally:
        _imp.release_lock()
    return found


def _package(name: str, path: list[str]) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = path
    return module


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
        #: Case-folded word -> term.
        self._cache: dict[str, str] = {}
        #: Word as written -> term, or "" for a stopword: :meth:`terms` reads one dict per word.
        self._memo: dict[str, str] = {}
        #: Word as written -> how it starts (:func:`_lead_keys`), for the words :meth:`find`
        #: passed over unstemmed.
        self._leads: dict[str, tuple[str, ...]] = {}

    def normalize(self, word: str) -> str:
        """Stem and fold one lower-cased word (cached)."""
        term = self._cache.get(word)
        if term is None:
            term = self._normalized(word)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = term
        return term

    def _normalized(self, word: str) -> str:
        term = word
        if not word.isascii():
            # One spelling per word: composed accents, as the stemmers expect.
            term = unicodedata.normalize("NFC", word)
        term = self._stemmer(term) if self._stemmer is not None else term
        if not term.isascii():
            # Compatibility letters (mathematical bold A) fold to capitals: fold case again.
            term = fold_accents(term).lower()
        return term

    def tokens(self, text: str, *, keep_stopped: bool = False) -> Iterator[Token]:
        """Yield the tokens of ``text``; stopwords are skipped unless ``keep_stopped``.

        Positions count only kept tokens, so a phrase matches across a removed stopword
        ("state of the art" finds "state-of-the-art").
        """
        position = 0
        for match in _patterns()[0].finditer(text):
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
            term = self.normalize(word)
            if not term:
                continue  # nothing left once folded (a lone combining mark): no term, as in terms()
            yield Token(term, position, start, match.end())
            position += 1

    def written_terms(self, text: str) -> list[tuple[str, str]]:
        """``(word as written, term)`` for each token of ``text`` that :meth:`tokens` yields
        (no stopwords): the words behind the terms, without a token object per word where
        the text has no CJK characters (then the "word" of a bigram is the bigram)."""
        _, words_re, cjk_re = _patterns()
        if cjk_re.search(text) is not None:
            return [(text[t.start : t.end], t.term) for t in self.tokens(text)]
        words = words_re.findall(text)
        memo = self._memo
        pairs = []
        for word in words:
            term = memo.get(word)
            if term is None:
                term = self._word_term(word)
            if term:
                pairs.append((word, term))
        return pairs

    def find(
        self,
        text: str,
        wanted: Callable[[str], bool],
        heads: frozenset[str] | None = None,
    ) -> list[tuple[int, int]]:
        """``(start, end)`` of each token of ``text`` (as :meth:`tokens` yields them: no
        stopwords) whose term is ``wanted``: what a highlighter marks.

        Text without CJK characters takes the way of :meth:`terms` (one ``findall``, the
        memo of words as written, no token object per word); offsets are read only when a
        term is wanted. ``wanted`` is called once per token: a set's ``__contains__`` is
        the cheapest. ``heads`` (from :meth:`heads`), when given, holds the starts of every
        term that can be wanted: a word new to the memo that cannot start that way is
        passed over unstemmed.
        """
        if heads is not None and (text.isascii() or _ascii_words().search(text) is None):
            return self._find_ascii(text, wanted, heads)
        if not text.isascii() and _patterns()[2].search(text) is not None:
            return [(t.start, t.end) for t in self.tokens(text) if wanted(t.term)]
        parts = _splitter().split(text)
        words = parts[1::2]
        terms: list[str | None] = list(map(self._memo.get, words))
        if None in terms:
            # Stemming a new word costs ~20 µs: the hits of a fresh process are full of them.
            leads = self._leads
            for i in [i for i, term in enumerate(terms) if term is None]:
                word = words[i]
                if heads is not None:
                    keys = leads.get(word)
                    if keys is None:
                        if len(leads) >= _CACHE_LIMIT:
                            leads.clear()
                        keys = leads[word] = _lead_keys(word)
                    if keys and heads.isdisjoint(keys):
                        terms[i] = ""  # its term cannot be wanted
                        continue
                terms[i] = self._word_term(word)
        chosen = [i for i, term in enumerate(terms) if term and wanted(term)]
        if not chosen:
            return []
        # Word i is parts[2i + 1]: it starts where parts[:2i + 1] end.
        ends = list(accumulate(map(len, parts)))
        return [(ends[2 * i], ends[2 * i + 1]) for i in chosen]

    def _find_ascii(
        self, text: str, wanted: Callable[[str], bool], heads: frozenset[str]
    ) -> list[tuple[int, int]]:
        """:meth:`find` in a text whose words are all ASCII (other characters are between
        words): only the words that start with a head are looked at, found by ``str.find``
        in the lower-cased text (the same length: only ASCII letters change)."""
        lower = text.lower()
        starts: set[int] = set()
        for head in heads:
            if head[0] == "\x00":
                continue  # for words with other characters first
            at = lower.find(head)
            while at >= 0:
                before = lower[at - 1] if at else " "
                if not (before.isalnum() and before.isascii()) and before != "_":
                    starts.add(at)  # a word starts here
                at = lower.find(head, at + 1)
        if not starts:
            return []
        memo = self._memo
        word_at = _ascii_word().match
        found = []
        for at in sorted(starts):
            match = word_at(text, at)
            assert match is not None
            word = match.group()
            term = memo.get(word)
            if term is None:
                term = self._word_term(word)
            if term and wanted(term):
                found.append((at, match.end()))
        return found

    def heads(self, starts: Iterable[str]) -> frozenset[str] | None:
        """What the words of the terms starting with any of ``starts`` begin with, for
        :meth:`find`: each start's first one to three characters, as :func:`kept_head`
        says; None when that cannot be told (Arabic and Russian stems, an empty start)."""
        starts = list(starts)
        if not self.keeps_initials or not all(starts):
            return None
        if self._stemmer is not None and self.language == "finnish":
            # Finnish undoubles consonants anywhere ("loppuiäksi" -> "lopuia"): one letter.
            kept = {s[0] for s in starts}
        else:
            kept = {s[: kept_head(s)] for s in starts}
        # A word whose first characters are not all ASCII is told by its first one alone.
        return frozenset(kept | {"\x00" + s[0] for s in starts})

    @property
    def keeps_initials(self) -> bool:
        """Whether the term of a word starting with an ASCII character starts with that
        character, lower-cased: true of every Snowball stemmer searchlib uses but Arabic's
        (which removes prefixes) and Russian's (which turns the Latin letters of a word with
        Cyrillic ones into Cyrillic), and of unstemmed terms (tests check it on random words
        of each language and on a real corpus's vocabulary)."""
        return self.language not in ("arabic", "russian") or self._stemmer is None

    def terms(self, text: str) -> list[str]:
        """The index terms of ``text``, in order: the terms of :meth:`tokens`, whose positions
        are their indexes in this list.

        Text without CJK characters (nearly all of it) takes a faster way with the same
        result: the words are listed by one ``findall`` and each is looked up in a memo of
        words as written, with no match or token object per word.
        """
        _, words_re, cjk_re = _patterns()
        if cjk_re.search(text) is not None:
            return [t.term for t in self.tokens(text)]
        words = words_re.findall(text)
        terms: list[str | None] = list(map(self._memo.get, words))
        if None in terms:
            for i, term in enumerate(terms):
                if term is None:
                    terms[i] = self._word_term(words[i])
        if "" in terms:
            return [term for term in terms if term]
        return terms  # type: ignore[return-value]  # no None is left

    def _word_term(self, word: str) -> str:
        """The term of one word as written ("" for a stopword), remembered."""
        folded = word.casefold()
        # Not through normalize(): that memo would hold the same words a second time.
        term = "" if folded in self._stops else self._normalized(folded)
        if len(self._memo) >= _CACHE_LIMIT:
            self._memo.clear()
        self._memo[word] = term
        return term
