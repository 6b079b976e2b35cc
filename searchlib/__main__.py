"""``python -m searchlib``: the same as the ``search`` command."""

from .cli import main

main()
