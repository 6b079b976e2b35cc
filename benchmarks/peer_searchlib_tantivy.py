"""searchlib through its public API on its tantivy backend (``Engine(path, backend="tantivy")``).

Everything else as ``peer_searchlib``: searchlib walks, parses and analyses the files itself,
and every search returns a page of hits with highlights, the total, and the facets. Beside the
raw tantivy peer (which indexes the same parsed documents with tantivy's own analyzers), it
measures what searchlib's analysis, records and pipeline cost on top of the same engine.
"""

from __future__ import annotations

from peer_searchlib import Adapter as SearchlibAdapter


class Adapter(SearchlibAdapter):
    backend = "tantivy"
