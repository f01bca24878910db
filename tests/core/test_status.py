from __future__ import annotations

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.status import (
    FAILURE_STATUSES,
    LIVE_STATUSES,
    PRE_RUNNING_STATUSES,
    SETTLED_STATUSES,
    api_statuses_for,
    map_status,
    normalize_statuses,
)


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("scheduled", "scheduled"),
        ("setup", "setup"),
        ("initialising", "initialising"),
        ("initializing", "initialising"),
        ("ready", "running"),
        ("running", "running"),
        ("aborting", "stopping"),
        ("aborted", "paused"),
        ("stopped", "paused"),
        ("terminated", "terminated"),
        ("  READY ", "running"),
    ],
)
def test_map_status_maps_every_api_name(raw, display):
    assert map_status(raw) == display


def test_map_status_keeps_unknown_names_lowercased_and_handles_none():
    assert map_status("Hibernating") == "hibernating"
    assert map_status(None) == "unknown"


def test_the_settled_statuses_are_the_ones_no_transition_leaves_on_its_own():
    """A wait can end in these; ``running`` is one of them, so the set is not called terminal."""
    assert {"running", "paused", "terminated"} == SETTLED_STATUSES
    assert SETTLED_STATUSES.isdisjoint(PRE_RUNNING_STATUSES | {"stopping"})


def test_status_sets_are_consistent():
    assert PRE_RUNNING_STATUSES <= LIVE_STATUSES
    assert FAILURE_STATUSES <= SETTLED_STATUSES
    assert "stopping" in LIVE_STATUSES
    assert "paused" not in LIVE_STATUSES


def test_normalize_statuses_accepts_api_and_display_names_and_csv():
    assert normalize_statuses("ready, aborted") == {"running", "paused"}
    assert normalize_statuses(["running", "stopping"]) == {"running", "stopping"}


def test_normalize_statuses_refuses_unknown_names_naming_the_parameter():
    with pytest.raises(CloudOSValidationError) as raised:
        normalize_statuses(["running", "bogus"])
    assert str(raised.value) == (
        "Invalid target_status='bogus': unknown session status; expected one of "
        "initialising, paused, running, scheduled, setup, stopping, terminated"
    )


def test_normalize_statuses_refuses_empty():
    with pytest.raises(CloudOSValidationError) as raised:
        normalize_statuses("", parameter="wait_for")
    assert str(raised.value) == "Invalid wait_for='': at least one status is required"


def test_normalize_statuses_refuses_non_iterables():
    with pytest.raises(CloudOSValidationError) as raised:
        normalize_statuses(5)  # type: ignore[arg-type]
    assert str(raised.value) == "Invalid target_status=5: expected a status name or a list of status names"


def test_api_statuses_for():
    assert api_statuses_for(["running", "paused"]) == ["aborted", "stopped", "ready", "running"]


def test_api_statuses_for_passes_an_unmapped_name_through():
    assert api_statuses_for(["running", "some-new-status"]) == ["ready", "running", "some-new-status"]
