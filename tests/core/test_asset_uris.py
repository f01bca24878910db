"""The asset URIs of linked folders: one name per folder, shared with the lineage output.

Pure functions of :mod:`airflow_provider_cloudos.core.lineage`; how Airflow applies the
normaliser (registered in the provider info) is tested in ``tests/test_asset_uri_registration.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from airflow_provider_cloudos.core.formatters import session_summary
from airflow_provider_cloudos.core.lineage import (
    SessionLineage,
    asset_uri,
    cloudos_location,
    cloudos_namespace,
    lineage_dataset,
    lineage_dataset_of_uri,
    linked_folder_uris,
    normalize_cloudos_uri,
    s3_location,
    saved_results_extra,
)
from airflow_provider_cloudos.core.spec import build_project_folder_item

WORKSPACE = "5f0c1d2e3a4b5c6d7e8f9a0b"
NAMESPACE = f"cloudos://cloudos.example.org/{WORKSPACE}"


@pytest.mark.parametrize(
    ("location", "uri"),
    [
        (s3_location("team-results", "rnaseq/"), "s3://team-results/rnaseq"),
        (s3_location("team-results", "rnaseq/run1/"), "s3://team-results/rnaseq/run1"),
        (s3_location("team-results", ""), "s3://team-results/"),
        (cloudos_location("genomics", "Data/results"), f"{NAMESPACE}/genomics/Data/results"),
        # Anything a URI cannot carry as it is gets percent-encoded; Airflow 2.11 wants ASCII.
        (cloudos_location("Lab Project", "Données/run 1"), f"{NAMESPACE}/Lab%20Project/Donn%C3%A9es/run%201"),
    ],
)
def test_asset_uri_of_a_linked_folder(location, uri):
    assert asset_uri(location, NAMESPACE) == uri


@pytest.mark.parametrize(
    "location",
    [
        s3_location("team-results", "rnaseq/run1/"),
        cloudos_location("genomics", "Data/results"),
        cloudos_location("Lab Project", "Données/run 1"),
    ],
)
def test_the_asset_uri_is_the_lineage_namespace_and_name_of_the_folder(location):
    dataset = lineage_dataset(location, NAMESPACE)
    uri = asset_uri(location, NAMESPACE)
    assert urlsplit(uri).geturl() == uri
    if location.kind == "cloudos":
        # What the OpenLineage provider gets back from the converter registered for the scheme.
        assert lineage_dataset_of_uri(uri) == dataset
    else:
        assert uri == f"{dataset.namespace}/{dataset.name}"


def test_the_create_tasks_lineage_output_and_the_asset_are_one_name():
    location = cloudos_location("genomics", "Data/results")
    namespace = cloudos_namespace("http://127.0.0.1:8080", WORKSPACE)
    lineage = SessionLineage.of([], [location], {"_id": "x"}, "http://127.0.0.1:8080", WORKSPACE)
    [output] = lineage.outputs
    assert asset_uri(location, namespace) == f"{output.namespace}/{output.name}"


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        (
            f"cloudos://CloudOS.Example.org/{WORKSPACE}/genomics/Data/results",
            f"{NAMESPACE}/genomics/Data/results",
        ),
        (
            f"cloudos://user:secret@cloudos.example.org/{WORKSPACE}/genomics/Data",
            f"{NAMESPACE}/genomics/Data",
        ),
        (f"cloudos://cloudos.example.org//{WORKSPACE}//genomics//Data/", f"{NAMESPACE}/genomics/Data"),
        (f"cloudos://cloudos.example.org/{WORKSPACE}/Lab Project/Data", f"{NAMESPACE}/Lab%20Project/Data"),
        (f"cloudos://cloudos.example.org/{WORKSPACE}/Lab%20Project/Data", f"{NAMESPACE}/Lab%20Project/Data"),
        (f"cloudos://cloudos.example.org/{WORKSPACE}/genomics?x=1#frag", f"{NAMESPACE}/genomics"),
        (f"cloudos://127.0.0.1:8080/{WORKSPACE}/genomics", f"cloudos://127.0.0.1:8080/{WORKSPACE}/genomics"),
        (f"cloudos://[::1]:8080/{WORKSPACE}/genomics", f"cloudos://[::1]:8080/{WORKSPACE}/genomics"),
    ],
)
def test_one_folder_has_one_uri_however_a_dag_writes_it(written, normalised):
    assert normalize_cloudos_uri(urlsplit(written)).geturl() == normalised


@pytest.mark.parametrize(
    "uri",
    ["cloudos:///workspace/project", f"cloudos://cloudos.example.org/{WORKSPACE}", "cloudos://host"],
)
def test_a_uri_that_names_no_folder_is_refused(uri):
    with pytest.raises(ValueError, match="is no CloudOS folder"):
        normalize_cloudos_uri(urlsplit(uri))


def test_a_refused_uri_does_not_repeat_the_user_info_it_carried():
    with pytest.raises(ValueError, match="is no CloudOS folder") as refused:
        normalize_cloudos_uri(urlsplit("cloudos://user:secret@host/"))
    assert "secret" not in str(refused.value)


def _item(bucket: str, prefix: str) -> dict[str, Any]:
    return {"type": "S3Folder", "data": {"name": "x", "s3BucketName": bucket, "s3Prefix": prefix}}


def test_the_session_lists_the_folders_and_the_record_says_what_they_are():
    session = {
        "fuseFileSystems": [build_project_folder_item("genomics", "Data/results"), _item("lab", "qc/")]
    }
    known = {"s3://genomics/Data/results/": f"{NAMESPACE}/genomics/Data/results"}
    asked: list[dict[str, Any]] = []

    def locate(item: Any) -> str:
        asked.append(item)
        return "s3://lab/qc"

    assert linked_folder_uris(session, known, locate) == [f"{NAMESPACE}/genomics/Data/results", "s3://lab/qc"]
    assert asked == [_item("lab", "qc/")]  # only what no task recorded is looked up


def test_without_the_field_the_record_is_all_there_is_and_twice_is_once():
    known = {"a": "s3://lab/qc", "b": "s3://lab/qc", "c": f"{NAMESPACE}/genomics/Data"}
    assert linked_folder_uris({"_id": "x"}, known, lambda item: None) == [
        "s3://lab/qc",
        f"{NAMESPACE}/genomics/Data",
    ]


def test_a_folder_that_cannot_be_named_is_left_out():
    session = {"fuseFileSystems": [_item("lab", "qc/"), "not an item"]}
    assert linked_folder_uris(session, {}, lambda item: None) == []


def test_the_event_extra_names_the_session_in_flat_primitives():
    session = {
        "_id": "64f0c0ffee0123456789abcd",
        "name": "analysis",
        "status": "aborted",
        "totalRunningTimeInSeconds": 3725.9,
        "totalCostInUsd": 1.25,
        "lastSavedAt": "2026-01-02T03:04:05Z",
    }
    extra = saved_results_extra(session_summary(session, "https://cloudos.example.org"))
    assert extra == {
        "session_id": "64f0c0ffee0123456789abcd",
        "session_name": "analysis",
        "saved_at": "2026-01-02T03:04:05Z",
        "running_time_seconds": 3725,
        "cost_usd": 1.25,
        "session_url": "https://cloudos.example.org/app/data-science/interactive-analysis/view/64f0c0ffee0123456789abcd",
    }
    assert all(isinstance(value, (str, int, float)) for value in extra.values())


def test_without_last_saved_at_the_moment_of_the_event_stands_in():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    extra = saved_results_extra(session_summary({"_id": "64f0c0ffee0123456789abcd"}), moment)
    assert extra["saved_at"] == "2026-01-02T03:04:05Z"
    assert (extra["session_name"], extra["cost_usd"], extra["session_url"]) == (None, 0.0, None)
