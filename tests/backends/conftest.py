"""Backends under test, the corpora they index, and an independent reading of the filters.

Every backend registered in :mod:`searchlib.backends` that can be imported here is tested, as
soon as its class implements the whole :class:`~searchlib.backends.base.Backend` protocol (a
backend that does not yet is skipped, with the methods it lacks as the reason).

Two corpora, both written through :class:`~searchlib.indexer.Indexer` as ``search index``
writes them:

- ``news``: the shared fixture folder ``tests/fixtures/news`` (9 articles, 3 related items);
- ``synth``: :data:`SYNTH_V1` written to a folder and indexed, then changed (one article
  deleted, one rewritten) and indexed again. It has documents without a date, without a
  quality, without a provider or topics, equal dates and equal qualities, a related item
  listed by two articles, accents, CJK, "covid-19" and "state-of-the-art".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any as AnyType

import pytest
from conftest import NEWS, doc_id

from searchlib.backends import available, backend_class
from searchlib.backends.base import Backend
from searchlib.indexer import Indexer
from searchlib.manifest import Manifest
from searchlib.plan import Filters
from searchlib.records import Record
from searchlib.schema import FACETS, POSITIONAL_FIELDS

#: The text fields every word searches (what the pipeline compiles a bare word to).
TEXT = ("title", "excerpt", "body", "related")
POSITIONAL = POSITIONAL_FIELDS
#: More than any corpus here holds: a window with every hit.
EVERY = 1000
#: What a backend must implement to be tested.
PROTOCOL = (
    "exists", "create", "open", "owned_files", "close", "write", "generation", "get", "records",
    "info", "execute", "count", "term_stats", "similar_words", "complete",
)
#: Every engine that can be imported here; ``memory`` (the reference) always.
BACKENDS = sorted({*available(), "memory"})
OTHERS = [name for name in BACKENDS if name != "memory"]
#: Backends that need a server: the fixture that starts it (``tests/conftest.py``).
CLUSTER_BACKENDS = {"typesense": "typesense_cluster"}


def protocol_gap(name: str) -> str | None:
    """Why the backend ``name`` cannot be tested yet, or None when it implements the protocol."""
    cls = backend_class(name)
    missing = [method for method in PROTOCOL if not callable(getattr(cls, method, None))]
    if missing:
        return f"the {name} backend does not implement {', '.join(missing)} of the protocol yet"
    return None


def utc(text: str) -> datetime:
    """An aware UTC datetime from ISO text."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- creating and filling backends -----------------------------------------------------------


def create(name: str, folder: Path) -> Backend:
    """A new, empty index of backend ``name`` (in ``folder`` unless it lives in memory)."""
    cls = backend_class(name)
    return cls.create(None if name == "memory" else folder, "english")


def index(backend: Backend, folder: Path, manifest: Manifest | None = None) -> Manifest:
    """Index ``folder`` into ``backend`` as ``search index`` does; the manifest for a rerun."""
    manifest = manifest if manifest is not None else Manifest(generation=backend.generation())
    Indexer(backend, manifest, save_manifest=lambda m: None).run([folder])
    return manifest


def build_news(name: str, folder: Path) -> Backend:
    """Backend ``name`` holding the fixture corpus."""
    backend = create(name, folder / "index")
    index(backend, NEWS)
    return backend


def write_files(folder: Path, files: Mapping[str, str]) -> None:
    """Write article files (name -> text) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, text in files.items():
        (folder / file_name).write_text(text, encoding="utf-8")


def build_synth(name: str, folder: Path) -> Backend:
    """Backend ``name`` after indexing :data:`SYNTH_V1`, then the changes to it."""
    source = folder / "synth"
    write_files(source, SYNTH_V1)
    backend = create(name, folder / "index")
    manifest = index(backend, source)
    (source / "s7-quokka.md").unlink()
    write_files(source, {"s8-budget.md": S8_V2})
    index(backend, source, manifest)
    return backend


@pytest.fixture(scope="session", params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Each backend in turn (skipped while it does not implement the protocol)."""
    name: str = request.param
    reason = protocol_gap(name)
    if reason is not None:
        pytest.skip(reason)
    if name in CLUSTER_BACKENDS:
        request.getfixturevalue(CLUSTER_BACKENDS[name])  # skips where it cannot run
    return name


_NO_OTHERS: AnyType = pytest.param(
    "none", marks=pytest.mark.skip(reason="no backend other than memory is installed")
)


@pytest.fixture(scope="session", params=[*OTHERS] or [_NO_OTHERS])
def other_name(request: pytest.FixtureRequest) -> str:
    """Each backend but the reference one (skipped while it does not implement the protocol)."""
    name: str = request.param
    reason = protocol_gap(name)
    if reason is not None:
        pytest.skip(reason)
    if name in CLUSTER_BACKENDS:
        request.getfixturevalue(CLUSTER_BACKENDS[name])  # skips where it cannot run
    return name


def _session_backend(
    build: Callable[[str, Path], Backend], name: str, factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    backend = build(name, factory.mktemp(name))
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def news(backend_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The fixture corpus in the backend under test (read only)."""
    yield from _session_backend(build_news, backend_name, tmp_path_factory)


@pytest.fixture(scope="session")
def synth(backend_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The synthetic corpus, after its changes, in the backend under test (read only)."""
    yield from _session_backend(build_synth, backend_name, tmp_path_factory)


@pytest.fixture(scope="session")
def other_news(other_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The fixture corpus in a backend compared with the reference."""
    yield from _session_backend(build_news, other_name, tmp_path_factory)


@pytest.fixture(scope="session")
def other_synth(other_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The synthetic corpus in a backend compared with the reference."""
    yield from _session_backend(build_synth, other_name, tmp_path_factory)


@pytest.fixture(scope="session")
def memory_news(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The fixture corpus in the reference backend."""
    yield from _session_backend(build_news, "memory", tmp_path_factory)


@pytest.fixture(scope="session")
def memory_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """The synthetic corpus in the reference backend."""
    yield from _session_backend(build_synth, "memory", tmp_path_factory)


@pytest.fixture
def fresh(backend_name: str, tmp_path: Path) -> Iterator[Backend]:
    """A new, empty index of the backend under test."""
    backend = create(backend_name, tmp_path / "index")
    yield backend
    backend.close()


# -- an independent reading of filters and facets --------------------------------------------


def facet_values(record: Record, facet: str) -> set[str]:
    """A record's values of one facet: its topics, its provider (if any), its kind."""
    if facet == "topic":
        return set(record.topics)
    if facet == "provider":
        return {record.provider} if record.provider else set()
    return {record.kind}


def passes(record: Record, filters: Filters) -> bool:
    """Whether ``record`` passes ``filters`` (Filters' docstring, read literally)."""
    for facet in FACETS:
        selected = set(filters.values(facet))
        if selected and not facet_values(record, facet) & selected:
            return False
    if filters.since is not None or filters.until is not None:
        if record.published is None:
            return False
        if filters.since is not None and record.published < filters.since:
            return False
        if filters.until is not None and record.published > filters.until:
            return False
    return record.id not in filters.exclude_ids


def facet_counts(records: Iterable[Record], facet: str) -> dict[str, int]:
    """Documents per value of ``facet`` among ``records``."""
    counts: dict[str, int] = {}
    for record in records:
        for value in facet_values(record, facet):
            counts[value] = counts.get(value, 0) + 1
    return counts


# -- the synthetic corpus --------------------------------------------------------------------


def article(
    title: str,
    url: str,
    *,
    excerpt: str = "",
    published: str | None = None,
    quality: int | None = None,
    provider: str | None = None,
    topics: tuple[str, ...] = (),
    related: tuple[dict[str, str | int], ...] = (),
    body: str = "",
) -> str:
    """The text of an article file."""
    lines = ["---", f'title: "{title}"', f'webUrl: "{url}"']
    if excerpt:
        lines.append(f'excerpt: "{excerpt}"')
    if published is not None:
        lines.append(f"publishedDateTime: {published}")
    if quality is not None:
        lines.append(f"quality: {quality}")
    if provider is not None:
        lines += ["provider:", f"  name: {provider}"]
    if topics:
        lines += ["topics:", *(f"  - {topic}" for topic in topics)]
    if related:
        lines.append("related:")
        for item in related:
            first = True
            for key, value in item.items():
                quoted = isinstance(value, str) and key != "publishedDateTime"
                text = f'"{value}"' if quoted else value
                lines.append(f"  {'- ' if first else '  '}{key}: {text}")
                first = False
    lines += ["---", body, ""]
    return "\n".join(lines)


COOLING: dict[str, str | int] = {
    "title": "Cooling centres stay open late",
    "webUrl": "https://citydesk.example/cooling-centres",
    "publishedDateTime": "2026-09-08T06:00:00Z",
    "provider": "City Desk",
}
MELT: dict[str, str | int] = {
    "title": "Glacier melt speeds up",
    "webUrl": "https://icewatch.example/melt",
    "provider": "Ice Watch",
    "quality": 35,
}
SELFIES: dict[str, str | int] = {"title": "Quokka selfies banned", "webUrl": "https://island.example/selfies"}
TIMELINE: dict[str, str | int] = {
    "title": "Budget vote timeline",
    "webUrl": "https://capital.example/timeline",
    "publishedDateTime": "2026-10-04T00:00:00Z",
    "provider": "Capital Wire",
    "quality": 50,
}

S8_V2 = article(
    "Final budget passes parliament", "https://money.example/budget",
    excerpt="Parliament passed the budget after a long night.",
    published="2026-10-05T18:00:00Z", quality=85, provider="Capital Wire", topics=("Politics",),
    related=(TIMELINE,),
)

SYNTH_V1 = {
    "s1-zurich-cooling.md": article(
        "Zürich opens cooling rooms", "https://alpinepost.example/zurich-cooling",
        excerpt="São Paulo and Zürich open cooling rooms as the heatwave lingers.",
        published="2026-09-09T08:00:00Z", quality=70, provider="Alpine Post",
        topics=("Climate", "Europe"), related=(COOLING,),
        body="Volunteers check on elderly neighbours.",
    ),
    "s2-glacier-undated.md": article(
        "Glacier survey finds ice loss doubled", "https://alpinepost.example/glacier",
        excerpt="A state-of-the-art radar survey measured the glacier.",
        quality=55, provider="Alpine Post", topics=("Climate",), related=(COOLING, MELT),
        body="The state of the art survey used drones.",
    ),
    "s3-covid-unrated.md": article(
        "COVID-19 wards fill again", "https://harbortimes.example/covid-wards",
        excerpt="Hospitals report rising covid-19 admissions in São Paulo.",
        published="2026-09-09T08:00:00Z", provider="Harbor Times", topics=("Health",),
    ),
    "s4-cjk.md": article(
        "人脸识别 gates paused at Shenhai", "https://harbortimes.example/face-gates",
        excerpt="Transit operator pauses 人脸识别 gates.",
        published="2026-10-01T07:30:00Z", quality=70, provider="Harbor Times",
        topics=("AI", "Privacy"),
    ),
    "s5-undated-unrated.md": article(
        "Lander drill stalls", "https://nowhere.example/drill",
        excerpt="The drill stalled on its first sample.",
        body="Engineers say the drill will retry.",
    ),
    "s6-rates.md": article(
        "Interest rates rise again", "https://money.example/rates",
        excerpt="Rates rise as the central bank fights inflation.",
        published="2026-10-20T14:00:00Z", quality=90, provider="Money Times",
        topics=("Finance",),
    ),
    "s7-quokka.md": article(
        "Quokka census counts record numbers", "https://island.example/census",
        published="2026-09-01T00:00:00Z", quality=60, provider="Island Herald",
        topics=("Wildlife",), related=(SELFIES,),
    ),
    "s8-budget.md": article(
        "Draft budget leaks early", "https://money.example/budget",
        excerpt="A draft of the budget leaked.",
        published="2026-09-15T12:00:00Z", quality=30, provider="Money Times",
        topics=("Finance",),
    ),
}

#: Ids of the synthetic documents, by a short name.
SYNTH = {
    "zurich": doc_id("https://alpinepost.example/zurich-cooling"),
    "glacier": doc_id("https://alpinepost.example/glacier"),
    "covid": doc_id("https://harbortimes.example/covid-wards"),
    "cjk": doc_id("https://harbortimes.example/face-gates"),
    "drill": doc_id("https://nowhere.example/drill"),
    "rates": doc_id("https://money.example/rates"),
    "quokka": doc_id("https://island.example/census"),
    "budget": doc_id("https://money.example/budget"),
    # related items
    "cooling": doc_id(str(COOLING["webUrl"])),
    "melt": doc_id(str(MELT["webUrl"])),
    "selfies": doc_id(str(SELFIES["webUrl"])),
    "timeline": doc_id(str(TIMELINE["webUrl"])),
}
SYNTH_NAMES = {v: k for k, v in SYNTH.items()}
