"""The folder watch that tells an unchanged index folder from one ``stat``: it trusts only
settled modification times, and any change to the folder after them makes it check again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from searchlib import Engine
from searchlib.backends import folder_stamp as stamps
from searchlib.backends.folder_stamp import FolderWatch, folder_stamp

from .test_whoosh import record


class Check:
    """A full check that counts its calls and answers ``fresh``."""

    def __init__(self) -> None:
        self.calls = 0
        self.fresh = True

    def __call__(self) -> bool:
        self.calls += 1
        return self.fresh


def age(folder: Path, seconds: float) -> None:
    """Set the folder's modification time ``seconds`` into the past."""
    then = time.time() - seconds
    os.utime(folder, (then, then))


def test_a_settled_unchanged_folder_is_told_by_its_stamp(tmp_path: Path) -> None:
    age(tmp_path, 60)
    watch, check = FolderWatch(str(tmp_path)), Check()
    assert watch.current(check) and check.calls == 1
    assert watch.current(check) and watch.current(check)
    assert check.calls == 1


def test_a_settled_stamp_is_trusted_for_a_second_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A network file system may answer stat from a cache of attributes: the folder is
    # listed again at least every RECHECK_S seconds.
    clock = [100.0]
    monkeypatch.setattr(stamps, "monotonic", lambda: clock[0])
    age(tmp_path, 60)
    watch, check = FolderWatch(str(tmp_path)), Check()
    watch.current(check)
    clock[0] += stamps.RECHECK_S / 2
    watch.current(check)
    assert check.calls == 1
    clock[0] += stamps.RECHECK_S
    watch.current(check)
    assert check.calls == 2
    watch.current(check)
    assert check.calls == 2


@pytest.mark.parametrize(
    ("whole_seconds", "young", "old"),
    [(False, 0.0, 0.5), (True, 1.0, 4.0)],
    ids=["fine-times", "whole-seconds"],
)
def test_a_recent_time_is_not_trusted(
    tmp_path: Path, whole_seconds: bool, young: float, old: float
) -> None:
    # Changes within one clock tick of the file system share a time: a time younger than
    # the settling delay (longer where times are whole seconds) may still be shared by a
    # change to come.
    def age_to(seconds: float) -> None:
        then = time.time_ns() - int(seconds * 1e9)
        if whole_seconds:
            then -= then % 1_000_000_000
        else:
            then += 1 if then % 1_000_000_000 == 0 else 0
        os.utime(tmp_path, ns=(then, then))

    age_to(young)
    watch, check = FolderWatch(str(tmp_path)), Check()
    for _ in range(3):
        assert watch.current(check)
    assert check.calls == 3
    age_to(old)
    for _ in range(3):
        assert watch.current(check)
    assert check.calls == 4


def test_any_change_to_the_folder_checks_again(tmp_path: Path) -> None:
    age(tmp_path, 60)
    watch, check = FolderWatch(str(tmp_path)), Check()
    watch.current(check)
    (tmp_path / "_MAIN_2.toc").write_bytes(b"")  # a commit adds a file
    check.fresh = False
    assert not watch.current(check) and check.calls == 2
    check.fresh = True
    age(tmp_path, 60)
    assert watch.current(check) and watch.current(check) and check.calls == 3
    (tmp_path / "_MAIN_2.toc").unlink()  # and removes one
    assert watch.current(check) and check.calls == 4


def test_a_stale_answer_is_never_remembered(tmp_path: Path) -> None:
    age(tmp_path, 60)
    watch, check = FolderWatch(str(tmp_path)), Check()
    check.fresh = False
    assert not watch.current(check) and not watch.current(check)
    assert check.calls == 2


def test_a_folder_replaced_by_another_checks_again(tmp_path: Path) -> None:
    folder, other = tmp_path / "ix", tmp_path / "other"
    folder.mkdir()
    other.mkdir()
    watch, check = FolderWatch(str(folder)), Check()
    age(folder, 60)
    age(other, 60)
    watch.current(check)
    folder.rename(tmp_path / "old")
    other.rename(folder)
    age(folder, 60)
    watch.current(check)
    assert check.calls == 2


def test_no_folder_or_a_missing_one_always_checks(tmp_path: Path) -> None:
    check = Check()
    memory, missing = FolderWatch(None), FolderWatch(str(tmp_path / "missing"))
    for _ in range(2):
        memory.current(check)
        missing.current(check)
    assert check.calls == 4
    assert folder_stamp(str(tmp_path / "missing")) is None


def test_forget_checks_again(tmp_path: Path) -> None:
    age(tmp_path, 60)
    watch, check = FolderWatch(str(tmp_path)), Check()
    watch.current(check)
    watch.forget()
    watch.current(check)
    assert check.calls == 2


def test_a_settled_index_still_sees_every_commit_of_another_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ix"
    with Engine(folder) as reader_engine, Engine(folder) as writer_engine:
        writer_engine.backend.write([record(1)], [])
        age(folder, 60)
        index_class = type(reader_engine.backend._ix)
        listed = index_class.latest_generation
        listings = 0

        def counted(ix: object) -> int:
            nonlocal listings
            listings += 1
            return int(listed(ix))

        monkeypatch.setattr(index_class, "latest_generation", counted)
        assert reader_engine.search("").total == 1
        assert reader_engine.search("").total == 1
        settled = listings
        assert reader_engine.search("story").total == 1
        assert listings == settled  # one stat, no listing of the folder
        writer_engine.backend.write([record(2)], [])
        assert reader_engine.search("").total == 2
        assert listings > settled
        writer_engine.backend.write([], ["doc1"])
        assert [h.id for h in reader_engine.search("").hits] == ["doc2"]
