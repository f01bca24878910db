from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import airflow_provider_cloudos.client
from airflow_provider_cloudos.client import AsyncCloudOSClient, CloudOSClient
import airflow_provider_cloudos.client.async_client
import airflow_provider_cloudos.core.errors, airflow_provider_cloudos.core.spec
import airflow_provider_cloudos.core.status, airflow_provider_cloudos.core.formatters
print(json.dumps(sorted(name for name in sys.modules if name == "airflow" or name.startswith("airflow."))))
"""


def run_probe(code: str) -> list[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_client_and_core_import_no_airflow():
    assert run_probe(PROBE) == []


def test_the_sync_client_does_not_load_aiohttp():
    probe = (
        "import json, sys\n"
        "from airflow_provider_cloudos.client import CloudOSClient\n"
        "print(json.dumps([n for n in sys.modules if n == 'aiohttp']))\n"
    )
    assert run_probe(probe) == []


def test_public_names():
    import airflow_provider_cloudos.client as client

    assert sorted(client.__all__) == [
        "ApiRequest",
        "AsyncCloudOSClient",
        "CloudOSClient",
        "RetryPolicy",
        "retry_delay",
    ]
    for name in client.__all__:
        assert getattr(client, name) is not None
