"""Fixtures for running the example DAGs with Airflow: one migrated Airflow home, fresh simulators."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from example_dag_runs import EXAMPLE_DAGS, STEP_TIMINGS, run_airflow_cli

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock
from airflow_provider_cloudos.testing.demo import airflow_environment


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway Airflow home whose SQLite database is migrated once for all the runs here."""
    home = tmp_path_factory.mktemp("example-dags-airflow-home")
    migrate = run_airflow_cli(["db", "migrate"], airflow_environment(home, EXAMPLE_DAGS, None))
    assert migrate.code == 0, migrate.tail()
    return home


@pytest.fixture
def dag_clock() -> ManualClock:
    """The simulator's time; ``dags_test`` moves it when a trigger starts (see its docstring)."""
    return ManualClock()


@pytest.fixture
def dag_simulator(sentinel_api_key: str, dag_clock: ManualClock) -> Iterator[CloudOSSimulator]:
    """A simulator on ``dag_clock``, with the sentinel API key so tests can check it never leaks."""
    with CloudOSSimulator(timings=STEP_TIMINGS, api_key=sentinel_api_key, clock=dag_clock) as simulator:
        yield simulator
