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

:class:`~searchlib.errors.QueryError`, with ``position`` (0-based) pointing at the
problem: a query longer than :data:`MAX_QUERY_LENGTH`, an unclosed quote, an unmatched
``)`` or unclosed ``(``, parentheses nested deeper than :data:`MAX_DEPTH`, ``OR`` /
``AND`` without a term on both sides, ``NOT`` without a term after it, a prefix that is
too short and a fuzzy distance out of range.

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
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final, TypeAlias, assert_never

from searchlib.errors import QueryError, UsageError

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


_OPERATOR_KINDS: Final = {"OR": _Kind.OR, "AND": _Kind.AND, "NOT": _Kind.NOT}
_ATOM_START: Final = frozenset({_Kind.LEAF, _Kind.LPAREN, _Kind.MINUS, _Kind.FIELD})
_CLAUSE_START: Final = _ATOM_START | {_Kind.NOT}
_WORD_END: Final = frozenset(' "()')


def _tokenize(text: str) -> list[_Token]:
    """Split normalised ``text`` into tokens, in one left-to-right pass.

    A hand-written scanner rather than a regular expression: every character is looked
    at a bounded number of times, so no input can make it slow.
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
                raise QueryError(f"unclosed quote at position {i}", position=i)
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
            tokens.append(_word_token(text[i:j], i, literal, text[j] if j < n else ""))
            i = j
    return tokens


def _word_token(word: str, pos: int, literal: bool, next_char: str) -> _Token:
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
            return _Token(_Kind.LEAF, pos, node=_word(value, field, pos + colon + 1))
        if next_char in ('"', "("):
            return _Token(_Kind.FIELD, pos, field=field)
        # "title:" followed by nothing searchable: the word as typed.
    return _Token(_Kind.LEAF, pos, node=_word(word, None, pos))


def _word(value: str, field: str | None, pos: int) -> Node | None:
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
                raise QueryError(
                    f'fuzzy distance in "{value}" must be between 1 and {MAX_FUZZY_DISTANCE}',
                    position=pos + tilde,
                )
            return Fuzzy(value[:tilde], distance, field)
    if value.endswith("*"):
        stem = value.rstrip("*")
        # Letters and digits, not characters: "-a*" or "*a*" would still expand to
        # every word starting with "a" once the analyzer drops the punctuation.
        if sum(ch.isalnum() for ch in stem) < MIN_PREFIX_LENGTH:
            raise QueryError(
                f'prefix "{value}" is too short: use at least {MIN_PREFIX_LENGTH} '
                "characters before *",
                position=pos,
            )
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
    ``-*``): juxtaposition drops it, while an operator that needs it raises.
    """

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
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
                raise _needs_both_sides(token)
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
        if left is None:
            raise _needs_both_sides(operator)
        parts = [left]
        while operator is not None and operator.kind is kind:
            self._take()
            following = self._peek()
            right = None
            if following is not None and following.kind in _CLAUSE_START:
                right = operand(depth)
            if right is None:
                raise _needs_both_sides(operator)
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
                raise QueryError(
                    f"NOT at position {nots[-1].pos} needs a term after it", position=nots[-1].pos
                )
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
    "terms",
    "to_string",
]
