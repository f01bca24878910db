"""A local CloudOS API simulator for tests, the demo and benchmarks.

A real HTTP/1.1 server on 127.0.0.1 (aiohttp's low-level web server, which the provider's async
client needs anyway), serving the endpoints of the CloudOS interactive-session API with a timed
session lifecycle, projects and datasets for path resolution, counters and fault injection. It
imports nothing from Airflow,
so the provider's client can be tested without Airflow and the demo can start it first::

    from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

    with CloudOSSimulator(timings=StateTimings.fast()) as sim:
        ...  # point a client or an Airflow connection at sim.url / sim.connection_json()

From a shell: ``python -m airflow_provider_cloudos.testing --timings demo``. For pytest:
``pytest_plugins = ["airflow_provider_cloudos.testing.pytest_plugin"]`` gives the
``cloudos_simulator`` fixture.
"""

from __future__ import annotations

from airflow_provider_cloudos.testing.counters import Counters
from airflow_provider_cloudos.testing.faults import ENDPOINTS, Faults
from airflow_provider_cloudos.testing.seed import Seed, build_seed
from airflow_provider_cloudos.testing.simulator import CloudOSSimulator
from airflow_provider_cloudos.testing.timings import ManualClock, StateTimings

__all__ = [
    "ENDPOINTS",
    "CloudOSSimulator",
    "Counters",
    "Faults",
    "ManualClock",
    "Seed",
    "StateTimings",
    "build_seed",
]
