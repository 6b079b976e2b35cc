"""Incremental indexing: adds, updates, deletions, related items, failures, reopening."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import IDS

from searchlib import Engine, NotFoundError, UsageError
from searchlib.manifest import MANIFEST_NAME
from searchlib.records import Record


def report(engine: Engine, *paths: Path) -> dict[str, object]:
    data = engine.index(list(paths)).to_dict()
    data.pop("took_ms")
    return data


def test_first_run_indexes_articles_and_related_items(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir) as engine:
        assert report(engine, news_dir) == {
            "added": 9, "updated": 0, "removed": 0, "unchanged": 0, "failed": [],
            "documents": 12, "duplicate_urls": 0,
        }
        stats = engine.stats().to_dict()
    del stats["size_bytes"]
    assert stats == {
        "path": str(index_dir), "documents": 12, "by_kind": {"article": 9, "related": 3},
        "files": 9, "topics": 8, "providers": 9, "language": "english", "schema_version": 2,
        "backend": "whoosh",
    }


def test_hidden_files_and_other_suffixes_are_not_indexed(engine: Engine) -> None:
    # .hidden/hidden-copy.md and notes.rst exist in the fixture folder.
    paths = {Path(r.path).name for r in engine.backend.records(kind="article")}
    assert paths == {
        "a1-court-facial-recognition.md", "a2-police-cameras.md", "a3-heatwave-records.md",
        "a4-solar-heatwave.md", "a5-shenhai-gates.md", "a6-mars-lander.md",
        "a7-interest-rates.md", "a8-camera-flaw.md", "a9-election.markdown",
    }


def test_second_run_changes_nothing(engine: Engine, news_dir: Path) -> None:
    before = engine.backend.generation()
    assert report(engine, news_dir) == {
        "added": 0, "updated": 0, "removed": 0, "unchanged": 9, "failed": [], "documents": 12,
        "duplicate_urls": 0,
    }
    assert engine.backend.generation() == before  # no empty commit


def test_touched_but_unchanged_file_is_unchanged(engine: Engine, news_dir: Path) -> None:
    path = news_dir / "a7-interest-rates.md"
    os.utime(path, ns=(1, 1))
    assert report(engine, news_dir)["unchanged"] == 9


def test_changed_file_is_updated(engine: Engine, news_dir: Path) -> None:
    path = news_dir / "a7-interest-rates.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("raises interest rates", "holds interest rates"),
        encoding="utf-8",
    )
    assert report(engine, news_dir)["updated"] == 1
    assert engine.get(IDS["rates"]).title == "Central bank holds interest rates"
    assert engine.search("holds").total == 1
    assert engine.search("title:raises").total == 0  # the excerpt still says "raised"


def test_shared_related_item_is_one_document_with_both_parents(engine: Engine) -> None:
    # a1 lists the TechNode URL plainly; a2 with tracking parameters, upper-case host, slash.
    item = engine.get(IDS["china-limits"])
    assert (item.kind, item.parents, item.topics) == (
        "related", (IDS["court"], IDS["police"]), ("AI", "Privacy", "Security"),
    )
    assert item.url == "https://technode.example/face-limits"


def test_related_url_that_is_an_article_is_that_article(engine: Engine) -> None:
    # a1 lists a2's URL as related: a2 stays one article document, not a second related one.
    assert engine.get(IDS["police"]).kind == "article"
    assert engine.search('"police expand"').total == 1


def test_deleting_a_parent_updates_related_parents_and_topics(
    engine: Engine, news_dir: Path
) -> None:
    (news_dir / "a2-police-cameras.md").unlink()
    assert report(engine, news_dir)["removed"] == 1
    item = engine.get(IDS["china-limits"])
    assert (item.parents, item.topics) == ((IDS["court"],), ("AI", "Privacy"))
    # a1 still lists a2's URL: the article lives on as a related item of a1.
    police = engine.get(IDS["police"])
    assert (police.kind, police.parents, police.title) == (
        "related", (IDS["court"],), "Police expand facial recognition cameras",
    )
    assert engine.stats().to_dict()["by_kind"] == {"article": 8, "related": 4}


def test_related_item_outlives_none_of_its_parents(engine: Engine, news_dir: Path) -> None:
    (news_dir / "a1-court-facial-recognition.md").unlink()
    (news_dir / "a2-police-cameras.md").unlink()
    assert report(engine, news_dir)["removed"] == 2
    for name in ("china-limits", "police", "court"):
        with pytest.raises(NotFoundError):
            engine.get(IDS[name])
    assert engine.stats().to_dict()["by_kind"] == {"article": 7, "related": 2}


def test_related_item_goes_when_its_article_drops_it(engine: Engine, news_dir: Path) -> None:
    path = news_dir / "a6-mars-lander.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("related:")] + "---\n", encoding="utf-8")
    assert report(engine, news_dir)["updated"] == 1
    with pytest.raises(NotFoundError):
        engine.get(IDS["descent"])


def test_broken_file_is_reported_and_skipped(engine: Engine, news_dir: Path) -> None:
    (news_dir / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    (news_dir / "latin1.txt").write_bytes(b"---\ntitle: caf\xe9\n---\n")
    data = report(engine, news_dir)
    # libyaml and pure-Python PyYAML word the same problem differently.
    problem = (
        "did not find expected ',' or ']'" if yaml.__with_libyaml__
        else "expected ',' or ']', but got '<stream end>'"
    )
    assert data["failed"] == [
        {"path": str(news_dir / "broken.md"),
         "error": f"broken YAML front matter at line 3: {problem}"},
        {"path": str(news_dir / "latin1.txt"),
         "error": "not UTF-8 text (invalid byte 0xe9 at offset 14)"},
    ]
    assert (data["added"], data["unchanged"], data["documents"]) == (0, 9, 12)


def test_file_that_breaks_keeps_its_indexed_version(engine: Engine, news_dir: Path) -> None:
    path = news_dir / "a7-interest-rates.md"
    path.write_text("no front matter any more", encoding="utf-8")
    data = report(engine, news_dir)
    assert data["failed"] == [
        {"path": str(path), "error": "no front matter (the file must start with a '---' line)"}
    ]
    assert engine.get(IDS["rates"]).title == "Central bank raises interest rates"


def test_vanished_files_are_removed_only_under_given_roots(
    engine: Engine, news_dir: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text(
        "---\ntitle: Other folder\nwebUrl: https://x.example/1\n---\n", encoding="utf-8"
    )
    assert report(engine, other)["added"] == 1
    # Indexing only news_dir again must not remove what came from the other folder.
    assert report(engine, news_dir)["removed"] == 0
    assert engine.search("folder").total == 1
    (other / "x.md").unlink()
    assert report(engine, other)["removed"] == 1
    assert engine.search("folder").total == 0


def test_two_files_with_one_url_are_one_document(engine: Engine, news_dir: Path) -> None:
    copy = news_dir / "a7-copy.md"
    copy.write_text(
        (news_dir / "a7-interest-rates.md").read_text(encoding="utf-8")
        .replace("raises interest rates", "raises rates again"),
        encoding="utf-8",
    )
    first = report(engine, news_dir)
    assert (first["added"], first["duplicate_urls"]) == (1, 1)
    assert engine.stats().documents == 12
    # The count is of the whole index, not of the files this run changed.
    assert report(engine, news_dir)["duplicate_urls"] == 1
    (news_dir / "a7-third.md").write_text(copy.read_text(encoding="utf-8"), encoding="utf-8")
    assert report(engine, news_dir)["duplicate_urls"] == 2
    (news_dir / "a7-third.md").unlink()
    # Deleting one of the two files keeps the document, now from the other file.
    copy.unlink()
    assert report(engine, news_dir)["duplicate_urls"] == 0
    assert engine.get(IDS["rates"]).title == "Central bank raises interest rates"
    (news_dir / "a7-interest-rates.md").unlink()
    report(engine, news_dir)
    with pytest.raises(NotFoundError):
        engine.get(IDS["rates"])


def test_rebuild_gives_the_same_documents(engine: Engine, news_dir: Path) -> None:
    before = {r.id: r for r in engine.backend.records()}
    data = engine.index([news_dir], rebuild=True).to_dict()
    assert (data["added"], data["documents"]) == (9, 12)
    assert {r.id: r for r in engine.backend.records()} == before


def test_garbage_manifest_is_rebuilt_from_the_index(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir) as engine:
        engine.index([news_dir])
    (index_dir / MANIFEST_NAME).write_text("{ not json", encoding="utf-8")
    with Engine(index_dir) as engine:
        data = report(engine, news_dir)
    # Sizes and mtimes are not in the index, so files are re-hashed, and found unchanged.
    assert (data["unchanged"], data["added"], data["documents"]) == (9, 0, 12)


def test_stale_manifest_is_rebuilt_from_the_index(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir) as engine:
        engine.index([news_dir / "a7-interest-rates.md"])
        stale = (index_dir / MANIFEST_NAME).read_text(encoding="utf-8")
        engine.index([news_dir])
    # As if the process died after the commit and before the manifest was written.
    (index_dir / MANIFEST_NAME).write_text(stale, encoding="utf-8")
    (news_dir / "a6-mars-lander.md").unlink()
    with Engine(index_dir) as engine:
        data = report(engine, news_dir)
        assert (data["removed"], data["unchanged"]) == (1, 8)
        with pytest.raises(NotFoundError):
            engine.get(IDS["mars"])


def test_missing_path_is_a_usage_error(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no such file or folder: .*nowhere"):
        engine.index([tmp_path / "nowhere"])


def test_single_file_can_be_indexed(index_dir: Path, news_dir: Path) -> None:
    with Engine(index_dir) as engine:
        data = report(engine, news_dir / "a6-mars-lander.md")
    assert (data["added"], data["documents"]) == (1, 2)


def test_index_reopens_in_a_new_process(engine: Engine, index_dir: Path) -> None:
    engine.close()
    code = (
        "import json, sys; from searchlib import Engine\n"
        "e = Engine(sys.argv[1], create=False)\n"
        "print(json.dumps([e.search('zurich').total, e.search('识别').total, e.language]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(index_dir)], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [1, 1, "english"]


def test_language_is_chosen_at_creation_and_kept(tmp_path: Path, news_dir: Path) -> None:
    with Engine(tmp_path / "de", language="german") as engine:
        engine.index([news_dir])
    with Engine(tmp_path / "de") as engine:
        assert engine.language == "german"
    with pytest.raises(UsageError, match=r"is in german, not english: rebuild it"):
        Engine(tmp_path / "de", language="english")


# -- parse workers, streaming and batches: the same index however it is written ---------------


def index_contents(folder: Path, **index_options: object) -> dict[str, object]:
    """Everything a reader sees of the index in ``folder`` (as one segment's contents)."""
    from backends.test_whoosh_writer import contents

    with Engine(folder) as engine:
        engine.backend.optimize()  # type: ignore[attr-defined]
        return contents(engine.backend._ix)  # type: ignore[attr-defined]


def copies(news_dir: Path, times: int) -> None:
    """``times`` more copies of each fixture file, each with URLs of its own."""
    for path in sorted(news_dir.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for n in range(times):
            (news_dir / f"{path.stem}-{n}.md").write_text(
                text.replace(".example/", f".example/{n}/"), encoding="utf-8"
            )


def test_parse_workers_index_what_one_process_indexes(
    news_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import searchlib.indexer

    copies(news_dir, 6)  # 57 files: related items listed once and more than once
    monkeypatch.setattr(searchlib.indexer, "PARALLEL_MIN_FILES", 10**9)
    with Engine(tmp_path / "one") as engine:
        one = engine.index([news_dir])
    monkeypatch.setattr(searchlib.indexer, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(searchlib.indexer, "_CHUNK_FILES", 4)
    with Engine(tmp_path / "workers") as engine:
        workers = engine.index([news_dir])
    assert (one.added, one.documents) == (workers.added, workers.documents) == (57, 78)
    assert index_contents(tmp_path / "one") == index_contents(tmp_path / "workers")


def test_small_batches_index_what_one_batch_indexes(news_dir: Path, tmp_path: Path) -> None:
    copies(news_dir, 2)

    def records(engine: Engine) -> list[Record]:
        # A related item that two articles list with differently spelled URLs takes the URL
        # of the listing read first in its batch (so it depends on the batches): not compared.
        return sorted(
            (r if r.kind == "article" else replace(r, url="") for r in engine.backend.records()),
            key=lambda r: r.id,
        )

    with Engine(tmp_path / "one") as engine:
        engine.index([news_dir])
        one = records(engine)
    with Engine(tmp_path / "small") as engine:
        report = engine.index([news_dir], batch_files=4)  # 7 commits
        assert (report.added, report.documents) == (25, 34)
        assert records(engine) == one
        assert engine.search("heatwave").total == 9


def test_a_url_twice_in_one_new_batch_keeps_the_later_file(
    news_dir: Path, index_dir: Path
) -> None:
    # Both files stream into the same new segment: the earlier one is left out of it.
    (news_dir / "zz-copy.md").write_text(
        (news_dir / "a7-interest-rates.md").read_text(encoding="utf-8")
        .replace("raises interest rates", "raises rates again"),
        encoding="utf-8",
    )
    with Engine(index_dir) as engine:
        data = engine.index([news_dir]).to_dict()
        assert (data["added"], data["documents"], data["duplicate_urls"]) == (10, 12, 1)
        assert engine.get(IDS["rates"]).title == "Central bank raises rates again"
        assert [h.id for h in engine.search('"raises rates again"').hits] == [IDS["rates"]]
        assert engine.search('"raises interest rates"').total == 0
        ix = engine.backend._ix  # type: ignore[attr-defined]
        assert ix.doc_count_all() == ix.doc_count() == 12  # no deleted slot left behind
