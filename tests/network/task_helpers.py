"""Driving a task the way Airflow does, for the network tests: execute, run the trigger, complete."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from airflow.providers.common.compat.sdk import TaskDeferred

KEY = "SENTINEL-cloudos-key-7f3a9c"
WORKSPACE = "5c6d3e9bd954e800b23f8c62"


class FakeTI:
    """The task instance an operator sees; XCom pushes are kept, not sent anywhere."""

    try_number = 1

    def __init__(self) -> None:
        self.pushes: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushes[key] = value


def make_context() -> dict[str, Any]:
    return {"ti": FakeTI()}


def connection_json(url: str, *, key: str = KEY, workspace: str = WORKSPACE, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_*`` value for a ``cloudos`` connection to ``url`` with these extras."""
    fields = {"workspace_id": workspace, **extra}
    return json.dumps({"conn_type": "cloudos", "host": url, "password": key, "extra": fields})


def run_trigger(trigger: Any, limit: float = 60.0) -> dict[str, Any]:
    """Run ``trigger`` as the triggerer does; its one event's payload."""

    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    events = asyncio.run(asyncio.wait_for(collect(), timeout=limit))
    assert len(events) == 1, events
    return events[0]


def run_task(task: Any, context: dict[str, Any] | None = None) -> Any:
    """``execute``; on deferral, the trigger and then the method it names, as Airflow would."""
    context = context if context is not None else make_context()
    try:
        return task.execute(context)
    except TaskDeferred as deferred:
        event = run_trigger(deferred.trigger)
        return getattr(task, deferred.method_name)(context, event)
