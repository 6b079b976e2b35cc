"""The real corpus (6,241 news files): skipped where it is absent.

It is ``coronavirus-news`` in the folder ``SEARCHLIB_TEST_CORPORA`` names (by default
``../shared/corpora`` beside the repository).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import CORPUS, needs_corpus

from searchlib import Engine, IndexReport

pytestmark = [needs_corpus(), pytest.mark.corpus]


@pytest.fixture(scope="module")
def corpus_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, IndexReport]]:
    with Engine(tmp_path_factory.mktemp("corpus") / "index") as engine:
        yield engine, engine.index([CORPUS])


def test_every_file_is_indexed(corpus_engine: tuple[Engine, IndexReport]) -> None:
    engine, report = corpus_engine
    # One file has a U+0097 control character in its YAML: tolerated, not rejected.
    assert (report.added, report.failed) == (6241, [])
    # 124 files repeat another file's URL: 123 give the very same webUrl string as another
    # file, and one differs from another only by a trailing slash (the same URL normalised).
    assert report.duplicate_urls == 124
    stats = engine.stats().to_dict()
    # 1,395 of 1,448 related URLs are articles too.
    assert (stats["documents"], stats["by_kind"], stats["files"]) == (
        6170, {"article": 6117, "related": 53}, 6241
    )


def test_second_run_finds_everything_unchanged(
    corpus_engine: tuple[Engine, IndexReport],
) -> None:
    engine, _ = corpus_engine
    generation = engine.backend.generation()
    again = engine.index([CORPUS])
    assert (again.unchanged, again.added, again.updated, again.removed) == (6241, 0, 0, 0)
    assert again.duplicate_urls == 124  # of the whole index, not of what the run changed
    assert engine.backend.generation() == generation


@pytest.mark.parametrize(
    "text", ["", "vaccine", "coronavirus cases", '"social distancing"', "trump -china", "mask*"]
)
def test_facet_counts_equal_filtered_totals(
    corpus_engine: tuple[Engine, IndexReport], text: str
) -> None:
    engine, _ = corpus_engine
    results = engine.search(text, facet_size=8)
    assert results.total > 0
    for name, keyword in (("topic", "topics"), ("provider", "providers")):
        for value in results.facets[name].values:
            filtered = engine.search(text, **{keyword: [value.value]}, limit=0)
            assert filtered.total == value.count, (text, name, value.value)


def test_exact_title_match_comes_first(corpus_engine: tuple[Engine, IndexReport]) -> None:
    engine, _ = corpus_engine
    title = "NBA's Utah Jazz says Gobert, Mitchell ready to 'move forward' after coronavirus feud"
    assert engine.search(title, limit=1).hits[0].title == title



VOCABULARY_CHECK = """
import sys, unicodedata
from pathlib import Path
from searchlib.analysis import Analyzer, _patterns, fold_accents, kept_head, stopwords
from searchlib.documents import parse_file
from searchlib.errors import DocumentError

analyzer = Analyzer("english")
words = set()
for path in sorted(Path(sys.argv[1]).rglob("*.md")):
    try:
        article = parse_file(path)
    except DocumentError:
        continue
    texts = [article.title, article.excerpt, article.body]
    texts += [text for item in article.related for text in (item.title, item.excerpt)]
    for text in texts:
        analyzer.terms(text)  # through the memo, as indexing does
        words.update(_patterns()[1].findall(text))
memoized = {word: analyzer._memo.get(word) for word in words}
missing = sum(term is None for term in memoized.values())

from nltk.stem.snowball import SnowballStemmer  # the whole nltk package, imported as usual

stem = SnowballStemmer("english").stem
stops = stopwords("english")
differ = []
for word, term in memoized.items():
    folded = word.casefold()
    if folded in stops:
        direct = ""
    else:
        direct = stem(unicodedata.normalize("NFC", folded))
        if not direct.isascii():
            direct = fold_accents(direct).lower()
    if term is not None and term != direct:
        differ.append((word, term, direct))
    # Highlighting skips words that cannot start like a wanted term (kept_head).
    if direct and word[0].isascii() and direct[0] != word[0].lower():
        differ.append((word, "initial", direct))
    n = kept_head(direct) if direct else 0
    if n and word[:n].isascii() and direct[:n] != word[:n].lower():
        differ.append((word, "head", direct))
print(len(words), missing, differ[:5])
"""


def test_memoized_stems_equal_snowball_over_the_whole_vocabulary() -> None:
    # Every distinct word of the corpus's titles, excerpts, bodies and related items: its term
    # from the analyzer's memo (stemmed by the stemmer loaded without nltk's package) equals
    # nltk's Snowball stem of it computed directly, and starts with the word's first letter
    # when that is ASCII (what Analyzer.keeps_initials promises), and with its first kept_head
    # characters when those are (what Analyzer.heads relies on).
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", VOCABULARY_CHECK, str(CORPUS)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    vocabulary, missing, differ = done.stdout.split(" ", 2)
    assert int(vocabulary) == 20_565  # distinct words as written (case kept)
    assert (int(missing), differ.strip()) == (0, "[]")
