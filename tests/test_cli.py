"""The `search` command, through click's CliRunner: output, JSON, exit codes, errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import IDS, NEWS

from searchlib import Engine
from searchlib.cli import _count, _print_results, _wrap, cli
from searchlib.results import Facet, FacetValue, SearchResults

README = Path(__file__).resolve().parents[1] / "README.md"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    # An 80-column terminal unless a test says otherwise: output is wrapped to its width.
    env = {"COLUMNS": "80", **(env or {})}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def took(out: str) -> str:
    """The milliseconds of a results header, to write it into an exact expectation."""
    return re.search(r"\((\d+\.\d) ms\)", out).group(1)  # type: ignore[union-attr]


@pytest.fixture
def indexed(news_dir: Path, index_dir: Path) -> Path:
    code, _, _ = run("index", str(news_dir), "--index", str(index_dir), "--quiet")
    assert code == 0
    return index_dir


def test_index_json_summary(news_dir: Path, index_dir: Path) -> None:
    code, out, err = run("index", str(news_dir), "--index", str(index_dir), "--json")
    data = json.loads(out)
    assert data.pop("took_ms") >= 0
    assert (code, err, data) == (0, "", {
        "added": 9, "updated": 0, "removed": 0, "unchanged": 0, "failed": [], "documents": 12,
        "duplicate_urls": 0,
    })


def test_index_human_summary_and_skipped_files(news_dir: Path, index_dir: Path) -> None:
    (news_dir / "empty.md").write_text("---\n---\n", encoding="utf-8")
    code, out, err = run("index", str(news_dir), "--index", str(index_dir))
    assert code == 3
    assert err == f"skipped {news_dir / 'empty.md'}: no title and no excerpt\n"
    assert re.fullmatch(
        r"9 added, 0 updated, 0 removed, 0 unchanged, 1 skipped \(\d+\.\d s\)\n"
        rf"9 files: 12 documents \(9 articles, 3 related\) in {re.escape(str(index_dir))}\n",
        out,
    )
    code, out, _ = run("index", str(news_dir), "--index", str(index_dir), "--json")
    assert code == 3
    assert json.loads(out)["failed"] == [
        {"path": str(news_dir / "empty.md"), "error": "no title and no excerpt"}
    ]


def test_index_missing_path_is_a_usage_error(tmp_path: Path, index_dir: Path) -> None:
    code, out, err = run("index", str(tmp_path / "nope"), "--index", str(index_dir))
    assert (code, out, err) == (2, "", f"Error: no such file or folder: {tmp_path / 'nope'}\n")
    code, _, err = run("index", "--index", str(index_dir))
    assert code == 2
    assert "give at least one PATH to index (or --sample)" in err


def test_index_sample_corpus(index_dir: Path) -> None:
    code, out, _ = run("index", "--sample", "--index", str(index_dir), "--json")
    data = json.loads(out)
    assert (code, data["added"], data["failed"]) == (0, 45, [])
    code, out, _ = run("query", "facial recognition", "--index", str(index_dir), "--json")
    assert json.loads(out)["total"] >= 4


def test_query_json_is_the_library_result(indexed: Path) -> None:
    code, out, err = run(
        "query", "facial", "--topic", "AI", "--provider", "Jurist", "--provider", "TechNode",
        "--index", str(indexed), "--json",
    )
    cli_data = json.loads(out)
    with Engine(indexed) as engine:
        lib_data = engine.search(
            "facial", topics=["AI"], providers=["Jurist", "TechNode"]
        ).to_dict()
    for data in (cli_data, lib_data):
        data.pop("took_ms")
    assert (code, err) == (0, "")
    assert cli_data == lib_data
    assert [h["id"] for h in cli_data["hits"]] == [IDS["court"], IDS["china-limits"]]


def test_bare_text_runs_a_query(indexed: Path) -> None:
    code, out, _ = run("heatwave", "--index", str(indexed), "--json")
    assert code == 0
    assert json.loads(out)["total"] == 3


def test_query_human_output(indexed: Path) -> None:
    code, out, _ = run("query", "lander", "--index", str(indexed))
    assert code == 0
    assert out == (
        "2 results, showing 1-2 ({ms} ms)\n"
        "\n"
        "  1. Mars lander touches down safely\n"
        f"     Space Today · 2026-10-15 · Space  [{IDS['mars']}]\n"
        "     The Ardent lander sent its first images from the surface of Mars.\n"
        "  2. Ardent lander prepares for descent\n"
        f"     Space Today · 2026-10-14 · Space · related  [{IDS['descent']}]\n"
        "     Engineers uploaded the final landing commands.\n"
        "\n"
        "topic: Space (2)\n"
        "provider: Space Today (2)\n"
        "kind: article (1), related (1)\n"
    ).format(ms=re.search(r"\((\d+\.\d) ms\)", out).group(1))  # type: ignore[union-attr]


def test_zero_hits_is_success(indexed: Path) -> None:
    code, out, _ = run("query", "qqqqzzzz", "--index", str(indexed))
    assert (code, out) == (0, "No results for 'qqqqzzzz'.\n")


def test_suggestion_is_shown(indexed: Path) -> None:
    _, out, _ = run("query", "heatwve", "--index", str(indexed))
    assert "Did you mean: heatwave" in out


def test_feedback_words_are_shown_and_can_be_turned_off(indexed: Path) -> None:
    text = ["police", "cameras", "face", "matching", "metro", "network"]
    _, out, _ = run("query", *text, "--index", str(indexed))
    assert out.startswith("5 results")
    assert "\nAlso searched for: add, city, expand, flaw, script, court, shops," in out
    _, out, _ = run("query", *text, "--feedback", "off", "--index", str(indexed))
    assert out.startswith("4 results")
    assert "Also searched for" not in out


def test_filters_ignore_case_accents_and_spacing(indexed: Path) -> None:
    code, out, _ = run(
        "query", "lander", "--topic", "space", "--provider", " SPACE   today", "--kind", "Related",
        "--index", str(indexed), "--json",
    )
    data = json.loads(out)
    assert (code, [h["id"] for h in data["hits"]]) == (0, [IDS["descent"]])
    assert {"value": "Space Today", "count": 1, "selected": True} in (
        data["facets"]["provider"]["values"]
    )
    code, out, _ = run("query", "lander", "--provider", "space today", "--index", str(indexed))
    assert code == 0
    assert "provider: *Space Today (2)\n" in out


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["lander", "--provider", "jurist"],
         'No results with provider "jurist"; without that filter: 2 results.'),
        (["lander", "--provider", "Jurist", "--provider", "TechNode", "--provider", "Grid News"],
         'No results with provider "Jurist", "TechNode" or "Grid News"; without that filter: '
         "2 results."),
        (["lander", "--topic", "AI", "--provider", "Jurist", "--topic", "ai", "--topic", " "],
         'No results with topic "AI" and provider "Jurist"; without these filters: 2 results.'),
        (["lander", "--topic", "AI", "--provider", "Jurist", "--since", "2027"],
         'No results with topic "AI", provider "Jurist" and dates from 2027; without these '
         "filters: 2 results."),
        (["mars", "--until", "2026-09"],
         "No results with dates up to 2026-09; without that filter: 1 result."),
        (["lander", "--since", "2026-11", "--until", "2026-12", "--kind", "related"],
         "No results with dates from 2026-11 to 2026-12; without that filter: 1 result."),
        (["heatwave", "--kind", "related", "--provider", "Weather Desk"],
         'No results with provider "Weather Desk"; without that filter: 1 result.'),
    ],
)
def test_says_which_filter_emptied_the_search(
    indexed: Path, args: list[str], line: str
) -> None:
    code, out, err = run("query", *args, "--index", str(indexed))
    assert (code, err) == (0, "")
    assert out == f"No results for {args[0]!r}.\n{line}\n"


def test_no_filter_line_when_the_query_finds_nothing_anyway(indexed: Path) -> None:
    code, out, _ = run("query", "qqqqzzzz", "--topic", "AI", "--index", str(indexed))
    assert (code, out) == (0, "No results for 'qqqqzzzz'.\n")


def test_relaxed_query_line(indexed: Path) -> None:
    code, out, _ = run("query", "heatwave zebra", "--index", str(indexed))
    assert code == 0
    lines = out.splitlines()
    assert re.fullmatch(r"3 results, showing 1-3 \(\d+\.\d ms\)", lines[0])
    assert lines[1:3] == [
        "No results with every word; showing results with any. Missing: zebra", "",
    ]
    # Every word is on the page, though no document has both: no "Missing".
    _, out, _ = run("query", "heatwave parliament", "--index", str(indexed))
    assert out.splitlines()[1] == "No results with every word; showing results with any."
    code, out, _ = run("query", "heatwave zebra", "--index", str(indexed), "--json")
    data = json.loads(out)
    assert (code, data["relaxed"], data["missing"], data["empty_filters"]) == (
        0, True, ["zebra"], None
    )
    for text in ("heatwave solar", "heatwave zebra giraffe lion"):  # all words; a long query
        _, out, _ = run("query", text, "--index", str(indexed))
        assert "No results with every word" not in out


def test_one_result_is_singular(indexed: Path) -> None:
    _, out, _ = run("query", "solar", "--index", str(indexed))
    assert out.startswith("1 result, showing 1-1 (")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", '"unclosed', "--strict"],
         'Error: unclosed quote at position 0\n  "unclosed\n  ^\n'),
        (["query", "x", "--since", "soon"],
         "Error: since must be a date like 2026, 2026-09, 2026-09-30 or 2026-09-30T12:00:00Z, "
         "not 'soon'\n"),
    ],
)
def test_query_and_usage_errors_exit_2(indexed: Path, args: list[str], message: str) -> None:
    code, out, err = run(*args, "--index", str(indexed))
    assert (code, out, err) == (2, "", message)


def test_bad_limit_is_a_usage_error(indexed: Path) -> None:
    code, _, err = run("query", "x", "--limit", "-1", "--index", str(indexed))
    assert code == 2
    assert "Invalid value for '--limit'" in err


def test_missing_index_is_a_runtime_error(tmp_path: Path) -> None:
    code, out, err = run("query", "x", "--index", str(tmp_path / "none"))
    assert (code, out) == (1, "")
    assert err == (
        f"Error: no index in {tmp_path / 'none'}: create one with "
        f"'search index PATH --index {tmp_path / 'none'}'\n"
    )
    assert not (tmp_path / "none").exists()  # reading never creates an index


def test_index_folder_from_environment(indexed: Path) -> None:
    code, out, _ = run("stats", "--json", env={"SEARCHLIB_INDEX": str(indexed)})
    assert (code, json.loads(out)["documents"]) == (0, 12)


def test_show(indexed: Path) -> None:
    code, out, _ = run("show", IDS["descent"], "--index", str(indexed), "--json")
    data = json.loads(out)
    assert (code, data["title"], data["parents"]) == (
        0, "Ardent lander prepares for descent", [IDS["mars"]]
    )
    code, out, _ = run("show", IDS["descent"], "--index", str(indexed))
    assert out.splitlines()[:3] == [
        f"id         {IDS['descent']}", "kind       related",
        "title      Ardent lander prepares for descent",
    ]
    code, out, err = run("show", "nope", "--index", str(indexed))
    assert (code, out, err) == (1, "", "Error: no document with id 'nope'\n")


def test_similar(indexed: Path) -> None:
    code, out, _ = run("similar", IDS["mars"], "--index", str(indexed), "--json")
    data = json.loads(out)
    assert (code, [h["id"] for h in data["hits"]]) == (0, [IDS["descent"]])
    assert set(data) == {
        "query", "total", "offset", "limit", "took_ms", "hits", "facets", "suggestion",
        "feedback", "relaxed", "missing", "empty_filters", "notices", "synonyms",
    }
    code, out, _ = run("similar", IDS["mars"], "--index", str(indexed))
    assert out.splitlines()[0] == f"1 result, showing 1-1 ({took(out)} ms)"


def test_stats(indexed: Path) -> None:
    code, out, _ = run("stats", "--index", str(indexed))
    lines = out.splitlines()
    assert code == 0
    assert lines[1:5] == [
        "documents  12 (9 articles, 3 related)", "files      9", "topics     8", "providers  9",
    ]
    assert lines[6:] == ["language   english", "schema     2", "backend    whoosh"]


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    for name, command in cli.commands.items():  # type: ignore[attr-defined]
        code, out, _ = run(name, "--help")
        assert code == 0 and "Example:" in out, name
        assert f"search {name}" in readme, f"'search {name}' is not in the README"
        assert command.help


def test_version_and_module_entry_point() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("search, version ")
    proc = subprocess.run(
        [sys.executable, "-m", "searchlib", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "Search news articles" in proc.stdout


# -- search facets and --facet-size ------------------------------------------------------------


def test_facets_lists_every_value_with_counts(indexed: Path) -> None:
    code, out, err = run("facets", "provider", "--index", str(indexed))
    assert (code, err) == (0, "")
    assert out == (
        "2  Jurist\n"
        "2  Metro Daily\n"
        "2  Space Today\n"
        "1  Energy Wire\n"
        "1  Grid News\n"
        "1  Money Times\n"
        "1  TechNode\n"
        "1  Tidewater Gazette\n"
        "1  Weather Desk\n"
    )


def test_facets_for_a_query_and_filters(indexed: Path) -> None:
    code, out, _ = run("facets", "topic", "facial", "OR", "cameras", "OR", "heatwave",
                       "--provider", "Metro Daily", "--index", str(indexed))
    assert (code, out) == (0, "2  Security\n1  AI\n")
    # The facet's own filter does not narrow its counts; selected values are marked.
    code, out, _ = run("facets", "topic", "--topic", "Space", "--topic", "Finance",
                       "--index", str(indexed))
    assert (code, out) == (0, (
        "4    AI\n3    Climate\n3    Privacy\n3    Security\n2    Energy\n2  * Space\n"
        "1    Elections\n1  * Finance\n"
    ))
    code, out, _ = run("facets", "kind", "--since", "2026-10", "--index", str(indexed))
    assert (code, out) == (0, "5  article\n1  related\n")


def test_facets_limit(indexed: Path) -> None:
    code, out, _ = run("facets", "provider", "--limit", "2", "--index", str(indexed))
    assert (code, out) == (0, (
        "2  Jurist\n2  Metro Daily\n"
        "... more values: raise --limit, or leave it out to list them all\n"
    ))
    code, out, _ = run("facets", "provider", "--limit", "9", "--index", str(indexed))
    assert (code, len(out.splitlines())) == (0, 9)


def test_facets_json(indexed: Path) -> None:
    code, out, _ = run("facets", "kind", "lander", "--json", "--index", str(indexed))
    assert code == 0
    assert json.loads(out) == {
        "name": "kind",
        "values": [
            {"value": "article", "count": 1, "selected": False},
            {"value": "related", "count": 1, "selected": False},
        ],
        "truncated": False,
    }
    code, out, _ = run("facets", "provider", "--limit", "1", "--provider", "TechNode", "--json",
                       "--index", str(indexed))
    assert json.loads(out) == {
        "name": "provider",
        "values": [
            {"value": "Jurist", "count": 2, "selected": False},
            {"value": "TechNode", "count": 1, "selected": True},
        ],
        "truncated": True,
    }


def test_facets_without_matches(indexed: Path) -> None:
    assert run("facets", "topic", "zzyzx", "--index", str(indexed)) == (
        0, "No topic values for 'zzyzx'.\n", ""
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["facets", "year"], "Error: unknown facet 'year': choose one of topic, provider, kind\n"),
        (["facets", "topic", '"mars', "--strict"],
         "Error: unclosed quote at position 0\n  \"mars\n  ^\n"),
        (["facets", "topic", "--since", "2026-10", "--until", "2026-09"],
         "Error: since must not be later than until\n"),
    ],
)
def test_facets_errors_exit_2(indexed: Path, args: list[str], message: str) -> None:
    assert run(*args, "--index", str(indexed)) == (2, "", message)


def test_facets_read_the_query_as_search_does(indexed: Path) -> None:
    # Leniently, as search query does: the unclosed quote is read as plain words.
    assert run("facets", "topic", '"mars', "--index", str(indexed)) == (0, "1  Space\n", "")


def test_facets_bad_limit_and_missing_name(indexed: Path) -> None:
    code, _, err = run("facets", "topic", "--limit", "0", "--index", str(indexed))
    assert code == 2 and "Invalid value for '--limit': 0 is not in the range x>=1." in err
    code, _, err = run("facets", "--index", str(indexed))
    assert code == 2 and "Missing argument '{topic|provider|kind}'." in err


def test_facet_counts_are_aligned_with_thousands_separators(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from searchlib.cli import _print_facet
    from searchlib.results import Facet, FacetValue

    facet = Facet("provider", (
        FacetValue("Reuters", 12_205), FacetValue("U.S. News & World Report", 1_155, True),
        FacetValue("SFGate", 115), FacetValue("人民日报", 7),
    ), truncated=True)
    _print_facet(facet, "")
    assert capsys.readouterr().out == (
        "12,205    Reuters\n"
        " 1,155  * U.S. News & World Report\n"
        "   115    SFGate\n"
        "     7    人民日报\n"
        "... more values: raise --limit, or leave it out to list them all\n"
    )


def test_query_facet_size(indexed: Path) -> None:
    code, out, _ = run("query", "--facet-size", "2", "--json", "--index", str(indexed))
    facets = json.loads(out)["facets"]
    assert code == 0
    assert facets["provider"] == {
        "values": [
            {"value": "Jurist", "count": 2, "selected": False},
            {"value": "Metro Daily", "count": 2, "selected": False},
        ],
        "truncated": True,
    }
    assert [len(facets[name]["values"]) for name in ("topic", "provider", "kind")] == [2, 2, 2]
    code, out, _ = run("--facet-size", "1", "heatwave", "--index", str(indexed))
    assert code == 0 and out.endswith(
        "topic: Climate (3), ...\nprovider: Energy Wire (1), ...\nkind: article (2), ...\n"
    )
    code, _, err = run("query", "x", "--facet-size", "1001", "--index", str(indexed))
    assert code == 2 and "Invalid value for '--facet-size'" in err


@pytest.mark.parametrize(("flags", "shown"), [([], False), (["--show-paths"], True)])
def test_serve_shows_paths_only_when_asked(
    indexed: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], shown: bool
) -> None:
    pytest.importorskip("starlette", reason="search serve needs the server extra")
    import searchlib.http

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(searchlib.http, "serve", lambda engine, **kwargs: calls.append(kwargs))
    code, _, err = run("serve", *flags, "--index", str(indexed))
    assert (code, err) == (0, "")
    assert calls == [{"host": "127.0.0.1", "port": 8000, "token": None, "show_paths": shown}]


@pytest.mark.parametrize(("flags", "megabytes"), [([], 96.0), (["--cache-mb", "8"], 8.0)])
def test_serve_sets_the_postings_cache(
    indexed: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], megabytes: float
) -> None:
    pytest.importorskip("starlette", reason="search serve needs the server extra")
    import searchlib.http

    sizes: list[float] = []
    monkeypatch.setattr(
        searchlib.http, "serve", lambda engine, **kwargs: sizes.append(engine.backend.cache_mb)
    )
    code, _, err = run("serve", *flags, "--index", str(indexed))
    assert (code, err) == (0, "")
    assert sizes == [megabytes]
    code, _, err = run("serve", "--cache-mb", "-1", "--index", str(indexed))
    assert code == 2 and "Invalid value for '--cache-mb'" in err


# -- a newcomer's first hour ---------------------------------------------------------------


def test_a_query_with_a_syntax_error_is_searched_with_a_notice(indexed: Path) -> None:
    code, out, err = run("query", '"mars lander', "--index", str(indexed))
    assert (code, err) == (0, "")
    assert out.splitlines()[:4] == [
        "Unclosed quote at position 0: searched for the words after it, not as a phrase.",
        f"1 result, showing 1-1 ({took(out)} ms)",
        "",
        "  1. Mars lander touches down safely",
    ]
    code, out, _ = run("query", '"mars lander', "--json", "--index", str(indexed))
    assert json.loads(out)["notices"] == [{
        "code": "syntax",
        "message": "Unclosed quote at position 0: searched for the words after it, "
                   "not as a phrase.",
    }]


def test_every_notice_is_a_line_above_the_results(indexed: Path) -> None:
    code, out, _ = run("query", "OR lander", "(mars", "--index", str(indexed))
    assert code == 0
    assert out.splitlines()[:3] == [
        "OR without a term on both sides at position 0: ignored it.",
        "Unclosed '(' at position 10: closed it at the end of the query.",
        f"1 result, showing 1-1 ({took(out)} ms)",
    ]
    code, out, _ = run("query", *["lander"] * 200, "--feedback", "off", "--index", str(indexed))
    assert out.splitlines()[:2] == [
        "The query was longer than 1,000 characters: searched for its first 143 words.",
        f"2 results, showing 1-2 ({took(out)} ms)",
    ]


@pytest.mark.parametrize(
    ("text", "columns", "shown"),
    [
        # the query, and a caret under the position
        ("mars (lander OR", "80", ["  mars (lander OR", "               ^"]),
        # too wide for the terminal: a window around the position
        ("word " * 30 + "(x", "40",
         ["  …ord word word word word word word (x", "                                     ^"]),
        ("(x " + "word " * 30, "40",
         ["  (x word word word word word word wor…", "  ^"]),
        ("word " * 15 + "(x" + " word" * 15, "40",
         ["  …rd word word word (x word word word …", "                     ^"]),
        # tabs and control characters are shown as spaces, so the caret stays in place
        ("a\tb\x00 (c", "80", ["  a b  (c", "       ^"]),
    ],
)
def test_strict_query_errors_point_at_the_problem(
    indexed: Path, text: str, columns: str, shown: list[str]
) -> None:
    code, out, err = run("query", text, "--strict", "--index", str(indexed),
                         env={"COLUMNS": columns})
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert lines[0].startswith("Error: ") and lines[1:] == shown


def test_a_strict_error_without_a_position_has_no_caret(indexed: Path) -> None:
    text = "title:(" + "a " * 496 + ")"
    code, out, err = run("query", text, "--strict", "--index", str(indexed))
    assert (code, out, err) == (
        2, "", "Error: query is too long once expanded: 3967 characters, the limit is 1000\n"
    )


def test_results_wrap_to_the_terminal_width(indexed: Path) -> None:
    code, out, _ = run("query", "lander", "--index", str(indexed), env={"COLUMNS": "40"})
    assert code == 0
    assert out.splitlines()[2:12] == [
        "  1. Mars lander touches down safely",
        "     Space Today · 2026-10-15 · Space",
        f"     [{IDS['mars']}]",
        "     The Ardent lander sent its first",
        "     images from the surface of Mars.",
        "  2. Ardent lander prepares for descent",
        "     Space Today · 2026-10-14 · Space ·",
        f"     related  [{IDS['descent']}]",
        "     Engineers uploaded the final",
        "     landing commands.",
    ]
    assert max(len(line) for line in out.splitlines()[2:12]) <= 40
    # A title too long for a line wraps under itself; wide (CJK) characters count double.
    code, out, _ = run("query", "shenhai", "--index", str(indexed), env={"COLUMNS": "40"})
    assert out.splitlines()[2:7] == [
        "  1. 人脸识别 rules tighten in Shenhai",
        "     Jurist · 2026-10-02 · AI, Privacy",
        f"     [{IDS['shenhai']}]",
        "     Transit gates using 人脸识别",
        "     technology are paused pending a",
    ]
    code, out, _ = run("query", "lander", "--index", str(indexed), env={"COLUMNS": "30"})
    assert out.splitlines()[2:4] == ["  1. Mars lander touches down", "     safely"]


def test_a_word_longer_than_a_line_is_split() -> None:
    chars = [(ch, False) for ch in "x" * 50]
    assert _wrap(chars, 40, "  1. ", "     ") == ["  1. " + "x" * 35, "     " + "x" * 15]
    marked = [(ch, i < 3) for i, ch in enumerate("abc def")]
    assert _wrap(marked, 40, "", "") == [click.style("abc", bold=True) + " def"]


def test_limit_zero_says_how_many(indexed: Path) -> None:
    code, out, _ = run("query", "heatwave", "--limit", "0", "--index", str(indexed))
    assert (code, out.splitlines()[0]) == (0, f"3 results ({took(out)} ms)")
    assert "topic: Climate (3), Energy (2)" in out


def test_counts_have_thousands_separators_and_plurals() -> None:
    assert (_count(0, "result"), _count(1, "result"), _count(6170, "result")) == (
        "0 results", "1 result", "6,170 results"
    )
    results = SearchResults(
        query="covid", total=6170, offset=0, limit=0, took_ms=1.25, hits=(),
        facets={"topic": Facet("topic", (FacetValue("Coronavirus", 6170, False),))},
    )
    runner = CliRunner()
    with runner.isolation() as (out, _, _):
        _print_results(results)
        printed = out.getvalue().decode()
    assert printed == "6,170 results (1.2 ms)\n\ntopic: Coronavirus (6,170)\n"
    page = SearchResults(
        query="covid", total=6170, offset=7000, limit=10, took_ms=1.0, hits=(), facets={}
    )
    with runner.isolation() as (out, _, _):
        _print_results(page)
        printed = out.getvalue().decode()
    assert printed == "No results on this page of 6,170 for 'covid'.\n"


def test_one_of_each_is_singular(tmp_path: Path, index_dir: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(NEWS / "a7-interest-rates.md", folder)
    code, out, _ = run("index", str(folder), "--index", str(index_dir))
    assert code == 0
    assert out.splitlines()[1] == f"1 file: 1 document (1 article, 0 related) in {index_dir}"
    code, out, _ = run("stats", "--index", str(index_dir))
    assert out.splitlines()[1:3] == ["documents  1 (1 article, 0 related)", "files      1"]
    code, out, _ = run("query", "rates", "--index", str(index_dir))
    assert out.splitlines()[0] == f"1 result, showing 1-1 ({took(out)} ms)"


def test_index_explains_files_that_repeat_a_url(news_dir: Path, index_dir: Path) -> None:
    for name in ("a7-copy.md", "a7-copy-2.md"):
        shutil.copy(news_dir / "a7-interest-rates.md", news_dir / name)
    code, out, _ = run("index", str(news_dir), "--index", str(index_dir))
    assert code == 0
    assert out.splitlines()[1] == (
        "11 files, 2 of them repeat another file's URL: 12 documents "
        f"(9 articles, 3 related) in {index_dir}"
    )
    (news_dir / "a7-copy-2.md").unlink()
    code, out, _ = run("index", str(news_dir), "--index", str(index_dir))
    assert out.splitlines()[1] == (
        "10 files, 1 of them repeats another file's URL: 12 documents "
        f"(9 articles, 3 related) in {index_dir}"
    )
    code, out, _ = run("index", str(news_dir), "--index", str(index_dir), "--json")
    assert json.loads(out)["duplicate_urls"] == 1


def test_top_level_help_shows_whole_command_descriptions() -> None:
    code, out, _ = run("--help")
    assert code == 0
    listing = out.split("Commands:\n", 1)[1].splitlines()
    for name, command in cli.commands.items():  # type: ignore[attr-defined]
        line = next(line for line in listing if line.split()[0].rstrip("*") == name)
        assert line.endswith(command.short_help), line
        assert len(line) <= 80 and "..." not in line, line
    assert "  query*    Search: ranked hits with highlights, topic and provider counts." in listing
