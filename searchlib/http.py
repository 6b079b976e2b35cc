"""The HTTP API and the search page: ``create_app(engine)`` returns an ASGI app.

Needs the ``server`` extra (``pip install 'searchlib[server]'``: Starlette and uvicorn).

Example::

    from searchlib import Engine
    from searchlib.http import create_app

    engine = Engine("index", create=False)
    app = create_app(engine)            # run it with uvicorn, or mount it in another app

Endpoints (all JSON but ``/``): ``GET /search``, ``GET /facets/{name}``,
``GET /documents/{id}``, ``GET /documents/{id}/similar``, ``GET /stats``, ``GET /suggest``,
``GET /synonyms``, ``GET /healthz``, ``GET /openapi.json``, the search page at ``GET /``, and
``POST /index`` only when a token is configured. Errors are ``{"error": {"type",
"message"}}`` with the status of the error class (``http_status``). The engine is shared by
every request; its synchronous methods run in Starlette's thread pool. The server's file
paths are left out of every answer unless the app is created with ``show_paths=True``.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .engine import MAX_SUGGEST, Engine
from .errors import NotFoundError, QueryError, SearchlibError, UsageError
from .http_page import SECURITY_HEADERS, Page
from .request import MAX_FACET_SIZE
from .schema import COLLAPSE_MODES, FACETS, FEEDBACK_MODES, KINDS, SORTS, TIMELINE_MODES

logger = logging.getLogger("searchlib.http")

#: The largest ``POST /index`` body read (bytes).
MAX_BODY_BYTES = 1 << 20
_INT = re.compile(r"-?[0-9]{1,9}")
_SINGLE = (
    "q", "kind", "since", "until", "sort", "feedback", "limit", "offset", "facet_size",
    "strict", "timeline", "collapse", "freshness", "freshness_from",
)
#: ``error.type`` of the HTTP-level errors (names fixed here: ``HTTPStatus`` phrases change).
_HTTP_TYPES = {401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed",
               413: "ContentTooLarge"}


def create_app(
    engine: Engine, *, token: str | None = None, show_paths: bool = False
) -> Starlette:
    """An ASGI app serving ``engine``, read-only unless ``token`` is given.

    With a ``token``, ``POST /index`` (body ``{"paths": [...]}``) runs ``engine.index(paths)``
    for requests that carry ``Authorization: Bearer <token>`` (compared in constant time,
    surrounding spaces ignored). Whoever has the token can have any file the server can read
    indexed, and so shown by the API: keep it secret. The app can be run by any ASGI
    server or mounted in a Starlette/FastAPI app (``parent.mount("/search", app)``).

    The index folder (``path`` in ``/stats``) and each document's source file (``path`` in
    ``/documents/{id}``) are the server's business and are left out, unless ``show_paths``.
    """
    if token is not None and not token.strip():
        raise ValueError("the token must not be empty")
    api = _Api(engine, token, show_paths=show_paths)
    page = Page()
    routes = [
        Route("/", page.page, methods=["GET"]),
        Route("/static/{name}", page.asset, methods=["GET"]),
        Route("/search", api.search, methods=["GET"]),
        Route("/facets/{name}", api.facet, methods=["GET"]),
        Route("/documents/{doc_id}", api.document, methods=["GET"]),
        Route("/documents/{doc_id}/similar", api.similar, methods=["GET"]),
        Route("/stats", api.stats, methods=["GET"]),
        Route("/synonyms", api.synonyms, methods=["GET"]),
        Route("/suggest", api.suggest, methods=["GET"]),
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/openapi.json", api.openapi, methods=["GET"]),
    ]
    if token is not None:
        routes.append(Route("/index", api.index, methods=["POST"]))
    return Starlette(
        routes=routes,
        exception_handlers={
            SearchlibError: _searchlib_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )


def serve(
    engine: Engine,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    show_paths: bool = False,
    log_level: str = "info",
) -> None:
    """Run ``create_app(engine, token=token, show_paths=show_paths)`` with uvicorn until
    interrupted.

    Type-ahead's tables are built in the background as the server starts (see
    :func:`warm_up`), so that the first ``/suggest`` does not wait for them.
    """
    import uvicorn

    threading.Thread(target=warm_up, args=(engine,), name="searchlib-warm-up", daemon=True).start()
    uvicorn.run(
        create_app(engine, token=token, show_paths=show_paths), host=host, port=port,
        log_level=log_level, proxy_headers=False, server_header=False,
    )


def warm_up(engine: Engine) -> None:
    """Build what the first requests would otherwise wait for: the Whoosh backend's
    type-ahead tables, read from every stored title (10 s at 100,000 articles, 0.16 s on the
    real corpus). Whatever goes wrong is left for the requests to report: the same call
    fails there, with the API's error, not in a thread nobody reads."""
    with contextlib.suppress(Exception):
        engine.suggest("a")


class _Api:
    """The request handlers, bound to one engine."""

    def __init__(self, engine: Engine, token: str | None, *, show_paths: bool) -> None:
        self.engine = engine
        self._token = token.strip().encode("utf-8") if token is not None else None
        self._show_paths = show_paths

    async def search(self, request: Request) -> Response:
        params = request.query_params
        _check_single(params)
        results = await run_in_threadpool(
            self.engine.search,
            params.get("q", ""),
            topics=params.getlist("topic"),
            providers=params.getlist("provider"),
            kind=params.get("kind") or None,
            since=params.get("since") or None,
            until=params.get("until") or None,
            sort=params.get("sort") or "relevance",  # type: ignore[arg-type]
            limit=_int_param(params, "limit", 10),
            offset=_int_param(params, "offset", 0),
            feedback=params.get("feedback") or "auto",  # type: ignore[arg-type]
            facet_size=_int_param(params, "facet_size", 10),
            strict=_bool_param(params, "strict"),
            timeline=params.get("timeline") or None,
            collapse=params.get("collapse") or None,
            freshness=params.get("freshness") or None,
            freshness_from=params.get("freshness_from") or None,
        )
        return _json(results.to_dict())

    async def facet(self, request: Request) -> Response:
        params = request.query_params
        _check_single(params)
        # No limit (absent or empty) lists every value.
        limit = _int_param(params, "limit", 0) if params.get("limit", "").strip() else None
        facet = await run_in_threadpool(
            self.engine.facet,
            request.path_params["name"],
            params.get("q", ""),
            topics=params.getlist("topic"),
            providers=params.getlist("provider"),
            kind=params.get("kind") or None,
            since=params.get("since") or None,
            until=params.get("until") or None,
            sort=params.get("sort") or "relevance",  # type: ignore[arg-type]
            feedback=params.get("feedback") or "auto",  # type: ignore[arg-type]
            strict=_bool_param(params, "strict"),
            limit=limit,
        )
        return _json({"name": facet.name, **facet.to_dict()})

    async def document(self, request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        hit = await run_in_threadpool(_not_found_without_path(self.engine.get), doc_id)
        return _json(self._paths_removed(hit.to_dict()))

    async def similar(self, request: Request) -> Response:
        params = request.query_params
        _check_single(params)
        doc_id = request.path_params["doc_id"]
        results = await run_in_threadpool(
            _not_found_without_path(self.engine.similar), doc_id,
            limit=_int_param(params, "limit", 10), offset=_int_param(params, "offset", 0),
        )
        return _json(results.to_dict())

    async def stats(self, request: Request) -> Response:
        stats = await run_in_threadpool(self.engine.stats)
        return _json(self._paths_removed(stats.to_dict()))

    async def suggest(self, request: Request) -> Response:
        params = request.query_params
        _check_single(params)
        text = params.get("q", "")
        found = await run_in_threadpool(
            self.engine.suggest, text, limit=_int_param(params, "limit", 8)
        )
        return _json({"prefix": text, "suggestions": [c.to_dict() for c in found]})

    async def synonyms(self, request: Request) -> Response:
        synonyms = await run_in_threadpool(self.engine.synonyms)
        return _json({"synonyms": [rule.to_dict() for rule in synonyms.rules]})

    async def healthz(self, request: Request) -> Response:
        try:
            self.engine.backend  # noqa: B018 - raises once the engine is closed
        except UsageError:
            return _error(503, "Unavailable", "the search engine is closed")
        return _json({"status": "ok"})

    async def openapi(self, request: Request) -> Response:
        root = request.scope.get("root_path", "") or "/"
        return _json(openapi_schema(
            with_index=self._token is not None, server_url=root, show_paths=self._show_paths
        ))

    async def index(self, request: Request) -> Response:
        self._authorize(request)
        paths = _index_paths(await _read_body(request))
        report = await run_in_threadpool(self.engine.index, paths)
        return _json(report.to_dict())

    def _paths_removed(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` without its ``path`` (a folder or file on the server), unless shown."""
        if not self._show_paths:
            data.pop("path", None)
        return data

    def _authorize(self, request: Request) -> None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # Headers arrive decoded as latin-1: encode back to the bytes the client sent.
        offered = given.strip().encode("latin-1", "replace")
        expected = self._token or b""
        if not (scheme.lower() == "bearer" and hmac.compare_digest(offered, expected)):
            client = request.client.host if request.client else "?"
            logger.warning("refused POST /index from %s: missing or wrong bearer token", client)
            raise HTTPException(
                401, "send the token as 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )


# -- parameters --------------------------------------------------------------------------------


def _check_single(params: QueryParams) -> None:
    for name in _SINGLE:
        if len(params.getlist(name)) > 1:
            raise UsageError(f"give the parameter {name!r} once, not several times")


def _int_param(params: QueryParams, name: str, default: int) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not _INT.fullmatch(value):
        raise UsageError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def _bool_param(params: QueryParams, name: str) -> bool:
    """``true``/``false`` (or ``1``/``0``, any letter case); empty or absent is false."""
    value = params.get(name, "").strip().lower()
    if value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise UsageError(f"{name} must be true or false, not {params.get(name)!r}")


async def _read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, f"the body must be at most {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _index_paths(body: bytes) -> list[str]:
    shape = 'the body must be a JSON object {"paths": ["file or folder", ...]}'
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{shape}: {exc}") from None
    paths = data.get("paths") if isinstance(data, dict) else None
    if (
        not isinstance(paths, list) or not paths
        or not all(isinstance(p, str) and p and "\x00" not in p for p in paths)
    ):
        raise UsageError(shape)
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or folder on the server: {missing[0]}")
    return list(paths)


def _not_found_without_path(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, with a ``NotFoundError`` message that does not name the server's folders."""

    def call(doc_id: str, **kwargs: Any) -> Any:
        try:
            return method(doc_id, **kwargs)
        except NotFoundError:
            raise NotFoundError(f"no document with id {doc_id!r}") from None

    return call


# -- responses and errors ----------------------------------------------------------------------


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def _error(
    status: int,
    kind: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    return _json({"error": {"type": kind, "message": message, **(extra or {})}}, status, headers)


async def _searchlib_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SearchlibError)
    status = exc.http_status
    if status >= 500:  # an index problem: the operator's business, not the client's
        logger.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
        return _error(status, type(exc).__name__, "the search index cannot be used right now")
    extra = {}
    if isinstance(exc, QueryError) and exc.position is not None:
        extra["position"] = exc.position
    return _error(status, type(exc).__name__, str(exc), extra=extra)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404 and exc.detail == HTTPStatus.NOT_FOUND.phrase:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    kind = _HTTP_TYPES.get(status) or HTTPStatus(status).phrase.replace(" ", "")
    return _error(status, kind, message, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Starlette logs the traceback (the server's log); the client gets no stack trace.
    return _error(500, "InternalError", "an unexpected error occurred; see the server log")



# -- OpenAPI -----------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], *, extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "required": list(props), "properties": props,
            "additionalProperties": extra}


def _optional(schema: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with more properties that are present only when asked for."""
    return {**schema, "properties": {**schema["properties"], **props}}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


_STR: dict[str, Any] = {"type": "string"}
_STRS: dict[str, Any] = {"type": "array", "items": _STR}


def _param(name: str, schema: dict[str, Any], description: str, *, where: str = "query",
           many: bool = False) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "required": where == "path",
                             "description": description, "schema": schema}
    if many:
        param.update(schema={"type": "array", "items": schema}, style="form", explode=True)
    return param


def _responses(ok: str, description: str, *errors: int) -> dict[str, Any]:
    error = {"description": "an error", "content": {"application/json": {"schema": _ref("Error")}}}
    out: dict[str, Any] = {
        "200": {"description": description, "content": {"application/json": {"schema": _ref(ok)}}}
    }
    for status in errors:
        out[str(status)] = {**error, "description": HTTPStatus(status).phrase}
    out["500"] = {**error, "description": "the index cannot be used (never for bad input)"}
    return out


_FACET_SIZE = _param(
    "facet_size", {"type": "integer", "minimum": 1, "maximum": MAX_FACET_SIZE, "default": 10},
    f"values per facet (1-{MAX_FACET_SIZE:,}); every value of one facet: GET /facets/{{name}}",
)
_LIMIT = _param("limit", {"type": "integer", "minimum": 0, "maximum": 1000, "default": 10},
                "hits per page (0-1000)")
_OFFSET = _param("offset", {"type": "integer", "minimum": 0, "maximum": 100_000, "default": 0},
                 "hits to skip (0-100,000)")
_STRICT = _param(
    "strict", {"type": "boolean", "default": False},
    "refuse a query that cannot be parsed, or is over 1,000 characters, with a 400 QueryError "
    "giving its position, instead of reading it leniently",
)
_TIMELINE = _param(
    "timeline", {"enum": list(TIMELINE_MODES)},
    "add facets.published, a date histogram of the matches by day, week or month (auto: "
    "chosen from their span), counted under every filter but the dates",
)
_COLLAPSE = _param(
    "collapse", {"enum": list(COLLAPSE_MODES)},
    "story: one hit per story (an article and its related items), its best, with its "
    "coverage; offset and limit count stories, total_stories is beside total",
)
_FRESHNESS = [
    _param("freshness", {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*[smhdw]\s*$"},
           "favour recent documents: relevance times a decay on age that halves its "
           "decaying half every this long (12h, 7d, 2w) and never goes below 0.5; only "
           "with sort=relevance. Off when absent"),
    _param("freshness_from", {"type": "string", "default": "now"},
           "where ages count from, with freshness: now, newest (the index's newest "
           "document, for archives) or a date (YYYY-MM-DD or ISO 8601)"),
]
_ID = _param("doc_id", {"type": "string", "minLength": 1}, "a document id", where="path")

_HIT: dict[str, Any] = {
    "rank": {"type": "integer"}, "id": _STR, "kind": {"enum": list(KINDS)},
    "score": _nullable("number"), "title": _STR, "excerpt": _STR, "url": _STR,
    "provider": _STR, "published": _nullable("string"), "topics": _STRS, "parents": _STRS,
    "quality": _nullable("integer"),
    "highlights": {"type": "object", "additionalProperties": _STR,
                   "description": "matched words in <mark>, all else HTML-escaped"},
}
_FACET_VALUES: dict[str, Any] = {
    "values": {"type": "array", "items": _ref("FacetValue"),
               "description": "by count, highest first, then by value; selected values last"
                              " when cut"},
    "truncated": {"type": "boolean", "description": "more values exist than are listed"},
}
_COVERAGE = _obj({
    "story": {"type": "string", "description": "the story's id: its article's"},
    "documents": {"type": "integer", "description": "the story's documents that match"},
    "providers": {"type": "integer", "description": "their providers"},
    "top": {"type": "array", "description": "the best few of them besides this hit",
            "items": _obj({"id": _STR, "kind": {"enum": list(KINDS)}, "title": _STR,
                           "url": _STR, "provider": _STR,
                           "published": _nullable("string")})},
})
_SCHEMAS: dict[str, Any] = {
    "Hit": _optional(_obj(_HIT, extra=True), {
        "coverage": {**_COVERAGE, "description": "with collapse=story: who covers the story"},
    }),
    "FacetValue": _optional(_obj({"value": _STR, "count": {"type": "integer"},
                                  "selected": {"type": "boolean"}}), {
        "since": {"type": "string", "format": "date",
                  "description": "a timeline bucket's first day (its date filter)"},
        "until": {"type": "string", "format": "date",
                  "description": "a timeline bucket's last day, inclusive"},
    }),
    "Facet": _optional(_obj(_FACET_VALUES), {
        "interval": {"oneOf": [{"type": "null"}, {"enum": ["day", "week", "month"]}],
                     "description": "the timeline's bucket size (only the published facet, "
                                    "with timeline): its values are its buckets, oldest "
                                    "first, empty ones between the first and the last "
                                    "included"},
    }),
    "FacetValues": _obj({"name": {"enum": list(FACETS)}, **_FACET_VALUES}),
    "SearchResults": _optional(_obj({
        "query": _STR, "total": {"type": "integer"}, "offset": {"type": "integer"},
        "limit": {"type": "integer"}, "took_ms": {"type": "number"},
        "hits": {"type": "array", "items": _ref("Hit")},
        "facets": {"type": "object", "additionalProperties": _ref("Facet")},
        "suggestion": _nullable("string"),
        "feedback": {"type": "array", "items": _STR,
                     "description": "words pseudo-relevance feedback added to a long query"},
        "relaxed": {"type": "boolean",
                    "description": "no result had every word: results with any word are shown"},
        "missing": {"type": "array", "items": _STR,
                    "description": "with relaxed: typed words that no hit on the page contains"},
        "empty_filters": {
            "oneOf": [{"type": "null"}, _obj({
                "filters": _STRS, "total_without": {"type": "integer"}})],
            "description": "the filters that emptied a search, and its total without them",
        },
        "notices": {"type": "array", "items": _obj({"code": _STR, "message": _STR}),
                    "description": "what was reinterpreted to run the query"},
        "synonyms": {"type": "object", "additionalProperties": _STRS,
                     "description": "typed words and phrases that synonyms expanded, each "
                                    "with the synonyms it was searched as"},
    }), {
        "total_stories": {"type": "integer",
                          "description": "with collapse=story: the stories the matches make "
                                         "(total and the facets count documents)"},
    }),
    "Suggestions": _obj({
        "prefix": _STR,
        "suggestions": {"type": "array", "items": _obj({
            "text": _STR, "documents": {"type": "integer"},
        }), "description": "title words and phrases starting with the prefix, by the "
                           "documents whose title has them, most first"},
    }),
    "Synonyms": _obj({"synonyms": {"type": "array", "items": _obj({
        "words": _STRS,
        "to": {"oneOf": [{"type": "null"}, _STRS],
               "description": "null: the words are equivalent; else they are searched as "
                              "these (one way)"},
    })}}),
    "Health": _obj({"status": {"const": "ok"}}),
    "IndexReport": _obj({
        "added": {"type": "integer"}, "updated": {"type": "integer"},
        "removed": {"type": "integer"}, "unchanged": {"type": "integer"},
        "failed": {"type": "array", "items": _obj({"path": _STR, "error": _STR})},
        "documents": {"type": "integer"}, "took_ms": {"type": "number"},
        "duplicate_urls": {"type": "integer",
                           "description": "files whose article URL another file gives"},
    }),
    "Error": _obj({"error": {
        "type": "object", "required": ["type", "message"],
        "properties": {"type": _STR, "message": _STR, "position": {"type": "integer"}},
    }}),
}


def _path_schemas(show_paths: bool) -> dict[str, Any]:
    """``Stats`` and ``Document``, with the server's ``path`` only when the app shows it."""
    path = {"path": _STR} if show_paths else {}
    return {
        "Stats": _obj({
            **path, "documents": {"type": "integer"},
            "by_kind": {"type": "object", "additionalProperties": {"type": "integer"}},
            "files": {"type": "integer"}, "topics": {"type": "integer"},
            "providers": {"type": "integer"}, "size_bytes": {"type": "integer"},
            "language": _STR, "schema_version": {"type": "integer"}, "backend": _STR,
        }),
        "Document": _obj({
            **_HIT, "body": _STR, **path, "provider_domain": _STR, "related": _STRS,
            "extra": {"type": "object", "description": "other front matter, as written"},
        }),
    }


def openapi_schema(
    *, with_index: bool, server_url: str = "/", show_paths: bool = False
) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API (``POST /index`` only ``with_index``; the
    server's paths in ``Stats`` and ``Document`` only with ``show_paths``)."""
    query_params = [
        _param("q", {"type": "string", "default": ""},
               "the query (query language of the README); empty lists everything. Syntax "
               "that cannot be parsed is read as plain words and a query over 1,000 "
               "characters is searched by its first words, as `notices` says (unless strict)"),
        _param("topic", _STR, "only these topics (OR-ed)", many=True),
        _param("provider", _STR, "only these providers (OR-ed)", many=True),
        _param("kind", {"enum": list(KINDS)}, "only articles or related items"),
        _param("since", _STR, "from this date: YYYY, YYYY-MM, YYYY-MM-DD or ISO 8601 (UTC)"),
        _param("until", _STR, "up to this date, inclusive"),
        _param("sort", {"enum": list(SORTS),
                        "default": "relevance"}, "result order"),
        _param("feedback", {"enum": list(FEEDBACK_MODES), "default": "auto"},
               "expand the query with words of its top documents (RM3): auto = queries of "
               "more than 3 words ranked by relevance"),
    ]
    facet_params = [
        _param("name", {"enum": list(FACETS)}, "the facet", where="path"),
        *query_params,
        _STRICT,
        _param("limit", {"type": "integer", "minimum": 1},
               "only the values with the most matches (selected values are always listed); "
               "empty or absent: every value"),
    ]
    paths: dict[str, Any] = {
        "/search": {"get": {
            "summary": "Search: ranked hits with highlights and disjunctive facet counts",
            "operationId": "search",
            "parameters": [
                *query_params, _STRICT, _LIMIT, _OFFSET, _FACET_SIZE, _TIMELINE, _COLLAPSE,
                *_FRESHNESS,
            ],
            "responses": _responses("SearchResults", "a page of results", 400, 422),
        }},
        "/facets/{name}": {"get": {
            "summary": "Every value of one facet with its count, for a query and filters",
            "description": "The counts of GET /search with the same parameters, over all its "
                           "matches; the facet's own filter does not narrow them.",
            "operationId": "facet", "parameters": facet_params,
            "responses": _responses("FacetValues", "the facet's values", 400, 422),
        }},
        "/documents/{doc_id}": {"get": {
            "summary": "One document with every stored field", "operationId": "getDocument",
            "parameters": [_ID], "responses": _responses("Document", "the document", 404),
        }},
        "/documents/{doc_id}/similar": {"get": {
            "summary": "Documents like this one (never itself)", "operationId": "similar",
            "parameters": [_ID, _LIMIT, _OFFSET],
            "responses": _responses("SearchResults", "a page of results", 404, 422),
        }},
        "/stats": {"get": {"summary": "What the index holds", "operationId": "stats",
                           "responses": _responses("Stats", "index statistics")}},
        "/suggest": {"get": {
            "summary": "Type-ahead: words and two-word phrases of titles starting with q",
            "description": "Not a search: a look-up in the words and phrases of titles (case "
                           "and accents folded), weighted by the documents whose title has "
                           "them. A q ending in a space completes to phrases only.",
            "operationId": "suggest",
            "parameters": [
                _param("q", {"type": "string", "default": ""},
                       "what the user typed so far; empty gives no suggestions"),
                _param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_SUGGEST,
                                 "default": 8}, "the most suggestions to return"),
            ],
            "responses": _responses("Suggestions", "the suggestions", 422),
        }},
        "/synonyms": {"get": {
            "summary": "The index's synonym rules (Solr's a, b and a => b), applied at query "
                       "time", "operationId": "synonyms",
            "responses": _responses("Synonyms", "the rules, in the order of the list"),
        }},
        "/healthz": {"get": {"summary": "Liveness", "operationId": "health",
                             "responses": _responses("Health", "the service is up", 503)}},
    }
    components: dict[str, Any] = {"schemas": {**_SCHEMAS, **_path_schemas(show_paths)}}
    if with_index:
        body = _obj({"paths": {**_STRS, "minItems": 1}})
        paths["/index"] = {"post": {
            "summary": "Index files and folders on the server (needs the bearer token)",
            "operationId": "index", "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": _responses("IndexReport", "what the run did", 401, 413, 422),
        }}
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "searchlib", "version": _version(),
                 "description": "Full-text search over news articles."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": components,
    }


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("searchlib")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"
