"""Handing a wait to the trigger and turning its one event back into a task result.

Shared by the sensor and the operators so they defer the same way (the trigger owns the
deadline; Airflow's deferral timeout is only a safety net set beyond it) and fail with the
same clear messages.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_cloudos.triggers.sessions import (
    ERROR,
    EVENT_STATUSES,
    FAILURE,
    SUCCESS,
    TIMEOUT,
    CloudOSSessionTrigger,
)

#: How far beyond the trigger's own deadline Airflow's deferral timeout is set. The trigger
#: must always win the race: only it can pause the session before the task fails.
SAFETY_MARGIN_SECONDS = 300.0


def defer_to_trigger(
    task: Any, trigger: CloudOSSessionTrigger, method_name: str = "execute_complete"
) -> NoReturn:
    """Defer ``task`` to ``trigger`` with a framework timeout safely past the trigger's deadline."""
    remaining = max(0.0, trigger.end_time - time.time())
    safety = timedelta(seconds=remaining + max(SAFETY_MARGIN_SECONDS, 3 * trigger.poll_interval))
    task.defer(trigger=trigger, method_name=method_name, timeout=safety)
    raise AssertionError("defer() returned")  # pragma: no cover - defer always raises


def check_event(
    event: Any,
    *,
    timeout_exception: type[BaseException] = AirflowException,
) -> dict[str, Any]:
    """Return a success event; raise a clear Airflow exception for any other.

    A terminated session or a refused request will not get better on retry, so they raise
    ``AirflowFailException``; timeouts and exhausted transient errors raise ``timeout_exception``
    / ``AirflowException`` so Airflow's retries may try again.
    """
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise AirflowException(f"Unexpected event from CloudOSSessionTrigger: {event!r}")
    status = event["status"]
    message = str(event.get("message") or "")
    if status == SUCCESS:
        return event
    if event.get("stopped"):
        message += "; the session was paused to stop its costs"
    if status == FAILURE:
        raise AirflowFailException(message)
    if status == TIMEOUT:
        raise timeout_exception(message)
    if status == ERROR:
        raise AirflowException(message)
    raise AirflowException(message)  # pragma: no cover - EVENT_STATUSES is exhaustive


__all__ = ["SAFETY_MARGIN_SECONDS", "check_event", "defer_to_trigger"]
