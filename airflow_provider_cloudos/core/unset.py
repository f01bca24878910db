"""The one rule for an unset value, for every optional parameter the core reads.

Operator parameters reach the core after Jinja rendered them, so a parameter left unset may
arrive as ``None``, as ``""`` (an empty template), or as ``"None"``/``"null"`` (what
``{{ params.x }}`` renders for a ``None`` param, in Python's or JSON's spelling). So a value is
**unset** when it is ``None`` or a string that, stripped and lower-cased, is ``""``, ``"none"``
or ``"null"``, and an unset value means "use the default" (for a resume: "keep the session's
setting"; for a list: no items). Anything else is read, and refused naming the parameter when it
is wrong. A required value (a session name, an id) has no default: it is checked, not defaulted.
"""

from __future__ import annotations

from typing import Any

#: The strings that mean "not set" (compared stripped and lower-cased).
UNSET_TEXTS = frozenset({"", "none", "null"})


def is_unset(value: Any) -> bool:
    """True for ``None`` and for the rendered forms of nothing (see the module docstring)."""
    return value is None or (isinstance(value, str) and value.strip().lower() in UNSET_TEXTS)


__all__ = ["UNSET_TEXTS", "is_unset"]
