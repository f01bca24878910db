"""Handing a wait to the trigger and turning its one event back into a task result; turning the
provider's errors into Airflow exceptions that say whether a retry can help.

Shared by the sensor and the operators so they defer the same way (the trigger owns the
deadline; Airflow's deferral timeout is only a safety net set beyond it) and fail with the
same clear messages. The event statuses are here, not in the triggers, so that the operators and
the sensor read events without importing a trigger module (and ``airflow.triggers.base`` with it)
when a DAG file is parsed.

Bad input, a refused key, a missing session or a terminated one will not change on retry, so
they become ``AirflowFailException`` (the task fails without using its retries). Transient API
trouble and timeouts stay ``AirflowException`` so Airflow's retries can do their job.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_cloudos.compat import trigger_deadline
from airflow_provider_cloudos.core.errors import CloudOSError, CloudOSTransientError, CloudOSWaitTimeoutError
from airflow_provider_cloudos.core.waiting import PAUSED_TO_STOP_COSTS

if TYPE_CHECKING:  # a DAG file imports this module, and needs no trigger
    from airflow_provider_cloudos.triggers.sessions import CloudOSTriggerBase

# The statuses of the one event a CloudOS trigger yields, one per way a wait can end.
#: The session reached a target status (or a guard-watching sensor's guard fired).
SUCCESS = "success"
#: The session reached a failure status.
FAILURE = "failure"
#: The trigger's deadline passed first.
TIMEOUT = "timeout"
#: The connection could not be used, or the wait itself failed.
ERROR = "error"
#: The session's cost or runtime reached ``max_cost_usd``/``max_runtime_seconds`` while waiting.
GUARD = "guard"
#: Every status an event may carry.
EVENT_STATUSES = frozenset({SUCCESS, FAILURE, TIMEOUT, ERROR, GUARD})


#: How far beyond the trigger's own deadline Airflow's deferral timeout is set. The trigger
#: must always win the race: only it can pause the session before the task fails.
SAFETY_MARGIN_SECONDS = 300.0


def defer_to_trigger(
    task: Any, trigger: CloudOSTriggerBase, method_name: str = "execute_complete"
) -> NoReturn:
    """Defer ``task`` to ``trigger`` with a framework timeout safely past the trigger's deadline."""
    trigger.end_time = trigger_deadline(task, trigger.end_time)
    remaining = max(0.0, trigger.end_time - time.time())
    safety = timedelta(seconds=remaining + max(SAFETY_MARGIN_SECONDS, 3 * trigger.poll_interval))
    task.defer(trigger=trigger, method_name=method_name, timeout=safety)
    raise AssertionError("defer() returned")  # pragma: no cover - defer always raises


def check_event(
    event: Any, *, timeout_exception: type[BaseException] = AirflowException, guard_is_success: bool = False
) -> dict[str, Any]:
    """Return a success event; raise a clear Airflow exception for any other.

    The one check of every trigger event, single-session and batch alike.

    A terminated session or a refused request will not get better on retry, so they raise
    ``AirflowFailException``; timeouts and exhausted transient errors raise ``timeout_exception``
    / ``AirflowException`` so Airflow's retries may try again. A ``guard`` event (cost or
    runtime limit reached) is the answer a guard-watching sensor waits for
    (``guard_is_success=True``); for a task waiting for a status it is a failure that a retry
    would not change.
    """
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise AirflowException(f"Unexpected event from a CloudOS trigger: {event!r}")
    status = event["status"]
    message = str(event.get("message") or "")
    if status == SUCCESS or (status == GUARD and guard_is_success):
        return event
    if event.get("stopped"):
        message += PAUSED_TO_STOP_COSTS
    if status in (FAILURE, GUARD):
        raise AirflowFailException(message)
    if status == TIMEOUT:
        raise timeout_exception(message)
    raise AirflowException(message)  # ERROR


def to_airflow_exception(error: CloudOSError) -> AirflowException:
    """The Airflow exception to raise ``from`` a provider error; its message is the error's."""
    if isinstance(error, (CloudOSTransientError, CloudOSWaitTimeoutError)):
        return AirflowException(str(error))
    return AirflowFailException(str(error))
