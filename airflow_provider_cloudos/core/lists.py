"""Reading a list of strings from a rendered template.

Operator parameters such as ``mounts``, ``links`` or ``exclude_names`` arrive as a Python list, a
comma-separated string, or (when Jinja renders a list without native rendering) the list's text:
``["a", "b"]`` or ``['a', 'b']``. One reader serves them all, so they all accept the same forms.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.unset import is_unset


def read_list_literal(text: str, original: Any, parameter: str) -> list[Any]:
    """Read ``["a", "b"]`` (JSON) or ``['a', 'b']`` (a Python list rendered by Jinja)."""
    # Imported here, when a list literal is read: kept out of the core's import time (see BENCHMARKS.md).
    import json

    try:
        loaded = json.loads(text)
    except ValueError:
        import ast

        try:
            loaded = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise CloudOSValidationError(
                parameter, original, "looks like a list but is neither valid JSON nor a Python list literal"
            ) from None
    if not isinstance(loaded, (list, tuple)):
        raise CloudOSValidationError(parameter, original, "expected a list")
    return list(loaded)


def split_strings(value: Any, *, parameter: str, noun: str = "item", whole: str | None = None) -> list[str]:
    """The strings in ``value``, stripped, blanks dropped; an unset value (see :mod:`~.unset`) has none.

    A list or tuple keeps each item whole (an S3 key or a name may contain a comma); a string
    is split on commas unless it reads as a list literal. ``noun`` names an item in errors; ``whole``
    describes the accepted forms (default: "a list of <noun>s or a comma-separated string").
    """
    if is_unset(value):
        return []
    items: list[Any]
    if isinstance(value, str):
        text = value.strip()
        items = read_list_literal(text, value, parameter) if text.startswith("[") else text.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        accepted = whole or f"a list of {noun}s or a comma-separated string"
        raise CloudOSValidationError(parameter, value, f"expected {accepted}, got {type(value).__name__}")
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise CloudOSValidationError(
                parameter, item, f"every {noun} must be a string, got {type(item).__name__}"
            )
        if item.strip():
            result.append(item.strip())
    return result


__all__ = ["read_list_literal", "split_strings"]
