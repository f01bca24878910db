"""Shared pieces of the operator tests: a fake task context and a way to run a deferral's trigger.

Operators are driven the way Airflow drives them, minus Airflow's machinery: ``execute`` is
called with a small context; a ``TaskDeferred`` is caught, its trigger is run like the triggerer
runs it, and the one event is fed back to the method the operator named.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_cloudos.operators.fleet import CloudOSPauseSessionsOperator
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

#: Wait settings that keep a test to a fraction of a second against ``StateTimings.fast()``.
FAST = {"poll_interval": 0.02, "timeout": 20}


class FakeTI:
    """The task instance an operator sees: records XCom pushes in order."""

    task_id = "task"
    map_index = -1

    def __init__(self, try_number: int = 1) -> None:
        self.try_number = try_number
        self.pushes: list[tuple[str, Any]] = []
        self.session_pushed = threading.Event()

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int | None = None) -> Any:
        """This task's own latest value under ``key`` (what a resumed task reads back)."""
        assert (task_ids, map_indexes) == (self.task_id, self.map_index)
        values = self.pushed(key)
        return values[-1] if values else None

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushes.append((key, value))
        if key == "session_id":
            self.session_pushed.set()

    def pushed(self, key: str) -> list[Any]:
        return [value for pushed_key, value in self.pushes if pushed_key == key]

    def last(self, key: str) -> Any:
        values = self.pushed(key)
        assert values, f"nothing pushed under {key!r}: {self.pushes}"
        return values[-1]


class FakeTaskStateStore:
    """Airflow 3.3's ``task_state_store``: per-task state that survives retries."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, retention: Any = None) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def rendered(factory: Any, **values: Any) -> Any:
    """A task whose ``values`` came from templates: built with Jinja, then given what it rendered to.

    Literal bad values are refused when a task is built; templated ones only after rendering,
    which is what this stands for (Airflow sets each rendered value on the task before ``execute``).
    """
    task = factory(**{parameter: "{{ params.value }}" for parameter in values})
    for parameter, value in values.items():
        setattr(task, parameter, value)
    return task


def make_context(store: FakeTaskStateStore | None = None, try_number: int = 1) -> dict[str, Any]:
    """A context as a task sees it; without ``store`` it is an Airflow without a state store."""
    context: dict[str, Any] = {"ti": FakeTI(try_number)}
    if store is not None:
        context["task_state_store"] = store
    return context


async def _first_event(trigger: CloudOSSessionTrigger, limit: float) -> dict[str, Any]:
    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    events = await asyncio.wait_for(collect(), timeout=limit)
    assert len(events) == 1, events
    return events[0]


def run_trigger(trigger: CloudOSSessionTrigger, limit: float = 20.0) -> dict[str, Any]:
    """Run the trigger like the triggerer does and return its one event's payload."""
    return asyncio.run(_first_event(trigger, limit))


def rebuilt(trigger: CloudOSSessionTrigger, **overrides: Any) -> CloudOSSessionTrigger:
    """The trigger as a triggerer re-creates it from ``serialize()``, with some kwargs replaced."""
    _, kwargs = trigger.serialize()
    kwargs.update(overrides)
    return CloudOSSessionTrigger(**kwargs)


def expiring(trigger: CloudOSSessionTrigger, seconds: float = 0.1) -> CloudOSSessionTrigger:
    """The same trigger with its deadline moved close, to test a timeout without waiting it out."""
    return rebuilt(trigger, end_time=time.time() + seconds)


def resume_from(deferred: TaskDeferred, task: Any, context: dict[str, Any]) -> Any:
    """Run the deferral's trigger and call the method the task named with the event."""
    event = run_trigger(deferred.trigger)
    return getattr(task, deferred.method_name)(context, event=event)


def trigger_kwargs(deferred: TaskDeferred) -> dict[str, Any]:
    assert isinstance(deferred.trigger, CloudOSSessionTrigger)
    return deferred.trigger.serialize()[1]


__all__ = [
    "FAST",
    "FakeTI",
    "FakeTaskStateStore",
    "expiring",
    "make_context",
    "rebuilt",
    "rendered",
    "resume_from",
    "run_trigger",
    "trigger_kwargs",
]


#: For fleet pauses: nothing provisions on its own; a pause takes 50 ms.
FLEET_STILL = StateTimings(scheduled=600, setup=600, initialising=600, aborting=0.05, resume_initialising=600)


def still_fleet(sim: CloudOSSimulator) -> CloudOSSimulator:
    """The simulator with ``FLEET_STILL`` timings: only pauses move."""
    sim.set_timings(FLEET_STILL)
    return sim


def pause_task(**kwargs: Any) -> CloudOSPauseSessionsOperator:
    """A fleet pause task polling every 20 ms for at most 20 s; ``kwargs`` add or override."""
    options: dict[str, Any] = {"task_id": "pause", "poll_interval": 0.02, "timeout": 20}
    options.update(kwargs)
    return CloudOSPauseSessionsOperator(**options)
