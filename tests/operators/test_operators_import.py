"""What a DAG file pays to import the operators and the sensor: no HTTP library, no trigger.

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


@pytest.mark.parametrize(
    "module",
    [
        "airflow_provider_cloudos.operators.sessions",
        "airflow_provider_cloudos.operators.fleet",
        "airflow_provider_cloudos.operators.block",
        "airflow_provider_cloudos.block",
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
