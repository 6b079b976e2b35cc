"""The synonym list: Solr's file format, the file in the index folder, and ``search synonyms``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NEWS
from hypothesis import given
from hypothesis import strategies as st

from searchlib import Engine, remove_index
from searchlib.cli import cli
from searchlib.errors import UsageError
from searchlib.store import owned_files
from searchlib.synonyms import (
    SYNONYMS_NAME,
    SynonymError,
    SynonymFile,
    SynonymRule,
    Synonyms,
    parse_rule,
    parse_synonyms,
)

# -- the format ------------------------------------------------------------------------------


def test_solr_file() -> None:
    text = (
        "# a comment\n"
        "\n"
        "covid,coronavirus ,  sars-cov-2   # after a rule\n"
        "usa, u.s. => united   states\n"
        "covid, covid-19\n"
        "covid, coronavirus\n"
    )
    assert parse_synonyms(text).rules == (
        SynonymRule(("covid", "coronavirus", "sars-cov-2", "covid-19")),
        SynonymRule(("usa", "u.s."), ("united states",)),
    )


@pytest.mark.parametrize(("line", "message"), [
    ("a => b => c", "more than one '=>'"),
    ("=> b", "no words before '=>'"),
    ("a =>", "no words after '=>'"),
    ("a, , b", "an empty synonym between commas"),
    ("a, b => c,", "an empty synonym between commas after '=>'"),
    ("covid", "'covid' alone is not a synonym rule: list two or more words ('a, b') or map "
              "it ('a => b')"),
    ("covid, ---", "'---' has no letters or digits"),
])
def test_bad_lines_name_the_file_and_line(line: str, message: str) -> None:
    with pytest.raises(SynonymError) as caught:
        parse_synonyms(f"# rules\na, b\n{line}\n", "my-synonyms.txt")
    assert str(caught.value) == f"my-synonyms.txt, line 3: {message}: {line!r}"
    assert caught.value.exit_code == 2


WORD = st.text(
    alphabet=st.characters(categories=("L", "N"), exclude_characters="#"), min_size=1,
    max_size=8,
)
ENTRY = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
RULE = st.one_of(
    st.lists(ENTRY, min_size=2, max_size=4, unique_by=str.casefold).map(
        lambda words: SynonymRule(tuple(words))
    ),
    st.tuples(
        st.lists(ENTRY, min_size=1, max_size=3, unique=True),
        st.lists(ENTRY, min_size=1, max_size=3, unique=True),
    ).map(lambda sides: SynonymRule(tuple(sides[0]), tuple(sides[1]))),
)


@given(st.lists(RULE, max_size=6))
def test_a_list_round_trips_through_its_file(rules: list[SynonymRule]) -> None:
    synonyms = Synonyms()
    for rule in rules:
        synonyms = synonyms.add(rule)
    assert parse_synonyms(synonyms.to_text()) == synonyms


@given(st.text(max_size=200))
def test_any_text_parses_or_fails_with_our_error(text: str) -> None:
    try:
        synonyms = parse_synonyms(text, "f")
    except SynonymError as exc:
        assert str(exc).startswith("f, line ")
        assert "\n" not in str(exc)
    else:
        assert parse_synonyms(synonyms.to_text()) == synonyms


def test_adding_joins_groups_and_removing_shrinks_them() -> None:
    synonyms = Synonyms().add(parse_rule("covid, coronavirus"))
    synonyms = synonyms.add(parse_rule("Covid, sars-cov-2"))
    synonyms = synonyms.add(parse_rule("a => b"))
    synonyms = synonyms.add(parse_rule("a => b"))
    assert [r.to_line() for r in synonyms.rules] == [
        "covid, coronavirus, sars-cov-2", "a => b",
    ]
    synonyms = synonyms.remove("SARS-CoV-2").remove("b")
    assert [r.to_line() for r in synonyms.rules] == ["covid, coronavirus"]
    assert synonyms.remove("coronavirus").rules == ()
    with pytest.raises(SynonymError, match=r"^no synonym rule has 'zebra'$"):
        synonyms.remove("zebra")


# -- the file in the index folder ------------------------------------------------------------


def test_another_engine_sees_a_change_at_its_next_search(index_dir: Path) -> None:
    with Engine(index_dir) as writer:
        writer.index([NEWS])
        with Engine(index_dir) as service:
            assert service.search("rover").total == 0
            writer.add_synonyms(["rover", "lander"])
            assert service.search("rover").total == 2
            assert (index_dir / SYNONYMS_NAME).read_text(encoding="utf-8").endswith(
                "\nrover, lander\n"
            )
            writer.remove_synonym("rover")
            assert service.search("rover").total == 0
            assert not (index_dir / SYNONYMS_NAME).exists()


def test_one_search_reads_the_list_once(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long query with feedback compiles dozens of words: each looked up in one version of
    # the list, checked once per search (a stat of the file), not once per word.
    with Engine(index_dir) as engine:
        engine.index([NEWS])
        engine.add_synonyms(["rover", "lander"])
        reads = 0
        current = SynonymFile.current

        def counted(self: SynonymFile) -> Synonyms:
            nonlocal reads
            reads += 1
            return current(self)

        monkeypatch.setattr(SynonymFile, "current", counted)
        results = engine.search("rover mars landing crater surface images", feedback="on")
        assert results.total == 2 and results.synonyms == {"rover": ("rover", "lander")}
        assert reads == 1
        reads = 0
        assert engine.search("zebra rover").relaxed  # nothing has both: chosen again
        assert reads == 1


def test_rebuild_keeps_the_synonyms_and_removing_the_index_removes_them(
    index_dir: Path,
) -> None:
    with Engine(index_dir) as engine:
        engine.index([NEWS])
        engine.add_synonyms(["rover", "lander"])
        assert index_dir / SYNONYMS_NAME in owned_files(index_dir)
        engine.index([NEWS], rebuild=True)
        assert engine.search("rover").total == 2
    remove_index(index_dir, keep_synonyms=True)
    assert [p.name for p in owned_files(index_dir)] == [SYNONYMS_NAME]
    remove_index(index_dir)
    assert owned_files(index_dir) == []


def test_concurrent_changes_all_land(index_dir: Path) -> None:
    with Engine(index_dir) as engine:
        engine.index([NEWS])
        words = [f"word{i}" for i in range(20)]
        threads = [
            threading.Thread(target=engine.add_synonyms, args=([w, "shared"],)) for w in words
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        (rule,) = Engine(index_dir).synonyms().rules
        assert sorted(rule.words) == sorted([*words, "shared"])


def test_a_damaged_file_is_reported_at_search(index_dir: Path) -> None:
    with Engine(index_dir) as engine:
        engine.index([NEWS])
        (index_dir / SYNONYMS_NAME).write_text("a, b\nc =>\n", encoding="utf-8")
        with pytest.raises(SynonymError, match=r"synonyms\.txt, line 2: no words after '=>'"):
            engine.search("rover")


def test_library_arguments_are_checked() -> None:
    engine = Engine.in_memory()
    with pytest.raises(UsageError, match=r"^'a, b' is a rule, not one synonym"):
        engine.add_synonyms(["a, b", "c"])
    with pytest.raises(UsageError, match=r"^give the words as a list when 'to' is given$"):
        engine.add_synonyms("a", to=["b"])
    assert engine.add_synonyms(["sars-cov-2"], to=["covid", "coronavirus"]).rules == (
        SynonymRule(("sars-cov-2",), ("covid", "coronavirus")),
    )


# -- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def indexed(index_dir: Path) -> Path:
    with Engine(index_dir) as engine:
        engine.index([NEWS])
    return index_dir


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_add_list_remove(indexed: Path) -> None:
    ix = ["--index", str(indexed)]
    assert run("synonyms", "list", *ix) == (0, "No synonyms.\n", "")
    assert run("synonyms", "add", "rover", "lander", *ix) == (0, "rover, lander\n", "")
    assert run("synonyms", "add", "ardent => mars", *ix) == (
        0, "rover, lander\nardent => mars\n", "",
    )
    assert run("synonyms", "add", "probe", "--to", "lander", "--to", "rover", *ix)[1] == (
        "rover, lander\nardent => mars\nprobe => lander, rover\n"
    )
    code, out, _ = run("query", "rover", *ix)
    assert code == 0 and "\nSynonyms: rover = rover, lander\n" in out
    assert run("synonyms", "list", "--json", *ix)[1] == (
        '{\n  "synonyms": [\n'
        '    {\n      "words": [\n        "rover",\n        "lander"\n      ],\n'
        '      "to": null\n    },\n'
        '    {\n      "words": [\n        "ardent"\n      ],\n'
        '      "to": [\n        "mars"\n      ]\n    },\n'
        '    {\n      "words": [\n        "probe"\n      ],\n'
        '      "to": [\n        "lander",\n        "rover"\n      ]\n    }\n  ]\n}\n'
    )
    assert run("synonyms", "remove", "probe", "ardent", *ix) == (0, "rover, lander\n", "")
    assert run("synonyms", "remove", "zebra", *ix) == (
        2, "", "Error: no synonym rule has 'zebra'\n",
    )
    assert run("synonyms", "clear", *ix) == (0, "No synonyms.\n", "")


def test_cli_load_reports_a_bad_line(indexed: Path, tmp_path: Path) -> None:
    ix = ["--index", str(indexed)]
    good = tmp_path / "good.txt"
    good.write_text("# Solr\ncovid, coronavirus\nsars-cov-2 => covid\n", encoding="utf-8")
    assert run("synonyms", "load", str(good), *ix) == (
        0, "covid, coronavirus\nsars-cov-2 => covid\n", "",
    )
    bad = tmp_path / "bad.txt"
    bad.write_text("a, b\n\nx => y => z\n", encoding="utf-8")
    assert run("synonyms", "load", str(bad), *ix) == (
        2, "", f"Error: {bad}, line 3: more than one '=>': 'x => y => z'\n",
    )
    assert run("synonyms", "list", *ix)[1] == "covid, coronavirus\nsars-cov-2 => covid\n"
    assert run("synonyms", "load", str(tmp_path / "none.txt"), *ix) == (
        2, "", f"Error: {tmp_path / 'none.txt'}: No such file or directory\n",
    )


def test_cli_needs_an_index(tmp_path: Path) -> None:
    code, _, err = run("synonyms", "add", "a", "b", "--index", str(tmp_path / "none"))
    assert code == 1 and err.startswith("Error: no index in ")
