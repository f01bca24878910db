"""What a resume task reports about the session it brings back, and on which session object it reports.

Resuming starts billing again, so the task's log names the session, whether it was resumed with
changes and where its page is; its XCom summary and its lineage describe the session as CloudOS
answered the resume (the new instance type, the new status), not the paused one read before.
Refusals name the session and the reason. Azure sessions are recognised from their instance
type before anything is read, so an Azure instance type is not refused as a bad AWS one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import FAST, make_context

from airflow_provider_cloudos.operators.cloudos_task import openlineage_installed
from airflow_provider_cloudos.operators.sessions import CloudOSResumeSessionOperator
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: A resumed session stays ``initialising`` (and a stopping one ``aborting``) for the whole test.
SLOW = StateTimings(aborting=60.0, resume_initialising=60.0)
BIGGER_MACHINE = "c5.2xlarge"


def resume(session_id: str, **kwargs: Any) -> CloudOSResumeSessionOperator:
    options: dict[str, Any] = {"task_id": "resume", "session_id": session_id, **FAST}
    options.update(kwargs)
    return CloudOSResumeSessionOperator(**options)


@pytest.fixture
def paused(cloudos_conn: CloudOSSimulator) -> str:
    cloudos_conn.set_timings(SLOW)
    return str(cloudos_conn.add_session(name="resting", status="aborted")["_id"])


def test_a_terminated_session_is_refused_naming_its_page_after_its_summary_is_pushed(
    cloudos_conn: CloudOSSimulator,
) -> None:
    gone = cloudos_conn.add_session(name="gone", status="terminated")["_id"]
    task = resume(gone)
    context = make_context()
    with pytest.raises(AirflowFailException) as raised:
        task.execute(context)
    url = task.hook.session_url(gone)
    assert f"Session {gone} is terminated and cannot be resumed ({url})" in str(raised.value)
    summary = context["ti"].last("session_summary")
    assert (summary["id"], summary["name"], summary["status"]) == (gone, "gone", "terminated")
    assert cloudos_conn.counters.requests("resume") == 0


def test_a_stopping_session_is_named_in_the_log_before_the_task_waits_for_it_to_pause(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    cloudos_conn.set_timings(SLOW)
    stopping = cloudos_conn.add_session(name="closing", status="aborting")["_id"]
    with pytest.raises(TaskDeferred) as deferred:
        resume(stopping, deferrable=True).execute(make_context())
    assert deferred.value.method_name == "resume_after_pause"
    assert f"Session {stopping} is still stopping; waiting until it is paused to resume it" in log_messages()
    assert cloudos_conn.counters.requests("resume") == 0


def test_a_resume_with_changes_says_so_and_reports_the_session_as_cloudos_answered(
    cloudos_conn: CloudOSSimulator, paused: str, log_messages: Callable[[], list[str]]
) -> None:
    task = resume(paused, instance_type=BIGGER_MACHINE, wait_for_running=False)
    context = make_context()
    assert task.execute(context) == paused
    url = task.hook.session_url(paused)
    assert f"Resuming session {paused} with changes: {url}" in log_messages()
    # The summary and the lineage show the resumed session: starting, on the new machine.
    summary = context["ti"].last("session_summary")
    assert (summary["status"], summary["instance_type"]) == ("initialising", BIGGER_MACHINE)
    if openlineage_installed():
        facet = task.get_openlineage_facets_on_complete(context["ti"]).run_facets["cloudosSession"]
        assert (facet.sessionId, facet.instanceType) == (paused, BIGGER_MACHINE)


def test_a_plain_resume_names_the_session_and_its_page_without_mentioning_changes(
    cloudos_conn: CloudOSSimulator, paused: str, log_messages: Callable[[], list[str]]
) -> None:
    task = resume(paused, wait_for_running=False)
    task.execute(make_context())
    assert f"Resuming session {paused}: {task.hook.session_url(paused)}" in log_messages()
    assert cloudos_conn.resume_payloads[-1][0] == paused


def test_a_file_that_cannot_be_found_fails_the_resume_naming_the_path(
    cloudos_conn: CloudOSSimulator, paused: str
) -> None:
    with pytest.raises(AirflowException) as raised:
        resume(paused, mounts=["genomics/Data/no-such-file.csv"]).execute(make_context())
    assert "Cannot mount 'genomics/Data/no-such-file.csv'" in str(raised.value)
    assert cloudos_conn.counters.requests("resume") == 0


@pytest.mark.parametrize("instance_type", ["Basic_A2", "Standard_F2s"])
def test_an_azure_instance_type_is_accepted_when_the_task_is_built(
    cloudos_conn: CloudOSSimulator, instance_type: str
) -> None:
    """Before the session is read, an Azure name must not be checked as an AWS one and refused."""
    azure = cloudos_conn.add_session(name="azure", status="aborted", platform="azure")["_id"]
    task = resume(azure, instance_type=instance_type, wait_for_running=False)
    assert task.execute(make_context()) == azure
    assert cloudos_conn.resume_payloads[-1][0] == azure
