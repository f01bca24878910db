"""What a DAG file pays to import the operators and the sensor: no HTTP library, no trigger, no OpenLineage.

The DAG processor imports every DAG file again and again; the clients and triggers are only
needed when a task runs (or defers), so they load then (BENCHMARKS.md, import cost).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Airflow's own base classes load first (any DAG file pays for them); Airflow 2.11 has no airflow.sdk.
_PROBE = """
import json, sys
try:
    import airflow.sdk
except ImportError:
    pass
from airflow.providers.common.compat.sdk import BaseHook, BaseOperator, BaseOperatorLink, BaseSensorOperator
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""

NOT_AT_PARSE_TIME = ("requests", "aiohttp", "urllib3", "airflow.triggers.base")
#: What Airflow's provider discovery loads of an installed OpenLineage provider (its info, to
#: read its configuration); the provider's lineage glue and the OpenLineage client load only
#: when the OpenLineage provider asks a task for its lineage.
AIRFLOW_DISCOVERY = {"airflow.providers.openlineage", "airflow.providers.openlineage.get_provider_info"}


@pytest.mark.parametrize(
    "module",
    [
        "airflow_provider_cloudos.operators.sessions",
        "airflow_provider_cloudos.operators.fleet",
        "airflow_provider_cloudos.operators.block",
        "airflow_provider_cloudos.session_block",
        "airflow_provider_cloudos.sensors.sessions",
    ],
)
def test_importing_for_a_dag_file_loads_no_http_library_and_no_trigger(module):
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert module in loaded
    assert sorted(name for name in NOT_AT_PARSE_TIME if name in loaded) == []
    triggers = {"airflow_provider_cloudos.triggers.sessions", "airflow_provider_cloudos.triggers.fleet"}
    assert sorted(loaded & triggers) == []
    assert sorted(name for name in loaded if "openlineage" in name and name not in AIRFLOW_DISCOVERY) == []


@pytest.mark.parametrize(
    ("statement", "module"),
    [
        (
            "from airflow_provider_cloudos.operators import "
            "CloudOSCreateSessionOperator, CloudOSStopSessionOperator",
            "airflow_provider_cloudos.operators.sessions",
        ),
        (
            "from airflow_provider_cloudos.sensors import CloudOSSessionSensor",
            "airflow_provider_cloudos.sensors.sessions",
        ),
        ("from airflow_provider_cloudos.hooks import CloudOSHook", "airflow_provider_cloudos.hooks.cloudos"),
    ],
)
def test_importing_from_a_subpackage_costs_no_more_than_from_its_module(statement, module):
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.replace("import {module}", statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert module in loaded
    assert sorted(name for name in NOT_AT_PARSE_TIME if name in loaded) == []
    assert "airflow_provider_cloudos.operators.fleet" not in loaded  # only what the names need
    triggers = {"airflow_provider_cloudos.triggers.sessions", "airflow_provider_cloudos.triggers.fleet"}
    assert sorted(loaded & triggers) == []


def test_every_public_class_is_exported_by_its_subpackage():
    import airflow_provider_cloudos.hooks as hooks
    import airflow_provider_cloudos.operators as operators
    import airflow_provider_cloudos.sensors as sensors
    import airflow_provider_cloudos.triggers as triggers
    from airflow_provider_cloudos.provider_info import get_provider_info

    info = get_provider_info()
    listed = [
        *(name for entry in info["operators"] for name in entry["python-modules"]),
        *(name for entry in info["sensors"] for name in entry["python-modules"]),
    ]
    packages = {"operators": operators, "sensors": sensors, "hooks": hooks, "triggers": triggers}
    for module_name in listed:
        package = packages[module_name.split(".")[1]]
        module = __import__(module_name, fromlist=["__all__"])
        for name in getattr(module, "__all__", []):
            if name.startswith("CloudOS"):
                assert getattr(package, name) is getattr(module, name), (package.__name__, name)
    assert triggers.CloudOSSessionTrigger.__module__ == "airflow_provider_cloudos.triggers.sessions"
    assert triggers.CloudOSFleetTrigger.__module__ == "airflow_provider_cloudos.triggers.fleet"
    assert triggers.CloudOSSessionsTrigger is triggers.CloudOSFleetTrigger, "the old name, an alias"
    assert hooks.CloudOSHook.__module__ == "airflow_provider_cloudos.hooks.cloudos"
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = operators.Nope
