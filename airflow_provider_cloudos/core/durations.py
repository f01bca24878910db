"""Every span of time a user writes (``30s``, ``12h``, ``90``, a ``timedelta``), read by one parser.

Shutdowns, timeouts, poll intervals, runtime limits and the connection's extras all go through
:func:`parse_duration_seconds`, so they accept the same forms and refuse in the same words,
naming the parameter (:class:`CloudOSValidationError`). The forms: a whole number and a unit
(``s``, ``m``, ``h``, ``d``; case and surrounding blanks forgiven, as templated values often carry
a newline), a number of seconds (``30``, ``"0.5"``) or a ``timedelta``. An auto-shutdown takes no
bare number: ``shutdown_in=8`` would be eight seconds where eight hours was surely meant.

``parse_shutdown_duration`` and ``parse_watch_timeout_duration`` keep the official client's names
and results; unlike it they refuse by name (it raised a bare ``ValueError``, or ``AttributeError``
for a non-string), and the clock is injectable so that tests never depend on it.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError

UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_WITH_UNIT = re.compile(r"(\d+)([smhd])")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TOO_LONG = "the duration is too long"


def utc_timestamp(moment: datetime) -> str:
    """The API's instant format: ISO-8601 in UTC with a ``Z`` suffix.

    A naive ``moment`` is taken to be UTC already (that is what ``utcnow()``-style code produces).
    Microseconds are kept unless they are zero, exactly like ``datetime.isoformat``.
    """
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def _read_seconds(value: Any, numbers: bool) -> float | None:
    """The seconds ``value`` spells (infinity when too many for a float), or None when no duration."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        text = value.strip().lower()
        match = _WITH_UNIT.fullmatch(text)
        if match is not None:
            value = int(match.group(1)) * UNITS[match.group(2)]
        elif numbers and _PLAIN_NUMBER.fullmatch(text):
            value = text
        else:
            return None
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or not numbers:
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def parse_duration_seconds(
    value: Any, *, parameter: str = "timeout", zero_allowed: bool = False, numbers: bool = True
) -> float:
    """Return a span of time in seconds, exactly (``"1m"`` is 60.0, ``0.5`` stays 0.5).

    Negative, infinite and NaN spans are refused, and zero unless ``zero_allowed`` (a wait that
    cannot wait is a configuration mistake); ``numbers=False`` refuses a bare number of seconds.
    """
    seconds = _read_seconds(value, numbers)
    if seconds is None or math.isnan(seconds):
        written = ", or a number of seconds" if numbers else " (a whole number and a unit)"
        raise CloudOSValidationError(
            parameter, value, f"expected a duration such as '30s', '30m', '2h' or '1d'{written}"
        )
    if seconds == math.inf:
        raise CloudOSValidationError(parameter, value, _TOO_LONG)
    if seconds < 0 or (seconds == 0 and not zero_allowed):
        bound = "0 or more" if zero_allowed else "greater than 0"
        raise CloudOSValidationError(parameter, value, f"the duration must be {bound}")
    return seconds


def parse_shutdown_timedelta(duration_str: Any, *, parameter: str = "shutdown_in") -> timedelta:
    """Check an auto-shutdown duration (``0m`` is allowed, as the official client allows it).

    Split out from :func:`parse_shutdown_duration` so that a duration can be validated when a task
    is configured while the instant is computed only when the request is about to be sent.
    """
    seconds = parse_duration_seconds(duration_str, parameter=parameter, zero_allowed=True, numbers=False)
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise CloudOSValidationError(parameter, duration_str, _TOO_LONG) from None


def parse_shutdown_duration(
    duration_str: Any, now: datetime | None = None, *, parameter: str = "shutdown_in"
) -> str:
    """Return the auto-shutdown instant ``now + duration`` in the API's format (``...Z``).

    ``now`` defaults to the current UTC time.
    """
    delta = parse_shutdown_timedelta(duration_str, parameter=parameter)
    try:
        return utc_timestamp((now if now is not None else datetime.now(UTC)) + delta)
    except OverflowError:
        raise CloudOSValidationError(parameter, duration_str, _TOO_LONG) from None


def parse_watch_timeout_duration(duration_str: Any, *, parameter: str = "timeout") -> int:
    """Return a wait timeout in whole seconds: :func:`parse_duration_seconds`, rounded up.

    Rounded up so that a positive fraction of a second never becomes a zero timeout.
    """
    return math.ceil(parse_duration_seconds(duration_str, parameter=parameter))


__all__ = [
    "UNITS",
    "parse_duration_seconds",
    "parse_shutdown_duration",
    "parse_shutdown_timedelta",
    "parse_watch_timeout_duration",
    "utc_timestamp",
]
