"""What the report task writes to its log: the totals, one line per session, and its access."""

from __future__ import annotations

from operator_helpers import FakeTI

from airflow_provider_cloudos.operators.fleet import CloudOSSessionReportOperator
from airflow_provider_cloudos.testing import StateTimings

STILL = StateTimings(scheduled=600, setup=600, initialising=600, aborting=600, resume_initialising=600)


def task_lines(messages: list[str], first: str) -> list[str]:
    """The task's own lines, from ``first`` on (Airflow 2 and 3.0 log the connection lookup too)."""
    assert first in messages, messages
    return messages[messages.index(first) :]


def test_the_report_logs_its_totals_then_each_session_and_what_it_can_reach(cloudos_conn, log_messages):
    cloudos_conn.set_timings(STILL)
    cloudos_conn.add_session(name="a", status="ready", cost=2.0, instance_type="m5.xlarge")
    cloudos_conn.add_session(name="b", status="ready", cost=3.0, owner="other")
    cloudos_conn.add_session(name="c", status="aborted", cost=1.0)
    report = CloudOSSessionReportOperator(
        task_id="report", statuses=["running", "paused"], include_access=True
    ).execute({"ti": FakeTI()})
    rows = report["sessions"]
    expected = ["3 session(s), 2 live costing $5.00 so far; by status: paused 1, running 2"]
    for row in rows:
        fields = [
            row["cost"],
            row["status"],
            row["name"],
            row["instance"],
            row["owner"],
            row["runtime"],
            row["url"],
        ]
        expected += ["  ".join(fields), "    mounts: none", "    links:  none"]
    assert task_lines(log_messages(), expected[0]) == expected
    assert [row["name"] for row in rows] == ["b", "a", "c"], "the costliest first"
    assert rows[0]["owner"] == "Grace Hopper"
    assert rows[0]["url"].endswith(f"/interactive-analysis/view/{rows[0]['id']}")


def test_an_empty_report_says_so_and_says_where_it_was_written(cloudos_conn, log_messages, tmp_path):
    path = tmp_path / "sessions.csv"
    report = CloudOSSessionReportOperator(task_id="report", csv_path=str(path)).execute({"ti": FakeTI()})
    summary = "0 session(s), 0 live costing $0.00 so far; by status: none"
    assert task_lines(log_messages(), summary) == [summary, f"Report written to {path}"]
    assert report["csv_path"] == str(path)
    assert report["generated_at"].endswith("+00:00"), "an aware UTC time"
    assert path.read_text().startswith("ID,Name,Status,")
