"""The retry policy, as one pure function both transports call.

Keeping the decision (retry or not, and how long to wait) out of the transports means the
synchronous client, the asynchronous client and the tests all agree on it, and it can be tested
without a network or a clock.

Idempotent requests are repeated after any passing failure. Creating a session is a plain POST:
if its response is lost (or a 5xx hides what happened), the session may exist already, and a
second POST would start (and bill) a second one. That case is left to the operator, which looks
for the session its earlier attempt created before creating anew. A 429 is the one exception: the
server refused the request before acting on it, so a create waits and is sent again, within the
task's deadline like every retry.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

from airflow_provider_cloudos.core.errors import CloudOSValidationError

#: Statuses worth another attempt: rate limiting and server-side trouble that usually passes.
RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    ``max_attempts`` counts every attempt, the first included (1 means never retry).
    ``jitter`` is the fraction of each backoff that is randomly taken off, so that many
    clients failing together do not come back in lockstep.
    """

    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    jitter: float = 0.5
    retry_after_max: float = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise CloudOSValidationError("max_attempts", self.max_attempts, "expected an integer")
        if self.max_attempts < 1:
            raise CloudOSValidationError("max_attempts", self.max_attempts, "at least 1 attempt is needed")
        for name in ("backoff_base", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise CloudOSValidationError(name, value, "expected a number of seconds, 0 or more")
        if (
            not isinstance(self.jitter, (int, float))
            or isinstance(self.jitter, bool)
            or not 0 <= self.jitter <= 1
        ):
            raise CloudOSValidationError("jitter", self.jitter, "expected a fraction between 0 and 1")


def is_retryable_status(code: int | None) -> bool:
    """True for 429 and the 5xx statuses that signal a passing problem; None is a lost connection."""
    return code is None or code in RETRYABLE_STATUSES


def parse_retry_after(value: str | None, *, clock: Callable[[], float] = time.time) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP date), None if unusable.

    A date in the past means "now" (0 seconds).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        # RFC 9110 dates are always GMT; a date without a zone is read the same way.
        moment = moment.replace(tzinfo=UTC)
    return max(moment.timestamp() - clock(), 0.0)


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    *,
    status_code: int | None,
    retry_after: str | None,
    idempotent: bool,
    rng: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.time,
) -> float | None:
    """Seconds to wait before the next attempt, or None when the failure is final.

    ``attempt`` is the number (from 1) of the attempt that just failed; ``status_code`` is None
    for a connection failure. A usable ``Retry-After`` is obeyed as given, up to
    ``retry_after_max``; otherwise the wait is ``backoff_base * 2**(attempt-1)``, capped at
    ``backoff_max``, minus a random share of up to ``jitter`` of it.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise CloudOSValidationError("attempt", attempt, "attempts are counted from 1")
    if not is_retryable_status(status_code) or attempt >= policy.max_attempts:
        return None
    if not idempotent and status_code != 429:
        # A lost answer or a 5xx may hide a session that was made; a 429 says the server refused
        # the request before doing anything, so even a create may be sent again.
        return None
    requested = parse_retry_after(retry_after, clock=clock)
    if requested is not None:
        return min(requested, policy.retry_after_max)
    backoff = min(policy.backoff_max, policy.backoff_base * 2 ** min(attempt - 1, 62))
    share = min(max(rng(), 0.0), 1.0)
    return backoff * (1.0 - policy.jitter * share)


__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "is_retryable_status", "parse_retry_after", "retry_delay"]
