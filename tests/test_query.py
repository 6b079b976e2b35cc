"""Tests for searchlib.query: exact trees, exact errors, and properties of parse/to_string."""

from __future__ import annotations

import contextlib
import doctest
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib.query
from searchlib.errors import QueryError, UsageError
from searchlib.query import (
    FIELDS,
    MAX_DEPTH,
    MAX_FUZZY_DISTANCE,
    MAX_QUERY_LENGTH,
    MAX_SYNTAX_NOTICES,
    MIN_PREFIX_LENGTH,
    And,
    Fuzzy,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Seq,
    Term,
    parse,
    parse_lenient,
    terms,
    to_string,
)

NODE_TYPES = (Term, Phrase, Prefix, Fuzzy, Seq, And, Or, Not, MatchAll)


def term(text: str, field: str | None = None) -> Term:
    return Term(text, field)


def phrase(*words: str, field: str | None = None) -> Phrase:
    return Phrase(tuple(words), field)


def seq(*children: Node) -> Seq:
    return Seq(tuple(children))


def and_(*children: Node) -> And:
    return And(tuple(children))


def or_(*children: Node) -> Or:
    return Or(tuple(children))


a, b, c, d = term("a"), term("b"), term("c"), term("d")


def test_constants() -> None:
    assert MAX_QUERY_LENGTH == 1000
    assert MAX_DEPTH == 32
    assert MIN_PREFIX_LENGTH == 2
    assert MAX_FUZZY_DISTANCE == 2
    assert MAX_SYNTAX_NOTICES == 4
    assert FIELDS == ("title", "excerpt", "provider", "topic", "kind")


def test_module_examples() -> None:
    assert doctest.testmod(searchlib.query).failed == 0


# -- exact trees ---------------------------------------------------------------------------

CASES: list[tuple[str, Node]] = [
    # empty and words
    ("", MatchAll()),
    ("   ", MatchAll()),
    ("\t\n\r\x00 \x7f", MatchAll()),
    ("covid", term("covid")),
    ("covid vaccine", seq(term("covid"), term("vaccine"))),
    ("  covid   vaccine  ", seq(term("covid"), term("vaccine"))),
    ("a\tb\x00c\u3000d", seq(a, b, c, d)),  # control characters and CJK space separate words
    ("or and not", seq(term("or"), term("and"), term("not"))),  # lowercase operators are words
    ("Or Not", seq(term("Or"), term("Not"))),
    # hyphens
    ("covid-19", term("covid-19")),
    ("e-mail scam", seq(term("e-mail"), term("scam"))),
    ("foo-", term("foo-")),
    ("a - b", seq(a, b)),  # a lone dash is punctuation
    ("a -- b ---", seq(a, b)),
    ("-", MatchAll()),
    # unicode
    ("東京 オリンピック", seq(term("東京"), term("オリンピック"))),
    ("日本語", term("日本語")),
    ("café Zürich", seq(term("café"), term("Zürich"))),
    ("🙂", term("🙂")),
    # phrases
    ('"climate change"', phrase("climate", "change")),
    ('"  climate   change  "', phrase("climate", "change")),
    ('"climate"', term("climate")),  # a one-word phrase is a word
    ('""', MatchAll()),
    ('a "" b', seq(a, b)),
    ('"   "', MatchAll()),
    ('"a OR b"', phrase("a", "OR", "b")),  # inside quotes everything is a word
    ('"OR"', term("OR")),
    ('"foo*"', term("foo*")),
    ('"(a b)"', phrase("(a", "b)")),
    ('a"b c"d', seq(a, phrase("b", "c"), d)),
    ('"a\tb"', phrase("a", "b")),
    # negation
    ("-covid", Not(term("covid"))),
    ('-"climate change"', Not(phrase("climate", "change"))),
    ("-(a OR b)", Not(or_(a, b))),
    ("-(a b)", Not(seq(a, b))),
    ("NOT covid", Not(term("covid"))),
    ("NOT NOT covid", Not(Not(term("covid")))),
    ("NOT -covid", Not(Not(term("covid")))),
    ("--covid", Not(term("covid"))),  # a run of dashes is one negation
    ("-covid-19", Not(term("covid-19"))),
    ("vaccine -covid", seq(term("vaccine"), Not(term("covid")))),
    ("-a -b", seq(Not(a), Not(b))),
    ("NOT a b", seq(Not(a), b)),
    ("a NOT b", seq(a, Not(b))),
    ("-OR", Not(term("OR"))),  # right after '-' a word is literal
    ("-NOT a", seq(Not(term("NOT")), a)),
    ('-""', MatchAll()),
    ("-()", MatchAll()),
    ("-*", MatchAll()),
    ('a -"" b', seq(a, b)),
    ("-title:covid", Not(term("covid", "title"))),
    ('x"a b"-c', seq(term("x"), phrase("a", "b"), Not(c))),
    # OR / AND precedence
    ("a OR b", or_(a, b)),
    ("a OR b OR c", or_(a, b, c)),
    ("a b OR c d", seq(a, or_(b, c), d)),
    ("a AND b", and_(a, b)),
    ("a AND b AND c", and_(a, b, c)),
    ("a OR b AND c", or_(a, and_(b, c))),
    ("a AND b OR c", or_(and_(a, b), c)),
    ("a AND b c", seq(and_(a, b), c)),
    ("a b OR c AND d e", seq(a, or_(b, and_(c, d)), term("e"))),
    ("NOT a AND b", and_(Not(a), b)),
    ("a AND NOT b", and_(a, Not(b))),
    ("a OR -b", or_(a, Not(b))),
    ("NOT a OR b", or_(Not(a), b)),
    ("a or b", seq(a, term("or"), b)),
    ("a OR(b)", or_(a, b)),
    ('"a b"OR"c d"', or_(phrase("a", "b"), phrase("c", "d"))),
    # parentheses
    ("(a OR b) AND c", and_(or_(a, b), c)),
    ("(a b) OR c", or_(seq(a, b), c)),
    ("a OR (b OR c)", or_(a, b, c)),  # flattened
    ("(a OR b) OR c", or_(a, b, c)),
    ("a AND (b AND c)", and_(a, b, c)),
    ("a (b c)", seq(a, b, c)),
    ("((a))", a),
    ("(a) (b)", seq(a, b)),
    ("a(b)c", seq(a, b, c)),
    ("()", MatchAll()),
    ("(())", MatchAll()),
    ("a () b", seq(a, b)),
    ("(a AND (b OR (c d)))", and_(a, or_(b, seq(c, d)))),
    # fields
    ("title:covid", term("covid", "title")),
    ("TITLE:covid", term("covid", "title")),
    ("Topic:Health", term("Health", "topic")),
    ('title:"climate change"', phrase("climate", "change", field="title")),
    ('title:"climate"', term("climate", "title")),
    ('title:"OR"', term("OR", "title")),
    ("title:vacc*", Prefix("vacc", "title")),
    ("title:vaccine~", Fuzzy("vaccine", 1, "title")),
    ("title:vaccine~2", Fuzzy("vaccine", 2, "title")),
    ("title:(a OR b)", or_(term("a", "title"), term("b", "title"))),
    ("provider:(reuters -ap)", seq(term("reuters", "provider"), Not(term("ap", "provider")))),
    (
        'title:(a topic:b "c d")',
        seq(term("a", "title"), term("b", "topic"), phrase("c", "d", field="title")),
    ),
    ("title:(a OR b) c", seq(or_(term("a", "title"), term("b", "title")), c)),
    ("-title:(a b)", Not(seq(term("a", "title"), term("b", "title")))),
    ("kind:video topic:health", seq(term("video", "kind"), term("health", "topic"))),
    ("excerpt:a provider:b", seq(term("a", "excerpt"), term("b", "provider"))),
    ("title:title:x", term("title:x", "title")),  # only the first colon counts
    ("title:10:30", term("10:30", "title")),
    ("title:-x", term("-x", "title")),  # '-' negates only at the start of a clause
    ("title:OR", term("OR", "title")),
    # unknown fields and bare colons are word text
    ("covid:19", term("covid:19")),
    ("10:30", term("10:30")),
    ("http://example.com/a?b=c", term("http://example.com/a?b=c")),
    (":x", term(":x")),
    ("body:x", term("body:x")),
    ("\u212aind:video", term("\u212aind:video")),  # Kelvin sign: not the kind field
    ('covid:"a b"', seq(term("covid:"), phrase("a", "b"))),
    ("covid:(a b)", seq(term("covid:"), a, b)),
    ("covid:19*", Prefix("covid:19")),
    # a field with nothing after it is the plain word
    ("title:", term("title:")),
    ("title: covid", seq(term("title:"), term("covid"))),
    ("(title:)", term("title:")),
    ('title: "a b"', seq(term("title:"), phrase("a", "b"))),
    # ... and one in front of nothing searchable is ignored
    ('title:""', MatchAll()),
    ("title:()", MatchAll()),
    ("title:*", MatchAll()),
    # prefix
    ("vacc*", Prefix("vacc")),
    ("ab*", Prefix("ab")),
    ("vacc**", Prefix("vacc")),
    ("日本*", Prefix("日本")),
    ("-vacc*", Not(Prefix("vacc"))),
    ("covid-1*", Prefix("covid-1")),
    ("*", MatchAll()),
    ("a * b ***", seq(a, b)),  # a lone '*' is punctuation
    ("fo*o", term("fo*o")),  # a '*' inside a word is left for the analyzer
    ("*foo", term("*foo")),
    # fuzzy
    ("vaccine~", Fuzzy("vaccine", 1)),
    ("vaccine~1", Fuzzy("vaccine", 1)),
    ("vaccine~2", Fuzzy("vaccine", 2)),
    ("vaccine~02", Fuzzy("vaccine", 2)),
    ("-vaccine~2", Not(Fuzzy("vaccine", 2))),
    ("~", term("~")),
    ("~2", term("~2")),
    ("a~b", term("a~b")),
    ("a~²", term("a~²")),  # not an ASCII digit: word text
    ("ab~*", Prefix("ab~")),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[repr(t) for t, _ in CASES])
def test_parse(text: str, expected: Node) -> None:
    tree = parse(text)
    assert tree == expected
    assert parse(to_string(tree)) == tree


def test_single_clause_is_not_wrapped() -> None:
    assert parse("covid") == Term("covid")
    assert parse("(covid)") == Term("covid")
    assert not isinstance(parse("a OR b"), Seq)


def test_nodes_are_frozen_and_hashable() -> None:
    tree = parse('a -"b c" title:dd* e~2 (f OR g AND h)')
    assert hash(tree) == hash(parse('a -"b c" title:dd* e~2 (f OR g AND h)'))
    with pytest.raises(AttributeError):
        tree.children = ()  # type: ignore[misc, union-attr]


def test_depth_limit_is_inclusive() -> None:
    text = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(text) == a


def test_long_not_chain() -> None:
    text = "NOT " * 249 + "x"
    tree = parse(text)
    for _ in range(249):
        assert isinstance(tree, Not)
        tree = tree.child
    assert tree == term("x")
    assert parse(to_string(parse(text))) == parse(text)
    assert terms(parse(text)) == []
    assert parse("title:(" + "NOT " * 240 + "x)") == parse("NOT " * 240 + "title:x")


def test_query_of_exactly_the_limit() -> None:
    assert parse("x" * MAX_QUERY_LENGTH) == term("x" * MAX_QUERY_LENGTH)


# -- exact errors --------------------------------------------------------------------------

ERRORS: list[tuple[str, str, int | None]] = [
    ("x" * 1001, "query is too long: 1001 characters, the limit is 1000", 1000),
    ("a " * 1000, "query is too long: 2000 characters, the limit is 1000", 1000),
    ('"abc', "unclosed quote at position 0", 0),
    ('a "b c', "unclosed quote at position 2", 2),
    ('"a" "b', "unclosed quote at position 4", 4),
    ('title:"a', "unclosed quote at position 6", 6),
    (")", "unmatched ')' at position 0", 0),
    ("a b)", "unmatched ')' at position 3", 3),
    ("(a) b)", "unmatched ')' at position 5", 5),
    ("-)", "unmatched ')' at position 1", 1),
    ("(a", "unclosed '(' at position 0", 0),
    ("a (b (c)", "unclosed '(' at position 2", 2),
    ("-(a", "unclosed '(' at position 1", 1),
    ("title:(a", "unclosed '(' at position 6", 6),
    (
        "(" * 33 + "a" + ")" * 33,
        "parentheses are nested too deeply at position 32: the limit is 32 levels",
        32,
    ),
    (
        "(" * 1000,
        "parentheses are nested too deeply at position 32: the limit is 32 levels",
        32,
    ),
    ("OR", "OR at position 0 needs a term on both sides", 0),
    ("OR a", "OR at position 0 needs a term on both sides", 0),
    ("a OR", "OR at position 2 needs a term on both sides", 2),
    ("a OR OR b", "OR at position 2 needs a term on both sides", 2),
    ("a OR b OR", "OR at position 7 needs a term on both sides", 7),
    ("(a OR) b", "OR at position 3 needs a term on both sides", 3),
    ("a (OR b)", "OR at position 3 needs a term on both sides", 3),
    ('a OR ""', "OR at position 2 needs a term on both sides", 2),
    ('"" OR a', "OR at position 3 needs a term on both sides", 3),
    ("a OR * b", "OR at position 2 needs a term on both sides", 2),
    ("AND", "AND at position 0 needs a term on both sides", 0),
    ("a AND", "AND at position 2 needs a term on both sides", 2),
    ("a AND OR b", "AND at position 2 needs a term on both sides", 2),
    ("a OR AND b", "OR at position 2 needs a term on both sides", 2),
    ("NOT", "NOT at position 0 needs a term after it", 0),
    ("a NOT", "NOT at position 2 needs a term after it", 2),
    ("NOT NOT", "NOT at position 4 needs a term after it", 4),
    ("NOT OR a", "NOT at position 0 needs a term after it", 0),
    ("(NOT) a", "NOT at position 1 needs a term after it", 1),
    ('NOT ""', "NOT at position 0 needs a term after it", 0),
    ("a*", 'prefix "a*" is too short: use at least 2 characters before *', 0),
    ("x a**", 'prefix "a**" is too short: use at least 2 characters before *', 2),
    ("x -a*", 'prefix "a*" is too short: use at least 2 characters before *', 3),
    ("title:a*", 'prefix "a*" is too short: use at least 2 characters before *', 6),
    ("a-*", 'prefix "a-*" is too short: use at least 2 characters before *', 0),
    ("*a*", 'prefix "*a*" is too short: use at least 2 characters before *', 0),
    ("日*", 'prefix "日*" is too short: use at least 2 characters before *', 0),
    ("foo~3", 'fuzzy distance in "foo~3" must be between 1 and 2', 3),
    ("x foo~0", 'fuzzy distance in "foo~0" must be between 1 and 2', 5),
    ("title:foo~9", 'fuzzy distance in "foo~9" must be between 1 and 2', 9),
    ("foo~" + "9" * 50, f'fuzzy distance in "foo~{"9" * 50}" must be between 1 and 2', 3),
    (
        "title:(" + "a " * 496 + ")",
        "query is too long once expanded: 3967 characters, the limit is 1000",
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "message", "position"), ERRORS, ids=[repr(t[:40]) for t, _, _ in ERRORS]
)
def test_errors(text: str, message: str, position: int | None) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert str(caught.value) == message
    assert caught.value.position == position


def test_query_error_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse('"unclosed')


def test_only_negations_are_allowed() -> None:
    assert parse("-covid") == Not(term("covid"))
    assert parse("-a -b") == seq(Not(a), Not(b))
    assert parse("NOT a") == Not(a)


# -- to_string -----------------------------------------------------------------------------

WRITTEN: list[tuple[Node, str]] = [
    (MatchAll(), ""),
    (a, "a"),
    (seq(a, or_(b, c), d), "a b OR c d"),
    (or_(seq(a, b), c), "(a b) OR c"),
    (and_(or_(a, b), c), "(a OR b) AND c"),
    (or_(a, and_(b, c)), "a OR b AND c"),
    (and_(a, seq(b, c)), "a AND (b c)"),
    (Not(or_(a, b)), "-(a OR b)"),
    (Not(and_(a, b)), "-(a AND b)"),
    (Not(seq(a, b)), "-(a b)"),
    (Not(Not(a)), "NOT -a"),
    (Not(Not(Not(or_(a, b)))), "NOT NOT -(a OR b)"),
    (term("OR"), '"OR"'),
    (Not(term("OR")), '-"OR"'),
    (term("-x"), '"-x"'),
    (term("foo*"), '"foo*"'),
    (term("*"), '"*"'),
    (term("title:x"), '"title:x"'),
    (term("a(b"), '"a(b"'),
    (term("title:"), "title:"),
    (term("x", "title"), "title:x"),
    (term("OR", "title"), "title:OR"),
    (term("-x", "title"), "title:-x"),
    (term("a(b", "title"), 'title:"a(b"'),
    (phrase("a", "b", field="topic"), 'topic:"a b"'),
    (Prefix("vacc"), "vacc*"),
    (Prefix("vacc", "kind"), "kind:vacc*"),
    (Fuzzy("x", 1), "x~"),
    (Fuzzy("x", 2, "excerpt"), "excerpt:x~2"),
]


@pytest.mark.parametrize(("tree", "text"), WRITTEN, ids=[t for _, t in WRITTEN])
def test_to_string(tree: Node, text: str) -> None:
    assert to_string(tree) == text
    assert parse(text) == tree


def test_to_string_is_canonical() -> None:
    assert to_string(parse("NOT  a   OR b~1 --c (d) TITLE:(e OR ff*)")) == (
        "-a OR b~ -c d title:e OR title:ff*"
    )


def test_to_string_normalises_hand_built_structure() -> None:
    assert to_string(Seq((a,))) == "a"
    assert to_string(or_(a, or_(b, c))) == "a OR b OR c"


UNWRITABLE: list[Node] = [
    term(""),
    term("a b"),
    term('a"b'),
    term("a\x00b"),
    term("x", "body"),
    term("x", "Title"),
    phrase("a"),
    phrase(),
    phrase("a b", "c"),
    Prefix("a"),
    Prefix(""),
    Prefix("x y"),
    Fuzzy("x", 3),
    Fuzzy("x", 0),
    Fuzzy("", 1),
    Seq(()),
    Or(()),
    seq(a, MatchAll()),
    Not(MatchAll()),
]


@pytest.mark.parametrize("tree", UNWRITABLE, ids=repr)
def test_to_string_refuses_what_no_query_can_say(tree: Node) -> None:
    with pytest.raises(UsageError):
        to_string(tree)


# -- terms ---------------------------------------------------------------------------------


def test_terms() -> None:
    tree = parse('covid -vaccine "climate change" title:vacc* NOT x y~2 -(p OR q) r OR s')
    assert terms(tree) == [
        (None, "covid"),
        (None, "climate"),
        (None, "change"),
        ("title", "vacc"),
        (None, "y"),
        (None, "r"),
        (None, "s"),
    ]


def test_terms_deduplicates_in_order() -> None:
    assert terms(parse("b a b title:a a")) == [(None, "b"), (None, "a"), ("title", "a")]


def test_terms_skips_double_negation_and_match_all() -> None:
    assert terms(parse("NOT -x")) == []
    assert terms(MatchAll()) == []
    assert terms(parse("a AND (b OR NOT c)")) == [(None, "a"), (None, "b")]


# -- speed ---------------------------------------------------------------------------------

HOSTILE = [
    "(" * 1000,
    ")" * 1000,
    '"' * 1000,
    '"' * 999,
    "-" * 1000,
    "-(" * 500,
    "*" * 1000,
    "~" * 1000,
    ":" * 1000,
    "OR " * 333,
    "AND " * 250,
    "NOT " * 250,
    "NOT " * 249 + "x",
    "a OR " * 199 + "a",
    "a " * 500,
    "a" * 1000,
    '"a' * 500,
    "a~" * 500,
    "title:(" * 142,
    "\x00" * 1000,
    "title:" * 166,
    "(a " * 32 + ")" * 32,
    "-a" * 500,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]) + f"x{len(t)}")
def test_hostile_inputs_are_fast(text: str) -> None:
    start = time.perf_counter()
    for _ in range(5):
        with contextlib.suppress(QueryError):
            parse(text)
    # Each parse takes a few milliseconds; anything super-linear would take far longer.
    # The bound is generous (100x) so that a loaded machine cannot make it flaky.
    assert (time.perf_counter() - start) / 5 < 1.0


# -- properties ----------------------------------------------------------------------------

SYNTAX_PIECES = [
    '"', "(", ")", "-", "*", "~", ":", "OR", "AND", "NOT", " ", " ", " ", "  ",
    "title:", "TOPIC:", "kind:", "covid:", "a", "ab", "covid", "x-y", "2", "3", "0",
    "\x00", "\t", "\n", "é", "日本", "x~", "ab*", "--", '"a b"', '""', "()", "or", "\u212a",
]  # fmt: skip

#: Text rich in the query syntax, so that properties reach the parser's corners.
syntax_soup = st.lists(st.sampled_from(SYNTAX_PIECES), max_size=80).map("".join)
#: Any text at all: control characters, combining marks, emoji, RTL, ...
any_text = st.text(max_size=2000)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(any_text, syntax_soup))
def test_parse_returns_a_node_or_raises_query_error(text: str) -> None:
    try:
        tree = parse(text)
    except QueryError as error:
        assert error.position is None or 0 <= error.position <= len(text)
        return
    assert isinstance(tree, NODE_TYPES)


def test_lone_surrogates_are_blanks() -> None:
    assert parse("a\ud800b") == seq(a, b)


def _round_trips(text: str) -> None:
    try:
        tree = parse(text)
    except QueryError:
        return
    written = to_string(tree)
    assert parse(written) == tree
    assert to_string(parse(written)) == written


@settings(max_examples=500)
@given(syntax_soup)
def test_round_trip_syntax_soup(text: str) -> None:
    _round_trips(text)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_round_trip_any_text(text: str) -> None:
    _round_trips(text)


# A grammar of valid queries. Words are letters and digits (never an operator), plus a
# few shapes that look like syntax but are words (covid-19, 10:30, lowercase "or").
_letters = st.characters(categories=("L", "N"))
_words = st.one_of(
    st.sampled_from(["covid", "covid-19", "e-mail", "日本", "café", "10:30", "http://x.org", "or"]),
    st.text(_letters, min_size=1, max_size=8),
).filter(lambda w: w not in ("OR", "AND", "NOT"))
_phrase_words = st.one_of(_words, st.sampled_from(["OR", "*", "a-b", "(", "x~"]))
_leaves = st.one_of(
    _words,
    st.lists(_phrase_words, min_size=1, max_size=4).map(lambda ws: '"' + " ".join(ws) + '"'),
    st.text(_letters, min_size=MIN_PREFIX_LENGTH, max_size=8).map(lambda w: w + "*"),
    st.tuples(_words, st.sampled_from(["~", "~1", "~2"])).map("".join),
)
_field_names = st.sampled_from(FIELDS).flatmap(
    lambda f: st.sampled_from([f, f.upper(), f.capitalize()])
)


@st.composite
def _clauses(draw: st.DrawFn, depth: int) -> tuple[str, int]:
    """A valid clause and how many words it holds (a field group copies its field
    onto each, so the count bounds the canonical length)."""
    choices = ["leaf", "field", "minus", "not"] + (["group", "field group"] if depth < 3 else [])
    kind = draw(st.sampled_from(choices))
    if kind == "leaf":
        return draw(_leaves), 1
    if kind == "field":
        return draw(_field_names) + ":" + draw(_leaves), 1
    if kind == "minus":
        return "-" + draw(_leaves), 1
    if kind == "not":
        text, count = draw(_clauses(depth))
        return "NOT " + text, count
    text, count = draw(_queries(depth + 1))
    sign = draw(st.sampled_from(["", "-"]))
    if kind == "group":
        return f"{sign}({text})", count
    return f"{sign}{draw(_field_names)}:({text})", count


@st.composite
def _queries(draw: st.DrawFn, depth: int = 0) -> tuple[str, int]:
    parts = draw(st.lists(_clauses(depth), min_size=1, max_size=3))
    text, count = parts[0]
    for part, words in parts[1:]:
        text += draw(st.sampled_from([" ", "  ", " OR ", " AND ", " NOT "])) + part
        count += words
    return text, count


def _fits(query: tuple[str, int]) -> bool:
    text, words = query
    # Longest field name plus colon is 9 ("provider:"): the canonical form fits if this does.
    return len(text) + 9 * words <= MAX_QUERY_LENGTH


valid_queries = _queries().filter(_fits).map(lambda q: q[0])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(valid_queries)
def test_grammar_queries_parse(text: str) -> None:
    tree = parse(text)
    assert not isinstance(tree, MatchAll)
    assert parse(to_string(tree)) == tree


def _leaves_by_sign(node: Node, negated: bool = False) -> tuple[set[object], set[object]]:
    """(words outside any Not, words under a Not), walked independently of terms()."""
    positive: set[object] = set()
    negative: set[object] = set()
    if isinstance(node, (Term, Prefix, Fuzzy)):
        (negative if negated else positive).add((node.field, node.text))
    elif isinstance(node, Phrase):
        (negative if negated else positive).update((node.field, w) for w in node.words)
    elif isinstance(node, Not):
        _, negative = _leaves_by_sign(node.child, True)
    elif isinstance(node, (Seq, And, Or)):
        for child in node.children:
            p, n = _leaves_by_sign(child, negated)
            positive |= p
            negative |= n
    return positive, negative


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(valid_queries, syntax_soup))
def test_terms_never_returns_negated_words(text: str) -> None:
    try:
        tree = parse(text)
    except QueryError:
        return
    found = terms(tree)
    positive, negative = _leaves_by_sign(tree)
    assert set(found) == positive
    assert not set(found) & (negative - positive)
    assert len(found) == len(set(found))


# -- the lenient reading -------------------------------------------------------------------

QUOTE = "searched for the words after it, not as a phrase"
PLAIN = "Could not read the query's syntax: searched for its words as plain text."
PREFIX = "is too short (use at least 2 characters before *)"
FUZZY = "must be between 1 and 2"
TITLE = "title"

LENIENT: list[tuple[str, Node, list[str]]] = [
    # an unclosed quote: a '(' closed at the end; the syntax after it still counts
    ('"abc', term("abc"), [f"Unclosed quote at position 0: {QUOTE}."]),
    ('a "b c', seq(a, b, c), [f"Unclosed quote at position 2: {QUOTE}."]),
    ('"a" "b', seq(a, b), [f"Unclosed quote at position 4: {QUOTE}."]),
    ('title:"a b', seq(term("a", TITLE), term("b", TITLE)),
     [f"Unclosed quote at position 6: {QUOTE}."]),
    ('-"drill stalls', Not(seq(term("drill"), term("stalls"))),
     [f"Unclosed quote at position 1: {QUOTE}."]),
    ('"heatwave -solar', seq(term("heatwave"), Not(term("solar"))),
     [f"Unclosed quote at position 0: {QUOTE}."]),
    ('"', MatchAll(), [f"Unclosed quote at position 0: {QUOTE}."]),
    # parentheses
    (")", MatchAll(), ["Unmatched ')' at position 0: ignored it."]),
    ("a b)", seq(a, b), ["Unmatched ')' at position 3: ignored it."]),
    ("(a) b) c)", seq(a, b, c), ["Unmatched ')' at positions 5 and 8: ignored them."]),
    ("(a", a, ["Unclosed '(' at position 0: closed it at the end of the query."]),
    ("a (b (c)", seq(a, b, c), ["Unclosed '(' at position 2: closed it at the end of the query."]),
    ("-(a b", Not(seq(a, b)), ["Unclosed '(' at position 1: closed it at the end of the query."]),
    ("(a OR b) OR (c d", or_(a, b, seq(c, d)),
     ["Unclosed '(' at position 12: closed it at the end of the query."]),
    ("((a", a, ["Unclosed '(' at positions 0 and 1: closed them at the end of the query."]),
    ("(" * 33 + "a" + ")" * 33, a,
     ["Parentheses nested deeper than 32 levels at position 32: "
      "read the words inside without them."]),
    ("(" * 40 + "a", a,
     ["Unclosed '(' at positions 0, 1, 2 and 29 others: closed them at the end of the query.",
      "Parentheses nested deeper than 32 levels at position 32: "
      "read the words inside without them."]),
    # operators without their terms
    ("OR a", a, ["OR without a term on both sides at position 0: ignored it."]),
    ("a OR", a, ["OR without a term on both sides at position 2: ignored it."]),
    ("a OR OR b", or_(a, b), ["OR without a term on both sides at position 2: ignored it."]),
    ('"" OR a', a, ["OR without a term on both sides at position 3: ignored it."]),
    ("a AND", a, ["AND without a term on both sides at position 2: ignored it."]),
    ("a AND OR b", or_(a, b), ["AND without a term on both sides at position 2: ignored it."]),
    ("OR AND a", a,
     ["OR without a term on both sides at position 0: ignored it.",
      "AND without a term on both sides at position 3: ignored it."]),
    ("a NOT", a, ["NOT without a term after it at position 2: ignored it."]),
    ("(NOT) a", a, ["NOT without a term after it at position 1: ignored it."]),
    # text with letters that still gives no term: its words, literally
    ("OR", term("OR"), [PLAIN]),
    ("NOT NOT", seq(term("NOT"), term("NOT")), [PLAIN]),
    ('AND ""', term("AND"), [PLAIN]),
    # prefixes and fuzzy words
    ("a*", a, [f'Prefix "a*" at position 0 {PREFIX}: searched for the word "a".']),
    ("x -a*", seq(term("x"), Not(a)),
     [f'Prefix "a*" at position 3 {PREFIX}: searched for the word "a".']),
    ("title:a*", term("a", TITLE),
     [f'Prefix "a*" at position 6 {PREFIX}: searched for the word "a".']),
    ("*a*", term("*a"), [f'Prefix "*a*" at position 0 {PREFIX}: searched for the word "*a".']),
    ("x -*", term("x"), []),  # a lone '*' is punctuation, as in parse
    ("foo~3", Fuzzy("foo", 2), [f'Fuzzy distance in "foo~3" at position 3 {FUZZY}: '
                               "searched for foo~2."]),
    ("x foo~0", seq(term("x"), term("foo")),
     [f'Fuzzy distance in "foo~0" at position 5 {FUZZY}: searched for the word "foo".']),
    ("title:foo~9", Fuzzy("foo", 2, TITLE),
     [f'Fuzzy distance in "foo~9" at position 9 {FUZZY}: searched for foo~2.']),
    ("{a}~3", Fuzzy("{a}", 2), [f'Fuzzy distance in "{{a}}~3" at position 3 {FUZZY}: '
                               "searched for {a}~2."]),
    # a real query (CACM 64): the group its author never closed
    ("List all articles on EL1 and ECL (EL1 may be given as EL/1; I don't remember how "
     "they did it.",
     seq(*map(term, ["List", "all", "articles", "on", "EL1", "and", "ECL", "EL1", "may", "be",
                     "given", "as", "EL/1;", "I", "don't", "remember", "how", "they", "did",
                     "it."])),
     ["Unclosed '(' at position 33: closed it at the end of the query."]),
    # at most 4 syntax notices: the 4th counts the rest
    ("a) b) c* d~9 e~5 AND", seq(a, b, c, Fuzzy("d", 2), Fuzzy("e", 2)),
     ["Unmatched ')' at positions 1 and 4: ignored them.",
      f'Prefix "c*" at position 6 {PREFIX}: searched for the word "c".',
      f'Fuzzy distance in "d~9" at position 10 {FUZZY}: searched for d~2.',
      "2 more syntax problems were worked around as well."]),
]


@pytest.mark.parametrize(
    ("text", "expected", "messages"), LENIENT, ids=[repr(t[:30]) for t, _, _ in LENIENT]
)
def test_parse_lenient(text: str, expected: Node, messages: list[str]) -> None:
    tree, notices = parse_lenient(text)
    assert tree == expected
    assert [(n.code, n.message) for n in notices] == [("syntax", m) for m in messages]


def test_parse_lenient_of_a_valid_query_is_parse() -> None:
    for text in ("", "covid", '"climate change" -drill', "title:(mars OR moon)", "vacc*",
                 "a~2", "x" * MAX_QUERY_LENGTH, "(" * 32 + "a" + ")" * 32):
        assert parse_lenient(text) == (parse(text), ())


def truncated(message: str) -> list[tuple[str, str]]:
    return [("truncated", f"The query was longer than 1,000 characters{message}.")]


LONG: list[tuple[str, Node, list[tuple[str, str]]]] = [
    # whole words up to 1,000 characters: 500 words of "a " end at 999
    ("a " * 600, seq(*[a] * 500), truncated(": searched for its first 500 words")),
    ("a " * 499 + "bc " * 200, seq(*[a] * 499, term("bc")),
     truncated(": searched for its first 500 words")),
    # one word longer than the limit is cut
    ("x" * 1001, term("x" * 1000), truncated(": searched for its first 1,000 characters")),
    # blanks do not count, and dropping them is no truncation
    (" " * 2000 + "lander", term("lander"), []),
    ("lander" + " \t\n" * 700, term("lander"), []),
    # a cut inside a "phrase" moves to before it
    ("a " * 499 + '"b c"' + " d" * 100, seq(*[a] * 499),
     truncated(": searched for its first 499 words")),
    # a group cut in two is closed, and no notice blames the user for it...
    ("(" + "ab " * 400 + ")", seq(*[term("ab")] * 333),
     truncated(": searched for its first 333 words")),
    # ...unless it was never closed
    ("(" + "ab " * 400, seq(*[term("ab")] * 333),
     [*truncated(": searched for its first 333 words"),
      ("syntax", "Unclosed '(' at position 0: closed it at the end of the query.")]),
    # a field on a group is written on each word: 125 words of "title:a" fit
    ("title:(" + "a " * 496 + ")", seq(*[term("a", TITLE)] * 125),
     truncated(" once a field before parentheses was applied to each word inside: searched "
               "for its first 125 words")),
    # words read literally are quoted when written: '"OR"'
    ("OR " * 400, seq(*[term("OR")] * 200),
     [*truncated(": searched for its first 200 words"), ("syntax", PLAIN)]),
    # 1,000 characters of syntax before the first word: the words of the whole text
    ("(" * 1000 + "a", a, [("syntax", PLAIN)]),
]


@pytest.mark.parametrize(
    ("text", "expected", "notices"), LONG, ids=[repr(t[:20]) + f"x{len(t)}" for t, _, _ in LONG]
)
def test_parse_lenient_long_text(
    text: str, expected: Node, notices: list[tuple[str, str]]
) -> None:
    tree, found = parse_lenient(text)
    assert tree == expected
    assert [(n.code, n.message) for n in found] == notices


def test_one_truncated_word() -> None:
    tree, notices = parse_lenient("a " * 499 + "b" * 5 + " c" * 300)
    assert [n.message for n in notices] == [
        "The query was longer than 1,000 characters: searched for its first 499 words."
    ]
    assert tree == seq(*[a] * 499)
    _, notices = parse_lenient("x" * 999 + " y" * 10)
    assert [n.message for n in notices] == [
        "The query was longer than 1,000 characters: searched for its first word."
    ]


def _check_lenient(text: str) -> None:
    tree, notices = parse_lenient(text)
    written = to_string(tree)
    # A tree parse accepts back, within the limit: what the backends can rely on.
    assert len(written) <= MAX_QUERY_LENGTH
    assert parse(written) == tree
    try:
        strict = parse(text)
    except QueryError:
        # Never silently different from what was typed (blanks past the limit aside).
        assert notices or parse(_without_blanks_around(text)) == tree
    else:
        assert (tree, notices) == (strict, ())
    if isinstance(tree, MatchAll) and notices:
        assert not any(ch.isalnum() for ch in text)
    for notice in notices:
        assert notice.code in ("syntax", "truncated")
        assert notice.message.endswith(".") and "\n" not in notice.message
    assert sum(n.code == "syntax" for n in notices) <= MAX_SYNTAX_NOTICES


def _without_blanks_around(text: str) -> str:
    blank = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]*")
    return blank.sub(" ", text).strip()


#: Syntax soup long enough to be cut.
long_soup = st.lists(st.sampled_from([*SYNTAX_PIECES, "a* ", "x~9 ", ") ", "( "]),
                     min_size=200, max_size=600).map("".join)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(syntax_soup, any_text, long_soup, st.text(min_size=990, max_size=3000)))
def test_parse_lenient_never_raises(text: str) -> None:
    _check_lenient(text)


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:12]) + f"x{len(t)}")
def test_parse_lenient_of_hostile_inputs(text: str) -> None:
    _check_lenient(text)
    _check_lenient(text * 20)  # and far over the limit


# -- fast paths ----------------------------------------------------------------------------

#: Printable ASCII, and the characters next to it that are blanks or not printable.
ascii_edges = st.text(st.characters(min_codepoint=0, max_codepoint=0xA0), max_size=60)


@settings(max_examples=500)
@given(ascii_edges)
def test_normalise_fast_path_is_the_rule(text: str) -> None:
    # Printable ASCII is returned as is: its only blank is the space.
    rule = "".join(" " if searchlib.query._is_blank(ch) else ch for ch in text)
    assert searchlib.query._normalise(text) == rule


PLAIN_PIECES = ["a", "Zz9", "OR", "AND", "NOT", "ORa", "NOTE", "ANDy", "0", " ", "  "]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(PLAIN_PIECES), max_size=40).map("".join))
def test_plain_queries_write_back_no_longer(text: str) -> None:
    # parse_lenient skips writing the tree of plain queries to measure it: its canonical
    # string is the words joined by one space.
    if not searchlib.query._PLAIN_QUERY.fullmatch(text):
        assert any(word in ("OR", "AND", "NOT") for word in text.split())
        return
    tree, notices = parse_lenient(text)
    assert notices == ()
    if text.split():
        assert to_string(tree) == " ".join(text.split())


def test_plain_query_pattern() -> None:
    plain = searchlib.query._PLAIN_QUERY
    assert plain.fullmatch("covid cases  in europe ")
    assert plain.fullmatch("ORANGE NOTES ANDES 2024")
    for text in ("a OR b", "NOT a", "a AND", "a-b", "a\tb", "a_b", "é", 'a "b c"', "a:b"):
        assert not plain.fullmatch(text)
