"""What the reliability harness needs to run operators the way Airflow does, without Airflow's services.

* :class:`FakeTI` and :class:`MemoryStateStore` stand in for the task instance (XCom) and the
  per-task state store that survives retries (Airflow 3.3+).
* :class:`TaskDriver` runs one task like a worker and a triggerer would: ``execute``; on
  ``TaskDeferred`` it serializes the trigger, rebuilds it from its kwargs (as the triggerer does,
  through a JSON round trip like the metadata database), runs ``run()`` to its one event and calls
  the resume method on a *fresh* operator instance; it models Airflow's task retries by running
  a new try on a new operator instance until one succeeds, ``AirflowFailException`` ends the task,
  or the tries are used up.
* :class:`Artefacts` collects every string a user or an operator could ever see (XComs, trigger
  kwargs, events, exceptions, reprs) so the secrets check can scan them all.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred

from airflow_provider_cloudos.core.status import map_status
from airflow_provider_cloudos.testing import CloudOSSimulator
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

#: Seconds between polls for every wait in the harness: sessions change state every ~50 ms.
FAST_POLL = 0.02

#: The harness report: figures by section, written to ``CLOUDOS_HARNESS_REPORT`` at the end.
REPORT: dict[str, dict[str, Any]] = {}


def record(section: str, **figures: Any) -> None:
    """Add figures to one section of the harness report (numbers add up across tests)."""
    target = REPORT.setdefault(section, {})
    for key, value in figures.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            target[key] = target.get(key, 0) + value
        else:
            target[key] = value


class Artefacts:
    """Every user-visible string the harness produced, by kind, for the secrets scan."""

    def __init__(self) -> None:
        self.items: dict[str, list[str]] = {}

    def add(self, kind: str, value: Any) -> None:
        texts = self.items.setdefault(kind, [])
        if isinstance(value, BaseException):
            texts.extend([str(value), repr(value)])
            cause = value.__cause__ or value.__context__
            if cause is not None and cause is not value:
                texts.extend([str(cause), repr(cause)])
            return
        texts.append(value if isinstance(value, str) else repr(value))
        if isinstance(value, (dict, list)):
            texts.append(json.dumps(value, default=repr))

    def leaks(self, secret: str) -> list[tuple[str, str]]:
        return [(kind, text) for kind, texts in self.items.items() for text in texts if secret in text]

    def counts(self) -> dict[str, int]:
        return {kind: len(texts) for kind, texts in sorted(self.items.items())}


class FakeTI:
    """Enough of a task instance for the operators: XCom push (recorded) and identity."""

    dag_id = "reliability"
    run_id = "manual__harness"
    map_index = -1

    def __init__(self, task_id: str, try_number: int, artefacts: Artefacts) -> None:
        self.task_id = task_id
        self.try_number = try_number
        self.xcoms: dict[str, Any] = {}
        self._artefacts = artefacts

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value
        self._artefacts.add("xcom", value)


class MemoryStateStore:
    """Airflow 3.3's ``task_state_store``: per task, kept across tries."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, retention: Any = None) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


async def first_event(trigger: CloudOSSessionTrigger) -> dict[str, Any]:
    """Run the trigger like the triggerer: iterate ``run()`` and take its first event."""
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


@dataclass
class TaskOutcome:
    """How one task ended after all its tries."""

    result: Any = None
    tries: int = 0
    deferrals: int = 0
    errors: list[str] = field(default_factory=list)
    failed: BaseException | None = None


class TaskDriver:
    """Runs operators like Airflow's worker + triggerer, recording artefacts and counts."""

    def __init__(self, artefacts: Artefacts, *, trigger_limit: float = 60.0) -> None:
        self.artefacts = artefacts
        self.trigger_limit = trigger_limit
        self.trigger_runs = 0

    def rebuild_trigger(self, trigger: CloudOSSessionTrigger) -> CloudOSSessionTrigger:
        """What the triggerer does: classpath + kwargs (stored as JSON), then a new instance."""
        classpath, kwargs = trigger.serialize()
        assert classpath == "airflow_provider_cloudos.triggers.sessions.CloudOSSessionTrigger"
        stored = json.loads(json.dumps(kwargs))
        self.artefacts.add("trigger_kwargs", stored)
        rebuilt = CloudOSSessionTrigger(**stored)
        self.artefacts.add("repr", rebuilt)
        return rebuilt

    def run_trigger(self, trigger: CloudOSSessionTrigger) -> dict[str, Any]:
        self.trigger_runs += 1
        event = asyncio.run(asyncio.wait_for(first_event(trigger), timeout=self.trigger_limit))
        self.artefacts.add("event", event)
        return event

    def run_try(self, make_operator: Callable[[], Any], context: dict[str, Any], outcome: TaskOutcome) -> Any:
        """One try: execute, and while it defers, trigger → resume method on a fresh instance."""
        operator = make_operator()
        self.artefacts.add("repr", operator)
        try:
            return operator.execute(context)
        except TaskDeferred as deferred:
            pending = deferred
        while True:
            outcome.deferrals += 1
            trigger = pending.trigger
            if pending.timeout is not None:
                # Airflow's own deferral timeout must fire after the trigger's deadline, never before:
                # only the trigger can pause the session when the wait runs out.
                assert pending.timeout.total_seconds() > trigger.end_time - time.time()
            event = self.run_trigger(self.rebuild_trigger(trigger))
            resumed = make_operator()
            try:
                return getattr(resumed, pending.method_name)(context, event=event, **(pending.kwargs or {}))
            except TaskDeferred as again:
                pending = again

    def run_task(
        self,
        task_id: str,
        make_operator: Callable[[], Any],
        *,
        max_tries: int = 1,
        store: MemoryStateStore | None = None,
    ) -> TaskOutcome:
        """Airflow's retries: a new try (new operator, new XCom) after any failure but a fail-fast one."""
        outcome = TaskOutcome()
        for try_number in range(1, max_tries + 1):
            outcome.tries = try_number
            ti = FakeTI(task_id, try_number, self.artefacts)
            context: dict[str, Any] = {"ti": ti}
            if store is not None:
                context["task_state_store"] = store
            try:
                outcome.result = self.run_try(make_operator, context, outcome)
                return outcome
            except AirflowFailException as error:
                self.artefacts.add("exception", error)
                outcome.errors.append(str(error))
                outcome.failed = error
                return outcome
            except Exception as error:
                self.artefacts.add("exception", error)
                outcome.errors.append(f"{type(error).__name__}: {error}")
                outcome.failed = error
        return outcome


def sessions_named(sim: CloudOSSimulator, name: str) -> list[dict[str, Any]]:
    return [session for session in sim.sessions() if session.get("name") == name]


def display_status(sim: CloudOSSimulator, session_id: str) -> str:
    return map_status(sim.session(session_id)["status"])


def running_sessions(sim: CloudOSSimulator, ids: Iterable[str] | None = None) -> list[str]:
    """Sessions that are running or on their way to running (what keeps billing)."""
    wanted = None if ids is None else set(ids)
    return [
        session["_id"]
        for session in sim.sessions()
        if (wanted is None or session["_id"] in wanted)
        and map_status(session["status"]) in ("scheduled", "setup", "initialising", "running")
    ]


def wait_until(condition: Callable[[], bool], limit: float = 10.0, step: float = 0.005) -> None:
    """Poll a condition; the limit only bounds a broken run (it is never what a test measures)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {limit}s")
        time.sleep(step)


async def async_wait_until(condition: Callable[[], bool], limit: float = 10.0, step: float = 0.005) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {limit}s")
        await asyncio.sleep(step)
