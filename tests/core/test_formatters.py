from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.formatters import (
    CSV_COLUMNS,
    DEFAULT_BASE_URL,
    export_session_status_csv,
    export_session_status_json,
    format_cost,
    format_duration,
    format_instance_type,
    format_timestamp,
    normalize_base_url,
    session_summary,
    session_url,
    transform_session_response,
)

SESSION_ID = "64b0c1d2e3f4a5b6c7d8e9f0"
FULL_SESSION = {
    "_id": SESSION_ID,
    "name": "analysis",
    "status": "ready",
    "interactiveSessionType": "awsJupyterNotebook",
    "user": {"name": "Ada", "surname": "Lovelace", "email": "ada@example.org"},
    "project": {"_id": "5f0c1d2e3a4b5c6d7e8f9a0b", "name": "genomics"},
    "resources": {"instanceType": "c5.xlarge", "isCostSaving": True, "storageSizeInGb": 500},
    "totalCostInUsd": 1.5,
    "totalRunningTimeInSeconds": 3725,
    "costPerHour": 0.17,
    "createdAt": "2026-05-28T10:00:00.000Z",
    "lastSavedAt": "2026-05-28T11:30:15Z",
    "execution": {
        "computeCostLimit": 20,
        "computeCostSpent": 1.5,
        "autoShutdownAtDate": "2026-05-28T22:00:00Z",
    },
    "rVersion": None,
    "interactiveSessionConfiguration": {"executionPlatform": "aws"},
}


# --- small formatters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3725, "1h 2m 5s"),
        (3600, "1h"),
        (60, "1m"),
        (7230, "2h 30s"),
        (45, "45s"),
        (90061, "25h 1m 1s"),
        (45.9, "45s"),
        ("120", "2m"),
        (0, "Not started"),
        (-5, "Not started"),
        (None, "Not started"),
        ("soon", "Not started"),
        (float("nan"), "Not started"),
        ({}, "Not started"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "$0.00"),
        (1.5, "$1.50"),
        (12.5, "$12.50"),
        (0, "$0.00"),
        ("3.456", "$3.46"),
        (-1, "$-1.00"),
        ("free", "$0.00"),
        ([], "$0.00"),
        (float("inf"), "$0.00"),
        (Decimal("2.5"), "$2.50"),
    ],
)
def test_format_cost(value, text):
    assert format_cost(value) == text


def test_format_cost_default():
    assert format_cost() == "$0.00"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2026-05-28T14:03:07.123Z", "2026-05-28 14:03:07"),
        ("2026-05-28T14:03:07Z", "2026-05-28 14:03:07"),
        ("2026-05-28T14:03:07+02:00", "2026-05-28 14:03:07"),
        ("2026-05-28T14:03:07", "2026-05-28 14:03:07"),
        (None, "N/A"),
        ("", "N/A"),
        ("yesterday", "yesterday"),
        (12345, "12345"),
    ],
)
def test_format_timestamp(value, text):
    assert format_timestamp(value) == text


def test_format_timestamp_default():
    assert format_timestamp() == "N/A"


@pytest.mark.parametrize(
    ("instance", "spot", "text"),
    [
        ("c5.xlarge", False, "c5.xlarge"),
        ("c5.xlarge", True, "c5.xlarge (spot)"),
        (None, False, "N/A"),
        ("", True, "N/A (spot)"),
        ("c5.xlarge", "yes", "c5.xlarge"),
    ],
)
def test_format_instance_type(instance, spot, text):
    assert format_instance_type(instance, spot) == text


def test_format_instance_type_default_is_not_spot():
    assert format_instance_type("m5.large") == "m5.large"


@pytest.mark.parametrize(
    ("api_type", "friendly"),
    [
        ("awsJupyterNotebook", "Jupyter"),
        ("azureJupyterNotebook", "Jupyter"),
        ("awsVSCode", "VS Code"),
        ("azureVSCode", "VS Code"),
        ("awsRstudio", "RStudio"),
        ("azureRStudio", "RStudio"),
        ("awsSpark", "Spark"),
        ("azureSpark", "Spark"),
        ("awsJupyterSparkNotebook", "Spark"),
        ("azureJupyterSparkNotebook", "Spark"),
        ("awsWindowsSession", "Windows"),
        ("awsSomethingNew", "awsSomethingNew"),
        (None, None),
    ],
)
def test_session_type_names_people_use(api_type, friendly):
    assert session_summary({"interactiveSessionType": api_type})["session_type"] == friendly


# --- transform_session_response -------------------------------------------------------------------


def test_transform_session_response_official_keys_and_formats():
    assert transform_session_response(FULL_SESSION) == {
        "id": SESSION_ID,
        "name": "analysis",
        "status": "running",
        "backend_type": "Jupyter",
        "owner": "Ada Lovelace",
        "project": "genomics",
        "instance_type": "c5.xlarge (spot)",
        "storage_size": "500 GB",
        "cost": "$1.50",
        "runtime": "1h 2m 5s",
        "created_at": "2026-05-28 10:00:00",
        "last_saved": "2026-05-28 11:30:15",
        "auto_shutdown": "2026-05-28 22:00:00",
        "r_version": None,
    }


def test_transform_session_response_of_an_empty_object():
    assert transform_session_response({}) == {
        "id": "",
        "name": "N/A",
        "status": "N/A",
        "backend_type": "",
        "owner": "N/A",
        "project": "N/A",
        "instance_type": "N/A",
        "storage_size": "N/A",
        "cost": "$0.00",
        "runtime": "Not started",
        "created_at": "N/A",
        "last_saved": None,
        "auto_shutdown": None,
        "r_version": None,
    }


@pytest.mark.parametrize(
    "broken",
    [
        {"user": None, "project": None, "resources": None, "execution": None},
        {"user": "ada", "project": ["p"], "resources": 5, "execution": "soon"},
        {
            "user": {"name": None, "surname": None},
            "resources": {"instanceType": None, "storageSizeInGb": "500"},
        },
        {
            "name": None,
            "status": None,
            "totalCostInUsd": None,
            "totalRunningTimeInSeconds": None,
            "createdAt": None,
        },
        {"name": {"nested": 1}, "status": 3, "interactiveSessionType": ["x"]},
    ],
)
def test_transform_session_response_never_crashes_on_partial_objects(broken):
    result = transform_session_response(broken)
    assert len(result) == 14
    assert result["owner"] == "N/A"
    assert result["project"] == "N/A"
    assert result["storage_size"] == "N/A"


@pytest.mark.parametrize("not_a_dict", [None, "session", 42, ["a"]])
def test_transform_session_response_of_a_non_dict(not_a_dict):
    assert transform_session_response(not_a_dict)["name"] == "N/A"


def test_transform_session_response_owner_falls_back_to_email_and_maps_statuses():
    result = transform_session_response(
        {"user": {"email": "x@y.z"}, "status": "aborted", "rVersion": "4.5.2"}
    )
    assert result["owner"] == "x@y.z"
    assert result["status"] == "paused"
    assert result["r_version"] == "4.5.2"
    assert transform_session_response({"user": {"name": "Ada"}})["owner"] == "Ada"


def test_transform_session_response_storage_only_for_whole_numbers():
    assert transform_session_response({"resources": {"storageSizeInGb": True}})["storage_size"] == "N/A"
    assert transform_session_response({"resources": {"storageSizeInGb": 600.0}})["storage_size"] == "600 GB"


# --- exports --------------------------------------------------------------------------------------


def test_export_session_status_json_writes_indented_json(tmp_path):
    target = tmp_path / "status.json"
    data = {**FULL_SESSION, "when": datetime(2026, 1, 1, tzinfo=UTC)}
    text = export_session_status_json(data, str(target))
    assert text.startswith('{\n  "_id"')
    assert json.loads(text)["when"] == "2026-01-01 00:00:00+00:00"
    assert target.read_text(encoding="utf-8") == text
    assert export_session_status_json({"a": 1}) == '{\n  "a": 1\n}'


def test_export_session_status_csv_is_the_official_two_lines():
    text = export_session_status_csv(transform_session_response(FULL_SESSION))
    assert text == (
        "ID,Name,Status,Backend,Instance,Storage,Cost,Runtime,Created\n"
        f"{SESSION_ID},analysis,running,Jupyter,c5.xlarge (spot),500 GB,$1.50,1h 2m 5s,2026-05-28 10:00:00"
    )


def test_export_session_status_csv_quotes_awkward_names_so_they_round_trip(tmp_path):
    target = tmp_path / "status.csv"
    awkward = 'run, "final" v2\nsecond line'
    transformed = transform_session_response({**FULL_SESSION, "name": awkward})
    text = export_session_status_csv(transformed, str(target))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_COLUMNS.values())
    assert rows[1][1] == awkward
    assert len(rows) == 2
    assert target.read_text(encoding="utf-8") == text


def test_export_session_status_csv_accepts_a_raw_api_object_and_blanks_missing_values():
    assert export_session_status_csv(FULL_SESSION) == export_session_status_csv(
        transform_session_response(FULL_SESSION)
    )
    assert export_session_status_csv({}).split("\n")[1] == ",,,,,,,,"


# --- session_summary ------------------------------------------------------------------------------


def test_session_summary_of_a_full_session():
    summary = session_summary(FULL_SESSION, base_url="https://cloudos.example.org/")
    assert summary == {
        "id": SESSION_ID,
        "name": "analysis",
        "status": "running",
        "api_status": "ready",
        "session_type": "Jupyter",
        "owner": "Ada Lovelace",
        "project": "genomics",
        "instance_type": "c5.xlarge",
        "spot": True,
        "storage_gb": 500,
        "cost_usd": 1.5,
        "cost_limit_usd": 20.0,
        "runtime_seconds": 3725,
        "created_at": "2026-05-28T10:00:00.000Z",
        "last_saved_at": "2026-05-28T11:30:15Z",
        "auto_shutdown_at": "2026-05-28T22:00:00Z",
        "url": f"https://cloudos.example.org/app/data-science/interactive-analysis/view/{SESSION_ID}",
        "execution_platform": "aws",
    }
    assert json.loads(json.dumps(summary)) == summary


@pytest.mark.parametrize(
    "session",
    [
        {},
        None,
        {
            "user": None,
            "resources": None,
            "execution": None,
            "project": None,
            "interactiveSessionConfiguration": None,
        },
        {"resources": "x", "totalCostInUsd": "abc", "totalRunningTimeInSeconds": -4, "status": None},
    ],
)
def test_session_summary_of_partial_sessions_is_all_primitives(session):
    summary = session_summary(session, base_url="https://c.example.org")
    assert json.loads(json.dumps(summary)) == summary
    assert summary["url"] is None
    assert summary["cost_usd"] == 0.0
    assert summary["runtime_seconds"] == 0
    assert summary["spot"] is False
    assert summary["status"] == "unknown"
    assert summary["execution_platform"] is None


def test_session_summary_infers_the_platform_and_omits_the_url_without_a_base():
    summary = session_summary(
        {"_id": SESSION_ID, "interactiveSessionType": "azureVSCode", "status": "aborting"}
    )
    assert summary["execution_platform"] == "azure"
    assert summary["session_type"] == "VS Code"
    assert summary["status"] == "stopping"
    assert summary["url"] is None
    assert session_summary({"_id": SESSION_ID}, base_url="  ")["url"] is None


# --- URLs of a deployment -------------------------------------------------------------------------

SESSION = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://cloudos.lifebit.ai", "https://cloudos.lifebit.ai"),
        ("https://cloudos.lifebit.ai/", "https://cloudos.lifebit.ai"),
        ("https://cloudos.lifebit.ai///", "https://cloudos.lifebit.ai"),
        ("  https://cloudos.lifebit.ai/  ", "https://cloudos.lifebit.ai"),
        ("cloudos.lifebit.ai", "https://cloudos.lifebit.ai"),
        ("cloudos.example.org/", "https://cloudos.example.org"),
        ("localhost:8080", "https://localhost:8080"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("https://example.org/cloudos/", "https://example.org/cloudos"),
    ],
)
def test_normalize_base_url(given, expected):
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize("given", [None, "", "   "])
def test_normalize_base_url_defaults_when_empty(given):
    assert normalize_base_url(given) == DEFAULT_BASE_URL == "https://cloudos.lifebit.ai"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("ftp://cloudos.lifebit.ai", "scheme must be http or https"),
        ("https://", "host name is required"),
        ("https://cloudos.lifebit.ai/?teamId=1", "query or fragment"),
        ("https://cloudos.lifebit.ai/#x", "query or fragment"),
    ],
)
def test_normalize_base_url_refuses_bad_urls_naming_the_value(given, problem):
    with pytest.raises(CloudOSValidationError, match=problem) as excinfo:
        normalize_base_url(given)
    assert excinfo.value.parameter == "base_url"
    assert f"base_url={given!r}" in str(excinfo.value)


def test_normalize_base_url_refuses_non_strings():
    with pytest.raises(CloudOSValidationError, match=r"base_url=42.*expected a string"):
        normalize_base_url(42)  # type: ignore[arg-type]


def test_session_url():
    assert (
        session_url("https://cloudos.lifebit.ai/", SESSION)
        == f"https://cloudos.lifebit.ai/app/data-science/interactive-analysis/view/{SESSION}"
    )


def test_session_url_normalises_the_base_and_the_id():
    assert session_url("", f" {SESSION} ") == (
        f"{DEFAULT_BASE_URL}/app/data-science/interactive-analysis/view/{SESSION}"
    )


def test_session_url_refuses_a_bad_session_id():
    with pytest.raises(CloudOSValidationError, match="session_id='nope'"):
        session_url("https://cloudos.lifebit.ai", "nope")
