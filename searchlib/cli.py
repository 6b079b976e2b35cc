"""The ``search`` command: the only module that prints or exits.

Exit status: 0 success (zero hits included), 1 runtime error, 2 usage or query error,
3 indexing finished but some files were skipped.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path
from typing import Any, TypeVar

import click
from click_default_group import DefaultGroup

from .analysis import fold_value
from .engine import Engine, remove_index
from .errors import SearchlibError
from .indexer import DEFAULT_BATCH_FILES, IndexReport
from .request import MAX_FACET_SIZE, MAX_LIMIT, MAX_OFFSET
from .results import Facet, Hit, SearchResults
from .schema import FEEDBACK_MODES, KINDS, SORTS

EXIT_SKIPPED = 3
_MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)
F = TypeVar("F", bound=Callable[..., Any])


def sample_corpus() -> Path:
    """The folder of fictional articles that ships with searchlib."""
    return Path(str(resources.files("searchlib") / "sample"))


def _index_option(func: F) -> F:
    return click.option(
        "--index",
        "index_dir",
        envvar="SEARCHLIB_INDEX",
        default="index",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Index folder (or set SEARCHLIB_INDEX).",
    )(func)


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn searchlib's errors into one line on stderr and the matching exit status."""
    try:
        yield
    except SearchlibError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"Error: {exc.strerror or exc}{where}", err=True)
        sys.exit(1)


def _open(index_dir: Path, *, create: bool = False, **kwargs: Any) -> Engine:
    return Engine(index_dir, create=create, **kwargs)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _terminal_text(marked: str) -> str:
    """``<mark>`` fragments in bold (when the terminal supports it), HTML entities decoded."""
    parts = []
    last = 0
    for match in _MARK.finditer(marked):
        parts.append(html.unescape(marked[last : match.start()]))
        parts.append(click.style(html.unescape(match.group(1)), bold=True))
        last = match.end()
    parts.append(html.unescape(marked[last:]))
    return "".join(parts)


def _hit_lines(hit: Hit) -> list[str]:
    title = _terminal_text(hit.highlights.get("title") or html.escape(hit.title))
    meta = [hit.provider or "unknown provider"]
    if hit.published is not None:
        meta.append(hit.published.strftime("%Y-%m-%d"))
    if hit.topics:
        meta.append(", ".join(hit.topics))
    if hit.kind != "article":
        meta.append(hit.kind)
    lines = [f"{hit.rank:>3}. {title}", f"     {' · '.join(meta)}  [{hit.id}]"]
    excerpt = hit.highlights.get("excerpt") or html.escape(hit.excerpt)
    if excerpt:
        lines.append(f"     {_terminal_text(excerpt)}")
    return lines


def _count(total: int) -> str:
    """``1 result``, ``67 results``."""
    return f"{total} result{'' if total == 1 else 's'}"


def _listed(items: list[str], word: str) -> str:
    """``a``, ``a and b``, ``a, b and c`` (with ``word`` for "and")."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _filter_texts(
    topics: tuple[str, ...], providers: tuple[str, ...], kind: str | None,
    since: str | None, until: str | None,
) -> dict[str, str]:
    """How each active filter reads in a sentence, as the user typed it."""
    texts = {}
    for name, values in (("topic", topics), ("provider", providers)):
        if any(fold_value(value) for value in values):
            # As the search sees them: blank values and other spellings of one value dropped.
            kept: dict[str, str] = {}
            for value in values:
                if fold_value(value):
                    kept.setdefault(fold_value(value), value)
            quoted = [json.dumps(value, ensure_ascii=False) for value in kept.values()]
            texts[name] = f"{name} {_listed(quoted, 'or')}"
    if kind:
        texts["kind"] = f"kind {json.dumps(kind, ensure_ascii=False)}"
    if since and until:
        texts["date"] = f"dates from {since} to {until}"
    elif since or until:
        texts["date"] = f"dates from {since}" if since else f"dates up to {until}"
    return texts


def _empty_filters_line(results: SearchResults, texts: dict[str, str]) -> str | None:
    """``No results with provider "x"; without that filter: 67 results.``, or None."""
    empty = results.empty_filters
    if empty is None:
        return None
    named = [texts.get(name, f"the {name} filter") for name in empty.filters]
    which = "that filter" if len(named) == 1 else "these filters"
    return (
        f"No results with {_listed(named, 'and')}; without {which}: "
        f"{_count(empty.total_without)}."
    )


def _relaxed_line(results: SearchResults) -> str | None:
    """``No results with every word; showing results with any. Missing: crash``, or None."""
    if not results.relaxed:
        return None
    line = "No results with every word; showing results with any."
    return f"{line} Missing: {', '.join(results.missing)}" if results.missing else line


def _print_results(results: SearchResults, filters: dict[str, str] | None = None) -> None:
    """Hits, then "did you mean", added words and facets. ``filters``: how each active
    filter reads in a sentence (see :func:`_filter_texts`)."""
    if not results.hits:
        shown = (
            "No results" if results.total == 0 else f"No results on this page of {results.total}"
        )
        click.echo(f"{shown} for {results.query!r}." if results.query else f"{shown}.")
        empty = _empty_filters_line(results, filters or {})
        if empty:
            click.echo(empty)
    else:
        first, last = results.hits[0].rank, results.hits[-1].rank
        click.echo(f"{_count(results.total)}, showing {first}-{last} ({results.took_ms:.1f} ms)")
        relaxed = _relaxed_line(results)
        if relaxed:
            click.echo(relaxed)
        click.echo()
        for hit in results.hits:
            for line in _hit_lines(hit):
                click.echo(line)
    if results.suggestion:
        click.echo(f"\nDid you mean: {results.suggestion}")
    if results.feedback:
        click.echo(f"\nAlso searched for: {', '.join(results.feedback[:10])}")
    facets = [(name, facet) for name, facet in results.facets.items() if facet.values]
    if results.total and facets:
        click.echo()
        for name, facet in facets:
            values = ", ".join(
                f"{'*' if v.selected else ''}{v.value} ({v.count})" for v in facet.values
            )
            more = ", ..." if facet.truncated else ""
            click.echo(f"{name}: {values}{more}")


@click.group(cls=DefaultGroup, default="query", default_if_no_args=False)
@click.version_option(metadata.version("searchlib"), "--version", prog_name="search")
@click.help_option("-h", "--help")
def cli() -> None:
    """Search news articles: index folders of front-matter files, then query them.

    A bare `search TEXT` runs `search query TEXT`.

    Example:

    \b
        search index articles/
        search "facial recognition" --topic AI
    """


@cli.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--sample", is_flag=True, help="Index the sample corpus bundled with searchlib.")
@click.option("--rebuild", is_flag=True, help="Start from an empty index.")
@click.option("--language", default=None, help="Stemming language of a new index [english].")
@click.option("--lock-timeout", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another writer to finish.")
@click.option("--batch-files", type=click.IntRange(1, 1_000_000), default=DEFAULT_BATCH_FILES,
              show_default=True, help="Files parsed and written per commit (bounds memory).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, no summary.")
@_index_option
@_json_option
@click.help_option("-h", "--help")
def index_command(
    paths: tuple[Path, ...],
    sample: bool,
    rebuild: bool,
    language: str | None,
    lock_timeout: float,
    batch_files: int,
    quiet: bool,
    index_dir: Path,
    as_json: bool,
) -> None:
    """Index article files and folders, adding, updating and removing only what changed.

    Exit status 3 means the run finished but some files were skipped (listed with reasons).

    Example:

    \b
        search index articles/ --index news-index
        search index --sample
    """
    roots = list(paths) + ([sample_corpus()] if sample else [])
    if not roots:
        raise click.UsageError("give at least one PATH to index (or --sample)")
    missing = [str(p) for p in roots if not p.exists()]
    if missing:
        click.echo(f"Error: no such file or folder: {missing[0]}", err=True)
        sys.exit(2)
    with _errors():
        if rebuild:
            # Remove the old index before opening it: a damaged one could not be opened.
            remove_index(index_dir, lock_timeout=lock_timeout)
        with _open(index_dir, create=True, language=language, lock_timeout=lock_timeout) as eng:
            report = _run_index(eng, roots, batch_files=batch_files, quiet=quiet or as_json)
    if as_json:
        _emit_json(report.to_dict())
    elif not quiet:
        for failure in report.failed:
            click.echo(f"skipped {failure.path}: {failure.error}", err=True)
        click.echo(
            f"{report.added} added, {report.updated} updated, {report.removed} removed, "
            f"{report.unchanged} unchanged, {len(report.failed)} skipped; "
            f"{report.documents} documents in {index_dir} ({report.took_ms / 1000:.1f} s)"
        )
    if report.failed:
        sys.exit(EXIT_SKIPPED)


def _run_index(
    engine: Engine, roots: list[Path], *, batch_files: int, quiet: bool
) -> IndexReport:
    if quiet or not sys.stderr.isatty():
        return engine.index(roots, batch_files=batch_files)
    from tqdm import tqdm

    with tqdm(total=0, unit="file", file=sys.stderr, leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        return engine.index(roots, batch_files=batch_files, progress=progress)


@cli.command("query")
@click.argument("text", nargs=-1)
@click.option("--topic", "topics", multiple=True,
              help="Only this topic, in any case (repeat to OR several).")
@click.option("--provider", "providers", multiple=True,
              help="Only this provider, in any case (repeat to OR several).")
@click.option("--kind", type=click.Choice(KINDS, case_sensitive=False), default=None,
              help="Only articles or related.")
@click.option("--since", default=None, help="From this date (YYYY, YYYY-MM, YYYY-MM-DD, ISO).")
@click.option("--until", default=None, help="Up to this date, inclusive.")
@click.option("--sort", type=click.Choice(SORTS),
              default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(0, MAX_LIMIT), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0, MAX_OFFSET), default=0, show_default=True)
@click.option("--feedback", type=click.Choice(FEEDBACK_MODES), default="auto",
              show_default=True,
              help="Add words of the top documents to the query (auto: over 3 words).")
@click.option("--facet-size", type=click.IntRange(1, MAX_FACET_SIZE), default=10,
              show_default=True,
              help="Values listed per facet (all of one facet: search facets NAME).")
@_index_option
@_json_option
@click.help_option("-h", "--help")
def query_command(
    text: tuple[str, ...],
    topics: tuple[str, ...],
    providers: tuple[str, ...],
    kind: str | None,
    since: str | None,
    until: str | None,
    sort: str,
    limit: int,
    offset: int,
    feedback: str,
    facet_size: int,
    index_dir: Path,
    as_json: bool,
) -> None:
    """Search the index: ranked hits with highlights, then topic and provider counts.

    TEXT uses the query language: words, "phrases", -word, OR, (groups), title:word,
    provider:name, topic:name, prefix*, fuzzy~.

    Example:

    \b
        search query "facial recognition" --topic AI --since 2026-09
    """
    with _errors(), _open(index_dir) as engine:
        results = engine.search(
            " ".join(text), topics=topics, providers=providers, kind=kind, since=since,
            until=until, sort=sort, limit=limit, offset=offset,  # type: ignore[arg-type]
            feedback=feedback, facet_size=facet_size,  # type: ignore[arg-type]
        )
    if as_json:
        _emit_json(results.to_dict())
    else:
        _print_results(results, _filter_texts(topics, providers, kind, since, until))


@cli.command("facets")
@click.argument("name", metavar="{topic|provider|kind}")
@click.argument("text", nargs=-1)
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeat to OR several).")
@click.option("--provider", "providers", multiple=True,
              help="Only this provider (repeat to OR several).")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only articles or related.")
@click.option("--since", default=None, help="From this date (YYYY, YYYY-MM, YYYY-MM-DD, ISO).")
@click.option("--until", default=None, help="Up to this date, inclusive.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="List only the values with the most matches (default: all).")
@_index_option
@_json_option
@click.help_option("-h", "--help")
def facets_command(
    name: str,
    text: tuple[str, ...],
    topics: tuple[str, ...],
    providers: tuple[str, ...],
    kind: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    index_dir: Path,
    as_json: bool,
) -> None:
    """Every value of one facet with its number of matches, most first.

    Counts are those of `search query` with the same text and filters; the facet's own
    filter does not narrow them (selected values are marked *). Without TEXT, they count
    the whole index.

    Example:

    \b
        search facets provider
        search facets topic "mars lander" --provider "Space Today"
    """
    with _errors(), _open(index_dir) as engine:
        facet = engine.facet(
            name, " ".join(text), topics=topics, providers=providers, kind=kind, since=since,
            until=until, limit=limit,
        )
    if as_json:
        _emit_json({"name": facet.name, **facet.to_dict()})
    else:
        _print_facet(facet, " ".join(text))


def _print_facet(facet: Facet, text: str) -> None:
    """One value a line: its count right-aligned (thousands separated), then the value.

    Counts come first so that the columns stay aligned however long a value is (some
    provider names are whole URLs).
    """
    if not facet.values:
        click.echo(f"No {facet.name} values{f' for {text!r}' if text else ''}.")
        return
    counts = [f"{v.count:,}" for v in facet.values]
    width = max(len(c) for c in counts)
    marked = any(v.selected for v in facet.values)
    for value, count in zip(facet.values, counts, strict=True):
        mark = ("* " if value.selected else "  ") if marked else ""
        click.echo(f"{count:>{width}}  {mark}{value.value}")
    if facet.truncated:
        click.echo("... more values: raise --limit, or leave it out to list them all")


@cli.command("show")
@click.argument("doc_id")
@_index_option
@_json_option
@click.help_option("-h", "--help")
def show_command(doc_id: str, index_dir: Path, as_json: bool) -> None:
    """Show one document with all its stored fields.

    Example:

    \b
        search show pwjpw23iymsw
    """
    with _errors(), _open(index_dir) as engine:
        hit = engine.get(doc_id)
    data = hit.to_dict()
    if as_json:
        _emit_json(data)
        return
    for key in ("id", "kind", "title", "excerpt", "url", "provider", "published", "topics",
                "quality", "parents", "related", "path", "body", "extra"):
        value = data.get(key)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, (list, dict)):
            value = ", ".join(value) if isinstance(value, list) else json.dumps(value)
        click.echo(f"{key:<10} {value}")


@cli.command("similar")
@click.argument("doc_id")
@click.option("--limit", type=click.IntRange(0, MAX_LIMIT), default=10, show_default=True)
@_index_option
@_json_option
@click.help_option("-h", "--help")
def similar_command(doc_id: str, limit: int, index_dir: Path, as_json: bool) -> None:
    """Documents most like the one with this id.

    Example:

    \b
        search similar pwjpw23iymsw --limit 5
    """
    with _errors(), _open(index_dir) as engine:
        results = engine.similar(doc_id, limit=limit)
    if as_json:
        _emit_json(results.to_dict())
    else:
        _print_results(results)


@cli.command("stats")
@_index_option
@_json_option
@click.help_option("-h", "--help")
def stats_command(index_dir: Path, as_json: bool) -> None:
    """Documents by kind, files, topics, providers, size, language and schema version.

    Example:

    \b
        search stats --json
    """
    with _errors(), _open(index_dir) as engine:
        stats = engine.stats().to_dict()
    if as_json:
        _emit_json(stats)
        return
    kinds = stats["by_kind"]
    rows = [
        ("index", stats["path"]),
        ("documents", f"{stats['documents']} ({kinds['article']} articles, "
                      f"{kinds['related']} related)"),
        ("files", stats["files"]),
        ("topics", stats["topics"]),
        ("providers", stats["providers"]),
        ("size", _human_bytes(stats["size_bytes"])),
        ("language", stats["language"]),
        ("schema", stats["schema_version"]),
    ]
    for name, value in rows:
        click.echo(f"{name:<10} {value}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback: only this machine).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--token-env", metavar="NAME", default=None,
              help="Enable POST /index for clients sending the bearer token held in this "
                   "environment variable.")
@click.option("--show-paths", is_flag=True,
              help="Include the server's file paths in /stats and /documents/ID answers.")
@_index_option
@click.help_option("-h", "--help")
def serve_command(
    host: str, port: int, token_env: str | None, show_paths: bool, index_dir: Path
) -> None:
    """Serve the HTTP API and a search page (needs the extra: pip install 'searchlib[server]').

    GET /search, /facets/NAME, /documents/ID, /documents/ID/similar, /stats, /healthz,
    /openapi.json, and the page at /. Read-only unless --token-env names a variable holding a
    token: then POST /index with 'Authorization: Bearer <token>' indexes files on the server.
    The index folder and source file paths are left out of answers unless --show-paths.

    Example:

    \b
        search serve --index news-index --port 8000
    """
    try:
        from .http import serve
    except ImportError as exc:
        click.echo(f"Error: search serve needs the server extra ({exc.name} is missing): "
                   "pip install 'searchlib[server]'", err=True)
        sys.exit(1)
    token = None
    if token_env is not None:
        import os

        token = os.environ.get(token_env, "").strip()
        if not token:
            click.echo(f"Error: the environment variable {token_env} is not set or empty",
                       err=True)
            sys.exit(2)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: other machines can reach this server",
                   err=True)
    with _errors(), _open(index_dir) as engine:
        serve(engine, host=host, port=port, token=token, show_paths=show_paths)


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def main() -> None:
    """Entry point of the ``search`` console script."""
    try:
        cli.main(prog_name="search")
    except SystemExit:
        raise
    except Exception as exc:  # never show a traceback to a CLI user
        click.echo(f"Error: unexpected {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
