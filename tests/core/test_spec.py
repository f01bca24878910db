from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_provider_cloudos.core import spec
from airflow_provider_cloudos.core.errors import CloudOSValidationError, shown_value
from airflow_provider_cloudos.core.selection import SessionFilter
from airflow_provider_cloudos.core.spec import (
    MAX_LINKED_ITEMS,
    ResumeSpec,
    SessionSpec,
    build_file_item,
    build_project_folder_item,
    build_resume_payload,
    build_s3_file_item,
    build_s3_link_item,
    build_session_payload,
    check_duplicate_mount_names,
    check_spark_platform,
    check_unique_names,
    describe_path,
    is_unset,
    item_mount_name,
    link_mount_name,
    make_resume_spec,
    make_session_spec,
    parse_bool,
    parse_data_file,
    parse_data_files,
    parse_duration_seconds,
    parse_link_path,
    parse_link_paths,
    parse_shutdown_duration,
    parse_shutdown_timedelta,
    parse_string_list,
    parse_watch_timeout_duration,
    read_list_literal,
    require_backend,
    require_cost_limit,
    require_execution_platform,
    require_instance_type,
    require_object_id,
    require_r_version,
    require_session_id,
    require_session_name,
    require_session_type,
    require_spark_workers,
    require_storage_size,
    split_paths,
    split_strings,
    utc_timestamp,
    validate_instance_type,
    validate_session_id,
)
from airflow_provider_cloudos.core.waiting import SessionGuard

NOW = datetime(2026, 5, 28, 12, 0, 0, tzinfo=UTC)
PROJECT = "5f0c1d2e3a4b5c6d7e8f9a0b"
FILE_ITEM = {"kind": "File", "item": "60a1b2c3d4e5f6a7b8c9d0e1", "name": "f.txt"}
FOLDER_ITEM = {"type": "S3Folder", "data": {"name": "p", "s3BucketName": "b", "s3Prefix": "p/"}}


def invalid(parameter: str, value: object) -> str:
    return re.escape(f"Invalid {parameter}={shown_value(value)}")


# --- make_session_spec ----------------------------------------------------------------------------


def test_session_spec_defaults():
    spec = make_session_spec(name="nb", session_type="jupyter")
    assert spec == SessionSpec(
        name="nb",
        session_type="jupyter",
        backend="regular",
        execution_platform="aws",
        instance_type="c5.xlarge",
        storage_size=500,
        spot=False,
        shared=False,
        cost_limit=-1,
        shutdown_in="12h",
        mounts=(),
        links=(),
        r_version=None,
        spark_master_type=None,
        spark_core_type=None,
        spark_workers=1,
    )


def test_session_spec_is_frozen():
    spec = make_session_spec(name="nb", session_type="jupyter")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]


def test_session_spec_converts_rendered_template_strings():
    spec = make_session_spec(
        name=" nb ",
        session_type="VSCode",
        execution_platform="AWS",
        instance_type="m5.large",
        storage_size="750",
        spot="true",
        shared="yes",
        cost_limit="20",
        shutdown_in="8H",
        mounts='["s3://b/k.csv", "proj > Data/f.txt"]',
        links="s3://b/p/, m:b2:q",
        spark_workers="4",
    )
    assert spec.name == "nb"
    assert spec.session_type == "vscode"
    assert spec.backend == "vscode"
    assert spec.instance_type == "m5.large"
    assert spec.storage_size == 750
    assert spec.spot is True
    assert spec.shared is True
    assert spec.cost_limit == 20
    assert spec.shutdown_in == "8h"
    assert spec.mounts == (
        {"type": "s3", "s3_bucket": "b", "s3_prefix": "k.csv"},
        {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/f.txt"},
    )
    assert spec.links == (
        {"type": "s3", "s3_bucket": "b", "s3_prefix": "p/", "is_file": False},
        {"type": "s3", "mount_name": "m", "s3_bucket": "b2", "s3_prefix": "q/", "is_file": False},
    )
    assert spec.spark_workers == 4


def test_empty_strings_mean_the_defaults():
    spec = make_session_spec(
        name="nb",
        session_type="rstudio",
        execution_platform="",
        instance_type="",
        storage_size="",
        spot="",
        shared=" ",
        cost_limit="",
        shutdown_in="",
        mounts="",
        links="",
        r_version="",
        spark_master_type="",
        spark_core_type="",
        spark_workers="",
    )
    assert spec == make_session_spec(name="nb", session_type="rstudio")
    assert spec.r_version == "4.5.2"
    assert spec.shutdown_in == "12h"


def test_azure_default_instance_type():
    spec = make_session_spec(name="nb", session_type="jupyter", execution_platform="azure")
    assert spec.instance_type == "Standard_F1s"
    assert spec.execution_platform == "azure"


def test_rstudio_keeps_its_r_version_and_others_drop_it():
    assert make_session_spec(name="r", session_type="rstudio", r_version="4.4.2").r_version == "4.4.2"
    assert make_session_spec(name="j", session_type="jupyter", r_version="4.4.2").r_version is None


def test_spark_defaults_and_overrides():
    spec = make_session_spec(name="s", session_type="spark")
    assert (spec.spark_master_type, spec.spark_core_type, spec.spark_workers) == (
        "c5.2xlarge",
        "c5.xlarge",
        1,
    )
    spec = make_session_spec(
        name="s",
        session_type="spark",
        spark_master_type="m5.4xlarge",
        spark_core_type="r5.2xlarge",
        spark_workers=3,
    )
    assert (spec.spark_master_type, spec.spark_core_type, spec.spark_workers) == (
        "m5.4xlarge",
        "r5.2xlarge",
        3,
    )
    other = make_session_spec(name="j", session_type="jupyter", spark_master_type="m5.4xlarge")
    assert other.spark_master_type is None


BAD_SESSION_ARGUMENTS = [
    ({"name": ""}, "name", ""),
    ({"name": "x" * 101}, "name", "x" * 101),
    ({"name": None}, "name", None),
    ({"session_type": "notebook"}, "session_type", "notebook"),
    ({"session_type": ""}, "session_type", ""),
    ({"session_type": "spark", "execution_platform": "azure"}, "session_type", "spark"),
    ({"execution_platform": "gcp"}, "execution_platform", "gcp"),
    ({"instance_type": "huge"}, "instance_type", "huge"),
    ({"instance_type": "Standard_F1s"}, "instance_type", "Standard_F1s"),
    ({"execution_platform": "azure", "instance_type": "c5.xlarge"}, "instance_type", "c5.xlarge"),
    ({"storage_size": "50"}, "storage_size", "50"),
    ({"storage_size": "5001"}, "storage_size", "5001"),
    ({"storage_size": "lots"}, "storage_size", "lots"),
    ({"spot": "sometimes"}, "spot", "sometimes"),
    ({"spot": "true", "execution_platform": "azure"}, "spot", True),
    ({"shared": "2"}, "shared", "2"),
    ({"cost_limit": "0"}, "cost_limit", "0"),
    ({"cost_limit": "-5"}, "cost_limit", "-5"),
    ({"cost_limit": "cheap"}, "cost_limit", "cheap"),
    ({"shutdown_in": "12"}, "shutdown_in", "12"),
    ({"shutdown_in": "-1h"}, "shutdown_in", "-1h"),
    ({"shutdown_in": "1.5h"}, "shutdown_in", "1.5h"),
    ({"shutdown_in": 12}, "shutdown_in", 12),
    ({"mounts": "s3://b/"}, "mounts", "s3://b/"),
    ({"mounts": "[broken"}, "mounts", "[broken"),
    ({"mounts": "az://c/f.txt"}, "mounts", "az://c/f.txt"),
    ({"mounts": "s3://b/k.csv", "execution_platform": "azure"}, "mounts", "s3://b/k.csv"),
    ({"mounts": 5}, "mounts", 5),
    ({"links": "az://c/folder"}, "links", "az://c/folder"),
    ({"links": "a:b"}, "links", "a:b"),
    ({"links": "proj/Data", "execution_platform": "azure"}, "links", "proj/Data"),
    ({"links": "s3://a/data/, s3://b/data/"}, "links", "s3://b/data/"),
    ({"links": [f"s3://b/p{i}/" for i in range(101)]}, "links", "101 paths"),
    ({"session_type": "rstudio", "r_version": "4.0.0"}, "r_version", "4.0.0"),
    ({"r_version": "9.9.9"}, "r_version", "9.9.9"),
    ({"session_type": "spark", "spark_master_type": "Standard_F1s"}, "spark_master_type", "Standard_F1s"),
    ({"session_type": "spark", "spark_core_type": "c5"}, "spark_core_type", "c5"),
    ({"spark_core_type": "xl"}, "spark_core_type", "xl"),
    ({"session_type": "spark", "spark_workers": "0"}, "spark_workers", "0"),
    ({"spark_workers": "101"}, "spark_workers", "101"),
    ({"spark_workers": "two"}, "spark_workers", "two"),
]


@pytest.mark.parametrize(("overrides", "parameter", "value"), BAD_SESSION_ARGUMENTS)
def test_make_session_spec_names_the_operator_parameter(overrides, parameter, value):
    arguments = {"name": "nb", "session_type": "jupyter", **overrides}
    with pytest.raises(CloudOSValidationError, match=invalid(parameter, value)) as caught:
        make_session_spec(**arguments)
    assert caught.value.parameter == parameter


def test_make_session_spec_takes_keywords_only():
    with pytest.raises(TypeError):
        make_session_spec("nb", "jupyter")  # type: ignore[call-arg]


# --- SessionSpec.to_payload -----------------------------------------------------------------------


def test_session_spec_to_payload_builds_the_official_body():
    spec = make_session_spec(
        name="stats",
        session_type="rstudio",
        storage_size="600",
        shared="true",
        cost_limit="30",
        shutdown_in="2h",
        mounts="proj/Data/f.txt",
        links="s3://b/p/",
    )
    assert spec.to_payload(PROJECT, [FILE_ITEM], [FOLDER_ITEM], now=NOW) == {
        "interactiveSessionConfiguration": {
            "name": "stats",
            "backend": "rstudio",
            "executionPlatform": "aws",
            "instanceType": "c5.xlarge",
            "isCostSaving": False,
            "storageSizeInGb": 600,
            "storageMode": "regular",
            "visibility": "workspace",
            "execution": {"computeCostLimit": 30, "autoShutdownAtDate": "2026-05-28T14:00:00Z"},
            "rVersion": "4.5.2",
        },
        "dataItems": [FILE_ITEM],
        "fileSystemIds": [],
        "fuseFileSystems": [FOLDER_ITEM],
        "projectId": PROJECT,
    }


def test_session_spec_to_payload_for_spark_and_azure():
    spark = make_session_spec(name="s", session_type="spark", spark_workers=2).to_payload(
        PROJECT, None, None, now=NOW
    )
    cluster = spark["interactiveSessionConfiguration"]["cluster"]
    assert cluster["instances"]["master"]["type"] == "c5.2xlarge"
    assert cluster["instances"]["core"]["minNumberOfInstances"] == 2
    azure = make_session_spec(name="a", session_type="jupyter", execution_platform="azure")
    payload = azure.to_payload(PROJECT, [FILE_ITEM], [], now=NOW)
    assert payload["fuseFileSystems"] == []
    assert payload["interactiveSessionConfiguration"]["instanceType"] == "Standard_F1s"
    assert (
        payload["interactiveSessionConfiguration"]["execution"]["autoShutdownAtDate"]
        == "2026-05-29T00:00:00Z"
    )


def test_session_spec_shutdown_is_computed_when_the_payload_is_built():
    spec = make_session_spec(name="nb", session_type="jupyter", shutdown_in="1d")
    assert spec.shutdown_at(NOW) == "2026-05-29T12:00:00Z"
    later = NOW.replace(hour=18)
    assert (
        spec.to_payload(PROJECT, [], [], now=later)["interactiveSessionConfiguration"]["execution"][
            "autoShutdownAtDate"
        ]
        == "2026-05-29T18:00:00Z"
    )


def test_session_spec_to_payload_trusts_what_was_checked_before():
    """The spec checked every value; the project id was checked (or resolved) by the caller."""
    spec = make_session_spec(name="nb", session_type="jupyter", shutdown_in="30s")
    assert spec.shutdown_in == "30s"
    payload = spec.to_payload(PROJECT, [], [], now=NOW)
    assert payload["projectId"] == PROJECT
    assert (
        payload["interactiveSessionConfiguration"]["execution"]["autoShutdownAtDate"]
        == "2026-05-28T12:00:30Z"
    )


def test_a_shutdown_given_as_a_timedelta_is_kept_as_a_duration():
    spec = make_session_spec(name="nb", session_type="jupyter", shutdown_in=timedelta(hours=2))
    assert spec.shutdown_in == "7200s"
    assert spec.shutdown_at(NOW) == "2026-05-28T14:00:00Z"


# --- make_resume_spec -----------------------------------------------------------------------------


def test_plain_resume_spec_is_empty():
    spec = make_resume_spec(execution_platform="aws")
    assert spec == ResumeSpec(
        execution_platform="aws",
        instance_type=None,
        storage_size=None,
        cost_limit=None,
        shutdown_in=None,
        mounts=(),
        links=(),
    )
    assert spec.is_empty
    assert spec.shutdown_at(NOW) is None
    assert spec.to_payload() == {"dataItems": [], "fileSystemIds": []}


def test_resume_spec_blank_strings_keep_the_current_settings():
    spec = make_resume_spec(
        execution_platform="AWS",
        instance_type="",
        storage_size=" ",
        cost_limit="",
        shutdown_in="",
        mounts="",
        links="",
    )
    assert spec.is_empty


def test_resume_spec_with_changes_builds_the_payload():
    spec = make_resume_spec(
        execution_platform="aws",
        instance_type="c5.2xlarge",
        storage_size="600",
        cost_limit="50",
        shutdown_in="4h",
        mounts="proj/Data/f.txt",
        links='["s3://b/p/"]',
    )
    assert not spec.is_empty
    assert spec.mounts == ({"type": "cloudos", "project_name": "proj", "dataset_path": "Data/f.txt"},)
    assert spec.to_payload([FILE_ITEM], [FOLDER_ITEM], now=NOW) == {
        "dataItems": [FILE_ITEM],
        "fileSystemIds": [],
        "newInteractiveSessionConfiguration": {
            "instanceType": "c5.2xlarge",
            "storageSizeInGb": 600,
            "execution": {"computeCostLimit": 50, "autoShutdownAtDate": "2026-05-28T16:00:00Z"},
        },
        "fuseFileSystems": [FOLDER_ITEM],
    }


def test_resume_spec_with_only_links_is_not_empty_but_changes_no_configuration():
    spec = make_resume_spec(execution_platform="aws", links="s3://b/p/")
    assert not spec.is_empty
    assert spec.to_payload([], [FOLDER_ITEM]) == {
        "dataItems": [],
        "fileSystemIds": [],
        "fuseFileSystems": [FOLDER_ITEM],
    }


def test_resume_spec_on_azure_accepts_azure_instance_types():
    spec = make_resume_spec(execution_platform="azure", instance_type="Standard_NC6s_v3")
    assert spec.instance_type == "Standard_NC6s_v3"
    with pytest.raises(CloudOSValidationError, match=invalid("links", "proj/Data")):
        make_resume_spec(execution_platform="azure", links="proj/Data")


@pytest.mark.parametrize(
    ("overrides", "parameter", "value"),
    [
        ({"execution_platform": ""}, "execution_platform", ""),
        ({"execution_platform": None}, "execution_platform", None),
        ({"execution_platform": "onprem"}, "execution_platform", "onprem"),
        ({"instance_type": "c5"}, "instance_type", "c5"),
        ({"execution_platform": "azure", "instance_type": "c5.xlarge"}, "instance_type", "c5.xlarge"),
        ({"storage_size": "20"}, "storage_size", "20"),
        ({"storage_size": "x"}, "storage_size", "x"),
        ({"cost_limit": "0"}, "cost_limit", "0"),
        ({"shutdown_in": "2 hours"}, "shutdown_in", "2 hours"),
        ({"mounts": "nothing"}, "mounts", "nothing"),
        ({"mounts": "s3://b/k", "execution_platform": "azure"}, "mounts", "s3://b/k"),
        ({"links": "s3://b/p/", "execution_platform": "azure"}, "links", "s3://b/p/"),
        ({"links": "x:y"}, "links", "x:y"),
    ],
)
def test_make_resume_spec_names_the_operator_parameter(overrides, parameter, value):
    arguments = {"execution_platform": "aws", **overrides}
    with pytest.raises(CloudOSValidationError, match=invalid(parameter, value)):
        make_resume_spec(**arguments)


def test_the_payload_trusts_the_spec_and_checks_nothing_again(monkeypatch):
    """Every value is checked once, when the spec is made; building the body checks nothing."""
    import airflow_provider_cloudos.core.spec as spec_module

    spec = make_session_spec(name="nb", session_type="rstudio", storage_size="750", cost_limit="12.5")

    def checked_again(*args, **kwargs):
        raise AssertionError("a value of the spec was checked again")

    for name in dir(spec_module):
        if name.startswith(("require_", "check_", "parse_")):
            monkeypatch.setattr(spec_module, name, checked_again)
    monkeypatch.setattr(
        spec_module, "parse_shutdown_duration", lambda *args, **kwargs: "2026-05-29T00:00:00Z"
    )
    configuration = spec.to_payload(PROJECT, [], [], now=NOW)["interactiveSessionConfiguration"]
    assert (configuration["storageSizeInGb"], configuration["execution"]["computeCostLimit"]) == (750, 12.5)
    assert configuration["rVersion"] == "4.5.2"


def test_each_parameter_has_one_default_shared_by_the_spec_and_the_official_builder():
    import inspect

    from airflow_provider_cloudos.core.spec import (
        DEFAULT_SPARK_WORKERS,
        DEFAULT_STORAGE_SIZE,
        UNLIMITED_COST,
    )

    spec = make_session_spec(name="nb", session_type="jupyter")
    builder = inspect.signature(build_session_payload).parameters
    assert spec.storage_size == builder["storage_size"].default == DEFAULT_STORAGE_SIZE == 500
    assert spec.cost_limit == builder["cost_limit"].default == UNLIMITED_COST == -1
    assert spec.spark_workers == builder["spark_workers"].default == DEFAULT_SPARK_WORKERS == 1
    assert spec.instance_type == builder["instance_type"].default == "c5.xlarge"


# --- an unset value: one rule, followed by every optional parameter the core reads ----------------

UNSET = [None, "", "   ", "None", "none", " NULL ", "null"]


@pytest.mark.parametrize("value", UNSET)
def test_none_and_the_rendered_forms_of_nothing_are_unset(value):
    assert is_unset(value)


@pytest.mark.parametrize("value", [0, False, "0", "false", "n", [], "nonesuch", "None,x"])
def test_anything_else_is_set_even_when_falsy(value):
    assert not is_unset(value)


@pytest.mark.parametrize("value", UNSET)
def test_a_session_spec_gives_an_unset_value_its_default(value):
    spec = make_session_spec(
        name="nb",
        session_type="rstudio",
        instance_type=value,
        storage_size=value,
        cost_limit=value,
        shutdown_in=value,
        r_version=value,
        mounts=value,
        links=value,
    )
    defaults = make_session_spec(name="nb", session_type="rstudio")
    assert spec == defaults


@pytest.mark.parametrize("value", UNSET)
def test_a_resume_spec_keeps_the_sessions_setting_for_an_unset_value(value):
    spec = make_resume_spec(
        execution_platform="aws", instance_type=value, storage_size=value, cost_limit=value, shutdown_in=value
    )
    assert spec.is_empty


@pytest.mark.parametrize("value", UNSET)
def test_fleet_parameters_and_lists_read_an_unset_value_as_not_given(value):
    assert split_strings(value, parameter="mounts") == []
    assert (
        SessionFilter.from_params(
            statuses=value, name_pattern=value, min_runtime=value, min_cost_usd=value, exclude_names=value
        )
        == SessionFilter()
    )
    assert not SessionGuard.from_params(max_cost_usd=value, max_runtime=value).active


# --- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("30m", "2026-05-28T12:30:00Z"),
        ("2h", "2026-05-28T14:00:00Z"),
        ("2H", "2026-05-28T14:00:00Z"),
        ("1d", "2026-05-29T12:00:00Z"),
        ("12h", "2026-05-29T00:00:00Z"),
        (" 8h\n", "2026-05-28T20:00:00Z"),
        ("0h", "2026-05-28T12:00:00Z"),
        ("90m", "2026-05-28T13:30:00Z"),
        ("30s", "2026-05-28T12:00:30Z"),
        (timedelta(hours=3), "2026-05-28T15:00:00Z"),
    ],
)
def test_parse_shutdown_duration_adds_the_duration_to_now(duration, expected):
    assert parse_shutdown_duration(duration, NOW) == expected


def test_parse_shutdown_duration_keeps_microseconds_like_isoformat():
    now = NOW.replace(microsecond=123456)
    assert parse_shutdown_duration("1m", now) == "2026-05-28T12:01:00.123456Z"


def test_parse_shutdown_duration_converts_other_offsets_and_naive_times_to_utc():
    plus_two = datetime(2026, 5, 28, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert parse_shutdown_duration("1h", plus_two) == "2026-05-28T13:00:00Z"
    assert parse_shutdown_duration("1h", datetime(2026, 5, 28, 12, 0)) == "2026-05-28T13:00:00Z"


def test_parse_shutdown_duration_defaults_to_the_clock_and_lies_in_the_future():
    before = datetime.now(UTC)
    result = datetime.fromisoformat(parse_shutdown_duration("1h").replace("Z", "+00:00"))
    assert result > before
    assert result.tzinfo is not None


def test_parse_shutdown_timedelta_returns_the_delta():
    assert parse_shutdown_timedelta("3d") == timedelta(days=3)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2",
        "h",
        "1.5h",
        "-1h",
        "2 h",
        "2hours",
        "two hours",
        "2h30m",
        "+2h",
        None,
        2,
        2.0,
        True,
        ["2h"],
        timedelta(hours=-1),
    ],
)
def test_parse_shutdown_duration_refuses_bad_values(value):
    with pytest.raises(CloudOSValidationError, match=invalid("shutdown_in", value)) as caught:
        parse_shutdown_duration(value, NOW)
    assert caught.value.parameter == "shutdown_in"
    assert isinstance(caught.value, ValueError)


def test_parse_shutdown_duration_names_a_custom_parameter():
    with pytest.raises(CloudOSValidationError, match=invalid("auto_shutdown", "soon")):
        parse_shutdown_duration("soon", NOW, parameter="auto_shutdown")


def test_parse_shutdown_duration_refuses_durations_past_the_calendar():
    with pytest.raises(CloudOSValidationError, match=r"Invalid shutdown_in='9999999d'.*too long"):
        parse_shutdown_duration("9999999d", NOW)
    with pytest.raises(CloudOSValidationError, match="too long"):
        parse_shutdown_timedelta("9" * 30 + "d")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("30m", 1800),
        ("2h", 7200),
        ("2H", 7200),
        ("1d", 86400),
        (" 45s ", 45),
        (90, 90),
        (90.0, 90),
        (0.5, 1),
        (1.2, 2),
        ("90", 90),
        ("90.5", 91),
        ("1e3", 1000),
        (timedelta(minutes=2), 120),
        (timedelta(milliseconds=10), 1),
    ],
)
def test_parse_watch_timeout_duration_accepts_durations_and_seconds(value, seconds):
    assert parse_watch_timeout_duration(value) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "",
        "0s",
        "0",
        "-5",
        "-5m",
        0,
        -1,
        -0.5,
        float("nan"),
        float("inf"),
        "1e999",
        "inf",
        "abc",
        "5 m",
        "5w",
        "1.5h",
        True,
        None,
        timedelta(0),
        timedelta(seconds=-3),
        [30],
    ],
)
def test_parse_watch_timeout_duration_refuses_bad_values(value):
    with pytest.raises(CloudOSValidationError, match=invalid("timeout", value)):
        parse_watch_timeout_duration(value)


def test_parse_watch_timeout_duration_names_a_custom_parameter():
    with pytest.raises(CloudOSValidationError, match=invalid("max_wait_time", "later")):
        parse_watch_timeout_duration("later", parameter="max_wait_time")


def test_utc_timestamp_formats_like_the_api():
    assert utc_timestamp(NOW) == "2026-05-28T12:00:00Z"
    assert (
        utc_timestamp(datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))))
        == "2026-01-01T00:00:00Z"
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1m", 60.0),
        (" 30S ", 30.0),
        ("2h", 7200.0),
        (0.02, 0.02),
        ("0.5", 0.5),
        (timedelta(minutes=2), 120.0),
    ],
)
def test_parse_duration_seconds_keeps_fractions_and_reads_units(value, seconds):
    assert parse_duration_seconds(value, parameter="poll_interval") == seconds


@pytest.mark.parametrize("value", [0, "0s", -1, "soon", True, None, float("nan"), float("inf")])
def test_parse_duration_seconds_refuses_what_cannot_wait_naming_the_parameter(value):
    with pytest.raises(CloudOSValidationError, match=r"^Invalid poll_interval="):
        parse_duration_seconds(value, parameter="poll_interval")


def test_the_watch_timeout_is_the_same_parser_rounded_up():
    assert parse_watch_timeout_duration(0.02) == 1
    assert parse_watch_timeout_duration("1m") == 60


#: The one wording of every refused duration, whichever parameter it is for.
NOT_A_DURATION = "expected a duration such as '30s', '30m', '2h' or '1d', or a number of seconds"


@pytest.mark.parametrize(
    ("read", "value", "message"),
    [
        (lambda v: parse_duration_seconds(v, parameter="poll_interval"), "soon", NOT_A_DURATION),
        (lambda v: parse_duration_seconds(v, parameter="poll_interval"), [30], NOT_A_DURATION),
        (lambda v: parse_watch_timeout_duration(v, parameter="timeout"), "5w", NOT_A_DURATION),
        (
            lambda v: parse_duration_seconds(v, parameter="timeout"),
            "0s",
            "the duration must be greater than 0",
        ),
        (lambda v: parse_duration_seconds(v, parameter="timeout"), -1, "the duration must be greater than 0"),
        (lambda v: parse_duration_seconds(v, parameter="timeout"), "1e999", "the duration is too long"),
        (
            lambda v: parse_duration_seconds(v, parameter="timeout"),
            "9" * 400 + "s",
            "the duration is too long",
        ),
        (
            lambda v: parse_duration_seconds(v, parameter="retry_delay", zero_allowed=True),
            -0.5,
            "the duration must be 0 or more",
        ),
        (
            lambda v: parse_shutdown_duration(v, NOW),
            "12",
            "expected a duration such as '30s', '30m', '2h' or '1d' (a whole number and a unit)",
        ),
        (lambda v: parse_shutdown_duration(v, NOW), timedelta(hours=-1), "the duration must be 0 or more"),
    ],
)
def test_every_refusal_names_the_parameter_in_the_same_words(read, value, message):
    with pytest.raises(CloudOSValidationError) as caught:
        read(value)
    assert str(caught.value) == f"Invalid {caught.value.parameter}={shown_value(value)}: {message}"


def test_zero_is_a_duration_only_where_allowed():
    assert parse_duration_seconds("0s", parameter="retry_delay", zero_allowed=True) == 0.0
    assert parse_shutdown_timedelta("0m") == timedelta(0)


# --- single values and checks across values -------------------------------------------------------

SESSION_ID = "0123456789abcdefABCDEF01"


# --- session ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (SESSION_ID, True),
        ("a" * 24, True),
        ("a" * 23, False),
        ("a" * 25, False),
        ("g" * 24, False),
        (" " + "a" * 24, False),
        ("", False),
        (None, False),
        (123, False),
    ],
)
def test_validate_session_id_is_the_official_24_hex_check(value, ok):
    assert validate_session_id(value) is ok


def test_require_session_id_strips_blanks():
    assert require_session_id(f"  {SESSION_ID}\n") == SESSION_ID


@pytest.mark.parametrize("value", ["", "abc", "z" * 24, "a" * 25, None, 12, ["a" * 24]])
def test_require_session_id_refuses_bad_ids(value):
    with pytest.raises(CloudOSValidationError, match=invalid("session_id", value)):
        require_session_id(value)


def test_require_session_id_names_a_custom_parameter():
    with pytest.raises(CloudOSValidationError, match=invalid("target_session", "nope")):
        require_session_id("nope", parameter="target_session")


def test_require_object_id_names_the_kind_of_id():
    with pytest.raises(
        CloudOSValidationError, match=r"Invalid project_id='p': a project id is 24 hexadecimal"
    ):
        require_object_id("p", "project_id", "project id")


# --- instance types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "instance_type",
    [
        "c5.xlarge",
        "m5.2xlarge",
        "g4dn.xlarge",
        "r6i.large",
        "r6i.metal",
        "m5.metal",
        "t3.nano",
        "t3.micro",
        "t3.small",
        "t3.medium",
        "x2iedn.32xlarge",
        "p4de.24xlarge",
        "inf2.xlarge",
        "trn1n.32xlarge",
        "hpc7g.16xlarge",
        "m7i-flex.large",
        "r7iz.metal-16xl",
    ],
)
def test_validate_instance_type_accepts_aws_types(instance_type):
    assert validate_instance_type(instance_type) == (True, None)
    assert validate_instance_type(instance_type, "AWS") == (True, None)


@pytest.mark.parametrize(
    "instance_type",
    [
        "Standard_F1s",
        "Standard_D4as_v4",
        "Standard_B2ms",
        "Basic_A1",
        "Standard_NC6s_v3",
        "Standard_E64-32s_v3",
        "Standard_NC24ads_A100_v4",
        "Standard_DS1_v2",
        "Standard_D2_v2",
        "Standard_HB120rs_v3",
        "Standard_NC4as_T4_v3",
        "Standard_D16plds_v5",
    ],
)
def test_validate_instance_type_accepts_azure_types_the_official_check_refused(instance_type):
    assert validate_instance_type(instance_type, "azure") == (True, None)


@pytest.mark.parametrize(
    "instance_type",
    ["c5", "c5xlarge", "C5.XLARGE", "c5.huge", ".xlarge", "c.xlarge", "u-6tb1.metal", "Standard_F1s"],
)
def test_validate_instance_type_refuses_bad_aws_types(instance_type):
    ok, message = validate_instance_type(instance_type, "aws")
    assert ok is False
    assert message is not None
    assert "Invalid AWS instance type format" in message
    assert repr(instance_type) in message
    assert "optional variant letters, a dot, then the size" in message
    assert "[" not in message.replace(repr(instance_type), "")


@pytest.mark.parametrize(
    "instance_type",
    ["c5.xlarge", "standard_F1s", "Standard_", "Standard_f1s", "Premium_F1s", "Standard_F1s_v"],
)
def test_validate_instance_type_refuses_bad_azure_types(instance_type):
    ok, message = validate_instance_type(instance_type, "azure")
    assert ok is False
    assert message is not None
    assert "Invalid Azure instance type format" in message
    assert "optional letters and an optional version such as _v4" in message
    assert "[" not in message.replace(repr(instance_type), "")


@pytest.mark.parametrize("instance_type", ["", None, 5, " "])
def test_validate_instance_type_refuses_empty_and_non_strings(instance_type):
    result = validate_instance_type(instance_type)
    if instance_type == " ":
        assert result[0] is False
    else:
        assert result == (False, "Instance type must be a non-empty string")


def test_validate_instance_type_does_not_check_unknown_platforms_like_the_official_client():
    assert validate_instance_type("anything", "gcp") == (True, None)


def test_require_instance_type_strips_and_returns_the_type():
    assert require_instance_type(" c5.xlarge\n", "aws") == "c5.xlarge"
    assert require_instance_type("Standard_NC6s_v3", "Azure") == "Standard_NC6s_v3"


@pytest.mark.parametrize(
    ("value", "platform"),
    [("c5", "aws"), ("", "aws"), (None, "aws"), ("c5.xlarge", "azure"), ("Standard_F1s", "aws"), (3, "aws")],
)
def test_require_instance_type_refuses_naming_the_parameter(value, platform):
    with pytest.raises(CloudOSValidationError, match=invalid("instance_type", value)):
        require_instance_type(value, platform)


def test_require_instance_type_names_a_custom_parameter_and_checks_the_platform():
    with pytest.raises(CloudOSValidationError, match=invalid("spark_core_type", "big")):
        require_instance_type("big", "aws", parameter="spark_core_type")
    with pytest.raises(CloudOSValidationError, match=invalid("execution_platform", "gcp")):
        require_instance_type("c5.xlarge", "gcp")


# --- single values --------------------------------------------------------------------------------


def test_require_session_name():
    assert require_session_name(" my session ") == "my session"
    assert require_session_name("x" * 100) == "x" * 100


@pytest.mark.parametrize("value", ["", "   ", "x" * 101, None, 5])
def test_require_session_name_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("name", value)):
        require_session_name(value)


@pytest.mark.parametrize(
    ("value", "size"), [(100, 100), (5000, 5000), ("500", 500), (" 750 ", 750), (600.0, 600), ("600.0", 600)]
)
def test_require_storage_size_accepts_whole_numbers(value, size):
    assert require_storage_size(value) == size


@pytest.mark.parametrize(
    "value", [99, 5001, 0, -500, "abc", "", "500.5", 500.5, True, None, "inf", "nan", [500], 10**400]
)
def test_require_storage_size_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("storage_size", value)):
        require_storage_size(value)


@pytest.mark.parametrize(
    ("value", "backend"),
    [
        ("jupyter", "regular"),
        ("Jupyter", "regular"),
        ("vscode", "vscode"),
        ("rstudio", "rstudio"),
        (" SPARK ", "spark"),
        ("regular", "regular"),
    ],
)
def test_require_session_type_maps_to_backends(value, backend):
    assert require_session_type(value) == backend


@pytest.mark.parametrize("value", ["", "jupyterlab", "vs code", "windows", None, 1])
def test_require_session_type_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("session_type", value)):
        require_session_type(value)


def test_an_unknown_session_type_lists_the_types_a_user_knows():
    with pytest.raises(CloudOSValidationError) as refused:
        require_session_type("jupyterlab")
    assert str(refused.value) == (
        "Invalid session_type='jupyterlab': expected a session type: jupyter, vscode, rstudio or spark"
    )


def test_require_backend_is_exact():
    assert require_backend("spark") == "spark"
    with pytest.raises(CloudOSValidationError, match=invalid("backend", "jupyter")):
        require_backend("jupyter")
    with pytest.raises(CloudOSValidationError, match=invalid("backend", ["regular"])) as refused:
        require_backend(["regular"])
    assert str(refused.value) == (
        "Invalid backend=('regular'): invalid backend type; expected one of regular, vscode, rstudio, spark "
        "(regular is a Jupyter session)"
    )


@pytest.mark.parametrize(("value", "platform"), [("aws", "aws"), ("AWS", "aws"), (" Azure ", "azure")])
def test_require_execution_platform(value, platform):
    assert require_execution_platform(value) == platform


@pytest.mark.parametrize("value", ["", "gcp", "aws ,azure", None, 1])
def test_require_execution_platform_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("execution_platform", value)):
        require_execution_platform(value)


@pytest.mark.parametrize(
    ("value", "limit"),
    [(-1, -1), ("-1", -1), ("-1.0", -1), (50, 50), ("12.5", 12.5), (0.01, 0.01), (" 7 ", 7)],
)
def test_require_cost_limit(value, limit):
    result = require_cost_limit(value)
    assert result == limit
    assert type(result) is type(limit)


@pytest.mark.parametrize("value", [0, "0", -2, "-0.5", "ten", "", None, True, float("inf"), float("nan")])
def test_require_cost_limit_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("cost_limit", value)):
        require_cost_limit(value)


@pytest.mark.parametrize(("value", "workers"), [(1, 1), ("3", 3), (100, 100), (2.0, 2)])
def test_require_spark_workers(value, workers):
    assert require_spark_workers(value) == workers


@pytest.mark.parametrize("value", [0, -1, 101, "1.5", "many", None, False])
def test_require_spark_workers_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("spark_workers", value)):
        require_spark_workers(value)


def test_require_r_version():
    assert require_r_version("4.5.2") == "4.5.2"
    assert require_r_version(" 4.4.2 ") == "4.4.2"


@pytest.mark.parametrize("value", ["4.3.0", "", "latest", None, 4.5])
def test_require_r_version_refuses_naming_the_known_versions(value):
    with pytest.raises(CloudOSValidationError, match=invalid("r_version", value)) as caught:
        require_r_version(value)
    assert "4.5.2, 4.4.2" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("True", True),
        (" YES ", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("no", False),
        ("0", False),
        ("off", False),
        (1, True),
        (0, False),
    ],
)
def test_parse_bool_reads_rendered_templates(value, result):
    assert parse_bool(value, "spot") is result


@pytest.mark.parametrize("value", ["", "maybe", "2", 2, None, 1.0, []])
def test_parse_bool_refuses(value):
    with pytest.raises(CloudOSValidationError, match=invalid("shared", value)):
        parse_bool(value, "shared")


# --- checks across values -------------------------------------------------------------------------


def test_check_spark_platform():
    check_spark_platform("spark", "aws")
    check_spark_platform("regular", "azure")
    with pytest.raises(
        CloudOSValidationError,
        match=r"Invalid session_type='spark': Spark sessions are only available on AWS",
    ):
        check_spark_platform("spark", "azure")


def test_spot_instances_are_aws_only():
    assert make_session_spec(name="n", session_type="jupyter", spot=True).spot is True
    assert (
        make_session_spec(name="n", session_type="jupyter", execution_platform="azure", spot=False).spot
        is False
    )
    with pytest.raises(
        CloudOSValidationError, match=r"Invalid spot=True: spot instances are only available on AWS"
    ):
        make_session_spec(name="n", session_type="jupyter", execution_platform="azure", spot=True)


def test_s3_files_are_mounted_on_aws_only():
    mounts = ["proj/Data/f.txt", "s3://b/k.csv"]
    make_resume_spec(execution_platform="aws", mounts=mounts)
    make_resume_spec(execution_platform="azure", mounts=mounts[:1])
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", "s3://b/k.csv")):
        make_resume_spec(execution_platform="azure", mounts=mounts)


def test_any_link_is_refused_on_azure():
    make_resume_spec(execution_platform="aws", links=["proj/Data/x"])
    make_resume_spec(execution_platform="azure", links=[])
    with pytest.raises(CloudOSValidationError, match=invalid("links", "proj/Data/x")):
        make_resume_spec(execution_platform="azure", links=["proj/Data/x"])
    two = ["proj/Data/x", "s3://b/y/"]
    with pytest.raises(CloudOSValidationError, match=invalid("links", ["proj/Data/x", "s3://b/y/"])):
        make_resume_spec(execution_platform="azure", links=two)


def test_at_most_max_linked_items_links():
    make_resume_spec(execution_platform="aws", links=[f"s3://b/{i}/" for i in range(MAX_LINKED_ITEMS)])
    with pytest.raises(CloudOSValidationError, match=r"Invalid links='101 paths': at most 100 items"):
        make_resume_spec(
            execution_platform="aws", links=[f"s3://b/{i}/" for i in range(MAX_LINKED_ITEMS + 1)]
        )


def test_check_unique_names_names_both_paths():
    check_unique_names([("a", "x"), ("b", "y")])
    with pytest.raises(CloudOSValidationError, match=invalid("links", "s3://b2/data/")) as caught:
        check_unique_names([("s3://b1/data/", "data"), ("s3://b2/data/", "data")])
    assert "'s3://b1/data/'" in str(caught.value)
    assert "'data'" in str(caught.value)


def test_two_links_under_one_mount_name_are_refused():
    make_resume_spec(execution_platform="aws", links=["s3://b/a/", "s3://b/b/"])
    with pytest.raises(
        CloudOSValidationError,
        match=r"mount name 'results' is used by both 'results:b:x/' and 'proj/Data/results'",
    ):
        make_resume_spec(execution_platform="aws", links=["results:b:x", "proj > Data/results"])


# --- one rule per prefix ---------------------------------------------------------------------------


def _functions(prefix: str) -> list[str]:
    return [name for name in dir(spec) if name.startswith(prefix)]


@pytest.mark.parametrize("name", _functions("validate_"))
@pytest.mark.parametrize("junk", [None, 5, "", "not-valid", object()])
def test_every_validate_function_answers_and_never_raises(name, junk):
    answer = getattr(spec, name)(junk)
    assert answer is False or (isinstance(answer, tuple) and answer[0] is False)


@pytest.mark.parametrize("name", _functions("require_"))
@pytest.mark.parametrize("junk", [None, "", []])
def test_every_require_function_raises_naming_its_parameter_and_the_problem(name, junk):
    function = getattr(spec, name)
    arguments = {"execution_platform": "aws"} if name == "require_instance_type" else {}
    with pytest.raises(CloudOSValidationError) as error:
        function(junk, parameter="the_parameter", **arguments)
    assert error.value.parameter == "the_parameter"
    assert str(error.value).startswith(f"Invalid the_parameter={shown_value(junk)}: ")


# --- amounts, runtimes and lists as DAG authors type them -----------------------------------------


def test_parse_string_list_keeps_list_items_whole():
    assert parse_string_list(["a,b", " c "], "exclude_names") == ("a,b", "c")
    assert parse_string_list("a, ,b", "exclude_names") == ("a", "b")
    assert parse_string_list("null", "exclude_names") == ()


# --- lists from rendered templates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("a, b ,,c", ["a", "b", "c"]),
        ('["a,1", "b"]', ["a,1", "b"]),
        ("['a', ' b ']", ["a", "b"]),
        (["x,y", "  ", "z"], ["x,y", "z"]),
        (("a",), ["a"]),
    ],
)
def test_split_strings_reads_every_rendered_form(value, expected):
    assert split_strings(value, parameter="names") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (7, r"Invalid names=7: expected a list of names or a comma-separated string, got int"),
        (["a", 2], r"Invalid names=2: every name must be a string, got int"),
        ("[1, 2", r"Invalid names='\[1, 2': looks like a list but is neither valid JSON"),
        ({"a"}, r"Invalid names=\{'a'\}: expected a list of names"),
    ],
)
def test_split_strings_names_the_parameter_and_the_bad_value(value, message):
    with pytest.raises(CloudOSValidationError, match=message):
        split_strings(value, parameter="names", noun="name")


def test_read_list_literal_refuses_a_non_list():
    with pytest.raises(CloudOSValidationError, match=r"Invalid names='\(1\)': expected a list"):
        read_list_literal("(1)", "(1)", "names")


# --- parse_data_file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "s3://bucket/path/to/file.csv",
            {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "path/to/file.csv"},
        ),
        ("s3://bucket/file", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "file"}),
        ("  s3://bucket/a.txt\n", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "a.txt"}),
        ("S3://bucket/a.txt", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "a.txt"}),
        (
            "proj > Data/sub/f.txt",
            {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/sub/f.txt"},
        ),
        ("proj/Data/f.txt", {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/f.txt"}),
        ("a/b > c/d.txt", {"type": "cloudos", "project_name": "a/b", "dataset_path": "c/d.txt"}),
        (
            "My Project > Data / f.txt",
            {"type": "cloudos", "project_name": "My Project", "dataset_path": "Data/f.txt"},
        ),
        ("proj//Data///f.txt", {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/f.txt"}),
    ],
)
def test_parse_data_file_returns_the_official_dicts(path, expected):
    assert parse_data_file(path) == expected


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("s3:///key.txt", "bucket name is empty"),
        ("s3://", "bucket name is empty"),
        ("s3://bucket", "needs an object key"),
        ("s3://bucket/", "needs an object key"),
        ("s3://bucket/folder/", "only files can be mounted"),
        ("s3:// bucket/x", "cannot contain blanks"),
        ("/Data/f.txt", "project name is empty"),
        ("> Data/f.txt", "project name is empty"),
        ("proj/", "path inside the project is empty"),
        ("proj >  ", "path inside the project is empty"),
        ("proj > //", "path inside the project is empty"),
        ("justafile.txt", "expected 's3://bucket/path/to/file'"),
        ("az://container/file.txt", "Azure blob storage"),
        ("https://acct.blob.core.windows.net/c/f.txt", "Azure blob storage"),
        ("abfss://c@acct.dfs.core.windows.net/f", "Azure blob storage"),
    ],
)
def test_parse_data_file_refuses_bad_paths_naming_mounts(path, problem):
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", path)) as caught:
        parse_data_file(path)
    assert problem in str(caught.value)


@pytest.mark.parametrize("value", [None, 3, ["s3://b/k"], b"s3://b/k"])
def test_parse_data_file_refuses_non_strings(value):
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", value)):
        parse_data_file(value)


def test_parse_data_file_names_a_custom_parameter():
    with pytest.raises(CloudOSValidationError, match=invalid("copy", "nothing")):
        parse_data_file("nothing", parameter="copy")


# --- parse_link_path ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s3://bucket/data/", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "data/", "is_file": False}),
        ("s3://bucket/data", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "data/", "is_file": False}),
        (
            "s3://bucket/a/b/file.csv",
            {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "a/b/file.csv", "is_file": True},
        ),
        ("s3://bucket/v1.2/", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "v1.2/", "is_file": False}),
        ("s3://bucket", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "", "is_file": False}),
        ("s3://bucket/", {"type": "s3", "s3_bucket": "bucket", "s3_prefix": "", "is_file": False}),
        (
            "results:my-bucket:runs/2024",
            {
                "type": "s3",
                "mount_name": "results",
                "s3_bucket": "my-bucket",
                "s3_prefix": "runs/2024/",
                "is_file": False,
            },
        ),
        (
            " m : b : ",
            {"type": "s3", "mount_name": "m", "s3_bucket": "b", "s3_prefix": "", "is_file": False},
        ),
        ("proj > Data/results", {"type": "cloudos", "project_name": "proj", "folder_path": "Data/results"}),
        ("proj/Data/results/", {"type": "cloudos", "project_name": "proj", "folder_path": "Data/results"}),
        ("proj/run:1", {"type": "cloudos", "project_name": "proj", "folder_path": "run:1"}),
        ("proj > a:b", {"type": "cloudos", "project_name": "proj", "folder_path": "a:b"}),
    ],
)
def test_parse_link_path_returns_the_official_dicts(path, expected):
    assert parse_link_path(path) == expected


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "empty"),
        ("az://container/folder", "linking Azure blob storage is not supported"),
        ("AZ://container/folder", "linking Azure blob storage is not supported"),
        ("https://acct.blob.core.windows.net/container/", "linking Azure blob storage is not supported"),
        ("wasbs://c@acct.blob.core.windows.net/x", "linking Azure blob storage is not supported"),
        ("s3:///prefix/", "bucket name is empty"),
        ("s3://", "bucket name is empty"),
        ("a:b", "exactly three parts"),
        ("a:b:c:d", "exactly three parts"),
        (":bucket:prefix", "mount name of the legacy link is empty"),
        ("name::prefix", "S3 bucket name of the legacy link is empty"),
        ("/Data/results", "project name is empty"),
        ("proj > ", "folder path inside the project is empty"),
        ("proj/", "folder path inside the project is empty"),
        ("folder", "expected 's3://bucket/prefix/'"),
    ],
)
def test_parse_link_path_refuses_bad_paths_naming_links(path, problem):
    with pytest.raises(CloudOSValidationError, match=invalid("links", path)) as caught:
        parse_link_path(path)
    assert problem in str(caught.value)


@pytest.mark.parametrize("value", [None, 7, {"path": "s3://b/"}])
def test_parse_link_path_refuses_non_strings(value):
    with pytest.raises(CloudOSValidationError, match=invalid("links", value)):
        parse_link_path(value)


@pytest.mark.parametrize(
    ("path", "azure"),
    [
        ("az://c/x", True),
        ("abfs://c@a.dfs.core.windows.net/x", True),
        ("https://a.blob.core.windows.net/c", True),
        ("s3://b/x", False),
        ("proj/Data", False),
    ],
)
def test_azure_blob_paths_are_refused(path, azure):
    if azure:
        with pytest.raises(CloudOSValidationError, match="linking Azure blob storage is not supported"):
            parse_link_path(path)
    else:
        parse_link_path(path)


# --- split_paths and the list parsers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("   ", []),
        ("s3://b/k", ["s3://b/k"]),
        ("a, b ,,c", ["a", "b", "c"]),
        ('["a", "b"]', ["a", "b"]),
        ("['a', ' b ', '']", ["a", "b"]),
        ("[]", []),
        (["a", " ", "b,c"], ["a", "b,c"]),
        (("a",), ["a"]),
        ([], []),
    ],
)
def test_split_paths_accepts_lists_json_and_commas(value, expected):
    assert split_paths(value) == expected


@pytest.mark.parametrize(
    ("value", "bad", "problem"),
    [
        ('["a", ', '["a", ', "neither valid JSON nor a Python list literal"),
        ("[1, 2]", 1, "every path must be a string"),
        (["a", 3], 3, "every path must be a string"),
        (["a", None], None, "every path must be a string"),
        (42, 42, "expected a path, a list of paths"),
        ({"a"}, {"a"}, "expected a path, a list of paths"),
    ],
)
def test_split_paths_refuses_bad_values(value, bad, problem):
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", bad)) as caught:
        split_paths(value)
    assert problem in str(caught.value)


def test_split_paths_refuses_a_literal_that_is_not_a_list():
    with pytest.raises(CloudOSValidationError, match=r"Invalid links='\[\]x'.*neither valid JSON"):
        split_paths("[]x", parameter="links")
    with pytest.raises(CloudOSValidationError, match=r"Invalid links='\[1\]\[0\]'.*neither valid JSON"):
        split_paths("[1][0]", parameter="links")


def test_split_paths_splits_text_that_does_not_start_a_list_on_commas():
    assert split_paths('{"a": 1, "b": 2}') == ['{"a": 1', '"b": 2}']


def test_parse_data_files_and_parse_link_paths_parse_every_path():
    assert parse_data_files("s3://b/k.txt, proj/Data/f") == [
        {"type": "s3", "s3_bucket": "b", "s3_prefix": "k.txt"},
        {"type": "cloudos", "project_name": "proj", "dataset_path": "Data/f"},
    ]
    assert parse_link_paths(["s3://b/p", "m:b:q"]) == [
        {"type": "s3", "s3_bucket": "b", "s3_prefix": "p/", "is_file": False},
        {"type": "s3", "mount_name": "m", "s3_bucket": "b", "s3_prefix": "q/", "is_file": False},
    ]
    assert parse_link_paths(None) == []


def test_list_parsers_name_their_parameter_and_the_bad_path():
    with pytest.raises(CloudOSValidationError, match=invalid("links", "az://c/x")):
        parse_link_paths("s3://b/ok/, az://c/x")
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", "s3://b/")):
        parse_data_files(["proj/Data/f", "s3://b/"])


# --- describe_path and link_mount_name ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "described", "mount_name"),
    [
        ("s3://b/data/", "s3://b/data/", "data"),
        ("s3://b/a/file.csv", "s3://b/a/file.csv", "file.csv"),
        ("s3://b", "s3://b/", "b"),
        ("m:b:p", "m:b:p/", "m"),
        ("proj > Data/results", "proj/Data/results", "results"),
    ],
)
def test_describe_path_and_link_mount_name(path, described, mount_name):
    parsed = parse_link_path(path)
    assert describe_path(parsed) == described
    assert link_mount_name(parsed) == mount_name


def test_describe_path_for_a_data_file():
    assert describe_path(parse_data_file("proj > Data/f.txt")) == "proj/Data/f.txt"


# --- the official builders and the items (tests of the former core/payloads.py) ------------------

IN_24H = "2026-05-29T12:00:00Z"
SHUTDOWN = "2026-05-28T20:00:00Z"
FILE_ID = "60a1b2c3d4e5f6a7b8c9d0e1"

S3_FILE_ITEM = {
    "type": "S3File",
    "data": {"name": "inputs/sample.csv", "s3BucketName": "my-bucket", "s3ObjectKey": "inputs/sample.csv"},
}
CLOUDOS_FILE_ITEM = {"kind": "File", "item": FILE_ID, "name": "reads.fastq"}
S3_FOLDER_ITEM = {
    "type": "S3Folder",
    "data": {"name": "results", "s3BucketName": "my-bucket", "s3Prefix": "runs/results/"},
}
PROJECT_FOLDER_ITEM = {
    "type": "S3Folder",
    "data": {"name": "refs", "s3BucketName": "genomics", "s3Prefix": "Data/refs/"},
}
LEGACY_ITEM = {
    "type": "S3Folder",
    "data": {"name": "scratch", "s3BucketName": "tmp-bucket", "s3Prefix": "work/"},
}


# --- creation payloads, one literal per shape -----------------------------------------------------


def test_jupyter_on_aws_with_defaults():
    payload = build_session_payload("analysis", "regular", PROJECT, now=NOW)
    assert payload == {
        "interactiveSessionConfiguration": {
            "name": "analysis",
            "backend": "regular",
            "executionPlatform": "aws",
            "instanceType": "c5.xlarge",
            "isCostSaving": False,
            "storageSizeInGb": 500,
            "storageMode": "regular",
            "visibility": "private",
            "execution": {"computeCostLimit": -1, "autoShutdownAtDate": IN_24H},
        },
        "dataItems": [],
        "fileSystemIds": [],
        "fuseFileSystems": [],
        "projectId": PROJECT,
    }


def test_jupyter_on_aws_with_mounts_and_links():
    payload = build_session_payload(
        "analysis",
        "regular",
        PROJECT,
        instance_type="m5.2xlarge",
        storage_size=1000,
        is_spot=True,
        is_shared=True,
        cost_limit=25.5,
        shutdown_at=SHUTDOWN,
        data_files=[S3_FILE_ITEM, CLOUDOS_FILE_ITEM],
        s3_mounts=[S3_FOLDER_ITEM, PROJECT_FOLDER_ITEM, LEGACY_ITEM],
        now=NOW,
    )
    assert payload == {
        "interactiveSessionConfiguration": {
            "name": "analysis",
            "backend": "regular",
            "executionPlatform": "aws",
            "instanceType": "m5.2xlarge",
            "isCostSaving": True,
            "storageSizeInGb": 1000,
            "storageMode": "regular",
            "visibility": "workspace",
            "execution": {"computeCostLimit": 25.5, "autoShutdownAtDate": SHUTDOWN},
        },
        "dataItems": [
            {
                "type": "S3File",
                "data": {
                    "name": "inputs/sample.csv",
                    "s3BucketName": "my-bucket",
                    "s3ObjectKey": "inputs/sample.csv",
                },
            },
            {"kind": "File", "item": FILE_ID, "name": "reads.fastq"},
        ],
        "fileSystemIds": [],
        "fuseFileSystems": [
            {
                "type": "S3Folder",
                "data": {"name": "results", "s3BucketName": "my-bucket", "s3Prefix": "runs/results/"},
            },
            {
                "type": "S3Folder",
                "data": {"name": "refs", "s3BucketName": "genomics", "s3Prefix": "Data/refs/"},
            },
            {
                "type": "S3Folder",
                "data": {"name": "scratch", "s3BucketName": "tmp-bucket", "s3Prefix": "work/"},
            },
        ],
        "projectId": PROJECT,
    }


def test_vscode_on_aws():
    payload = build_session_payload("code", "vscode", PROJECT, shutdown_at=SHUTDOWN, now=NOW)
    assert payload == {
        "interactiveSessionConfiguration": {
            "name": "code",
            "backend": "vscode",
            "executionPlatform": "aws",
            "instanceType": "c5.xlarge",
            "isCostSaving": False,
            "storageSizeInGb": 500,
            "storageMode": "regular",
            "visibility": "private",
            "execution": {"computeCostLimit": -1, "autoShutdownAtDate": SHUTDOWN},
        },
        "dataItems": [],
        "fileSystemIds": [],
        "fuseFileSystems": [],
        "projectId": PROJECT,
    }


def test_rstudio_on_aws_carries_the_r_version():
    payload = build_session_payload("stats", "rstudio", PROJECT, r_version="4.4.2", shutdown_at=SHUTDOWN)
    assert payload == {
        "interactiveSessionConfiguration": {
            "name": "stats",
            "backend": "rstudio",
            "executionPlatform": "aws",
            "instanceType": "c5.xlarge",
            "isCostSaving": False,
            "storageSizeInGb": 500,
            "storageMode": "regular",
            "visibility": "private",
            "execution": {"computeCostLimit": -1, "autoShutdownAtDate": SHUTDOWN},
            "rVersion": "4.4.2",
        },
        "dataItems": [],
        "fileSystemIds": [],
        "fuseFileSystems": [],
        "projectId": PROJECT,
    }


def test_spark_on_aws_carries_the_cluster_block():
    payload = build_session_payload(
        "big-data",
        "spark",
        PROJECT,
        is_spot=True,
        shutdown_at=SHUTDOWN,
        spark_master_type="c5.2xlarge",
        spark_core_type="r5.xlarge",
        spark_workers=7,
    )
    storage = {"type": "gp2", "sizeInGbs": 50, "volumesPerInstance": 1}
    assert payload == {
        "interactiveSessionConfiguration": {
            "name": "big-data",
            "backend": "spark",
            "executionPlatform": "aws",
            "instanceType": "c5.xlarge",
            "isCostSaving": True,
            "storageSizeInGb": 500,
            "storageMode": "regular",
            "visibility": "private",
            "execution": {"computeCostLimit": -1, "autoShutdownAtDate": SHUTDOWN},
            "cluster": {
                "name": "big-data-cluster",
                "releaseLabel": "emr-7.3.0",
                "ebsRootVolumeSizeInGb": 100,
                "instances": {
                    "master": {"type": "c5.2xlarge", "costSaving": True, "storage": storage},
                    "core": {
                        "type": "r5.xlarge",
                        "costSaving": True,
                        "storage": storage,
                        "minNumberOfInstances": 7,
                        "autoscaling": {"minCapacity": 7, "maxCapacity": 14},
                    },
                    "tasks": [],
                },
                "autoscaling": {"minCapacity": 7, "maxCapacity": 14},
                "id": None,
            },
        },
        "dataItems": [],
        "fileSystemIds": [],
        "fuseFileSystems": [],
        "projectId": PROJECT,
    }


@pytest.mark.parametrize(("workers", "maximum"), [(1, 10), (5, 10), (6, 12)])
def test_spark_max_capacity_is_twice_the_workers_but_at_least_ten(workers, maximum):
    payload = build_session_payload(
        "s",
        "spark",
        PROJECT,
        spark_master_type="c5.2xlarge",
        spark_core_type="c5.xlarge",
        spark_workers=workers,
    )
    cluster = payload["interactiveSessionConfiguration"]["cluster"]
    assert cluster["autoscaling"] == {"minCapacity": workers, "maxCapacity": maximum}
    assert cluster["instances"]["core"]["autoscaling"] == {"minCapacity": workers, "maxCapacity": maximum}


def test_jupyter_on_azure_sends_empty_fuse_file_systems_as_the_official_client():
    payload = build_session_payload(
        "azure-nb",
        "regular",
        PROJECT,
        execution_platform="azure",
        instance_type="Standard_F1s",
        data_files=[CLOUDOS_FILE_ITEM],
        now=NOW,
    )
    assert payload == {
        "interactiveSessionConfiguration": {
            "name": "azure-nb",
            "backend": "regular",
            "executionPlatform": "azure",
            "instanceType": "Standard_F1s",
            "isCostSaving": False,
            "storageSizeInGb": 500,
            "storageMode": "regular",
            "visibility": "private",
            "execution": {"computeCostLimit": -1, "autoShutdownAtDate": IN_24H},
        },
        "dataItems": [{"kind": "File", "item": FILE_ID, "name": "reads.fastq"}],
        "fileSystemIds": [],
        "fuseFileSystems": [],
        "projectId": PROJECT,
    }


def test_session_payload_converts_templated_values():
    payload = build_session_payload(
        " named ",
        "regular",
        f" {PROJECT} ",
        execution_platform="AWS",
        instance_type=" c5.xlarge ",
        storage_size="750",
        is_spot="false",
        is_shared="true",
        cost_limit="-1",
        shutdown_at=datetime(2026, 5, 28, 22, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    configuration = payload["interactiveSessionConfiguration"]
    assert configuration["name"] == "named"
    assert configuration["executionPlatform"] == "aws"
    assert configuration["instanceType"] == "c5.xlarge"
    assert configuration["storageSizeInGb"] == 750
    assert configuration["isCostSaving"] is False
    assert configuration["visibility"] == "workspace"
    assert configuration["execution"] == {"computeCostLimit": -1, "autoShutdownAtDate": SHUTDOWN}
    assert payload["projectId"] == PROJECT


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("2026-05-28T20:00:00Z", "2026-05-28T20:00:00Z"),
        ("2026-05-28T20:00:00.500000Z", "2026-05-28T20:00:00.500000Z"),
        ("2026-05-28T22:00:00+02:00", "2026-05-28T20:00:00Z"),
        ("2026-05-28T20:00:00", "2026-05-28T20:00:00Z"),
        ("", IN_24H),
    ],
)
def test_session_payload_normalises_the_shutdown_instant(given, sent):
    payload = build_session_payload("n", "regular", PROJECT, shutdown_at=given, now=NOW)
    assert payload["interactiveSessionConfiguration"]["execution"]["autoShutdownAtDate"] == sent


def test_session_payload_default_shutdown_uses_the_clock_when_now_is_not_given():
    payload = build_session_payload("n", "regular", PROJECT)
    instant = payload["interactiveSessionConfiguration"]["execution"]["autoShutdownAtDate"]
    assert instant.endswith("Z")
    assert datetime.fromisoformat(instant[:-1] + "+00:00") > datetime.now(UTC)


# --- creation payload errors ----------------------------------------------------------------------


def _session(**overrides):
    arguments = {"name": "n", "backend": "regular", "project_id": PROJECT, "now": NOW, **overrides}
    return build_session_payload(**arguments)


@pytest.mark.parametrize(
    ("overrides", "parameter", "value"),
    [
        ({"name": ""}, "name", ""),
        ({"name": "x" * 101}, "name", "x" * 101),
        ({"name": None}, "name", None),
        ({"storage_size": 99}, "storage_size", 99),
        ({"storage_size": 5001}, "storage_size", 5001),
        ({"storage_size": "big"}, "storage_size", "big"),
        ({"backend": "jupyter"}, "backend", "jupyter"),
        ({"backend": ""}, "backend", ""),
        ({"execution_platform": "gcp"}, "execution_platform", "gcp"),
        ({"backend": "spark", "execution_platform": "azure"}, "backend", "spark"),
        ({"backend": "rstudio"}, "r_version", None),
        ({"backend": "rstudio", "r_version": ""}, "r_version", ""),
        ({"backend": "rstudio", "r_version": "3.6.0"}, "r_version", "3.6.0"),
        ({"backend": "spark", "spark_core_type": "c5.xlarge"}, "spark_master_type", None),
        ({"backend": "spark", "spark_master_type": "c5.xlarge"}, "spark_core_type", None),
        (
            {
                "backend": "spark",
                "spark_master_type": "c5.xlarge",
                "spark_core_type": "c5.xlarge",
                "spark_workers": 0,
            },
            "spark_workers",
            0,
        ),
        ({"project_id": "my-project"}, "project_id", "my-project"),
        ({"project_id": None}, "project_id", None),
        ({"instance_type": ""}, "instance_type", ""),
        ({"instance_type": None}, "instance_type", None),
        ({"is_spot": "perhaps"}, "is_spot", "perhaps"),
        ({"is_shared": "2"}, "is_shared", "2"),
        ({"cost_limit": 0}, "cost_limit", 0),
        ({"cost_limit": "free"}, "cost_limit", "free"),
        ({"shutdown_at": "12h"}, "shutdown_at", "12h"),
        ({"shutdown_at": 1700000000}, "shutdown_at", 1700000000),
        ({"data_files": "s3://b/k"}, "data_files", "s3://b/k"),
        ({"data_files": ["s3://b/k"]}, "data_files", ["s3://b/k"]),
        ({"s3_mounts": {"type": "S3Folder"}}, "s3_mounts", {"type": "S3Folder"}),
        ({"execution_platform": "azure", "data_files": [S3_FILE_ITEM]}, "data_files", S3_FILE_ITEM),
        ({"execution_platform": "azure", "s3_mounts": [S3_FOLDER_ITEM]}, "s3_mounts", [S3_FOLDER_ITEM]),
    ],
)
def test_session_payload_refuses_bad_values(overrides, parameter, value):
    with pytest.raises(CloudOSValidationError, match=invalid(parameter, value)) as caught:
        _session(**overrides)
    assert caught.value.parameter == parameter


def test_session_payload_checks_in_the_official_order():
    # Every argument is wrong: the name is reported first, then storage, backend, platform.
    with pytest.raises(CloudOSValidationError, match=invalid("name", "")):
        _session(name="", storage_size=1, backend="x", execution_platform="gcp")
    with pytest.raises(CloudOSValidationError, match=invalid("storage_size", 1)):
        _session(storage_size=1, backend="x", execution_platform="gcp")
    with pytest.raises(CloudOSValidationError, match=invalid("backend", "x")):
        _session(backend="x", execution_platform="gcp")
    with pytest.raises(CloudOSValidationError, match=invalid("backend", "spark")):
        _session(backend="spark", execution_platform="azure")
    with pytest.raises(CloudOSValidationError, match=invalid("spark_master_type", None)):
        _session(backend="spark", project_id="bad")


# --- resume payloads ------------------------------------------------------------------------------


def test_plain_resume_sends_only_the_empty_lists():
    assert build_resume_payload() == {"dataItems": [], "fileSystemIds": []}


def test_resume_with_every_change():
    payload = build_resume_payload(
        instance_type="c5.2xlarge",
        storage_size=600,
        cost_limit=50.0,
        shutdown_at=SHUTDOWN,
        data_files=[CLOUDOS_FILE_ITEM],
        s3_mounts=[S3_FOLDER_ITEM],
    )
    assert payload == {
        "dataItems": [{"kind": "File", "item": FILE_ID, "name": "reads.fastq"}],
        "fileSystemIds": [],
        "newInteractiveSessionConfiguration": {
            "instanceType": "c5.2xlarge",
            "storageSizeInGb": 600,
            "execution": {"computeCostLimit": 50, "autoShutdownAtDate": SHUTDOWN},
        },
        "fuseFileSystems": [
            {
                "type": "S3Folder",
                "data": {"name": "results", "s3BucketName": "my-bucket", "s3Prefix": "runs/results/"},
            }
        ],
    }


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"instance_type": "m5.large"}, {"instanceType": "m5.large"}),
        ({"storage_size": "800"}, {"storageSizeInGb": 800}),
        ({"cost_limit": -1}, {"execution": {"computeCostLimit": -1}}),
        ({"shutdown_at": SHUTDOWN}, {"execution": {"autoShutdownAtDate": SHUTDOWN}}),
        (
            {"cost_limit": "12.5", "shutdown_at": SHUTDOWN},
            {"execution": {"computeCostLimit": 12.5, "autoShutdownAtDate": SHUTDOWN}},
        ),
    ],
)
def test_resume_sends_only_what_changes(arguments, expected):
    assert build_resume_payload(**arguments) == {
        "dataItems": [],
        "fileSystemIds": [],
        "newInteractiveSessionConfiguration": expected,
    }


def test_resume_with_only_mounts_and_links_has_no_configuration_block():
    assert build_resume_payload(data_files=[S3_FILE_ITEM], s3_mounts=[LEGACY_ITEM]) == {
        "dataItems": [S3_FILE_ITEM],
        "fileSystemIds": [],
        "fuseFileSystems": [LEGACY_ITEM],
    }
    assert "fuseFileSystems" not in build_resume_payload(s3_mounts=[])


@pytest.mark.parametrize(
    ("arguments", "parameter", "value"),
    [
        ({"instance_type": ""}, "instance_type", ""),
        ({"instance_type": 5}, "instance_type", 5),
        ({"storage_size": 50}, "storage_size", 50),
        ({"storage_size": "lots"}, "storage_size", "lots"),
        ({"cost_limit": 0}, "cost_limit", 0),
        ({"cost_limit": -3}, "cost_limit", -3),
        ({"shutdown_at": "tomorrow"}, "shutdown_at", "tomorrow"),
        ({"data_files": "x"}, "data_files", "x"),
        ({"s3_mounts": [1]}, "s3_mounts", [1]),
    ],
)
def test_resume_refuses_bad_values(arguments, parameter, value):
    with pytest.raises(CloudOSValidationError, match=invalid(parameter, value)):
        build_resume_payload(**arguments)


# --- items ----------------------------------------------------------------------------------------


def test_build_s3_file_item_names_the_file_after_its_key():
    assert build_s3_file_item(parse_data_file("s3://my-bucket/inputs/sample.csv")) == S3_FILE_ITEM
    assert build_s3_file_item(parse_data_file("s3://b/k.txt"), name="k") == {
        "type": "S3File",
        "data": {"name": "k", "s3BucketName": "b", "s3ObjectKey": "k.txt"},
    }


@pytest.mark.parametrize(
    ("path", "item"),
    [
        ("s3://my-bucket/runs/results/", S3_FOLDER_ITEM),
        ("s3://my-bucket/runs/results", S3_FOLDER_ITEM),
        ("scratch:tmp-bucket:work", LEGACY_ITEM),
        (
            "s3://whole-bucket",
            {
                "type": "S3Folder",
                "data": {"name": "whole-bucket", "s3BucketName": "whole-bucket", "s3Prefix": ""},
            },
        ),
    ],
)
def test_build_s3_link_item(path, item):
    assert build_s3_link_item(parse_link_path(path)) == item


def test_build_s3_link_item_links_files_as_s3_files_named_by_their_last_segment():
    assert build_s3_link_item(parse_link_path("s3://b/a/file.csv")) == {
        "type": "S3File",
        "data": {"name": "file.csv", "s3BucketName": "b", "s3ObjectKey": "a/file.csv"},
    }
    assert build_s3_link_item(parse_link_path("s3://my-bucket/runs/results/")) == S3_FOLDER_ITEM


def test_build_project_folder_item():
    assert build_project_folder_item("genomics", "Data/refs") == PROJECT_FOLDER_ITEM


def test_build_file_item():
    assert build_file_item(FILE_ID, "reads.fastq") == CLOUDOS_FILE_ITEM


@pytest.mark.parametrize(
    ("file_id", "name", "parameter", "value"),
    [
        ("", "f", "file_id", ""),
        (None, "f", "file_id", None),
        (FILE_ID, "", "file_name", ""),
        (FILE_ID, 3, "file_name", 3),
    ],
)
def test_build_file_item_refuses_empty_values(file_id, name, parameter, value):
    with pytest.raises(CloudOSValidationError, match=invalid(parameter, value)):
        build_file_item(file_id, name)


def test_item_mount_name_reads_both_item_shapes():
    assert item_mount_name(S3_FOLDER_ITEM) == "results"
    assert item_mount_name(CLOUDOS_FILE_ITEM) == "reads.fastq"
    assert item_mount_name({}) == ""


def test_check_duplicate_mount_names():
    check_duplicate_mount_names(
        [("s3://my-bucket/runs/results/", S3_FOLDER_ITEM), ("genomics/Data/refs", PROJECT_FOLDER_ITEM)]
    )
    clash = {"type": "S3Folder", "data": {"name": "results", "s3BucketName": "other", "s3Prefix": "results/"}}
    with pytest.raises(
        CloudOSValidationError,
        match=r"Invalid links='s3://other/results/': mount name 'results' is used by both 's3://my-bucket/runs/results/'",
    ):
        check_duplicate_mount_names(
            [("s3://my-bucket/runs/results/", S3_FOLDER_ITEM), ("s3://other/results/", clash)]
        )
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", "p/Data/b/reads.fastq")):
        check_duplicate_mount_names(
            [("p/Data/a/reads.fastq", CLOUDOS_FILE_ITEM), ("p/Data/b/reads.fastq", CLOUDOS_FILE_ITEM)],
            parameter="mounts",
        )


def test_aws_and_azure_bodies_carry_the_same_keys_in_the_same_order():
    """The official client sends ``fuseFileSystems`` on both platforms; so must the provider."""
    aws = build_session_payload("nb", "regular", PROJECT, now=NOW)
    azure = build_session_payload(
        "nb", "regular", PROJECT, execution_platform="azure", instance_type="Standard_F1s", now=NOW
    )
    assert (
        list(azure)
        == list(aws)
        == [
            "interactiveSessionConfiguration",
            "dataItems",
            "fileSystemIds",
            "fuseFileSystems",
            "projectId",
        ]
    )
    assert azure["fuseFileSystems"] == aws["fuseFileSystems"] == []
