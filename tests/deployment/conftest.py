"""The production-shaped deployment test runs only when asked for (``make deployment-test``, ``make soak``).

It needs Debian's PostgreSQL and Redis servers and the ``deployment`` dependency group (the Celery provider,
PostgreSQL drivers), and takes minutes, so the ordinary suite leaves this folder out unless
``CLOUDOS_DEPLOYMENT_TEST=1`` is set, which ``scripts/deployment-test.sh`` does after installing
what the test needs. The soak's checks themselves (``test_soak_checks.py``) need none of that and
always run, so that each can be seen to fail.

The shared-reads scenario (``test_shared_reads_at_scale.py``, a thousand waits) runs only from
``make deployment-shared-reads``, which sets ``CLOUDOS_SHARED_READS=1`` as well; that run leaves
the soak, the stalls and the upgrade test (``test_upgrade.py``) out.

The fixtures here give each test module its own deployment (PostgreSQL, Redis, every Airflow
component) and its own simulator, started once for the module. They import the deployment's
modules only when used: the ordinary suite, which runs without the ``deployment`` group on some
Airflow lines, never does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock

ENABLED = os.environ.get("CLOUDOS_DEPLOYMENT_TEST") == "1"

SHARED_READS = os.environ.get("CLOUDOS_SHARED_READS") == "1"

#: ``CLOUDOS_SOAK_SCALE``: ``ci`` (``make deployment-test``) or ``full`` (``make soak``).
SCALE_NAMES = ("ci", "full")

#: The scenarios that start a deployment of their own (``make deployment-test``, ``make soak``).
SCENARIOS = ["test_production_soak.py", "test_stalls.py", "test_upgrade.py"]

collect_ignore_glob = [] if ENABLED else [*SCENARIOS, "dags/*"]
if not (ENABLED and SHARED_READS):
    collect_ignore_glob.append("test_shared_reads_at_scale.py")
elif SHARED_READS:
    collect_ignore_glob += SCENARIOS


@pytest.fixture(scope="module")
def scale_name() -> str:
    name = os.environ.get("CLOUDOS_SOAK_SCALE", "ci")
    if name not in SCALE_NAMES:
        raise ValueError(f"CLOUDOS_SOAK_SCALE={name!r}: expected one of {', '.join(SCALE_NAMES)}")
    return name


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def simulator(clock: ManualClock) -> Iterator[CloudOSSimulator]:
    from airflow_deployment import API_KEY, TIMINGS

    with CloudOSSimulator(timings=TIMINGS, clock=clock, api_key=API_KEY, seed=13) as sim:
        yield sim


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    from airflow_deployment import deployment_workdir

    with deployment_workdir("cloudos-deployment-") as path:
        yield path


@pytest.fixture(scope="module")
def deployment(workdir: Path, simulator: CloudOSSimulator) -> Iterator[Any]:
    """A started ``AirflowDeployment`` with the soak DAGs parsed, stopped after the module."""
    from airflow_deployment import started_deployment

    with started_deployment(workdir, simulator.connection_json()) as airflow:
        yield airflow
