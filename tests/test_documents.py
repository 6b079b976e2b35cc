"""Tests for searchlib.documents: exact articles, exact rejections, and parser properties.

Every input is built inline; nothing here reads the shared corpora.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import doctest
import json
import os
import re
import resource
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import searchlib.documents
from searchlib.documents import (
    MAX_YAML_ALIASES,
    Article,
    RelatedItem,
    make_id,
    normalize_url,
    parse_bytes,
    parse_datetime,
    parse_file,
    parse_text,
)
from searchlib.errors import DocumentError, SearchlibError


def doc(*lines: str, body: str = "") -> str:
    """A front-matter file made of ``lines`` of YAML, then ``body``."""
    return "---\n" + "".join(line + "\n" for line in lines) + "---\n" + body


def parse(*lines: str, body: str = "") -> Article:
    return parse_text(doc(*lines, body=body), path="x.md")


def rejection(text: str) -> str:
    with pytest.raises(DocumentError) as info:
        parse_text(text, path="x.md")
    return str(info.value)


def minimal(**fields: Any) -> Article:
    """The article a file with only a title yields, with ``fields`` changed."""
    base: dict[str, Any] = {
        "id": make_id("file:x.md"),
        "path": "x.md",
        "url": "",
        "title": "T",
        "excerpt": "",
        "body": "",
        "provider": "",
        "provider_domain": "",
        "published": None,
        "topics": (),
        "quality": None,
        "related": (),
        "extra": {},
    }
    base.update(fields)
    return Article(**base)


# A file in the real export format (all values invented for the test).
FULL = """\
---
category: news
title: "Council   approves new\tcycling lanes"
excerpt: "The vote on Monday adds lanes before\u0097first."
publishedDateTime: 2022-03-14T09:30:00Z
originalUrl: "https://news.example.org/2022/03/cycling-lanes/"
webUrl: "https://News.Example.org/2022/03/cycling-lanes/?utm_source=feed&utm_medium=rss"
type: article
quality: 71
heat: 3
published: false
secured: "c2VjcmV0IGJsb2I="

provider:
  name: Example News
  domain: news.example.org

topics:
  - Transport
  - City Council

images:
  - url: "https://news.example.org/img/lanes.jpg"
    width: 800
    height: 600
    isCached: true

related:
  - title: "Lanes planned for the old town"
    excerpt: "Work starts in the spring."
    publishedDateTime: 2022-03-10T16:45:00Z
    webUrl: "https://other.example.com/2022/03/10/lanes/"
    ampWebUrl: "https://other.example.com/2022/03/10/lanes/amp/"
    type: article
    provider:
      name: Other
      domain: other.example.com
    quality: 64
    images:
      - url: "https://other.example.com/img.jpg"
        width: 1920
        height: 1080
  - title: "Residents debate parking changes"
    excerpt: "Shops ask for delivery bays."
    publishedDateTime: 2022-03-12T08:05:00Z
    webUrl: "https://third.example.net/news/parking/"
    provider:
      name: Third
      domain: third.example.net
    quality: 52
---

The body of the article.

"""


def test_full_article_is_parsed_exactly() -> None:
    assert parse_text(FULL, path="news/000.md") == Article(
        id=make_id("https://news.example.org/2022/03/cycling-lanes"),
        path="news/000.md",
        url="https://News.Example.org/2022/03/cycling-lanes/?utm_source=feed&utm_medium=rss",
        title="Council approves new cycling lanes",
        excerpt="The vote on Monday adds lanes before first.",
        body="The body of the article.",
        provider="Example News",
        provider_domain="news.example.org",
        published=datetime(2022, 3, 14, 9, 30, tzinfo=UTC),
        topics=("Transport", "City Council"),
        quality=71,
        related=(
            RelatedItem(
                id=make_id("https://other.example.com/2022/03/10/lanes"),
                url="https://other.example.com/2022/03/10/lanes/",
                title="Lanes planned for the old town",
                excerpt="Work starts in the spring.",
                provider="Other",
                published=datetime(2022, 3, 10, 16, 45, tzinfo=UTC),
                quality=64,
            ),
            RelatedItem(
                id=make_id("https://third.example.net/news/parking"),
                url="https://third.example.net/news/parking/",
                title="Residents debate parking changes",
                excerpt="Shops ask for delivery bays.",
                provider="Third",
                published=datetime(2022, 3, 12, 8, 5, tzinfo=UTC),
                quality=52,
            ),
        ),
        extra={"category": "news", "type": "article", "heat": 3, "published": False},
    )


def test_module_doctests_pass() -> None:
    result = doctest.testmod(searchlib.documents)
    assert (result.failed, result.attempted) == (0, 3)


def test_document_error_carries_path_and_reason() -> None:
    with pytest.raises(DocumentError) as info:
        parse_text("no front matter here", path="dir/a.md")
    assert isinstance(info.value, SearchlibError)
    assert (info.value.path, info.value.reason) == (
        "dir/a.md",
        "no front matter (the file must start with a '---' line)",
    )
    assert str(info.value) == "dir/a.md: no front matter (the file must start with a '---' line)"


# --- missing fields ---------------------------------------------------------------------------


def test_title_only_leaves_every_other_field_empty() -> None:
    assert parse("title: T") == minimal()


def test_excerpt_without_title_is_enough() -> None:
    assert parse("excerpt: Only   an excerpt") == minimal(title="", excerpt="Only an excerpt")


def test_without_url_the_id_comes_from_the_path() -> None:
    a = parse_text(doc("title: T"), path="a/b.md")
    b = parse_text(doc("title: T"), path="a/c.md")
    assert (a.id, b.id) == (make_id("file:a/b.md"), make_id("file:a/c.md"))
    assert a.id != b.id


@pytest.mark.parametrize(
    ("lines", "url"),
    [
        (
            ["webUrl: https://w.example/a", "originalUrl: https://o.example/a",
             "ampWebUrl: https://amp.example/a", "cdnAmpWebUrl: https://cdn.example/a"],
            "https://w.example/a",
        ),
        (["originalUrl: https://o.example/a", "ampWebUrl: https://amp.example/a"],
         "https://o.example/a"),
        (["ampWebUrl: https://amp.example/a", "cdnAmpWebUrl: https://cdn.example/a"],
         "https://amp.example/a"),
        (["cdnAmpWebUrl: https://cdn.example/a"], "https://cdn.example/a"),
        (["webUrl: '   '", "originalUrl: '  https://o.example/a  '"], "https://o.example/a"),
        (["webUrl: 42", "originalUrl: https://o.example/a"], "https://o.example/a"),
        (["webUrl: [https://w.example/a]"], ""),
    ],
)
def test_url_is_the_first_usable_url_key(lines: list[str], url: str) -> None:
    article = parse("title: T", *lines)
    assert article.url == url
    assert article.id == (make_id(normalize_url(url)) if url else make_id("file:x.md"))


def test_id_ignores_tracking_parameters_host_case_and_trailing_slash() -> None:
    a = parse("title: T", "webUrl: https://Example.COM/a/b/?utm_source=x&fbclid=1&gclid=2#top")
    b = parse("title: T", "webUrl: https://example.com/a/b")
    assert a.id == b.id == make_id("https://example.com/a/b")
    assert a.url == "https://Example.COM/a/b/?utm_source=x&fbclid=1&gclid=2#top"


# --- title, excerpt and body -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "title"),
    [
        ("'  Spaced \t out  '", "Spaced out"),
        ("|\n  two\n  lines", "two lines"),
        ("2021", "2021"),
        ("3.5", "3.5"),
        ("true", "True"),
        ("'x'", "x"),
    ],
)
def test_title_is_whitespace_normalised_text(value: str, title: str) -> None:
    assert parse(f"title: {value}").title == title


def test_body_after_the_front_matter_is_kept_stripped() -> None:
    article = parse("title: T", body="\n\n  First line.\n\nSecond --- line.\n---\n\n  ")
    assert article.body == "First line.\n\nSecond --- line.\n---"


def test_closing_line_may_end_the_file_without_newline() -> None:
    assert parse_text("---\ntitle: T\n---", path="x.md") == minimal()


def test_delimiter_lines_may_have_trailing_blanks() -> None:
    assert parse_text("--- \t\ntitle: T\n---  \nbody", path="x.md") == minimal(body="body")


# --- BOM, CRLF, control characters ------------------------------------------------------------


def test_bom_in_text_is_ignored() -> None:
    assert parse_text("\ufeff" + doc("title: T", body="b"), path="x.md") == minimal(body="b")


def test_bom_in_bytes_is_ignored() -> None:
    data = b"\xef\xbb\xbf" + doc("title: Caf\u00e9", body="b").encode("utf-8")
    assert parse_bytes(data, path="x.md") == minimal(title="Caf\u00e9", body="b")


def test_crlf_line_ends_are_accepted() -> None:
    text = (
        "---\r\ntitle: T\r\nexcerpt: E\r\ntopics:\r\n  - A\r\n  - B\r\n"
        "---\r\nline 1\r\nline 2\r\n"
    )
    assert parse_text(text, path="x.md") == minimal(
        excerpt="E", topics=("A", "B"), body="line 1\nline 2"
    )


def test_bare_cr_line_ends_are_accepted() -> None:
    text = "---\rtitle: T\rexcerpt: E\r---\rline 1\rline 2\r"
    assert parse_text(text, path="x.md") == minimal(excerpt="E", body="line 1\nline 2")


@pytest.mark.parametrize("char", ["\u0097", "\x00", "\x08", "\x1b", "\x7f", "\x9f", "\ufffe"])
def test_stray_control_characters_in_a_quoted_title_become_spaces(char: str) -> None:
    assert parse(f'title: "China{char}s court"').title == "China s court"


def test_stray_control_character_in_a_plain_title_becomes_a_space() -> None:
    assert parse("title: China\u0097s court").title == "China s court"


def test_control_characters_in_the_body_are_left_alone() -> None:
    assert parse("title: T", body="a\u0097b").body == "a\u0097b"


# --- topics ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "topics"),
    [
        (["topics: AI"], ("AI",)),
        (["topics: '  Computer   Vision  '"], ("Computer Vision",)),
        (["topics: AI, Computer Vision,AI ,  , Robots"], ("AI", "Computer Vision", "Robots")),
        (["topics: [AI, Computer Vision]"], ("AI", "Computer Vision")),
        (["topics:", "  - AI", "  - Robots", "  - AI", "  - ' AI '"], ("AI", "Robots")),
        (["topics: [AI, null, [x, y], {a: b}, '', Robots]"], ("AI", "Robots")),
        (["topics: []"], ()),
        (["topics: ''"], ()),
        (["topics:"], ()),
        (["topics: {AI: 1}"], ()),
        (["topics: 42"], ()),
        ([], ()),
    ],
)
def test_topics_as_string_or_list(lines: list[str], topics: tuple[str, ...]) -> None:
    assert parse("title: T", *lines).topics == topics


def test_number_topics_are_kept_as_text_and_other_scalars_dropped() -> None:
    # A topic named "2021" is plausible; booleans and dates are not topic names.
    assert parse("title: T", "topics: [AI, 2021, true, 1.5, 2022-03-14]").topics == (
        "AI", "2021", "1.5"
    )


# --- provider ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "provider", "domain"),
    [
        (["provider:", "  name: Jurist", "  domain: jurist.org"], "Jurist", "jurist.org"),
        (["provider: {domain: jurist.org}"], "jurist.org", "jurist.org"),
        (["provider: {name: '', domain: jurist.org}"], "jurist.org", "jurist.org"),
        (["provider: {name: Jurist}"], "Jurist", ""),
        (["provider: {name: '  The   Jurist '}"], "The Jurist", ""),
        (["provider: {}"], "", ""),
        (["provider: Jurist"], "Jurist", ""),
        (["provider: '  Jurist  News '"], "Jurist News", ""),
        (["provider: [Jurist]"], "", ""),
        (["provider:"], "", ""),
        ([], "", ""),
    ],
)
def test_provider_as_mapping_or_string(lines: list[str], provider: str, domain: str) -> None:
    article = parse("title: T", *lines)
    assert (article.provider, article.provider_domain) == (provider, domain)


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "published"),
    [
        ("2022-03-14T09:30:00Z", datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        ("2022-03-14T11:30:00+02:00", datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        ("2022-03-14 09:30:00", datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        ("2022-03-14T09:30:00.250000Z", datetime(2022, 3, 14, 9, 30, 0, 250000, tzinfo=UTC)),
        ("2022-03-14", datetime(2022, 3, 14, tzinfo=UTC)),
        ("'2022-03-14T11:30:00+02:00'", datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        ("'2022-03-14T05:30:00-04:00'", datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        ("'2022-03-14T09:30:00Z'", datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        ("'2022-03-14 09:30:00'", datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        ("' 2022-03-14 '", datetime(2022, 3, 14, tzinfo=UTC)),
        ("'yesterday'", None),
        ("'2021-13-01'", None),
        ("''", None),
        ("", None),
        ("20210801", None),
        ("[2022-03-14]", None),
        ("true", None),
    ],
)
def test_published_date_forms(value: str, published: datetime | None) -> None:
    article = parse("title: T", f"publishedDateTime: {value}")
    assert article.published == published
    if published is not None:
        assert article.published is not None
        assert article.published.tzinfo is UTC


def test_missing_date_is_none() -> None:
    assert parse("title: T").published is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2022, 3, 14, 11, 30, tzinfo=timezone(timedelta(hours=2))),
         datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        (datetime(2022, 3, 14, 9, 30), datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        (date(2022, 3, 14), datetime(2022, 3, 14, tzinfo=UTC)),
        ("2022-03-14T11:30:00+02:00", datetime(2022, 3, 14, 9, 30, tzinfo=UTC)),
        ("2022-03-14", datetime(2022, 3, 14, tzinfo=UTC)),
        ("not a date", None),
        ("   ", None),
        ("", None),
        (None, None),
        (1647250200, None),
        (1647250200.0, None),
        (["2022-03-14"], None),
    ],
)
def test_parse_datetime(value: Any, expected: datetime | None) -> None:
    result = parse_datetime(value)
    assert result == expected
    if expected is not None:
        assert result is not None
        assert result.tzinfo is UTC


@pytest.mark.parametrize("value", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_parse_datetime_out_of_range_after_utc_conversion_is_none(value: str) -> None:
    assert parse_datetime(value) is None


@pytest.mark.parametrize("value", ["2021-13-01", "2021-02-30T10:00:00Z"])
def test_unquoted_impossible_date_is_tolerated(value: str) -> None:
    assert parse("title: T", f"publishedDateTime: {value}") == minimal()


def test_unquoted_date_out_of_range_after_utc_conversion_is_none() -> None:
    assert parse("title: T", "publishedDateTime: 9999-12-31T23:00:00-05:00") == minimal()


# --- quality -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "quality"),
    [
        ("46", 46),
        ("-1", -1),
        ("0", 0),
        ("46.6", 47),
        ("46.4", 46),
        ("'59'", 59),
        ("' 58.7 '", 59),
        ("'1e2'", 100),
        ("garbage", None),
        ("''", None),
        ("'nan'", None),
        ("'NaN'", None),
        ("'inf'", None),
        ("'-Infinity'", None),
        (".nan", None),
        (".inf", None),
        ("true", None),
        ("false", None),
        ("[1]", None),
        ("{a: 1}", None),
        ("2022-03-14", None),
        ("", None),
    ],
)
def test_quality_forms(value: str, quality: int | None) -> None:
    assert parse("title: T", f"quality: {value}").quality == quality


def test_missing_quality_is_none() -> None:
    assert parse("title: T").quality is None


# --- secured, images and extra keys ------------------------------------------------------------


def test_secured_and_images_are_dropped_and_unknown_keys_are_kept() -> None:
    article = parse(
        "title: T",
        "secured: QUJD",
        "images:",
        "  - url: https://x.example/i.jpg",
        "    width: 10",
        "category: news",
        "heat: -1",
        "published: false",
        "score: 1.5",
        "nothing:",
        "tags: [a, b]",
        "meta: {author: Ann, pages: 3}",
    )
    assert article.extra == {
        "category": "news",
        "heat": -1,
        "published": False,
        "score": 1.5,
        "nothing": None,
        "tags": ["a", "b"],
        "meta": {"author": "Ann", "pages": 3},
    }


def test_dates_inside_extra_become_strings() -> None:
    article = parse(
        "title: T",
        "updated: 2022-03-14T09:30:00Z",
        "day: 2022-03-14",
        "history: [{at: 2021-07-30}]",
    )
    assert article.extra == {
        "updated": "2022-03-14T09:30:00+00:00",
        "day": "2022-03-14",
        "history": [{"at": "2021-07-30"}],
    }
    json.dumps(dict(article.extra), allow_nan=False)


def test_non_string_top_level_keys_are_kept_as_strings() -> None:
    assert parse("title: T", "2021: year", "7: seven").extra == {"2021": "year", "7": "seven"}


def test_binary_values_become_strings_and_sets_lists_in_extra() -> None:
    article = parse("title: T", "blob: !!binary aGVsbG8=", "one: !!set {a}")
    assert article.extra == {"blob": "b'hello'", "one": ["a"]}


def test_date_keys_inside_extra_become_strings() -> None:
    assert parse("title: T", "log: {2021-01-01: created}").extra == {
        "log": {"2021-01-01": "created"}
    }


def test_extra_is_strict_json() -> None:
    article = parse("title: T", "ratio: .nan", "limit: .inf")
    json.dumps(dict(article.extra), allow_nan=False)


# --- related items -----------------------------------------------------------------------------


def related(
    *lines: str, article_url: str = "https://site.example/article"
) -> tuple[RelatedItem, ...]:
    return parse("title: T", f"webUrl: {article_url}", "related:", *lines).related


def item(url: str, title: str = "", excerpt: str = "", **fields: Any) -> RelatedItem:
    base: dict[str, Any] = {
        "id": make_id(normalize_url(url)) if url else make_id("title:" + title.lower()),
        "url": url,
        "title": title,
        "excerpt": excerpt,
        "provider": "",
        "published": None,
        "quality": None,
    }
    base.update(fields)
    return RelatedItem(**base)


def test_related_item_fields() -> None:
    assert related(
        "  - title: '  First   item '",
        "    excerpt: An excerpt",
        "    webUrl: https://a.example/one/",
        "    provider: {name: Alpha, domain: a.example}",
        "    publishedDateTime: '2021-07-29T13:09:00+02:00'",
        "    quality: '7.6'",
        "  - excerpt: Only an excerpt",
        "    url: https://b.example/two",
        "    provider: Beta",
        "  - title: Domain only",
        "    originalUrl: https://c.example/three",
        "    provider: {domain: c.example}",
        "    publishedDateTime: 2021-07-30",
        "    quality: 3",
    ) == (
        item(
            "https://a.example/one/",
            "First item",
            "An excerpt",
            provider="Alpha",
            published=datetime(2021, 7, 29, 11, 9, tzinfo=UTC),
            quality=8,
        ),
        item("https://b.example/two", excerpt="Only an excerpt", provider="Beta"),
        item(
            "https://c.example/three",
            "Domain only",
            provider="c.example",
            published=datetime(2021, 7, 30, tzinfo=UTC),
            quality=3,
        ),
    )


def test_related_url_key_precedence() -> None:
    assert related(
        "  - title: A",
        "    ampWebUrl: https://amp.example/a",
        "    url: https://url.example/a",
        "    originalUrl: https://orig.example/a",
        "    webUrl: https://web.example/a",
        "  - title: B",
        "    ampWebUrl: https://amp.example/b",
        "    url: https://url.example/b",
        "  - title: C",
        "    ampWebUrl: https://amp.example/c",
        "    cdnAmpWebUrl: https://cdn.example/c",
    ) == (
        item("https://web.example/a", "A"),
        item("https://url.example/b", "B"),
        item("https://amp.example/c", "C"),
    )


def test_related_non_mappings_and_empty_items_are_skipped() -> None:
    assert related(
        "  - just a string",
        "  - 42",
        "  - null",
        "  - [a, list]",
        "  - {webUrl: https://x.example/no-title, quality: 5}",
        "  - {title: '', excerpt: '  ', webUrl: https://x.example/blank}",
        "  - {title: Kept, webUrl: https://x.example/kept}",
    ) == (item("https://x.example/kept", "Kept"),)


def test_related_same_url_twice_is_kept_once() -> None:
    assert related(
        "  - {title: First, webUrl: 'https://T.example/x/?fbclid=1&utm_source=a'}",
        "  - {title: Second, webUrl: 'https://t.example/x?gclid=2'}",
        "  - {title: Third, webUrl: 'HTTPS://t.example/x#frag'}",
        "  - {title: Other, webUrl: 'https://t.example/y'}",
    ) == (
        item("https://T.example/x/?fbclid=1&utm_source=a", "First"),
        item("https://t.example/y", "Other"),
    )


def test_related_item_pointing_to_the_article_itself_is_dropped() -> None:
    assert related(
        "  - {title: Myself, webUrl: 'HTTPS://Site.Example/article/?utm_campaign=z'}",
        "  - {title: Other, webUrl: 'https://site.example/other'}",
        article_url="https://site.example/article",
    ) == (item("https://site.example/other", "Other"),)


def test_related_items_without_url_are_keyed_by_title() -> None:
    assert related(
        "  - {title: 'No  URL'}",
        "  - {title: 'no url', excerpt: same title}",
        "  - {title: Another}",
    ) == (
        RelatedItem(
            id=make_id("title:no url"), url="", title="No URL", excerpt="", provider="",
            published=None, quality=None,
        ),
        RelatedItem(
            id=make_id("title:another"), url="", title="Another", excerpt="", provider="",
            published=None, quality=None,
        ),
    )


@pytest.mark.parametrize(
    "value", ["related: {title: A}", "related: text", "related:", "related: 3"]
)
def test_related_that_is_not_a_list_is_ignored(value: str) -> None:
    assert parse("title: T", value).related == ()


# --- rejections --------------------------------------------------------------------------------


NO_FRONT_MATTER = "x.md: no front matter (the file must start with a '---' line)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", NO_FRONT_MATTER),
        ("title: T\n", NO_FRONT_MATTER),
        ("\n---\ntitle: T\n---\n", NO_FRONT_MATTER),
        (" ---\ntitle: T\n---\n", NO_FRONT_MATTER),
        ("---\ntitle: T\n", NO_FRONT_MATTER),
        ("--- title: T\n---\n", NO_FRONT_MATTER),
        ("----\ntitle: T\n----\n", NO_FRONT_MATTER),
        ("---\ntitle: [a\n---\n",
         "x.md: broken YAML front matter at line 3: did not find expected ',' or ']'"),
        ("---\na: 1\nb: c: d\n---\n",
         "x.md: broken YAML front matter at line 3: mapping values are not allowed in this "
         "context"),
        ("---\ntitle: a\n\tb: c\n---\n",
         "x.md: broken YAML front matter at line 3: found a tab character that violates "
         "indentation"),
        ("---\ntitle: *nowhere\n---\n",
         "x.md: broken YAML front matter at line 2: found undefined alias"),
        ("---\ntitle: !!python/object/apply:os.system [ls]\n---\n",
         "x.md: broken YAML front matter at line 2: could not determine a constructor for the "
         "tag 'tag:yaml.org,2002:python/object/apply:os.system'"),
        ("---\n- a\n- b\n---\n", "x.md: front matter is not a mapping of keys to values"),
        ("---\n[title, excerpt]\n---\n", "x.md: front matter is not a mapping of keys to values"),
        ("---\njust text\n---\n", "x.md: front matter is not a mapping of keys to values"),
        ("---\n42\n---\n", "x.md: front matter is not a mapping of keys to values"),
        ("---\n---\n", "x.md: no title and no excerpt"),
        ("---\n---\nbody only\n", "x.md: no title and no excerpt"),
        ("---\n# a comment\n---\n", "x.md: no title and no excerpt"),
        ("---\nwebUrl: https://x.example\n---\n", "x.md: no title and no excerpt"),
        ("---\ntitle: ''\nexcerpt: '  \t '\n---\n", "x.md: no title and no excerpt"),
        ("---\ntitle:\nexcerpt:\n---\n", "x.md: no title and no excerpt"),
        ("---\ntitle: [a]\nexcerpt: {b: c}\n---\n", "x.md: no title and no excerpt"),
    ],
)
def test_rejections_have_exact_messages(text: str, message: str) -> None:
    assert rejection(text) == message


def test_broken_yaml_message_names_the_problem() -> None:
    assert "broken YAML front matter" in rejection(doc("title: 'unterminated"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"---\ntitle: caf\xe9\n---\n", "x.md: not UTF-8 text (invalid byte 0xe9 at offset 14)"),
        (b"\xff---\ntitle: T\n---\n", "x.md: not UTF-8 text (invalid byte 0xff at offset 0)"),
        (b"---\ntitle: T\n---\n\xe2\x82", "x.md: not UTF-8 text (invalid byte 0xe2 at offset 17)"),
        (b"---\ntitle: T\n---\n\xc0\xaf", "x.md: not UTF-8 text (invalid byte 0xc0 at offset 17)"),
        ("---\ntitle: T\n---\n".encode("utf-16"),
         "x.md: not UTF-8 text (invalid byte 0xff at offset 0)"),
    ],
)
def test_not_utf8_is_rejected_with_byte_and_offset(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_bytes(data, path="x.md")
    assert str(info.value) == message


def test_not_utf8_after_a_bom_reports_the_real_byte_and_offset() -> None:
    with pytest.raises(DocumentError) as info:
        parse_bytes(b"\xef\xbb\xbf---\ntitle: caf\xe9\n---\n", path="x.md")
    assert str(info.value) == "x.md: not UTF-8 text (invalid byte 0xe9 at offset 17)"


def test_parse_bytes_too_large() -> None:
    data = doc("title: T").encode()
    assert parse_bytes(data, path="x.md", max_bytes=len(data)) == minimal()
    with pytest.raises(DocumentError) as info:
        parse_bytes(data, path="x.md", max_bytes=len(data) - 1)
    assert len(data) == 17
    assert str(info.value) == "x.md: file is too large (17 bytes, the limit is 16)"


def test_lone_surrogate_is_a_document_error_or_tolerated() -> None:
    with contextlib.suppress(DocumentError):
        parse_text("---\ntitle: a\udc80b\n---\n", path="x.md")


# --- parse_file --------------------------------------------------------------------------------


def test_parse_file_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"\xef\xbb\xbf---\r\ntitle: Caf\xc3\xa9\r\n---\r\nBody\r\n")
    assert parse_file(path) == minimal(
        id=make_id(f"file:{path}"), path=str(path), title="Caf\u00e9", body="Body"
    )


def test_parse_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_text(doc("title: T", body="x" * 100), encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        parse_file(path, max_bytes=50)
    assert str(info.value) == f"{path}: file is too large (117 bytes, the limit is 50)"
    assert info.value.path == str(path)
    assert parse_file(path, max_bytes=117).body == "x" * 100


def test_parse_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "missing.md"
    with pytest.raises(DocumentError) as info:
        parse_file(path)
    assert str(info.value) == f"{path}: cannot read file: No such file or directory"


def test_parse_file_directory(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as info:
        parse_file(tmp_path)
    assert str(info.value) == f"{tmp_path}: cannot read file: Is a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_parse_file_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text(doc("title: T"), encoding="utf-8")
    path.chmod(0)
    try:
        with pytest.raises(DocumentError) as info:
            parse_file(path)
    finally:
        path.chmod(0o644)
    assert str(info.value) == f"{path}: cannot read file: Permission denied"


def test_parse_file_reports_parse_errors_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(b"---\ntitle: caf\xe9\n---\n")
    with pytest.raises(DocumentError) as info:
        parse_file(path)
    assert str(info.value) == f"{path}: not UTF-8 text (invalid byte 0xe9 at offset 14)"


# --- YAML aliases and nesting (run in a child process: a failure must not hang the suite) -----

_CHILD = """
import sys
from searchlib.documents import parse_text
from searchlib.errors import DocumentError
try:
    article = parse_text(sys.stdin.read(), path="x.md")
except DocumentError as exc:
    print(exc)
else:
    print("parsed", article.title)
"""


def parse_in_child(text: str, timeout: float = 10.0) -> tuple[int, str, str]:
    """Parse ``text`` in a child process capped at 2 GiB; return (exit code, stdout, stderr)."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    result = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=text,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        preexec_fn=cap_memory,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr[-500:]


def laughs(levels: int, fan_out: int) -> str:
    """A "billion laughs" front matter: each level lists the previous one ``fan_out`` times."""
    lines = ["title: lol", "l0: &l0 [" + ", ".join(["lol"] * fan_out) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan_out) + "]")
    return doc(*lines)


def test_alias_bomb_with_many_aliases_is_refused_quickly() -> None:
    text = laughs(levels=10, fan_out=12)  # 108 aliases, 12**10 leaves
    assert parse_in_child(text) == (
        0,
        "x.md: YAML front matter uses more than 100 aliases\n",
        "",
    )


def test_classic_billion_laughs_is_refused_quickly() -> None:
    code, out, _ = parse_in_child(laughs(levels=9, fan_out=9), timeout=10.0)
    assert code == 0
    assert out.startswith("x.md: ")


def test_alias_limit_boundary() -> None:
    def with_aliases(n: int) -> str:
        return doc("title: T", "a: &a x", "b: [" + ", ".join(["*a"] * n) + "]")

    assert MAX_YAML_ALIASES == 100
    assert parse_text(with_aliases(100), path="x.md").extra == {"a": "x", "b": ["x"] * 100}
    assert rejection(with_aliases(101)) == "x.md: YAML front matter uses more than 100 aliases"


def test_aliases_without_an_anchor_character_are_not_counted() -> None:
    # A title made of 200 "*word"s is plain text, not aliases, when no anchor exists.
    title = " ".join(["*star"] * 200)
    assert parse(f"title: '{title}'").title == title


def test_deep_nesting_is_refused() -> None:
    assert rejection(doc("title: T", "x: " + "[" * 2000 + "]" * 2000)) == (
        "x.md: YAML front matter is nested too deeply"
    )


def test_very_deep_nesting_does_not_crash() -> None:
    depth = 200_000
    assert parse_in_child(doc("title: T", "x: " + "[" * depth + "]" * depth)) == (
        0,
        "x.md: YAML front matter is nested too deeply\n",
        "",
    )


# --- normalize_url and make_id -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTPS://Example.COM:443/a/?utm_source=x&b=2&a=1#top", "https://example.com/a?a=1&b=2"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com", "https://example.com"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/A/B//", "https://example.com/A/B"),
        ("https://example.com/a?UTM_Source=x&Fbclid=1&GCLID=2&msclkid=3", "https://example.com/a"),
        ("https://example.com/a?utm=keep&x_utm_source=keep",
         "https://example.com/a?utm=keep&x_utm_source=keep"),
        ("https://example.com/a?b=&a", "https://example.com/a?a=&b="),
        ("https://example.com/a?q=a+b&q=c%20d", "https://example.com/a?q=a+b&q=c+d"),
        ("https://user:pw@Example.com/a", "https://user:pw@example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://example.com:99999/a", "https://example.com:99999/a"),
        ("example.com/a/", "example.com/a"),
        ("", ""),
    ],
)
def test_normalize_url(url: str, normal: str) -> None:
    assert normalize_url(url) == normal


NO_SPACE = st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"))
URL_PART = st.text(alphabet=NO_SPACE, max_size=12)
URLS = st.one_of(
    st.text(alphabet=NO_SPACE),
    st.builds(
        "{}://{}{}/{}?{}#{}".format,
        st.sampled_from(["http", "HTTPS", "ftp", ""]),
        URL_PART,
        st.sampled_from(["", ":80", ":443", ":8080", ":x"]),
        URL_PART,
        st.lists(st.tuples(URL_PART, URL_PART), max_size=4).map(
            lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
        ),
        URL_PART,
    ),
)


@example("A:////@")  # no host: "//" at the path's start read as a host the second time
@example("////x")
@settings(max_examples=500)
@given(URLS)
def test_normalize_url_is_idempotent_without_whitespace(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once


@example("http://x.com/a /")
@settings(max_examples=200)
@given(st.text())
def test_normalize_url_is_idempotent(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once


def test_make_id_is_stable() -> None:
    assert make_id("https://example.com/a") == "6jfj3227i7s2"
    assert make_id("file:x.md") == "44ip5vn2rktk"
    assert make_id("") == "4stkav3upgzl"


@given(st.text())
def test_make_id_is_twelve_base32_characters(key: str) -> None:
    assert re.fullmatch("[a-z2-7]{12}", make_id(key))
    assert make_id(key) == make_id(key)


# --- parser properties -------------------------------------------------------------------------


def article_or_document_error(text: str) -> Article | None:
    try:
        article = parse_text(text, path="x.md")
    except DocumentError as exc:
        assert str(exc).startswith("x.md: ")
        assert "\n" not in str(exc)
        return None
    assert isinstance(article, Article)
    assert article.title or article.excerpt
    json.dumps(dict(article.extra))
    return article


@settings(max_examples=300)
@given(st.binary())
def test_any_bytes_give_an_article_or_a_document_error(data: bytes) -> None:
    for candidate in (data, b"---\n" + data, b"---\n" + data + b"\n---\n"):
        try:
            article = parse_bytes(candidate, path="x.md")
        except DocumentError as exc:
            assert str(exc).startswith("x.md: ")
        else:
            assert isinstance(article, Article)


@settings(max_examples=300)
@given(st.text())
def test_any_text_gives_an_article_or_a_document_error(text: str) -> None:
    for candidate in (text, "---\n" + text, "---\n" + text + "\n---\n"):
        article_or_document_error(candidate)


YAMLISH = st.lists(
    st.sampled_from(
        [*"\n\n  -:[]{}&*!'\"#,?|>ab1.\t\r\ufeff\u0097",
         "title", "excerpt", "topics", "related", "provider", "quality", "---", "\n---\n"]
    )
).map("".join)


@settings(max_examples=500)
@given(YAMLISH)
def test_yaml_like_text_gives_an_article_or_a_document_error(text: str) -> None:
    article_or_document_error("---\n" + text)
    article_or_document_error("---\n" + text + "\n---\n")


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5))]
        ),
    ),
)
FIELD_NAMES = st.sampled_from(
    ["title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "ampWebUrl", "url",
     "cdnAmpWebUrl", "provider", "name", "domain", "topics", "quality", "related", "secured",
     "images"]
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(FIELD_NAMES, st.text(max_size=6)), children, max_size=4),
    ),
    max_leaves=15,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.one_of(FIELD_NAMES, st.text(max_size=8)), VALUES, max_size=8))
def test_any_yaml_mapping_gives_an_article_or_a_document_error(meta: dict[str, Any]) -> None:
    article = article_or_document_error(doc(yaml.safe_dump(meta).rstrip("\n")))
    if article is not None:
        assert article.published is None or article.published.tzinfo is UTC
        assert all(isinstance(t, str) and t for t in article.topics)
        assert article.quality is None or type(article.quality) is int
        assert len({r.id for r in article.related}) == len(article.related)
        assert article.id not in {r.id for r in article.related}
        assert not {"secured", "images"} & set(article.extra)


@settings(max_examples=300)
@given(st.text(), st.text(), st.booleans(), st.text(max_size=30))
def test_dumped_title_and_excerpt_round_trip_whitespace_normalised(
    title: str, excerpt: str, allow_unicode: bool, topic: str
) -> None:
    front = yaml.safe_dump(
        {"title": title, "excerpt": excerpt, "topics": [topic]}, allow_unicode=allow_unicode
    )
    text = "---\n" + front + "---\nbody\n"
    expected_title, expected_excerpt = " ".join(title.split()), " ".join(excerpt.split())
    if not expected_title and not expected_excerpt:
        assert rejection(text) == "x.md: no title and no excerpt"
        return
    article = parse_text(text, path="x.md")
    assert (article.title, article.excerpt, article.body) == (
        expected_title,
        expected_excerpt,
        "body",
    )
    assert article.topics == ((" ".join(topic.split()),) if topic.split() else ())


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.one_of(
            st.none(),
            st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
        ),
    ),
    st.booleans(),
)
def test_dumped_datetimes_come_back_in_utc(value: datetime, quoted: bool) -> None:
    written = value.isoformat() if quoted else value
    article = parse_text(
        "---\n" + yaml.safe_dump({"title": "T", "publishedDateTime": written}) + "---\n",
        path="x.md",
    )
    expected = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    assert article.published == expected
    assert article.published is not None
    assert article.published.tzinfo is UTC
    assert article.published.utcoffset() == dt.timedelta(0)
