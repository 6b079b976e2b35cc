"""Importing Whoosh without the two libraries it imports and searchlib never uses.

``whoosh.compat`` imports ``urllib.request`` (for ``urlretrieve``, which only Whoosh's
downloading helpers call), and ``urllib.request`` imports ``http.client`` and ``email``;
``whoosh.reading`` imports the ``cached_property`` package, which imports ``asyncio``. Together
that is 30-45 ms of a new process's first answer (measured with ``python -X importtime``),
a sixth of it. :func:`import_whoosh` imports Whoosh's modules while two stand-ins take those
imports' places: ``urlretrieve`` that imports the real module when first called, and the
standard library's ``functools.cached_property`` (the same descriptor: computed on first
access, then kept in the instance's ``__dict__``). The stand-ins are removed again at once, so
a later ``import urllib.request`` or ``import cached_property`` anywhere gets the real module.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
import types
from typing import Any

#: The Whoosh modules searchlib's Whoosh backend imports (and what they import).
WHOOSH_MODULES = (
    "whoosh.index",
    "whoosh.fields",
    "whoosh.query",
    "whoosh.reading",
    "whoosh.searching",
    "whoosh.writing",
    "whoosh.codec.whoosh3",
)

_LOCK = threading.Lock()


def _urlretrieve(*args: Any, **kwargs: Any) -> Any:
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)


def _stand_ins() -> dict[str, types.ModuleType]:
    found: dict[str, types.ModuleType] = {}
    if "urllib.request" not in sys.modules:
        request = types.ModuleType("urllib.request")
        request.urlretrieve = _urlretrieve  # type: ignore[attr-defined]
        found["urllib.request"] = request
    if "cached_property" not in sys.modules:
        cached = types.ModuleType("cached_property")
        cached.cached_property = functools.cached_property  # type: ignore[attr-defined]
        found["cached_property"] = cached
    return found


def import_whoosh() -> None:
    """Import :data:`WHOOSH_MODULES` (once) with the stand-ins in place; any surprise falls
    back to the ordinary import."""
    if "whoosh.index" in sys.modules:
        return
    with _LOCK:
        if "whoosh.index" in sys.modules:
            return
        # Other threads must not import urllib.request or cached_property meanwhile: the
        # import lock stops them from starting any import (this thread's go ahead).
        import _imp

        _imp.acquire_lock()
        try:
            stand_ins = _stand_ins()
            sys.modules.update(stand_ins)
            try:
                for name in WHOOSH_MODULES:
                    importlib.import_module(name)
            except Exception:  # the ordinary import below says what is wrong
                for name in [n for n in sys.modules if n == "whoosh" or n.startswith("whoosh.")]:
                    del sys.modules[name]
            finally:
                for name, module in stand_ins.items():
                    if sys.modules.get(name) is module:
                        del sys.modules[name]
        finally:
            _imp.release_lock()
    for name in WHOOSH_MODULES:
        importlib.import_module(name)
