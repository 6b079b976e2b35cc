"""``Engine``: the one object users hold, from a script, the CLI or a long-lived service.

A facade: the index folder and its engine live in :mod:`searchlib.store`, requests are
validated by :mod:`searchlib.request`, and searches run through :mod:`searchlib.searching`.

Example::

    from searchlib import Engine

    with Engine("index") as engine:
        engine.index(["articles/"])
        results = engine.search("facial recognition", topics=["AI"], limit=5)
        for hit in results.hits:
            print(hit.rank, hit.title)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .backends.base import Backend
from .defaults import DEFAULT_BATCH_FILES, DEFAULT_MAX_FILE_BYTES
from .errors import NotFoundError, UsageError
from .records import completion_prefix
from .request import (
    MAX_FACET_SIZE,
    MAX_LIMIT,
    MAX_OFFSET,
    build_request,
    check_facet,
    check_int,
)
from .results import Completion, Facet, Hit, SearchResults, Stats
from .schema import KINDS, FeedbackMode, MatchMode, Sort
from .searching import SearchPipeline
from .searching.hits import detailed_hit
from .store import SCHEMA_VERSION, IndexStore, remove_index
from .synonyms import (
    SynonymFile,
    SynonymRule,
    Synonyms,
    SynonymSource,
    parse_rule,
    read_synonyms,
)

if TYPE_CHECKING:  # the indexer is imported when an index is built, not to search
    from .indexer import IndexReport, ProgressCallback

#: The most completions ``Engine.suggest`` returns.
MAX_SUGGEST = 100
#: Characters of a prefix that type-ahead reads (longer ones complete to nothing anyway).
MAX_PREFIX = 200

__all__ = [
    "KINDS",
    "MAX_FACET_SIZE",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "MAX_SUGGEST",
    "Completion",
    "Engine",
    "Stats",
    "SynonymRule",
    "Synonyms",
    "remove_index",
]


class Engine:
    """An index folder: build it, keep it in sync with source files, search it.

    Thread-safe: one engine can serve searches from many threads while one of them indexes.
    Searches see the latest commit. Use as a context manager, or call :meth:`close`.
    ``backend`` chooses the engine of a new index (``whoosh``, the default, or ``tantivy``,
    the ``searchlib[tantivy]`` extra); an existing index opens with the engine it was built
    with (recorded in its ``searchlib.json``), and asking for another one is an error.
    ``path=None`` keeps the index in memory.
    ``backend="typesense"`` keeps the index in a Typesense cluster (the ``searchlib[typesense]``
    extra): ``nodes`` lists its nodes (``["http://h1:8108", "http://h2:8108"]``, or
    ``SEARCHLIB_TYPESENSE_NODES``), the API key comes from ``SEARCHLIB_TYPESENSE_API_KEY``, and
    ``collection`` names the cluster's collection (give the same name on every machine that
    shares it; by default it is named after the folder).
    ``cache_mb`` is how many megabytes of decoded postings the whoosh backend keeps between
    searches (default 96; 0 keeps none), so that common and repeated words cost nothing after
    their first search; engines without such a cache ignore it.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, *, language: str | None = None,
        create: bool = True, lock_timeout: float = 0.0,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, backend: str | None = None,
        cache_mb: float | None = None, nodes: str | Sequence[str] | None = None,
        collection: str | None = None,
    ) -> None:
        if cache_mb is not None and (
            isinstance(cache_mb, bool) or not isinstance(cache_mb, (int, float))
            or not cache_mb >= 0 or cache_mb == float("inf")
        ):
            raise UsageError(
                f"cache_mb must be a number of megabytes, 0 or more, not {cache_mb!r}"
            )
        self.path = None if path is None else Path(path)
        self.max_file_bytes = max_file_bytes
        self._write_lock = threading.Lock()
        self._store: IndexStore | None = IndexStore(
            self.path, language=language, create=create, lock_timeout=lock_timeout,
            backend=backend, backend_options=_backend_options(nodes, collection),
        )
        self.language = self._store.language
        self.backend_name = self._store.engine
        if cache_mb is not None:
            set_cache = getattr(self._store.backend, "set_cache_mb", None)
            if set_cache is not None:
                set_cache(cache_mb)
        self._synonyms: SynonymSource = (
            SynonymFile(self.path) if self.path is not None else SynonymSource()
        )
        self.pipeline = SearchPipeline(
            self._store.backend, self.language, synonyms=self._synonyms
        )

    @classmethod
    def in_memory(cls, *, language: str | None = None, backend: str = "memory") -> Engine:
        """An index that lives in memory only: for tests and throwaway use."""
        return cls(None, language=language, backend=backend)

    @property
    def store(self) -> IndexStore:
        """The open index (raises once the engine is closed)."""
        if self._store is None:
            raise UsageError("the engine is closed")
        return self._store

    @property
    def backend(self) -> Backend:
        """The engine's backend (raises once the engine is closed)."""
        return self.store.backend

    def close(self) -> None:
        """Release the searcher and index files. The engine cannot be used afterwards."""
        if self._store is not None:
            self._store.backend.close()
            self._store = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def index(
        self, paths: Iterable[str | os.PathLike[str]], *, rebuild: bool = False,
        progress: ProgressCallback | None = None, batch_files: int = DEFAULT_BATCH_FILES,
    ) -> IndexReport:
        """Bring the index in line with the files under ``paths`` and report what changed.

        New files are added, changed ones updated, and files that vanished from these folders
        removed. ``rebuild=True`` starts from an empty index. Files that cannot be parsed are
        listed in ``report.failed`` and skipped; they never stop the run.
        """
        roots = [Path(p) for p in paths]
        if not roots:
            raise UsageError("give at least one file or folder to index")
        store = self.store
        with self._write_lock, store.writing(), store.recovery():
            if rebuild:
                store.wipe()
                self.pipeline = SearchPipeline(
                    store.backend, self.language, synonyms=self._synonyms
                )
            from .indexer import Indexer

            indexer = Indexer(
                store.backend, store.manifest(), save_manifest=store.save_manifest,
                max_file_bytes=self.max_file_bytes, batch_files=batch_files,
            )
            return indexer.run(roots, progress=progress)

    def search(
        self, text: str = "", *, topics: Sequence[str] = (), providers: Sequence[str] = (),
        kind: str | None = None, since: str | datetime | None = None,
        until: str | datetime | None = None, sort: Sort = "relevance", limit: int = 10,
        offset: int = 0, facet_size: int = 10, match: MatchMode = "auto",
        feedback: FeedbackMode = "auto", strict: bool = False, timeline: str | None = None,
        collapse: str | None = None, freshness: str | timedelta | None = None,
        freshness_from: str | datetime | None = None,
    ) -> SearchResults:
        """Search the index (the query language and every option are in the README).

        Filters: values of one facet (``topics``, ``providers``) are OR-ed, different filters
        AND-ed, and values match whatever their case or accents; ``since``/``until`` take
        ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ISO 8601, inclusive, in UTC. ``match``:
        ``auto`` needs every word of up to 3 words (any word when none has them all, which
        sets ``relaxed``) and ranks longer queries by any word, every word first. ``feedback``:
        ``auto`` expands queries of over 3 words with words of their top documents (RM3).
        Any text is searched (syntax it cannot parse is read as plain words, and
        ``notices`` says so); ``strict=True`` raises :class:`~searchlib.errors.QueryError`
        instead. Bad arguments raise :class:`~searchlib.errors.UsageError`.

        ``timeline`` (``auto``, ``day``, ``week`` or ``month``) adds ``facets["published"]``:
        matches per day, week or month (``auto`` chooses from the span of the matches),
        counted like the other facets, under every filter but the dates.

        ``collapse="story"`` shows an article and its related items once, as the best hit of
        the story, with its ``coverage``; ``offset`` and ``limit`` then count stories, and
        ``total_stories`` is beside ``total`` (which, like the facets, counts documents).

        ``freshness`` (a duration: ``12h``, ``7d``, ``2w``) multiplies relevance by a decay
        on age that halves its decaying half per duration and never goes below 0.5, from
        ``freshness_from``: ``now`` (default), ``newest`` (the index's newest document, for
        archives) or a date. Off by default; only with ``sort="relevance"``.
        """
        request = build_request(
            text, topics=topics, providers=providers, kind=kind, since=since, until=until,
            sort=sort, limit=limit, offset=offset, facet_size=facet_size, match=match,
            feedback=feedback, strict=strict, timeline=timeline, collapse=collapse,
            freshness=freshness, freshness_from=freshness_from,
        )
        with self.store.recovery():
            results = self.pipeline.search(request)
        if request.notices:
            return replace(results, query=text, notices=request.notices)
        return results

    def facet(
        self, name: str, text: str = "", *, topics: Sequence[str] = (),
        providers: Sequence[str] = (), kind: str | None = None,
        since: str | datetime | None = None, until: str | datetime | None = None,
        limit: int | None = None, sort: Sort = "relevance", match: MatchMode = "auto",
        feedback: FeedbackMode = "auto", strict: bool = False,
    ) -> Facet:
        """Every value of one facet (``topic``, ``provider``, ``kind``) with the counts that
        :meth:`search` gives for the same arguments, by count then name (the first ``limit``
        of them, selected values always listed); the facet's own filter does not narrow them.
        """
        check_facet(name, limit)
        request = build_request(
            text, topics=topics, providers=providers, kind=kind, since=since, until=until,
            sort=sort, limit=0, offset=0, facet_size=1, match=match, feedback=feedback,
            strict=strict,
        )
        with self.store.recovery():
            return self.pipeline.facet(name, request, limit)

    def similar(
        self, doc_id: str, *, limit: int = 10, offset: int = 0, topics: Sequence[str] = (),
        providers: Sequence[str] = (), kind: str | None = None,
    ) -> SearchResults:
        """Documents most like ``doc_id`` (never itself), in the same shape as :meth:`search`."""
        self.get(doc_id)  # raises NotFoundError for an unknown id
        request = build_request(
            "", topics=topics, providers=providers, kind=kind, since=None, until=None,
            sort="relevance", limit=limit, offset=offset, facet_size=10, match="any",
        )
        with self.store.recovery():
            return self.pipeline.similar(doc_id, request)

    def get(self, doc_id: str) -> Hit:
        """One document with every stored field; raises :class:`NotFoundError` if unknown."""
        if not isinstance(doc_id, str) or not doc_id:
            raise UsageError("a document id must be a non-empty string")
        with self.store.recovery():
            record = self.backend.get(doc_id)
        if record is None:
            raise NotFoundError(f"no document with id {doc_id!r}")
        return detailed_hit(record)

    def stats(self) -> Stats:
        """Counts, size and settings of the index."""
        store = self.store
        with store.recovery():
            info, files = store.backend.info(), store.files()
        kinds = info.facets.get("kind", {})
        return Stats(
            path=str(self.path) if self.path is not None else ":memory:",
            documents=info.count, articles=kinds.get("article", 0),
            related=kinds.get("related", 0), files=files,
            topics=len(info.facets.get("topic", {})),
            providers=len(info.facets.get("provider", {})),
            size_bytes=info.size_bytes, language=self.language, schema_version=SCHEMA_VERSION,
            backend=store.engine,
        )

    def suggest(self, prefix: str, limit: int = 8) -> list[Completion]:
        """Type-ahead: up to ``limit`` (1-100) words and two-word phrases of titles that
        start with ``prefix``, in the most documents first, then alphabetically.

        Not a search: one look-up in a table of title words and phrases (case and accents
        folded, as shown: ``coro`` gives ``coronavirus``, ``coronavirus vaccine``...), each
        weighted by the live documents whose title has it. A prefix ending in a space
        completes to phrases only; an empty or blank prefix to nothing.
        """
        if not isinstance(prefix, str):
            raise UsageError(f"the prefix must be a string, not {prefix!r}")
        check_int("limit", limit, 1, MAX_SUGGEST)
        typed = completion_prefix(prefix[:MAX_PREFIX])
        if not typed.strip():
            return []
        with self.store.recovery():
            found = self.backend.complete(typed, limit)
        return [Completion(text, documents) for text, documents in found]

    # -- synonyms ------------------------------------------------------------------------------

    def synonyms(self) -> Synonyms:
        """The index's synonym rules (none by default), as searches apply them now."""
        return self._synonym_source().current()

    def add_synonyms(
        self, words: str | Sequence[str], *, to: Sequence[str] | None = None
    ) -> Synonyms:
        """Add a rule and return the whole list; searches apply it at once, no re-indexing.

        ``add_synonyms(["covid", "coronavirus"])`` makes the words equivalent (joining a
        group that already has one of them); ``add_synonyms(["sars-cov-2"], to=["covid"])``
        searches ``covid`` for ``sars-cov-2`` (one way). One string is read as a line of a
        Solr synonyms file: ``add_synonyms("sars-cov-2 => covid")``.
        """
        source = self._synonym_source()
        if isinstance(words, str):
            if to is not None:
                raise UsageError("give the words as a list when 'to' is given")
            rule = parse_rule(words)
        else:
            line = ", ".join(_synonym_word(w) for w in words)
            if to is not None:
                line += " => " + ", ".join(_synonym_word(w) for w in to)
            rule = parse_rule(line)
        return source.update(lambda current: current.add(rule))

    def remove_synonym(self, word: str) -> Synonyms:
        """Take ``word`` out of every rule (a rule left with too little goes) and return the
        list; raises :class:`~searchlib.synonyms.SynonymError` when no rule has it."""
        word = _synonym_word(word)
        return self._synonym_source().update(lambda current: current.remove(word))

    def load_synonyms(self, path: str | os.PathLike[str]) -> Synonyms:
        """Replace the index's synonyms with those of a Solr synonyms file; a bad line raises
        :class:`~searchlib.synonyms.SynonymError` naming the file and line, and changes
        nothing."""
        source = self._synonym_source()
        loaded = read_synonyms(Path(path))
        return source.update(lambda current: loaded)

    def clear_synonyms(self) -> Synonyms:
        """Remove every synonym rule."""
        return self._synonym_source().update(lambda current: Synonyms())

    def _synonym_source(self) -> SynonymSource:
        self.store.backend  # noqa: B018  (raises once the engine is closed)
        return self._synonyms


def _backend_options(
    nodes: str | Sequence[str] | None, collection: str | None
) -> dict[str, object]:
    """The options of an engine that lives in a cluster (only those given)."""
    options: dict[str, object] = {}
    if nodes is not None:
        options["nodes"] = nodes
    if collection is not None:
        options["collection"] = collection
    return options


def _synonym_word(word: object) -> str:
    """One synonym given on its own: a string without the list syntax (``,``, ``=>``)."""
    if not isinstance(word, str):
        raise UsageError(f"a synonym must be a string, not {word!r}")
    if "," in word or "=>" in word:
        raise UsageError(
            f"{word!r} is a rule, not one synonym: give it alone as a string "
            "('a, b' or 'a => b')"
        )
    return word
