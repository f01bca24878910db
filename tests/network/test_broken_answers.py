"""Every kind of broken answer ends by the deadline, with a message that names the problem.

One misbehaving server on 127.0.0.1 per case (stall after the headers, a dripped body, a body
over the cap, a reset, a redirect off-host, HTML, non-JSON, JSON of the wrong shape, statuses
nobody documented), met by the three callers a user has: the blocking client, a sensor's first
look (and the trigger it defers to) and a trigger on its own. Deadlines are a couple of seconds
while a stall lasts a minute, so only a kept deadline ends a case in time; what is asserted is
the outcome and its message, never how long it took.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, AirflowSensorTimeout
from misbehaving_server import SESSION_ID, MisbehavingServer
from task_helpers import KEY, WORKSPACE, connection_json, run_task, run_trigger

from airflow_provider_cloudos.client import AsyncCloudOSClient, CloudOSClient, RetryPolicy
from airflow_provider_cloudos.client.transport import call_deadline
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSDeadlineError,
    CloudOSResponseTooLargeError,
    CloudOSTransientError,
)
from airflow_provider_cloudos.hooks import cloudos as hook_module
from airflow_provider_cloudos.operators.fleet import CloudOSPauseSessionsOperator
from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

DEADLINE_SECONDS = 2.0
DEADLINE_REACHED = "was reached"
TOO_LARGE = "too large to read"

#: What the blocking client raises for each behaviour (None: it returns the odd object as is),
#: and words its message must contain.
CLIENT_OUTCOMES: dict[str, tuple[type[Exception] | None, tuple[str, ...]]] = {
    "stall": (CloudOSDeadlineError, ("stopped after", "1 attempt", "the test's deadline", DEADLINE_REACHED)),
    "drip": (CloudOSDeadlineError, ("stopped after", "the test's deadline", DEADLINE_REACHED)),
    "drip_chunked": (CloudOSDeadlineError, ("stopped after", "the test's deadline", DEADLINE_REACHED)),
    "drip_headers": (CloudOSDeadlineError, ("stopped after", "the test's deadline", DEADLINE_REACHED)),
    "too_large_announced": (
        CloudOSResponseTooLargeError,
        (TOO_LARGE, "announced 50.0 MB", "max_response_mb"),
    ),
    "too_large_streamed": (CloudOSResponseTooLargeError, (TOO_LARGE, "more than 5.0 MB", "max_response_mb")),
    "reset": (CloudOSDeadlineError, ("the test's deadline", DEADLINE_REACHED, "last failure")),
    "redirect": (CloudOSAPIError, ("302 Found", "redirected", "check the CloudOS URL")),
    "html": (CloudOSAPIError, ("not JSON", "Please sign in", "points at the API")),
    "not_json": (CloudOSAPIError, ("not JSON", "OK, all fine here")),
    "json_list": (CloudOSAPIError, ("JSON list where an object was expected",)),
    "json_without_status": (None, ()),
    "unknown_session_status": (None, ()),
    "status_418": (CloudOSAPIError, ("418", "unexpected answer", "short and stout")),
    "status_599": (CloudOSAPIError, ("599", "unexpected answer")),
}
RETURNED = {
    "json_without_status": {"result": "maybe"},
    "unknown_session_status": {"_id": SESSION_ID, "name": "odd", "status": "exploding"},
}
#: Behaviours after which a caller keeps waiting (the answer says nothing final) until its deadline.
KEEPS_WAITING = {"json_without_status": "unknown", "unknown_session_status": "exploding"}
#: Behaviours whose message is the deadline's, not the server's.
ENDS_AT_DEADLINE = {"stall", "drip", "drip_chunked", "drip_headers", "reset"}
#: Behaviours that drip: the client must hang up on them by its deadline, not when the drip ends.
DRIPS = {"drip", "drip_chunked", "drip_headers"}


def assert_hung_up(server: MisbehavingServer) -> None:
    """The client left the dripping answer by itself (an event, not a clock: the drip outlasts
    every deadline here by far, so a client that waits it out never sets it in time)."""
    if server.behaviour in DRIPS:
        assert server.client_left.wait(10), "the client held the dripping answer past its deadline"


def assert_readable(message: str) -> None:
    """A message for a person: no traceback, no API key."""
    assert "Traceback" not in message
    assert 'File "' not in message
    assert KEY not in message


@pytest.fixture
def short_last_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """A trigger's look at its deadline may take 0.5 s here instead of 5 s."""
    monkeypatch.setattr(hook_module, "LAST_LOOK_SECONDS", 0.5)


@pytest.mark.parametrize("behaviour", MisbehavingServer.BEHAVIOURS)
def test_the_blocking_client_ends_by_the_deadline_with_a_clear_message(behaviour):
    expected, words = CLIENT_OUTCOMES[behaviour]
    deadline = call_deadline(time.time() + DEADLINE_SECONDS, "the test's deadline (2s)")
    with (
        MisbehavingServer(behaviour) as server,
        CloudOSClient(server.url, KEY, WORKSPACE) as client,
        deadline,
    ):
        if expected is None:
            # JSON objects of an odd shape are handed over as they are: the status model decides.
            assert client.get_session(SESSION_ID) == RETURNED[behaviour]
            return
        with pytest.raises(expected) as raised:
            client.get_session(SESSION_ID)
        assert_hung_up(server)
    message = str(raised.value)
    for word in words:
        assert word in message, message
    assert "GET /api/v2/interactive-sessions/" in message
    assert_readable(message)


@pytest.mark.parametrize("behaviour", MisbehavingServer.BEHAVIOURS)
def test_a_deferrable_sensor_ends_by_its_timeout_with_a_clear_message(
    behaviour, monkeypatch, short_last_look
):
    words = CLIENT_OUTCOMES[behaviour][1]
    with MisbehavingServer(behaviour) as server:
        monkeypatch.setenv("AIRFLOW_CONN_BROKEN", connection_json(server.url))
        sensor = CloudOSSessionSensor(
            task_id="wait",
            session_id=SESSION_ID,
            cloudos_conn_id="broken",
            deferrable=True,
            timeout=DEADLINE_SECONDS,
            poke_interval=0.2,
        )
        failure = (
            AirflowSensorTimeout
            if behaviour in ENDS_AT_DEADLINE | set(KEEPS_WAITING)
            else AirflowFailException
        )
        with pytest.raises(failure) as raised:
            run_task(sensor)
    message = str(raised.value)
    if behaviour in KEEPS_WAITING:
        # The first look found no final state, so the trigger waited until the sensor's timeout.
        assert "did not become running within" in message
        assert f"last status: {KEEPS_WAITING[behaviour]}" in message
    elif behaviour in ENDS_AT_DEADLINE:
        assert "the sensor's timeout (2s)" in message
        assert DEADLINE_REACHED in message
    else:
        for word in words:
            assert word in message, message
    assert_readable(message)


@pytest.mark.parametrize("behaviour", MisbehavingServer.BEHAVIOURS)
def test_a_trigger_ends_by_its_end_time_with_a_clear_message(behaviour, monkeypatch, short_last_look):
    words = CLIENT_OUTCOMES[behaviour][1]
    with MisbehavingServer(behaviour) as server:
        monkeypatch.setenv("AIRFLOW_CONN_BROKEN", connection_json(server.url))
        trigger = CloudOSSessionTrigger(
            session_id=SESSION_ID,
            end_time=time.time() + DEADLINE_SECONDS,
            cloudos_conn_id="broken",
            poll_interval=0.2,
        )
        event = run_trigger(trigger)
    message = event["message"]
    if behaviour in KEEPS_WAITING:
        assert event["status"] == "timeout"
        assert f"last status: {KEEPS_WAITING[behaviour]}" in message
    elif behaviour in ENDS_AT_DEADLINE:
        assert event["status"] == "error"
        assert "kept failing until the deadline" in message
        assert "the trigger's end_time" in message
        assert DEADLINE_REACHED in message
    else:
        assert event["status"] == "failure"
        for word in words:
            assert word in message, message
    assert_readable(message)


@pytest.mark.parametrize("behaviour", ["stall", "drip", "drip_headers", "reset"])
def test_an_operator_ends_by_its_timeout_with_a_clear_message(behaviour, monkeypatch):
    """A create whose first call (the project lookup) meets a broken server: the operator's
    ``timeout`` bounds the calls too, not only the wait for ``running``."""
    with MisbehavingServer(behaviour) as server:
        monkeypatch.setenv("AIRFLOW_CONN_BROKEN", connection_json(server.url))
        create = CloudOSCreateSessionOperator(
            task_id="create", name="stalled", project_name="genomics", cloudos_conn_id="broken", timeout=2
        )
        with pytest.raises(AirflowException) as raised:
            run_task(create)
    message = str(raised.value)
    assert "CloudOS API GET /api/v2/projects" in message
    assert "the deadline of the operator's timeout (2s) was reached" in message
    assert_readable(message)


@pytest.mark.parametrize("behaviour", ["drip", "drip_headers"])
@pytest.mark.parametrize("client_class", [CloudOSClient, AsyncCloudOSClient])
def test_without_a_task_deadline_one_attempt_still_has_a_total_time(client_class, behaviour):
    """A dripped answer (body or headers) never trips a read timeout; the attempt's total time ends it."""
    once = RetryPolicy(max_attempts=1)
    with MisbehavingServer(behaviour) as server:
        if client_class is CloudOSClient:
            client = CloudOSClient(server.url, KEY, WORKSPACE, total_timeout=1.0, retry_policy=once)
            with client, pytest.raises(CloudOSTransientError) as raised:
                client.get_session(SESSION_ID)
        else:

            async def look() -> None:
                async with AsyncCloudOSClient(
                    server.url, KEY, WORKSPACE, timeout=1.0, retry_policy=once
                ) as client:
                    await client.get_session(SESSION_ID)

            with pytest.raises(CloudOSTransientError) as raised:
                asyncio.run(look())
        assert_hung_up(server)
    assert not isinstance(raised.value, CloudOSDeadlineError)
    message = str(raised.value)
    assert "CloudOS API unreachable for GET /api/v2/interactive-sessions/" in message
    assert "no complete answer within 1s (the total time allowed for one attempt)" in message
    assert_readable(message)


@pytest.mark.parametrize("behaviour", ["stall", "drip"])
def test_the_fleet_pause_ends_by_its_timeout_with_a_clear_message(behaviour, monkeypatch):
    """Selecting the sessions to pause is a call too: the operator's ``timeout`` bounds it."""
    with MisbehavingServer(behaviour) as server:
        monkeypatch.setenv("AIRFLOW_CONN_BROKEN", connection_json(server.url))
        pause = CloudOSPauseSessionsOperator(task_id="pause_all", cloudos_conn_id="broken", timeout=2)
        with pytest.raises(AirflowException) as raised:
            run_task(pause)
    message = str(raised.value)
    assert "CloudOS API GET /api/v3/interactive-sessions" in message
    assert "the deadline of the operator's timeout (2s) was reached" in message
    assert_readable(message)
