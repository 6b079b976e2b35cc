"""Indexing defaults, importable without the indexer.

A process that only searches (``search query``, a web server) never imports the indexer, the
front-matter parser or the worker pool: these constants are what the engine and the CLI need
of them up front.
"""

from __future__ import annotations

from typing import Final

#: Files larger than this are skipped with a reason (news front matter is a few kB).
DEFAULT_MAX_FILE_BYTES: Final = 10 * 1024 * 1024
#: Files parsed and written per commit: bounds memory (each commit is one segment, whose
#: postings are held in memory until it is written), and what a crash can cost.
DEFAULT_BATCH_FILES: Final = 10_000
