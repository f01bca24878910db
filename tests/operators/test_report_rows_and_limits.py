"""The report task's edges: the moment it measures from, sessions the list describes only in part,
what each session can reach, and the errors and deadlines it answers with.

The report is what a team reads to decide what to pause; its times to auto-shutdown must be
measured from the ``generated_at`` it states, its per-session lines must stay readable when
CloudOS leaves fields out, and its access audit must tell "mounts nothing" from "CloudOS did not
say". A bad parameter or a refused listing must say what went wrong, and a stalled server must
not hold the worker past the task's ``execution_timeout``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from operator_helpers import FakeTI, rendered

from airflow_provider_cloudos.operators import fleet as fleet_module
from airflow_provider_cloudos.operators.fleet import CloudOSSessionReportOperator
from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: Nothing changes state on its own while a test looks.
STILL = StateTimings(scheduled=600, setup=600, initialising=600, aborting=600, resume_initialising=600)
#: The fields that say what a session mounts and links (a list answer may leave them out).
ACCESS_FIELDS = ("dataItems", "fuseFileSystems")


@pytest.fixture
def workspace(cloudos_conn: CloudOSSimulator) -> CloudOSSimulator:
    cloudos_conn.set_timings(STILL)
    return cloudos_conn


def report_task(**kwargs: Any) -> CloudOSSessionReportOperator:
    return CloudOSSessionReportOperator(task_id="report", **kwargs)


def create_session(sim: CloudOSSimulator, name: str, **kwargs: Any) -> str:
    """A session made the way a DAG makes one (so it has an auto-shutdown time and its access)."""
    created: str = CloudOSCreateSessionOperator(
        task_id=f"create_{name}",
        name=name,
        project_name=sim.project_name,
        wait_for_running=False,
        **kwargs,
    ).execute({"ti": FakeTI()})
    return created


# --- the moment the report is taken --------------------------------------------------------------


class FrozenReportClock(datetime):
    """The report module's ``datetime``: ``now`` is an hour ago, whatever the wall clock says."""

    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.moment


def test_the_time_to_auto_shutdown_is_measured_from_the_reports_own_moment(
    workspace: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_session(workspace, "analysis", shutdown_in="12h")
    monkeypatch.setattr(fleet_module, "datetime", FrozenReportClock)
    report = report_task().execute({"ti": FakeTI()})
    (row,) = report["sessions"]
    assert report["generated_at"] == FrozenReportClock.moment.isoformat()
    shutdown = datetime.fromisoformat(row["auto_shutdown_at"].replace("Z", "+00:00"))
    expected = math.floor((shutdown - FrozenReportClock.moment).total_seconds())
    assert row["time_to_auto_shutdown_seconds"] == expected
    assert expected > 12 * 3600, "measured from an hour ago: more than the 12 h it was created with"


# --- sessions the list describes only in part -----------------------------------------------------


def test_a_session_listed_without_id_or_owner_still_gets_a_readable_line(
    workspace: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    workspace.add_session(name="partial", status="ready", cost=1.5)
    task = report_task()
    listed = [
        {key: value for key, value in session.items() if key not in ("_id", "user")}
        for session in task.hook.iter_sessions()
    ]
    task.hook.iter_sessions = lambda **_: iter(listed)  # type: ignore[method-assign]
    (row,) = task.execute({"ti": FakeTI()})["sessions"]
    assert (row["id"], row["owner"], row["url"]) == (None, None, None)
    line = "  ".join([row["cost"], row["status"], row["name"], row["instance"], "-", row["runtime"], ""])
    assert row["cost"] == "$1.50"
    assert line in log_messages(), log_messages()


# --- the access audit ----------------------------------------------------------------------------


def test_the_access_lines_list_every_mount_and_link(
    workspace: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    create_session(
        workspace,
        "audited",
        mounts=["s3://lifebit-cohorts/2026/first.vcf.gz", "s3://lifebit-cohorts/2026/second.vcf.gz"],
        links=["s3://lifebit-cohorts/results/", "s3://lifebit-cohorts/scratch/"],
    )
    (row,) = report_task(include_access=True).execute({"ti": FakeTI()})["sessions"]
    assert len(row["mounts"]) == 2
    assert len(row["links"]) == 2
    messages = log_messages()
    assert f"    mounts: {row['mounts'][0]}, {row['mounts'][1]}" in messages, messages
    assert f"    links:  {row['links'][0]}, {row['links'][1]}" in messages, messages


def test_a_session_that_mounts_nothing_says_none(
    workspace: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    workspace.add_session(name="bare", status="ready")
    (row,) = report_task(include_access=True).execute({"ti": FakeTI()})["sessions"]
    assert (row["mounts"], row["links"]) == ([], [])
    assert "    mounts: none" in log_messages()
    assert "    links:  none" in log_messages()


def test_a_session_cloudos_says_nothing_about_is_marked_not_reported(
    workspace: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    workspace.add_session(name="vanished", status="ready")
    task = report_task(include_access=True)
    listed = [
        {key: value for key, value in session.items() if key not in ACCESS_FIELDS}
        for session in task.hook.iter_sessions()
    ]
    task.hook.iter_sessions = lambda **_: iter(listed)  # type: ignore[method-assign]
    workspace.faults.fail_next("get", 404)  # gone between the listing and its own read
    (row,) = task.execute({"ti": FakeTI()})["sessions"]
    assert (row["mounts"], row["links"]) == (None, None)
    assert "    mounts: (not reported by CloudOS)" in log_messages()
    assert "    links:  (not reported by CloudOS)" in log_messages()


# --- errors and deadlines ------------------------------------------------------------------------


def test_statuses_that_are_not_a_list_are_refused_naming_the_parameter(workspace: CloudOSSimulator) -> None:
    task = rendered(report_task, statuses=5)
    with pytest.raises(AirflowFailException, match=r"Invalid statuses=5: expected a list of strings"):
        task.execute({"ti": FakeTI()})
    assert workspace.counters.requests() == 0


def test_a_refused_listing_fails_the_report_for_good_with_cloudos_reason(workspace: CloudOSSimulator) -> None:
    workspace.faults.fail_next("list", 403)
    with pytest.raises(AirflowFailException) as raised:
        report_task().execute({"ti": FakeTI()})
    assert "GET /api/v3/interactive-sessions (403 Forbidden)" in str(raised.value)


def test_a_stalled_listing_ends_at_the_tasks_execution_timeout(workspace: CloudOSSimulator) -> None:
    workspace.add_session(name="any", status="ready")
    workspace.faults.only_endpoints = {"list"}
    workspace.faults.latency = 15.0
    task = report_task(execution_timeout=timedelta(seconds=1))
    with pytest.raises(AirflowException) as raised:
        task.execute({"ti": FakeTI()})
    assert "execution_timeout (1s)" in str(raised.value), str(raised.value)
