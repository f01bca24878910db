from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.lineage import (
    LineageDataset,
    SessionLineage,
    cloudos_location,
    cloudos_namespace,
    lineage_dataset,
    s3_location,
    session_facet,
    static_location,
)
from airflow_provider_cloudos.core.spec import parse_data_file, parse_link_path

WORKSPACE = "5f0c1d2e3a4b5c6d7e8f9a0b"
SESSION = {
    "_id": "64f0c0ffee0123456789abcd",
    "name": "analysis",
    "status": "ready",
    "interactiveSessionType": "awsVSCode",
    "project": {"_id": "5f0c1d2e3a4b5c6d7e8f9a01", "name": "genomics"},
    "resources": {"instanceType": "m5.2xlarge", "isCostSaving": True},
    "interactiveSessionConfiguration": {"executionPlatform": "aws"},
}


@pytest.mark.parametrize(
    ("base_url", "namespace"),
    [
        ("https://cloudos.lifebit.ai", f"cloudos://cloudos.lifebit.ai/{WORKSPACE}"),
        ("cloudos.lifebit.ai/", f"cloudos://cloudos.lifebit.ai/{WORKSPACE}"),
        (None, f"cloudos://cloudos.lifebit.ai/{WORKSPACE}"),
        ("HTTPS://CloudOS.Example.org:443/", f"cloudos://cloudos.example.org/{WORKSPACE}"),
        ("http://127.0.0.1:8080", f"cloudos://127.0.0.1:8080/{WORKSPACE}"),
        ("http://127.0.0.1:80", f"cloudos://127.0.0.1/{WORKSPACE}"),
        # Credentials typed into the URL and a path prefix never reach a lineage event.
        ("https://user:secret@cloudos.example.org/prefix", f"cloudos://cloudos.example.org/{WORKSPACE}"),
    ],
)
def test_cloudos_namespace_is_the_deployment_host_and_the_workspace(base_url, namespace):
    assert cloudos_namespace(base_url, WORKSPACE) == namespace


def test_cloudos_namespace_refuses_a_url_that_is_no_deployment():
    with pytest.raises(CloudOSValidationError, match=r"base_url.*scheme must be http or https"):
        cloudos_namespace("ftp://cloudos.example.org", WORKSPACE)


@pytest.mark.parametrize(
    ("location", "dataset"),
    [
        (s3_location("bucket", "path/to/file.csv"), LineageDataset("s3://bucket", "path/to/file.csv")),
        (s3_location("bucket", "results/run1/"), LineageDataset("s3://bucket", "results/run1")),
        (s3_location("bucket", ""), LineageDataset("s3://bucket", "/")),
        (
            cloudos_location("genomics", "Data/samples.csv"),
            LineageDataset("cloudos://h/w", "genomics/Data/samples.csv"),
        ),
        (
            cloudos_location("genomics", "Data/results/"),
            LineageDataset("cloudos://h/w", "genomics/Data/results"),
        ),
    ],
)
def test_lineage_dataset_follows_the_openlineage_naming_conventions(location, dataset):
    assert lineage_dataset(location, "cloudos://h/w") == dataset


@pytest.mark.parametrize(
    ("parsed", "location"),
    [
        (parse_data_file("s3://bucket/a/b.vcf"), s3_location("bucket", "a/b.vcf")),
        (parse_link_path("s3://bucket/out"), s3_location("bucket", "out/")),
        (parse_link_path("scratch:tmp-bucket:work"), s3_location("tmp-bucket", "work/")),
        (parse_data_file("genomics/Data/samples.csv"), None),
        (parse_link_path("genomics/Data/results"), None),
    ],
)
def test_static_location_is_known_only_for_s3_paths(parsed, location):
    assert static_location(parsed) == location


def test_session_facet_describes_the_session_and_nothing_of_the_connection():
    assert session_facet(SESSION, "https://cloudos.lifebit.ai/", WORKSPACE) == {
        "sessionId": "64f0c0ffee0123456789abcd",
        "name": "analysis",
        "sessionType": "VS Code",
        "instanceType": "m5.2xlarge",
        "executionPlatform": "aws",
        "project": "genomics",
        "workspaceId": WORKSPACE,
        "url": "https://cloudos.lifebit.ai/app/data-science/interactive-analysis/view/64f0c0ffee0123456789abcd",
    }


def test_session_facet_of_a_partial_session_has_none_values():
    facet = session_facet({"_id": "64f0c0ffee0123456789abcd"}, None, WORKSPACE)
    assert facet["sessionId"] == "64f0c0ffee0123456789abcd"
    assert facet["instanceType"] is None
    assert facet["project"] is None


def test_session_lineage_names_mounts_as_inputs_and_links_as_outputs_once_each():
    lineage = SessionLineage.of(
        mounts=[cloudos_location("genomics", "Data/samples.csv"), s3_location("cohorts", "v.vcf")],
        links=[cloudos_location("genomics", "Data/results"), cloudos_location("genomics", "Data/results")],
        session=SESSION,
        base_url="https://cloudos.lifebit.ai",
        workspace_id=WORKSPACE,
    )
    namespace = f"cloudos://cloudos.lifebit.ai/{WORKSPACE}"
    assert lineage.inputs == (
        LineageDataset(namespace, "genomics/Data/samples.csv"),
        LineageDataset("s3://cohorts", "v.vcf"),
    )
    assert lineage.outputs == (LineageDataset(namespace, "genomics/Data/results"),)
    assert lineage.session["sessionId"] == SESSION["_id"]


def test_session_lineage_survives_xcom_as_json():
    lineage = SessionLineage.of(
        [s3_location("b", "k")], [cloudos_location("p", "D/f")], SESSION, None, WORKSPACE
    )
    assert SessionLineage.from_xcom(json.loads(json.dumps(lineage.to_xcom()))) == lineage


@pytest.mark.parametrize(
    "value",
    [
        None,
        "a string",
        {"inputs": [], "outputs": "not a list", "session": {}},
        {"inputs": [{"namespace": "s3://b"}], "outputs": [], "session": {}},
        {"outputs": [], "session": {}},
    ],
)
def test_session_lineage_from_anything_else_is_none(value):
    assert SessionLineage.from_xcom(value) is None


_PROBE = """
import json, sys
import airflow_provider_cloudos.core.lineage
banned = ("airflow", "openlineage", "attrs")
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in banned)))
"""


def test_the_lineage_core_imports_no_airflow_and_no_openlineage():
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []
