"""Run an operator as Airflow's worker and triggerer would, without Airflow's services (for benchmarks).

``execute``; on ``TaskDeferred`` the trigger is serialized and rebuilt from its kwargs (as the
triggerer does), ``run()`` is iterated to its one event, and the resume method runs on a fresh
operator instance. XComs go to a small stand-in task instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class FakeTI:
    """The part of a task instance the operators use: XCom push, and pull of this task's own keys."""

    dag_id = "bench"
    run_id = "manual__bench"
    map_index = -1
    try_number = 1

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **kwargs: Any) -> Any:
        """What this task pushed under ``key`` (a task reads back only its own XComs here)."""
        return self.xcoms.get(key) if task_ids in (None, self.task_id) else None


async def first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise RuntimeError("the trigger ended without an event")


def rebuild(trigger: Any) -> Any:
    from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

    _, kwargs = trigger.serialize()
    return CloudOSSessionTrigger(**kwargs)


def run_operator(make: Callable[[], Any], on_phase: Callable[[str], None] | None = None) -> Any:
    """Run one try of the task made by ``make``; ``on_phase`` hears "execute", "trigger", "resume"."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    operator = make()
    context = {"ti": FakeTI(operator.task_id)}
    if on_phase:
        on_phase("execute")
    try:
        return operator.execute(context)
    except TaskDeferred as deferred:
        pending = deferred
    while True:
        if on_phase:
            on_phase("trigger")
        event = asyncio.run(first_event(rebuild(pending.trigger)))
        if on_phase:
            on_phase("resume")
        try:
            return getattr(make(), pending.method_name)(context, event=event, **(pending.kwargs or {}))
        except TaskDeferred as again:
            pending = again
