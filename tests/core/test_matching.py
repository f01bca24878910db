"""Comparing what a create task asks for with a session the API reports."""

from __future__ import annotations

from airflow_provider_cloudos.core.matching import SettingDifference, session_differences
from airflow_provider_cloudos.core.spec import make_session_spec

SPEC = make_session_spec(name="s", session_type="jupyter", storage_size=500, instance_type="c5.xlarge")
FULL = {
    "_id": "a" * 24,
    "name": "s",
    "interactiveSessionType": "awsJupyterNotebook",
    "project": {"_id": "b" * 24, "name": "genomics"},
    "resources": {"instanceType": "c5.xlarge", "isCostSaving": False, "storageSizeInGb": 500},
    "execution": {"computeCostLimit": -1},
    "interactiveSessionConfiguration": {
        "backend": "regular",
        "executionPlatform": "aws",
        "visibility": "private",
    },
    "dataItems": [{"kind": "File", "item": "c" * 24, "name": "samples.csv"}],
    "fuseFileSystems": [],
}


def test_the_same_settings_make_no_difference():
    assert session_differences(SPEC, FULL, project="genomics") == []


def test_a_partial_session_is_not_held_against_the_task():
    assert session_differences(SPEC, {"_id": "a" * 24, "name": "s"}, project="genomics") == []


def test_each_difference_names_the_parameter_and_both_values():
    other = {
        **FULL,
        "resources": {**FULL["resources"], "storageSizeInGb": 1000},
        "interactiveSessionConfiguration": {},
    }
    other["interactiveSessionType"] = "awsVSCode"
    assert session_differences(SPEC, other, project="genomics") == [
        SettingDifference("session_type", "jupyter", "vscode"),
        SettingDifference("storage_size", 500, 1000),
    ]


def test_the_project_is_compared_by_id_when_the_task_gave_one():
    assert session_differences(SPEC, FULL, project="b" * 24, by_project_id=True) == []
    assert [d.parameter for d in session_differences(SPEC, FULL, project="d" * 24, by_project_id=True)] == [
        "project"
    ]


def test_every_wanted_mount_must_be_on_the_session_which_may_carry_more():
    mounted = [{"kind": "File", "item": "c" * 24, "name": "samples.csv"}]
    assert session_differences(SPEC, FULL, project="genomics", data_items=mounted) == []
    assert session_differences(SPEC, FULL, project="genomics", data_items=[]) == []
    missing = [{"type": "S3File", "data": {"s3BucketName": "b", "s3ObjectKey": "k.csv"}}]
    assert session_differences(SPEC, FULL, project="genomics", data_items=missing) == [
        SettingDifference("mounts", ["s3://b/k.csv"], "none of these")
    ]
