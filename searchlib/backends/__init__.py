"""Search engines behind searchlib, by name, imported only when asked for.

``whoosh`` (the default, pure Python, on disk), ``tantivy`` (compiled, on disk: the
``searchlib[tantivy]`` extra), ``typesense`` (a Typesense cluster: the ``searchlib[typesense]``
extra) and ``memory`` (brute force, in memory: the reference every engine is tested against,
and ``Engine.in_memory()``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from .base import Backend

DEFAULT_BACKEND = "whoosh"
#: The engines that keep an index in a folder: what ``search index --backend`` offers.
DISK_BACKENDS: tuple[str, ...] = ("whoosh", "tantivy", "typesense")

#: Engine name -> ``module:class``; a module is imported the first time its engine is used.
REGISTRY: dict[str, str] = {
    "whoosh": "searchlib.backends.whoosh:WhooshBackend",
    "memory": "searchlib.backends.memory:MemoryBackend",
    "tantivy": "searchlib.backends.tantivy:TantivyBackend",
    "typesense": "searchlib.backends.typesense:TypesenseBackend",
}
#: Engine name -> ``module:function`` run before its module is first imported.
PRELOAD: dict[str, str] = {
    "whoosh": "searchlib.backends.whoosh_import:import_whoosh",
}
#: What to install for an engine that needs an extra.
EXTRAS: dict[str, str] = {"tantivy": "tantivy", "typesense": "typesense"}


def backend_class(name: str) -> type[Backend]:
    """The backend class registered as ``name``; a ``UsageError`` names the choices."""
    if name not in REGISTRY:
        raise UsageError(f"unknown backend {name!r}: choose one of {', '.join(sorted(REGISTRY))}")
    module_name, _, class_name = REGISTRY[name].partition(":")
    try:
        if name in PRELOAD:
            preload_module, _, function = PRELOAD[name].partition(":")
            getattr(import_module(preload_module), function)()
        module = import_module(module_name)
    except ImportError as exc:
        extra = EXTRAS.get(name)
        hint = f": install it with pip install 'searchlib[{extra}]'" if extra else ""
        raise UsageError(f"the {name} backend is not installed{hint}") from exc
    cls: type[Backend] = getattr(module, class_name)
    return cls


def available() -> list[str]:
    """Names of the backends that can be imported here."""
    names = []
    for name in REGISTRY:
        try:
            backend_class(name)
        except UsageError:
            continue
        names.append(name)
    return names
