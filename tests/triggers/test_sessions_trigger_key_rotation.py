"""An API key rotated while a wait is deferred: the trigger reads the connection anew and carries on.

Failing the task on the first 401 would leave the session it started billing with nobody watching
it. The new key is in the connection by then (a secrets backend, an environment variable, the
database), so the trigger reads the connection once more; only a key still refused after that
fails the wait, and the message says so.

The rotation happens right after the trigger's first read of the connection (a wrapper around that
read), so the order of events is fixed, not left to timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.testing import CloudOSSimulator
from airflow_provider_cloudos.triggers.fleet import CloudOSFleetTrigger
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

NEW_KEY = "ROTATED-cloudos-key-41c2e8"


async def _first_event(trigger: CloudOSSessionTrigger | CloudOSFleetTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def _trigger(session_id: str) -> CloudOSSessionTrigger:
    import time

    return CloudOSSessionTrigger(session_id=session_id, end_time=time.time() + 20, poll_interval=0.02)


def _rotate_after_first_read(
    monkeypatch: pytest.MonkeyPatch, sim: CloudOSSimulator, *, update_connection: bool
) -> list[int]:
    """CloudOS takes a new key just after the trigger read the connection; the connection gets it
    too when ``update_connection``. Returns the list that counts the trigger's connection reads."""
    original = CloudOSHook.aget_settings
    reads: list[int] = []

    async def read_then_rotate(self: CloudOSHook) -> Any:
        settings = await original(self)
        reads.append(1)
        if len(reads) == 1:
            sim.rotate_api_key(NEW_KEY)
            if update_connection:
                monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", sim.connection_json())
        return settings

    monkeypatch.setattr(CloudOSHook, "aget_settings", read_then_rotate)
    return reads


@pytest.mark.asyncio
async def test_a_key_rotated_during_the_wait_is_read_anew_and_the_wait_reaches_running(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch, log_messages: Any
) -> None:
    session = cloudos_conn.add_session(name="rotated", status="initialising")
    reads = _rotate_after_first_read(monkeypatch, cloudos_conn, update_connection=True)
    event = await _first_event(_trigger(session["_id"]))
    assert event["status"] == "success", event
    assert len(reads) == 2  # the start, and once after the refusal
    assert cloudos_conn.counters.responses(401) == 1
    wanted = "reading connection 'cloudos_default' anew (a rotated key) and carrying on with the wait"
    assert any(message.endswith(wanted) for message in log_messages()), log_messages()


@pytest.mark.asyncio
async def test_a_key_still_refused_after_the_reread_fails_the_wait_saying_so(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch, sentinel_api_key: str
) -> None:
    session = cloudos_conn.add_session(name="revoked", status="initialising")
    reads = _rotate_after_first_read(monkeypatch, cloudos_conn, update_connection=False)
    event = await _first_event(_trigger(session["_id"]))
    assert event["status"] == "failure", event
    assert "refused again after connection 'cloudos_default' was read anew" in event["message"]
    assert "401" in event["message"] or "API key" in event["message"], event["message"]
    assert len(reads) == 2
    assert cloudos_conn.counters.responses(401) == 2  # one re-read, never a loop of them
    assert sentinel_api_key not in json.dumps(event)
    assert NEW_KEY not in json.dumps(event)


@pytest.mark.asyncio
async def test_a_refusal_without_a_rotation_is_not_retried_forever(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong key from the start: one re-read, then the failure (no request loop on a bad key)."""
    session = cloudos_conn.add_session(name="wrong", status="initialising")
    cloudos_conn.rotate_api_key(NEW_KEY)  # the connection never had the right key
    event = await _first_event(_trigger(session["_id"]))
    assert event["status"] == "failure", event
    assert cloudos_conn.counters.responses(401) == 2


def _fleet_trigger(session_ids: list[str]) -> CloudOSFleetTrigger:
    import time

    return CloudOSFleetTrigger(session_ids=session_ids, end_time=time.time() + 20, poll_interval=0.02)


@pytest.mark.asyncio
async def test_the_fleet_wait_reads_a_rotated_key_anew_once_for_the_whole_round(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pausing = [cloudos_conn.add_session(name=f"pausing-{n}", status="aborting")["_id"] for n in range(3)]
    reads = _rotate_after_first_read(monkeypatch, cloudos_conn, update_connection=True)
    event = await _first_event(_fleet_trigger(pausing))
    assert event["status"] == "success", event
    assert len(reads) == 2  # one re-read serves every session of the round
    assert cloudos_conn.counters.responses(401) == 4  # the round's listing, then each session's read


@pytest.mark.asyncio
async def test_the_fleet_wait_fails_the_sessions_whose_key_is_refused_again(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pausing = [cloudos_conn.add_session(name=f"pausing-{n}", status="aborting")["_id"] for n in range(2)]
    _rotate_after_first_read(monkeypatch, cloudos_conn, update_connection=False)
    event = await _first_event(_fleet_trigger(pausing))
    assert event["status"] == "failure", event
    assert "Invalid API key" in event["message"], event["message"]
    assert cloudos_conn.counters.responses(401) == 4  # each session: refused, then refused again


_CHILD = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
    from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

    original = CloudOSHook.aget_settings
    reads = []

    async def read_then_wait(self):
        settings = await original(self)
        reads.append(1)
        if len(reads) == 1:  # the parent rotates the key now; carry on when it says so
            print("READ", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
        return settings

    CloudOSHook.aget_settings = read_then_wait

    async def main():
        trigger = CloudOSSessionTrigger(session_id=sys.argv[1], end_time=time.time() + 30, poll_interval=0.05)
        async for event in trigger.run():
            print("EVENT " + json.dumps({**event.payload, "reads": len(reads)}), flush=True)
            return

    asyncio.run(main())
    """
)


def _connections_file(path: Path, sim: CloudOSSimulator) -> None:
    path.write_text(json.dumps({"cloudos_default": json.loads(sim.connection_json())}))


def test_a_secrets_backend_file_rotated_during_the_wait_is_read_anew(
    cloudos_conn: CloudOSSimulator, tmp_path: Path
) -> None:
    """Airflow's LocalFilesystemBackend, in a fresh process whose only source of the connection is
    that file: the file changes while the trigger waits, and the wait ends as the session runs."""
    session = cloudos_conn.add_session(name="rotated-file", status="initialising")
    connections = tmp_path / "connections.json"
    _connections_file(connections, cloudos_conn)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW_CONN_")}
    env.update(
        {
            "AIRFLOW__SECRETS__BACKEND": "airflow.secrets.local_filesystem.LocalFilesystemBackend",
            "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps({"connections_file_path": str(connections)}),
        }
    )
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, session["_id"]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        assert child.stdin is not None
        for line in child.stdout:
            if line.startswith("READ"):
                break
        else:
            raise AssertionError(f"the trigger never read its connection: {child.stderr.read()}")
        cloudos_conn.rotate_api_key(NEW_KEY)
        _connections_file(connections, cloudos_conn)
        child.stdin.write("go\n")
        child.stdin.flush()
        events = [line for line in child.stdout if line.startswith("EVENT ")]
    finally:
        if child.stdin:
            child.stdin.close()
        returncode = child.wait(timeout=60)
    assert returncode == 0, child.stderr.read() if child.stderr else returncode
    assert len(events) == 1, events
    event = json.loads(events[0].removeprefix("EVENT "))
    assert event["status"] == "success", event
    assert event["reads"] == 2
    assert cloudos_conn.counters.responses(401) == 1
