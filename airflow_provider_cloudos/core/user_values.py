"""Amounts, runtimes and lists as a DAG author types them, read after templating.

The fleet operators' selections and guards take these; an unset value (see
:mod:`~airflow_provider_cloudos.core.unset`) gives None or the empty list, and anything wrong
is refused naming the parameter.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_cloudos.core.durations import parse_watch_timeout_duration
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.lists import split_strings
from airflow_provider_cloudos.core.unset import is_unset
from airflow_provider_cloudos.core.validators import require_number


def parse_usd(value: Any, parameter: str, *, allow_zero: bool = False) -> float | None:
    """An amount of USD from a number or a rendered template; None when unset.

    Zero is refused for a guard (it would fire at once: a configuration mistake) but allowed for
    a minimum ("cost at least $0" simply selects everything).
    """
    if is_unset(value):
        return None
    amount = require_number(value, parameter, "an amount of USD such as 50 or 12.5")
    if amount < 0 or (amount == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "greater than 0"
        raise CloudOSValidationError(parameter, value, f"the amount must be {bound}")
    return amount


def parse_runtime(value: Any, parameter: str) -> int | None:
    """A runtime threshold in seconds (``"2h"``, ``"90m"``, ``3600``, a timedelta); None when unset."""
    if is_unset(value):
        return None
    return parse_watch_timeout_duration(value, parameter=parameter)


def parse_string_list(value: Any, parameter: str) -> tuple[str, ...]:
    """A list of strings from a list, a comma-separated string or a rendered list literal.

    A list keeps each item whole (a name may contain a comma); a string is split on commas unless
    it reads as a JSON or Python list (what Jinja renders for a list). Blank items are dropped;
    an unset value is the empty list.
    """
    if isinstance(value, (set, frozenset)):  # names: their order does not matter
        value = list(value)
    return tuple(
        split_strings(value, parameter=parameter, whole="a list of strings or a comma-separated string")
    )


__all__ = ["parse_runtime", "parse_string_list", "parse_usd"]
