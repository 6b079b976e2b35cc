"""The search page of the HTTP API: an HTML shell and its script and style sheet.

The files live in ``searchlib/static`` (no external assets: the page works offline). The server
fills only the search box and the title (HTML-escaped); ``search.js`` does the rest from
``GET search``, inserting as HTML nothing but the ``<mark>`` of the API's ``highlights``.
"""

from __future__ import annotations

import hashlib
import html
from importlib import resources

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

#: Headers on every response of the app.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
#: The page runs only its own script and style sheet and talks only to its own origin.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
#: The page's files in ``searchlib/static`` and their media types.
ASSET_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "search.js": "text/javascript; charset=utf-8",
    "search.css": "text/css; charset=utf-8",
}


def page_shell(template: str, query: str) -> str:
    """The page's HTML with ``query`` (HTML-escaped) in the search box and the title."""
    escaped = html.escape(query, quote=True)
    title = f"{escaped} - Search" if query.strip() else "Search"
    return template.replace("{{title}}", title).replace("{{query}}", escaped)


class Page:
    """Handlers for ``GET /`` and ``GET /static/{name}``; the files are read once."""

    def __init__(self) -> None:
        folder = resources.files("searchlib") / "static"
        self._assets: dict[str, tuple[bytes, str]] = {}
        for name in ASSET_TYPES:
            data = (folder / name).read_bytes()
            self._assets[name] = (data, '"' + hashlib.sha256(data).hexdigest()[:16] + '"')
        self._shell = self._assets.pop("index.html")[0].decode("utf-8")

    async def page(self, request: Request) -> Response:
        """The search page; the URL's query string is its state."""
        body = page_shell(self._shell, request.query_params.get("q", ""))
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": PAGE_CSP,
                   "Cache-Control": "no-cache"}
        return Response(body, media_type=ASSET_TYPES["index.html"], headers=headers)

    async def asset(self, request: Request) -> Response:
        """``search.js`` or ``search.css``, with an ETag."""
        name = request.path_params["name"]
        if name not in self._assets:
            raise HTTPException(404, f"no static file {name!r}")
        data, etag = self._assets[name]
        headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(data, media_type=ASSET_TYPES[name], headers=headers)
