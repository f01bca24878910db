from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.shown import shown_value
from airflow_provider_cloudos.core.spec import ResumeSpec, SessionSpec, make_resume_spec, make_session_spec

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
    assert not spec.changes_configuration
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
    assert spec.changes_configuration
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
    assert not spec.changes_configuration
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
    import airflow_provider_cloudos.core.payloads as payloads
    import airflow_provider_cloudos.core.spec as spec_module

    spec = make_session_spec(name="nb", session_type="rstudio", storage_size="750", cost_limit="12.5")

    def checked_again(*args, **kwargs):
        raise AssertionError("a value of the spec was checked again")

    for module in (payloads, spec_module):
        for name in dir(module):
            if name.startswith(("require_", "check_", "parse_")):
                monkeypatch.setattr(module, name, checked_again)
    monkeypatch.setattr(
        spec_module, "parse_shutdown_duration", lambda *args, **kwargs: "2026-05-29T00:00:00Z"
    )
    configuration = spec.to_payload(PROJECT, [], [], now=NOW)["interactiveSessionConfiguration"]
    assert (configuration["storageSizeInGb"], configuration["execution"]["computeCostLimit"]) == (750, 12.5)
    assert configuration["rVersion"] == "4.5.2"


def test_each_parameter_has_one_default_shared_by_the_spec_and_the_official_builder():
    import inspect

    from airflow_provider_cloudos.core.payloads import build_session_payload
    from airflow_provider_cloudos.core.validators import (
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
