"""Type-ahead: ``Engine.suggest``, ``search suggest`` and ``GET /suggest`` on the fixture corpus.

What each engine completes is in the conformance suite (``tests/backends``); here, what the
engine adds (the typed prefix folded, limits checked) and the CLI and HTTP shapes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from searchlib import Engine
from searchlib.cli import cli
from searchlib.errors import UsageError
from searchlib.http import create_app
from searchlib.results import Completion


@pytest.mark.parametrize(("prefix", "expected"), [
    ("fa", [("facial", 3), ("facial recognition", 3)]),
    ("FA", [("facial", 3), ("facial recognition", 3)]),
    ("  Facial   R", [("facial recognition", 3)]),
    ("facial ", [("facial recognition", 3)]),  # a space after a word: phrases only
    ("facial", [("facial", 3), ("facial recognition", 3)]),
    ("Heat", [("heatwave", 3), ("heatwave breaks", 1), ("heatwave strains", 1)]),
    ("", []),
    ("   ", []),
    ("zebra", []),
])
def test_suggest(shared_engine: Engine, prefix: str, expected: list[tuple[str, int]]) -> None:
    assert shared_engine.suggest(prefix) == [Completion(t, n) for t, n in expected]


def test_suggest_limit(shared_engine: Engine) -> None:
    assert [c.text for c in shared_engine.suggest("c", limit=3)] == [
        "camera", "camera firmware", "cameras",
    ]
    for bad in (0, 101, True, "8"):
        with pytest.raises(UsageError) as caught:
            shared_engine.suggest("c", limit=bad)  # type: ignore[arg-type]
        assert str(caught.value) == f"limit must be a whole number from 1 to 100, not {bad!r}"
    with pytest.raises(UsageError, match=r"^the prefix must be a string, not None$"):
        shared_engine.suggest(None)  # type: ignore[arg-type]


def test_suggestions_follow_commits(news_dir: Path, index_dir: Path) -> None:
    with Engine(index_dir) as engine:
        engine.index([news_dir])
        assert engine.suggest("mars") == [Completion("mars", 1), Completion("mars lander", 1)]
        shutil.copy(news_dir / "a6-mars-lander.md", news_dir / "a6-copy.md")
        text = (news_dir / "a6-copy.md").read_text(encoding="utf-8")
        (news_dir / "a6-copy.md").write_text(
            text.replace("Mars lander touches down safely", "Mars rover wakes up").replace(
                "ardent-touchdown", "rover-wakes"
            ),
            encoding="utf-8",
        )
        engine.index([news_dir])
        assert engine.suggest("mars") == [
            Completion("mars", 2), Completion("mars lander", 1), Completion("mars rover", 1),
        ]
        (news_dir / "a6-mars-lander.md").unlink()
        engine.index([news_dir])
        assert engine.suggest("mars") == [Completion("mars", 1), Completion("mars rover", 1)]


def test_cli(shared_engine: Engine) -> None:
    runner = CliRunner()
    index = ["--index", str(shared_engine.path)]
    result = runner.invoke(cli, ["suggest", "he", *index])
    assert (result.exit_code, result.stdout) == (
        0, "3  heatwave\n1  heatwave breaks\n1  heatwave strains\n",
    )
    result = runner.invoke(cli, ["suggest", "facial", "r", "--limit", "1", "--json", *index])
    assert json.loads(result.stdout) == {
        "prefix": "facial r", "suggestions": [{"text": "facial recognition", "documents": 3}],
    }
    result = runner.invoke(cli, ["suggest", "zebra", *index])
    assert (result.exit_code, result.stdout) == (0, "No suggestions for 'zebra'.\n")
    result = runner.invoke(cli, ["suggest", "he", "--limit", "0", *index])
    assert result.exit_code == 2
    assert "Invalid value for '--limit': 0 is not in the range 1<=x<=100." in result.stderr


def test_http(shared_engine: Engine) -> None:
    with TestClient(create_app(shared_engine)) as client:
        assert client.get("/suggest?q=Fa&limit=1").json() == {
            "prefix": "Fa", "suggestions": [{"text": "facial", "documents": 3}],
        }
        assert client.get("/suggest?q=").json() == {"prefix": "", "suggestions": []}
        response = client.get("/suggest?q=fa&limit=500")
        assert response.status_code == 422
        assert response.json() == {"error": {
            "type": "UsageError",
            "message": "limit must be a whole number from 1 to 100, not 500",
        }}
        schema = client.get("/openapi.json").json()["paths"]["/suggest"]["get"]
        assert [p["name"] for p in schema["parameters"]] == ["q", "limit"]
