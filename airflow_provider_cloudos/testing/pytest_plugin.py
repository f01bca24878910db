"""Pytest fixtures for users of the simulator.

Opt in from a ``conftest.py`` with
``pytest_plugins = ["airflow_provider_cloudos.testing.pytest_plugin"]``; it is deliberately
not an automatic plugin entry point, so installing the provider changes no one's test run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_cloudos.testing.simulator import CloudOSSimulator
from airflow_provider_cloudos.testing.timings import StateTimings


@pytest.fixture
def cloudos_simulator() -> Iterator[CloudOSSimulator]:
    """A running simulator with fast timings, fresh for each test."""
    with CloudOSSimulator(timings=StateTimings.fast()) as simulator:
        yield simulator
