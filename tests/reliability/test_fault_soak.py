"""Fault soak: full session lifecycles through the operators while the API misbehaves.

Each lifecycle is create → running → stop → paused → resume → running → stop → paused, every
step an operator run the way Airflow runs it (sync, or deferred with the trigger run to its
event), with Airflow's task retries modelled: a failed try is followed by a new try on a fresh
operator instance. The simulator answers 20% of requests 503, drops 5% of connections and
answers some 429 with ``Retry-After``; on top, some create responses are lost *after* the
session was created (the case that makes a naive retry bill twice).

The client retries a create only after a 429 (nothing was done), so a lost answer fails that
try; the next try's ``reuse_existing`` finds the session by name (or by the task state store)
instead of creating a second one. The soak passes when every lifecycle succeeds, each created
exactly one session, and none is left running.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from reliability_helpers import (
    FAST_POLL,
    MemoryStateStore,
    TaskDriver,
    TaskOutcome,
    display_status,
    record,
    running_sessions,
    sessions_named,
)

from airflow_provider_cloudos.client.sync import CloudOSClient
from airflow_provider_cloudos.core.errors import CloudOSTransientError
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator

LIFECYCLES = 60
ERROR_RATE = 0.20
DROP_RATE = 0.05
RATE_LIMIT_RATE = 0.05
RETRY_AFTER_SECONDS = 0.05
LOST_CREATE_RESPONSE_RATE = 0.20
#: Airflow's ``retries`` for every task of the lifecycle (tries = retries + 1).
MAX_TRIES = 10


@dataclass
class Lifecycle:
    name: str
    deferrable: bool
    with_state_store: bool
    session_id: str | None = None
    steps: dict[str, TaskOutcome] = field(default_factory=dict)

    @property
    def failed_step(self) -> str | None:
        return next(
            (step for step, outcome in self.steps.items() if outcome.failed and outcome.result is None), None
        )


class LostCreateResponses:
    """Lose the response of some successful creates, as a dropped connection after the POST would."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.random = random.Random(seed)
        self.lost = 0
        self.original = CloudOSClient.create_session

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        injector = self

        def create_session(client: CloudOSClient, *args: Any, **kwargs: Any) -> dict[str, Any]:
            session = injector.original(client, *args, **kwargs)
            if injector.random.random() < injector.rate:
                injector.lost += 1
                raise CloudOSTransientError(
                    "CloudOS API unreachable for POST /api/v1/interactive-sessions: the connection was "
                    "reset after the request was sent (injected by the harness)",
                    status_code=None,
                    endpoint="create",
                )
            return session

        monkeypatch.setattr(CloudOSClient, "create_session", create_session)


def _cause(error: str) -> str:
    """A retry's cause without ids, for the report: exception class and endpoint."""
    kind = error.split(":", 1)[0]
    for endpoint in ("POST", "GET", "PUT"):
        if f" {endpoint} " in error:
            path = error.split(f" {endpoint} ", 1)[1].split(" ", 1)[0].split("?", 1)[0].rstrip(":,")
            return f"{kind} on {endpoint} {'/'.join(p if len(p) != 24 else '{id}' for p in path.split('/'))}"
    return kind


def run_lifecycle(driver: TaskDriver, sim: CloudOSSimulator, lifecycle: Lifecycle) -> None:
    common: dict[str, Any] = {
        "deferrable": lifecycle.deferrable,
        "poll_interval": FAST_POLL,
        "timeout": 60,
    }

    def store() -> MemoryStateStore | None:
        return MemoryStateStore() if lifecycle.with_state_store else None

    create = driver.run_task(
        "create",
        lambda: CloudOSCreateSessionOperator(
            task_id="create", name=lifecycle.name, project_name=sim.project_name, **common
        ),
        max_tries=MAX_TRIES,
        store=store(),
    )
    lifecycle.steps["create"] = create
    if create.result is None:
        return
    session_id = lifecycle.session_id = str(create.result)
    steps = [
        ("stop", lambda: CloudOSStopSessionOperator(task_id="stop", session_id=session_id, **common)),
        ("resume", lambda: CloudOSResumeSessionOperator(task_id="resume", session_id=session_id, **common)),
        (
            "stop_again",
            lambda: CloudOSStopSessionOperator(task_id="stop_again", session_id=session_id, **common),
        ),
    ]
    for step, make in steps:
        outcome = driver.run_task(step, make, max_tries=MAX_TRIES, store=store())
        lifecycle.steps[step] = outcome
        if outcome.result is None:
            return


def test_every_lifecycle_succeeds_with_exactly_one_session_and_none_left_running(
    cloudos_conn: CloudOSSimulator, driver: TaskDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = cloudos_conn
    lost = LostCreateResponses(LOST_CREATE_RESPONSE_RATE, seed=7)
    lost.install(monkeypatch)
    sim.faults.error_rate = ERROR_RATE
    sim.faults.drop_rate = DROP_RATE
    sim.faults.rate_limit_rate = RATE_LIMIT_RATE
    sim.faults.retry_after = RETRY_AFTER_SECONDS
    lifecycles = [
        Lifecycle(name=f"soak-{index:03d}", deferrable=index % 2 == 1, with_state_store=(index // 2) % 2 == 0)
        for index in range(LIFECYCLES)
    ]
    for lifecycle in lifecycles:
        run_lifecycle(driver, sim, lifecycle)
    sim.faults.clear()

    counters = sim.counters.snapshot()
    failed = [
        (lc.name, lc.failed_step, lc.steps[lc.failed_step].errors) for lc in lifecycles if lc.failed_step
    ]
    created_per_lifecycle = {lc.name: len(sessions_named(sim, lc.name)) for lc in lifecycles}
    left_running = running_sessions(sim)
    not_paused = [
        lc.name for lc in lifecycles if lc.session_id and display_status(sim, lc.session_id) != "paused"
    ]
    tries = [outcome.tries for lc in lifecycles for outcome in lc.steps.values()]
    retries_by_step = Counter(
        step for lc in lifecycles for step, outcome in lc.steps.items() for _ in range(outcome.tries - 1)
    )
    retry_causes = Counter(
        _cause(error) for lc in lifecycles for outcome in lc.steps.values() for error in outcome.errors
    )
    record(
        "fault_soak",
        lifecycles=len(lifecycles),
        lifecycles_sync=sum(not lc.deferrable for lc in lifecycles),
        lifecycles_deferrable=sum(lc.deferrable for lc in lifecycles),
        lifecycles_succeeded=len(lifecycles) - len(failed),
        task_runs=len(tries),
        task_tries=sum(tries),
        task_retries=sum(t - 1 for t in tries),
        task_retries_by_step=dict(sorted(retries_by_step.items())),
        task_retry_causes=dict(retry_causes.most_common()),
        max_tries_one_task=max(tries),
        trigger_runs=driver.trigger_runs,
        http_requests=counters["total_requests"],
        injected_503=counters["responses"].get(503, 0),
        injected_429=counters["responses"].get(429, 0),
        injected_drops=counters["dropped"],
        injected_lost_create_responses=lost.lost,
        create_requests=counters["requests"]["create"],
        sessions_created=len(sim.sessions()),
        sessions_leaked=len(left_running),
        fault_rates=f"503 {ERROR_RATE:.0%}, drop {DROP_RATE:.0%}, 429 {RATE_LIMIT_RATE:.0%} "
        f"(Retry-After {RETRY_AFTER_SECONDS}s), lost create response {LOST_CREATE_RESPONSE_RATE:.0%}",
    )

    assert not failed, f"lifecycles failed: {failed[:3]}"
    assert set(created_per_lifecycle.values()) == {1}, {
        k: v for k, v in created_per_lifecycle.items() if v != 1
    }
    assert len(sim.sessions()) == LIFECYCLES
    assert left_running == []
    assert not_paused == []
    # The soak only means something if the faults really happened, on create too.
    assert counters["responses"].get(503, 0) > 0
    assert counters["responses"].get(429, 0) > 0
    assert counters["dropped"] > 0
    assert lost.lost > 0
    assert counters["requests"]["create"] > LIFECYCLES
