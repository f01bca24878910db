"""A stalled try must not leave a second billing session for its task.

The field fault: a worker is frozen (SIGSTOP) while its create waits on the project lookup, past
Airflow's heartbeat timeout; the retry creates the session on another worker; the frozen worker
continues and its try sends its create too. Driven through the operator against the simulator,
the newer try's work is done from inside the stalled try's lookup or create request.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from operator_helpers import FakeTaskStateStore, make_context

from airflow_provider_cloudos.core.status import LIVE_STATUSES, RUNNING, map_status
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.sessions import STATE_STORE_KEY, CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import CloudOSSimulator

NAME = "analysis-2026-12-06"


def create(**kwargs: Any) -> CloudOSCreateSessionOperator:
    options = {"task_id": "create", "name": NAME, "project_name": "genomics", "wait_for_running": False}
    return CloudOSCreateSessionOperator(**{**options, **kwargs})


def during(monkeypatch: pytest.MonkeyPatch, method: str, meanwhile: Any) -> None:
    """Run ``meanwhile`` once as the hook's ``method`` starts: what a newer try did during the stall."""
    original = getattr(CloudOSHook, method)
    done: list[bool] = []

    def stalled(hook: CloudOSHook, *args: Any, **kwargs: Any) -> Any:
        if not done:
            done.append(True)
            meanwhile()
        return original(hook, *args, **kwargs)

    monkeypatch.setattr(CloudOSHook, method, stalled)


def newer_try_creates_during_lookup(
    sim: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch, store: FakeTaskStateStore | None
) -> dict[str, Any]:
    """The newer try's session, filled in when it creates it during this try's project lookup (and
    keeps its id in ``store``, as a try does on 3.3+)."""
    newer: dict[str, Any] = {}

    def newer_try_creates() -> None:
        newer.update(sim.add_session(name=NAME, status="ready"))
        if store is not None:
            store.set(STATE_STORE_KEY, newer["_id"])

    during(monkeypatch, "resolve_project_id", newer_try_creates)
    return newer


def live(sim: CloudOSSimulator, session_id: str) -> bool:
    return map_status(sim.session(session_id)["status"]) in LIVE_STATUSES


@pytest.mark.parametrize("kept_in_store", [True, False], ids=["state store", "by name"])
def test_a_newer_tries_session_made_during_the_project_lookup_is_carried_on_with(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch, log_messages: Any, kept_in_store: bool
) -> None:
    store = FakeTaskStateStore() if kept_in_store else None
    newer = newer_try_creates_during_lookup(cloudos_conn, monkeypatch, store)
    context = make_context(store)

    assert create().execute(context) == newer["_id"]

    assert cloudos_conn.counters.requests("create") == 0
    assert context["ti"].last("session_id") == newer["_id"]
    assert cloudos_conn.abort_requests == []
    assert live(cloudos_conn, newer["_id"])
    assert any(newer["_id"] in m and "instead of creating a second one" in m for m in log_messages())


def test_a_stale_try_killed_after_carrying_on_with_a_newer_tries_session_leaves_it_running(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The frozen try continues, finds in the task state store the session its retry made, and is
    then killed by its supervisor (Airflow has failed this try): that session is the retry's."""
    store = FakeTaskStateStore()
    newer = newer_try_creates_during_lookup(cloudos_conn, monkeypatch, store)
    task = create()
    task.execute(make_context(store))

    task.on_kill()

    assert cloudos_conn.abort_requests == []
    assert live(cloudos_conn, newer["_id"])


def test_a_try_killed_during_its_lookups_sends_no_create(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frozen try continues; its supervisor learns first that Airflow failed the try and
    SIGTERMs it while the try still reads the project lookup's answer. The handler returns and
    the try runs on until SIGKILL: it must not create a session now."""
    task = create()
    during(monkeypatch, "resolve_project_id", task.on_kill)

    with pytest.raises(AirflowException, match="killed before it created session"):
        task.execute(make_context(FakeTaskStateStore()))

    assert cloudos_conn.counters.requests("create") == 0
    assert cloudos_conn.sessions() == []


def test_a_session_another_try_created_during_this_create_makes_this_one_the_paused_duplicate(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch, log_messages: Any
) -> None:
    other: dict[str, Any] = {}
    during(monkeypatch, "create_session", lambda: other.update(cloudos_conn.add_session(name=NAME)))
    task = create()

    with pytest.raises(AirflowFailException) as failed:
        task.execute(make_context())

    ours = next(s["_id"] for s in cloudos_conn.sessions() if s["_id"] != other["_id"])
    message = str(failed.value)
    assert other["_id"] in message
    assert ours in message
    assert "paused as the duplicate" in message
    assert cloudos_conn.abort_requests == [(ours, False, False)]  # ours, once, without upload
    assert map_status(cloudos_conn.session(other["_id"])["status"]) == RUNNING  # the other's, untouched
    assert any("two sessions named" in m for m in log_messages())

    task.on_kill()  # a kill after the failure pauses nothing a second time
    assert len(cloudos_conn.abort_requests) == 1


def test_a_newer_same_named_session_is_not_this_tries_duplicate(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The try whose session is older keeps it: only the later of two creates is the duplicate."""
    original = CloudOSHook.create_session
    later: dict[str, Any] = {}

    def create_then_another(hook: CloudOSHook, payload: dict[str, Any]) -> dict[str, Any]:
        created = original(hook, payload)
        later.update(cloudos_conn.add_session(name=NAME))
        return created

    monkeypatch.setattr(CloudOSHook, "create_session", create_then_another)

    ours = create().execute(make_context())

    assert cloudos_conn.abort_requests == []
    assert live(cloudos_conn, ours)
    assert live(cloudos_conn, later["_id"])


def test_without_reuse_existing_nothing_is_looked_up_by_name(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    during(monkeypatch, "create_session", lambda: cloudos_conn.add_session(name=NAME))

    created = create(reuse_existing=False).execute(make_context())

    assert cloudos_conn.counters.requests("list") == 0
    assert cloudos_conn.abort_requests == []
    assert live(cloudos_conn, created)


def test_an_ordinary_create_costs_one_list_read_more(cloudos_conn: CloudOSSimulator) -> None:
    """One list before the create (as before: the retry safety) and one after it (duplicates)."""
    create(reuse_existing=False).execute(make_context())
    without = cloudos_conn.counters.snapshot()["requests"]
    cloudos_conn.counters.reset()

    create(name="another-name").execute(make_context(FakeTaskStateStore()))
    asked = cloudos_conn.counters.snapshot()["requests"]

    assert {k: v for k, v in asked.items() if v} == {**{k: v for k, v in without.items() if v}, "list": 2}


def test_a_newer_tries_stored_session_stops_the_create_even_without_reuse_existing(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task state store alone (no name lookup with reuse_existing=False): a try that is no
    longer the task's current one sends no create."""
    store = FakeTaskStateStore()
    newer = newer_try_creates_during_lookup(cloudos_conn, monkeypatch, store)

    assert create(reuse_existing=False).execute(make_context(store)) == newer["_id"]

    assert cloudos_conn.counters.requests("create") == 0
    assert cloudos_conn.counters.requests("list") == 0
    assert live(cloudos_conn, newer["_id"])
