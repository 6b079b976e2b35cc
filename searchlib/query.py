"""The query language: parse a search-box string once into an engine-neutral tree.

:func:`parse` turns what a user typed into a tree of small frozen dataclasses
(:class:`Term`, :class:`Phrase`, :class:`Prefix`, :class:`Fuzzy`, :class:`Seq`,
:class:`And`, :class:`Or`, :class:`Not`, :class:`MatchAll`). Backends compile that
tree; nothing here knows about Whoosh. Words are kept exactly as typed: lowercasing,
stemming and splitting ``covid-19`` into tokens is the backend analyzer's job.

Syntax
======

=================================  ===================================================
you type                           you get
=================================  ===================================================
(nothing, or only spaces)          ``MatchAll()``
``covid``                          ``Term("covid")``
``covid vaccine``                  ``Seq(Term("covid"), Term("vaccine"))`` -- words side
                                   by side; the engine's match mode (all/any) decides
``"climate change"``               ``Phrase(("climate", "change"))``
``"climate"``                      ``Term("climate")`` (a one-word phrase is a word)
``-covid``  ``NOT covid``          ``Not(Term("covid"))``
``-"climate change"``              ``Not(Phrase(...))``
``-(heat OR drought)``             ``Not(Or(...))``
``covid-19``  ``e-mail``           ``Term("covid-19")`` -- a ``-`` inside a word is text
``a OR b``  ``a AND b``            ``Or(a, b)``  ``And(a, b)`` (uppercase only; ``or``
                                   and ``and`` are ordinary words)
``(a b) OR c``                     ``Or(Seq(a, b), c)``
``title:mars``                     ``Term("mars", field="title")``
``title:"mars lander"``            ``Phrase(("mars", "lander"), field="title")``
``title:(mars OR moon)``           ``Or(Term("mars", "title"), Term("moon", "title"))``
``vacc*``                          ``Prefix("vacc")``
``vaccine~``  ``vaccine~2``        ``Fuzzy("vaccine", 1)``  ``Fuzzy("vaccine", 2)``
=================================  ===================================================

Precedence, tightest first (like Google and Meilisearch, ``OR`` binds tighter than
words written side by side, so ``a b OR c d`` is ``Seq(a, Or(b, c), d)``):

1. ``-x``, ``NOT x`` and ``field:x`` (``NOT NOT x`` is ``Not(Not(x))``; a run of dashes,
   ``--x``, is a single negation, because it is a typing slip more than a double one)
2. ``AND`` -- ``a OR b AND c`` is ``Or(a, And(b, c))``
3. ``OR``
4. juxtaposition -- ``a b OR c AND d e`` is ``Seq(a, Or(b, And(c, d)), e)``

Parentheses group. Nested nodes of one kind are flattened (``a OR (b OR c)`` is
``Or(a, b, c)``, ``a (b c)`` is ``Seq(a, b, c)``) and a group of one clause is that
clause, so equal meanings give equal trees.

Details
-------

* Fields are ``title``, ``excerpt``, ``provider``, ``topic`` and ``kind`` (see
  :data:`FIELDS`), in any letter case. ``field:(...)`` puts the field on every word
  inside that has none of its own: ``title:(a topic:b)`` is ``Seq(title:a, topic:b)``.
  Only the first colon counts: ``title:10:30`` is the word ``10:30`` in the title.
* A colon after anything else is word text, not an error: ``covid:19``, ``10:30`` and
  ``http://example.com`` are plain words. So is ``title:`` with nothing after it.
* ``-`` negates only at the start of a clause. Write ``-title:mars``; ``title:-mars``
  is the word ``-mars`` in the title. A ``-`` standing alone (``a - b``) is ignored.
* ``word*`` needs :data:`MIN_PREFIX_LENGTH` letters or digits before the ``*``
  (``a*`` is an error: it would expand to most of the index). A ``*`` elsewhere in a
  word is left in the word for the analyzer to drop; a lone ``*`` is ignored.
* ``word~N`` accepts N from 1 to :data:`MAX_FUZZY_DISTANCE`; ``word~`` means ``~1``.
  A ``~`` not followed by digits only (``a~b``, or ``~`` alone) is word text.
* Inside quotes every character is word text: ``"OR"`` is the word ``OR`` and
  ``"foo*"`` the word ``foo*``. Empty quotes ``""``, empty parentheses ``()``, and a
  ``-`` or ``field:`` in front of them, are ignored.
* Control characters (and lone surrogates) count as spaces. Any other character,
  CJK and accented letters included, is word text except ``"``, ``(`` and ``)``.
* A query of negations only (``-covid``) is allowed: it means "everything except".

Errors
------

:func:`parse` raises :class:`~searchlib.errors.QueryError`, with ``position`` (0-based)
pointing at the problem: a query longer than :data:`MAX_QUERY_LENGTH`, an unclosed quote,
an unmatched ``)`` or unclosed ``(``, parentheses nested deeper than :data:`MAX_DEPTH`,
``OR`` / ``AND`` without a term on both sides, ``NOT`` without a term after it, a prefix
that is too short and a fuzzy distance out of range.

:func:`parse_lenient`, for what people type into a search box, never raises: it works
around each of these problems the way its documentation says, and returns notices that
say what it read differently.

Writing a tree back
-------------------

:func:`to_string` writes the canonical query string of a tree, and ``parse(to_string(n))
== n`` for every tree that :func:`parse` returns. Because a field on a group is written
on every word, the canonical string can be longer than what was typed; :func:`parse`
rejects a query whose canonical string would exceed :data:`MAX_QUERY_LENGTH`, which also
bounds the size of the tree a backend has to compile.

>>> to_string(parse("covid   NOT vaccine~1  title:(mars OR moon)"))
'covid -vaccine~ title:mars OR title:moon'
>>> terms(parse('heatwave -drought "power grid"'))
[(None, 'heatwave'), (None, 'power'), (None, 'grid')]
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final, TypeAlias, assert_never

from searchlib.errors import QueryError, UsageError
from searchlib.results import Notice

#: Longest query accepted, in characters; checked before any parsing.
MAX_QUERY_LENGTH: Final = 1000
#: Deepest parenthesis nesting accepted.
MAX_DEPTH: Final = 32
#: Letters or digits needed before a trailing ``*``.
MIN_PREFIX_LENGTH: Final = 2
#: Largest edit distance accepted after ``~``.
MAX_FUZZY_DISTANCE: Final = 2
#: Field names that ``field:value`` accepts (lowercase; typed in any case).
FIELDS: Final = ("title", "excerpt", "provider", "topic", "kind")


# -- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A bare word, as typed (``covid-19``, ``10:30``), optionally in one field."""

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more words that must appear in this order (``"climate change"``)."""

    words: tuple[str, ...]
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Prefix:
    """Words starting with ``text`` (``vacc*``; ``text`` has no ``*``)."""

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Fuzzy:
    """Words within ``distance`` edits of ``text`` (``vaccine~`` or ``vaccine~2``)."""

    text: str
    distance: int = 1
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Seq:
    """Clauses written side by side; the engine's match mode decides all or any."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class And:
    """Clauses joined by an explicit ``AND``: all must match."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Clauses joined by an explicit ``OR``: any may match."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Documents that do not match ``child`` (``-word``, ``-"phrase"``, ``NOT x``)."""

    child: Node


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Every document: the query was empty (or held nothing searchable)."""


#: Any node of a parsed query.
Node: TypeAlias = Term | Phrase | Prefix | Fuzzy | Seq | And | Or | Not | MatchAll

_Leaf: TypeAlias = Term | Phrase | Prefix | Fuzzy


# -- public functions ----------------------------------------------------------------------


def parse(text: str) -> Node:
    """Parse a search-box string into a query tree.

    Raises :class:`~searchlib.errors.QueryError` (with ``position``) for a query that
    cannot be run; see the module documentation for the syntax.
    """
    # The length is checked first so that nothing below ever sees a huge input.
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"query is too long: {len(text)} characters, the limit is {MAX_QUERY_LENGTH}",
            position=MAX_QUERY_LENGTH,
        )
    tree = _Parser(_tokenize(_normalise(text))).parse()
    # The canonical string can outgrow the input (a field on a group is written on each
    # word inside it). Refusing such trees keeps the promise that parse(to_string(t)) == t
    # for every t that parse returns, and bounds the size of what backends compile.
    written = to_string(tree)
    if len(written) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"query is too long once expanded: {len(written)} characters, "
            f"the limit is {MAX_QUERY_LENGTH}"
        )
    return tree


def parse_lenient(text: str) -> tuple[Node, tuple[Notice, ...]]:
    """Parse a search-box string like :func:`parse`, but never refuse it.

    What a search box gets is often not meant as syntax: a pasted paragraph with a stray
    quote or parenthesis, or more than :data:`MAX_QUERY_LENGTH` characters of it. A query
    that :func:`parse` accepts gives the same tree and no notices. Otherwise each problem
    is worked around, and said in a :class:`~searchlib.results.Notice`:

    * a query longer than :data:`MAX_QUERY_LENGTH` characters is searched by its first
      whole words that fit in it (code ``truncated``; a first word longer than the limit
      is cut), and so is one whose canonical string outgrows the limit (a field before a
      group is written on each word inside);
    * an unclosed quote is read as a ``(`` closed at the end of the query: the words after
      it are searched as words, not as a phrase (code ``syntax``, like every item below);
    * an unmatched ``)`` is ignored, an unclosed ``(`` is closed at the end of the query,
      and parentheses nested deeper than :data:`MAX_DEPTH` levels are ignored;
    * ``OR`` or ``AND`` without a term on both sides, and ``NOT`` without a term after it,
      are ignored;
    * a prefix that is too short (``a*``) is searched as the word (``a``); a fuzzy distance
      above :data:`MAX_FUZZY_DISTANCE` is lowered to it, and ``~0`` means the word itself;
    * text with letters or digits that still yields no term (``OR`` alone) is searched as
      its words, taken literally.

    The tree is always one that :func:`parse` accepts back: ``parse(to_string(tree)) ==
    tree``. It is :class:`MatchAll` only for a valid query meaning everything or for text
    without a letter or digit. Positions in the notices are 0-based in ``text``.

    >>> tree, notices = parse_lenient('EL1 and ECL (EL1 may be "EL/1')
    >>> to_string(tree)
    'EL1 and ECL EL1 may be EL/1'
    >>> [notice.message for notice in notices]  # doctest: +NORMALIZE_WHITESPACE
    ["Unclosed '(' at position 12: closed it at the end of the query.",
     'Unclosed quote at position 24: searched for the words after it, not as a phrase.']
    """
    offset = 0
    searched = text
    cut_short = False  # the first word alone was longer than the limit
    if len(text) > MAX_QUERY_LENGTH:
        # Leading blanks do not count against the limit; positions stay those of ``text``.
        offset = _BLANK_RUN.match(text).end()  # type: ignore[union-attr]  # always matches
        searched, cut_short = _first_words(text[offset:])
    shortened = _NON_BLANK.search(text, offset + len(searched)) is not None
    tree, problems = _read_leniently(searched, offset)
    # Plain words write back as typed, or shorter: no need to write them to know.
    expanded = not _PLAIN_QUERY.fullmatch(searched) and len(to_string(tree)) > MAX_QUERY_LENGTH
    if expanded:
        searched, tree, problems = _fit_expanded(searched, offset)
        shortened, cut_short = True, False
    notices: list[Notice] = []
    if shortened:
        if cut_short:
            message = _CUT_SHORT_NOTICE
        else:
            words = len(_normalise(searched).split())
            over = len(text) - offset > MAX_QUERY_LENGTH
            message = (_truncated_message if over else _expanded_message)(words)
        notices.append(Notice("truncated", message))
        # A group cut in two is closed at the end of what is searched, as it should be,
        # but the user did not leave it open: a ')' further on (counted roughly, quotes
        # and all) closed it.
        problems.forgive_unclosed(text.count(")", offset + len(searched)))
    notices.extend(problems.notices())
    if isinstance(tree, MatchAll) and notices and _WORD_CHAR.search(text):
        # Nothing searchable came out of text that has words in it (``OR``, ``NOT ""``,
        # or 1,000 characters of syntax before the first word): search its words.
        tree, kept, complete = _plain_words(text)
        notices = [Notice("syntax", _PLAIN_WORDS_NOTICE)]
        if not complete:
            notices.insert(0, Notice("truncated", _truncated_message(kept)))
    return tree, tuple(notices)


def to_string(node: Node) -> str:
    """The canonical query string for ``node``: ``parse(to_string(n)) == n``.

    That equality holds for every tree :func:`parse` returns. Hand-built trees are
    written in normal form (one-child groups unwrapped, nested groups of one kind
    flattened); a leaf that no query string can produce (``Term("two words")``,
    ``Prefix("a")``, an unknown field) raises :class:`~searchlib.errors.UsageError`, and
    so does :class:`MatchAll` anywhere but at the top or a group with no children.
    """
    if isinstance(node, MatchAll):
        return ""
    return _render(node)


def terms(node: Node) -> list[tuple[str | None, str]]:
    """The words a document must (or may) contain, as ``(field, word)`` pairs.

    For highlighting and spelling suggestions: words under a :class:`Not` are left
    out (even under two), phrases give each of their words, prefixes and fuzzy words
    give their text without ``*`` or ``~``. Each pair appears once, in query order.
    """
    found: dict[tuple[str | None, str], None] = {}  # a dict keeps first-seen order
    # An explicit stack rather than recursion: a NOT chain can be hundreds deep.
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        match current:
            case Term(text, field) | Prefix(text, field) | Fuzzy(text, _, field):
                found.setdefault((field, text), None)
            case Phrase(words, field):
                for word in words:
                    found.setdefault((field, word), None)
            case Seq(children) | And(children) | Or(children):
                stack.extend(reversed(children))
            case Not() | MatchAll():
                pass
            case _:
                assert_never(current)
    return list(found)


# -- characters ----------------------------------------------------------------------------

# Cc are control characters; Cs are lone surrogates, which cannot even be encoded as
# UTF-8 and so must never reach a backend inside a word.
_BLANK_CATEGORIES: Final = frozenset({"Cc", "Cs"})
_OPERATOR_WORDS: Final = frozenset({"OR", "AND", "NOT"})


def _is_blank(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in _BLANK_CATEGORIES


def _normalise(text: str) -> str:
    """``text`` with every blank (space, control character) replaced by ``" "``.

    One character for one keeps positions valid, and lets the scanner and
    ``str.split`` treat blanks as a single kind of separator.
    """
    if text.isascii() and text.isprintable():
        return text  # printable ASCII has one blank, the space (nearly every query)
    return "".join(" " if _is_blank(ch) else ch for ch in text)


def _is_plain_word(word: str) -> bool:
    """Whether ``word`` can sit between quotes as one phrase word."""
    return bool(word) and '"' not in word and _normalise(word) == word and " " not in word


# -- tokens --------------------------------------------------------------------------------


class _Kind(enum.Enum):
    LEAF = enum.auto()  # a word or quoted phrase, already interpreted (node None: ignored)
    LPAREN = enum.auto()
    RPAREN = enum.auto()
    MINUS = enum.auto()  # always directly followed by what it negates
    FIELD = enum.auto()  # "title:" directly followed by '"' or '('
    OR = enum.auto()
    AND = enum.auto()
    NOT = enum.auto()


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    pos: int
    node: Node | None = None
    field: str | None = None
    #: An LPAREN the lenient reading put in place of an unclosed quote.
    from_quote: bool = False


_OPERATOR_KINDS: Final = {"OR": _Kind.OR, "AND": _Kind.AND, "NOT": _Kind.NOT}
_ATOM_START: Final = frozenset({_Kind.LEAF, _Kind.LPAREN, _Kind.MINUS, _Kind.FIELD})
_CLAUSE_START: Final = _ATOM_START | {_Kind.NOT}
_WORD_END: Final = frozenset(' "()')


def _tokenize(text: str, problems: _Problems | None = None) -> list[_Token]:
    """Split normalised ``text`` into tokens, in one left-to-right pass.

    A hand-written scanner rather than a regular expression: every character is looked
    at a bounded number of times, so no input can make it slow. With ``problems`` (the
    lenient reading) nothing raises: each problem is worked around and recorded there.
    """
    tokens: list[_Token] = []
    n = len(text)
    i = 0
    after_minus = False
    while i < n:
        ch = text[i]
        if ch == " ":
            i += 1
            continue
        # Right after a '-' a word is taken literally: "-OR" excludes the word OR.
        literal, after_minus = after_minus, False
        if ch == "(":
            tokens.append(_Token(_Kind.LPAREN, i))
            i += 1
        elif ch == ")":
            tokens.append(_Token(_Kind.RPAREN, i))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                if problems is None:
                    raise QueryError(f"unclosed quote at position {i}", position=i)
                problems.add("quote", i)
                # Read as a '(' closed at the end of the query: the words after it are
                # searched as words, their own syntax (a -word, an OR) still counts, and a
                # '-' or 'field:' in front of the quote applies to all of them.
                tokens.append(_Token(_Kind.LPAREN, i, from_quote=True))
                i += 1
                continue
            tokens.append(_Token(_Kind.LEAF, i, node=_phrase(text[i + 1 : end].split())))
            i = end + 1
        elif ch == "-":
            j = i
            while j < n and text[j] == "-":
                j += 1
            # Only a dash touching what follows negates it; "a - b" is punctuation.
            if j < n and text[j] not in " )":
                tokens.append(_Token(_Kind.MINUS, i))
                after_minus = True
            i = j
        else:
            j = i
            while j < n and text[j] not in _WORD_END:
                j += 1
            tokens.append(
                _word_token(text[i:j], i, literal, text[j] if j < n else "", problems)
            )
            i = j
    return tokens


def _word_token(
    word: str, pos: int, literal: bool, next_char: str, problems: _Problems | None
) -> _Token:
    """The token for one unquoted word starting at ``pos``."""
    if not literal and word in _OPERATOR_WORDS:
        return _Token(_OPERATOR_KINDS[word], pos)
    colon = word.find(":")
    name = word[:colon]
    # isascii() first: str.lower() maps some non-ASCII letters to ASCII ones (the
    # Kelvin sign to "k"), and "\u212aind:" should not be the kind field.
    if colon > 0 and name.isascii() and name.lower() in FIELDS:
        field, value = name.lower(), word[colon + 1 :]
        if value:
            return _Token(_Kind.LEAF, pos, node=_word(value, field, pos + colon + 1, problems))
        if next_char in ('"', "("):
            return _Token(_Kind.FIELD, pos, field=field)
        # "title:" followed by nothing searchable: the word as typed.
    return _Token(_Kind.LEAF, pos, node=_word(word, None, pos, problems))


def _word(value: str, field: str | None, pos: int, problems: _Problems | None) -> Node | None:
    """Interpret an unquoted word: a prefix, a fuzzy word, a plain word or nothing."""
    if not value.strip("*"):
        return None  # a lone '*' is punctuation
    tilde = value.rfind("~")
    if tilde > 0:
        digits = value[tilde + 1 :]
        if not digits:
            return Fuzzy(value[:tilde], 1, field)
        # isascii(): isdigit() alone accepts "²" and other digits int() rejects.
        if digits.isascii() and digits.isdigit():
            distance = int(digits)
            if not 1 <= distance <= MAX_FUZZY_DISTANCE:
                if problems is None:
                    raise QueryError(
                        f'fuzzy distance in "{value}" must be between 1 and '
                        f"{MAX_FUZZY_DISTANCE}",
                        position=pos + tilde,
                    )
                return _lenient_fuzzy(value, tilde, distance, field, pos, problems)
            return Fuzzy(value[:tilde], distance, field)
    if value.endswith("*"):
        stem = value.rstrip("*")
        # Letters and digits, not characters: "-a*" or "*a*" would still expand to
        # every word starting with "a" once the analyzer drops the punctuation.
        if sum(ch.isalnum() for ch in stem) < MIN_PREFIX_LENGTH:
            if problems is None:
                raise QueryError(
                    f'prefix "{value}" is too short: use at least {MIN_PREFIX_LENGTH} '
                    "characters before *",
                    position=pos,
                )
            return _lenient_prefix(value, stem, field, pos, problems)
        return Prefix(stem, field)
    return Term(value, field)


def _phrase(words: list[str]) -> Node | None:
    """The node for the words between a pair of quotes."""
    if not words:
        return None
    if len(words) == 1:
        return Term(words[0])
    return Phrase(tuple(words))


# -- the parser ----------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens; one method per precedence level.

    Each level returns ``None`` for a clause that turned out empty (``""``, ``()``,
    ``-*``): juxtaposition drops it, while an operator that needs it raises. With
    ``problems`` (the lenient reading), parentheses are balanced before parsing and an
    operator without its terms is dropped and recorded instead of raising.
    """

    def __init__(self, tokens: list[_Token], problems: _Problems | None = None) -> None:
        self._problems = problems
        self._tokens = tokens if problems is None else _balance(tokens, problems)
        self._i = 0

    def parse(self) -> Node:
        node = self._seq(0)
        extra = self._peek()
        if extra is not None:  # only a ')' ends a sequence before the end
            raise QueryError(f"unmatched ')' at position {extra.pos}", position=extra.pos)
        return MatchAll() if node is None else node

    def _peek(self) -> _Token | None:
        return self._tokens[self._i] if self._i < len(self._tokens) else None

    def _take(self) -> _Token:
        token = self._tokens[self._i]
        self._i += 1
        return token

    def _seq(self, depth: int) -> Node | None:
        parts: list[Node] = []
        while (token := self._peek()) is not None and token.kind is not _Kind.RPAREN:
            if token.kind is _Kind.OR or token.kind is _Kind.AND:
                if self._problems is None:
                    raise _needs_both_sides(token)
                self._problems.add(token.kind.name, token.pos)
                self._take()
                continue
            node = self._or(depth)
            if node is not None:
                parts.append(node)
        return _join(Seq, parts)

    def _or(self, depth: int) -> Node | None:
        return self._binary(_Kind.OR, Or, self._and, depth)

    def _and(self, depth: int) -> Node | None:
        return self._binary(_Kind.AND, And, self._unary, depth)

    def _binary(
        self,
        kind: _Kind,
        cls: type[And] | type[Or],
        operand: Callable[[int], Node | None],
        depth: int,
    ) -> Node | None:
        left = operand(depth)
        operator = self._peek()
        if operator is None or operator.kind is not kind:
            return left
        if left is None and self._problems is None:
            raise _needs_both_sides(operator)
        parts = [] if left is None else [left]
        while operator is not None and operator.kind is kind:
            self._take()
            following = self._peek()
            right = None
            if following is not None and following.kind in _CLAUSE_START:
                right = operand(depth)
            if right is None or not parts:
                # Only the lenient reading gets here with a side missing: drop the operator.
                if self._problems is None:
                    raise _needs_both_sides(operator)
                self._problems.add(kind.name, operator.pos)
            if right is not None:
                parts.append(right)
            operator = self._peek()
        return _join(cls, parts)

    def _unary(self, depth: int) -> Node | None:
        # NOTs are counted in a loop, not by recursion: "NOT NOT ... x" can be 250 deep.
        nots: list[_Token] = []
        while (token := self._peek()) is not None and token.kind is _Kind.NOT:
            nots.append(self._take())
        token = self._peek()
        node = self._primary(depth) if token is not None and token.kind in _ATOM_START else None
        if nots:
            if node is None:
                if self._problems is None:
                    raise QueryError(
                        f"NOT at position {nots[-1].pos} needs a term after it",
                        position=nots[-1].pos,
                    )
                for token in nots:
                    self._problems.add("NOT", token.pos)
                return None
            for _ in nots:
                node = Not(node)
        return node

    def _primary(self, depth: int) -> Node | None:
        token = self._take()
        if token.kind is _Kind.MINUS:
            # The scanner emits MINUS only when an atom follows without a space.
            node = self._atom(self._take(), depth)
            return None if node is None else Not(node)
        return self._atom(token, depth)

    def _atom(self, token: _Token, depth: int) -> Node | None:
        if token.kind is _Kind.LEAF:
            return token.node
        if token.kind is _Kind.LPAREN:
            return self._group(token, depth)
        if token.kind is _Kind.FIELD and token.field is not None:
            # The scanner emits FIELD only when '"' or '(' follows directly.
            node = self._atom(self._take(), depth)
            return None if node is None else _with_field(node, token.field)
        raise AssertionError(f"the scanner cannot put {token} here")  # pragma: no cover

    def _group(self, opening: _Token, depth: int) -> Node | None:
        if depth >= MAX_DEPTH:
            raise QueryError(
                f"parentheses are nested too deeply at position {opening.pos}: "
                f"the limit is {MAX_DEPTH} levels",
                position=opening.pos,
            )
        node = self._seq(depth + 1)
        if self._peek() is None:
            raise QueryError(f"unclosed '(' at position {opening.pos}", position=opening.pos)
        self._take()  # the ')' that stopped _seq
        return node


def _needs_both_sides(operator: _Token) -> QueryError:
    word = operator.kind.name
    return QueryError(
        f"{word} at position {operator.pos} needs a term on both sides", position=operator.pos
    )


def _join(cls: type[Seq] | type[And] | type[Or], parts: list[Node]) -> Node | None:
    """``cls(parts)``, flattened: children of the same kind are spliced in."""
    flat: list[Node] = []
    for part in parts:
        if isinstance(part, cls):
            flat.extend(part.children)
        else:
            flat.append(part)
    if not flat:
        return None
    if len(flat) == 1:
        return flat[0]
    return cls(tuple(flat))


def _peel_not(node: Node) -> tuple[int, Node]:
    """How many :class:`Not` wrap ``node``, and what is inside them."""
    count = 0
    while isinstance(node, Not):
        node = node.child
        count += 1
    return count, node


def _with_field(node: Node, field: str) -> Node:
    """``node`` with ``field`` on every leaf that has no field of its own."""
    count, inner = _peel_not(node)
    result: Node
    match inner:
        case Term() | Phrase() | Prefix() | Fuzzy():
            result = inner if inner.field is not None else replace(inner, field=field)
        case Seq(children):
            result = Seq(tuple(_with_field(c, field) for c in children))
        case And(children):
            result = And(tuple(_with_field(c, field) for c in children))
        case Or(children):
            result = Or(tuple(_with_field(c, field) for c in children))
        case Not() | MatchAll():  # pragma: no cover - peeled above / never parsed
            result = inner
        case _:
            assert_never(inner)
    for _ in range(count):
        result = Not(result)
    return result


# -- the lenient reading -------------------------------------------------------------------

_BLANK_CLASS: Final = r"\s\x00-\x1f\x7f-\x9f\ud800-\udfff"  # exactly _is_blank's characters
_BLANK_RUN: Final = re.compile(f"[{_BLANK_CLASS}]*")
_NON_BLANK: Final = re.compile(f"[^{_BLANK_CLASS}]")
_NON_BLANK_RUN: Final = re.compile(f"[^{_BLANK_CLASS}]+")
_PLAIN_WORD: Final = re.compile(f'[^{_BLANK_CLASS}"()]+')
_WORD_CHAR: Final = re.compile(r"[^\W_]")  # a letter or a digit, in any script
#: ASCII letters and digits between spaces, no operator word: a query whose canonical string
#: is its words joined by one space (never longer than the query).
_PLAIN_QUERY: Final = re.compile(
    r" *(?:(?!(?:OR|AND|NOT)\b)[A-Za-z0-9]+(?: +(?!(?:OR|AND|NOT)\b)[A-Za-z0-9]+)*)? *"
)
#: At most this many ``syntax`` notices are listed; a last one counts the others.
MAX_SYNTAX_NOTICES: Final = 4
_PLAIN_WORDS_NOTICE: Final = (
    "Could not read the query's syntax: searched for its words as plain text."
)

#: Problems met once per query or often in a row: one notice lists all their positions.
#: kind -> (what, done to one, done to several)
_GROUPED: Final = {
    "quote": ("Unclosed quote", "searched for the words after it, not as a phrase", ""),
    ")": ("Unmatched ')'", "ignored it", "ignored them"),
    "(": ("Unclosed '('", "closed it at the end of the query",
          "closed them at the end of the query"),
    "depth": (f"Parentheses nested deeper than {MAX_DEPTH} levels",
              "read the words inside without them", "read the words inside without them"),
    "OR": ("OR without a term on both sides", "ignored it", "ignored them"),
    "AND": ("AND without a term on both sides", "ignored it", "ignored them"),
    "NOT": ("NOT without a term after it", "ignored it", "ignored them"),
}


class _Problems:
    """What the lenient reading worked around, with positions in the original text."""

    def __init__(self, offset: int = 0) -> None:
        self._offset = offset
        self._grouped: dict[str, list[int]] = {}
        self._single: list[tuple[int, str]] = []

    def add(self, kind: str, pos: int) -> None:
        """One problem of a kind in :data:`_GROUPED`, at ``pos`` in the text read."""
        self._grouped.setdefault(kind, []).append(pos + self._offset)

    def add_message(self, pos: int, message: str) -> None:
        """A problem of its own; ``message`` is given ``position`` (a str.format field)."""
        self._single.append((pos + self._offset, message.format(position=pos + self._offset)))

    def __bool__(self) -> bool:
        return bool(self._grouped or self._single)

    def has(self, kind: str) -> bool:
        """Whether a problem of this kind was recorded."""
        return kind in self._grouped

    def forgive_unclosed(self, count: int) -> None:
        """Forget the ``count`` innermost unclosed ``(``: they were closed after a cut."""
        positions = sorted(self._grouped.get("(", []))
        kept = positions[: max(len(positions) - count, 0)]
        if kept:
            self._grouped["("] = kept
        else:
            self._grouped.pop("(", None)

    def notices(self) -> list[Notice]:
        """One ``syntax`` notice per kind of problem (per word for prefixes and fuzzy
        words), in the order of their first position, at most :data:`MAX_SYNTAX_NOTICES`."""
        found = list(self._single)
        for kind, positions in self._grouped.items():
            what, one, several = _GROUPED[kind]
            positions = sorted(positions)
            if len(positions) == 1:
                found.append((positions[0], f"{what} at position {positions[0]}: {one}."))
            else:
                where = _positions(positions)
                found.append((positions[0], f"{what} at positions {where}: {several}."))
        found.sort(key=lambda item: item[0])
        messages = [message for _, message in found]
        if len(messages) > MAX_SYNTAX_NOTICES:
            rest = len(messages) - MAX_SYNTAX_NOTICES + 1
            messages[MAX_SYNTAX_NOTICES - 1 :] = [
                f"{rest:,} more syntax problems were worked around as well."
            ]
        return [Notice("syntax", message) for message in messages]


def _positions(positions: list[int]) -> str:
    """``3 and 7``, ``3, 7 and 9``, ``3, 7, 9 and 12 others``."""
    shown = [str(p) for p in positions[:3]]
    if len(positions) <= 3:
        return f"{', '.join(shown[:-1])} and {shown[-1]}"
    return f"{', '.join(shown)} and {len(positions) - 3:,} others"


def _lenient_fuzzy(
    value: str, tilde: int, distance: int, field: str | None, pos: int, problems: _Problems
) -> Node:
    """``word~N`` with N out of range: the nearest distance allowed (0 is the word)."""
    word = value[:tilde]
    if distance == 0:
        node: Node = Term(word, field)
        searched = f'the word "{word}"'
    else:
        node = Fuzzy(word, MAX_FUZZY_DISTANCE, field)
        searched = f"{word}~{MAX_FUZZY_DISTANCE}"
    problems.add_message(
        pos + tilde,
        f'Fuzzy distance in "{_braces(value)}" at position {{position}} must be between 1 and '
        f"{MAX_FUZZY_DISTANCE}: searched for {_braces(searched)}.",
    )
    return node


def _lenient_prefix(
    value: str, stem: str, field: str | None, pos: int, problems: _Problems
) -> Node | None:
    """A prefix too short to search: the word itself, or nothing without a letter."""
    node = Term(stem, field) if any(ch.isalnum() for ch in stem) else None
    done = "ignored it" if node is None else f'searched for the word "{_braces(stem)}"'
    problems.add_message(
        pos,
        f'Prefix "{_braces(value)}" at position {{position}} is too short (use at least '
        f"{MIN_PREFIX_LENGTH} characters before *): {done}.",
    )
    return node


def _braces(text: str) -> str:
    """``text`` safe inside a str.format template."""
    return text.replace("{", "{{").replace("}", "}}")


def _balance(tokens: list[_Token], problems: _Problems) -> list[_Token]:
    """``tokens`` with every parenthesis matched and none nested too deep.

    An unmatched ``)`` is dropped, an unclosed ``(`` is closed at the end, and a ``(``
    nested deeper than :data:`MAX_DEPTH` is dropped with its ``)`` (and with the ``-`` or
    ``field:`` in front of it, which the parser expects to be followed by what they
    apply to). Linear, without recursion, however deep the input.
    """
    out: list[_Token] = []
    opened: list[_Token | None] = []  # the open '(' kept, None for a dropped one
    depth = 0
    for token in tokens:
        if token.kind is _Kind.LPAREN:
            if depth >= MAX_DEPTH:
                if not problems.has("depth"):  # the first one says it all
                    problems.add("depth", token.pos)
                while out and out[-1].kind in (_Kind.MINUS, _Kind.FIELD):
                    out.pop()
                opened.append(None)
                continue
            depth += 1
            opened.append(token)
        elif token.kind is _Kind.RPAREN:
            if not opened:
                problems.add(")", token.pos)
                continue
            if opened.pop() is None:
                continue
            depth -= 1
        out.append(token)
    end = tokens[-1].pos + 1 if tokens else 0
    for opening in reversed(opened):
        if opening is not None:
            if not opening.from_quote:  # the quote has its notice
                problems.add("(", opening.pos)
            out.append(_Token(_Kind.RPAREN, end))
    return out


def _read_leniently(text: str, offset: int) -> tuple[Node, _Problems]:
    """The lenient tree of ``text`` (at most the length limit) and what was worked around."""
    problems = _Problems(offset)
    tree = _Parser(_tokenize(_normalise(text), problems), problems).parse()
    return tree, problems


def _first_words(text: str) -> tuple[str, bool]:
    """The longest run of whole words from the start of ``text`` that fits the limit.

    ``text`` starts with a word. A cut inside a quoted phrase would leave an unclosed
    quote the user never typed, so the cut moves to before the phrase instead. The flag
    is true when the first word alone is longer than the limit, and was cut.
    """
    if len(text) <= MAX_QUERY_LENGTH:
        return text, False
    cut = MAX_QUERY_LENGTH
    while cut > 0 and not _is_blank(text[cut]):
        cut -= 1
    if cut == 0:
        return text[:MAX_QUERY_LENGTH], True
    kept = text[:cut]
    if kept.count('"') % 2 == 1 and text.find('"', cut) >= 0:
        start = kept.rfind('"')
        while start > 0 and not _is_blank(text[start - 1]):
            start -= 1
        kept = text[:start]
    end = len(kept)
    while end > 0 and _is_blank(kept[end - 1]):
        end -= 1
    return kept[:end], False


def _fit_expanded(text: str, offset: int) -> tuple[str, Node, _Problems]:
    """The most whole words of ``text`` whose lenient tree's canonical string fits.

    A binary search over word counts: the first ``k`` words always fit for ``k == 0``
    and not for every word, so it ends on a ``k`` that fits and ``k + 1`` that does not.
    """
    ends = [match.end() for match in _NON_BLANK_RUN.finditer(text)]
    low, high = 0, len(ends)
    best: tuple[str, Node, _Problems] = ("", MatchAll(), _Problems(offset))
    while high - low > 1:
        middle = (low + high) // 2
        prefix = text[: ends[middle - 1]]
        tree, problems = _read_leniently(prefix, offset)
        if len(to_string(tree)) <= MAX_QUERY_LENGTH:
            low, best = middle, (prefix, tree, problems)
        else:
            high = middle
    return best


_CUT_SHORT_NOTICE: Final = (
    f"The query was longer than {MAX_QUERY_LENGTH:,} characters: searched for its first "
    f"{MAX_QUERY_LENGTH:,} characters."
)


def _truncated_message(words: int) -> str:
    return (
        f"The query was longer than {MAX_QUERY_LENGTH:,} characters: searched for its "
        f"first {_words(words)}."
    )


def _expanded_message(words: int) -> str:
    return (
        f"The query was longer than {MAX_QUERY_LENGTH:,} characters once a field before "
        f"parentheses was applied to each word inside: searched for its first {_words(words)}."
    )


def _words(count: int) -> str:
    return "word" if count == 1 else f"{count:,} words"


def _plain_words(text: str) -> tuple[Node, int, bool]:
    """``text`` as plain words (no syntax at all), as many as fit the length limit.

    Only words with a letter or digit are kept, so ``text`` must have one. Returns the
    tree, how many words it has, and whether that is all of them.
    """
    parts: list[Node] = []
    length = -1
    for match in _PLAIN_WORD.finditer(text):
        word = match.group()
        first = _WORD_CHAR.search(word)
        if first is None:
            continue
        written = len(to_string(Term(word)))
        if length + 1 + written > MAX_QUERY_LENGTH:
            if not parts:  # one word longer than the limit: its start, from a letter on
                # Two characters are left for the quotes it may be written with.
                parts.append(Term(word[first.start() :][: MAX_QUERY_LENGTH - 2]))
            return _join(Seq, parts) or MatchAll(), len(parts), False
        parts.append(Term(word))
        length += 1 + written
    return _join(Seq, parts) or MatchAll(), len(parts), True


# -- writing a tree back -------------------------------------------------------------------


def _render(node: Node) -> str:
    match node:
        case Term() | Phrase() | Prefix() | Fuzzy():
            return _render_leaf(node)
        case Seq(children):
            return " ".join(_render(c) for c in _children(node, children))
        case Or(children):
            # Side by side binds looser than OR, so a Seq inside OR needs parentheses.
            return " OR ".join(_wrapped(c, (Seq,)) for c in _children(node, children))
        case And(children):
            return " AND ".join(_wrapped(c, (Seq, Or)) for c in _children(node, children))
        case Not():
            count, inner = _peel_not(node)
            # "NOT ... -x" rather than "-(-x)": parentheses would add nesting depth the
            # original query may not have had room for.
            return "NOT " * (count - 1) + "-" + _wrapped(inner, (Seq, Or, And))
        case MatchAll():
            raise UsageError("MatchAll() can only be a whole query, not part of one")
        case _:
            assert_never(node)


def _children(node: Seq | And | Or, children: tuple[Node, ...]) -> tuple[Node, ...]:
    if not children:
        raise UsageError(f"{type(node).__name__}() needs at least one child")
    return children


def _wrapped(node: Node, loose: tuple[type[Seq] | type[And] | type[Or], ...]) -> str:
    text = _render(node)
    return f"({text})" if isinstance(node, loose) else text


def _render_leaf(node: _Leaf) -> str:
    if node.field is not None and node.field not in FIELDS:
        raise UsageError(f"unknown field {node.field!r} in {node!r}: use one of {FIELDS}")
    field = "" if node.field is None else f"{node.field}:"
    if isinstance(node, Phrase):
        if len(node.words) < 2 or not all(_is_plain_word(w) for w in node.words):
            raise UsageError(
                f"{node!r} cannot be written as a query: a phrase needs "
                "two or more words without spaces or quotes"
            )
        return f'{field}"{" ".join(node.words)}"'
    if isinstance(node, Term):
        bare = field + node.text
        if _reads_back(bare, node):
            return bare
        # Quotes make anything a plain word: "OR", "-x", "foo*", "title:x".
        if _is_plain_word(node.text):
            return f'{field}"{node.text}"'
    elif isinstance(node, Prefix):
        bare = f"{field}{node.text}*"
        if _reads_back(bare, node):
            return bare
    else:
        bare = f"{field}{node.text}~" + ("" if node.distance == 1 else str(node.distance))
        if _reads_back(bare, node):
            return bare
    raise UsageError(f"{node!r} cannot be written as a query")


def _reads_back(text: str, node: Node) -> bool:
    """Whether scanning ``text`` alone gives exactly ``node``.

    Asking the scanner itself, instead of restating its rules, keeps writing and
    reading in step: whatever the scanner does, a leaf is written bare only if it
    comes back unchanged.
    """
    if not text or _normalise(text) != text:
        return False
    try:
        tokens = _tokenize(text)
    except QueryError:
        return False
    return len(tokens) == 1 and tokens[0].kind is _Kind.LEAF and tokens[0].node == node


__all__ = [
    "FIELDS",
    "MAX_DEPTH",
    "MAX_FUZZY_DISTANCE",
    "MAX_QUERY_LENGTH",
    "MAX_SYNTAX_NOTICES",
    "MIN_PREFIX_LENGTH",
    "And",
    "Fuzzy",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "Prefix",
    "Seq",
    "Term",
    "parse",
    "parse_lenient",
    "terms",
    "to_string",
]
