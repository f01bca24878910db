"""Cost and runtime guards on a watched session: SessionGuard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fleet_sessions import session

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.guards import SessionGuard

# --- SessionGuard -----------------------------------------------------------------------------


def test_the_guard_fires_at_the_cost_limit_and_says_why():
    guard = SessionGuard(max_cost_usd=50)
    assert guard.check(session(cost=49.99)) is None
    assert guard.check(session(cost=50.0)) == "cost $50.00 reached the limit of $50.00"
    assert guard.check(session(cost=50.2)) == "cost $50.20 reached the limit of $50.00"


def test_the_guard_fires_at_the_runtime_limit_and_says_why():
    guard = SessionGuard(max_runtime_seconds=7200)
    assert guard.check(session(runtime=7199)) is None
    assert guard.check(session(runtime=7205)) == "runtime 2h 5s reached the limit of 2h"


def test_both_limits_reached_are_both_reported():
    guard = SessionGuard.from_params(max_cost_usd="10", max_runtime="1h")
    assert guard.check(session(cost=11, runtime=3600)) == (
        "cost $11.00 reached the limit of $10.00 and runtime 1h reached the limit of 1h"
    )


def test_an_inactive_guard_never_fires_and_partial_objects_never_crash():
    assert SessionGuard().active is False
    assert SessionGuard().check(session(cost=1e9, runtime=1e9)) is None
    guard = SessionGuard(max_cost_usd=1, max_runtime_seconds=1)
    assert guard.check({}) is None
    assert guard.check({"totalCostInUsd": "lots", "totalRunningTimeInSeconds": None}) is None


def test_from_params_reads_rendered_values_and_unset_ones():
    assert SessionGuard.from_params(max_cost_usd=" 50 ", max_runtime="8h") == SessionGuard(50.0, 28800.0)
    assert SessionGuard.from_params(max_cost_usd="None", max_runtime="") == SessionGuard()
    assert SessionGuard.from_params(max_runtime=timedelta(minutes=90)).max_runtime_seconds == 5400.0


@pytest.mark.parametrize(
    ("kwargs", "parameter", "message"),
    [
        ({"max_cost_usd": 0}, "max_cost_usd", "Invalid max_cost_usd=0: the amount must be greater than 0"),
        ({"max_cost_usd": -3}, "max_cost_usd", "Invalid max_cost_usd=-3: the amount must be greater than 0"),
        (
            {"max_cost_usd": "fifty"},
            "max_cost_usd",
            "Invalid max_cost_usd='fifty': expected an amount of USD",
        ),
        ({"max_cost_usd": [50]}, "max_cost_usd", "Invalid max_cost_usd=(50): expected an amount of USD"),
        (
            {"max_runtime": "0s"},
            "max_runtime",
            "Invalid max_runtime='0s': the duration must be greater than 0",
        ),
        ({"max_runtime": "soon"}, "max_runtime", "Invalid max_runtime='soon'"),
        ({"max_runtime": False}, "max_runtime", "Invalid max_runtime=False: expected a duration"),
    ],
)
def test_bad_guards_are_refused_naming_the_parameter(kwargs, parameter, message):
    with pytest.raises(CloudOSValidationError) as error:
        SessionGuard.from_params(**kwargs)
    assert error.value.parameter == parameter
    assert message in str(error.value)


def test_direct_guard_construction_names_its_fields():
    with pytest.raises(CloudOSValidationError, match="Invalid max_runtime_seconds=-1"):
        SessionGuard(max_runtime_seconds=-1)
    with pytest.raises(CloudOSValidationError, match="Invalid max_cost_usd=inf"):
        SessionGuard(max_cost_usd=float("inf"))


def test_trigger_kwargs_hold_only_the_limits_that_are_set():
    assert SessionGuard().trigger_kwargs() == {}
    assert SessionGuard(max_cost_usd=5).trigger_kwargs() == {"max_cost_usd": 5.0}
    assert SessionGuard(5, 60).trigger_kwargs() == {"max_cost_usd": 5.0, "max_runtime_seconds": 60.0}
    assert SessionGuard(5, 3600).describe() == "cost reaches $5.00 or runtime reaches 1h"
    assert SessionGuard().describe() == "no guard"
