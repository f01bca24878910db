"""Airflow knows the provider's ``cloudos://`` asset URIs and accepts the S3 ones, on every version.

The provider info registers the scheme's normaliser and OpenLineage converter (3.x reads
``asset-uris``, 2.11 ``dataset-uris``); these tests go through Airflow's own ``Asset`` (2.11:
``Dataset``) and the OpenLineage provider's asset translation, as a DAG and a task would.
"""

from __future__ import annotations

import importlib.util

import pytest
from airflow.providers.common.compat.sdk import Asset

from airflow_provider_cloudos.core.lineage import cloudos_location, lineage_dataset, normalize_cloudos_uri
from airflow_provider_cloudos.openlineage_facets import asset_to_openlineage
from airflow_provider_cloudos.provider_info import get_provider_info

WORKSPACE = "5f0c1d2e3a4b5c6d7e8f9a0b"
NAMESPACE = f"cloudos://cloudos.example.org/{WORKSPACE}"


def _import(path: str) -> object:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("key", ["asset-uris", "dataset-uris"])
def test_the_provider_info_registers_the_scheme_with_its_normaliser_and_converter(key):
    [entry] = get_provider_info()[key]
    assert entry["schemes"] == ["cloudos"]
    assert _import(entry["handler"]) is normalize_cloudos_uri
    assert _import(entry["to_openlineage_converter"]) is asset_to_openlineage


def test_airflow_normalises_a_project_folder_uri_with_the_providers_handler():
    written = f"cloudos://CloudOS.Example.org/{WORKSPACE}/Lab%20Project//Data/results/"
    assert Asset(written).uri == f"{NAMESPACE}/Lab%20Project/Data/results"


def test_airflow_refuses_a_cloudos_uri_that_names_no_folder():
    from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS

    if AIRFLOW_V_3_0_PLUS:
        with pytest.raises(ValueError, match="is no CloudOS folder"):
            Asset(f"cloudos://cloudos.example.org/{WORKSPACE}")
    else:  # 2.11 only warns, unless [core] strict_dataset_uri_validation
        with pytest.warns(UserWarning, match="is no CloudOS folder"):
            Asset(f"cloudos://cloudos.example.org/{WORKSPACE}")


def test_without_the_amazon_provider_airflow_accepts_an_s3_folder_and_strips_its_slash():
    assert importlib.util.find_spec("airflow.providers.amazon") is None, "the S3 normaliser would apply"
    assert Asset("s3://team-results/rnaseq/").uri == "s3://team-results/rnaseq"
    assert Asset("s3://team-results/").uri == "s3://team-results/"


def test_openlineage_names_a_project_folders_asset_as_the_create_tasks_lineage_does():
    from airflow.providers.openlineage.utils.utils import translate_airflow_asset

    location = cloudos_location("Lab Project", "Data/results")
    expected = lineage_dataset(location, NAMESPACE)
    translated = translate_airflow_asset(Asset(f"{NAMESPACE}/Lab%20Project/Data/results"), None)
    assert translated is not None
    assert (translated.namespace, translated.name) == (expected.namespace, expected.name)
