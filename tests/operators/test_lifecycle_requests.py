"""Requests per lifecycle step, counted by the simulator: none that tells the task nothing new.

A session's whole lifecycle (create → running → stop → paused → resume → running → stop →
paused) runs through the operators, blocking and deferrable, against a simulator on a manual
clock. Every wait's pause between polls moves that clock by exactly the poll interval (no wall
time), so each poll sees the state the schedule says and the counts are exact: a request more
(a re-read straight after an answer, a second list, a poll per phase too many) fails the test.

``bench/http_efficiency.py`` measures the same on a real clock; this is the CI guard.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from operator_helpers import make_context

from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient
from airflow_provider_cloudos.client.sync import CloudOSClient
from airflow_provider_cloudos.core.status import map_status
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings
from airflow_provider_cloudos.triggers import sessions as trigger_module

POLL = 1.0
#: One poll interval per phase, two to pause and to resume: each poll should see a new state.
TIMINGS = StateTimings(scheduled=1.0, setup=1.0, initialising=1.0, aborting=2.0, resume_initialising=2.0)

#: Requests per step, by endpoint: the same in both modes (the trigger polls as the worker would).
EXPECTED: dict[str, dict[str, int]] = {
    # resolve the project, look for a live session of that name (retry safety), create, look again
    # for an older one of that name (a duplicate made by a stalled try), then one poll per phase:
    # setup, initialising, running.
    "create": {"projects": 1, "list": 2, "create": 1, "get": 3},
    # read the state (running), ask to pause, read what the pause did (stopping), poll: stopping,
    # paused.
    "stop": {"get": 4, "abort": 1},
    # resume (its answer is the first state: initialising), then a poll each second of the 2 s
    # resume: initialising, running.
    "resume": {"get": 3, "resume": 1},
    "stop again": {"get": 4, "abort": 1},
}


class _ManualAsyncio:
    """The trigger module's ``asyncio`` with ``sleep`` moving the manual clock instead of waiting."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock

    async def sleep(self, seconds: float) -> None:
        self._clock.advance(seconds)
        await asyncio.sleep(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


class _ManualTime:
    """The trigger module's ``time``, moved by those sleeps: a whole second when the test starts, so
    the trigger's steps (multiples of its poll interval) fall where plain sleeps would."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock, self._start, self._epoch = clock, clock(), float(int(time.time()))

    def time(self) -> float:
        return self._epoch + (self._clock() - self._start)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def _status_in(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    status = payload.get("status") if isinstance(payload, dict) else None
    return map_status(status) if isinstance(status, str) else None


@pytest.fixture
def manual(sentinel_api_key: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CloudOSSimulator, list]]:
    """A manual-clock simulator as ``cloudos_default``; every wait moves that clock; reads logged."""
    clock = ManualClock()
    reads: list[tuple[str, str | None, float]] = []  # (endpoint, status it told, clock)
    sync_send, async_send = CloudOSClient._send, AsyncCloudOSClient._send

    def logged_sync(self: Any, request: Any, **kwargs: Any) -> Any:
        body = sync_send(self, request, **kwargs)
        reads.append((request.name, _status_in(body), clock()))
        return body

    async def logged_async(self: Any, request: Any, **kwargs: Any) -> Any:
        body = await async_send(self, request, **kwargs)
        reads.append((request.name, _status_in(body), clock()))
        return body

    wait = CloudOSHook.wait_for_status

    def wait_on_the_clock(self: CloudOSHook, *args: Any, **kwargs: Any) -> Any:
        return wait(self, *args, sleep=clock.advance, **kwargs)

    monkeypatch.setattr(CloudOSClient, "_send", logged_sync)
    monkeypatch.setattr(AsyncCloudOSClient, "_send", logged_async)
    monkeypatch.setattr(CloudOSHook, "wait_for_status", wait_on_the_clock)
    monkeypatch.setattr(trigger_module, "asyncio", _ManualAsyncio(clock))
    monkeypatch.setattr(trigger_module, "time", _ManualTime(clock))
    with CloudOSSimulator(timings=TIMINGS, api_key=sentinel_api_key, clock=clock) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", sim.connection_json())
        yield sim, reads


def _run(make: Callable[[], Any]) -> Any:
    """Run a task as Airflow does: execute, and on deferral the trigger then the named method."""
    context = make_context()
    try:
        return make().execute(context)
    except TaskDeferred as deferred:
        event = asyncio.run(asyncio.wait_for(_first_event(deferred.trigger), timeout=30))
        return getattr(make(), deferred.method_name)(context, event=event)


async def _first_event(trigger: Any) -> dict[str, Any]:
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1, events
    return events[0]


def _uninformative(reads: list[tuple[str, str | None, float]]) -> list[str]:
    """Status reads that returned what the task already knew, without the clock having moved."""
    known: tuple[str | None, float] | None = None
    wasted = []
    for endpoint, status, at in reads:
        if endpoint == "abort":
            known = None  # the pause's effect is unknown until read
        elif status is not None:
            if endpoint == "get" and known == (status, at):
                wasted.append(f"get re-read {status!r} at t={at}")
            known = (status, at)
    return wasted


@pytest.mark.parametrize("deferrable", [False, True], ids=["blocking", "deferrable"])
def test_each_lifecycle_step_sends_only_requests_that_tell_something_new(manual, deferrable):
    sim, reads = manual
    common: dict[str, Any] = {"deferrable": deferrable, "poll_interval": POLL, "timeout": 120}
    ids: list[str] = []
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            "create",
            lambda: CloudOSCreateSessionOperator(
                task_id="create", name="lifecycle", project_name=sim.project_name, **common
            ),
        ),
        ("stop", lambda: CloudOSStopSessionOperator(task_id="stop", session_id=ids[0], **common)),
        ("resume", lambda: CloudOSResumeSessionOperator(task_id="resume", session_id=ids[0], **common)),
        ("stop again", lambda: CloudOSStopSessionOperator(task_id="stop", session_id=ids[0], **common)),
    ]
    connections_per_step = 2 if deferrable else 1  # the worker's pooled client, the trigger's
    for step, make in steps:
        sim.counters.reset()
        reads.clear()
        result = _run(make)
        if step == "create":
            ids.append(result)
        counted = {name: count for name, count in sim.counters.snapshot()["requests"].items() if count}
        assert counted == EXPECTED[step], step
        assert _uninformative(reads) == [], step
        assert sim.counters.connections_accepted == connections_per_step, step
    assert sim.session(ids[0])["status"] == "aborted"
