"""The report's CSV through Airflow's object storage: ``file://``, an fsspec store, and plain paths."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from fsspec.implementations.memory import MemoryFileSystem

from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS, object_storage_path
from airflow_provider_cloudos.core.errors import CloudOSValidationError, shown_value
from airflow_provider_cloudos.operators.cloudos_task import InvalidLiteralParameter
from airflow_provider_cloudos.operators.fleet import (
    CloudOSSessionReportOperator,
    check_report_path,
    is_storage_url,
    write_report,
)


class FakeTI:
    def xcom_push(self, key: str, value: Any) -> None:
        pass


def report(**kwargs: Any) -> dict[str, Any]:
    task = CloudOSSessionReportOperator(task_id="report", **kwargs)
    result: dict[str, Any] = task.execute({"ti": FakeTI()})
    return result


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def memory_store() -> Iterator[MemoryFileSystem]:
    """An fsspec in-memory filesystem registered with Airflow under ``memory://``, emptied after."""
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.io import attach
    else:
        from airflow.io.store import attach
    fs = MemoryFileSystem()
    attach("memory", fs=fs)
    yield fs
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")


def test_the_report_goes_to_a_file_url(cloudos_conn, tmp_path):
    cloudos_conn.add_session(name="alpha", status="ready", cost=3)
    target = tmp_path / "deep" / "er" / "sessions.csv"
    result = report(csv_path=f"file://{target}")
    assert result["csv_path"] == f"file://{target}"
    rows = table(target.read_text(encoding="utf-8"))
    assert [row["Name"] for row in rows] == ["alpha"]


def test_the_report_goes_to_an_object_store(cloudos_conn, memory_store):
    cloudos_conn.add_session(name="alpha", status="ready", cost=3)
    cloudos_conn.add_session(name="beta", status="aborted", cost=1)
    result = report(csv_path="memory://reports/2026/sessions.csv", include_access=True)
    assert result["csv_path"] == "memory://reports/2026/sessions.csv"
    text = memory_store.cat_file("/reports/2026/sessions.csv").decode("utf-8")
    rows = table(text)
    assert [row["Name"] for row in rows] == ["alpha", "beta"]
    assert "Mounted files" in rows[0]
    assert object_storage_path("memory://reports/2026/sessions.csv").read_text() == text


def test_a_plain_path_is_still_a_local_file(cloudos_conn, tmp_path, monkeypatch):
    cloudos_conn.add_session(name="alpha", status="ready")
    monkeypatch.chdir(tmp_path)
    result = report(csv_path=" out/sessions.csv\n")
    assert result["csv_path"] == "out/sessions.csv"
    assert [row["Name"] for row in table((tmp_path / "out" / "sessions.csv").read_text())] == ["alpha"]


def test_the_csv_keeps_its_newlines_and_utf8(memory_store, tmp_path):
    text = 'Name\n"two\nlines"\nnaïve\n'
    write_report("memory://x/a.csv", text)
    write_report(str(tmp_path / "a.csv"), text)
    assert memory_store.cat_file("/x/a.csv") == text.encode("utf-8")
    assert (tmp_path / "a.csv").read_bytes() == text.encode("utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("None", None),
        (" null\n", None),
        ("s3://bucket/key.csv", "s3://bucket/key.csv"),
        ("s3://aws_default@bucket/key.csv", "s3://aws_default@bucket/key.csv"),
        (" report.csv ", "report.csv"),
    ],
)
def test_destinations_are_checked_without_touching_a_store(value, expected):
    assert check_report_path(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (5, "expected a file path or an object-storage URL"),
        (["a.csv"], "expected a file path or an object-storage URL"),
        ("s3://bucket/reports/", "ends with '/', so names a folder"),
        ("reports/", "ends with '/', so names a folder"),
    ],
)
def test_bad_destinations_name_the_problem(value, problem):
    with pytest.raises(CloudOSValidationError) as error:
        check_report_path(value)
    assert str(error.value).startswith(f"Invalid csv_path={shown_value(value)}: ")
    assert problem in str(error.value)


def test_a_folder_url_fails_before_any_request(cloudos_conn):
    with pytest.raises(InvalidLiteralParameter, match="names a folder"):
        CloudOSSessionReportOperator(task_id="report", csv_path="s3://bucket/reports/")
    task = CloudOSSessionReportOperator(task_id="report", csv_path="{{ params.where }}")
    task.csv_path = "s3://bucket/reports/"
    with pytest.raises(AirflowFailException, match="names a folder"):
        task.execute({"ti": FakeTI()})
    assert cloudos_conn.counters.requests() == 0


@pytest.mark.parametrize(
    ("text", "url"),
    [("s3://b/k", True), ("file:///tmp/x", True), ("memory://x", True), ("C:\\x.csv", False), ("a/b", False)],
)
def test_what_counts_as_a_storage_url(text, url):
    assert is_storage_url(text) is url
