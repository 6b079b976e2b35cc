"""Tests for searchlib.analysis: exact terms, tokens and offsets, languages, stopwords."""

from __future__ import annotations

import doctest
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import searchlib.analysis
from searchlib.analysis import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Analyzer,
    Token,
    _patterns,
    check_language,
    fold_accents,
    kept_head,
    stopwords,
)
from searchlib.errors import SearchlibError, UsageError

ENGLISH = Analyzer("english")
LANGUAGE_LIST = (
    "arabic, danish, dutch, english, finnish, french, german, hungarian, italian, norwegian, "
    "portuguese, romanian, russian, spanish, swedish"
)


def nltk_has_stopwords_corpus() -> bool:
    import nltk

    try:
        nltk.data.find("corpora/stopwords")
    except LookupError:
        return False
    return True


def test_module_doctests_pass() -> None:
    result = doctest.testmod(searchlib.analysis)
    assert (result.failed, result.attempted) == (0, 1)


# --- terms -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("The Zürich courts ruled on facial-recognition",
         ["zurich", "court", "rule", "facial", "recognit"]),
        ("Running runners ran quickly to the stations",
         ["run", "runner", "ran", "quick", "station"]),
        ("running", ["run"]),
        ("The cats are running and the dogs were barking",
         ["cat", "run", "dog", "bark"]),
        ("THE CATS and The Dogs", ["cat", "dog"]),
        ("Straße STRASSE", ["strass", "strass"]),
        ("São Paulo, Kraków and Øresund", ["sao", "paulo", "krakow", "oresund"]),
        # Folding runs after stemming: the English stemmer leaves 'résumé' whole.
        ("naïve café résumé resume", ["naiv", "cafe", "resume", "resum"]),
        ("COVID-19 vaccines in 2021", ["covid", "19", "vaccin", "2021"]),
        ("hello_world", ["hello_world"]),
        ("don't stop", ["stop"]),
        ("", []),
        ("   \n\t ", []),
        ("!!! ... ---", []),
        ("the of and to a", []),
    ],
)
def test_english_terms(text: str, terms: list[str]) -> None:
    assert ENGLISH.terms(text) == terms


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("人脸识别", ["人脸", "脸识", "识别"]),
        ("人", ["人"]),
        ("人 脸", ["人", "脸"]),
        ("识别", ["识别"]),
        ("AI人脸识别technology", ["ai", "人脸", "脸识", "识别", "technolog"]),
        ("The 人脸识别 systems", ["人脸", "脸识", "识别", "system"]),
        ("日本語のテキスト", ["日本", "本語", "語の", "のテ", "テキ", "キス", "スト"]),
        ("한국어 문장", ["한국", "국어", "문장"]),
        ("北京, Zürich 和 東京", ["北京", "zurich", "和", "東京"]),
    ],
)
def test_cjk_bigrams(text: str, terms: list[str]) -> None:
    assert ENGLISH.terms(text) == terms


def test_cjk_bigram_of_a_query_matches_inside_a_longer_run() -> None:
    assert set(ENGLISH.terms("识别")) <= set(ENGLISH.terms("人脸识别技术"))


def test_without_stemming() -> None:
    assert Analyzer(stem=False).terms("The Running Zürich STRASSE courts") == [
        "running", "zurich", "strasse", "courts",
    ]


def test_without_stopword_removal() -> None:
    analyzer = Analyzer(remove_stopwords=False)
    assert analyzer.terms("The cats of the town") == ["the", "cat", "of", "the", "town"]
    assert [t.stopped for t in analyzer.tokens("the cat", keep_stopped=True)] == [False, False]


def test_without_stemming_or_stopwords() -> None:
    assert Analyzer(stem=False, remove_stopwords=False).terms("The Cats ran") == [
        "the", "cats", "ran",
    ]


def test_analyzer_settings_are_kept() -> None:
    analyzer = Analyzer(" German ", stem=False, remove_stopwords=False)
    assert (analyzer.language, analyzer.stem, analyzer.remove_stopwords) == ("german", False, False)
    assert (ENGLISH.language, ENGLISH.stem, ENGLISH.remove_stopwords) == ("english", True, True)
    assert Analyzer().language == DEFAULT_LANGUAGE == "english"


def test_normalize_stems_and_folds_one_word() -> None:
    assert [ENGLISH.normalize(w) for w in ("running", "zürich", "résumés")] == [
        "run", "zurich", "resume",
    ]
    assert ENGLISH.normalize("running") == "run"  # served from the cache, same answer


def test_german_stemming() -> None:
    assert Analyzer("german").terms("Häuser Bäume gebaut") == ["haus", "baum", "gebaut"]


def test_german_stopwords_depend_on_the_nltk_corpus() -> None:
    terms = Analyzer("german").terms("die Häuser")
    assert terms == (["haus"] if nltk_has_stopwords_corpus() else ["die", "haus"])


def test_french_stemming_folds_accents_after_stemming() -> None:
    assert Analyzer("french", remove_stopwords=False).terms("Élections présidentielles") == [
        "elect", "presidentiel",
    ]


# --- accent folding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("São Paulo", "Sao Paulo"),
        ("Zürich", "Zurich"),
        ("Kraków", "Krakow"),
        ("ø", "o"),
        ("øresund", "oresund"),
        ("æ œ ł đ ð þ ı", "ae oe l d d th i"),
        ("naïve café résumé", "naive cafe resume"),
        ("Ångström", "Angstrom"),
        ("ﬁ", "fi"),
        ("plain ascii", "plain ascii"),
        ("人脸识别", "人脸识别"),
        ("", ""),
    ],
)
def test_fold_accents(text: str, folded: str) -> None:
    assert fold_accents(text) == folded


@pytest.mark.parametrize(("text", "folded"), [("Łódź", "Lodz"), ("Øresund", "Oresund")])
def test_fold_accents_folds_upper_case_letters_too(text: str, folded: str) -> None:
    assert fold_accents(text) == folded


@pytest.mark.parametrize("word", ["Zürich", "São", "Kraków", "Øresund", "Łódź"])
def test_analyzer_folds_accents_of_upper_case_words(word: str) -> None:
    assert Analyzer(stem=False).terms(word) == [
        {"Zürich": "zurich", "São": "sao", "Kraków": "krakow", "Øresund": "oresund",
         "Łódź": "lodz"}[word]
    ]


@pytest.mark.parametrize("word", ["Zürich", "São", "Kraków", "naïve"])
def test_decomposed_accents_give_the_same_terms(word: str) -> None:
    decomposed = unicodedata.normalize("NFD", word)
    assert decomposed != word
    assert ENGLISH.terms(decomposed) == ENGLISH.terms(word)


@pytest.mark.parametrize(("text", "terms"), [("𝐀𝐁𝐂", ["abc"]), ("ℌello", ["hello"])])
def test_compatibility_capitals_give_lower_case_terms(text: str, terms: list[str]) -> None:
    assert ENGLISH.terms(text) == terms


# --- tokens: positions and offsets -------------------------------------------------------------


def test_positions_skip_stopwords() -> None:
    assert list(ENGLISH.tokens("The cat sat on the mat")) == [
        Token("cat", 0, 4, 7),
        Token("sat", 1, 8, 11),
        Token("mat", 2, 19, 22),
    ]


def test_keep_stopped_yields_stopped_tokens() -> None:
    assert list(ENGLISH.tokens("The cat sat on the mat", keep_stopped=True)) == [
        Token("the", 0, 0, 3, stopped=True),
        Token("cat", 0, 4, 7),
        Token("sat", 1, 8, 11),
        Token("on", 2, 12, 14, stopped=True),
        Token("the", 2, 15, 18, stopped=True),
        Token("mat", 2, 19, 22),
    ]


def test_phrase_across_a_removed_stopword_has_adjacent_positions() -> None:
    assert [(t.term, t.position) for t in ENGLISH.tokens("state-of-the-art")] == [
        ("state", 0), ("art", 1),
    ]


def test_cjk_tokens_positions_and_offsets() -> None:
    assert list(ENGLISH.tokens("AI 人脸识别 the 人")) == [
        Token("ai", 0, 0, 2),
        Token("人脸", 1, 3, 5),
        Token("脸识", 2, 4, 6),
        Token("识别", 3, 5, 7),
        Token("人", 4, 12, 13),
    ]


def test_token_offsets_slice_the_original_text() -> None:
    text = "  Zürich's STRASSE, Straße\tand 人脸识别! "
    tokens = list(ENGLISH.tokens(text, keep_stopped=True))
    assert [(text[t.start : t.end], t.term, t.stopped) for t in tokens] == [
        ("Zürich", "zurich", False),
        ("s", "s", True),
        ("STRASSE", "strass", False),
        ("Straße", "strass", False),
        ("and", "and", True),
        ("人脸", "人脸", False),
        ("脸识", "脸识", False),
        ("识别", "识别", False),
    ]


def test_token_is_a_frozen_value() -> None:
    token = Token("cat", 0, 4, 7)
    assert token == Token(term="cat", position=0, start=4, end=7, stopped=False)
    with pytest.raises(AttributeError):
        token.term = "dog"  # type: ignore[misc]


# --- languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "language"),
    [("english", "english"), ("English", "english"), ("  GERMAN ", "german"),
     ("swedish", "swedish")],
)
def test_check_language_normalises(name: str, language: str) -> None:
    assert check_language(name) == language


@pytest.mark.parametrize("name", ["klingon", "Klingon", "", "en", "chinese", "english "+"x"])
def test_check_language_rejects_unknown_languages(name: str) -> None:
    with pytest.raises(UsageError) as info:
        check_language(name)
    assert str(info.value) == f"unknown language {name!r}: choose one of {LANGUAGE_LIST}"


def test_unknown_language_error_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        Analyzer("klingon")
    assert str(info.value) == f"unknown language 'klingon': choose one of {LANGUAGE_LIST}"
    assert isinstance(info.value, SearchlibError)
    assert (info.value.exit_code, info.value.http_status) == (2, 422)


def test_stopwords_of_an_unknown_language_raise() -> None:
    with pytest.raises(UsageError) as info:
        stopwords("klingon")
    assert str(info.value) == f"unknown language 'klingon': choose one of {LANGUAGE_LIST}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_builds_an_analyzer(language: str) -> None:
    analyzer = Analyzer(language)
    assert analyzer.language == language
    assert analyzer.terms("") == []


# --- stopwords ---------------------------------------------------------------------------------


def test_english_stopwords() -> None:
    words = stopwords("english")
    assert isinstance(words, frozenset)
    assert len(words) == 179
    assert {"the", "a", "and", "of", "i", "me", "aren't", "wouldn", "ma"} <= words
    assert not {"cat", "court", "#", ""} & words
    assert all(w == w.strip().lower() and not w.startswith("#") for w in words)
    assert stopwords(" English ") == words


def test_german_stopwords_are_a_frozenset() -> None:
    words = stopwords("german")
    assert isinstance(words, frozenset)
    if nltk_has_stopwords_corpus():
        from nltk.corpus import stopwords as nltk_stopwords

        assert words == frozenset(nltk_stopwords.words("german"))
    else:
        assert words == frozenset()


# --- properties --------------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.text(), st.booleans(), st.sampled_from(["english", "german", "french", "russian"]))
def test_tokens_never_raise_and_offsets_slice_the_text(
    text: str, keep_stopped: bool, language: str
) -> None:
    tokens = list(Analyzer(language).tokens(text, keep_stopped=keep_stopped))
    kept = [t for t in tokens if not t.stopped]
    assert [t.position for t in kept] == list(range(len(kept)))
    for token in tokens:
        assert 0 <= token.start < token.end <= len(text)
        assert text[token.start : token.end]
        assert token.term
        assert token.stopped <= keep_stopped
    starts = [t.start for t in tokens]
    assert starts == sorted(starts)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec="ascii")))
def test_ascii_terms_are_lower_case_ascii(text: str) -> None:
    for term in ENGLISH.terms(text):
        assert term == term.lower()
        assert term.isascii()


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)))
def test_cjk_runs_become_overlapping_bigrams(text: str) -> None:
    expected = [text] if len(text) == 1 else [text[i : i + 2] for i in range(len(text) - 1)]
    assert ENGLISH.terms(text) == expected


@example("𝐀𝐁𝐂")
@settings(max_examples=200)
@given(st.text())
def test_terms_are_lower_case(text: str) -> None:
    for term in ENGLISH.terms(text):
        assert term == term.lower()


# --- the memo and the fast word path ------------------------------------------------------------

WORDS = st.text(
    alphabet=st.sampled_from(
        ["a", "B", "é", "ß", "İ", "\u0301", "\u0345", "Ω", "𝐀", "_", "1", " ", "-", "’", "\n",
         "人", "脸", "ø", "Ǆ", "ﬁ"]
    ),
    max_size=40,
)


@settings(max_examples=500)
@given(st.one_of(st.text(), WORDS), st.sampled_from(["english", "german", "russian"]),
       st.booleans(), st.booleans())
def test_terms_are_the_terms_of_the_tokens(
    text: str, language: str, stem: bool, remove_stopwords: bool
) -> None:
    analyzer = Analyzer(language, stem=stem, remove_stopwords=remove_stopwords)
    expected = [t.term for t in Analyzer(language, stem=stem,
                                         remove_stopwords=remove_stopwords).tokens(text)]
    assert analyzer.terms(text) == expected
    assert analyzer.terms(text) == expected  # again, from the memo


def test_a_word_that_folds_to_nothing_is_no_token() -> None:
    # Positions are indexes into terms(): a token without a term would shift them.
    analyzer = Analyzer("english")
    tokens = list(analyzer.tokens("covid \uff9e cases"))
    assert [(t.term, t.position) for t in tokens] == [("covid", 0), ("case", 1)]
    assert analyzer.terms("covid \uff9e cases") == ["covid", "case"]


@example("\uff9e", "english", False, False)  # folds to a lone combining mark: no term
@example("a \uff9e b", "english", True, True)
@settings(max_examples=500)
@given(st.one_of(st.text(), WORDS), st.sampled_from(["english", "german", "russian"]),
       st.booleans(), st.booleans())
def test_find_gives_the_spans_of_the_wanted_tokens(
    text: str, language: str, stem: bool, remove_stopwords: bool
) -> None:
    analyzer = Analyzer(language, stem=stem, remove_stopwords=remove_stopwords)
    tokens = list(Analyzer(language, stem=stem, remove_stopwords=remove_stopwords).tokens(text))
    assert analyzer.find(text, lambda term: True) == [(t.start, t.end) for t in tokens]
    wanted = {t.term for t in tokens[::2]}  # some terms, each wherever it occurs
    expected = [(t.start, t.end) for t in tokens if t.term in wanted]
    assert analyzer.find(text, wanted.__contains__) == expected
    assert analyzer.find(text, wanted.__contains__) == expected  # again, from the memo
    assert analyzer.find(text, lambda term: False) == []


# Words from pieces that stemmers rewrite (initial y, -ies, -ying, doubled letters, accents,
# ligatures, Cyrillic and Arabic endings), after an ASCII first letter.
ASCII_INITIAL_WORDS = st.tuples(
    st.sampled_from(["y", "Y", "a", "s", "I", "1", "_", "e", "d", "tt", "ab"]),
    st.lists(st.sampled_from(
        ["a", "B", "y", "Y", "s", "i", "é", "ß", "İ", "\u0301", "Ω", "ø", "ﬁ", "1", "_", "ies",
         "ying", "ement", "ness", "ility", "ly", "tt", "kk", "ого", "ться", "ات", "ال"]
    ), max_size=6),
).map(lambda parts: parts[0] + "".join(parts[1]))


@settings(max_examples=300)
@given(st.sampled_from([lang for lang in LANGUAGES if lang not in ("arabic", "russian")]),
       st.one_of(ASCII_INITIAL_WORDS, st.from_regex(r"\A[A-Za-z0-9_]\w{0,15}\Z")))
@example("english", "dying")
@example("english", "ability")
@example("english", "skies")
@example("english", "Lying")
@example("english", "idly")
def test_terms_keep_the_ascii_start_of_their_word(language: str, text: str) -> None:
    analyzer = Analyzer(language)
    assert analyzer.keeps_initials
    for word in _patterns()[1].findall(text):
        term = analyzer._word_term(word)
        if term and word[0].isascii():
            assert term[0] == word[0].lower(), (word, term)
        n = kept_head(term) if term and language != "finnish" else 0
        if n and word[:n].isascii():
            assert term[:n] == word[:n].lower(), (word, term)


def test_finnish_stems_may_lose_the_second_letter() -> None:
    # Why Finnish heads are one letter: its stemmer undoubles consonants anywhere.
    assert Analyzer("finnish").terms("ttyee") == ["tyee"]
    assert Analyzer("finnish").heads(["tyee"]) == frozenset({"t", "\x00t"})
    assert Analyzer("english").heads(["die", "abil", "vaccin"]) == frozenset(
        {"d", "ab", "vac", "\x00d", "\x00a", "\x00v"}
    )
    assert Analyzer("english").heads(["vaccin", ""]) is None  # an empty start: anything


def test_arabic_and_russian_stems_may_lose_their_initial() -> None:
    assert Analyzer("russian").terms("AĀ") == ["аa"]  # a Cyrillic а first
    assert not Analyzer("arabic").keeps_initials
    assert not Analyzer("russian").keeps_initials
    assert Analyzer("arabic", stem=False).keeps_initials
    assert Analyzer("russian").heads(["a"]) is None


@settings(max_examples=300)
@given(st.one_of(st.text(), WORDS, ASCII_INITIAL_WORDS.map(lambda w: f"{w} dying {w.upper()}")),
       st.sampled_from(["english", "german", "finnish", "french", "arabic", "russian"]))
def test_find_with_heads_finds_what_find_without_them_finds(text: str, language: str) -> None:
    tokens = list(Analyzer(language).tokens(text))
    wanted = {t.term for t in tokens[1::2]} | {"zz", "die"}
    expected = Analyzer(language).find(text, wanted.__contains__)
    analyzer = Analyzer(language)
    heads = analyzer.heads(wanted)
    assert analyzer.find(text, wanted.__contains__, heads) == expected
    assert analyzer.find(text, wanted.__contains__, heads) == expected  # words passed over


# News text as it mostly is: ASCII words (any case, digits, underscores) between spaces,
# punctuation, curly quotes and dashes, sometimes a word of other letters or a mark.
NEWS_TEXT = st.lists(st.one_of(
    st.sampled_from(["Dying", "ability", "vaccines", "Vaccination", "vacuum", "the", "THE",
                     "school's", "Schools", "covid19", "_id", "a", "I", "eu", "EU", "uk",
                     "Müller", "e\u0301t", "naïve", "ﬁle", "2020", "x2"]),
    st.from_regex(r"\A[A-Za-z0-9_]{1,9}\Z"),
), max_size=12).flatmap(lambda words: st.lists(
    st.sampled_from([" ", "  ", "-", "’", "“", "—", ", ", ".", "'", "_", "(", "\n"]),
    min_size=len(words), max_size=len(words),
).map(lambda seps: "".join(w + sep for w, sep in zip(words, seps, strict=True))))


@settings(max_examples=400)
@given(NEWS_TEXT, st.sampled_from(["english", "german", "french", "finnish"]), st.data())
def test_find_in_ascii_words_finds_what_find_without_heads_finds(
    text: str, language: str, data: st.DataObject
) -> None:
    tokens = list(Analyzer(language).tokens(text))
    terms = sorted({t.term for t in tokens})
    wanted = set(data.draw(st.lists(st.sampled_from(terms), max_size=3))) if terms else set()
    wanted |= {"vaccin", "die", "eu"}
    expected = [(t.start, t.end) for t in tokens if t.term in wanted]
    analyzer = Analyzer(language)
    assert analyzer.find(text, wanted.__contains__) == expected
    heads = analyzer.heads(wanted)
    assert heads is not None
    for _ in range(2):  # words new to the memo, then known
        assert analyzer.find(text, wanted.__contains__, heads) == expected


@settings(max_examples=300)
@given(st.one_of(st.text(), WORDS), st.sampled_from(["english", "german", "russian"]))
def test_written_terms_are_the_tokens_with_their_words(text: str, language: str) -> None:
    expected = [(text[t.start : t.end], t.term) for t in Analyzer(language).tokens(text)]
    analyzer = Analyzer(language)
    assert analyzer.written_terms(text) == expected
    assert analyzer.written_terms(text) == expected  # again, from the memo


def test_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(searchlib.analysis, "_CACHE_LIMIT", 3)
    analyzer = Analyzer("english")
    words = ["running", "Runners", "THE", "stations", "quickly", "cats", "running"]
    for _ in range(3):
        assert analyzer.terms(" ".join(words)) == [
            "run", "runner", "station", "quick", "cat", "run"
        ]
        assert len(analyzer._memo) <= 3
        assert len(analyzer._cache) <= 3


def test_snowball_stemmer_loads_without_nltk_package() -> None:
    # In a new interpreter: nltk's package __init__ (and scipy, through nltk.metrics) stays
    # unloaded, and a later "import nltk" gets the whole real package.
    script = (
        "import sys\n"
        "from searchlib.analysis import Analyzer, snowball_class\n"
        "assert Analyzer('english').terms('running stations') == ['run', 'station']\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('nltk', 'scipy')], "
        "sorted(sys.modules)\n"
        "import nltk\n"
        "from nltk.stem.snowball import SnowballStemmer\n"
        "assert hasattr(nltk, 'word_tokenize') and SnowballStemmer is not snowball_class()\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


def test_snowball_stemmer_falls_back_to_the_package_import_once_nltk_is_loaded() -> None:
    script = (
        "import nltk.stem.snowball\n"
        "from searchlib.analysis import snowball_class\n"
        "assert snowball_class() is nltk.stem.snowball.SnowballStemmer\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


def test_light_snowball_stems_as_nltk() -> None:
    # The stand-in load first, then the package's own class: the same stems in every language.
    script = (
        "from searchlib.analysis import LANGUAGES, snowball_class\n"
        "light = snowball_class()\n"
        "from nltk.stem.snowball import SnowballStemmer\n"
        "assert light is not SnowballStemmer\n"
        "words = ['running', 'généralement', 'häuser', 'пробежка', 'corazones', 'ønskede',\n"
        "         'yhteys', 'kitaplar', 'alergie', 'المكتبات', 'gyorsan', 'zzz', 'a', '']\n"
        "for language in LANGUAGES:\n"
        "    ours, theirs = light(language), SnowballStemmer(language)\n"
        "    assert [ours.stem(w) for w in words] == [theirs.stem(w) for w in words], language\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


@settings(max_examples=300)
@given(st.one_of(st.text(), WORDS, st.just("ﷺ Straße İstanbul"), st.just("")))
def test_analysed_terms_travel_joined_and_come_back_whole(text: str) -> None:
    from searchlib.records import TERM_SEPARATOR, analyse_texts

    analysed = analyse_texts({"title": text, "spell": text}, "english")
    assert analysed.terms["title"] == Analyzer("english").terms(text)
    plain = Analyzer("english", stem=False, remove_stopwords=False).terms(text)
    assert analysed.terms["spell"] == plain
    assert all(TERM_SEPARATOR not in term and term for term in plain)
    assert dict(analysed.terms) == {"title": analysed.terms["title"], "spell": plain}
