"""The API key never shows up in what the operators produce: logs, XCom, trigger kwargs, events, errors."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from operator_helpers import FAST, expiring, make_context, rendered, run_trigger

from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import StateTimings


class Evidence:
    """Everything a run of the operators showed to the outside world."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.deferrals = 0

    def add(self, *items: Any) -> None:
        self.items.extend(items)

    def error(self, error: BaseException) -> None:
        seen: BaseException | None = error
        while seen is not None:
            self.add(str(seen), repr(seen), seen.args)
            seen = seen.__cause__ or seen.__context__

    def run(self, task: Any, context: dict[str, Any]) -> Any:
        """``execute`` and every deferral after it, the way Airflow chains them."""
        call = task.execute
        kwargs: dict[str, Any] = {}
        while True:
            try:
                return call(context, **kwargs)
            except TaskDeferred as deferred:
                self.deferrals += 1
                self.add(deferred.trigger.serialize(), repr(deferred.trigger), deferred.kwargs)
                event = run_trigger(deferred.trigger)
                self.add(event)
                call, kwargs = getattr(task, deferred.method_name), {"event": event}

    def text(self) -> str:
        return json.dumps(self.items, default=repr)


def lifecycle(sim, evidence: Evidence, deferrable: bool) -> None:
    options = {**FAST, "deferrable": deferrable}
    contexts = [make_context() for _ in range(3)]
    create = CloudOSCreateSessionOperator(
        task_id="create", name="secret-check", project_name="genomics", **options
    )
    session_id = evidence.run(create, contexts[0])
    stop = CloudOSStopSessionOperator(task_id="stop", session_id=session_id, **options)
    evidence.run(stop, contexts[1])
    resume = CloudOSResumeSessionOperator(
        task_id="resume", session_id=session_id, storage_size=600, **options
    )
    evidence.run(resume, contexts[2])
    assert sim.session(session_id)["status"] == "ready"
    for context in contexts:
        evidence.add(context["ti"].pushes)
    evidence.add(repr(create), repr(stop), repr(resume), repr(create.hook), repr(create.hook.client))


def failures(sim, evidence: Evidence, deferrable: bool) -> None:
    """Failures carry messages built from requests and answers: none may carry the key."""
    options = {**FAST, "deferrable": deferrable}
    attempts = [
        rendered(
            functools.partial(CloudOSStopSessionOperator, task_id="bad", **options), session_id="not-an-id"
        ),
        CloudOSStopSessionOperator(task_id="unknown", session_id="0" * 24, **options),
        CloudOSCreateSessionOperator(task_id="no_project", name="x", project_name="missing", **options),
        CloudOSCreateSessionOperator(
            task_id="forbidden", name="x", project_name="genomics", workspace_id="f" * 24, **options
        ),
    ]
    gone = sim.add_session(name="gone", status="terminated")["_id"]
    attempts.append(CloudOSResumeSessionOperator(task_id="gone", session_id=gone, **options))
    for task in attempts:
        with pytest.raises(AirflowException) as raised:
            evidence.run(task, make_context())
        evidence.error(raised.value)
    # A deferred timeout that pauses the session, and its event and exception.
    sim.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    task = CloudOSCreateSessionOperator(
        task_id="slow", name="slow", project_name="genomics", **FAST, deferrable=True
    )
    context = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    event = run_trigger(expiring(deferred.value.trigger))
    evidence.add(event, context["ti"].pushes)
    with pytest.raises(AirflowException, match="paused to stop its costs") as raised:
        task.execute_complete(context, event=event)
    evidence.error(raised.value)


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferrable"])
def test_the_api_key_appears_nowhere(cloudos_conn, sentinel_api_key, log_lines, capfd, deferrable):
    assert cloudos_conn.api_key == sentinel_api_key
    evidence = Evidence()
    lifecycle(cloudos_conn, evidence, deferrable)
    failures(cloudos_conn, evidence, deferrable)

    messages = log_lines()
    assert any("secret-check" in message for message in messages), "the logs were captured"
    assert evidence.deferrals == (3 if deferrable else 0), "every wait of the lifecycle was deferred"
    written = capfd.readouterr()
    for where, text in {
        "logs": "\n".join(messages),
        "xcom, trigger kwargs, events and errors": evidence.text(),
        "stdout": written.out,
        "stderr": written.err,
    }.items():
        assert sentinel_api_key not in text, f"the API key leaked into the {where}"
