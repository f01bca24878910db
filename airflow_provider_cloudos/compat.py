"""Everything that differs between Airflow 2.11 and 3.x, in one place.

The rest of the provider imports Airflow's base classes through
``airflow.providers.common.compat.sdk`` and calls the helpers below instead of testing versions
itself, so a new Airflow release means reading this file, not the whole code base.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

log = logging.getLogger(__name__)

try:
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_3_PLUS
except ImportError:  # pragma: no cover - compat providers older than 1.23
    AIRFLOW_V_3_3_PLUS = False


def mask_api_key(api_key: str) -> None:
    """Register the API key with Airflow's secrets masker.

    Airflow masks a connection's password when it loads it in most paths, but not all (a
    connection from an ``AIRFLOW_CONN_*`` variable under ``airflow dags test`` on 3.3.2 was printed
    in clear), so the hook does it itself.
    """
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(api_key)


def trigger_has_on_kill() -> bool:
    """Airflow 3.3 calls ``BaseTrigger.on_kill`` when a user kills a deferred task."""
    return AIRFLOW_V_3_3_PLUS


def _task_identity(trigger: Any) -> tuple[str, str, str, int] | None:
    ti = getattr(trigger, "task_instance", None)
    if ti is None:
        return None
    try:
        return ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1)
    except AttributeError:
        return None


def _current_task_state(dag_id: str, task_id: str, run_id: str, map_index: int) -> str | None:
    """Ask Airflow for a task instance's state (blocking; call it from a worker thread)."""
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        states = RuntimeTaskInstance.get_task_states(
            dag_id=dag_id, map_index=map_index, task_ids=[task_id], run_ids=[run_id]
        )
        state = states.get(run_id, {}).get(task_id)
        if state is None and map_index is not None and map_index >= 0:
            state = states.get(run_id, {}).get(f"{task_id}_{map_index}")
        return None if state is None else str(state)
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=map_index)
            .one_or_none()
        )
        return None if ti is None or ti.state is None else str(ti.state)


async def _task_state(trigger: Any) -> str | None:
    identity = _task_identity(trigger)
    if identity is None:
        return None
    from asgiref.sync import sync_to_async

    return await sync_to_async(_current_task_state)(*identity)


async def task_still_deferred(trigger: Any) -> bool:
    """True when the trigger's task instance is still deferred (the trigger lives on elsewhere).

    Unknown (no task instance attached, or Airflow could not answer) counts as not deferred: the
    caller is a kill path, and a kill with an unreadable state should still stop the spending.
    """
    try:
        state = await _task_state(trigger)
    except Exception as error:  # an unanswered query must not block a kill
        log.warning("Could not read the task state (%s); treating the task as gone", error)
        return False
    return state is not None and state.lower().endswith("deferred")


async def safe_to_stop_after_cancel(trigger: Any) -> bool:
    """Decide, in a cancelled trigger, whether the cancellation was a kill of the task.

    On 3.3+ kills arrive through ``on_kill`` and a cancellation means shutdown or reassignment:
    never stop then. Before 3.3 a kill, a shutdown and a reassignment all look alike; the task
    instance's state tells them apart (a moved trigger's task is still deferred). With no task
    instance attached (a trigger run outside Airflow) there is nothing to decide on: do not stop.
    """
    if trigger_has_on_kill():
        return False
    if _task_identity(trigger) is None:
        return False
    try:
        state = await _task_state(trigger)
    except Exception as error:
        log.warning("Could not read the task state after a cancellation (%s); not pausing", error)
        return False
    return state is not None and not state.lower().endswith("deferred")


def task_state_store(context: Any) -> Any | None:
    """The per-task store that survives retries (3.3+), or None where Airflow has none."""
    try:
        store = context.get("task_state_store")
    except AttributeError:
        return None
    return store


__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "mask_api_key",
    "safe_to_stop_after_cancel",
    "task_state_store",
    "task_still_deferred",
    "trigger_has_on_kill",
]
