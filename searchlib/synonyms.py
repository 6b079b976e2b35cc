"""Synonyms: an index-level list of words that mean the same, applied when a query is compiled.

The list uses Solr's ``synonyms.txt`` format, one rule a line:

- ``covid, coronavirus, sars-cov-2``: equivalent words; a query for any of them also finds
  the others.
- ``sars-cov-2 => covid``: one way; a query for ``sars-cov-2`` searches ``covid`` instead (and
  a query for ``covid`` is left alone). Several words may stand on each side:
  ``usa, u.s. => united states``.
- ``#`` starts a comment; blank lines are skipped. A synonym may have several words
  (``united states``): it is searched as a phrase.

Synonyms apply at query time (:mod:`searchlib.searching.compile`), so changing the list needs
no re-indexing. An on-disk index keeps its list in ``synonyms.txt`` in the index folder
(:class:`SynonymFile`), which every engine using the folder reloads when it changes; an
in-memory index keeps it in memory. There are none by default.

Example::

    >>> rules = parse_synonyms("covid, coronavirus\\nsars-cov-2 => covid\\n")
    >>> [rule.to_line() for rule in rules.rules]
    ['covid, coronavirus', 'sars-cov-2 => covid']
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .durable import fsync_path
from .errors import UsageError

#: The synonym list's file in an index folder.
SYNONYMS_NAME = "synonyms.txt"
_HEADER = (
    "# Synonyms of this index, in Solr's format: 'a, b, c' are equivalent, 'a => b' searches\n"
    "# b for a. Applied when a query runs: no re-indexing is needed after a change.\n"
)
# A synonym holds at least one word character; '=>' and ',' are the syntax.
_WORDLIKE = re.compile(r"\w")


class SynonymError(UsageError):
    """A synonym rule or file cannot be read."""


def _entry(text: str) -> str:
    """One synonym as written, its spaces collapsed."""
    return " ".join(text.split())


@dataclass(frozen=True)
class SynonymRule:
    """One line of the list: equivalent ``words``, or ``words`` searched as ``to`` (one way)."""

    words: tuple[str, ...]
    #: The replacements of a one-way rule (``words => to``); None for equivalent words.
    to: tuple[str, ...] | None = None

    @property
    def one_way(self) -> bool:
        """Whether this is a ``words => to`` rule."""
        return self.to is not None

    def to_line(self) -> str:
        """The rule in Solr's format."""
        line = ", ".join(self.words)
        return line if self.to is None else f"{line} => {', '.join(self.to)}"

    def to_dict(self) -> dict[str, Any]:
        """``{"words": [...], "to": [...] or null}``: the JSON of ``search synonyms list``."""
        return {"words": list(self.words), "to": None if self.to is None else list(self.to)}

    def mentions(self, word: str) -> bool:
        """Whether ``word`` (case and spacing ignored) is one of the rule's synonyms."""
        key = _key(word)
        return any(_key(w) == key for w in (*self.words, *(self.to or ())))

    def without(self, word: str) -> SynonymRule | None:
        """The rule without ``word`` (case and spacing ignored), or None when too little is
        left to be a rule (one equivalent word, or an empty side)."""
        key = _key(word)
        words = tuple(w for w in self.words if _key(w) != key)
        if self.to is None:
            return SynonymRule(words) if len(words) >= 2 else None
        to = tuple(w for w in self.to if _key(w) != key)
        return SynonymRule(words, to) if words and to else None


def _key(word: str) -> str:
    return _entry(word).casefold()


@dataclass(frozen=True)
class Synonyms:
    """An index's synonym rules, in the order of the file."""

    rules: tuple[SynonymRule, ...] = ()

    def to_text(self) -> str:
        """The list as a Solr synonyms file (with a comment saying what it is)."""
        return _HEADER + "".join(rule.to_line() + "\n" for rule in self.rules)

    def add(self, rule: SynonymRule) -> Synonyms:
        """The list with ``rule`` added. Equivalent words that share a word with an existing
        group join that group (``covid, coronavirus`` plus ``covid, sars-cov-2`` is one line);
        a rule already there changes nothing."""
        if rule.to is None:
            # Groups of equivalent words stay disjoint: the rule joins every group it shares
            # a word with, at the place of the first.
            keys = {_key(w) for w in rule.words}
            joined = [
                i for i, old in enumerate(self.rules)
                if old.to is None and keys & {_key(w) for w in old.words}
            ]
            if joined:
                words: dict[str, str] = {}
                for old in (*(self.rules[i] for i in joined), rule):
                    for word in old.words:
                        words.setdefault(_key(word), word)
                merged = SynonymRule(tuple(words.values()))
                rules = [
                    merged if i == joined[0] else old
                    for i, old in enumerate(self.rules) if i == joined[0] or i not in joined
                ]
                return Synonyms(tuple(rules))
        if any(_same(rule, old) for old in self.rules):
            return self
        return Synonyms((*self.rules, rule))

    def remove(self, word: str) -> Synonyms:
        """The list without ``word`` in any rule; raises :class:`SynonymError` if no rule
        has it."""
        if not any(rule.mentions(word) for rule in self.rules):
            raise SynonymError(f"no synonym rule has {_entry(word)!r}")
        kept = (rule.without(word) for rule in self.rules)
        return Synonyms(tuple(rule for rule in kept if rule is not None))


def _same(a: SynonymRule, b: SynonymRule) -> bool:
    def keys(words: Iterable[str] | None) -> frozenset[str] | None:
        return None if words is None else frozenset(_key(w) for w in words)

    return keys(a.words) == keys(b.words) and keys(a.to) == keys(b.to)


def parse_rule(line: str) -> SynonymRule:
    """One rule in Solr's format (``a, b, c`` or ``a, b => c``); raises
    :class:`SynonymError` with the reason."""
    if line.count("=>") > 1:
        raise SynonymError("more than one '=>'")
    if "=>" in line:
        left, right = line.split("=>")
        words = _side(left, "before '=>'")
        to = _side(right, "after '=>'")
        return SynonymRule(words, to)
    words = _side(line, "")
    if len(words) < 2:
        raise SynonymError(
            f"{words[0]!r} alone is not a synonym rule: list two or more words "
            "('a, b') or map it ('a => b')"
        )
    return SynonymRule(words)


def _side(text: str, where: str) -> tuple[str, ...]:
    parts = [_entry(part) for part in text.split(",")]
    if all(not part for part in parts):
        raise SynonymError(f"no words {where}" if where else "no words")
    if any(not part for part in parts):
        raise SynonymError(f"an empty synonym between commas{' ' + where if where else ''}")
    for part in parts:
        if _WORDLIKE.search(part) is None:
            raise SynonymError(f"{part!r} has no letters or digits")
    return tuple(dict.fromkeys(parts))


def parse_synonyms(text: str, source: str = "synonyms") -> Synonyms:
    """The rules of a Solr synonyms file; a bad line raises :class:`SynonymError` naming
    ``source`` and the line number."""
    rules: list[SynonymRule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            rules.append(parse_rule(line))
        except SynonymError as exc:
            raise SynonymError(f"{source}, line {number}: {exc}: {raw.strip()!r}") from None
    out = Synonyms()
    for rule in rules:
        out = out.add(rule) if rule.to is None else Synonyms((*out.rules, rule))
    return out


def read_synonyms(path: Path) -> Synonyms:
    """The rules of the Solr synonyms file at ``path`` (UTF-8)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SynonymError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise SynonymError(f"{path}: {exc.strerror or exc}") from exc
    return parse_synonyms(text, str(path))


_UNREAD = object()


class SynonymSource:
    """Where an engine's synonyms live: memory (this class) or a file (:class:`SynonymFile`).

    Thread-safe: :meth:`current` gives an immutable list; :meth:`update` changes it in one
    step.
    """

    def __init__(self) -> None:
        # Re-entrant: a file's update reads the file again while it holds the lock.
        self._lock = threading.RLock()
        self._synonyms = Synonyms()

    def current(self) -> Synonyms:
        """The list as it is now."""
        return self._synonyms

    def update(self, change: Callable[[Synonyms], Synonyms]) -> Synonyms:
        """Replace the list with ``change(list)``; returns the new list."""
        with self._lock:
            self._synonyms = change(self._synonyms)
            return self._synonyms


class SynonymFile(SynonymSource):
    """The synonyms of an on-disk index: ``synonyms.txt`` in its folder.

    :meth:`current` looks at the file's modification time, size and inode (one ``stat``) and
    reads it again when any changed, so a long-running service sees a change made by another
    process (``search synonyms add``) at its next search. :meth:`update` holds an ``flock``
    on the folder while it reads, changes and atomically replaces the file, so two processes
    changing the list at once both keep their change.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.path = folder / SYNONYMS_NAME
        #: The file's (mtime, size, inode) when last read; None: no file; _UNREAD: not read.
        self._seen: object = _UNREAD

    def current(self) -> Synonyms:
        """The list in the file now (empty when there is no file)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            stamp = None
        else:
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp == self._seen:
            return self._synonyms
        with self._lock:
            if stamp is None:
                self._synonyms, self._seen = Synonyms(), None
            elif stamp != self._seen:
                self._synonyms, self._seen = read_synonyms(self.path), stamp
            return self._synonyms

    def update(self, change: Callable[[Synonyms], Synonyms]) -> Synonyms:
        """Read, change and write the file, holding the folder's synonyms lock."""
        with self._lock, _folder_lock(self.folder):
            self._seen = _UNREAD  # read it fresh: another process may have changed it
            synonyms = change(self.current())
            write_synonyms(self.folder, synonyms)
            self._seen = _UNREAD
            return synonyms


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive ``flock`` on a folder, held for a short read-change-write (not the
    index's writer lock, which an indexing run holds for minutes)."""
    fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def write_synonyms(folder: Path, synonyms: Synonyms) -> None:
    """Write ``synonyms.txt`` in ``folder`` atomically and durably (no rules: no file)."""
    path = folder / SYNONYMS_NAME
    if not synonyms.rules:
        path.unlink(missing_ok=True)
        fsync_path(folder)
        return
    data = synonyms.to_text().encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".synonyms-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(folder)
