"""Turn one front-matter file into an :class:`Article` and its :class:`RelatedItem` s.

This module knows the file format and nothing about indexes. It is tolerant where real exports
vary (``topics`` as a string or a list, ``provider`` as a mapping or a string, quoted or unquoted
dates, a byte-order mark, CRLF line ends, stray control characters, missing fields) and strict
where a file cannot be a document: no front matter, broken YAML, neither title nor excerpt, not
UTF-8, too large, or a YAML alias bomb. Every rejection is a :class:`DocumentError` whose message
names the file and the reason in one line.

Example::

    >>> article = parse_text("---\\ntitle: Hello\\nexcerpt: World\\n---\\n", path="a.md")
    >>> article.title, article.topics
    ('Hello', ())
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

from .defaults import DEFAULT_MAX_FILE_BYTES
from .errors import DocumentError

#: Aliases in one front matter beyond this are refused: real exports use none, and a
#: "billion laughs" document needs many.
MAX_YAML_ALIASES = 100

#: Keys that are read into typed fields; every other key is kept in ``Article.extra``.
_KNOWN_KEYS = frozenset(
    {"title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "ampWebUrl",
     "cdnAmpWebUrl", "provider", "topics", "quality", "related"}
)
#: Keys that are never indexed nor kept (DESIGN §2): opaque blobs and image lists.
_DROPPED_KEYS = frozenset({"secured", "images"})

#: Query parameters that only track a click and never change the page.
_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ocid", "cmpid",
     "_ga", "yclid", "twclid", "ref_src", "smid", "cid"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

# YAML refuses C0/C1 control characters other than tab and line ends; real exports contain a
# few (a stray U+0097 in a title). They carry no meaning, so they become spaces.
_YAML_HOSTILE_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)(.*)\Z", re.DOTALL)
_ALIAS_TOKEN = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\[\]{}]+")

try:  # libyaml's loader is ~9x faster than the pure-Python one; use it when built in.
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader that keeps an impossible timestamp (2021-02-30) as text, not a crash."""


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)

#: Deeper nesting than this is refused: libyaml itself crashes on some very deep documents.
MAX_YAML_DEPTH = 64
#: Values (after expanding aliases) a front matter may hold; a news article has a few hundred.
MAX_YAML_VALUES = 100_000
_TOO_DEEP = "YAML front matter is nested too deeply"


@dataclass(frozen=True)
class RelatedItem:
    """An article that another article lists under ``related``."""

    id: str
    url: str
    title: str
    excerpt: str
    provider: str
    published: datetime | None
    quality: int | None


@dataclass(frozen=True)
class Article:
    """One article file, parsed."""

    id: str
    path: str
    url: str
    title: str
    excerpt: str
    body: str
    provider: str
    provider_domain: str
    published: datetime | None
    topics: tuple[str, ...]
    quality: int | None
    related: tuple[RelatedItem, ...] = ()
    #: Front-matter keys searchlib does not interpret, kept as JSON-safe values.
    extra: Mapping[str, Any] = field(default_factory=dict)


def make_id(key: str) -> str:
    """Return a short, stable id for a normalised URL (or other unique key).

    12 base32 characters (60 bits): collisions stay below one in a billion up to ~50k documents.
    """
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:12]


def normalize_url(url: str) -> str:
    """Normalise a URL for de-duplication.

    Lower-cases scheme and host, drops default ports, fragments, tracking parameters
    (``utm_*``, ``fbclid``, ...) and a trailing slash, and sorts the remaining query.

    >>> normalize_url("HTTPS://Example.COM:443/a/?utm_source=x&b=2&a=1#top")
    'https://example.com/a?a=1&b=2'
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.netloc.rsplit('@', 1)[0]}@{host}"
    path = parts.path
    while len(path) > 1 and path != path.rstrip().rstrip("/"):
        path = path.rstrip().rstrip("/")  # "/a /" -> "/a": trailing slashes and spaces alike
    if path == "/":
        path = ""
    if not host and path.startswith("//"):
        # Without a host, "//" would make the path's start read as one next time ("a:////@"
        # would give "a://@", then "a:").
        path = "/" + path.lstrip("/")
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    )
    return urlunsplit((scheme, host, path, urlencode(query), "")).strip()


def parse_file(path: Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Article:
    """Read and parse one article file; raise :class:`DocumentError` naming it on failure."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(name, _too_large(size, max_bytes))
        data = path.read_bytes()
    except DocumentError:
        raise
    except OSError as exc:
        raise DocumentError(name, f"cannot read file: {exc.strerror or exc}") from exc
    return parse_bytes(data, path=name, max_bytes=max_bytes)


def _too_large(size: int, limit: int) -> str:
    return f"file is too large ({size} bytes, the limit is {limit})"


def parse_bytes(data: bytes, *, path: str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Article:
    """Parse the raw bytes of an article file (UTF-8, with or without BOM)."""
    if len(data) > max_bytes:
        raise DocumentError(path, _too_large(len(data), max_bytes))
    skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start + skip
        raise DocumentError(
            path, f"not UTF-8 text (invalid byte 0x{data[at]:02x} at offset {at})"
        ) from exc
    return parse_text(text, path=path)


def parse_text(text: str, *, path: str) -> Article:
    """Parse the text of an article file into an :class:`Article`."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise DocumentError(path, "no front matter (the file must start with a '---' line)")
    if not (match.group(1) or "").strip():
        return _article_from_meta({}, match.group(2).strip(), path)
    meta, body = frontmatter.parse(text, handler=_GuardedYAML(path))
    return _article_from_meta(meta, body.strip(), path)


class _GuardedYAML(YAMLHandler):
    """python-frontmatter's YAML handler, loading with searchlib's guarded loader.

    python-frontmatter splits the file (front matter between ``---`` lines, then the body);
    loading goes through :func:`_load_yaml`, which refuses alias bombs, deep nesting and
    huge documents, reads timestamps leniently, and raises :class:`DocumentError` (with the
    file) for anything that is not a mapping, where python-frontmatter would ignore it.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self, fm: str, **kwargs: object) -> dict[str, Any]:
        # The split leaves the end of the opening "---" line in front: drop it, so that YAML's
        # line numbers count from the file's second line, as error messages say.
        return _load_yaml(fm.removeprefix("\n"), self.path)


def _load_yaml(raw: str, path: str) -> dict[str, Any]:
    raw = _YAML_HOSTILE_CHARS.sub(" ", raw)
    if "&" in raw and len(_ALIAS_TOKEN.findall(raw)) > MAX_YAML_ALIASES:
        raise DocumentError(path, f"YAML front matter uses more than {MAX_YAML_ALIASES} aliases")
    # Nesting cannot be deeper than the brackets opened: most front matter skips the scan.
    if raw.count("[") + raw.count("{") > MAX_YAML_DEPTH and _flow_depth(raw) > MAX_YAML_DEPTH:
        raise DocumentError(path, _TOO_DEEP)
    try:
        meta = yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError(path, f"broken YAML front matter{where}: {problem}") from exc
    except RecursionError as exc:
        raise DocumentError(path, _TOO_DEEP) from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise DocumentError(path, "front matter is not a mapping of keys to values")
    problem = _too_big(meta)
    if problem:
        raise DocumentError(path, problem)
    return meta


def _flow_depth(raw: str) -> int:
    """The deepest nesting of ``[``/``{`` outside quotes (a cheap guard before parsing)."""
    depth = deepest = 0
    quote = ""
    for ch in raw:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}" and depth:
            depth -= 1
        elif ch == "\n":
            quote = ""
    return deepest


def _too_big(meta: dict[str, Any]) -> str:
    """Why ``meta`` is too large or deep once aliases are expanded, or "" when it is fine.

    Aliases make a small document a huge tree of shared values ("billion laughs"); walking it
    with a budget stops after :data:`MAX_YAML_VALUES` values however large it would grow.
    """
    budget = MAX_YAML_VALUES
    stack: list[tuple[Any, int]] = [(meta, 0)]
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            return f"YAML front matter expands to more than {MAX_YAML_VALUES} values"
        if depth > MAX_YAML_DEPTH:
            return _TOO_DEEP
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
            stack.extend((k, depth + 1) for k in value)
        elif isinstance(value, (list, tuple, set)):
            stack.extend((v, depth + 1) for v in value)
    return ""


def _article_from_meta(meta: dict[str, Any], body: str, path: str) -> Article:
    title = _text(meta.get("title"))
    excerpt = _text(meta.get("excerpt"))
    if not title and not excerpt:
        raise DocumentError(path, "no title and no excerpt")
    url = _first_url(meta, ("webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl"))
    provider, domain = _provider(meta.get("provider"))
    article_id = make_id(normalize_url(url)) if url else make_id("file:" + path)
    related = tuple(_related_items(meta.get("related"), exclude_id=article_id))
    extra = {
        str(k): _json_safe(v)
        for k, v in meta.items()
        if str(k) not in _KNOWN_KEYS and str(k) not in _DROPPED_KEYS
    }
    return Article(
        id=article_id,
        path=path,
        url=url,
        title=title,
        excerpt=excerpt,
        body=body,
        provider=provider,
        provider_domain=domain,
        published=parse_datetime(meta.get("publishedDateTime")),
        topics=_topics(meta.get("topics")),
        quality=_int_or_none(meta.get("quality")),
        related=related,
        extra=extra,
    )


def _related_items(value: Any, *, exclude_id: str) -> list[RelatedItem]:
    if not isinstance(value, list):
        return []
    items: dict[str, RelatedItem] = {}
    for raw in value:
        if not isinstance(raw, dict):
            continue
        title, excerpt = _text(raw.get("title")), _text(raw.get("excerpt"))
        if not title and not excerpt:
            continue
        url = _first_url(raw, ("webUrl", "originalUrl", "url", "ampWebUrl"))
        provider, _ = _provider(raw.get("provider"))
        key = normalize_url(url) if url else "title:" + " ".join(title.lower().split())
        item_id = make_id(key)
        if item_id == exclude_id or item_id in items:
            continue  # an article listing itself, or the same URL twice in one list
        items[item_id] = RelatedItem(
            id=item_id,
            url=url,
            title=title,
            excerpt=excerpt,
            provider=provider,
            published=parse_datetime(raw.get("publishedDateTime")),
            quality=_int_or_none(raw.get("quality")),
        )
    return list(items.values())


def parse_datetime(value: Any) -> datetime | None:
    """Return an aware UTC datetime from a YAML value, or None when it is absent or unreadable.

    YAML yields aware datetimes for unquoted ISO timestamps, naive ones when the offset is
    missing (taken as UTC), ``date`` for bare dates and ``str`` for quoted values.
    """
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        try:
            result = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            return None
    else:
        return None
    if result.tzinfo is None:
        return result.replace(tzinfo=UTC)
    try:
        return result.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:30+01:00 is before the first representable moment
        return None


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())


def _first_url(meta: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _provider(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        name, domain = _text(value.get("name")), _text(value.get("domain"))
        return (name or domain), domain
    return _text(value), ""


def _topics(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        raw: list[Any] = value.split(",")
    elif isinstance(value, list):
        raw = value
    else:
        return ()
    seen: dict[str, None] = {}
    for item in raw:
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            continue  # mappings, lists, nulls, booleans and dates are not topic names
        topic = _text(item)
        if topic:
            seen.setdefault(topic, None)
    return tuple(seen)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, float) and math.isfinite(value):
        return round(value)
    return None


def _json_safe(value: Any) -> Any:
    """Convert YAML values into strict JSON ones: dates as ISO text, keys as text, NaN as null.

    Only called on front matter that :func:`_too_big` accepted, so depth and size are bounded.
    """
    if isinstance(value, dict):
        return {str(_json_safe(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)
