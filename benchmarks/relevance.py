"""Relevance benchmark (issue #5): searchlib against peers on TIME, CACM and CISI.

Loads the classic test collections in ``shared/relevance`` (see its README), indexes every
document as an article through searchlib's public :class:`searchlib.Engine` API (one
front-matter ``.md`` file per document, ``title`` where the collection has one, the text as
``excerpt``, a unique ``webUrl`` to map hits back), runs every *judged* query through
``Engine.search(text, limit=1000)`` with default settings, and reports MAP (top 1000),
nDCG@10, P@10 and Recall@100 per collection, computed with ``ir-measures`` (trec_eval
definitions; a judged query with no hits counts as 0, like ``trec_eval -c``).

The peers (SQLite FTS5, tantivy, bm25s, textbook Whoosh) run on the same documents and
queries; they live in ``relevance_peers.py``.

``--experiment`` runs searchlib with changed settings, without editing searchlib: names
in the search pipeline and the Whoosh backend's modules are patched for the run (see
:func:`_patched`), and the feedback settings set on the engine's pipeline. An experiment is
a name from :data:`EXPERIMENTS` or ``key=value`` overrides joined by ``,`` (see
:class:`Settings`), e.g. ``--experiment "k1=1.5,b=0.6,match=any"``.

Usage::

    python benchmarks/relevance.py                      # all collections, all engines
    python benchmarks/relevance.py --collections cacm --engines searchlib,bm25s
    python benchmarks/relevance.py --engines searchlib --experiment all --json out.json
    python benchmarks/relevance.py --probe              # how raw query text parses
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import html
import itertools
import json
import math
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # so that `python benchmarks/relevance.py` finds the peers
    sys.path.insert(0, str(HERE))

DEFAULT_DATA = HERE.parent.parent / "shared" / "relevance"
COLLECTIONS = ("time", "cacm", "cisi")
LIMIT = 1000
MEASURES = ("AP@1000", "nDCG@10", "P@10", "R@100")
SHORT = {"AP@1000": "MAP", "nDCG@10": "nDCG@10", "P@10": "P@10", "R@100": "R@100"}

#: A ranked list of document numbers per query id.
Run = dict[str, list[str]]


# -- collections ---------------------------------------------------------------------------


@dataclass
class Collection:
    """Documents, judged queries and judgments of one test collection."""

    name: str
    docs: dict[str, tuple[str, str]]  # docno -> (title, text)
    queries: dict[str, str]  # judged queries only: qid -> text as written
    qrels: dict[str, dict[str, int]]  # qid -> docno -> relevance
    notes: dict[str, int] = field(default_factory=dict)
    #: docno -> publication date (ISO), where the collection gives one (TIME, CACM).
    dates: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {
            "docs": len(self.docs),
            "judged_queries": len(self.queries),
            "judgments": sum(len(r) for r in self.qrels.values()),
            **self.notes,
        }


def _join(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def _smart_sections(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Records of a SMART-format file (``.I n`` then ``.X`` sections): (id, {X: text})."""
    current: str | None = None
    sections: dict[str, list[str]] = {}
    key: str | None = None
    for line in text.splitlines():
        marker = re.match(r"^\.([A-Z])(?:\s+(.*))?$", line.rstrip())
        if marker and marker.group(1) == "I":
            if current is not None:
                yield current, {k: _join(v) for k, v in sections.items()}
            current, sections, key = str(int(marker.group(2))), {}, None
        elif marker:
            key = marker.group(1)
            sections.setdefault(key, [])
            if marker.group(2):
                sections[key].append(marker.group(2))
        elif key is not None:
            sections[key].append(line)
    if current is not None:
        yield current, {k: _join(v) for k, v in sections.items()}


def _finish(
    name: str,
    docs: dict[str, tuple[str, str]],
    queries: dict[str, str],
    pairs: list[tuple[str, str]],
    notes: dict[str, int],
) -> Collection:
    """Keep judgments of known documents, and only the queries that have some."""
    qrels: dict[str, dict[str, int]] = {}
    unknown_doc = 0
    for qid, docno in pairs:
        if docno not in docs:
            unknown_doc += 1
            continue
        qrels.setdefault(qid, {})[docno] = 1
    notes["judgments_dropped_unknown_doc"] = unknown_doc
    notes["judgments_duplicate"] = len(pairs) - unknown_doc - sum(len(r) for r in qrels.values())
    notes["queries_in_file"] = len(queries)
    notes["judged_queries_without_text"] = sum(1 for q in qrels if q not in queries)
    judged = {qid: queries[qid] for qid in sorted(qrels, key=int) if qid in queries}
    return Collection(name, docs, judged, {q: qrels[q] for q in judged}, notes)


def load_time(root: Path) -> Collection:
    """TIME: ``*TEXT`` records; TIME.REL numbers documents by 1-based position in TIME.ALL."""
    text = (root / "TIME.ALL").read_text(encoding="latin-1")
    docs: dict[str, tuple[str, str]] = {}
    for position, chunk in enumerate(re.split(r"^\*TEXT[^\n]*\n", text, flags=re.M)[1:], 1):
        body = chunk.split("*STOP")[0]
        docs[str(position)] = ("", _join(body.splitlines()))
    queries: dict[str, str] = {}
    que = (root / "TIME.QUE").read_text(encoding="latin-1")
    for match in re.finditer(r"^\*FIND\s+(\d+)\s*\n(.*?)(?=^\*FIND|^\*STOP|\Z)", que, re.M | re.S):
        queries[str(int(match.group(1)))] = _join(match.group(2).splitlines())
    pairs: list[tuple[str, str]] = []
    for line in (root / "TIME.REL").read_text(encoding="latin-1").splitlines():
        parts = line.split()
        if parts:
            pairs += [(str(int(parts[0])), str(int(d))) for d in parts[1:]]
    coll = _finish("time", docs, queries, pairs, {})
    # "*TEXT 017 01/04/63 PAGE 020": the issue's date, month/day/year.
    for position, header in enumerate(re.findall(r"^\*TEXT[^\n]*", text, flags=re.M), 1):
        found = re.search(r"(\d\d)/(\d\d)/(\d\d)", header)
        if found:
            month, day, year = found.groups()
            coll.dates[str(position)] = f"19{year}-{month}-{day}"
    return coll


_MONTHS = {name: i for i, name in enumerate(
    ("January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"), 1)}


def _cacm_date(issue: str) -> str | None:
    """``CACM December, 1958`` -> ``1958-12-01`` (the issue's month)."""
    found = re.search(r"([A-Z][a-z]+),\s*(\d{4})", issue)
    if not found or found.group(1) not in _MONTHS:
        return None
    return f"{found.group(2)}-{_MONTHS[found.group(1)]:02d}-01"


def load_cacm(root: Path) -> Collection:
    """CACM: title (``.T``) and abstract (``.W``); queries are the ``.W`` text."""
    text = (root / "cacm.all").read_text(encoding="latin-1")
    sections = dict(_smart_sections(text))
    docs = {i: (s.get("T", ""), s.get("W", "")) for i, s in sections.items()}
    query_text = (root / "query.text").read_text(encoding="latin-1")
    queries = {i: s.get("W", "") for i, s in _smart_sections(query_text)}
    pairs = [
        (str(int(p[0])), str(int(p[1])))
        for p in (line.split() for line in (root / "qrels.text").read_text().splitlines())
        if len(p) >= 2
    ]
    coll = _finish("cacm", docs, queries, pairs, {})
    for docno, section in sections.items():
        date = _cacm_date(section.get("B", ""))
        if date:
            coll.dates[docno] = date
    return coll


def load_cisi(root: Path) -> Collection:
    """CISI: title (``.T``) and abstract (``.W``); queries are the ``.W`` text."""
    text = (root / "CISI.ALL").read_text(encoding="latin-1")
    docs = {i: (s.get("T", ""), s.get("W", "")) for i, s in _smart_sections(text)}
    query_text = (root / "CISI.QRY").read_text(encoding="latin-1")
    queries = {i: s.get("W", "") for i, s in _smart_sections(query_text)}
    pairs = [
        (str(int(p[0])), str(int(p[1])))
        for p in (line.split() for line in (root / "CISI.REL").read_text().splitlines())
        if len(p) >= 2
    ]
    return _finish("cisi", docs, queries, pairs, {})


LOADERS: dict[str, Callable[[Path], Collection]] = {
    "time": load_time,
    "cacm": load_cacm,
    "cisi": load_cisi,
}


def load(name: str, data: Path) -> Collection:
    return LOADERS[name](data / name)


# -- evaluation ----------------------------------------------------------------------------


def evaluate(run: Run, coll: Collection) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean of each measure over all judged queries (missing query = 0), and per query."""
    import ir_measures

    measures = [ir_measures.parse_measure(m) for m in MEASURES]
    qrels = [
        ir_measures.Qrel(qid, docno, rel)
        for qid, judged in coll.qrels.items()
        for docno, rel in judged.items()
    ]
    scored = [
        # Scores strictly decrease with rank, so the evaluation keeps the engine's order.
        ir_measures.ScoredDoc(qid, docno, float(len(ranked) - rank))
        for qid, ranked in run.items()
        if qid in coll.qrels
        for rank, docno in enumerate(ranked)
    ]
    per_query: dict[str, dict[str, float]] = {
        qid: dict.fromkeys(MEASURES, 0.0) for qid in coll.qrels
    }
    for metric in ir_measures.iter_calc(measures, qrels, scored):
        per_query[metric.query_id][str(metric.measure)] = float(metric.value)
    means = {m: statistics.fmean(pq[m] for pq in per_query.values()) for m in MEASURES}
    return means, per_query


def randomization_p(a: list[float], b: list[float], trials: int = 10_000) -> float:
    """Two-sided paired randomization test on per-query values (fixed seed)."""
    import random

    rng = random.Random(5)
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    observed = abs(sum(diffs))
    hits = 0
    for _ in range(trials):
        total = sum(d if rng.random() < 0.5 else -d for d in diffs)
        if abs(total) >= observed - 1e-12:
            hits += 1
    return (hits + 1) / (trials + 1)


# -- query text ----------------------------------------------------------------------------

_OPERATORS = {"AND", "OR", "NOT"}


def plain_query(text: str) -> str:
    """What a search box could send for free text: no searchlib syntax left in it.

    Quotes and parentheses become spaces, a leading ``-`` is dropped, a trailing ``*`` or
    ``~`` removed, ``word:`` loses its colon, and the operator words are lower-cased.
    """
    words = []
    for raw in re.sub(r'["()]', " ", text).split():
        word = raw.lstrip("-").rstrip("*~")
        word = word.replace(":", " ").replace("~", " ").replace("*", " ")
        if word in _OPERATORS:
            word = word.lower()
        if word.strip():
            words.append(word)
    return " ".join(words)


def fallback_query(text: str) -> str:
    """:func:`plain_query`, cut at a word boundary to searchlib's longest query."""
    from searchlib.query import MAX_QUERY_LENGTH

    plain = plain_query(text)
    if len(plain) <= MAX_QUERY_LENGTH:
        return plain
    return plain[: MAX_QUERY_LENGTH + 1].rsplit(" ", 1)[0]


def describe_parse(text: str) -> tuple[str, list[str]]:
    """``("error", [message])`` or ``("ok", [syntax features the tree uses])``."""
    from searchlib import query as q
    from searchlib.errors import QueryError

    try:
        tree = q.parse(text)
    except QueryError as exc:
        return "error", [str(exc)]
    found: set[str] = set()
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, q.Not):
            found.add("NOT/-")
            stack.append(node.child)
        elif isinstance(node, q.And):
            found.add("AND")
            stack.extend(node.children)
        elif isinstance(node, q.Or):
            found.add("OR")
            stack.extend(node.children)
        elif isinstance(node, q.Seq):
            stack.extend(node.children)
        elif isinstance(node, q.Phrase):
            found.add("phrase")
        elif isinstance(node, q.Prefix):
            found.add("prefix*")
        elif isinstance(node, q.Fuzzy):
            found.add("fuzzy~")
        if getattr(node, "field", None):
            found.add(f"field:{node.field}")
    return "ok", sorted(found)


# -- searchlib -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Changes to searchlib's ranking for one run; a field left empty keeps searchlib's own.

    ``k1``, ``b``: BM25F parameters (searchlib: 1.2, 0.75).
    ``idf``: ``lucene`` (searchlib: log(1+(N-df+.5)/(df+.5))) or ``whoosh`` (log(N/(df+1))+1).
    ``title``, ``excerpt``: field weights in the ``FIELD_WEIGHTS`` that the Whoosh translation
    reads (``searchlib.schema``: 1.5 and 1.0).
    ``scoring``: ``bm25f`` (searchlib's: one saturation over the weighted field frequencies)
    or ``fields``, which scores a word per field and adds the scores up (Whoosh's way and
    searchlib's first one).
    ``short``: ``SHORT_QUERY_WORDS`` (3) as the search pipeline reads it: queries with more
    words are tiered (any word matches, documents with every word first); shorter ones need
    every word (tiered when no document has them all). ``0`` tiers every query; ``1000``
    makes every query all-words.
    ``match``: the ``match=`` argument of ``Engine.search`` (``auto``, ``any``, ``all``).
    ``qtf``: searchlib counts a word written k times k times; ``once`` counts it once (as
    Whoosh's and tantivy's parsers do), ``sat`` k*(8+1)/(8+k) times.
    ``stopwords``: ``none``, ``lucene`` (33 words) or ``smart`` (571) instead of searchlib's
    Snowball list (179).
    ``prox``: ``weight:slop``: each pair of neighbouring query words also scores as a phrase
    (title and excerpt, Whoosh ``Phrase`` with that slop) with that weight.
    ``prf``: searchlib's RM3 pseudo-relevance feedback (``searching/feedback.py``): ``off``
    (``feedback="off"``), ``on`` (every ranked query, not only those of more than
    ``SHORT_QUERY_WORDS`` words), and/or ``docs:terms:weight_of_original[:max_df]`` as the
    engine pipeline's ``feedback_settings`` instead of ``FeedbackSettings()``; e.g.
    ``prf=5:30:0.8``, ``prf=10:30:0.8:0.1`` or ``prf=10:30:0.8:on``.
    ``text``: ``raw`` (as typed) or ``plain`` (syntax characters removed, see plain_query).
    ``full``: ``yes`` keeps highlighting and "did you mean" on (for latency; they do not
    change the ranking); by default they are off to make experiments faster.
    ``dates``: ``yes`` writes each document's publication date (TIME: the issue's day; CACM:
    the issue's month; CISI has none). ``freshness``: a duration (``30d``): searches with
    ``freshness`` of it from the newest document (implies ``dates=yes``).
    """

    k1: float | None = None
    b: float | None = None
    idf: str = ""
    title: float | None = None
    excerpt: float | None = None
    scoring: str = ""
    short: int | None = None
    match: str = "auto"
    qtf: str = ""
    stopwords: str = ""
    prox: str = ""
    prf: str = ""
    text: str = "raw"
    full: str = "no"
    dates: str = "no"
    freshness: str = ""

    @classmethod
    def parse(cls, spec: str) -> Settings:
        if spec in EXPERIMENTS:
            return EXPERIMENTS[spec]
        values: dict[str, Any] = {}
        types = {f.name: str(f.type) for f in dataclasses.fields(cls)}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, value = part.partition("=")
            if key not in types:
                raise SystemExit(f"unknown experiment {spec!r} (setting {key!r})")
            kind = types[key]
            values[key] = (
                float(value) if kind.startswith("float") else
                int(value) if kind.startswith("int") else value
            )
        return cls(**values)

    def changes(self) -> str:
        default = Settings()
        diff = [
            f"{f.name}={getattr(self, f.name)}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]
        return ",".join(diff) or "defaults"


#: ``Engine.search(feedback=...)`` values that ``Settings.prf`` can name.
FEEDBACK_MODES = ("on", "off")

#: Named experiments, each a change against searchlib's defaults as installed.
EXPERIMENTS: dict[str, Settings] = {
    "defaults": Settings(),
    "plain-text": Settings(text="plain"),
    # undoing what the first rounds adopted (see RELEVANCE.md), one at a time
    "idf-whoosh": Settings(idf="whoosh"),
    "scoring-fields": Settings(scoring="fields"),
    "title-3": Settings(title=3.0),
    "all-words": Settings(short=1000),
    # match mode
    "tier-all": Settings(short=0),
    "short-2": Settings(short=2),
    "short-4": Settings(short=4),
    "match-any": Settings(match="any"),
    # field weights
    "title-1": Settings(title=1.0),
    "title-2": Settings(title=2.0),
    # BM25
    "k1-0.9": Settings(k1=0.9),
    "k1-1.5": Settings(k1=1.5),
    "k1-2.0": Settings(k1=2.0),
    "b-0.5": Settings(b=0.5),
    "b-0.6": Settings(b=0.6),
    "b-0.9": Settings(b=0.9),
    # query-term frequency
    "qtf-once": Settings(qtf="once"),
    "qtf-sat": Settings(qtf="sat"),
    # stopwords
    "stop-none": Settings(stopwords="none"),
    "stop-lucene": Settings(stopwords="lucene"),
    "stop-smart": Settings(stopwords="smart"),
    # neighbouring words
    "prox-0.1-1": Settings(prox="0.1:1"),
    "prox-0.1-2": Settings(prox="0.1:2"),
    # pseudo-relevance feedback (RM3; searchlib: 10 documents, 30 words, 0.8 for the typed ones)
    "rm3-off": Settings(prf="off"),
    "rm3-on": Settings(prf="on"),
    "rm3-10-20-0.8": Settings(prf="10:20:0.8"),
    "rm3-10-40-0.8": Settings(prf="10:40:0.8"),
    "rm3-10-30-0.7": Settings(prf="10:30:0.7"),
    "rm3-10-30-0.9": Settings(prf="10:30:0.9"),
    "rm3-5-30-0.8": Settings(prf="5:30:0.8"),
    "rm3-15-30-0.8": Settings(prf="15:30:0.8"),
    # candidate stacks
    "rm3+prox": Settings(prox="0.1:1"),
    # freshness (issue 15): documents with their dates (TIME, CACM; CISI has none), searched
    # without and with a decay on age counted from the newest document
    "dated": Settings(dates="yes"),
    "fresh-7d": Settings(dates="yes", freshness="7d"),
    "fresh-30d": Settings(dates="yes", freshness="30d"),
    "fresh-365d": Settings(dates="yes", freshness="365d"),
}


def _stopword_list(name: str) -> frozenset[str] | None:
    """The stop list for ``Settings.stopwords``; None means searchlib's own."""
    if name == "":
        return None
    if name == "none":
        return frozenset()
    if name == "lucene":
        import bm25s.stopwords

        return frozenset(bm25s.stopwords.STOPWORDS_EN)
    if name == "smart":
        # SMART's generic English stop list, as shipped with CACM (not built from it).
        path = DEFAULT_DATA / "cacm" / "common_words"
        return frozenset(w.strip().lower() for w in path.read_text().split() if w.strip())
    raise SystemExit(f"unknown stop list {name!r}")


def _feedback_settings(prf: str) -> Any:
    """``FeedbackSettings`` from ``Settings.prf``'s numbers, or None to keep searchlib's."""
    from searchlib.searching.feedback import FeedbackSettings

    numbers = [part for part in prf.split(":") if part and part not in FEEDBACK_MODES]
    if not numbers:
        return None
    if len(numbers) not in (3, 4):
        raise SystemExit(f"prf={prf!r}: give docs:terms:weight[:max_df] and/or on or off")
    docs, terms, weight, *max_df = numbers
    cap = {"max_df": float(max_df[0])} if max_df else {}
    return FeedbackSettings(int(docs), int(terms), float(weight), **cap)


def _check(settings: Settings) -> None:
    """Refuse a setting value that no experiment implements (rather than ignore it)."""
    allowed = {
        "idf": ("", "lucene", "whoosh"),
        "scoring": ("", "bm25f", "fields"),
        "match": ("auto", "any", "all"),
        "qtf": ("", "linear", "once", "sat"),
        "text": ("raw", "plain"),
        "full": ("no", "yes"),
        "dates": ("no", "yes"),
    }
    for name, values in allowed.items():
        if getattr(settings, name) not in values:
            raise SystemExit(f"{name}={getattr(settings, name)!r}: choose one of {values}")
    if settings.prox and not re.fullmatch(r"[0-9.]+:[0-9]+", settings.prox):
        raise SystemExit(f"prox={settings.prox!r}: give weight:slop, e.g. 0.1:1")
    _feedback_settings(settings.prf)


@dataclass(frozen=True, slots=True)
class Near:
    """A plan node of the harness (``prox``): two words within ``slop`` positions in one field.

    Only the patched ``to_whoosh`` knows it: a Whoosh ``Phrase`` with that slop, its score
    scaled by ``weight`` times the field's weight. It never changes which documents match
    (it sits in an ``Any`` beside both of its words), only their scores.
    """

    terms: tuple[str, str]
    field: str
    slop: int
    weight: float


@contextlib.contextmanager
def _patched(settings: Settings) -> Iterator[None]:
    """searchlib with ``settings``, by patching module names for the run (never its code).

    Everything is patched where it is used: the search pipeline (``Compiler``, which it
    builds its compiler with, ``SHORT_QUERY_WORDS``, ``highlighter`` and ``suggest``), the
    Whoosh translation (``to_whoosh``, ``_words`` and the ``FIELD_WEIGHTS`` it reads; the
    backend module imported ``to_whoosh`` by name, so it is patched there too), the Whoosh
    backend class that the backend registry hands the engine (its BM25F weighting) and the
    stop list that analysis reads. The patches are identities for the defaults, which the
    ``defaults`` experiment checks: it must rank exactly like the installed searchlib.
    Feedback settings belong to an engine's pipeline: see :func:`_configure`.
    """
    from unittest import mock

    from searchlib import analysis
    from searchlib.backends import whoosh, whoosh_query
    from searchlib.searching import pipeline

    _check(settings)
    weights = dict(whoosh_query.FIELD_WEIGHTS)
    if settings.title is not None:
        weights["title"] = settings.title
    if settings.excerpt is not None:
        weights["excerpt"] = settings.excerpt
    to_whoosh = whoosh_to_whoosh(settings)
    patches: list[tuple[Any, str, Any]] = [
        (whoosh, "WhooshBackend", tuned_backend(settings)),
        (whoosh_query, "FIELD_WEIGHTS", weights),
        (whoosh_query, "_words", whoosh_words(settings)),
        (whoosh_query, "to_whoosh", to_whoosh),
        (whoosh, "to_whoosh", to_whoosh),
        (pipeline, "Compiler", tuned_compiler(settings)),
    ]
    if settings.short is not None:
        patches.append((pipeline, "SHORT_QUERY_WORDS", settings.short))
    stops = _stopword_list(settings.stopwords)
    if stops is not None:
        patches.append((analysis, "stopwords", lambda language: stops))
    if settings.full != "yes":
        # Neither changes the ranking; both cost time on every query.
        patches.append((pipeline, "highlighter", lambda analyzer, plan: html.escape))
        patches.append((pipeline, "suggest", lambda *args, **kwargs: None))
    with contextlib.ExitStack() as stack:
        for target, name, value in patches:
            stack.enter_context(mock.patch.object(target, name, value))
        yield


def _configure(eng: Any, settings: Settings) -> None:
    """Settings that live on an open engine: ``prf``'s numbers in its pipeline."""
    feedback = _feedback_settings(settings.prf)
    if feedback is not None:
        eng.pipeline.feedback_settings = feedback


def tuned_backend(settings: Settings) -> type:
    """A subclass of searchlib's Whoosh backend with ``settings``' BM25F weighting.

    Only the weighting object changes: ``k1`` and ``b`` (read by searchlib's BM25F terms,
    ``FieldsTerm``, from the searcher's weighting) and, for ``idf=whoosh``, Whoosh's own
    ``BM25F`` (its idf for single-field terms and phrases).
    """
    from whoosh.scoring import BM25F

    from searchlib.backends import whoosh as wb

    weighting = wb.LuceneIdfBM25F if settings.idf in ("", "lucene") else BM25F

    class Tuned(wb.WhooshBackend):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            current = self._weighting
            self._weighting = weighting(
                B=settings.b if settings.b is not None else current.B,
                K1=settings.k1 if settings.k1 is not None else current.K1,
            )

    return Tuned


def whoosh_words(settings: Settings) -> Callable[[Any], Any]:
    """``whoosh_query._words`` (a word or phrase of a plan) scored as ``settings`` say.

    ``scoring=fields`` turns a word's ``FieldsTerm`` (one BM25F saturation over the weighted
    field frequencies) into an ``Or`` of its per-field terms, each saturated on its own and
    the scores added up; ``idf=whoosh`` gives the ``FieldsTerm`` Whoosh's idf.
    """
    from whoosh import query as wq

    from searchlib.backends import whoosh_query as wbq

    words = wbq._words

    class WhooshIdfFieldsTerm(wbq.FieldsTerm):  # type: ignore[misc]
        """searchlib's BM25F word with Whoosh's idf, log(N/(df+1))+1, instead of Lucene's."""

        def matcher(self, searcher: Any, context: Any = None) -> Any:
            matcher = super().matcher(searcher, context)
            if hasattr(matcher, "idf"):  # not the NullMatcher of a word in no field
                parent = searcher.get_parent()
                df = max(
                    parent.doc_frequency(t.fieldname, searcher.schema[t.fieldname].to_bytes(t.text))
                    for t in self.subqueries
                )
                matcher.idf = math.log(parent.doc_count_all() / (df + 1)) + 1
            return matcher

    def scored(plan: Any) -> Any:
        query = words(plan)
        if not isinstance(query, wbq.FieldsTerm):
            return query
        if settings.scoring == "fields":
            return wq.Or([t.with_boost(t.boost * query.boost) for t in query.subqueries])
        if settings.idf == "whoosh":
            return WhooshIdfFieldsTerm(list(query.subqueries), boost=query.boost)
        return query

    return scored


def whoosh_to_whoosh(settings: Settings) -> Callable[[Any], Any]:
    """``to_whoosh`` that also translates the harness's :class:`Near` nodes (``prox``).

    Installed in ``whoosh_query`` too, so that the translation's recursion reaches them.
    """
    from whoosh import query as wq

    from searchlib.backends import whoosh_query as wbq

    translate = wbq.to_whoosh

    def to_whoosh(plan: Any) -> Any:
        if isinstance(plan, Near):
            weight = plan.weight * wbq.FIELD_WEIGHTS[plan.field]  # the patched weights
            return wq.Phrase(plan.field, list(plan.terms), slop=plan.slop, boost=weight)
        return translate(plan)

    return to_whoosh


def tuned_compiler(settings: Settings) -> type:
    """A subclass of the pipeline's ``Compiler`` for ``qtf`` and ``prox``.

    Both change ``compile`` only, as the harness did before the pipeline existed, so they
    apply to a query compiled for every word, for any word, and to the any-word part of a
    tiered query (``tiered`` compiles it with ``compile``), before feedback expands it.
    """
    from searchlib import plan as p
    from searchlib import query as q
    from searchlib.searching.compile import Compiled, Compiler

    def qtf_weight(k: int) -> float:
        if settings.qtf == "once":
            return 1.0 / k  # the k copies together count once
        if settings.qtf == "sat":
            return (8 + 1) / (8 + k)
        return 1.0

    def merge_repeats(plan: Any) -> Any:
        """Identical clauses side by side as one, its score scaled by k * ``qtf_weight(k)``."""
        if isinstance(plan, p.Exclude):
            return p.Exclude(merge_repeats(plan.positive), plan.excluded)
        if isinstance(plan, p.Boost):
            return p.Boost(merge_repeats(plan.child), plan.factor)
        if isinstance(plan, (p.Any, p.All)):
            merged = []
            for child, k in Counter(plan.children).items():
                factor = qtf_weight(k) * k
                inner = merge_repeats(child)
                merged.append(inner if factor == 1.0 else p.Boost(inner, factor))
            return type(plan)(tuple(merged))
        return plan

    class Tuned(Compiler):  # type: ignore[misc,valid-type]
        def compile(self, node: Any, mode: str) -> Any:
            compiled = super().compile(node, mode)
            match = compiled.match
            if settings.qtf and match is not None:
                match = merge_repeats(match)
            if settings.prox and mode == "any":
                near = self.proximity(node)
                if near and isinstance(match, p.Any):
                    match = p.Any((*match.children, *near))
                elif near and isinstance(match, p.Words) and len(match.terms) > 1:
                    match = p.Any((match, *near))  # one word of several tokens: its phrase
            return Compiled(match, compiled.highlight, compiled.positive_clauses)

        def proximity(self, node: Any) -> list[Near]:
            """Neighbouring words of the query (stopwords skipped) as :class:`Near` nodes."""
            weight, slop = settings.prox.split(":")
            children = node.children if isinstance(node, q.Seq) else (node,)
            tokens: list[str] = []
            for child in children:
                if isinstance(child, q.Term) and child.field is None:
                    tokens += self.analyzer.terms(child.text)
                elif isinstance(child, q.Phrase) and child.field is None:
                    tokens += self.analyzer.terms(" ".join(child.words))
            return [
                Near((a, b), f, int(slop), float(weight))
                for a, b in itertools.pairwise(tokens)
                if a != b
                for f in ("title", "excerpt")
            ]

    return Tuned


def write_articles(coll: Collection, folder: Path, *, dated: bool = False) -> dict[str, str]:
    """One front-matter ``.md`` file per document (``dated``: with its publication date,
    where the collection has one); returns url -> docno."""
    folder.mkdir(parents=True, exist_ok=True)
    urls: dict[str, str] = {}
    for docno, (title, text) in coll.docs.items():
        url = f"https://{coll.name}.example/doc/{docno}"
        meta: dict[str, str] = {}
        if title:
            meta["title"] = title
        meta["excerpt"] = text  # empty for CACM's title-only records: not a copy of the title
        meta["webUrl"] = url
        if dated and docno in coll.dates:
            meta["publishedDateTime"] = f"{coll.dates[docno]}T00:00:00Z"
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1 << 30)
        (folder / f"{docno}.md").write_text(f"---\n{front}---\n", encoding="utf-8")
        urls[url] = docno
    return urls


@dataclass
class QueryLog:
    """What happened to the raw query texts."""

    errors: list[dict[str, str]] = field(default_factory=list)
    syntax: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms) or [0.0]
        return {
            "errors": len(self.errors),
            "error_examples": self.errors[:5],
            "queries_using_syntax": dict(self.syntax),
            "latency_ms_mean": round(statistics.fmean(lat), 1),
            "latency_ms_p95": round(lat[int(0.95 * (len(lat) - 1))], 1),
        }


class SearchlibIndexes:
    """Indexes built once per (collection, stop list) in a temp folder and reused."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._built: dict[tuple[str, str, bool, str], tuple[Path, dict[str, str]]] = {}

    def get(
        self, coll: Collection, settings: Settings, backend: str = "whoosh"
    ) -> tuple[Path, dict[str, str]]:
        from searchlib import Engine

        dated = settings.dates == "yes" or bool(settings.freshness)
        key = (coll.name, settings.stopwords, dated, backend)
        if key not in self._built:
            docs = self.root / f"{coll.name}-docs{'-dated' if dated else ''}"
            urls = (
                write_articles(coll, docs, dated=dated) if not docs.exists() else _urls(coll)
            )
            path = self.root / (
                f"{coll.name}-index-{settings.stopwords or 'searchlib'}"
                f"{'-dated' if dated else ''}-{backend}"
            )
            started = time.perf_counter()
            patching = _patched(settings) if settings.stopwords else contextlib.nullcontext()
            with patching, Engine(path, backend=backend) as eng:
                report = eng.index([docs])
            took = time.perf_counter() - started
            print(f"  indexed {coll.name} ({settings.stopwords or 'searchlib'} stopwords): "
                  f"{len(coll.docs)} docs in {took:.1f}s", file=sys.stderr)
            failed = getattr(report, "failed", ())
            if failed:
                raise SystemExit(f"{len(failed)} documents failed to index: {failed[:3]}")
            self._built[key] = (path, urls)
        return self._built[key]


def _urls(coll: Collection) -> dict[str, str]:
    return {f"https://{coll.name}.example/doc/{d}": d for d in coll.docs}


def run_searchlib(
    coll: Collection, indexes: SearchlibIndexes, settings: Settings, *, patch: bool = True,
    backend: str = "whoosh",
) -> tuple[Run, QueryLog]:
    """Every judged query through ``Engine.search(text, limit=1000)``.

    ``patch=False`` runs searchlib exactly as installed (``settings`` must be the defaults);
    the experiments patch the Whoosh backend, so ``backend`` other than ``whoosh`` needs it.
    """
    from searchlib import Engine
    from searchlib.errors import QueryError

    path, urls = indexes.get(coll, settings, backend)
    run: Run = {}
    log = QueryLog()
    patching = _patched(settings) if patch else contextlib.nullcontext()
    # Engine.search's own defaults unless an experiment changes the match mode.
    options: dict[str, Any] = {} if settings.match == "auto" else {"match": settings.match}
    for mode in FEEDBACK_MODES:
        if mode in settings.prf.split(":"):
            options["feedback"] = mode
    if settings.freshness:
        options.update(freshness=settings.freshness, freshness_from="newest")
    with patching, Engine(path) as eng:
        if patch:
            _configure(eng, settings)
        for qid, raw in coll.queries.items():
            text = raw if settings.text == "raw" else plain_query(raw)
            status, features = describe_parse(text)
            if status == "ok":
                log.syntax.update(features)
            started = time.perf_counter()
            try:
                results = eng.search(text, limit=LIMIT, **options)
            except QueryError as exc:
                # Counted as an error; the ranking comes from the same text without syntax,
                # cut to the longest query searchlib accepts (as a search box would).
                log.errors.append({"qid": qid, "error": str(exc), "text": text[:120]})
                results = eng.search(fallback_query(text), limit=LIMIT, **options)
            log.latencies_ms.append((time.perf_counter() - started) * 1000)
            run[qid] = [urls[hit.url] for hit in results.hits]
    return run, log


# -- running and reporting -----------------------------------------------------------------


@dataclass
class Result:
    engine: str
    collection: str
    means: dict[str, float]
    per_query: dict[str, dict[str, float]]
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "collection": self.collection,
            **{SHORT[m]: round(v, 4) for m, v in self.means.items()},
            "seconds": round(self.seconds, 2),
            **self.info,
        }


def versions() -> dict[str, str]:
    names = ["searchlib", "whoosh-reloaded", "nltk", "ir-measures", "pytrec-eval-terrier",
             "tantivy", "bm25s", "PyStemmer"]
    found = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    import sqlite3

    found["sqlite"] = sqlite3.sqlite_version
    return found


def markdown_baseline(results: list[Result], collections: list[str]) -> str:
    engines = list(dict.fromkeys(r.engine for r in results))
    by = {(r.engine, r.collection): r for r in results}
    head = "| engine | " + " | ".join(
        f"{c.upper()} {SHORT[m]}" for c in collections for m in MEASURES
    ) + " | avg MAP |"
    lines = [head, "|" + "---|" * (2 + len(collections) * len(MEASURES))]
    for eng in engines:
        cells = []
        maps = []
        for c in collections:
            r = by.get((eng, c))
            for m in MEASURES:
                cells.append("-" if r is None else f"{r.means[m]:.3f}")
            if r is not None:
                maps.append(r.means["AP@1000"])
        avg = f"{statistics.fmean(maps):.3f}" if len(maps) == len(collections) else "-"
        lines.append(f"| {eng} | " + " | ".join(cells) + f" | {avg} |")
    return "\n".join(lines)


def markdown_experiments(
    results: list[Result], collections: list[str], baseline: str = "searchlib"
) -> str:
    names = list(dict.fromkeys(r.engine for r in results))
    by = {(r.engine, r.collection): r for r in results}
    head = (
        "| experiment | "
        + " | ".join(f"{c.upper()} MAP" for c in collections)
        + " | avg MAP | Δ avg | "
        + " | ".join(f"{c.upper()} nDCG@10" for c in collections)
        + " | p |"
    )
    lines = [head, "|" + "---|" * (4 + 2 * len(collections))]
    base_avg = None
    if all((baseline, c) in by for c in collections):
        base_avg = statistics.fmean(by[(baseline, c)].means["AP@1000"] for c in collections)
    for name in names:
        if not all((name, c) in by for c in collections):
            continue
        maps = [by[(name, c)].means["AP@1000"] for c in collections]
        ndcg = [by[(name, c)].means["nDCG@10"] for c in collections]
        avg = statistics.fmean(maps)
        delta = "" if base_avg is None else f"{avg - base_avg:+.3f}"
        p = ""
        if base_avg is not None and name != baseline:
            mine, base = [], []
            for c in collections:
                qids = sorted(by[(name, c)].per_query)
                mine += [by[(name, c)].per_query[q]["AP@1000"] for q in qids]
                base += [by[(baseline, c)].per_query[q]["AP@1000"] for q in qids]
            p = f"{randomization_p(mine, base, 2000):.3f}"
        lines.append(
            f"| {name} | " + " | ".join(f"{v:.3f}" for v in maps) + f" | {avg:.3f} | {delta} | "
            + " | ".join(f"{v:.3f}" for v in ndcg) + f" | {p} |"
        )
    return "\n".join(lines)


def probe(colls: list[Collection]) -> dict[str, Any]:
    """How searchlib's query parser reads the raw query texts (no index needed)."""
    out: dict[str, Any] = {}
    for coll in colls:
        errors: list[dict[str, str]] = []
        features: Counter[str] = Counter()
        examples: dict[str, str] = {}
        for qid, text in coll.queries.items():
            status, found = describe_parse(text)
            if status == "error":
                errors.append({"qid": qid, "error": found[0], "text": text[:160]})
            for feature in found if status == "ok" else ():
                features[feature] += 1
                examples.setdefault(feature, f"{qid}: {text[:160]}")
        out[coll.name] = {
            "queries": len(coll.queries),
            "errors": errors,
            "queries_using_syntax": dict(features),
            "examples": examples,
        }
    return out


#: searchlib's runs: engine name -> its backend.
SEARCHLIB_BACKENDS = {
    "searchlib": "whoosh", "searchlib-tantivy": "tantivy", "searchlib-typesense": "typesense",
}


@contextlib.contextmanager
def _typesense_cluster(folder: Path) -> Iterator[None]:
    """The cluster of the typesense backend: the environment's, or a local three-node one."""
    import os

    if os.environ.get("SEARCHLIB_TYPESENSE_NODES"):
        yield
        return
    from searchlib.backends.typesense_cluster import LocalCluster

    with LocalCluster(folder, nodes=3) as cluster:
        os.environ["SEARCHLIB_TYPESENSE_NODES"] = ",".join(cluster.urls)
        os.environ["SEARCHLIB_TYPESENSE_API_KEY"] = cluster.api_key
        try:
            yield
        finally:
            del os.environ["SEARCHLIB_TYPESENSE_NODES"]


def main(argv: list[str] | None = None) -> int:
    from relevance_peers import PEERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    parser.add_argument(
        "--engines", default="searchlib," + ",".join(PEERS),
        help=f"comma list of: searchlib, searchlib-tantivy (searchlib on its tantivy "
        f"backend), searchlib-typesense (on a Typesense cluster: $SEARCHLIB_TYPESENSE_NODES, "
        f"or a local three-node one), {', '.join(PEERS)}, or 'none'",
    )
    parser.add_argument(
        "--experiment", action="append", default=[],
        help="a name (" + ", ".join(EXPERIMENTS) + "), 'all', or key=value,... overrides",
    )
    parser.add_argument(
        "--reference", default="searchlib",
        help="the run that experiments are compared with (Δ avg MAP and the paired "
        "randomization test's p over all judged queries): 'searchlib' or an experiment",
    )
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the tables as markdown here")
    parser.add_argument("--probe", action="store_true", help="only report query parsing")
    args = parser.parse_args(argv)

    collections = [c.strip() for c in args.collections.split(",") if c.strip()]
    for c in collections:
        if c not in LOADERS:
            parser.error(f"unknown collection {c!r}")
    engines = [e.strip() for e in args.engines.split(",") if e.strip() and e != "none"]
    for e in engines:
        if e not in SEARCHLIB_BACKENDS and e not in PEERS:
            parser.error(f"unknown engine {e!r}")
    specs: list[str] = []
    for spec in args.experiment:
        specs += list(EXPERIMENTS) if spec == "all" else [spec]
    experiments = [(spec, Settings.parse(spec)) for spec in specs]

    colls = [load(c, args.data) for c in collections]
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "versions": versions(),
        "collections": {c.name: c.summary() for c in colls},
    }
    if args.probe:
        report["probe"] = probe(colls)
        print(json.dumps(report, indent=2))
        return 0

    results: list[Result] = []
    exp_results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="searchlib-relevance-") as tmp, \
            contextlib.ExitStack() as stack:
        if "searchlib-typesense" in engines:
            stack.enter_context(_typesense_cluster(Path(tmp) / "cluster"))
        indexes = SearchlibIndexes(Path(tmp))
        for coll in colls:
            print(f"{coll.name}: {coll.summary()}", file=sys.stderr)
            for eng in engines:
                started = time.perf_counter()
                info: dict[str, Any] = {}
                if eng in SEARCHLIB_BACKENDS:
                    backend = SEARCHLIB_BACKENDS[eng]
                    run, log = run_searchlib(
                        coll, indexes, Settings(), patch=False, backend=backend
                    )
                    info["queries"] = log.to_dict()
                else:
                    run = PEERS[eng](coll, LIMIT)
                seconds = time.perf_counter() - started
                means, per_query = evaluate(run, coll)
                results.append(Result(eng, coll.name, means, per_query, seconds, info))
                print(f"  {eng:12s} " + "  ".join(
                    f"{SHORT[m]} {v:.3f}" for m, v in means.items()) + f"  ({seconds:.1f}s)",
                    file=sys.stderr)
            for spec, settings in experiments:
                started = time.perf_counter()
                run, log = run_searchlib(coll, indexes, settings)
                seconds = time.perf_counter() - started
                means, per_query = evaluate(run, coll)
                info = {"settings": settings.changes(), "queries": log.to_dict()}
                exp_results.append(Result(spec, coll.name, means, per_query, seconds, info))
                print(f"  [{spec}] " + "  ".join(
                    f"{SHORT[m]} {v:.3f}" for m, v in means.items()) + f"  ({seconds:.1f}s)",
                    file=sys.stderr)

    report["results"] = [r.to_dict() for r in results]
    report["experiments"] = [r.to_dict() for r in exp_results]
    tables = []
    if results:
        tables.append(markdown_baseline(results, collections))
    if exp_results:
        base = [r for r in results if r.engine == "searchlib"]
        tables.append(markdown_experiments(base + exp_results, collections, args.reference))
    text = "\n\n".join(tables)
    print(text)
    if args.json:
        per_query = {
            f"{r.engine}/{r.collection}": {q: v["AP@1000"] for q, v in r.per_query.items()}
            for r in results + exp_results
        }
        args.json.write_text(json.dumps({**report, "per_query_ap": per_query}, indent=2) + "\n")
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
