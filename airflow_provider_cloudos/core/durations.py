"""Durations users write (``12h``, ``30m``) turned into what the API and the waiters need.

Same names, inputs and results as the official client's ``parse_shutdown_duration`` and
``parse_watch_timeout_duration``, so a DAG author's habits carry over. Differences, all on the
side of refusing or accepting more clearly: errors are :class:`CloudOSValidationError` naming the
operator parameter (the official client raised a bare ``ValueError``, or ``AttributeError`` for a
non-string); surrounding blanks are forgiven because templated values often carry a newline; the
clock is injectable so that tests never depend on it; and a watch timeout may also be given as a
plain number of seconds or a ``timedelta``, which is what Airflow users usually have at hand.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError

SHUTDOWN_UNITS: dict[str, int] = {"m": 60, "h": 3600, "d": 86400}
WATCH_UNITS: dict[str, int] = {"s": 1, **SHUTDOWN_UNITS}

_SHUTDOWN_FORMAT = re.compile(r"(\d+)([mhd])")
_WATCH_FORMAT = re.compile(r"(\d+)([smhd])")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def utc_timestamp(moment: datetime) -> str:
    """The API's instant format: ISO-8601 in UTC with a ``Z`` suffix.

    A naive ``moment`` is taken to be UTC already (that is what ``utcnow()``-style code produces).
    Microseconds are kept unless they are zero, exactly like ``datetime.isoformat``.
    """
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def parse_shutdown_timedelta(duration_str: Any, *, parameter: str = "shutdown_in") -> timedelta:
    """Check an auto-shutdown duration and return it as a ``timedelta``.

    Split out from :func:`parse_shutdown_duration` so that a duration can be validated when a task
    is configured while the instant is computed only when the request is about to be sent.
    """
    if not isinstance(duration_str, str):
        raise CloudOSValidationError(
            parameter,
            duration_str,
            f"expected a duration string such as '2h', '30m' or '1d', got {type(duration_str).__name__}",
        )
    match = _SHUTDOWN_FORMAT.fullmatch(duration_str.strip().lower())
    if match is None:
        raise CloudOSValidationError(
            parameter,
            duration_str,
            "expected a whole number followed by m (minutes), h (hours) or d (days), "
            "such as '2h', '30m', '1d'",
        )
    amount, unit = int(match.group(1)), match.group(2)
    try:
        return timedelta(seconds=amount * SHUTDOWN_UNITS[unit])
    except OverflowError:
        raise CloudOSValidationError(parameter, duration_str, "the duration is too long") from None


def parse_shutdown_duration(
    duration_str: str, now: datetime | None = None, *, parameter: str = "shutdown_in"
) -> str:
    """Return the auto-shutdown instant ``now + duration`` in the API's format (``...Z``).

    ``0m`` is accepted as the official client accepts it (the session is due to stop at once);
    negative, fractional or unit-less values are refused. ``now`` defaults to the current UTC time.
    """
    delta = parse_shutdown_timedelta(duration_str, parameter=parameter)
    start = now if now is not None else datetime.now(UTC)
    try:
        return utc_timestamp(start + delta)
    except OverflowError:
        raise CloudOSValidationError(parameter, duration_str, "the duration is too long") from None


def _seconds_from_number(value: float, original: Any, parameter: str) -> float:
    if not math.isfinite(value):
        raise CloudOSValidationError(parameter, original, "the timeout must be a finite number of seconds")
    if value <= 0:
        raise CloudOSValidationError(parameter, original, "the timeout must be greater than zero")
    return value


def parse_duration_seconds(duration_str: Any, *, parameter: str = "timeout") -> float:
    """Return a span of time in seconds, exactly (``"1m"`` is 60.0, ``0.5`` stays 0.5).

    The one parser of every seconds-like parameter (poll intervals, timeouts, runtime limits):
    the official forms (``30s``, ``30m``, ``2h``, ``1d``, case-insensitive), a number of seconds
    (``int``, ``float`` or a numeric string such as ``"90"``) or a ``timedelta``. Zero, negative,
    infinite and NaN spans are refused: a wait that cannot wait is a configuration mistake.
    """
    if isinstance(duration_str, bool):
        raise CloudOSValidationError(parameter, duration_str, "expected a duration, not a boolean")
    if isinstance(duration_str, timedelta):
        return _seconds_from_number(duration_str.total_seconds(), duration_str, parameter)
    if isinstance(duration_str, (int, float)):
        return _seconds_from_number(float(duration_str), duration_str, parameter)
    if not isinstance(duration_str, str):
        raise CloudOSValidationError(
            parameter,
            duration_str,
            f"expected a duration such as '30s', '30m', '2h', '1d' or a number of seconds, "
            f"got {type(duration_str).__name__}",
        )
    text = duration_str.strip().lower()
    match = _WATCH_FORMAT.fullmatch(text)
    if match is not None:
        seconds = int(match.group(1)) * WATCH_UNITS[match.group(2)]
        if seconds <= 0:
            raise CloudOSValidationError(parameter, duration_str, "the timeout must be greater than zero")
        return float(seconds)
    if _PLAIN_NUMBER.fullmatch(text):
        return _seconds_from_number(float(text), duration_str, parameter)
    raise CloudOSValidationError(
        parameter,
        duration_str,
        "expected a whole number followed by s, m, h or d (such as '30s', '30m', '2h', '1d') "
        "or a number of seconds",
    )


def parse_watch_timeout_duration(duration_str: Any, *, parameter: str = "timeout") -> int:
    """Return a wait timeout in whole seconds: :func:`parse_duration_seconds`, rounded up.

    Rounded up so that a positive fraction of a second never becomes a zero timeout.
    """
    return math.ceil(parse_duration_seconds(duration_str, parameter=parameter))


__all__ = [
    "SHUTDOWN_UNITS",
    "WATCH_UNITS",
    "parse_duration_seconds",
    "parse_shutdown_duration",
    "parse_shutdown_timedelta",
    "parse_watch_timeout_duration",
    "utc_timestamp",
]
