"""Secrets: the API key appears in no log line, XCom, trigger kwargs, exception or repr.

Every harness test is already scanned for the sentinel key (the autouse ``artefacts`` fixture).
This module adds the paths where a key is most likely to slip out: every failure the API can
answer, with debug logging on, through the sync client, the trigger and the operators, with the
connection given as JSON and as a URI; and a *refused* key, which must not be echoed either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from reliability_helpers import FAST_POLL, Artefacts, FakeTI, TaskDriver, first_event, record

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor
from airflow_provider_cloudos.testing import CloudOSSimulator
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

WRONG_KEY = "SENTINEL-refused-key-51d0e2"


@pytest.fixture(autouse=True)
def debug_logging(caplog: pytest.LogCaptureFixture) -> None:
    """The most talkative setting a user could choose."""
    caplog.set_level(logging.DEBUG)


def _operators(
    sim: CloudOSSimulator, session_id: str, deferrable: bool
) -> list[tuple[str, Callable[[], Any]]]:
    # Transient failures are waited out until the deadline: keep it short.
    common: dict[str, Any] = {"deferrable": deferrable, "poll_interval": FAST_POLL, "timeout": 0.5}
    return [
        (
            "create",
            lambda: CloudOSCreateSessionOperator(
                task_id="create", name="secret", project_name=sim.project_name, reuse_existing=True, **common
            ),
        ),
        ("stop", lambda: CloudOSStopSessionOperator(task_id="stop", session_id=session_id, **common)),
        ("resume", lambda: CloudOSResumeSessionOperator(task_id="resume", session_id=session_id, **common)),
        (
            "sensor",
            lambda: CloudOSSessionSensor(
                task_id="sensor",
                session_id=session_id,
                deferrable=deferrable,
                poke_interval=FAST_POLL,
                timeout=0.5,
            ),
        ),
    ]


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("unauthorized", 401),
        ("forbidden", 403),
        ("not found", 404),
        ("conflict", 409),
        ("server error", 500),
        ("rate limited", 429),
    ],
)
def test_no_failure_answer_carries_the_key(
    cloudos_conn: CloudOSSimulator,
    driver: TaskDriver,
    artefacts: Artefacts,
    deferrable: bool,
    answer: str,
    status: int,
) -> None:
    """Every operator and the sensor, with every endpoint failing with one status for good."""
    sim = cloudos_conn
    session_id = sim.add_session(name="secret", status="setup")["_id"]
    sim.faults.retry_after = 0.01
    runs = 0
    for _, make in _operators(sim, session_id, deferrable):
        sim.faults.fail_next("*", status=status, count=200, retry_after=0.01 if status == 429 else None)
        outcome = driver.run_task("task", make, max_tries=2)
        runs += 1
        assert outcome.failed is not None or outcome.result is not None
    sim.faults.clear()
    artefacts.add("repr", CloudOSHook())
    record("secrets", failure_paths=runs)


def test_reprs_and_trigger_kwargs_never_carry_the_key(
    cloudos_conn: CloudOSSimulator, artefacts: Artefacts, sentinel_api_key: str
) -> None:
    hook = CloudOSHook()
    things: list[Any] = [hook, hook.settings, hook.client, hook.get_conn()]

    async def async_client_repr() -> str:
        client = await hook.get_async_client()
        async with client:
            return repr(client) + str(client)

    things.append(asyncio.run(async_client_repr()))
    trigger = CloudOSSessionTrigger(session_id="a" * 24, end_time=0, stop_on_kill=True, stop_on_timeout=True)
    things.extend([trigger, trigger.serialize()])
    for thing in things:
        artefacts.add("repr", thing)
        artefacts.add("repr", str(thing))
        assert sentinel_api_key not in repr(thing)
        assert sentinel_api_key not in str(thing)
    record("secrets", reprs_checked=len(things))


@pytest.mark.parametrize("form", ["json", "uri"])
def test_a_refused_key_is_not_echoed_anywhere(
    simulator: CloudOSSimulator,
    driver: TaskDriver,
    artefacts: Artefacts,
    log_lines: Callable[[], list[str]],
    monkeypatch: pytest.MonkeyPatch,
    form: str,
) -> None:
    """A wrong key gets a 401; neither it nor the right one shows up in what the user sees."""
    sim = simulator
    connection = sim.connection_json() if form == "json" else sim.connection_uri()
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", connection.replace(sim.api_key, WRONG_KEY))
    session_id = sim.add_session(name="secret", status="setup")["_id"]
    for _, make in _operators(sim, session_id, deferrable=False):
        outcome = driver.run_task("task", make)
        assert outcome.failed is not None
        assert "401" in str(outcome.failed) or "API key" in str(outcome.failed), outcome.failed
    trigger = CloudOSSessionTrigger(session_id=session_id, end_time=9e9, poll_interval=FAST_POLL)
    event = asyncio.run(first_event(trigger))
    artefacts.add("event", event)
    assert event["status"] == "failure"
    assert sim.counters.responses(401) >= 5
    seen = [*log_lines(), *(text for texts in artefacts.items.values() for text in texts)]
    assert not [text for text in seen if WRONG_KEY in text]
    record("secrets", refused_key_paths=5)


def test_xcoms_of_a_full_lifecycle_never_carry_the_key(
    cloudos_conn: CloudOSSimulator, driver: TaskDriver, artefacts: Artefacts, sentinel_api_key: str
) -> None:
    sim = cloudos_conn
    context_ti = FakeTI("create", 1, artefacts)
    session_id = CloudOSCreateSessionOperator(
        task_id="create",
        name="xcom-secret",
        project_name=sim.project_name,
        poll_interval=FAST_POLL,
        timeout=10,
    ).execute({"ti": context_ti})
    for make in (
        lambda: CloudOSStopSessionOperator(task_id="stop", session_id=session_id, poll_interval=FAST_POLL),
        lambda: CloudOSResumeSessionOperator(
            task_id="resume", session_id=session_id, poll_interval=FAST_POLL
        ),
        lambda: CloudOSStopSessionOperator(task_id="stop", session_id=session_id, poll_interval=FAST_POLL),
    ):
        assert driver.run_task("task", make).result == session_id
    assert context_ti.xcoms, "the create task pushed its XComs"
    assert all(sentinel_api_key not in repr(value) for value in context_ti.xcoms.values())
    record("secrets", xcom_lifecycles=1)


def test_the_log_scan_sees_arguments_fields_and_tracebacks(log_lines: Callable[[], list[str]]) -> None:
    """The scan reads whole rendered lines: a key filled into ``%s``, passed as a field, or in a
    traceback is found, not only one written into the message itself."""
    key = "SENTINEL-scan-probe-0c41"
    std = logging.getLogger("airflow.task")
    std.warning("std logging, key as an argument: %s", key)
    try:
        raise RuntimeError(f"failed with {key}")
    except RuntimeError:
        std.exception("std logging, key only in the traceback")
    try:
        import structlog
    except ImportError:  # Airflow 2.11: std logging only
        found = [line for line in log_lines() if key in line]
        assert len(found) == 2, found
        return
    log = structlog.get_logger("airflow.task")
    log.warning("structlog, key as an argument: %s", key)
    log.warning("structlog, key as a field", api_key=key)
    found = [line for line in log_lines() if key in line]
    assert len(found) == 4, found
    assert not [line for line in log_lines() if "SENTINEL-unused" in line]
