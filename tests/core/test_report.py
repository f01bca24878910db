"""The workspace report: rows, totals, CSV and the access audit."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fleet_sessions import NOW, session

from airflow_provider_cloudos.core.report import (
    REPORT_COLUMNS,
    build_session_report,
    describe_access_item,
    report_csv,
    session_access,
    summarize_report,
)

# --- the report --------------------------------------------------------------------------------


def test_report_rows_use_the_core_formatters_and_sort_by_cost():
    rows = build_session_report(
        [
            session("cheap", cost=0.5, runtime=59, shutdown="2026-03-01T15:30:00Z", session_id="a" * 24),
            session("dear", cost=12.345, runtime=7325, shutdown="2026-03-01T11:00:00Z", session_id="b" * 24),
            session(
                "paused", "aborted", cost=3, runtime=0, shutdown="2026-03-01T15:30:00Z", session_id="c" * 24
            ),
        ],
        "https://cloudos.example.org/",
        NOW,
    )
    assert [row["name"] for row in rows] == ["dear", "paused", "cheap"]
    dear, paused, cheap = rows
    assert dear == {
        "id": "b" * 24,
        "name": "dear",
        "status": "running",
        "type": "Jupyter",
        "instance": "c5.xlarge",
        "owner": "Ada Lovelace",
        "project": "genomics",
        "cost": "$12.35",
        "cost_usd": 12.345,
        "cost_limit_usd": -1.0,
        "runtime": "2h 2m 5s",
        "runtime_seconds": 7325,
        "auto_shutdown_at": "2026-03-01T11:00:00Z",
        "auto_shutdown": "2026-03-01 11:00:00",
        "time_to_auto_shutdown": "due",
        "time_to_auto_shutdown_seconds": -3600,
        "url": f"https://cloudos.example.org/app/data-science/interactive-analysis/view/{'b' * 24}",
    }
    assert cheap["time_to_auto_shutdown"] == "3h 30m"
    assert cheap["time_to_auto_shutdown_seconds"] == 12600
    assert cheap["runtime"] == "59s"
    assert paused["status"] == "paused"
    assert paused["time_to_auto_shutdown"] is None, "a paused session is not billing: no countdown"
    assert paused["runtime"] == "Not started"
    json.dumps(rows)  # XCom-friendly


def test_report_reads_naive_now_as_utc_and_marks_spot_instances():
    spot = session(shutdown="2026-03-01T12:10:00Z")
    spot["resources"]["isCostSaving"] = True
    (row,) = build_session_report([spot], None, NOW.replace(tzinfo=None))
    assert row["time_to_auto_shutdown"] == "10m"
    assert row["instance"] == "c5.xlarge (spot)"
    assert row["url"] is None


@pytest.mark.parametrize(
    "partial",
    [{}, {"_id": None, "status": None}, {"status": "ready", "execution": None, "resources": "odd"}],
)
def test_report_survives_partial_session_objects(partial):
    (row,) = build_session_report([partial], "https://x.example.org", NOW)
    assert row["cost_usd"] == 0.0
    assert row["time_to_auto_shutdown"] is None
    json.dumps(row)


def test_unreadable_auto_shutdown_gives_no_countdown():
    (row,) = build_session_report([session(shutdown="next tuesday")], None, NOW)
    assert row["time_to_auto_shutdown"] is None
    assert row["auto_shutdown"] == "next tuesday"


def test_summarize_report_totals():
    rows = build_session_report(
        [
            session("a", cost=1.5, session_id="a" * 24),
            session("b", "setup", cost=0.25, session_id="b" * 24),
            session("c", "aborted", cost=10, session_id="c" * 24),
        ],
        None,
        NOW,
    )
    assert summarize_report(rows) == {
        "count": 3,
        "by_status": {"paused": 1, "running": 1, "setup": 1},
        "total_cost_usd": 11.75,
        "total_cost": "$11.75",
        "live_count": 2,
        "live_cost_usd": 1.75,
    }
    assert summarize_report([])["count"] == 0


def test_report_csv_quotes_names_and_writes_the_file(tmp_path):
    rows = build_session_report([session('with, comma "quoted"', cost=2)], None, NOW)
    target = tmp_path / "report.csv"
    text = report_csv(rows, str(target))
    assert target.read_text(encoding="utf-8") == text
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == [header for _, header in REPORT_COLUMNS]
    assert parsed[1][1] == 'with, comma "quoted"'
    assert parsed[1][7] == "$2.00"
    assert parsed[1][REPORT_COLUMNS.index(("url", "URL"))] == ""
    assert report_csv([]) == ",".join(header for _, header in REPORT_COLUMNS) + "\n"


@pytest.mark.parametrize("unset", [None, "", "None", "null"])
def test_report_csv_writes_no_file_for_an_unset_destination(tmp_path, monkeypatch, unset):
    monkeypatch.chdir(tmp_path)
    assert report_csv([], unset).startswith("ID,")
    assert list(tmp_path.iterdir()) == []


# --- the access audit ------------------------------------------------------------------------------

ACCESS_ITEMS = {
    "dataItems": [
        {"type": "S3File", "data": {"name": "v.vcf", "s3BucketName": "cohorts", "s3ObjectKey": "2026/v.vcf"}},
        {"kind": "File", "item": "8c0000000000000000000001", "name": "samples.csv"},
    ],
    "fuseFileSystems": [
        {
            "type": "S3Folder",
            "data": {"name": "results", "s3BucketName": "genomics", "s3Prefix": "Data/results/"},
        }
    ],
}


def test_session_access_describes_each_mount_and_link_as_recorded():
    assert session_access(ACCESS_ITEMS) == {
        "mounts": ["s3://cohorts/2026/v.vcf", "samples.csv (file 8c0000000000000000000001)"],
        "links": ["s3://genomics/Data/results/"],
    }


def test_session_access_tells_nothing_mounted_from_not_reported():
    assert session_access({"dataItems": [], "fuseFileSystems": []}) == {"mounts": [], "links": []}
    assert session_access({"dataItems": []}) == {"mounts": [], "links": None}
    assert session_access({}) == {"mounts": None, "links": None}
    assert session_access({"dataItems": "garbage"}) == {"mounts": None, "links": None}


@pytest.mark.parametrize("item", [None, "s3://x", {"type": "AzureBlob"}, {"type": "S3File", "data": None}])
def test_an_unrecognised_item_is_shown_not_dropped(item):
    text = describe_access_item(item)
    assert text.startswith(("unrecognised item", "s3://")), text


def test_report_rows_carry_access_only_when_asked(tmp_path):
    audited = {**session("audited"), **ACCESS_ITEMS}
    (plain,) = build_session_report([audited], None, NOW)
    assert "mounts" not in plain
    (row,) = build_session_report([audited], None, NOW, include_access=True)
    assert row["mounts"] == ["s3://cohorts/2026/v.vcf", "samples.csv (file 8c0000000000000000000001)"]
    assert row["links"] == ["s3://genomics/Data/results/"]

    text = report_csv([row], str(tmp_path / "audit.csv"), include_access=True)
    header, line = text.splitlines()
    assert header.endswith(",Mounted files,Linked folders")
    assert line.endswith(
        ",s3://cohorts/2026/v.vcf; samples.csv (file 8c0000000000000000000001),s3://genomics/Data/results/"
    )
    assert "Mounted files" not in report_csv([row])


@pytest.mark.parametrize(
    ("shutdown", "expected"),
    [
        ("2026-03-01T12:10:00Z", "10m"),
        ("2026-03-01T12:10:00z", "10m"),
        ("2026-03-01T14:10:00+02:00", "10m"),
        ("2026-03-01T07:10:00-05:00", "10m"),
        ("2026-03-01T12:10:00", "10m"),
    ],
)
def test_auto_shutdown_times_in_any_offset_are_the_same_instant(shutdown, expected):
    (row,) = build_session_report([session(shutdown=shutdown)], None, NOW)
    assert row["time_to_auto_shutdown"] == expected


def test_a_naive_now_is_utc_whatever_the_machines_time_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        (row,) = build_session_report(
            [session(shutdown="2026-03-01T12:10:00Z")], None, NOW.replace(tzinfo=None)
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert row["time_to_auto_shutdown"] == "10m"


def test_summarize_report_counts_each_status_and_rounds_to_micro_dollars():
    rows = [
        {"status": "running", "cost_usd": 0.1234564},
        {"status": "running", "cost_usd": 0.0000004},
        {"status": "paused", "cost_usd": 1},
    ]
    summary = summarize_report(rows)
    assert summary["by_status"] == {"paused": 1, "running": 2}
    assert summary["live_count"] == 2
    assert summary["live_cost_usd"] == 0.123457
    assert summary["total_cost_usd"] == 1.123457


@pytest.mark.parametrize(
    ("shutdown", "expected"), [("2026-03-01T12:00:00Z", "due"), ("2026-03-01T12:00:01Z", "1s")]
)
def test_auto_shutdown_is_due_at_the_instant_itself(shutdown, expected):
    (row,) = build_session_report([session(shutdown=shutdown)], None, NOW)
    assert row["time_to_auto_shutdown"] == expected


def test_report_rows_of_equal_cost_sort_by_name_then_id_missing_ones_first():
    sessions = [
        session("b", cost=1, session_id="0" * 24),
        session("A", cost=1, session_id="2" * 24),
        session("A", cost=1, session_id="1" * 24),
        session(None, cost=1, session_id="3" * 24),
        session("A", cost=1, session_id=None),
    ]
    rows = build_session_report(sessions, None, NOW)
    assert [(row["name"], row["id"]) for row in rows] == [
        (None, "3" * 24),
        ("A", None),
        ("A", "1" * 24),
        ("A", "2" * 24),
        ("b", "0" * 24),
    ]


def test_a_session_without_auto_shutdown_shows_none():
    (row,) = build_session_report([session(shutdown=None)], None, NOW)
    assert row["auto_shutdown"] is None
    assert row["time_to_auto_shutdown"] is None
