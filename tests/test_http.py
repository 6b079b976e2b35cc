"""The HTTP API (searchlib.http): every endpoint, every error status, the token-protected
index endpoint, the page shell's escaping, mounting, and a schemathesis run over the schema."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the HTTP API needs the server extra")

try:  # Starlette's TestClient prefers httpx2 (the maintained fork of httpx), else httpx
    import httpx2 as httpx
except ModuleNotFoundError:
    httpx = pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx2 or httpx")
from conftest import IDS, NEWS
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from searchlib import Engine, IndexCorruptError
from searchlib.http import create_app

TOKEN = "s3cret-token-for-tests-0123456789"
ARTICLE = """---
title: "Comet tail photographed by amateur astronomers"
excerpt: "A backyard telescope caught the comet's ion tail over the harbour."
publishedDateTime: 2026-10-20T21:00:00Z
webUrl: "https://spacetoday.example/comet-tail"
provider: Space Today
topics: [Space]
---
"""


def without_took(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "took_ms"}


@pytest.fixture(scope="module")
def client(shared_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(shared_engine)) as test_client:
        yield test_client


@pytest.fixture
def writer(engine: Engine) -> Iterator[TestClient]:
    """A client of an app with POST /index over a private, writable index."""
    with TestClient(create_app(engine, token=TOKEN)) as test_client:
        yield test_client


def assert_error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == kind
    assert set(body["error"]) <= {"type", "message", "position"}
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return dict(body["error"])


# -- reading --------------------------------------------------------------------------------


def test_search_is_the_engines_result(client: TestClient, shared_engine: Engine) -> None:
    response = client.get("/search", params={"q": "lander"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    expected = shared_engine.search("lander").to_dict()
    assert without_took(response.json()) == without_took(expected)
    assert response.json()["total"] == 2


def test_feedback_parameter(client: TestClient) -> None:
    text = "police cameras face matching metro network"
    expanded = client.get("/search", params={"q": text}).json()
    assert (expanded["total"], expanded["feedback"][:2]) == (5, ["add", "city"])
    plain = client.get("/search", params={"q": text, "feedback": "off"}).json()
    assert (plain["total"], plain["feedback"]) == (4, [])


def test_search_passes_every_parameter(client: TestClient, shared_engine: Engine) -> None:
    params = [
        ("q", "facial OR heatwave OR cameras"), ("topic", "AI"), ("topic", "Climate"),
        ("provider", "Metro Daily"), ("provider", "Jurist"), ("kind", "article"),
        ("since", "2026-09"), ("until", "2026-10-31"), ("sort", "newest"), ("limit", "2"),
        ("offset", "1"),
    ]
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    expected = shared_engine.search(
        "facial OR heatwave OR cameras", topics=["AI", "Climate"],
        providers=["Metro Daily", "Jurist"], kind="article", since="2026-09",
        until="2026-10-31", sort="newest", limit=2, offset=1,
    ).to_dict()
    assert without_took(response.json()) == without_took(expected)
    selected = [v["value"] for v in response.json()["facets"]["provider"]["values"]
                if v["selected"]]
    assert sorted(selected) == ["Jurist", "Metro Daily"]


def test_topic_and_provider_ignore_case_and_accents(client: TestClient) -> None:
    exact = client.get("/search", params=[("q", "facial"), ("topic", "Privacy"),
                                          ("provider", "TechNode")]).json()
    data = client.get("/search", params=[("q", "facial"), ("topic", " PRIVACY "),
                                         ("provider", "téchnode"), ("kind", "Related")]).json()
    assert data["total"] == exact["total"] == 1
    assert [h["id"] for h in data["hits"]] == [IDS["china-limits"]]
    assert data["facets"]["topic"] == exact["facets"]["topic"]
    assert {"value": "TechNode", "count": 1, "selected": True} in (
        data["facets"]["provider"]["values"]
    )
    assert {"value": "related", "count": 1, "selected": True} in data["facets"]["kind"]["values"]


def test_empty_filters_and_relaxed_fields(client: TestClient) -> None:
    data = client.get("/search", params=[("q", "lander"), ("topic", "AI"),
                                         ("provider", "jurist")]).json()
    assert (data["total"], data["hits"]) == (0, [])
    assert data["empty_filters"] == {"filters": ["topic", "provider"], "total_without": 2}
    assert (data["relaxed"], data["missing"]) == (False, [])
    data = client.get("/search", params=[("q", "lander"), ("since", "2027")]).json()
    assert data["empty_filters"] == {"filters": ["date"], "total_without": 2}
    data = client.get("/search", params={"q": "heatwave zebra"}).json()
    assert (data["total"], data["relaxed"], data["missing"], data["empty_filters"]) == (
        3, True, ["zebra"], None
    )


def test_search_facet_size(client: TestClient, shared_engine: Engine) -> None:
    response = client.get("/search", params={"q": "facial OR heatwave", "facet_size": "2"})
    assert response.status_code == 200, response.text
    expected = shared_engine.search("facial OR heatwave", facet_size=2).to_dict()
    assert without_took(response.json()) == without_took(expected)
    assert response.json()["facets"]["topic"] == {"values": [
        {"value": "AI", "count": 3, "selected": False},
        {"value": "Climate", "count": 3, "selected": False},
    ], "truncated": True}
    everything = client.get("/search", params={"facet_size": "1000"}).json()
    assert len(everything["facets"]["provider"]["values"]) == 9


def test_facet_endpoint(client: TestClient, shared_engine: Engine) -> None:
    response = client.get("/facets/provider")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"name": "provider", "values": [
        {"value": "Jurist", "count": 2, "selected": False},
        {"value": "Metro Daily", "count": 2, "selected": False},
        {"value": "Space Today", "count": 2, "selected": False},
        {"value": "Energy Wire", "count": 1, "selected": False},
        {"value": "Grid News", "count": 1, "selected": False},
        {"value": "Money Times", "count": 1, "selected": False},
        {"value": "TechNode", "count": 1, "selected": False},
        {"value": "Tidewater Gazette", "count": 1, "selected": False},
        {"value": "Weather Desk", "count": 1, "selected": False},
    ], "truncated": False}
    assert client.get("/facets/provider?limit=").json() == response.json()
    limited = client.get("/facets/provider", params={"limit": "1", "provider": "TechNode"})
    assert limited.json() == {"name": "provider", "values": [
        {"value": "Jurist", "count": 2, "selected": False},
        {"value": "TechNode", "count": 1, "selected": True},
    ], "truncated": True}


def test_facet_endpoint_passes_every_parameter(
    client: TestClient, shared_engine: Engine
) -> None:
    params = [
        ("q", "police cameras face matching metro network"), ("topic", "AI"),
        ("topic", "Security"), ("provider", "Metro Daily"), ("provider", "Jurist"),
        ("kind", "article"), ("since", "2026-09"), ("until", "2026-10-31"),
        ("sort", "relevance"), ("feedback", "off"), ("limit", "3"),
    ]
    for name in ("topic", "provider", "kind"):
        response = client.get(f"/facets/{name}", params=params)
        assert response.status_code == 200, response.text
        expected = shared_engine.facet(
            name, "police cameras face matching metro network", topics=["AI", "Security"],
            providers=["Metro Daily", "Jurist"], kind="article", since="2026-09",
            until="2026-10-31", sort="relevance", feedback="off", limit=3,
        )
        assert response.json() == {"name": name, **expected.to_dict()}
    topic = client.get("/facets/topic", params=params).json()
    assert topic["values"] == [
        {"value": "AI", "count": 2, "selected": True},
        {"value": "Security", "count": 2, "selected": True},
        {"value": "Privacy", "count": 1, "selected": False},
    ]
    # The counts are those of /search with the same parameters.
    search = client.get("/search", params=[p for p in params if p[0] != "limit"]).json()
    assert search["facets"]["topic"]["values"] == topic["values"]


def test_facet_endpoint_errors(client: TestClient) -> None:
    assert assert_error(client.get("/facets/year"), 422, "UsageError")["message"] == (
        "unknown facet 'year': choose one of topic, provider, kind"
    )
    assert assert_error(client.get("/facets/topic?limit=0"), 422, "UsageError")["message"] == (
        "limit must be a whole number of at least 1, not 0"
    )
    assert assert_error(client.get("/facets/topic?limit=all"), 422, "UsageError")["message"] == (
        "limit must be a whole number, not 'all'"
    )
    assert assert_error(
        client.get("/facets/topic?limit=1&limit=2"), 422, "UsageError"
    )["message"] == "give the parameter 'limit' once, not several times"
    assert client.get("/facets/topic", params={"q": '"mars'}).json()["values"] == [
        {"value": "Space", "count": 1, "selected": False},
    ]
    strict = client.get("/facets/topic", params={"q": '"mars', "strict": "true"})
    assert strict.json() == {"error": {
        "type": "QueryError", "message": "unclosed quote at position 0", "position": 0,
    }}


def test_search_without_a_query_lists_everything(client: TestClient) -> None:
    data = client.get("/search").json()
    assert data["total"] == 12
    assert data["query"] == ""
    assert len(data["hits"]) == 10


def test_empty_parameters_mean_defaults(client: TestClient, shared_engine: Engine) -> None:
    response = client.get("/search?q=court&kind=&since=&until=&sort=&limit=&offset=")
    assert response.status_code == 200, response.text
    assert without_took(response.json()) == without_took(shared_engine.search("court").to_dict())


def test_highlights_are_escaped_by_the_api(client: TestClient) -> None:
    hit = client.get("/search", params={"q": "flaw"}).json()["hits"][0]
    assert hit["title"].startswith("<script>")  # the stored text, as JSON
    assert hit["highlights"]["title"].startswith("&lt;script&gt;")
    assert "<mark>flaw</mark>" in hit["highlights"]["title"]


def test_suggestion(client: TestClient) -> None:
    assert client.get("/search", params={"q": "landr"}).json()["suggestion"] == "lander"


def test_document(client: TestClient, shared_engine: Engine) -> None:
    response = client.get(f"/documents/{IDS['court']}")
    assert response.status_code == 200
    expected = shared_engine.get(IDS["court"]).to_dict()
    assert expected["path"].endswith("a1-court-facial-recognition.md")
    del expected["path"]  # the server's file: not shown by default
    assert response.json() == expected
    assert response.json()["title"] == "Court limits facial recognition in shops"


def test_similar(client: TestClient, shared_engine: Engine) -> None:
    response = client.get(f"/documents/{IDS['court']}/similar", params={"limit": 2, "offset": 1})
    assert response.status_code == 200
    expected = shared_engine.similar(IDS["court"], limit=2, offset=1).to_dict()
    assert without_took(response.json()) == without_took(expected)
    assert IDS["court"] not in [h["id"] for h in response.json()["hits"]]


def test_stats_and_health(client: TestClient, shared_engine: Engine) -> None:
    expected = shared_engine.stats().to_dict()
    del expected["path"]  # the server's index folder: not shown by default
    assert client.get("/stats").json() == expected
    assert client.get("/healthz").json() == {"status": "ok"}


def test_no_server_paths_by_default(client: TestClient, shared_engine: Engine) -> None:
    folder = str(shared_engine.path)
    source = shared_engine.get(IDS["court"]).to_dict()["path"]
    for url in ("/stats", f"/documents/{IDS['court']}", f"/documents/{IDS['descent']}",
                "/openapi.json", "/search?q=court", "/facets/provider"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "path" not in response.json(), url
        assert folder not in response.text and source not in response.text, url
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("Stats", "Document"):
        assert "path" not in schemas[name]["properties"]
        assert schemas[name]["additionalProperties"] is False


@pytest.mark.parametrize("show_paths", [False, True])
def test_documents_and_stats_match_their_schema(shared_engine: Engine, show_paths: bool) -> None:
    """The schema's Stats and Document describe exactly what the app answers."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs", reason="comes with schemathesis")
    with TestClient(create_app(shared_engine, show_paths=show_paths)) as client:
        components = client.get("/openapi.json").json()["components"]

        def check(name: str, data: Any) -> None:
            schema = {"$ref": f"#/components/schemas/{name}", "components": components}
            jsonschema_rs.validator_for(schema).validate(data)

        check("Stats", client.get("/stats").json())
        for doc_id in (IDS["court"], IDS["descent"]):  # an article, a related item
            check("Document", client.get(f"/documents/{doc_id}").json())
        with pytest.raises(jsonschema_rs.ValidationError):  # the schema is not lax
            check("Stats", {**client.get("/stats").json(), "path": "/srv"} if not show_paths
                  else {k: v for k, v in client.get("/stats").json().items() if k != "path"})


def test_server_paths_with_show_paths(shared_engine: Engine) -> None:
    with TestClient(create_app(shared_engine, show_paths=True)) as client:
        assert client.get("/stats").json() == shared_engine.stats().to_dict()
        assert client.get("/stats").json()["path"] == str(shared_engine.path)
        document = client.get(f"/documents/{IDS['court']}").json()
        assert document == shared_engine.get(IDS["court"]).to_dict()
        assert document["path"] == str(NEWS / "a1-court-facial-recognition.md")
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        assert "path" in schemas["Stats"]["required"]
        assert "path" in schemas["Document"]["required"]


def test_health_of_a_closed_engine(index_dir: Path) -> None:
    engine = Engine(index_dir)
    client = TestClient(create_app(engine))
    engine.close()
    assert_error(client.get("/healthz"), 503, "Unavailable")


def test_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/search", "/facets/{name}", "/documents/{doc_id}", "/documents/{doc_id}/similar",
        "/stats", "/suggest", "/synonyms", "/healthz",
    }
    names = [p["name"] for p in schema["paths"]["/search"]["get"]["parameters"]]
    assert names == ["q", "topic", "provider", "kind", "since", "until", "sort", "feedback",
                     "strict", "limit", "offset", "facet_size", "timeline", "collapse",
                     "freshness", "freshness_from"]
    strict = schema["paths"]["/search"]["get"]["parameters"][8]
    assert strict["schema"] == {"type": "boolean", "default": False}
    assert strict["description"] == (
        "refuse a query that cannot be parsed, or is over 1,000 characters, with a 400 "
        "QueryError giving its position, instead of reading it leniently"
    )
    facet_size = schema["paths"]["/search"]["get"]["parameters"][11]["schema"]
    assert facet_size == {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}
    facets = schema["paths"]["/facets/{name}"]["get"]
    assert [p["name"] for p in facets["parameters"]] == [
        "name", "q", "topic", "provider", "kind", "since", "until", "sort", "feedback", "strict",
        "limit",
    ]
    assert facets["parameters"][0]["schema"] == {"enum": ["topic", "provider", "kind"]}
    assert facets["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FacetValues"
    }


def test_openapi_lists_index_only_with_a_token(writer: TestClient) -> None:
    schema = writer.get("/openapi.json").json()
    assert schema["paths"]["/index"]["post"]["security"] == [{"bearer": []}]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status", "kind"),
    [
        ('/search?q="unclosed&strict=true', 400, "QueryError"),
        ("/search?q=a*&strict=1", 400, "QueryError"),
        ("/search?q=lander OR&strict=TRUE", 400, "QueryError"),
        ("/search?q=" + "x" * 1001 + "&strict=true", 400, "QueryError"),
        ("/search?q=x&strict=yes", 422, "UsageError"),
        ("/search?q=x&strict=true&strict=false", 422, "UsageError"),
        ("/search?limit=ten", 422, "UsageError"),
        ("/search?limit=1.5", 422, "UsageError"),
        ("/search?limit=%EF%BC%91", 422, "UsageError"),  # a full-width digit
        ("/search?limit=-1", 422, "UsageError"),
        ("/search?limit=1001", 422, "UsageError"),
        ("/search?limit=99999999999999999999", 422, "UsageError"),
        ("/search?offset=100001", 422, "UsageError"),
        ("/search?offset=x", 422, "UsageError"),
        ("/search?limit=1&limit=2", 422, "UsageError"),
        ("/search?sort=random", 422, "UsageError"),
        ("/search?feedback=maybe", 422, "UsageError"),
        ("/search?q=x&feedback=on&sort=newest", 422, "UsageError"),
        ("/search?feedback=on&feedback=off", 422, "UsageError"),
        ("/search?kind=video", 422, "UsageError"),
        ("/search?facet_size=0", 422, "UsageError"),
        ("/search?facet_size=1001", 422, "UsageError"),
        ("/search?facet_size=ten", 422, "UsageError"),
        ("/search?facet_size=5&facet_size=6", 422, "UsageError"),
        ("/facets/", 404, "NotFound"),
        ("/facets/kind?kind=video", 422, "UsageError"),
        ("/facets/kind?sort=random", 422, "UsageError"),
        ("/facets/provider?since=2026-10&until=2026-09", 422, "UsageError"),
        ("/search?since=yesterday", 422, "UsageError"),
        ("/search?since=2026-10&until=2026-09", 422, "UsageError"),
        ("/documents/nope", 404, "NotFoundError"),
        ("/documents/nope/similar", 404, "NotFoundError"),
        (f"/documents/{IDS['court']}/similar?limit=x", 422, "UsageError"),
        (f"/documents/{IDS['court']}/similar?limit=5000", 422, "UsageError"),
        ("/nowhere", 404, "NotFound"),
        ("/documents/a/b", 404, "NotFound"),
        ("/static/secret.py", 404, "NotFound"),
        ("/static/..%2F..%2Fengine.py", 404, "NotFound"),
    ],
)
def test_errors(client: TestClient, url: str, status: int, kind: str) -> None:
    assert_error(client.get(url), status, kind)


def test_query_error_body(client: TestClient) -> None:
    response = client.get("/search", params={"q": 'mars "lander', "strict": "true"})
    assert response.json() == {
        "error": {"type": "QueryError", "message": "unclosed quote at position 5", "position": 5}
    }


@pytest.mark.parametrize("strict", [None, "", "false", "0", "False"])
def test_a_query_error_is_read_leniently_by_default(
    client: TestClient, shared_engine: Engine, strict: str | None
) -> None:
    params = {"q": 'mars "lander'} | ({} if strict is None else {"strict": strict})
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    data = response.json()
    assert [h["id"] for h in data["hits"]] == [IDS["mars"]]
    assert (data["query"], data["notices"]) == ('mars "lander', [{
        "code": "syntax",
        "message": "Unclosed quote at position 5: searched for the words after it, "
                   "not as a phrase.",
    }])
    assert without_took(data) == without_took(shared_engine.search('mars "lander').to_dict())


def test_a_long_query_is_searched_by_its_first_words(client: TestClient) -> None:
    response = client.get("/search", params={"q": "lander " * 200})
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["total"], data["notices"]) == (2, [{
        "code": "truncated",
        "message": "The query was longer than 1,000 characters: searched for its first 143 words.",
    }])
    assert data["query"] == "lander " * 200  # 143 words of 6 letters and 142 spaces: 1,000


def test_not_found_does_not_name_server_folders(client: TestClient) -> None:
    response = client.get("/documents/nope")
    assert response.json() == {
        "error": {"type": "NotFoundError", "message": "no document with id 'nope'"}
    }


def test_wrong_method(client: TestClient) -> None:
    response = client.delete("/search")
    assert_error(response, 405, "MethodNotAllowed")
    assert "GET" in response.headers["allow"]


def test_index_errors_do_not_leak_details(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def corrupt() -> None:
        raise IndexCorruptError(f"the index in {engine.path} has no readable searchlib.json")

    monkeypatch.setattr(engine, "stats", corrupt)
    response = TestClient(create_app(engine)).get("/stats")
    error = assert_error(response, 500, "IndexCorruptError")
    assert error["message"] == "the search index cannot be used right now"


# -- the token-protected index endpoint -----------------------------------------------------


def test_no_index_endpoint_without_a_token(client: TestClient) -> None:
    response = client.post("/index", json={"paths": ["/"]},
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code in (404, 405)
    assert response.json()["error"]["type"] in ("NotFound", "MethodNotAllowed")


@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer", f"Basic {TOKEN}",
     f"Token {TOKEN}", "Bearer ünïcode".encode()],
)
def test_index_refuses_a_wrong_token(
    writer: TestClient, news_dir: Path, authorization: str | bytes | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = writer.post("/index", json={"paths": [str(news_dir)]}, headers=headers)
    assert_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


def test_index_with_the_token(writer: TestClient, engine: Engine, news_dir: Path) -> None:
    (news_dir / "comet.md").write_text(ARTICLE, encoding="utf-8")
    response = writer.post("/index", json={"paths": [str(news_dir)]},
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert {k: v for k, v in report.items() if k != "took_ms"} == {
        "added": 1, "updated": 0, "removed": 0, "unchanged": 9, "failed": [], "documents": 13,
        "duplicate_urls": 0,
    }
    hits = writer.get("/search", params={"q": "comet"}).json()["hits"]
    assert [h["title"] for h in hits] == ["Comet tail photographed by amateur astronomers"]
    assert engine.search("comet").total == 1


def test_index_scheme_is_case_insensitive(writer: TestClient, news_dir: Path) -> None:
    response = writer.post("/index", json={"paths": [str(news_dir)]},
                           headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.json()["unchanged"] == 9


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"paths": []}', b'{"paths": "news"}', b'{"paths": [1]}',
     b'{"paths": [""]}', b'{"path": ["news"]}', b'{"paths": ["/no/such/folder"]}',
     b'{"paths": ["a\\u0000b"]}', b"\xff\xfe"],
)
def test_index_refuses_a_bad_body(writer: TestClient, body: bytes) -> None:
    response = writer.post("/index", content=body,
                           headers={"Authorization": f"Bearer {TOKEN}",
                                    "Content-Type": "application/json"})
    assert_error(response, 422, "UsageError")


def test_index_checks_the_token_before_reading_the_body(writer: TestClient) -> None:
    response = writer.post("/index", content=b"x" * (2 << 20))
    assert_error(response, 401, "Unauthorized")


def test_index_refuses_a_huge_body(writer: TestClient) -> None:
    response = writer.post("/index", content=b" " * (2 << 20),
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert_error(response, 413, "ContentTooLarge")


def test_unicode_token(engine: Engine, news_dir: Path) -> None:
    token = "clé-secrète-ünïcode"
    client = TestClient(create_app(engine, token=token))
    good = client.post("/index", json={"paths": [str(news_dir)]},
                       headers={"Authorization": b"Bearer " + token.encode("utf-8")})
    assert good.status_code == 200, good.text
    bad = client.post("/index", json={"paths": [str(news_dir)]},
                      headers={"Authorization": "Bearer clé-secrète-ünïcodé".encode()})
    assert bad.status_code == 401


@pytest.mark.parametrize("token", ["", "   "])
def test_an_empty_token_is_refused(shared_engine: Engine, token: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        create_app(shared_engine, token=token)


# -- the page -------------------------------------------------------------------------------


def test_page_shell(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    html = response.text
    assert '<script src="static/search.js" defer></script>' in html
    assert '<link rel="stylesheet" href="static/search.css">' in html
    assert "<title>Search</title>" in html
    assert "{{" not in html
    assert "http://" not in html and "https://" not in html  # no external assets


def test_page_shell_escapes_the_query(client: TestClient) -> None:
    hostile = '"><script>alert(1)</script>&amp;\'<b>'
    html = client.get("/", params={"q": hostile}).text
    escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;&#x27;&lt;b&gt;"
    assert f'value="{escaped}"' in html
    assert f"<title>{escaped} - Search</title>" in html
    assert "<script>alert(1)" not in html
    assert "<b>" not in html


def test_static_assets(client: TestClient) -> None:
    js = client.get("/static/search.js")
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "innerHTML" in js.text and "history.pushState" in js.text
    css = client.get("/static/search.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    again = client.get("/static/search.css", headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


# -- embedding ------------------------------------------------------------------------------


def test_mounted_in_another_app(shared_engine: Engine) -> None:
    parent = Starlette(routes=[Mount("/find", app=create_app(shared_engine))])
    with TestClient(parent) as client:
        assert client.get("/find/search", params={"q": "lander"}).json()["total"] == 2
        assert client.get("/find/").text.startswith("<!doctype html>")
        assert client.get("/find/static/search.js").status_code == 200
        assert client.get("/find/openapi.json").json()["servers"] == [{"url": "/find"}]
        assert_error(client.get("/find/documents/nope"), 404, "NotFoundError")


def test_concurrent_searches_while_indexing(engine: Engine, news_dir: Path) -> None:
    """Many searches at once, in the thread pool, while another thread commits."""
    app = create_app(engine)
    stop = threading.Event()
    runs = 0

    def index_repeatedly() -> None:
        nonlocal runs
        while not stop.is_set():
            target = news_dir / f"comet-{runs}.md"
            target.write_text(ARTICLE.replace("comet-tail", f"comet-{runs}"), encoding="utf-8")
            engine.index([news_dir])
            runs += 1

    async def searches() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            statuses: list[int] = []
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                batch = await asyncio.gather(*[
                    http.get("/search", params={"q": q})
                    for q in ("comet", "lander", "facial recognition", "", "heatwave") * 4
                ])
                statuses.extend(r.status_code for r in batch)
            return statuses

    writer = threading.Thread(target=index_repeatedly)
    writer.start()
    try:
        statuses = asyncio.run(searches())
    finally:
        stop.set()
        writer.join()
    assert runs >= 1
    assert statuses and set(statuses) == {200}
    assert engine.search("comet").total == runs


# -- schemathesis ---------------------------------------------------------------------------

try:
    import schemathesis
    from hypothesis import HealthCheck, settings
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )
except ModuleNotFoundError:  # only this test needs it

    @pytest.mark.skip(reason="needs schemathesis (pip install -e '.[dev]')")
    def test_schema_no_server_errors() -> None:
        """Skipped."""

else:

    @pytest.fixture(scope="module")
    def api_schema(shared_engine: Engine) -> Any:
        return schemathesis.openapi.from_asgi("/openapi.json", create_app(shared_engine))

    @schemathesis.pytest.from_fixture("api_schema").parametrize()
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def test_schema_no_server_errors(case: Any) -> None:
        """Generated requests for every operation: never a 5xx, always the documented shape."""
        case.call_and_validate(checks=[
            not_a_server_error, status_code_conformance, content_type_conformance,
            response_schema_conformance,
        ])


def test_fixture_corpus_is_unchanged() -> None:
    """The tests above index private copies only."""
    assert not list(NEWS.glob("comet*"))


def test_synonyms_apply_to_a_running_service(writer: TestClient, engine: Engine) -> None:
    assert writer.get("/synonyms").json() == {"synonyms": []}
    assert writer.get("/search?q=rover").json()["total"] == 0
    # Another process (here the library; `search synonyms add` alike) changes the list.
    with Engine(engine.path) as other:
        other.add_synonyms("rover, lander")
    assert writer.get("/synonyms").json() == {
        "synonyms": [{"words": ["rover", "lander"], "to": None}],
    }
    data = writer.get("/search?q=rover").json()
    assert (data["total"], data["synonyms"]) == (2, {"rover": ["rover", "lander"]})
    assert [hit["highlights"]["title"] for hit in data["hits"]] == [
        "Mars <mark>lander</mark> touches down safely",
        "Ardent <mark>lander</mark> prepares for descent",
    ]


def test_serve_builds_type_ahead_tables_as_it_starts(
    shared_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    import searchlib.http as http

    served: list[Any] = []
    warmed = threading.Event()
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(app))
    real_warm_up = http.warm_up

    def warm_up(engine: Engine) -> None:
        real_warm_up(engine)
        warmed.set()

    monkeypatch.setattr(http, "warm_up", warm_up)
    http.serve(shared_engine, port=0)
    assert warmed.wait(30)
    assert len(served) == 1
    # The tables are built: the next suggestion is a look-up.
    assert [c.text for c in shared_engine.suggest("heat", limit=1)] == ["heatwave"]


def test_warm_up_leaves_errors_to_the_requests(tmp_path: Path) -> None:
    from searchlib.http import warm_up

    engine = Engine(tmp_path / "index")
    engine.close()
    warm_up(engine)  # a closed engine: nothing raised, nothing printed
