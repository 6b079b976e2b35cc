"""Incremental indexing: walk source paths, diff against the manifest, send only changes.

One run:

1. walks the given files and folders (``.md``, ``.markdown``, ``.txt``; hidden files and folders
   skipped; symlinked folders followed once);
2. compares each file with the manifest (size and mtime first, then a content hash), parses only
   new and changed files, and notes files that vanished from the folders it was given;
3. works out which related items each change touches: a related item lives while at least one
   indexed article lists it; its ``parents`` and inherited topics follow those articles;
4. writes each batch of changes in one commit, then saves the manifest.

A file that cannot be parsed is reported with its reason and skipped; if an earlier version of
it is indexed, that version stays.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import itertools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backends.base import Backend, Record
from .defaults import DEFAULT_BATCH_FILES, DEFAULT_MAX_FILE_BYTES
from .documents import Article, RelatedItem, parse_bytes
from .errors import DocumentError, UsageError
from .locking import drop_all_inherited_locks
from .manifest import FileEntry, Manifest
from .records import AnalysedTerms, analyse_texts, field_texts

SOURCE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
#: Files to read before it pays to start worker processes.
PARALLEL_MIN_FILES = 500
#: Parse workers at most, however many cores: each is a process with its own memory (its
#: copy of the analyser's caches above all).
MAX_PARSE_WORKERS = 4
_CHUNK_FILES = 64
#: Chunks queued to or done by the workers and not yet read: a batch's worth, so that the
#: workers keep parsing while the writer files the batch's related items and flushes its
#: segment (seconds). Results wait pickled and compressed: about 1.5 kB a file.
_IN_FLIGHT = 160

#: ``progress(done, total)``: called as files are checked.
ProgressCallback = Callable[[int, int], None]

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
#: How often a worker without ``prctl`` checks that its parent still lives.
PARENT_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Failure:
    """A source file that was skipped, and why."""

    path: str
    error: str

    def to_dict(self) -> dict[str, str]:
        """``{"path", "error"}``."""
        return {"path": self.path, "error": self.error}


@dataclass
class IndexReport:
    """What an indexing run did. ``to_dict()`` is the ``search index --json`` summary."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)
    documents: int = 0
    took_ms: float = 0.0
    #: Files in the index whose article URL another file in the index already gives: they
    #: are one document, so the index holds fewer articles than files.
    duplicate_urls: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of DESIGN §4."""
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [f.to_dict() for f in self.failed],
            "documents": self.documents,
            "took_ms": round(self.took_ms, 1),
            "duplicate_urls": self.duplicate_urls,
        }


#: Allocations between collections of the youngest generation while indexing (Python's
#: default is 700).
GC_THRESHOLD = 10_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often meanwhile.

    Indexing makes millions of small objects that live until the commit (postings, terms);
    at Python's default threshold the collector walks them again and again: a tenth of the
    writing process's time at 5,000 articles, more as the batch grows. Nothing indexing makes
    forms reference cycles, so collecting less often only delays other code's cycles.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], GC_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def walk(paths: Iterable[Path], failures: list[Failure]) -> Iterator[str]:
    """Yield the source files under ``paths`` (absolute, each once, in a stable order).

    Paths are strings, not ``Path`` objects (several times their size): at 100,000 files the
    walk's objects were a third of the memory the parse workers are forked with.
    """
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()

    def visit_dir(folder: str) -> Iterator[str]:
        try:
            st = os.stat(folder)
        except OSError as exc:
            failures.append(Failure(folder, f"cannot read folder: {exc.strerror or exc}"))
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            return  # a symlink loop, or the same folder given twice
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            failures.append(Failure(folder, f"cannot read folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                continue
            if is_dir:
                yield from visit_dir(entry.path)
            elif is_file and os.path.splitext(entry.name)[1].lower() in SOURCE_SUFFIXES:
                yield entry.path

    for root in paths:
        root_path = os.path.abspath(root)
        if os.path.isdir(root_path):
            files: Iterable[str] = visit_dir(root_path)
        elif os.path.isfile(root_path):
            files = [root_path]
        else:
            raise UsageError(f"no such file or folder: {root_path}")
        for path in files:
            if path not in seen_files:
                seen_files.add(path)
                yield path


def _under(path: str, roots: Sequence[Path]) -> bool:
    return any(path == str(r) or path.startswith(str(r).rstrip(os.sep) + os.sep) for r in roots)


def content_hash(data: bytes) -> str:
    """The hash the manifest keys changes on."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Examined:
    """What reading one file found: an error, unchanged content, or a parsed article."""

    path: str
    size: int = -1
    mtime_ns: int = -1
    digest: str = ""
    article: Article | None = None
    error: str = ""
    #: The article's terms and those of each related item it lists (by id), when analysed.
    article_terms: AnalysedTerms | None = None
    item_terms: dict[str, AnalysedTerms] = field(default_factory=dict)


def examine(
    path: str, known_hash: str | None, max_bytes: int, language: str | None = None
) -> Examined:
    """Read, hash and (when its content changed) parse one file. Never raises for a bad file.

    With a ``language``, the parsed article's texts are analysed too (in a worker process,
    that is work the writing process is spared), all but the topics of its related items,
    which come from the articles listing them.
    """
    try:
        st = os.stat(path)
        if st.st_size > max_bytes:
            return Examined(
                path, error=f"file is too large ({st.st_size} bytes, the limit is {max_bytes})"
            )
        data = Path(path).read_bytes()
    except OSError as exc:
        return Examined(path, error=f"cannot read file: {exc.strerror or exc}")
    digest = content_hash(data)
    if digest == known_hash:
        return Examined(path, st.st_size, st.st_mtime_ns, digest)
    try:
        article = parse_bytes(data, path=path, max_bytes=max_bytes)
    except DocumentError as exc:
        return Examined(path, error=exc.reason)
    if language is None:
        return Examined(path, st.st_size, st.st_mtime_ns, digest, article)
    items: dict[str, AnalysedTerms] = {}
    for item in article.related:
        if item.id not in items:  # the first listing of an id is the one indexed
            texts = field_texts(_related_item_record(item, ()))
            del texts["topic_text"]
            items[item.id] = analyse_texts(texts, language)
    return Examined(
        path, st.st_size, st.st_mtime_ns, digest, article,
        article_terms=analyse_texts(field_texts(_article_record(article, digest)), language),
        item_terms=items,
    )


def examine_chunk(
    jobs: list[tuple[str, str | None]], max_bytes: int, language: str | None = None
) -> bytes:
    """:func:`examine` for several files, pickled: one task for a worker process.

    The results stay pickled and compressed until the writer takes them: a compact queue,
    and the unpickling happens as they are used rather than in the pool's result thread.
    """
    return zlib.compress(
        pickle.dumps(
            [examine(path, known, max_bytes, language) for path, known in jobs],
            pickle.HIGHEST_PROTOCOL,
        ),
        1,
    )


def parse_workers(cpus: int, *, busy_writer: bool) -> int:
    """How many worker processes parse and analyse files beside the writer (0: in-line).

    A busy writer (see :attr:`~searchlib.backends.base.Backend.busy_writer`) keeps a core; an
    engine that indexes in its own threads gets a worker a core: on 2 cores, 5,000 files into
    a tantivy index took 5.1 s with two workers against 6.8 s with one. At most
    :data:`MAX_PARSE_WORKERS`, and none on one core, where a worker only adds pickling.
    """
    if cpus < 2:
        return 0
    return min(MAX_PARSE_WORKERS, cpus - 1 if busy_writer else cpus)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Forked worker processes that never outlive this process and never hold its locks.

    A pool's idle workers wait on a pipe whose other end they hold themselves: when the parent is
    killed (``kill -9``, the OOM killer) they would sleep on as orphans forever, holding any
    ``flock`` the parent had, the index's writer lock included, so every later run would be
    refused. So each worker first closes its copies of lock descriptors, then arranges to die
    with its parent (:func:`start_worker`).

    All of a fork pool's workers are started by the first ``submit()``, in the calling thread.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=start_worker,
        initargs=(os.getpid(),),
    )


def start_worker(parent_pid: int) -> None:
    """The initializer of a forked worker: let go of inherited locks, then die with the parent."""
    drop_all_inherited_locks()
    die_with_parent(parent_pid)


def die_with_parent(parent_pid: int, *, use_prctl: bool = True) -> None:
    """End this forked process as soon as its parent ``parent_pid`` ends.

    On Linux the kernel sends SIGKILL when the parent goes (``PR_SET_PDEATHSIG``). That covers
    only a death after the call, so the parent is checked once afterwards: if it is already gone,
    this process has been handed to another parent and exits now. Elsewhere (or with
    ``use_prctl=False``) a daemon thread checks every :data:`PARENT_POLL_SECONDS` whether the
    parent changed and ends the process when it did.
    """
    if use_prctl and _parent_death_signal(signal.SIGKILL):
        if os.getppid() != parent_pid:
            os._exit(1)
        return
    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="searchlib-parent-watch", daemon=True
    ).start()


def _parent_death_signal(signum: int) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent ends; False if it cannot.

    The kernel ties this to the thread that forked the process: the pool's workers are forked by
    the one thread that then reads their results, so that thread lives as long as they are used.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.prctl(
            ctypes.c_int(_PR_SET_PDEATHSIG), ctypes.c_ulong(signum),
            ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0),
        )
    except (OSError, AttributeError):
        return False
    return bool(result == 0)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


@dataclass
class _Batch:
    """One commit of a run: its first changed file (None: removals only), the files that
    vanished, and, once its records are read, the ids to delete."""

    first: Examined | None
    removed: list[str]
    deletes: list[str] = field(default_factory=list)
    #: Whether the run's changed files ended within this batch.
    exhausted: bool = False


class _Progress:
    """Counts examined files and reports every 50th (and the last) to the callback."""

    def __init__(self, callback: ProgressCallback | None, total: int, done: int) -> None:
        self.callback = callback
        self.total = total
        self.done = done

    def step(self) -> None:
        self.done += 1
        if self.callback is not None and (self.done % 50 == 0 or self.done == self.total):
            self.callback(self.done, self.total)


class Indexer:
    """Brings a backend in line with source files, using and updating a manifest."""

    def __init__(
        self,
        backend: Backend,
        manifest: Manifest,
        *,
        save_manifest: Callable[[Manifest], None],
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        batch_files: int = DEFAULT_BATCH_FILES,
    ) -> None:
        self.backend = backend
        self.manifest = manifest
        self._save = save_manifest
        self.max_file_bytes = max_file_bytes
        self.batch_files = batch_files

    def run(
        self, paths: Sequence[Path], *, progress: ProgressCallback | None = None
    ) -> IndexReport:
        """Index ``paths`` incrementally and return what changed."""
        with fewer_collections():
            return self._run(paths, progress)

    def _run(self, paths: Sequence[Path], progress: ProgressCallback | None) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        roots = [Path(os.path.abspath(p)) for p in paths]
        for root in roots:
            if not root.exists():
                raise UsageError(f"no such file or folder: {root}")
        # Paths as strings, and dropped once read: the run holds as little per file as it can.
        current = list(walk(roots, report.failed))
        current_set = set(current)
        vanished = [
            path for path in self.manifest.files
            if _under(path, roots) and path not in current_set
        ]
        del current_set
        total = len(current)
        if progress is not None:
            progress(0, total)

        removed_now = list(vanished)
        to_examine: list[tuple[str, str | None]] = []
        for key in current:
            entry = self.manifest.files.get(key)
            try:
                st = os.stat(key)
            except OSError as exc:
                report.failed.append(Failure(key, f"cannot read file: {exc.strerror or exc}"))
                continue
            if (
                entry is not None
                and entry.size == st.st_size
                and entry.mtime_ns == st.st_mtime_ns
            ):
                report.unchanged += 1  # the fast path: same size and mtime, not even read
            else:
                to_examine.append((key, entry.hash if entry is not None else None))
        del current
        progress_state = _Progress(progress, total, total - len(to_examine))
        if progress is not None:
            progress(progress_state.done, total)
        examined = self._examine_all(to_examine)
        stray, self.manifest.stray = self.manifest.stray, []
        while True:
            first = self._next_change(examined, report, progress_state)
            if first is None and not removed_now and not stray:
                break
            # An interrupted write's leftovers go with the first commit.
            batch = _Batch(first, removed_now, deletes=stray)
            stray = []
            # The batch's records stream into the writer as the files are parsed.
            self.backend.write(self._batch_records(batch, examined, report, progress_state),
                               batch.deletes)
            self.manifest.generation = self.backend.generation()
            self._save(self.manifest)
            removed_now = []
            if first is None or batch.exhausted:
                break
        report.removed = len(vanished)
        report.documents = self.backend.info().count
        # A file without a URL has an id of its own (from its path): only shared URLs count.
        files = self.manifest.files
        report.duplicate_urls = len(files) - len({entry.article_id for entry in files.values()})
        report.took_ms = (time.perf_counter() - started) * 1000
        return report

    def _examine_all(self, jobs: list[tuple[str, str | None]]) -> Iterator[Examined]:
        """Read, hash, parse and analyse files, in worker processes when there are many.

        That is half the work of indexing: on a multi-core machine it runs beside the writer,
        which then only files terms. At most ``_IN_FLIGHT`` chunks are queued (pickled), so
        memory stays bounded however many files there are, and the workers keep going while
        the writer flushes a segment.
        """
        workers = parse_workers(os.cpu_count() or 1, busy_writer=self.backend.busy_writer)
        # Workers are forked: "spawn" would re-run the caller's main script in each of them,
        # and forking is only safe while this process runs a single thread (a web server that
        # indexes from a thread parses in-line instead).
        can_fork = "fork" in multiprocessing.get_all_start_methods()
        if (
            len(jobs) < PARALLEL_MIN_FILES
            or workers < 1
            or not can_fork
            or threading.active_count() > 1
        ):
            for path, known in jobs:
                yield examine(path, known, self.max_file_bytes)
            return
        # The workers analyse the texts too: the writer then only files the terms.
        language = self.backend.language
        with worker_pool(workers) as pool:
            queued: deque[Future[bytes]] = deque()
            remaining = (jobs[i : i + _CHUNK_FILES] for i in range(0, len(jobs), _CHUNK_FILES))
            for chunk in itertools.islice(remaining, _IN_FLIGHT):
                queued.append(pool.submit(examine_chunk, chunk, self.max_file_bytes, language))
            while queued:
                future = queued.popleft()
                following = next(remaining, None)
                if following is not None:
                    queued.append(
                        pool.submit(examine_chunk, following, self.max_file_bytes, language)
                    )
                chunk_results: list[Examined] = pickle.loads(zlib.decompress(future.result()))
                yield from chunk_results

    def _next_change(
        self, examined: Iterator[Examined], report: IndexReport, progress: _Progress
    ) -> Examined | None:
        """The next examined file whose content changed (None at the end), counting the
        failed and unchanged ones on the way."""
        for item in examined:
            progress.step()
            if item.error:
                report.failed.append(Failure(item.path, item.error))
            elif item.article is None:
                # Touched but not changed: remember the new size and mtime.
                entry = self.manifest.files[item.path]
                entry.size, entry.mtime_ns = item.size, item.mtime_ns
                report.unchanged += 1
            else:
                if item.path in self.manifest.files:
                    report.updated += 1
                else:
                    report.added += 1
                return item
        return None

    def _batch_records(
        self,
        batch: _Batch,
        examined: Iterator[Examined],
        report: IndexReport,
        progress: _Progress,
    ) -> Iterator[Record]:
        """The records of one batch, as they come: each changed article as soon as its file is
        parsed (up to :attr:`batch_files` of them), then the related items the batch touched.
        Fills ``batch.deletes`` at the end, and keeps the manifest in step."""
        files = self.manifest.files
        removed = batch.removed
        before_ids = {files[p].article_id for p in removed if p in files}
        touched_related: set[str] = set()
        known_items: dict[str, RelatedItem] = {}
        known_terms: dict[str, AnalysedTerms] = {}
        written: set[str] = set()

        for path in removed:
            entry = files.pop(path, None)
            if entry is not None:
                touched_related.update(entry.related)
        current = batch.first
        changed = 0
        while current is not None:
            path, article = current.path, current.article
            assert article is not None
            old = files.get(path)
            if old is not None:
                touched_related.update(old.related)
                before_ids.add(old.article_id)
            files[path] = FileEntry(
                hash=current.digest,
                article_id=article.id,
                # Interned: the manifest holds each topic and shared related id once.
                topics=tuple(map(sys.intern, article.topics)),
                related=tuple(sys.intern(item.id) for item in article.related),
                size=current.size,
                mtime_ns=current.mtime_ns,
            )
            touched_related.update(item.id for item in article.related)
            for item in article.related:
                if item.id not in known_items:
                    known_items[item.id] = item
                    terms = current.item_terms.get(item.id)
                    if terms is not None:
                        known_terms[item.id] = terms
            written.add(article.id)
            yield _article_record(article, current.digest, current.article_terms)
            changed += 1
            if changed >= self.batch_files:
                break
            current = self._next_change(examined, report, progress)
            if current is None:
                batch.exhausted = True

        # From the whole manifest, only what this batch needs: every article id (a related URL
        # that is also an article is that article); for each id the batch touched, the
        # articles listing it; and for those, the topics and first file of each.
        articles: set[str] = set()
        parents: dict[str, set[str]] = {rid: set() for rid in touched_related | before_ids}
        for entry in files.values():
            articles.add(entry.article_id)
            for rid in entry.related:
                holders = parents.get(rid)
                if holders is not None:
                    holders.add(entry.article_id)
        needed = set(before_ids).union(*parents.values())
        topics_of: dict[str, tuple[str, ...]] = {}
        paths_by_article: dict[str, str] = {}
        for path, entry in files.items():
            if entry.article_id in needed:
                topics_of[entry.article_id] = entry.topics  # the last file's, as before
                paths_by_article.setdefault(entry.article_id, path)

        deletes = batch.deletes
        # An article id whose files are all gone: delete it, unless it still is a related item.
        for doc_id in before_ids:
            if doc_id in articles:
                if doc_id not in written:
                    # Another file holds the same article (same URL): index that one now.
                    other = self._reparse(paths_by_article[doc_id], report)
                    if other is not None:
                        written.add(doc_id)
                        yield other
                continue
            if parents.get(doc_id):
                touched_related.add(doc_id)
            else:
                deletes.append(doc_id)

        for rid in sorted(touched_related):
            if rid in articles:
                continue  # an URL that is also an article is that article
            listing = sorted(parents.get(rid, ()))
            if not listing:
                deletes.append(rid)
                continue
            known = known_items.get(rid)
            record = self._related_record(
                rid, known, listing, topics_of, paths_by_article,
                known_terms.get(rid) if known is not None else None,
            )
            if record is not None:
                yield record

    def _related_record(
        self,
        rid: str,
        item: RelatedItem | None,
        listing: list[str],
        topics_of: dict[str, tuple[str, ...]],
        paths_by_article: dict[str, str],
        analysed: AnalysedTerms | None = None,
    ) -> Record | None:
        """The record of related item ``rid``, listed by the articles ``listing``; ``item``
        is its data as parsed in this batch (None: from the index, or a listing file), with
        its terms ``analysed`` in a worker."""
        topics: dict[str, None] = {}
        for parent in listing:
            for topic in topics_of.get(parent, ()):
                topics.setdefault(topic, None)
        if item is None:
            stored = self.backend.get(rid)
            if stored is not None:
                item = RelatedItem(
                    id=rid, url=stored.url, title=stored.title, excerpt=stored.excerpt,
                    provider=stored.provider, published=stored.published,
                    quality=stored.quality,
                )
        if item is None:
            # Not stored yet (e.g. its article just vanished): read it from a listing article.
            for parent in listing:
                items = self._items(paths_by_article[parent])  # one parse of the file
                found = next((r for r in items if r.id == rid), None)
                if found is not None:
                    item = found
                    break
        if item is None:
            return None
        return _related_item_record(item, tuple(topics), tuple(listing), analysed)

    def _items(self, path: str) -> tuple[RelatedItem, ...]:
        try:
            data = Path(path).read_bytes()
            return parse_bytes(data, path=path, max_bytes=self.max_file_bytes).related
        except (OSError, DocumentError):
            return ()

    def _reparse(self, path: str, report: IndexReport | None) -> Record | None:
        try:
            data = Path(path).read_bytes()
            article = parse_bytes(data, path=path, max_bytes=self.max_file_bytes)
        except (OSError, DocumentError) as exc:
            if report is not None:
                report.failed.append(Failure(path, str(exc)))
            return None
        return _article_record(article, content_hash(data))


def _related_item_record(
    item: RelatedItem,
    topics: tuple[str, ...],
    parents: tuple[str, ...] = (),
    analysed: AnalysedTerms | None = None,
) -> Record:
    return Record(
        id=item.id, kind="related", title=item.title, excerpt=item.excerpt, url=item.url,
        provider=item.provider, published=item.published, quality=item.quality, topics=topics,
        parents=parents, analysed=analysed,
    )


def _article_record(
    article: Article, digest: str, analysed: AnalysedTerms | None = None
) -> Record:
    return Record(
        id=article.id,
        kind="article",
        title=article.title,
        excerpt=article.excerpt,
        url=article.url,
        provider=article.provider,
        published=article.published,
        quality=article.quality,
        topics=article.topics,
        body=article.body,
        related_text="\n".join(item.title for item in article.related),
        provider_domain=article.provider_domain,
        path=article.path,
        content_hash=digest,
        related_ids=tuple(item.id for item in article.related),
        extra=article.extra,
        analysed=analysed,
    )


def manifest_from_records(backend: Backend, *, interrupted: bool = False) -> Manifest:
    """Rebuild the manifest from what the index stores (after a crash or a lost manifest).

    ``interrupted``: the index holds part of a write that never committed (an engine whose
    writes are not atomic). An article may then be stored without its related items, or with
    related items of an older version of it, and related items may be stored that no stored
    article lists. So every file is marked to be read again (its hash unknown: the next run
    writes each article and its related items anew), and the related items no article lists
    are :attr:`Manifest.stray`, deleted by the next write.
    """
    manifest = Manifest(generation=backend.generation())
    listed: set[str] = set()
    articles: set[str] = set()
    for record in backend.records(kind="article"):
        articles.add(record.id)
        listed.update(record.related_ids)
        if record.path:
            manifest.files[record.path] = FileEntry(
                hash="" if interrupted else record.content_hash,
                article_id=record.id,
                topics=record.topics,
                related=record.related_ids,
            )
    if interrupted:
        manifest.stray = [
            record.id for record in backend.records(kind="related")
            if record.id not in listed and record.id not in articles
        ]
    return manifest
