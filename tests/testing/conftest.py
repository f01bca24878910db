from __future__ import annotations

from collections.abc import Iterator

import pytest
from simulator_helpers import MANUAL_TIMINGS, Api

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings


@pytest.fixture
def sim() -> Iterator[CloudOSSimulator]:
    with CloudOSSimulator(timings=StateTimings.fast()) as simulator:
        yield simulator


@pytest.fixture
def api(sim: CloudOSSimulator) -> Iterator[Api]:
    client = Api(sim)
    yield client
    client.http.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def manual_sim(clock: ManualClock) -> Iterator[CloudOSSimulator]:
    with CloudOSSimulator(timings=MANUAL_TIMINGS, clock=clock) as simulator:
        yield simulator


@pytest.fixture
def manual_api(manual_sim: CloudOSSimulator) -> Iterator[Api]:
    client = Api(manual_sim)
    yield client
    client.http.close()
