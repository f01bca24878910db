from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.fleet import (
    REPORT_COLUMNS,
    BatchWatch,
    SessionFilter,
    SessionGuard,
    build_session_report,
    describe_access_item,
    parse_string_list,
    report_csv,
    session_access,
    summarize_report,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def session(
    name: str = "analysis",
    status: str = "ready",
    *,
    session_id: str = "a" * 24,
    cost: float | None = 1.0,
    runtime: float | None = 600,
    shutdown: str | None = None,
    **extra,
) -> dict:
    """A session object shaped like the API's (only the fields the fleet code reads)."""
    data = {
        "_id": session_id,
        "name": name,
        "status": status,
        "interactiveSessionType": "awsJupyterNotebook",
        "user": {"name": "Ada", "surname": "Lovelace", "email": "ada@example.org"},
        "project": {"_id": "b" * 24, "name": "genomics"},
        "resources": {"instanceType": "c5.xlarge", "isCostSaving": False, "storageSizeInGb": 500},
        "totalCostInUsd": cost,
        "totalRunningTimeInSeconds": runtime,
        "execution": {"computeCostLimit": -1, "autoShutdownAtDate": shutdown},
    }
    data.update(extra)
    return data


# --- importing -------------------------------------------------------------------------------


def test_the_fleet_core_imports_no_airflow_and_no_http_library():
    probe = (
        "import json, sys\n"
        "import airflow_provider_cloudos.core.fleet\n"
        "banned = ('airflow', 'requests', 'aiohttp', 'urllib3')\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in banned)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []


# --- SessionFilter ---------------------------------------------------------------------------


def test_the_default_filter_selects_running_sessions_only():
    selection = SessionFilter()
    assert selection.statuses == frozenset({"running"})
    assert selection.matches(session(status="ready"))
    assert selection.matches(session(status="running"))
    assert selection.why_not(session(status="aborted")) == "status paused is not running"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ("running", {"running"}),
        ("running, paused", {"running", "paused"}),
        (["ready", "initializing"], {"running", "initialising"}),
        ("['running', 'stopping']", {"running", "stopping"}),
        ('["paused"]', {"paused"}),
        ("", {"running"}),
        (None, {"running"}),
        ("None", {"running"}),
    ],
)
def test_statuses_are_read_from_every_templated_form(statuses, expected):
    assert SessionFilter.from_params(statuses=statuses).statuses == frozenset(expected)


def test_from_params_reads_rendered_strings():
    selection = SessionFilter.from_params(
        statuses="running",
        only_owner="true",
        name_pattern=" nightly-* ",
        min_runtime="2h",
        min_cost_usd="5.5",
        exclude_names="keep-me, also-*",
        exclude_ids=f"{'c' * 24}",
    )
    assert selection == SessionFilter(
        statuses=frozenset({"running"}),
        only_owner=True,
        name_pattern="nightly-*",
        min_runtime_seconds=7200,
        min_cost_usd=5.5,
        exclude_names=frozenset({"keep-me", "also-*"}),
        exclude_ids=frozenset({"c" * 24}),
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statuses": "sleeping"}, "Invalid statuses='sleeping': unknown session status"),
        ({"statuses": []}, "Invalid statuses=[]: at least one status is required"),
        ({"statuses": " , "}, "Invalid statuses=' , ': at least one status is required"),
        ({"statuses": 5}, "Invalid statuses=5: expected a list of strings"),
        ({"only_owner": "maybe"}, "Invalid only_owner='maybe': expected a boolean"),
        ({"name_pattern": 7}, "Invalid name_pattern=7: expected a glob pattern"),
        ({"min_runtime": "forever"}, "Invalid min_runtime='forever'"),
        ({"min_runtime": "0m"}, "Invalid min_runtime='0m': the timeout must be greater than zero"),
        ({"min_cost_usd": "lots"}, "Invalid min_cost_usd='lots': expected an amount of USD"),
        ({"min_cost_usd": -1}, "Invalid min_cost_usd=-1: the amount must be 0 or more"),
        ({"min_cost_usd": float("nan")}, "Invalid min_cost_usd=nan: expected a finite amount"),
        ({"min_cost_usd": True}, "Invalid min_cost_usd=True: expected an amount of USD"),
        ({"exclude_names": [1, "x"]}, "Invalid exclude_names=1: every item must be a string"),
        ({"exclude_names": "[broken"}, "Invalid exclude_names='[broken': looks like a list"),
        ({"exclude_ids": "not-an-id"}, "Invalid exclude_ids='not-an-id'"),
        ({"exclude_ids": {"a": 1}}, "Invalid exclude_ids={'a': 1}: expected a list of strings"),
    ],
)
def test_bad_filter_parameters_are_refused_naming_them(kwargs, message):
    with pytest.raises(CloudOSValidationError) as error:
        SessionFilter.from_params(**kwargs)
    assert message in str(error.value)
    assert error.value.parameter == next(iter(kwargs))


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"statuses": frozenset({"bogus"})}, "statuses"),
        ({"only_owner": "yes"}, "only_owner"),
        ({"name_pattern": "  "}, "name_pattern"),
        ({"min_runtime_seconds": -5}, "min_runtime_seconds"),
        ({"min_cost_usd": -0.5}, "min_cost_usd"),
        ({"exclude_ids": frozenset({"short"})}, "exclude_ids"),
    ],
)
def test_direct_construction_is_validated_too(kwargs, parameter):
    with pytest.raises(CloudOSValidationError) as error:
        SessionFilter(**kwargs)
    assert error.value.parameter == parameter


def test_the_filter_is_frozen():
    selection = SessionFilter()
    with pytest.raises(AttributeError):
        selection.only_owner = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("selection", "candidate", "reason"),
    [
        (
            SessionFilter(exclude_ids=frozenset({"a" * 24})),
            session(),
            f"session {'a' * 24} is on the exclude_ids list",
        ),
        (
            SessionFilter(exclude_names=frozenset({"analysis"})),
            session(),
            "name 'analysis' is on the exclude_names list",
        ),
        (
            SessionFilter(exclude_names=frozenset({"ana*"})),
            session(),
            "name 'analysis' matches 'ana*' on the exclude_names list",
        ),
        (SessionFilter(name_pattern="nightly-*"), session(), "name 'analysis' does not match 'nightly-*'"),
        (SessionFilter(min_runtime_seconds=3600), session(runtime=600), "runtime 10m is below 1h"),
        (SessionFilter(min_cost_usd=5), session(cost=1.25), "cost $1.25 is below $5.00"),
        (
            SessionFilter(statuses=frozenset({"running", "initialising"})),
            session(status="aborting"),
            "status stopping is not initialising or running",
        ),
    ],
)
def test_why_not_names_the_condition_that_failed(selection, candidate, reason):
    assert selection.why_not(candidate) == reason
    assert selection.matches(candidate) is False


def test_thresholds_are_inclusive():
    selection = SessionFilter(min_runtime_seconds=7200, min_cost_usd=50)
    assert selection.matches(session(runtime=7200, cost=50.0))
    assert not selection.matches(session(runtime=7199.9, cost=50.0))
    assert not selection.matches(session(runtime=7200, cost=49.99))


def test_globs_are_case_sensitive_and_plain_names_match_only_themselves():
    selection = SessionFilter(name_pattern="Nightly-*", exclude_names=frozenset({"Nightly-keep"}))
    assert selection.matches(session(name="Nightly-42"))
    assert not selection.matches(session(name="nightly-42"))
    assert not selection.matches(session(name="Nightly-keep"))
    assert selection.matches(session(name="Nightly-keeper"))


@pytest.mark.parametrize(
    "partial",
    [{}, {"status": "ready"}, {"status": "ready", "name": None, "totalCostInUsd": "n/a", "user": None}],
)
def test_partial_session_objects_never_crash(partial):
    selection = SessionFilter(name_pattern="*", min_cost_usd=0, min_runtime_seconds=1)
    assert isinstance(selection.why_not(partial), str)


def test_describe_reads_like_the_selection():
    text = SessionFilter.from_params(
        only_owner=True, name_pattern="n-*", min_runtime="2h", min_cost_usd=5, exclude_names=["keep"]
    ).describe()
    assert text == (
        "running sessions, owned by this API key's user, named like 'n-*', running at least 2h, "
        "costing at least $5.00, except names keep"
    )


def test_parse_string_list_keeps_list_items_whole():
    assert parse_string_list(["a,b", " c "], "exclude_names") == ("a,b", "c")
    assert parse_string_list("a, ,b", "exclude_names") == ("a", "b")
    assert parse_string_list("null", "exclude_names") == ()


# --- SessionGuard -----------------------------------------------------------------------------


def test_the_guard_fires_at_the_cost_limit_and_says_why():
    guard = SessionGuard(max_cost_usd=50)
    assert guard.check(session(cost=49.99)) is None
    assert guard.check(session(cost=50.0)) == "cost $50.00 reached the limit of $50.00"
    assert guard.check(session(cost=50.2)) == "cost $50.20 reached the limit of $50.00"


def test_the_guard_fires_at_the_runtime_limit_and_says_why():
    guard = SessionGuard(max_runtime_seconds=7200)
    assert guard.check(session(runtime=7199)) is None
    assert guard.check(session(runtime=7205)) == "runtime 2h 5s reached the limit of 2h"


def test_both_limits_reached_are_both_reported():
    guard = SessionGuard.from_params(max_cost_usd="10", max_runtime="1h")
    assert guard.check(session(cost=11, runtime=3600)) == (
        "cost $11.00 reached the limit of $10.00 and runtime 1h reached the limit of 1h"
    )


def test_an_inactive_guard_never_fires_and_partial_objects_never_crash():
    assert SessionGuard().active is False
    assert SessionGuard().check(session(cost=1e9, runtime=1e9)) is None
    guard = SessionGuard(max_cost_usd=1, max_runtime_seconds=1)
    assert guard.check({}) is None
    assert guard.check({"totalCostInUsd": "lots", "totalRunningTimeInSeconds": None}) is None


def test_from_params_reads_rendered_values_and_unset_ones():
    assert SessionGuard.from_params(max_cost_usd=" 50 ", max_runtime="8h") == SessionGuard(50.0, 28800.0)
    assert SessionGuard.from_params(max_cost_usd="None", max_runtime="") == SessionGuard()
    assert SessionGuard.from_params(max_runtime=timedelta(minutes=90)).max_runtime_seconds == 5400.0


@pytest.mark.parametrize(
    ("kwargs", "parameter", "message"),
    [
        ({"max_cost_usd": 0}, "max_cost_usd", "Invalid max_cost_usd=0: the amount must be greater than 0"),
        ({"max_cost_usd": -3}, "max_cost_usd", "Invalid max_cost_usd=-3: the amount must be greater than 0"),
        (
            {"max_cost_usd": "fifty"},
            "max_cost_usd",
            "Invalid max_cost_usd='fifty': expected an amount of USD",
        ),
        ({"max_cost_usd": [50]}, "max_cost_usd", "Invalid max_cost_usd=[50]: expected an amount of USD"),
        (
            {"max_runtime": "0s"},
            "max_runtime",
            "Invalid max_runtime='0s': the timeout must be greater than zero",
        ),
        ({"max_runtime": "soon"}, "max_runtime", "Invalid max_runtime='soon'"),
        ({"max_runtime": False}, "max_runtime", "Invalid max_runtime=False: expected a duration"),
    ],
)
def test_bad_guards_are_refused_naming_the_parameter(kwargs, parameter, message):
    with pytest.raises(CloudOSValidationError) as error:
        SessionGuard.from_params(**kwargs)
    assert error.value.parameter == parameter
    assert message in str(error.value)


def test_direct_guard_construction_names_its_fields():
    with pytest.raises(CloudOSValidationError, match="Invalid max_runtime_seconds=-1"):
        SessionGuard(max_runtime_seconds=-1)
    with pytest.raises(CloudOSValidationError, match="Invalid max_cost_usd=inf"):
        SessionGuard(max_cost_usd=float("inf"))


def test_trigger_kwargs_hold_only_the_limits_that_are_set():
    assert SessionGuard().trigger_kwargs() == {}
    assert SessionGuard(max_cost_usd=5).trigger_kwargs() == {"max_cost_usd": 5.0}
    assert SessionGuard(5, 60).trigger_kwargs() == {"max_cost_usd": 5.0, "max_runtime_seconds": 60.0}
    assert SessionGuard(5, 3600).describe() == "cost reaches $5.00 or runtime reaches 1h"
    assert SessionGuard().describe() == "no guard"


# --- BatchWatch -------------------------------------------------------------------------------


def test_a_batch_settles_each_session_once_and_words_the_outcome():
    ids = ["a" * 24, "b" * 24, "c" * 24]
    watch = BatchWatch(ids, {"paused"}, {"terminated"}, started_at=100.0)
    assert watch.progress() == (0, 0, 3)
    watch.observe(ids[0], session(status="aborted"))
    watch.observe(ids[1], session(status="aborting"))
    watch.refuse(ids[2], "CloudOS refused to report it: 404")
    assert watch.reached == {ids[0]: "paused"}
    assert watch.pending == {ids[1]: "stopping"}
    assert watch.progress_message(165.0) == "1 of 3 sessions paused after 1m 5s, 1 failed; waiting for 1"
    assert watch.timeout_message(100.5) == (
        f"1 of 3 sessions did not become paused within 0s: {ids[1]} (stopping)"
    )
    watch.observe(ids[1], session(status="stopped"))
    assert watch.done
    assert watch.outcome_message() == (
        f"1 of 3 sessions did not become paused: {ids[2]}: CloudOS refused to report it: 404"
    )


def test_a_batch_reports_failure_statuses_and_success():
    watch = BatchWatch(["a" * 24, "b" * 24], {"paused"}, {"terminated"})
    watch.observe("a" * 24, session(status="terminated"))
    assert watch.failed == {"a" * 24: "it is terminated"}
    ok = BatchWatch(["a" * 24], {"paused", "terminated"}, {"terminated"})
    ok.observe("a" * 24, session(status="terminated"))
    assert ok.done
    assert ok.outcome_message() == "All 1 sessions are paused or terminated"


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


def test_describe_lists_every_status_and_every_exclusion():
    text = SessionFilter.from_params(
        statuses="running,setup", exclude_names=["keep", "also"], exclude_ids=["b" * 24, "a" * 24]
    ).describe()
    assert text == (f"running or setup sessions, except names also, keep, except ids {'a' * 24}, {'b' * 24}")


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


def test_defaults_select_running_sessions_of_every_owner():
    for selection in (SessionFilter(), SessionFilter.from_params()):
        assert selection.statuses == {"running"}
        assert selection.only_owner is False


@pytest.mark.parametrize("rendered", ["", "None", "  "])
def test_a_rendered_empty_name_pattern_means_no_pattern(rendered):
    assert SessionFilter.from_params(name_pattern=rendered).name_pattern is None


def test_a_session_without_a_name_does_not_match_a_pattern_that_needs_one():
    nameless = {"_id": "a" * 24, "status": "ready"}
    assert SessionFilter(name_pattern="?*").why_not(nameless) == "name '' does not match '?*'"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"only_owner": "yes"}, "Invalid only_owner='yes': expected True or False"),
        ({"name_pattern": "  "}, "Invalid name_pattern='  ': expected a non-empty glob pattern"),
        ({"name_pattern": 5}, "Invalid name_pattern=5: expected a non-empty glob pattern"),
    ],
)
def test_direct_construction_refusals_say_what_is_wrong(kwargs, message):
    with pytest.raises(CloudOSValidationError) as error:
        SessionFilter(**kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize("parameter", ["exclude_names", "exclude_ids"])
def test_exclusion_lists_of_the_wrong_type_are_refused_naming_them(parameter):
    with pytest.raises(CloudOSValidationError) as error:
        SessionFilter(**{parameter: 5})
    assert error.value.parameter == parameter
