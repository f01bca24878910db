"""A wait that fails unexpectedly ends with an event, and pauses only a session the task owns.

A bare raise from the trigger fails the task without running anything of the provider's: the
session the task started would keep billing, unwatched. Whatever goes wrong (a bug, an answer
nobody foresaw, a connection that is gone), the trigger yields one ``error`` event that says what
happened, and, when the task owns the session (``stop_on_timeout``, which the operators set only
for a session the task started or resumed), pauses it first.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.testing import CloudOSSimulator
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger


def _trigger(session_id: str, *, owned: bool, conn_id: str = "cloudos_default") -> CloudOSSessionTrigger:
    return CloudOSSessionTrigger(
        session_id=session_id,
        end_time=time.time() + 20,
        poll_interval=0.02,
        cloudos_conn_id=conn_id,
        stop_on_timeout=owned,
        stop_on_kill=owned,
    )


def _events(trigger: CloudOSSessionTrigger) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [dict(event.payload) async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(collect(), timeout=20))


def _an_unforeseen_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(self: CloudOSHook, session_id: str, **options: Any) -> dict[str, Any]:
        raise RuntimeError("an answer nobody foresaw")

    monkeypatch.setattr(CloudOSHook, "aget_session", broken)


@pytest.mark.parametrize("owned", [True, False])
def test_an_unexpected_failure_ends_with_an_error_event_and_pauses_only_an_owned_session(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch, owned: bool
) -> None:
    session = cloudos_conn.add_session(name="broken-wait", status="initialising")
    _an_unforeseen_answer(monkeypatch)
    (event,) = _events(_trigger(session["_id"], owned=owned))
    assert event["status"] == "error", event
    assert "failed: RuntimeError: an answer nobody foresaw" in event["message"]
    assert event["stopped"] is owned
    paused = [request for request in cloudos_conn.abort_requests if request[0] == session["_id"]]
    assert bool(paused) is owned


def test_a_connection_that_is_gone_ends_with_an_error_event_naming_it(cloudos_conn: CloudOSSimulator) -> None:
    session = cloudos_conn.add_session(name="no-connection", status="initialising")
    (event,) = _events(_trigger(session["_id"], owned=True, conn_id="cloudos_deleted"))
    assert event["status"] == "error", event
    assert "Cannot use connection 'cloudos_deleted'" in event["message"]
