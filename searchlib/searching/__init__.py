"""The search pipeline, written once above the narrow backend protocol.

``compile`` (query tree -> plan), ``feedback`` (RM3), ``facets`` (disjunctive counts),
``highlight``, ``suggest`` ("did you mean"), ``similar`` (more like this), ``hits`` (records
to hits), and ``pipeline``, which runs a search through them.
"""

from .pipeline import SearchPipeline

__all__ = ["SearchPipeline"]
