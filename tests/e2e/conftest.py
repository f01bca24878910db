"""What every test that drives a real Airflow from outside starts from: a simulator on a manual clock.

Module-scoped, like the Airflow each test module starts: the clock moves only when the module's
``ClockDriver`` says so, so no run depends on the machine's speed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airflow_stack import TIMINGS

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def simulator(clock: ManualClock) -> Iterator[CloudOSSimulator]:
    with CloudOSSimulator(timings=TIMINGS, clock=clock) as sim:
        yield sim
