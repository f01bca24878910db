"""The "CloudOS Session" link and the session summary a task publishes point at the session's page.

The link is how a user gets from a task to the session it is paying for. Before ``execute`` the
operator knows nothing and the link must come from XCom (2.11's webserver, a run that deferred);
once ``execute`` ran, the operator itself says which page it published, or that it published none
(a failed task must not show a page an earlier try pushed). The summary pushed to XCom carries the
same page for downstream tasks, both when the session is first published and once it is running.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, XCom
from operator_helpers import FAST, make_context

from airflow_provider_cloudos.links import XCOM_SESSION_SUMMARY, XCOM_SESSION_URL, CloudOSSessionLink
from airflow_provider_cloudos.operators.sessions import (
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: What the link would show if it read XCom: the page an earlier try of the task pushed.
EARLIER_TRY_URL = "https://cloudos.example.org/app/data-science/interactive-analysis/view/" + "e" * 24
#: Sessions resume quickly enough to wait for ``running`` in a test.
QUICK_RESUME = StateTimings(resume_initialising=0.02)
TI_KEY = object()


class XComReads:
    """Stands in for Airflow's XCom store: what it holds and which keys the link read."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {XCOM_SESSION_URL: EARLIER_TRY_URL}
        self.keys_read: list[str | None] = []

    def get_value(self, *, ti_key: Any, key: str | None = None, **kwargs: Any) -> Any:
        assert ti_key is TI_KEY
        self.keys_read.append(key)
        return self.values.get(key or "")


@pytest.fixture
def xcom(monkeypatch: pytest.MonkeyPatch) -> XComReads:
    reads = XComReads()
    monkeypatch.setattr(XCom, "get_value", reads.get_value)
    return reads


def stop_task(session_id: str, **overrides: Any) -> CloudOSStopSessionOperator:
    return CloudOSStopSessionOperator(task_id="stop", session_id=session_id, **{**FAST, **overrides})


def test_a_task_that_has_not_run_here_reads_its_link_from_xcom(xcom: XComReads) -> None:
    assert CloudOSSessionLink().get_link(stop_task("a" * 24), ti_key=TI_KEY) == EARLIER_TRY_URL
    assert xcom.keys_read == [XCOM_SESSION_URL]


def test_a_task_that_failed_before_publishing_a_session_shows_no_link(
    cloudos_conn: CloudOSSimulator, xcom: XComReads
) -> None:
    task = stop_task("f" * 24)  # no such session: CloudOS answers 404
    with pytest.raises(AirflowFailException):
        task.execute(make_context())
    assert CloudOSSessionLink().get_link(task, ti_key=TI_KEY) == ""
    assert xcom.keys_read == []


def test_a_task_that_published_its_session_links_to_that_page_without_reading_xcom(
    cloudos_conn: CloudOSSimulator, xcom: XComReads
) -> None:
    session_id = cloudos_conn.add_session(name="paused", status="aborted")["_id"]
    task = stop_task(session_id)
    task.execute(make_context())
    assert CloudOSSessionLink().get_link(task, ti_key=TI_KEY) == task.hook.session_url(session_id)
    assert xcom.keys_read == []


def test_the_summary_published_with_the_session_carries_its_page(cloudos_conn: CloudOSSimulator) -> None:
    session_id = cloudos_conn.add_session(name="paused", status="aborted")["_id"]
    task = stop_task(session_id)
    context = make_context()
    task.execute(context)
    summary = context["ti"].last(XCOM_SESSION_SUMMARY)
    assert (summary["id"], summary["url"]) == (session_id, task.hook.session_url(session_id))


def test_the_summary_pushed_once_the_session_runs_carries_its_page(cloudos_conn: CloudOSSimulator) -> None:
    cloudos_conn.set_timings(QUICK_RESUME)
    session_id = cloudos_conn.add_session(name="paused", status="aborted")["_id"]
    options: dict[str, Any] = {"task_id": "resume", "session_id": session_id, **FAST}
    task = CloudOSResumeSessionOperator(**options)
    context = make_context()
    task.execute(context)
    summary = context["ti"].last(XCOM_SESSION_SUMMARY)
    assert summary["status"] == "running"
    assert summary["url"] == task.hook.session_url(session_id)
