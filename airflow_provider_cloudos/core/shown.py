"""How a value reads inside a message meant for a person.

Messages end up in Airflow's task logs, its UI and the tables of its command line, which read
text in square brackets as markup and drop it (``[variant]`` vanishes). Python's repr of a list
is bracketed, so a list (or tuple) is shown in parentheses instead, also inside a mapping or a set;
everything else reads as its repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def shown_value(value: Any) -> str:
    """``value`` as a message shows it: ``('a', 'b')`` for a list or tuple, ``{'k': ('v')}`` for a
    mapping and ``{'a'}`` for a set (their items shown the same way), else its repr."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {shown_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(shown_value(item) for item in value) + ")"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(shown_value(item) for item in value) + "}"
    return repr(value)


__all__ = ["shown_value"]
