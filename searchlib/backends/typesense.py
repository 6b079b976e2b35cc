"""The Typesense backend: searchlib's records in a Typesense cluster (the ``searchlib[typesense]``
extra, PyPI's official ``typesense`` client; tested against Typesense 0.24).

Every node of the cluster is given to the client, which sends each request to the next healthy
node and retries another one when a node times out or fails: a cluster of three keeps
answering with a node down. Any node answers searches; writes are forwarded to the Raft leader.

How it reads the protocol:

- **Same terms everywhere.** Each document carries searchlib's own analysed terms (the same
  :class:`~searchlib.analysis.Analyzer` as every engine), each encoded as one opaque token (its
  UTF-8 bytes in hex) so that Typesense's tokenizer, case folding and exact-match rules cannot
  change what a term is: ``terms`` holds every field's distinct terms, each prefixed by its
  field's code (a ``string[]``, faceted: the fields' vocabularies with document counts), and
  ``p_<field>`` the positional fields' terms in order (a ``string``, for phrases).
- **Matching** is a ``filter_by`` expression compiled from the plan: a term in some fields (or
  any of several terms, under ``Any``) is one exact-match condition on ``terms``,
  ``All``/``Any`` are ``&&``/``||``, and an exclusion is pushed down to the leaves (Typesense
  0.24 negates only single conditions: ``!=``). ``Prefix`` and ``Fuzzy`` expand through the
  fields' vocabularies (read from the cluster once per commit) into exact terms. A phrase is
  found with Typesense's phrase search (``q="t1 t2"`` on ``p_<field>``, typos, prefixes and
  dropped words off) and enters the filter as the ids it found. Typesense 0.24 refuses a filter
  of about a hundred tokens, so a part of a plan above :data:`_MAX_TOKENS` is evaluated on its
  own (its children one search each, combined here) and enters as ids too. Totals and facet
  counts are therefore exact: the conformance suite compares them with the reference's.
- **Ranking.** Typesense's own text-match score (0.24) ranks by matched words, typos,
  proximity and field priority, without term or document frequencies and without weights per
  clause, so it cannot honour a plan's boosts (the pipeline's tiers: documents with every word
  first) nor rank a rare word above a common one. Relevance is therefore computed here: BM25F
  (Lucene's idf from the fields' document counts, field weights from
  :data:`~searchlib.schema.FIELD_WEIGHTS`, length norms from each document's field lengths),
  added and boosted as the plan says, over the documents of each leaf in each field that
  Typesense returns (one faceted search per leaf and field, all in one ``multi_search``).
  Every match is scored by the presence of its terms; the best :data:`_RESCORED` are then
  scored again with their term frequencies (read from the cluster), which only raises their
  scores. The cost grows with the number of matches: see the README's scaling notes.
- **Facets**, disjunctive ones included, are counted by Typesense: one search per distinct set
  of facet filters, in the same ``multi_search`` request as the page.
- **Order** for dates and quality is Typesense's ``sort_by`` on integer columns (undated and
  unrated documents hold the smallest value) and a hash of the id.
- **Writes** are bulk ``import`` with ``action=upsert`` and deletions by id, then a commit
  marker (the ``generation``) in the index's own ``<name>__meta`` collection, which also holds
  the manifest, so that any machine can index into the cluster and see what is there. Before
  ``write`` returns, every reachable node has applied the commit (reads then see it on any
  node). A write is not atomic: before its first change the marker is flagged as a write under
  way, and the commit clears the flag. A crash halfway leaves some records written and the
  flag set (:meth:`TypesenseBackend.write_interrupted`), and the next run repairs the index
  (see ``searchlib.store.IndexStore.manifest``).

The API key comes from ``SEARCHLIB_TYPESENSE_API_KEY`` and is never written anywhere; the
index folder holds only ``typesense.json``: the collection's name and the nodes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import math
import os
import re
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

# The client (and httpx, asyncio, urllib.request under it) is imported on first use, not with
# this module: the store imports every installed engine to recognise an index folder, and a
# Whoosh or tantivy user should not pay for it. Its absence still fails this import, so the
# registry can say "not installed".
if importlib.util.find_spec("typesense") is None:
    raise ImportError("the typesense client is not installed")

from .. import plan as p
from ..analysis import Analyzer, check_language
from ..errors import IndexCorruptError, SearchIndexError, UsageError
from ..records import (
    COMPLETION_FIELD,
    DISTINCT_FIELDS,
    PLAIN_FIELDS,
    Record,
    completion_terms,
    field_texts,
)
from ..schema import (
    BM25_B,
    BM25_K1,
    COUNTED_FACETS,
    DAY_FACET,
    FACETS,
    FIELD_WEIGHTS,
    POSITIONAL_FIELDS,
    SORTS,
)
from ..schema import Sort as SortName
from .base import Execution, IndexInfo, TermStats
from .memory import levenshtein

#: The environment variables the backend reads.
NODES_ENV = "SEARCHLIB_TYPESENSE_NODES"
API_KEY_ENV = "SEARCHLIB_TYPESENSE_API_KEY"
COLLECTION_ENV = "SEARCHLIB_TYPESENSE_COLLECTION"
#: The file in an index folder that names the collection and the nodes (never the key).
CONFIG_NAME = "typesense.json"
#: The keyword field: one term, the record's kind.
KEYWORD_FIELD = "kind"
#: Every field a plan may name.
FIELDS: tuple[str, ...] = (*FIELD_WEIGHTS, *PLAIN_FIELDS, KEYWORD_FIELD, COMPLETION_FIELD)
#: Fields whose terms occur once a document: a term's total frequency is its document count.
_ONCE_FIELDS = (*DISTINCT_FIELDS, KEYWORD_FIELD, COMPLETION_FIELD)
#: Sort key of a document without a date (or a quality): below every real one.
_MISSING = -(2**62)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: Facet values a search may return: more than any vocabulary or match set it counts.
_ALL_VALUES = 10_000_000
#: A prefix or fuzzy leaf reaching at most this many terms in a field is ranked term by term
#: (one search each); beyond, as one term (see ``_Ranking``).
_SCORED_EXPANSIONS = 12
#: Each field's one-letter code in ``terms`` values (not a hex digit, for legibility).
FIELD_CODES = {name: chr(ord("g") + n) for n, name in enumerate(FIELDS)}
_CODE_FIELDS = {code: name for name, code in FIELD_CODES.items()}
#: A filter expression with more tokens (conditions, operators, parentheses) than this is
#: split: Typesense 0.24 refuses one of about a hundred tokens ("Filter expression is not
#: valid"), so a larger part of a plan is evaluated on its own and enters as the ids it found.
_MAX_TOKENS = 60
_TOKEN = re.compile(r"&&|\|\||[()]|[a-z_]+:")
#: How many of the best matches by term presence are scored again with term frequencies.
_RESCORED = 300
#: Typesense's page size limit.
_PAGE = 250
#: Searches one ``multi_search`` request may hold (Typesense's default limit is 50).
_MULTI = 50
#: Documents per ``import`` request.
_IMPORT_BATCH = 2_000
#: Ids per deletion request (each is one filter).
_DELETE_BATCH = 500
#: Seconds a request may take before the client tries another node: short, so that a node that
#: hangs (stopped, or cut off) costs searches little; bulk requests get longer.
_TIMEOUT = 5.0
_BULK_TIMEOUT = 60.0
#: How long ``write`` waits for each reachable node to apply a commit.
_REPLICA_WAIT = 30.0
_NAME = re.compile(r"[^a-z0-9_]+")
#: A search that matches by filter only: no typos, prefixes, or dropped words anywhere.
_EXACT: dict[str, Any] = {
    "num_typos": 0, "typo_tokens_threshold": 0, "drop_tokens_threshold": 0, "prefix": False,
    "split_join_tokens": "off", "exhaustive_search": True, "highlight_fields": "none",
    "use_cache": False,
}


def encode(term: str) -> str:
    """``term`` as one token no tokenizer splits or folds: ``x`` and its UTF-8 bytes in hex."""
    return "x" + term.encode("utf-8").hex()


def decode(token: str) -> str:
    """The term of a token of :func:`encode` (or of a ``terms`` value: its first letter is
    the field's code)."""
    return bytes.fromhex(token[1:]).decode("utf-8")


def _value(field: str, term: str) -> str:
    """A term of a field as a value of the ``terms`` array."""
    return FIELD_CODES[field] + term.encode("utf-8").hex()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _micros(value: datetime) -> int:
    """Microseconds since the epoch, exactly (a float timestamp would round)."""
    moment = _utc(value)
    assert moment is not None
    return (moment - _EPOCH) // _MICROSECOND


def _tiebreak(doc_id: str) -> int:
    """The last key of every order: a hash of the id (63 bits, Typesense's int64 is signed)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _check_fields(fields: Iterable[str]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(fields))
    for name in unique:
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}: choose one of {', '.join(FIELDS)}")
    return unique


def parse_nodes(nodes: str | Sequence[str]) -> list[str]:
    """Node URLs from a comma-separated string or a list; a malformed one is a ``UsageError``
    naming the ``--nodes`` argument."""
    items = [n.strip() for n in (nodes.split(",") if isinstance(nodes, str) else nodes)]
    items = [n for n in items if n]
    if not items:
        raise UsageError("--nodes: give the cluster's nodes, e.g. http://h1:8108,http://h2:8108")
    out = []
    for item in items:
        parts = urlsplit(item if "://" in item else f"http://{item}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
            raise UsageError(
                f"--nodes: {item!r} is not a node address like http://host:8108"
            )
        out.append(f"{parts.scheme}://{parts.hostname}:{port}")
    return out


def collection_name(path: Path | None, explicit: str | None = None) -> str:
    """The collection of an index: ``explicit``, ``SEARCHLIB_TYPESENSE_COLLECTION``, or one
    named after the folder (its name and a hash of its absolute path, so that two folders
    never share one by accident; give the same name on every machine to share one)."""
    name = explicit or os.environ.get(COLLECTION_ENV)
    if name:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", name):
            raise UsageError(
                f"--collection: {name!r} is not a collection name (letters, digits, _ and -)"
            )
        return name
    if path is None:
        return "searchlib_mem_" + os.urandom(6).hex()
    folder = path.resolve()
    short = _NAME.sub("_", folder.name.lower()).strip("_")[:40] or "index"
    return f"searchlib_{short}_{hashlib.sha1(str(folder).encode()).hexdigest()[:8]}"


def api_key() -> str:
    """The cluster's API key, from ``SEARCHLIB_TYPESENSE_API_KEY``."""
    key = os.environ.get(API_KEY_ENV, "")
    if not key:
        raise UsageError(
            f"the typesense backend needs the cluster's API key in the environment variable "
            f"{API_KEY_ENV}"
        )
    return key


def _node_config(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {"host": parts.hostname or "", "port": str(parts.port), "protocol": parts.scheme}


def make_client(nodes: Sequence[str], key: str, timeout: float = _TIMEOUT) -> Any:
    """The official client over ``nodes``: every node, a short timeout, retries on the others.

    Typed ``Any``: the client's typed dictionaries would add nothing to the checks here.
    """
    with warnings.catch_warnings():
        # Client 2.x warns, on every new client, about endpoints of Typesense 30 it wraps and
        # this backend never calls (analytics, overrides, synonyms).
        warnings.simplefilter("ignore", DeprecationWarning)
        return _client({
            "nodes": [_node_config(n) for n in nodes],
            "api_key": key,
            "connection_timeout_seconds": timeout,
            # Every node twice and once more: a request survives any one node being down.
            "num_retries": 2 * len(nodes) + 1,
            "retry_interval_seconds": 0.1,
            # A node that failed is skipped this long before it is tried again.
            "healthcheck_interval_seconds": 2,
            # Client 1.x logs a warning for each such endpoint: it would reach the CLI's stderr.
            "suppress_deprecation_warnings": True,
        })


def _client(config: dict[str, Any]) -> Any:
    import typesense

    return typesense.Client(config)  # type: ignore[arg-type]


def _transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP library's errors: client 2.x uses httpx; 1.x uses requests, whose errors are
    ``OSError`` s."""
    try:
        import httpx
    except ImportError:
        return ()
    return (httpx.HTTPError,)


@functools.cache
def _errors() -> Any:
    """The client's exception module (imported on first use)."""
    import typesense.exceptions

    return typesense.exceptions


@functools.cache
def _unreachable() -> tuple[type[Exception], ...]:
    """What the client raises when no node could answer (after its retries)."""
    errors = _errors()
    return (
        errors.ServiceUnavailable, errors.ServerError, errors.HTTPStatus0Error,
        errors.TypesenseClientError, OSError, *_transport_errors(),
    )


class ClusterError(SearchIndexError):
    """The cluster cannot be reached, or refused a request."""


#: Hex digits of each text field's length in a key (longer fields count as this long).
_LENGTH_DIGITS = 6
_KEY_IDS = 32 + _LENGTH_DIGITS * len(FIELD_WEIGHTS)


def _key_of(newest: int, tiebreak: int, lengths: Sequence[int], doc_id: str) -> str:
    """A document's key, which relevance ranking reads for each match: what ties are broken
    by, its text fields' lengths (in :data:`FIELD_WEIGHTS` order), then its id."""
    cap = 16**_LENGTH_DIGITS - 1
    sizes = "".join(f"{min(n, cap):0{_LENGTH_DIGITS}x}" for n in lengths)
    return f"{newest - _MISSING:016x}{tiebreak:016x}{sizes}{doc_id}"


def _split_key(key: str) -> tuple[int, int, str]:
    """Newest, tiebreak and id of a key."""
    return int(key[:16], 16) + _MISSING, int(key[16:32], 16), key[_KEY_IDS:]


def _key_lengths(key: str) -> dict[str, int]:
    """Text field -> length, of a key."""
    return {
        name: int(key[32 + n * _LENGTH_DIGITS : 32 + (n + 1) * _LENGTH_DIGITS], 16)
        for n, name in enumerate(FIELD_WEIGHTS)
    }


def _record_json(record: Record) -> str:
    """The stored form of a record (every field but ``related_text`` and ``analysed``)."""
    published = _utc(record.published)
    return json.dumps({
        "id": record.id, "kind": record.kind, "title": record.title, "excerpt": record.excerpt,
        "url": record.url, "provider": record.provider,
        "published": None if published is None else published.isoformat(),
        "quality": record.quality, "topics": list(record.topics), "parents": list(record.parents),
        "body": record.body, "provider_domain": record.provider_domain, "path": record.path,
        "content_hash": record.content_hash, "related_ids": list(record.related_ids),
        "extra": dict(record.extra),
    }, ensure_ascii=False, separators=(",", ":"))


def _record(stored: str) -> Record:
    raw = json.loads(stored)
    published = raw["published"]
    return Record(
        id=raw["id"], kind=raw["kind"], title=raw["title"], excerpt=raw["excerpt"],
        url=raw["url"], provider=raw["provider"],
        published=None if published is None else datetime.fromisoformat(published),
        quality=raw["quality"], topics=tuple(raw["topics"]), parents=tuple(raw["parents"]),
        body=raw["body"], provider_domain=raw["provider_domain"], path=raw["path"],
        content_hash=raw["content_hash"], related_ids=tuple(raw["related_ids"]),
        extra=raw["extra"],
    )


def schema(name: str) -> dict[str, Any]:
    """The documents collection: terms per field, facets, sort columns; the stored record is
    an undeclared (stored, not indexed) field."""
    fields: list[dict[str, Any]] = [
        # Every field's distinct terms, each as its field's code and the term's hex: one
        # array, so that a term in any of several fields (and any of several terms) is one
        # condition, and one facet gives every field's vocabulary.
        {"name": "terms", "type": "string[]", "facet": True},
    ]
    fields += [
        {"name": f"p_{field}", "type": "string", "optional": True} for field in POSITIONAL_FIELDS
    ]
    fields += [
        # Repeated terms' counts (``field␀term␀count``, encoded): total frequencies.
        {"name": "tf", "type": "string[]", "facet": True, "optional": True},
        {"name": "f_topic", "type": "string[]", "facet": True, "optional": True},
        {"name": "f_provider", "type": "string", "facet": True, "optional": True},
        {"name": "f_kind", "type": "string", "facet": True},
        {"name": "f_day", "type": "string", "facet": True, "optional": True},
        # Every document: what Everything() and relevance order read, and its id (encoded)
        # to filter on (Typesense 0.24 cannot filter ``id`` with ``!=``).
        {"name": "key", "type": "string", "facet": True},
        {"name": "doc", "type": "string"},
        # Text fields' lengths in terms: averaged (facet stats) for BM25F's length norm.
        *({"name": f"len_{field}", "type": "int32", "facet": True} for field in FIELD_WEIGHTS),
        {"name": "all", "type": "int32"},
        {"name": "published", "type": "int64", "optional": True},
        {"name": "newest", "type": "int64"},
        {"name": "oldest", "type": "int64"},
        {"name": "quality_rank", "type": "int64"},
        {"name": "tiebreak", "type": "int64"},
    ]
    return {"name": name, "fields": fields}


#: Facet name -> the field that counts it (values encoded, except days).
_FACET_FIELDS = {"topic": "f_topic", "provider": "f_provider", "kind": "f_kind",
                 DAY_FACET: "f_day"}


class _Vocabulary:
    """The terms of each field with their document counts, as of one commit."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.fields: dict[str, dict[str, int]] = {}
        self.repeated: dict[tuple[str, str], int] | None = None
        self.average_length: dict[str, float] | None = None


class TypesenseBackend:
    """A searchlib index in a Typesense collection of a cluster.

    Safe to share between threads: writes are serialised; reads only send requests.
    """

    name: ClassVar[str] = "typesense"
    #: Version 1: the collection of :func:`schema`.
    format_version: ClassVar[int] = 1
    #: The writer only sends batches, but a cluster's nodes may share this machine (as in
    #: the tests): a core is left to them.
    busy_writer: ClassVar[bool] = True

    def __init__(
        self, nodes: Sequence[str], collection: str, language: str, folder: Path | None,
    ) -> None:
        self.language = check_language(language)
        self.nodes = list(nodes)
        self.collection = collection
        self.meta_collection = f"{collection}__meta"
        self._folder = folder
        self.location = f"typesense collection {collection} ({','.join(self.nodes)})"
        key = api_key()
        self._client = make_client(self.nodes, key)
        self._bulk = make_client(self.nodes, key, _BULK_TIMEOUT)
        #: One client per node, to check that each has applied a commit.
        self._per_node = [make_client([node], key, 2.0) for node in self.nodes]
        for client in self._per_node:
            client.config.num_retries = 0
        self._stemmed = Analyzer(self.language)
        self._plain = Analyzer(self.language, stem=False, remove_stopwords=False)
        self._write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._vocabulary: _Vocabulary | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def exists(cls, path: Path) -> bool:
        """Whether ``path`` is an index folder of this backend (its ``typesense.json``)."""
        return (path / CONFIG_NAME).is_file()

    @classmethod
    def create(
        cls, path: Path | None, language: str, *, lock_timeout: float = 0.0,
        nodes: str | Sequence[str] | None = None, collection: str | None = None,
    ) -> TypesenseBackend:
        """An index in the cluster (``nodes``, or ``SEARCHLIB_TYPESENSE_NODES``), recorded in
        ``path``. The collection is made when missing; an existing one (another machine's) is
        joined with what it holds, so that any machine can index into it."""
        check_language(language)
        given = nodes if nodes is not None else os.environ.get(NODES_ENV)
        if not given:
            raise UsageError(
                f"the typesense backend needs the cluster's nodes: --nodes "
                f"http://h1:8108,http://h2:8108 or {NODES_ENV}"
            )
        urls = parse_nodes(given)
        name = collection_name(path, collection)
        backend = cls(urls, name, language, path)
        backend._ensure_collections()
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
            config = {"collection": name, "nodes": urls}
            (path / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        return backend

    @classmethod
    def open(
        cls, path: Path, language: str, *, lock_timeout: float = 0.0,
        nodes: str | Sequence[str] | None = None, collection: str | None = None,
    ) -> TypesenseBackend:
        """Open the index recorded in ``path`` (``nodes`` or ``SEARCHLIB_TYPESENSE_NODES``
        override the nodes recorded there)."""
        try:
            config = json.loads((path / CONFIG_NAME).read_text(encoding="utf-8"))
            recorded_nodes, name = list(config["nodes"]), str(config["collection"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"the index in {path} has no readable {CONFIG_NAME}") from exc
        given = nodes if nodes is not None else os.environ.get(NODES_ENV)
        urls = parse_nodes(given) if given else parse_nodes(recorded_nodes)
        backend = cls(urls, collection or name, language, path)
        if not backend._call(lambda: backend._has_collection(backend.collection)):
            raise IndexCorruptError(
                f"the index in {path} names the collection {backend.collection}, which the "
                f"cluster does not hold"
            )
        return backend

    @classmethod
    def owned_files(cls, path: Path) -> list[Path]:
        """The folder's ``typesense.json`` (the index itself lives in the cluster)."""
        config = path / CONFIG_NAME
        return [config] if config.is_file() else []

    def close(self) -> None:
        """Forget the connections; the backend cannot be used afterwards."""
        self._closed = True

    def drop(self) -> None:
        """Delete the index's collections from the cluster (``--rebuild``, tests)."""
        for name in (self.collection, self.meta_collection):
            try:
                self._call(functools.partial(self._drop_collection, name))
            except ClusterError as exc:
                if not isinstance(exc.__cause__, _errors().ObjectNotFound):
                    raise
        with self._lock:
            self._vocabulary = None

    def _drop_collection(self, name: str) -> None:
        self._bulk.collections[name].delete()

    def clear(self) -> None:
        """Empty the index (its collections dropped and made again)."""
        self.drop()
        self._ensure_collections()

    # -- talking to the cluster --------------------------------------------------------------

    def _call(self, request: Callable[[], Any]) -> Any:
        """Run one client request; the client's own retries over the nodes come first, then
        what no node could answer is one :class:`ClusterError` naming the nodes."""
        if self._closed:
            raise UsageError(f"the index in {self.location} is closed")
        try:
            return request()
        except _errors().ObjectNotFound as exc:
            raise ClusterError(f"{self.location}: not found ({exc})") from exc
        except (_errors().RequestMalformed, _errors().ObjectUnprocessable) as exc:
            raise ClusterError(f"{self.location} refused a request: {exc}") from exc
        except (_errors().RequestUnauthorized, _errors().RequestForbidden) as exc:
            raise ClusterError(
                f"{self.location} refused the API key in {API_KEY_ENV}: {exc}"
            ) from exc
        except _unreachable() as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ClusterError(
                f"cannot reach the Typesense cluster at {','.join(self.nodes)}: {reason}"
            ) from exc

    def _has_collection(self, name: str) -> bool:
        try:
            self._client.collections[name].retrieve()
        except _errors().ObjectNotFound:
            return False
        return True

    def _ensure_collections(self) -> None:
        def ensure() -> None:
            meta = {"name": self.meta_collection,
                    "fields": [{"name": "generation", "type": "int64"}]}
            for spec in (schema(self.collection), meta):
                # Always asked of the leader (a write), never read from a follower that may
                # not have applied a drop or a create yet; one made before is kept.
                with contextlib.suppress(_errors().ObjectAlreadyExists):
                    self._bulk.collections.create(spec)
        self._call(ensure)
        # A search right after (on a follower) must find the collections, and not the
        # documents of one just dropped.
        self._sync_replicas()

    def _search(self, params: dict[str, Any], *, bulk: bool = False) -> dict[str, Any]:
        return self._multi([params], bulk=bulk)[0]

    def _multi(
        self, searches: Sequence[dict[str, Any]], *, bulk: bool = False
    ) -> list[dict[str, Any]]:
        """Answers to ``searches`` (over the documents), in as few requests as Typesense
        takes (``bulk``: large answers, given the long timeout)."""
        client = self._bulk if bulk else self._client
        out: list[dict[str, Any]] = []
        common = {"collection": self.collection, "query_by": "p_title", **_EXACT}
        for start in range(0, len(searches), _MULTI):
            chunk = [{**common, **s} for s in searches[start : start + _MULTI]]
            response = self._call(functools.partial(
                client.multi_search.perform, {"searches": chunk}, {}
            ))
            for result in response["results"]:
                if "error" in result:
                    raise ClusterError(f"{self.location} refused a search: {result['error']}")
                out.append(result)
        return out

    # -- writing -----------------------------------------------------------------------------

    def _terms(self, record: Record) -> dict[str, list[str]]:
        texts = field_texts(record)
        ahead = record.analysed
        known = ahead.terms if ahead is not None and ahead.language == self.language else {}
        terms: dict[str, list[str]] = {}
        for name, text in texts.items():
            if name in known:
                terms[name] = known[name]
            else:
                analyzer = self._plain if name in PLAIN_FIELDS else self._stemmed
                terms[name] = analyzer.terms(text)
        return terms

    def _document(self, record: Record) -> dict[str, Any]:
        """The Typesense document of ``record``."""
        doc: dict[str, Any] = {"id": record.id, "doc": encode(record.id), "all": 1}
        repeated: list[str] = []
        terms_of: list[str] = []
        for name, terms in self._terms(record).items():
            counts = Counter(terms)
            if name in FIELD_WEIGHTS:
                doc[f"len_{name}"] = len(terms)
            terms_of += [_value(name, term) for term in counts]
            if name in POSITIONAL_FIELDS:
                doc[f"p_{name}"] = " ".join(encode(term) for term in terms)
            if name not in DISTINCT_FIELDS:
                repeated += [
                    encode(f"{name}\x00{term}\x00{count}")
                    for term, count in counts.items() if count > 1
                ]
        doc["tf"] = repeated
        terms_of += [
            _value(COMPLETION_FIELD, term)
            for term in dict.fromkeys(completion_terms(record.title, self.language))
        ]
        terms_of.append(_value(KEYWORD_FIELD, record.kind))
        doc["terms"] = terms_of
        doc["f_kind"] = encode(record.kind)
        doc["f_topic"] = [encode(topic) for topic in dict.fromkeys(record.topics) if topic]
        if record.provider:
            doc["f_provider"] = encode(record.provider)
        published = _utc(record.published)
        if published is None:
            newest = oldest = _MISSING
        else:
            newest = _micros(published)
            oldest = -newest
            doc["published"] = newest
            doc["f_day"] = published.date().isoformat()
        doc["newest"], doc["oldest"] = newest, oldest
        doc["quality_rank"] = _MISSING if record.quality is None else max(
            _MISSING + 1, min(2**62, record.quality)
        )
        doc["tiebreak"] = tiebreak = _tiebreak(record.id)
        doc["key"] = _key_of(
            newest, tiebreak, [doc[f"len_{name}"] for name in FIELD_WEIGHTS], record.id
        )
        doc["record"] = _record_json(record)
        return doc

    def write(self, records: Iterable[Record], delete_ids: Iterable[str]) -> None:
        """Upsert ``records`` (bulk imports) and delete ``delete_ids``, then commit: the
        generation in the meta collection, once every reachable node has it."""
        with self._write_lock:
            pending: dict[str, dict[str, Any]] = {}
            written: set[str] = set()
            committed = self.generation()
            begun = False

            def begin() -> None:
                # Before the first change: the marker says a write is under way, until the
                # commit replaces it (a run that sees it finds the write interrupted).
                nonlocal begun
                if not begun:
                    self._set_meta({"id": "commit", "generation": committed, "writing": True})
                    begun = True

            # One import in flight while the next batch is analysed: the cluster indexes
            # while Python parses, analyses and encodes (the import's order is kept, so a
            # later version of a record always lands after an earlier one).
            with ThreadPoolExecutor(max_workers=1) as sender:
                in_flight: Future[None] | None = None
                for record in records:
                    # The last record of an id wins: a later one replaces it while pending,
                    # and an upsert replaces it once imported.
                    pending[record.id] = self._document(record)
                    written.add(record.id)
                    if len(pending) >= _IMPORT_BATCH:
                        if in_flight is not None:
                            in_flight.result()
                        begin()
                        in_flight = sender.submit(self._import, list(pending.values()))
                        pending = {}
                if in_flight is not None:
                    in_flight.result()
            if pending:
                begin()
                self._import(list(pending.values()))
            deletes = [i for i in dict.fromkeys(delete_ids) if i not in written]
            if deletes:
                begin()
            for start in range(0, len(deletes), _DELETE_BATCH):
                chunk = deletes[start : start + _DELETE_BATCH]
                expression = _ids(chunk)
                documents = self._bulk.collections[self.collection].documents
                self._call(functools.partial(documents.delete, {"filter_by": expression}))
            if not written and not deletes:
                return
            generation = committed + 1
            self._set_meta({"id": "commit", "generation": generation})
            self._wait_for_replicas(generation)
            with self._lock:
                self._vocabulary = None

    def _import(self, documents: list[dict[str, Any]]) -> None:
        body = "\n".join(json.dumps(d, ensure_ascii=False) for d in documents)
        answer = self._call(lambda: self._bulk.collections[self.collection].documents.import_(
            # batch_size: documents the server indexes per step of its write log (default 40).
            body.encode("utf-8"), {"action": "upsert", "batch_size": 250}
        ))
        for line in str(answer).splitlines():
            result = json.loads(line)
            if not result.get("success"):
                raise ClusterError(f"{self.location} refused a document: {result.get('error')}")

    def _set_meta(self, document: dict[str, Any]) -> None:
        self._call(lambda: self._bulk.collections[self.meta_collection].documents.upsert(
            document
        ))

    def _get_meta(self, doc_id: str, client: Any = None) -> dict[str, Any] | None:
        client = client if client is not None else self._client
        try:
            found: dict[str, Any] = client.collections[self.meta_collection] \
                .documents[doc_id].retrieve()
        except _errors().ObjectNotFound:
            return None
        return found

    def _wait_for_replicas(self, generation: int) -> None:
        """Wait until each node that answers has applied the commit ``generation``: a read
        on any node after ``write`` returns then sees it."""
        self._wait_for_meta("commit", lambda meta: int(meta.get("generation", 0)) >= generation)

    def _sync_replicas(self) -> None:
        """Wait until each node that answers has applied every write made so far (a
        collection made or dropped): a token is written and read back from each node, and
        Raft applies writes in order."""
        token = os.urandom(8).hex()
        self._set_meta({"id": "sync", "generation": 0, "token": token})
        self._wait_for_meta("sync", lambda meta: meta.get("token") == token)

    def _wait_for_meta(self, doc_id: str, done: Callable[[dict[str, Any]], bool]) -> None:
        """Wait until each node that answers holds a meta document ``doc_id`` that is
        ``done``. A node that does not answer (down, stopped) is not waited for; it catches up
        from the leader's log when it returns."""
        deadline = time.monotonic() + _REPLICA_WAIT
        waiting = list(self._per_node)
        while waiting and time.monotonic() < deadline:
            still = []
            for client in waiting:
                try:
                    meta = self._get_meta(doc_id, client)
                except _unreachable():
                    continue  # down: not waited for
                if meta is None or not done(meta):
                    still.append(client)
            waiting = still
            if waiting:
                time.sleep(0.02)

    def generation(self) -> int:
        """The commit marker's number (0 for a new index)."""
        meta = self._call(lambda: self._get_meta("commit"))
        return 0 if meta is None else int(meta["generation"])

    def write_interrupted(self) -> bool:
        """Whether a write began and never committed (its process was killed, or failed):
        some of its records may be in the collection, which no manifest accounts for."""
        meta = self._call(lambda: self._get_meta("commit"))
        return bool(meta is not None and meta.get("writing"))

    # -- the manifest, kept in the cluster ---------------------------------------------------

    def load_manifest(self) -> str | None:
        """The manifest's JSON as last saved into the cluster, or None."""
        meta = self._call(lambda: self._get_meta("manifest"))
        return None if meta is None else str(meta.get("manifest"))

    def save_manifest(self, text: str, generation: int) -> None:
        """Keep the manifest's JSON in the cluster (after the commit it describes)."""
        self._set_meta({"id": "manifest", "generation": generation, "manifest": text})

    # -- reading -----------------------------------------------------------------------------

    def get(self, doc_id: str) -> Record | None:
        """The stored record with that id, or None."""
        def fetch() -> Record | None:
            try:
                doc = self._client.collections[self.collection].documents[doc_id].retrieve()
            except _errors().ObjectNotFound:
                return None
            return _record(doc["record"])
        result: Record | None = self._call(fetch)
        return result

    def records(self, *, kind: str | None = None) -> Iterator[Record]:
        """Every stored record (of one kind): one export of the collection."""
        params: dict[str, Any] = {"include_fields": "record"}
        if kind is not None:
            params["filter_by"] = f"f_kind:={encode(kind)}"
        text = self._call(lambda: self._bulk.collections[self.collection].documents.export(params))
        for line in str(text).splitlines():
            if line.strip():
                yield _record(json.loads(line)["record"])

    def info(self) -> IndexInfo:
        """Live documents and documents per facet value. ``size_bytes`` is 0: Typesense
        reports memory and disk per node, not per collection (see ``search stats``' cluster
        line and the README's scaling notes)."""
        result = self._search({
            "q": "*", "per_page": 0, "facet_by": ",".join(_FACET_FIELDS[f] for f in FACETS),
            "max_facet_values": _ALL_VALUES,
        })
        return IndexInfo(int(result["found"]), 0, self._facets(result, FACETS))

    def health(self) -> list[tuple[str, bool]]:
        """Each node and whether it answers ``/health`` with ok (for ``search stats``)."""
        out = []
        for url, client in zip(self.nodes, self._per_node, strict=True):
            try:
                ok = bool(client.operations.is_healthy())
            except Exception:  # any failure to answer is "not healthy", never an error here
                ok = False
            out.append((url, ok))
        return out

    def _vocab(self) -> _Vocabulary:
        """The vocabulary of the current commit (read again after every commit)."""
        generation = self.generation()
        with self._lock:
            if self._vocabulary is None or self._vocabulary.generation != generation:
                self._vocabulary = _Vocabulary(generation)
            return self._vocabulary

    def _field_terms(self, vocab: _Vocabulary, field: str) -> dict[str, int]:
        """Term -> live documents holding it in ``field``."""
        if not vocab.fields:
            result = self._search({"q": "*", "per_page": 0, "facet_by": "terms",
                                   "max_facet_values": _ALL_VALUES}, bulk=True)
            fields: dict[str, dict[str, int]] = {name: {} for name in FIELDS}
            for facet in result.get("facet_counts", []):
                for value in facet["counts"]:
                    text = str(value["value"])
                    fields[_CODE_FIELDS[text[0]]][decode(text)] = int(value["count"])
            vocab.fields = fields
        return vocab.fields[field]

    def _average_lengths(self, vocab: _Vocabulary) -> dict[str, float]:
        """Text field -> its average length in terms over the live documents."""
        if vocab.average_length is None:
            result = self._search({
                "q": "*", "per_page": 0, "max_facet_values": 1,
                "facet_by": ",".join(f"len_{name}" for name in FIELD_WEIGHTS),
            })
            averages = dict.fromkeys(FIELD_WEIGHTS, 0.0)
            for facet in result.get("facet_counts", []):
                name = str(facet["field_name"])[len("len_"):]
                averages[name] = float(facet.get("stats", {}).get("avg", 0.0) or 0.0)
            vocab.average_length = averages
        return vocab.average_length

    def term_stats(self, field: str, terms: Iterable[str]) -> Mapping[str, TermStats]:
        """Live documents holding each term in ``field``, and its occurrences there."""
        (name,) = _check_fields((field,))
        vocab = self._vocab()
        df = self._field_terms(vocab, name)
        repeated: dict[tuple[str, str], int] = {}
        if name not in _ONCE_FIELDS:
            if vocab.repeated is None:
                result = self._search({"q": "*", "per_page": 0, "facet_by": "tf",
                                       "max_facet_values": _ALL_VALUES}, bulk=True)
                extra: dict[tuple[str, str], int] = {}
                for facet in result.get("facet_counts", []):
                    for value in facet["counts"]:
                        f, term, count = decode(value["value"]).split("\x00")
                        extra[(f, term)] = extra.get((f, term), 0) + (
                            (int(count) - 1) * int(value["count"])
                        )
                vocab.repeated = extra
            repeated = vocab.repeated
        out: dict[str, TermStats] = {}
        for term in terms:
            documents = df.get(term, 0)
            out[term] = TermStats(documents, documents + repeated.get((name, term), 0))
        return out

    def similar_words(self, word: str, max_distance: int, limit: int) -> list[str]:
        """Words of the ``spell`` field within ``max_distance`` edits of ``word`` that share
        its first letter, in the most live documents first, then alphabetically."""
        if not word or max_distance < 0 or limit <= 0:
            return []
        spell = self._field_terms(self._vocab(), "spell")
        close = [
            (count, term) for term, count in spell.items()
            if term[:1] == word[:1] and abs(len(term) - len(word)) <= max_distance
            and levenshtein(term, word) <= max_distance
        ]
        close.sort(key=lambda ct: (-ct[0], ct[1]))
        return [term for _, term in close[:limit]]

    def complete(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Completions of ``prefix`` from titles, in the most live documents first."""
        if not prefix or limit <= 0:
            return []
        found = self._field_terms(self._vocab(), COMPLETION_FIELD)
        terms = [(term, count) for term, count in found.items() if term.startswith(prefix)]
        terms.sort(key=lambda tc: (-tc[1], tc[0]))
        return terms[:limit]

    # -- searching ---------------------------------------------------------------------------

    def execute(
        self,
        plan: p.Plan | None,
        filters: p.Filters,
        facets: Mapping[str, p.Filters],
        sort: SortName,
        offset: int,
        limit: int,
    ) -> Execution:
        """Evaluate ``plan`` under ``filters``: total, the window in ``sort`` order, facets."""
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}: choose one of {', '.join(SORTS)}")
        if offset < 0:
            raise ValueError(f"offset must be 0 or more, not {offset}")
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit}")
        for facet in facets:
            if facet not in COUNTED_FACETS:
                raise ValueError(
                    f"unknown facet {facet!r}: choose one of {', '.join(COUNTED_FACETS)}"
                )
        if plan is None:
            return Execution(0, (), {facet: {} for facet in facets})
        compiler = _Compiler(self, self._vocab())
        matching = compiler.compile(plan)
        where = _and(matching, self._filter(filters))
        scored = sort == "relevance" and bool(p.positive_leaves(plan))
        # One multi_search: the facets (one search per distinct set of filters), then the
        # searches of the page (or, for relevance, of each leaf's documents).
        by_filters: dict[p.Filters, list[str]] = {}
        for facet, facet_filters in facets.items():
            by_filters.setdefault(facet_filters, []).append(facet)
        searches = [
            {"q": "*", "per_page": 0, "filter_by": _and(matching, self._filter(f)),
             "facet_by": ",".join(_FACET_FIELDS[n] for n in names),
             "max_facet_values": _ALL_VALUES}
            for f, names in by_filters.items()
        ]
        if scored:
            ranking = _Ranking(compiler, plan, where)
            searches += ranking.searches()
            results = self._multi(searches)
            total, ids, scores = ranking.window(results[len(by_filters):], offset, limit)
            page = self._fetch(ids, scores)
        else:
            pages = self._page_searches(where, sort, offset, limit)
            searches += pages
            results = self._multi(searches)
            answers = results[len(by_filters):]
            total = int(answers[0]["found"])
            hits = [hit for answer in answers for hit in answer.get("hits", [])]
            skip = offset % _PAGE if limit else 0
            page = tuple(
                (_record(hit["document"]["record"]), None) for hit in hits[skip : skip + limit]
            )
        counts: dict[str, Mapping[str, int]] = {}
        for (_, names), result in zip(by_filters.items(), results, strict=False):
            counts.update(self._facets(result, names))
        return Execution(total, page, {facet: counts[facet] for facet in facets})

    def count(self, plan: p.Plan | None, filters: p.Filters) -> int:
        """How many documents match ``plan`` under ``filters``."""
        if plan is None:
            return 0
        matching = _Compiler(self, self._vocab()).compile(plan)
        result = self._search({"q": "*", "per_page": 0,
                               "filter_by": _and(matching, self._filter(filters))})
        return int(result["found"])

    def _page_searches(
        self, where: str, sort: SortName, offset: int, limit: int
    ) -> list[dict[str, Any]]:
        """The searches of the window ``[offset, offset + limit)`` in a date or quality
        order, in pages of Typesense's largest size."""
        sort_by = {
            "relevance": "newest:desc,tiebreak:asc", "newest": "newest:desc,tiebreak:asc",
            "oldest": "oldest:desc,tiebreak:asc",
            "quality": "quality_rank:desc,newest:desc,tiebreak:asc",
        }[sort]
        base = {"q": "*", "filter_by": where, "sort_by": sort_by, "include_fields": "record"}
        if limit == 0:
            return [{**base, "per_page": 0}]
        first, last = offset // _PAGE, (offset + limit - 1) // _PAGE
        return [{**base, "page": n + 1, "per_page": _PAGE} for n in range(first, last + 1)]

    def _fetch(
        self, ids: Sequence[str], scores: Mapping[str, float]
    ) -> tuple[tuple[Record, float | None], ...]:
        """The records of ``ids``, in that order, with their scores."""
        if not ids:
            return ()
        found: dict[str, Record] = {}
        searches = [
            {"q": "*", "per_page": _PAGE, "include_fields": "record",
             "filter_by": _ids(ids[s : s + _PAGE])}
            for s in range(0, len(ids), _PAGE)
        ]
        for result in self._multi(searches):
            for hit in result.get("hits", []):
                record = _record(hit["document"]["record"])
                found[record.id] = record
        return tuple((found[i], scores[i]) for i in ids if i in found)

    @staticmethod
    def _facets(result: Mapping[str, Any], names: Iterable[str]) -> dict[str, Mapping[str, int]]:
        """Documents per value of each facet, from a search's facet counts."""
        by_field = {f["field_name"]: f["counts"] for f in result.get("facet_counts", [])}
        out: dict[str, Mapping[str, int]] = {}
        for name in names:
            field = _FACET_FIELDS[name]
            counts: dict[str, int] = {}
            for value in by_field.get(field, []):
                text = value["value"] if name == DAY_FACET else decode(value["value"])
                if value["count"]:
                    counts[text] = int(value["count"])
            out[name] = dict(sorted(counts.items(), key=lambda vc: (-vc[1], vc[0])))
        return out

    @staticmethod
    def _filter(filters: p.Filters) -> str:
        """The ``filter_by`` expression of structured filters ('' for none)."""
        parts = []
        for facet, field in (("topic", "f_topic"), ("provider", "f_provider"),
                             ("kind", "f_kind")):
            values = filters.values(facet)
            if values:
                parts.append(f"{field}:=[" + ",".join(encode(v) for v in values) + "]")
        if filters.since is not None:
            parts.append(f"published:>={_micros(filters.since)}")
        if filters.until is not None:
            parts.append(f"published:<={_micros(filters.until)}")
        if filters.exclude_ids:
            parts.append(_ids(filters.exclude_ids, negate=True))
        return " && ".join(parts)


def _and(*parts: str) -> str:
    """The conjunction of filter expressions ('' stands for no condition)."""
    present = [part for part in parts if part]
    if not present:
        return "all:=1"
    return " && ".join(f"({part})" for part in present) if len(present) > 1 else present[0]


def _ids(ids: Iterable[str], *, negate: bool = False) -> str:
    """The documents with (``negate``: without) one of these ids."""
    return ("doc:!=[" if negate else "doc:=[") + ",".join(encode(i) for i in ids) + "]"


_NOTHING = "all:=0"
_EVERYTHING = "all:=1"


class _Compiler:
    """Turns plans into ``filter_by`` expressions (phrases resolved to ids first)."""

    def __init__(self, backend: TypesenseBackend, vocab: _Vocabulary) -> None:
        self.backend = backend
        self.vocab = vocab
        #: Phrase (terms, fields) -> field -> ids of the documents with it there.
        self.phrases: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}
        self._memo: dict[tuple[p.Plan, bool], str] = {}

    def compile(self, plan: p.Plan) -> str:
        """The expression matching exactly the documents ``plan`` matches."""
        self._resolve_phrases(plan)
        return self._expr(plan, negate=False)

    def _resolve_phrases(self, plan: p.Plan) -> None:
        """Find the documents of every phrase of ``plan``, per field, in one request."""
        wanted: list[tuple[tuple[str, ...], str]] = []
        for leaf in p.leaves(plan):
            if isinstance(leaf, p.Words) and len(leaf.terms) > 1:
                for name in _check_fields(leaf.fields):
                    key = (leaf.terms, name)
                    if name in POSITIONAL_FIELDS and key not in self.phrases and key not in wanted:
                        wanted.append(key)
        if not wanted:
            return
        searches = [
            {"q": '"' + " ".join(encode(t) for t in terms) + '"', "query_by": f"p_{name}",
             "per_page": 0, "facet_by": "key", "max_facet_values": _ALL_VALUES}
            for terms, name in wanted
        ]
        for key, result in zip(wanted, self.backend._multi(searches), strict=True):
            self.phrases[key] = frozenset(_keys(result))

    def phrase_ids(self, terms: tuple[str, ...], fields: Iterable[str]) -> set[str]:
        """Ids of the documents with the phrase in any of ``fields``."""
        out: set[str] = set()
        for name in fields:
            if name in POSITIONAL_FIELDS:
                out |= {_split_key(k)[2] for k in self.phrases.get((terms, name), ())}
        return out

    def expand(self, leaf: p.Prefix | p.Fuzzy, name: str) -> list[str]:
        """The vocabulary terms of field ``name`` that ``leaf`` reaches."""
        vocabulary = self.backend._field_terms(self.vocab, name)
        if isinstance(leaf, p.Prefix):
            prefixes = tuple(leaf.prefixes)
            return sorted(t for t in vocabulary if prefixes and t.startswith(prefixes))
        if leaf.distance < 0:
            return []
        start = leaf.term[: max(leaf.prefix_length, 0)]
        return sorted(
            t for t in vocabulary
            if t.startswith(start) and abs(len(t) - len(leaf.term)) <= leaf.distance
            and levenshtein(t, leaf.term) <= leaf.distance
        )

    def leaf_field(self, leaf: p.Words | p.Prefix | p.Fuzzy, name: str) -> str:
        """The expression of ``leaf`` restricted to one field."""
        values, ids = self._leaf(leaf, (name,))
        return _condition(values, ids, negate=False)

    def _leaf(
        self, leaf: p.Words | p.Prefix | p.Fuzzy, fields: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """What a leaf matches in ``fields``: ``terms`` values, and ids (of phrases)."""
        values: set[str] = set()
        ids: set[str] = set()
        for name in _check_fields(fields):
            if isinstance(leaf, p.Words):
                if len(leaf.terms) == 1:
                    values.add(_value(name, leaf.terms[0]))
                elif leaf.terms:
                    ids |= self.phrase_ids(leaf.terms, (name,))
            else:
                values.update(_value(name, term) for term in self.expand(leaf, name))
        return values, ids

    def _expr(self, plan: p.Plan, *, negate: bool) -> str:
        """The expression of ``plan`` (``negate``: of its complement), small enough for
        Typesense: a part with too many tokens is replaced by the ids of its documents."""
        key = (plan, negate)
        if key not in self._memo:
            expression = self._build(plan, negate=negate)
            if len(_TOKEN.findall(expression)) > _MAX_TOKENS:
                expression = _ids_condition(self.ids(plan), negate=negate)
            self._memo[key] = expression
        return self._memo[key]

    def _build(self, plan: p.Plan, *, negate: bool) -> str:
        if isinstance(plan, p.Everything):
            return _NOTHING if negate else _EVERYTHING
        if isinstance(plan, p.LEAVES):
            values, ids = self._leaf(plan, plan.fields)
            return _condition(values, ids, negate=negate)
        if isinstance(plan, (p.All, p.Any)):
            if not plan.children:
                return _EVERYTHING if negate else _NOTHING
            disjunction = isinstance(plan, p.Any) != negate
            parts: list[str] = []
            merged: set[str] = set()
            merged_ids: set[str] = set()
            for child in plan.children:
                if isinstance(child, p.LEAVES) and isinstance(plan, p.Any):
                    # Leaves under "any" (or "none of", negated): one condition over all
                    # their terms.
                    v, i = self._leaf(child, child.fields)
                    merged |= v
                    merged_ids |= i
                else:
                    parts.append(self._expr(child, negate=negate))
            if merged or merged_ids or not parts:
                parts.append(_condition(merged, merged_ids, negate=negate))
            if len(parts) == 1:
                return parts[0]
            return "(" + (" || " if disjunction else " && ").join(parts) + ")"
        if isinstance(plan, p.Exclude):
            if negate:  # not (a and not b) = not a or b
                return "(" + self._expr(plan.positive, negate=True) + " || " + \
                    self._expr(plan.excluded, negate=False) + ")"
            return "(" + self._expr(plan.positive, negate=False) + " && " + \
                self._expr(plan.excluded, negate=True) + ")"
        if isinstance(plan, p.Boost):
            return self._expr(plan.child, negate=negate)
        raise TypeError(f"not a plan node: {plan!r}")

    def ids(self, plan: p.Plan) -> set[str]:
        """Ids of the documents ``plan`` matches, its parts evaluated one by one (each
        small enough for a filter) and combined here."""
        if isinstance(plan, p.Boost):
            return self.ids(plan.child)
        if isinstance(plan, p.Exclude):
            return self.ids(plan.positive) - self.ids(plan.excluded)
        if isinstance(plan, (p.All, p.Any)) and plan.children:
            sets = self._search_ids([self._expr(c, negate=False) for c in plan.children])
            if isinstance(plan, p.All):
                return set.intersection(*sets)
            return set().union(*sets)
        return self._search_ids([self._build(plan, negate=False)])[0]

    def _search_ids(self, expressions: Sequence[str]) -> list[set[str]]:
        searches = [{"q": "*", "per_page": 0, "filter_by": e, "facet_by": "key",
                     "max_facet_values": _ALL_VALUES} for e in expressions]
        return [{_split_key(k)[2] for k in _keys(r)}
                for r in self.backend._multi(searches, bulk=True)]


def _condition(values: set[str], ids: set[str], *, negate: bool) -> str:
    """Documents with any of ``values`` in ``terms`` or any of ``ids`` (``negate``: with
    none of them)."""
    parts = []
    if values:
        parts.append(("terms:!=[" if negate else "terms:=[") + ",".join(sorted(values)) + "]")
    if ids:
        parts.append(_ids(sorted(ids), negate=negate))
    if not parts:
        return _EVERYTHING if negate else _NOTHING
    if len(parts) == 1:
        return parts[0]
    # (Parenthesised: Typesense does not give && precedence over ||.)
    return "(" + (" && " if negate else " || ").join(parts) + ")"


def _ids_condition(ids: set[str], *, negate: bool) -> str:
    if not ids:
        return _EVERYTHING if negate else _NOTHING
    return _ids(sorted(ids), negate=negate)


def _keys(result: Mapping[str, Any]) -> list[str]:
    """The ``key`` facet values of a search (its matching documents)."""
    return [
        str(value["value"])
        for facet in result.get("facet_counts", []) if facet["field_name"] == "key"
        for value in facet["counts"]
    ]


class _Ranking:
    """Relevance for one scored search: the searches that find each leaf's documents among
    the matches, field by field, and the scores and order computed from their answers."""

    def __init__(self, compiler: _Compiler, plan: p.Plan, where: str) -> None:
        self.compiler = compiler
        self.plan = plan
        self.where = where
        self.leaves = list(dict.fromkeys(p.leaves(plan)))
        #: Document -> (field, term) -> occurrences, for the documents scored with them.
        self.frequencies: dict[str, dict[tuple[str, str], int]] = {}
        #: (leaf, field, term): the leaf's documents in one field; for a prefix or fuzzy leaf
        #: reaching few terms, one slot per term, so that each is scored as the reference does.
        self.slots: list[tuple[p.Words | p.Prefix | p.Fuzzy, str, str | None]] = []
        for leaf in self.leaves:
            for name in _check_fields(leaf.fields):
                terms = self.terms(leaf, name)
                if terms is None:
                    self.slots.append((leaf, name, None))
                else:
                    self.slots += [(leaf, name, term) for term in terms]

    def terms(self, leaf: p.Words | p.Prefix | p.Fuzzy, name: str) -> list[str] | None:
        """The terms of a leaf scored one by one in a field (None: the leaf as a whole)."""
        if isinstance(leaf, p.Words):
            return None
        reached = self.compiler.expand(leaf, name)
        return reached if len(reached) <= _SCORED_EXPANSIONS else None

    def searches(self) -> list[dict[str, Any]]:
        """Every match (its key), then each leaf's matches in each of its fields."""
        facet = {"q": "*", "per_page": 0, "facet_by": "key", "max_facet_values": _ALL_VALUES}
        out = [{**facet, "filter_by": self.where}]
        for leaf, name, term in self.slots:
            condition = (self.compiler.leaf_field(leaf, name) if term is None
                         else f"terms:={_value(name, term)}")
            out.append({**facet, "filter_by": _and(self.where, condition)})
        return out

    def window(
        self, results: Sequence[Mapping[str, Any]], offset: int, limit: int
    ) -> tuple[int, list[str], dict[str, float]]:
        """The total, the ids of the window in relevance order, and every match's score."""
        keys = _keys(results[0])
        total = len(keys)
        split = {key: _split_key(key) for key in keys}
        by_id = {parts[2]: key for key, parts in split.items()}
        self.lengths = {parts[2]: _key_lengths(key) for key, parts in split.items()}
        self.averages = self.compiler.backend._average_lengths(self.compiler.vocab)
        found: dict[tuple[Any, ...], set[str]] = {}
        for (leaf, name, term), result in zip(self.slots, results[1:], strict=True):
            ids = {_split_key(k)[2] for k in _keys(result)}
            found.setdefault((leaf, name), set()).update(ids)
            if term is not None:
                found[(leaf, name, term)] = ids
        everything = set(by_id)
        self.frequencies = {}
        scores = self._scores(self.plan, everything, found)

        def order(ids: Iterable[str]) -> list[str]:
            return sorted(
                ids,
                key=lambda i: (-scores.get(i, 0.0), -split[by_id[i]][0], split[by_id[i]][1]),
            )

        ranked = order(everything)
        # The head (a fixed size, so that every page is a window of one order) is scored
        # again with its documents' term frequencies, read from the cluster; adding them only
        # raises scores, so the head stays ahead of the rest.
        head = ranked[: max(_RESCORED, offset + limit)]
        if head and limit:
            self.frequencies = self._frequencies(head)
            rescored = self._scores(self.plan, set(head), found)
            scores.update({i: rescored.get(i, 0.0) for i in head})
            ranked = order(head) + ranked[len(head):]
        window = ranked[offset : offset + limit]
        return total, window, {i: scores.get(i, 0.0) for i in window}

    def _frequencies(self, ids: Sequence[str]) -> dict[str, dict[tuple[str, str], int]]:
        """Each document's repeated terms: (field, term) -> occurrences (above one)."""
        searches = [
            {"q": "*", "per_page": _PAGE, "include_fields": "id,tf",
             "filter_by": _ids(ids[s : s + _PAGE])}
            for s in range(0, len(ids), _PAGE)
        ]
        out: dict[str, dict[tuple[str, str], int]] = {}
        for result in self.compiler.backend._multi(searches, bulk=True):
            for hit in result.get("hits", []):
                counts: dict[tuple[str, str], int] = {}
                for value in hit["document"].get("tf", ()):
                    name, term, count = decode(value).split("\x00")
                    counts[(name, term)] = int(count)
                out[str(hit["document"]["id"])] = counts
        return out

    def _idf(self, df: int) -> float:
        vocab_total = self._documents()
        return math.log(1 + (vocab_total - df + 0.5) / (df + 0.5))

    def _documents(self) -> int:
        kinds = self.compiler.backend._field_terms(self.compiler.vocab, KEYWORD_FIELD)
        return sum(kinds.values())

    def _weight(self, doc_id: str, name: str, term: str | None = None) -> float:
        """A field's weight over its length norm (BM25F's), times the term's occurrences
        there where they were read (one otherwise, and for phrases)."""
        weight = FIELD_WEIGHTS.get(name, 1.0)
        if term is not None:
            weight *= self.frequencies.get(doc_id, {}).get((name, term), 1)
        if name not in FIELD_WEIGHTS:
            return weight
        average = self.averages.get(name) or 1.0
        length = self.lengths.get(doc_id, {}).get(name, 0)
        return weight / (1 - BM25_B + BM25_B * length / average)

    def _term_score(self, df: int, weights: float) -> float:
        if weights <= 0:
            return 0.0
        return self._idf(df) * weights * (BM25_K1 + 1) / (weights + BM25_K1)

    def _leaf_scores(
        self, leaf: p.Words | p.Prefix | p.Fuzzy, found: Mapping[Any, set[str]]
    ) -> dict[str, float]:
        """Each matching document's score for one leaf: BM25F over the fields it holds the
        leaf's terms in (occurrences where read, else presence: see the module docstring)."""
        fields = _check_fields(leaf.fields)
        if not isinstance(leaf, p.Words) and all(
            self.terms(leaf, name) is not None for name in fields
        ):
            # Each term reached is one BM25F term, scores added (as the reference does).
            vocab = self.compiler.vocab
            reached = sorted({t for name in fields for t in self.terms(leaf, name) or ()})
            out: dict[str, float] = {}
            for term in reached:
                df = max(self.compiler.backend._field_terms(vocab, n).get(term, 0)
                         for n in fields)
                weight_of: dict[str, float] = {}
                for name in fields:
                    for doc_id in found.get((leaf, name, term), ()):
                        weight_of[doc_id] = weight_of.get(doc_id, 0.0) + \
                            self._weight(doc_id, name, term)
                for doc_id, w in weight_of.items():
                    out[doc_id] = out.get(doc_id, 0.0) + self._term_score(df, w)
            return out
        weight: dict[str, float] = {}
        single = leaf.terms[0] if isinstance(leaf, p.Words) and len(leaf.terms) == 1 else None
        for name in fields:
            for doc_id in found.get((leaf, name), ()):
                weight[doc_id] = weight.get(doc_id, 0.0) + self._weight(doc_id, name, single)
        if isinstance(leaf, p.Words) and len(leaf.terms) > 1:
            df = max((len(self.compiler.phrase_ids(leaf.terms, (n,))) for n in fields),
                     default=0)
        elif isinstance(leaf, p.Words):
            df = max((self.compiler.backend._field_terms(self.compiler.vocab, n)
                      .get(leaf.terms[0], 0) if leaf.terms else 0 for n in fields), default=0)
        else:
            # Every term reached counts in the reference; here the leaf counts once, with the
            # idf of its rarest-in-any-field term count (the documents holding any of them).
            df = max((len(found.get((leaf, n), ())) for n in fields), default=0)
        return {doc_id: self._term_score(df, w) for doc_id, w in weight.items()}

    def _matches(self, plan: p.Plan, everything: set[str],
                 found: Mapping[Any, set[str]]) -> set[str]:
        if isinstance(plan, p.Everything):
            return everything
        if isinstance(plan, (p.Words, p.Prefix, p.Fuzzy)):
            out: set[str] = set()
            for name in _check_fields(plan.fields):
                out |= found.get((plan, name), set())
            return out
        if isinstance(plan, p.All):
            if not plan.children:
                return set()
            sets = [self._matches(c, everything, found) for c in plan.children]
            return set.intersection(*sets)
        if isinstance(plan, p.Any):
            return set().union(*(self._matches(c, everything, found) for c in plan.children))
        if isinstance(plan, p.Exclude):
            return self._matches(plan.positive, everything, found) - self._matches(
                plan.excluded, everything, found
            )
        if isinstance(plan, p.Boost):
            return self._matches(plan.child, everything, found)
        raise TypeError(f"not a plan node: {plan!r}")

    def _scores(self, plan: p.Plan, everything: set[str],
                found: Mapping[Any, set[str]]) -> dict[str, float]:
        """Scores of the documents (among ``everything``, the matches) ``plan`` matches."""
        if isinstance(plan, p.Everything):
            return dict.fromkeys(everything, 0.0)
        if isinstance(plan, (p.Words, p.Prefix, p.Fuzzy)):
            return self._leaf_scores(plan, found)
        if isinstance(plan, (p.All, p.Any)):
            matched = self._matches(plan, everything, found)
            out: dict[str, float] = dict.fromkeys(matched, 0.0)
            for child in plan.children:
                for doc_id, score in self._scores(child, everything, found).items():
                    if doc_id in out:
                        out[doc_id] += score
            return out
        if isinstance(plan, p.Exclude):
            matched = self._matches(plan, everything, found)
            return {d: s for d, s in self._scores(plan.positive, everything, found).items()
                    if d in matched}
        if isinstance(plan, p.Boost):
            return {d: s * plan.factor
                    for d, s in self._scores(plan.child, everything, found).items()}
        raise TypeError(f"not a plan node: {plan!r}")
