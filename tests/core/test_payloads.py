from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError, shown_value
from airflow_provider_cloudos.core.payloads import (
    build_file_item,
    build_project_folder_item,
    build_resume_payload,
    build_s3_file_item,
    build_s3_link_item,
    build_session_payload,
)
from airflow_provider_cloudos.core.spec import (
    check_duplicate_mount_names,
    item_mount_name,
    parse_data_file,
    parse_link_path,
)

NOW = datetime(2026, 5, 28, 12, 0, 0, tzinfo=UTC)
IN_24H = "2026-05-29T12:00:00Z"
SHUTDOWN = "2026-05-28T20:00:00Z"
PROJECT = "5f0c1d2e3a4b5c6d7e8f9a0b"
FILE_ID = "60a1b2c3d4e5f6a7b8c9d0e1"


def invalid(parameter: str, value: object) -> str:
    return re.escape(f"Invalid {parameter}={shown_value(value)}")


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
    ("parsed", "value"),
    [
        (
            {"type": "cloudos", "project_name": "p", "dataset_path": "d"},
            {"type": "cloudos", "project_name": "p", "dataset_path": "d"},
        ),
        (
            {"type": "s3", "s3_bucket": "", "s3_prefix": "k"},
            {"type": "s3", "s3_bucket": "", "s3_prefix": "k"},
        ),
        ({"type": "s3", "s3_bucket": "b", "s3_prefix": ""}, "s3://b/"),
        ({"type": "s3", "s3_bucket": "b", "s3_prefix": "dir/"}, "s3://b/dir/"),
        ("s3://b/k", "s3://b/k"),
    ],
)
def test_build_s3_file_item_refuses_what_is_not_an_s3_file(parsed, value):
    with pytest.raises(CloudOSValidationError, match=invalid("mounts", value)):
        build_s3_file_item(parsed)


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


def test_build_s3_link_item_of_a_folder_adds_the_trailing_slash_to_hand_made_dicts():
    parsed = {"type": "s3", "s3_bucket": "b", "s3_prefix": "x/y"}
    assert build_s3_link_item(parsed) == {
        "type": "S3Folder",
        "data": {"name": "y", "s3BucketName": "b", "s3Prefix": "x/y/"},
    }


def test_build_s3_link_item_of_a_folder_refuses_non_s3():
    parsed = parse_link_path("proj/Data")
    with pytest.raises(CloudOSValidationError, match=invalid("links", parsed)):
        build_s3_link_item(parsed)


def test_build_s3_link_item_links_files_as_s3_files_named_by_their_last_segment():
    assert build_s3_link_item(parse_link_path("s3://b/a/file.csv")) == {
        "type": "S3File",
        "data": {"name": "file.csv", "s3BucketName": "b", "s3ObjectKey": "a/file.csv"},
    }
    assert build_s3_link_item(parse_link_path("s3://my-bucket/runs/results/")) == S3_FOLDER_ITEM


def test_build_project_folder_item():
    assert build_project_folder_item("genomics", "Data/refs") == PROJECT_FOLDER_ITEM
    assert build_project_folder_item(" genomics ", "/Data/refs/") == PROJECT_FOLDER_ITEM


@pytest.mark.parametrize(
    ("project", "folder", "value"),
    [("", "Data", ""), (None, "Data", None), ("p", "", ""), ("p", "//", "//"), ("p", None, None)],
)
def test_build_project_folder_item_refuses_empty_parts(project, folder, value):
    with pytest.raises(CloudOSValidationError, match=invalid("links", value)):
        build_project_folder_item(project, folder)


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
