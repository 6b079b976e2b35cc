"""The ``search`` command: the only module that prints or exits.

Exit status: 0 success (zero hits included), 1 runtime error, 2 usage or query error,
3 indexing finished but some files were skipped.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from click_default_group import DefaultGroup

from .analysis import fold_value
from .backends import DISK_BACKENDS, backend_class
from .defaults import DEFAULT_BATCH_FILES
from .engine import MAX_SUGGEST, Engine, remove_index
from .errors import QueryError, SearchlibError
from .request import MAX_FACET_SIZE, MAX_LIMIT, MAX_OFFSET
from .results import Coverage, Facet, Hit, SearchResults
from .schema import FEEDBACK_MODES, KINDS, SORTS, TIMELINE_MODES
from .synonyms import Synonyms

if TYPE_CHECKING:  # imported when indexing, not to search
    from .indexer import IndexReport

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


def _count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 result``, ``6,170 results``: thousands separators and the right plural."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def _terminal_width() -> int:
    """Columns to wrap at: the terminal's (or ``$COLUMNS``), 80 when unknown, at least 20."""
    return max(shutil.get_terminal_size((80, 24)).columns, 20)


def _cell(ch: str) -> int:
    """Terminal columns a character takes: wide (CJK) ones two, combining marks none."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _cells(text: str) -> int:
    """Terminal columns ``text`` takes."""
    return sum(_cell(ch) for ch in text)


#: Text to print, character by character with a bold flag (``<mark>`` in a highlight).
_Styled = list[tuple[str, bool]]


def _styled(marked: str) -> _Styled:
    """A highlight (``<mark>`` fragments, all else HTML-escaped) as characters to print."""
    out: _Styled = []
    last = 0
    for match in _MARK.finditer(marked):
        out.extend((ch, False) for ch in html.unescape(marked[last : match.start()]))
        out.extend((ch, True) for ch in html.unescape(match.group(1)))
        last = match.end()
    out.extend((ch, False) for ch in html.unescape(marked[last:]))
    return out


def _render(chars: _Styled) -> str:
    """Characters with their bold runs styled (click drops the style off a terminal)."""
    out = []
    start = 0
    for i in range(1, len(chars) + 1):
        if i == len(chars) or chars[i][1] != chars[start][1]:
            run = "".join(ch for ch, _ in chars[start:i])
            out.append(click.style(run, bold=True) if chars[start][1] else run)
            start = i
    return "".join(out)


def _wrap(chars: _Styled, width: int, first: str, rest: str) -> list[str]:
    """Greedy word wrap of ``chars`` to ``width`` columns, after ``first`` on the first line
    and ``rest`` on the others. Spacing inside a line is kept; a word longer than a line is
    split."""
    pieces: list[tuple[_Styled, _Styled]] = []  # (the blanks before a word, the word)
    blanks: _Styled = []
    word: _Styled = []
    for item in chars:
        if item[0].isspace():
            if word:
                pieces.append((blanks, word))
                blanks, word = [], []
            blanks.append((" ", False))
        else:
            word.append(item)
    if word:
        pieces.append((blanks, word))
    lines: list[str] = []
    line: _Styled = []
    indent, used = first, _cells(first)
    for before, word in pieces:
        gap = len(before) if line else 0
        size = sum(_cell(ch) for ch, _ in word)
        if line and used + gap + size > width:
            lines.append(indent + _render(line))
            indent, line, used, gap = rest, [], _cells(rest), 0
        while not line and used + size > width and len(word) > 1:
            # Longer than a whole line: as much of it as fits (one character at least).
            cut, taken = 1, _cell(word[0][0])
            while cut < len(word) and used + taken + _cell(word[cut][0]) <= width:
                taken += _cell(word[cut][0])
                cut += 1
            lines.append(indent + _render(word[:cut]))
            word = word[cut:]
            size -= taken
            indent, used = rest, _cells(rest)
        if line:
            line.extend(before)
        line.extend(word)
        used += gap + size
    if line or not lines:
        lines.append(indent + _render(line))
    return lines


def _hit_lines(hit: Hit, width: int) -> list[str]:
    indent = " " * 5
    title = _styled(hit.highlights.get("title") or html.escape(hit.title))
    meta = [hit.provider or "unknown provider"]
    if hit.published is not None:
        meta.append(hit.published.strftime("%Y-%m-%d"))
    if hit.topics:
        meta.append(", ".join(hit.topics))
    if hit.kind != "article":
        meta.append(hit.kind)
    about = [(ch, False) for ch in f"{' · '.join(meta)}  [{hit.id}]"]
    lines = _wrap(title, width, f"{hit.rank:>3}. ", indent) + _wrap(about, width, indent, indent)
    excerpt = hit.highlights.get("excerpt") or html.escape(hit.excerpt)
    if excerpt:
        lines.extend(_wrap(_styled(excerpt), width, indent, indent))
    if hit.coverage is not None and hit.coverage.documents > 1:
        lines.extend(_wrap(
            [(ch, False) for ch in _coverage_text(hit.coverage)], width, indent, indent + "  "
        ))
    return lines


def _coverage_text(coverage: Coverage) -> str:
    """``Story: 3 documents from 2 providers; also WNEP: "Title", ...``."""
    text = (
        f"Story: {_count(coverage.documents, 'document')} from "
        f"{_count(coverage.providers, 'provider')}"
    )
    others = [
        f'{item.provider or "unknown provider"}: "{item.title}"' for item in coverage.top
    ]
    more = coverage.documents - 1 - len(coverage.top)
    if more > 0:
        others.append(f"{more:,} more")
    return f"{text}; also {', '.join(others)}" if others else text


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
        f"{_count(empty.total_without, 'result')}."
    )


def _relaxed_line(results: SearchResults) -> str | None:
    """``No results with every word; showing results with any. Missing: crash``, or None."""
    if not results.relaxed:
        return None
    line = "No results with every word; showing results with any."
    return f"{line} Missing: {', '.join(results.missing)}" if results.missing else line


def _synonyms_line(results: SearchResults) -> str:
    """``Synonyms: covid = covid, coronavirus``: what synonyms each expanded word searched."""
    parts = [f"{word} = {', '.join(found)}" for word, found in results.synonyms.items()]
    return f"Synonyms: {'; '.join(parts)}"


def _print_results(results: SearchResults, filters: dict[str, str] | None = None) -> None:
    """Notices, hits, then "did you mean", added words and facets. ``filters``: how each
    active filter reads in a sentence (see :func:`_filter_texts`)."""
    for notice in results.notices:
        click.echo(notice.message)
    took = f"({results.took_ms:.1f} ms)"
    if not results.hits:
        if results.total and results.limit == 0:
            click.echo(f"{_count(results.total, 'result')} {took}")
        else:
            shown = (
                "No results" if results.total == 0
                else f"No results on this page of {results.total:,}"
            )
            click.echo(f"{shown} for {results.query!r}." if results.query else f"{shown}.")
        empty = _empty_filters_line(results, filters or {})
        if empty:
            click.echo(empty)
    else:
        first, last = results.hits[0].rank, results.hits[-1].rank
        found = _count(results.total, "result")
        if results.total_stories is not None:
            found += f" in {_count(results.total_stories, 'story', 'stories')}"
        click.echo(f"{found}, showing {first:,}-{last:,} {took}")
        relaxed = _relaxed_line(results)
        if relaxed:
            click.echo(relaxed)
        click.echo()
        width = _terminal_width()
        for hit in results.hits:
            for line in _hit_lines(hit, width):
                click.echo(line)
    if results.suggestion:
        click.echo(f"\nDid you mean: {results.suggestion}")
    if results.feedback:
        click.echo(f"\nAlso searched for: {', '.join(results.feedback[:10])}")
    if results.synonyms:
        click.echo(f"\n{_synonyms_line(results)}")
    facets = [
        (name, facet) for name, facet in results.facets.items()
        if facet.values and facet.interval is None
    ]
    if results.total and facets:
        click.echo()
        for name, facet in facets:
            values = ", ".join(
                f"{'*' if v.selected else ''}{v.value} ({v.count:,})" for v in facet.values
            )
            more = ", ..." if facet.truncated else ""
            click.echo(f"{name}: {values}{more}")
    timeline = results.facets.get("published")
    if timeline is not None and timeline.values:
        click.echo()
        for line in _timeline_lines(timeline, _terminal_width()):
            click.echo(line)


#: The longest bar of a timeline, in terminal cells.
_BAR_CELLS = 40
_EIGHTHS = " ▏▎▍▌▋▊▉"


def _timeline_lines(timeline: Facet, width: int) -> list[str]:
    """A bar chart of a timeline: one line per bucket, bars in eighths of a cell, scaled so
    that the largest bucket fills the chart; a selected bucket is marked with ``*``.
    """
    labels = max(len(v.value) for v in timeline.values)
    numbers = max(len(f"{v.count:,}") for v in timeline.values)
    cells = max(1, min(_BAR_CELLS, width - labels - numbers - 5))
    most = max(v.count for v in timeline.values) or 1
    lines = [f"{timeline.name} by {timeline.interval}:"]
    for value in timeline.values:
        eighths = round(value.count * cells * 8 / most)
        if value.count and not eighths:
            eighths = 1  # a bucket with matches always shows
        bar = "█" * (eighths // 8) + _EIGHTHS[eighths % 8].strip()
        mark = "*" if value.selected else " "
        lines.append(f"{mark} {value.value.ljust(labels)}  {bar} {value.count:,}".rstrip())
    return lines


def _query_error(text: str, error: QueryError) -> NoReturn:
    """The error, then the query with a ``^`` under the problem, on stderr; exit 2."""
    click.echo(f"Error: {error}", err=True)
    if error.position is not None:
        for line in _caret_lines(text, error.position, _terminal_width()):
            click.echo(line, err=True)
    sys.exit(error.exit_code)


def _caret_lines(text: str, position: int, width: int) -> list[str]:
    """``text`` (a window of it around ``position`` when it is wider than the terminal) and
    a line with ``^`` under ``position``; both indented by two spaces."""
    # One printable character for each character, so that positions still line up.
    shown = "".join(" " if ch.isspace() or not ch.isprintable() else ch for ch in text)
    room = width - 2
    start, end = 0, len(shown)
    if _cells(shown) > room:
        # A window around the position, as wide as the terminal allows with an ellipsis
        # at each end that was cut: to the right of the position first, then to the left.
        budget = room - 2
        start = end = min(max(position - budget // 2, 0), len(shown))
        used = 0
        while end < len(shown) and used + _cell(shown[end]) <= budget:
            used += _cell(shown[end])
            end += 1
        while start > 0 and used + _cell(shown[start - 1]) <= budget:
            start -= 1
            used += _cell(shown[start])
    before = "…" if start > 0 else ""
    after = "…" if end < len(shown) else ""
    column = _cells(before + shown[start:position])
    return [f"  {before}{shown[start:end]}{after}", "  " + " " * column + "^"]


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


@cli.command("index", short_help="Index files and folders: add, update, remove what changed.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--sample", is_flag=True, help="Index the sample corpus bundled with searchlib.")
@click.option("--rebuild", is_flag=True, help="Start from an empty index.")
@click.option("--language", default=None, help="Stemming language of a new index [english].")
@click.option("--backend", type=click.Choice(DISK_BACKENDS), default=None,
              help="Engine of a new index [whoosh]; with --rebuild, switches an index to it.")
@click.option("--nodes", default=None, metavar="URLS",
              help="The Typesense cluster's nodes, comma separated (--backend typesense; "
                   "default $SEARCHLIB_TYPESENSE_NODES).")
@click.option("--collection", default=None,
              help="The Typesense collection (--backend typesense; the same on every machine "
                   "that shares it).")
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
    backend: str | None,
    nodes: str | None,
    collection: str | None,
    lock_timeout: float,
    batch_files: int,
    quiet: bool,
    index_dir: Path,
    as_json: bool,
) -> None:
    """Index article files and folders, adding, updating and removing only what changed.

    Exit status 3 means the run finished but some files were skipped (listed with reasons).
    An existing index keeps the engine it was built with; --rebuild --backend B rebuilds it
    with engine B.

    Example:

    \b
        search index articles/ --index news-index
        search index articles/ --index big-index --backend tantivy
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
        if backend is not None:
            backend_class(backend)  # not installed: say so before anything is removed
        options: dict[str, Any] = {}
        if nodes is not None or collection is not None:
            options = {"nodes": nodes, "collection": collection}
        # An index in a cluster is emptied through its engine (the folder only names it).
        in_cluster = (backend or _recorded_engine(index_dir)) == "typesense"
        if rebuild and not in_cluster:
            # Remove the old index before opening it: a damaged one could not be opened.
            remove_index(index_dir, lock_timeout=lock_timeout, keep_synonyms=True)
        with _open(
            index_dir, create=True, language=language, lock_timeout=lock_timeout,
            backend=backend, **options,
        ) as eng:
            if rebuild and in_cluster:
                eng.store.wipe()
            report = _run_index(eng, roots, batch_files=batch_files, quiet=quiet or as_json)
            stats = None if quiet or as_json else eng.stats()
    if as_json:
        _emit_json(report.to_dict())
    elif stats is not None:
        for failure in report.failed:
            click.echo(f"skipped {failure.path}: {failure.error}", err=True)
        click.echo(
            f"{report.added:,} added, {report.updated:,} updated, {report.removed:,} removed, "
            f"{report.unchanged:,} unchanged, {len(report.failed):,} skipped "
            f"({report.took_ms / 1000:.1f} s)"
        )
        # Why there are fewer documents than files (several files give one article's URL),
        # or more (an article's related items are documents too).
        files = _count(stats.files, "file")
        if report.duplicate_urls:
            verb = "repeats" if report.duplicate_urls == 1 else "repeat"
            files += f", {report.duplicate_urls:,} of them {verb} another file's URL"
        click.echo(
            f"{files}: {_count(stats.documents, 'document')} "
            f"({_count(stats.articles, 'article')}, {stats.related:,} related) in {index_dir}"
        )
    if report.failed:
        sys.exit(EXIT_SKIPPED)


def _recorded_engine(index_dir: Path) -> str | None:
    """The engine ``searchlib.json`` in ``index_dir`` names, if it is readable."""
    try:
        meta = json.loads((index_dir / "searchlib.json").read_text(encoding="utf-8"))
        return str(meta.get("engine"))
    except (OSError, ValueError, AttributeError):
        return None


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


@cli.command("query", short_help="Search: ranked hits with highlights, topic and provider counts.")
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
@click.option("--strict", is_flag=True,
              help="Refuse a query that cannot be parsed or is over 1,000 characters (exit "
                   "2, showing where) instead of searching it as plain words.")
@click.option("--collapse", is_flag=True,
              help="One hit per story (an article and its related items), with its coverage; "
                   "--offset and --limit count stories.")
@click.option("--freshness", metavar="DURATION", default=None,
              help="Favour recent documents: relevance times a decay on age that halves its "
                   "decaying half every DURATION (12h, 7d, 2w) and never goes below 0.5.")
@click.option("--freshness-from", metavar="now|newest|DATE", default=None,
              help="Where ages count from: now [default], the newest document (for "
                   "archives), or a date.")
@click.option("--timeline", type=click.Choice(TIMELINE_MODES), default=None,
              help="A bar chart of the matches by day, week or month (auto: from their span).")
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
    strict: bool,
    collapse: bool,
    freshness: str | None,
    freshness_from: str | None,
    timeline: str | None,
    index_dir: Path,
    as_json: bool,
) -> None:
    """Search the index: ranked hits with highlights, then topic and provider counts.

    TEXT uses the query language: words, "phrases", -word, OR, (groups), title:word,
    provider:name, topic:name, prefix*, fuzzy~. Syntax that cannot be parsed is searched
    as plain words, and a query over 1,000 characters by its first words; a note above
    the results says so (--strict refuses such queries instead).

    Example:

    \b
        search query "facial recognition" --topic AI --since 2026-09
    """
    query = " ".join(text)
    with _errors(), _open(index_dir) as engine:
        try:
            results = engine.search(
                query, topics=topics, providers=providers, kind=kind, since=since,
                until=until, sort=sort, limit=limit, offset=offset,  # type: ignore[arg-type]
                feedback=feedback, facet_size=facet_size, strict=strict,  # type: ignore[arg-type]
                timeline=timeline, collapse="story" if collapse else None, freshness=freshness,
                freshness_from=freshness_from,
            )
        except QueryError as exc:
            _query_error(query, exc)
    if as_json:
        _emit_json(results.to_dict())
    else:
        _print_results(results, _filter_texts(topics, providers, kind, since, until))


@cli.command("facets", short_help="Every value of one facet with its count, most first.")
@click.argument("name", metavar="{topic|provider|kind}")
@click.argument("text", nargs=-1)
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeat to OR several).")
@click.option("--provider", "providers", multiple=True,
              help="Only this provider (repeat to OR several).")
@click.option("--kind", type=click.Choice(KINDS, case_sensitive=False), default=None,
              help="Only articles or related.")
@click.option("--since", default=None, help="From this date (YYYY, YYYY-MM, YYYY-MM-DD, ISO).")
@click.option("--until", default=None, help="Up to this date, inclusive.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="List only the values with the most matches (default: all).")
@click.option("--strict", is_flag=True,
              help="Refuse a query that cannot be parsed (exit 2, showing where), as search "
                   "query --strict does.")
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
    strict: bool,
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
    query = " ".join(text)
    with _errors(), _open(index_dir) as engine:
        try:
            facet = engine.facet(
                name, query, topics=topics, providers=providers, kind=kind, since=since,
                until=until, limit=limit, strict=strict,
            )
        except QueryError as exc:
            _query_error(query, exc)
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


@cli.command("show", short_help="Show one document with all its stored fields.")
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


@cli.command("similar", short_help="Documents most like the one with this id.")
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


@cli.command("stats", short_help="Documents by kind, files, size, language, engine.")
@_index_option
@_json_option
@click.help_option("-h", "--help")
def stats_command(index_dir: Path, as_json: bool) -> None:
    """Documents by kind, files, topics, providers, size, language, schema version, engine.

    Example:

    \b
        search stats --json
    """
    with _errors(), _open(index_dir) as engine:
        stats = engine.stats().to_dict()
        cluster_health = getattr(engine.backend, "health", None)
        health = cluster_health() if cluster_health is not None else None
    if health is not None:
        stats["cluster"] = [{"node": url, "healthy": ok} for url, ok in health]
    if as_json:
        _emit_json(stats)
        return
    kinds = stats["by_kind"]
    rows = [
        ("index", stats["path"]),
        ("documents", f"{stats['documents']:,} ({_count(kinds['article'], 'article')}, "
                      f"{kinds['related']:,} related)"),
        ("files", f"{stats['files']:,}"),
        ("topics", f"{stats['topics']:,}"),
        ("providers", f"{stats['providers']:,}"),
        ("size", _human_bytes(stats["size_bytes"])),
        ("language", stats["language"]),
        ("schema", stats["schema_version"]),
        ("backend", stats["backend"]),
    ]
    if health is not None:
        up = sum(ok for _, ok in health)
        rows.append(("cluster", f"{up}/{len(health)} nodes healthy: " + ", ".join(
            f"{url} {'ok' if ok else 'DOWN'}" for url, ok in health
        )))
    for name, value in rows:
        click.echo(f"{name:<10} {value}")


@cli.command("serve", short_help="Serve the HTTP API and a search page (needs searchlib[server]).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback: only this machine).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--token-env", metavar="NAME", default=None,
              help="Enable POST /index for clients sending the bearer token held in this "
                   "environment variable.")
@click.option("--show-paths", is_flag=True,
              help="Include the server's file paths in /stats and /documents/ID answers.")
@click.option("--cache-mb", type=click.FloatRange(min=0, max=1e6), default=None,
              metavar="MB", help="Megabytes of decoded postings kept between searches "
                                 "(default 96; 0: none).")
@_index_option
@click.help_option("-h", "--help")
def serve_command(
    host: str, port: int, token_env: str | None, show_paths: bool, cache_mb: float | None,
    index_dir: Path,
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
    with _errors(), _open(index_dir, cache_mb=cache_mb) as engine:
        serve(engine, host=host, port=port, token=token, show_paths=show_paths)


@cli.command("suggest", short_help="Type-ahead: title words and phrases starting with PREFIX.")
@click.argument("prefix", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, MAX_SUGGEST), default=8, show_default=True)
@_index_option
@_json_option
@click.help_option("-h", "--help")
def suggest_command(prefix: tuple[str, ...], limit: int, index_dir: Path, as_json: bool) -> None:
    """Type-ahead: words and two-word phrases of titles that start with PREFIX, each with the
    number of documents whose title has it, most first (not a search: a look-up). A PREFIX
    ending in a space completes to phrases only.

    Example:

    \b
        search suggest coro
        search suggest "coronavirus " --limit 3 --json
    """
    text = " ".join(prefix)
    with _errors(), _open(index_dir) as engine:
        found = engine.suggest(text, limit=limit)
    if as_json:
        _emit_json({"prefix": text, "suggestions": [c.to_dict() for c in found]})
        return
    if not found:
        click.echo(f"No suggestions for {text!r}.")
        return
    counts = [f"{c.documents:,}" for c in found]
    width = max(len(c) for c in counts)
    for completion, count in zip(found, counts, strict=True):
        click.echo(f"{count:>{width}}  {completion.text}")


@cli.group("synonyms", short_help="List and change the index's synonyms (applied at query time).")
@click.help_option("-h", "--help")
def synonyms_group() -> None:
    """List and change the index's synonyms, applied when a query runs (no re-indexing).

    Rules use Solr's synonyms format: 'covid, coronavirus' makes the words equivalent (a
    query for one also finds the other); 'sars-cov-2 => covid' searches covid for
    sars-cov-2, one way. A synonym of several words is searched as a phrase. The list is
    the file synonyms.txt in the index folder, kept by 'search index --rebuild'.

    Example:

    \b
        search synonyms add covid coronavirus
        search synonyms add sars-cov-2 --to covid
        search synonyms list
    """


def _print_synonyms(synonyms: Synonyms, as_json: bool) -> None:
    if as_json:
        _emit_json({"synonyms": [rule.to_dict() for rule in synonyms.rules]})
    elif not synonyms.rules:
        click.echo("No synonyms.")
    else:
        for rule in synonyms.rules:
            click.echo(rule.to_line())


@synonyms_group.command("add", short_help="Add equivalent words, or a one-way rule with --to.")
@click.argument("words", nargs=-1, required=True)
@click.option("--to", "to", multiple=True,
              help="Search these instead of WORDS (one way; repeat for several).")
@_index_option
@_json_option
@click.help_option("-h", "--help")
def synonyms_add_command(
    words: tuple[str, ...], to: tuple[str, ...], index_dir: Path, as_json: bool
) -> None:
    """Add equivalent WORDS (joining a rule that has one of them), or, with --to, a one-way
    rule: WORDS are searched as the --to words. One argument holding a whole rule in Solr's
    format ('a, b' or 'a => b') is read as such. Prints the whole list.

    Example:

    \b
        search synonyms add covid coronavirus
        search synonyms add "sars-cov-2 => covid"
        search synonyms add "united states" usa
    """
    with _errors(), _open(index_dir) as engine:
        if len(words) == 1 and not to and ("," in words[0] or "=>" in words[0]):
            synonyms = engine.add_synonyms(words[0])
        else:
            synonyms = engine.add_synonyms(list(words), to=list(to) if to else None)
    _print_synonyms(synonyms, as_json)


@synonyms_group.command("remove", short_help="Take words out of every synonym rule.")
@click.argument("words", nargs=-1, required=True)
@_index_option
@_json_option
@click.help_option("-h", "--help")
def synonyms_remove_command(words: tuple[str, ...], index_dir: Path, as_json: bool) -> None:
    """Take each of WORDS out of every rule (a rule left with one word, or an empty side,
    goes). Prints the whole list.

    Example:

    \b
        search synonyms remove sars-cov-2
    """
    with _errors(), _open(index_dir) as engine:
        synonyms = engine.synonyms()
        for word in words:
            synonyms = engine.remove_synonym(word)
    _print_synonyms(synonyms, as_json)


@synonyms_group.command("list", short_help="Print the synonym rules, one a line.")
@_index_option
@_json_option
@click.help_option("-h", "--help")
def synonyms_list_command(index_dir: Path, as_json: bool) -> None:
    """Print the synonym rules in Solr's format, one a line (--json: as objects).

    Example:

    \b
        search synonyms list --json
    """
    with _errors(), _open(index_dir) as engine:
        synonyms = engine.synonyms()
    _print_synonyms(synonyms, as_json)


@synonyms_group.command("load", short_help="Replace the synonyms with those of a Solr file.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_index_option
@_json_option
@click.help_option("-h", "--help")
def synonyms_load_command(file: Path, index_dir: Path, as_json: bool) -> None:
    """Replace the index's synonyms with the rules of FILE, a Solr synonyms file. A bad line
    is reported with its number and nothing changes.

    Example:

    \b
        search synonyms load synonyms.txt
    """
    with _errors(), _open(index_dir) as engine:
        synonyms = engine.load_synonyms(file)
    _print_synonyms(synonyms, as_json)


@synonyms_group.command("clear", short_help="Remove every synonym rule.")
@_index_option
@click.help_option("-h", "--help")
def synonyms_clear_command(index_dir: Path) -> None:
    """Remove every synonym rule.

    Example:

    \b
        search synonyms clear
    """
    with _errors(), _open(index_dir) as engine:
        engine.clear_synonyms()
    click.echo("No synonyms.")


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
