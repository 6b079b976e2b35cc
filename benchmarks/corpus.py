"""Generate a seeded, reproducible look-alike news corpus in the seed file format.

Each article is one ``.txt`` file with YAML front matter like
``shared/corpora/seed/000_3020693c13aef93b.txt``: title, excerpt, ``publishedDateTime``, URLs,
``quality``, ``provider{name,domain}``, ``topics``, ``images``, 0-7 ``related`` items and an
opaque ``secured`` blob, and an empty body.

Words are drawn from ``wordfreq.top_n_list('en', 20000)`` with Zipf weights (their
``word_frequency``), plus a share of topic-specific words; topics (~50) and providers (~500) are
Zipf-distributed; dates span one year; a share of related items repeats across articles (and a
few point at other articles). The same ``--docs``/``--seed`` (and wordfreq version) always give
byte-identical files.

    python benchmarks/corpus.py --docs 20000 --seed 1 --out /tmp/corpus-20k
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

VOCABULARY_SIZE = 20_000
TOPICS = 50
PROVIDERS = 500
#: Share of an article's related items drawn from a pool shared across articles.
SHARED_RELATED = 0.35
#: Share of related items that are other articles of the corpus.
ARTICLE_RELATED = 0.03
#: Share of title/excerpt words drawn from the article's topic vocabulary.
TOPIC_WORDS = 0.2
YEAR_START = datetime(2023, 1, 1, tzinfo=UTC)
MARKER = ".corpus.json"


def zipf_cum_weights(n: int, s: float = 1.0) -> list[float]:
    """Cumulative weights of a Zipf(s) distribution over ranks 1..n."""
    return list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


@dataclass(frozen=True)
class Provider:
    name: str
    domain: str


@dataclass(frozen=True)
class Related:
    title: str
    excerpt: str
    url: str
    published: datetime
    provider: Provider
    quality: int


class Generator:
    """Draws every part of the corpus from one seeded ``random.Random``."""

    def __init__(self, docs: int, seed: int) -> None:
        import wordfreq

        self.docs = docs
        self.rng = random.Random(seed)
        self.words: list[str] = [
            w for w in wordfreq.top_n_list("en", VOCABULARY_SIZE) if w.isalpha()
        ]
        self.word_cum = list(
            itertools.accumulate(wordfreq.word_frequency(w, "en") for w in self.words)
        )
        content = [w for w in self.words[150:6000] if len(w) > 3]
        self.topics = self._topics(content)
        self.topic_words = [self.rng.sample(content, 40) for _ in self.topics]
        self.topic_cum = zipf_cum_weights(len(self.topics))
        self.providers = self._providers(content)
        self.provider_cum = zipf_cum_weights(len(self.providers), 0.7)
        self.shared_pool: list[Related] = []
        self.article_urls: list[str] = []

    def _topics(self, content: list[str]) -> list[str]:
        names: dict[str, None] = {}
        while len(names) < TOPICS:
            parts = self.rng.sample(content, self.rng.choice((1, 1, 2)))
            names.setdefault(" ".join(p.capitalize() for p in parts), None)
        return list(names)

    def _providers(self, content: list[str]) -> list[Provider]:
        out: dict[str, Provider] = {}
        suffixes = ("News", "Times", "Post", "Daily", "Journal", "Herald", "Wire", "Today", "")
        while len(out) < PROVIDERS:
            stem = self.rng.choice(content).capitalize()
            suffix = self.rng.choice(suffixes)
            name = f"The {stem} {suffix}".strip() if self.rng.random() < 0.3 else f"{stem} {suffix}"
            domain = f"{stem.lower()}{suffix.lower()}.{self.rng.choice(('com', 'org', 'net'))}"
            out.setdefault(name.strip(), Provider(name.strip(), domain))
        return list(out.values())

    def text(self, low: int, high: int, topic: int) -> str:
        n = self.rng.randint(low, high)
        base = self.rng.choices(self.words, cum_weights=self.word_cum, k=n)
        special = self.topic_words[topic]
        words = [self.rng.choice(special) if self.rng.random() < TOPIC_WORDS else w for w in base]
        return " ".join(words)

    def title(self, topic: int) -> str:
        words = self.text(6, 14, topic).split()
        return " ".join(w.capitalize() if i == 0 or len(w) > 3 else w for i, w in enumerate(words))

    def excerpt(self, topic: int) -> str:
        return self.text(20, 45, topic).capitalize() + "."

    def provider(self) -> Provider:
        return self.rng.choices(self.providers, cum_weights=self.provider_cum)[0]

    def when(self) -> datetime:
        return YEAR_START + timedelta(minutes=self.rng.randrange(365 * 24 * 60))

    def quality(self) -> int:
        return max(0, min(100, round(self.rng.gauss(50, 20))))

    def url(self, provider: Provider, title: str, when: datetime) -> str:
        slug = "-".join(title.lower().split()[:8])
        return f"https://www.{provider.domain}/{when:%Y/%m/%d}/{slug}/"

    def related_item(self, topic: int) -> Related:
        provider, when, title = self.provider(), self.when(), self.title(topic)
        return Related(
            title=title,
            excerpt=self.excerpt(topic),
            url=self.url(provider, title, when),
            published=when,
            provider=provider,
            quality=self.quality(),
        )

    def related(self, topic: int) -> list[Related]:
        items: list[Related] = []
        for _ in range(self.rng.randint(0, 7)):
            roll = self.rng.random()
            if roll < SHARED_RELATED and self.shared_pool:
                # Recent items are listed again more often, as on a news site.
                back = min(len(self.shared_pool), int(self.rng.expovariate(1 / 200)) + 1)
                items.append(self.shared_pool[-back])
                continue
            item = self.related_item(topic)
            if roll < SHARED_RELATED + ARTICLE_RELATED and self.article_urls:
                item = Related(item.title, item.excerpt, self.rng.choice(self.article_urls),
                               item.published, item.provider, item.quality)
            items.append(item)
            self.shared_pool.append(item)
        return items

    def article(self, index: int) -> tuple[str, str]:
        """The file name and text of article ``index``."""
        topics = sorted(
            {self.rng.choices(range(len(self.topics)), cum_weights=self.topic_cum)[0]
             for _ in range(self.rng.randint(1, 3))}
        )
        main = topics[0]
        provider, when, title = self.provider(), self.when(), self.title(main)
        url = self.url(provider, title, when)
        self.article_urls.append(url)
        quality = self.quality()
        lines = [
            "---",
            "category: news",
            f"title: {_q(title)}",
            f"excerpt: {_q(self.excerpt(main))}",
            f"publishedDateTime: {when:%Y-%m-%dT%H:%M:%SZ}",
            f"originalUrl: {_q(url)}",
            f"webUrl: {_q(url)}",
            "type: article",
            f"quality: {quality}",
            f"heat: {self.rng.choice((-1, quality))}",
            "published: false",
            "",
            "provider:",
            f"  name: {_q(provider.name)}",
            f"  domain: {provider.domain}",
            "",
            "topics:",
            *[f"  - {_q(self.topics[t])}" for t in topics],
            "",
            "images:",
            f"  - url: {_q(f'https://www.{provider.domain}/img/{self.rng.getrandbits(48):x}.jpg')}",
            "    width: 1280",
            "    height: 720",
            "    isCached: true",
        ]
        related = self.related(main)
        if related:
            lines += ["", "related:"]
            for item in related:
                lines += [
                    f"  - title: {_q(item.title)}",
                    f"    excerpt: {_q(item.excerpt)}",
                    f"    publishedDateTime: {item.published:%Y-%m-%dT%H:%M:%SZ}",
                    f"    webUrl: {_q(item.url)}",
                    "    type: article",
                    "    provider:",
                    f"      name: {_q(item.provider.name)}",
                    f"      domain: {item.provider.domain}",
                    f"    quality: {item.quality}",
                ]
        blob = base64.b64encode(self.rng.randbytes(self.rng.randint(300, 600))).decode()
        lines += ["", f"secured: {_q(blob)}", "---", ""]
        digest = hashlib.blake2b(url.encode(), digest_size=8).hexdigest()
        return f"{index:07d}_{digest}.txt", "\n".join(lines)


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def corpus_info(folder: Path) -> dict[str, object] | None:
    """The generation parameters stored beside a complete generated corpus, if any."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def generate(docs: int, seed: int, out: Path) -> Path:
    """Write ``docs`` articles into ``out`` (reused if already generated with these settings)."""
    from importlib.metadata import version

    wanted = {"docs": docs, "seed": seed, "wordfreq": version("wordfreq"), "format": 1}
    if corpus_info(out) == wanted:
        return out
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.txt"):
        stale.unlink()
    gen = Generator(docs, seed)
    for i in range(docs):
        name, text = gen.article(i)
        (out / name).write_text(text, encoding="utf-8")
    (out / MARKER).write_text(json.dumps(wanted) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000, help="articles to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--json", action="store_true", help="print a JSON summary to stdout")
    args = parser.parse_args(argv)
    if args.docs < 1:
        parser.error("--docs must be at least 1")
    folder = generate(args.docs, args.seed, args.out)
    if args.json:
        print(json.dumps({"docs": args.docs, "seed": args.seed, "out": str(folder)}))
    else:
        print(f"{args.docs} articles in {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
