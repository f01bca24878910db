"""The context-scoped deadline both transports read: nesting, cleanup budgets, attempt budgets."""

from __future__ import annotations

import asyncio
import math

import pytest

from airflow_provider_cloudos.client.deadline import (
    Deadline,
    attempt_budget,
    call_deadline,
    cleanup_budget,
    current_deadline,
    deadline_passed,
    sleep_fits,
)
from airflow_provider_cloudos.core.errors import CloudOSValidationError


def test_no_deadline_outside_any_scope():
    assert current_deadline() is None


def test_a_scope_sets_the_deadline_and_restores_the_outer_one():
    with call_deadline(100.0, "the sensor's timeout (20s)") as chosen:
        assert chosen == Deadline(100.0, "the sensor's timeout (20s)")
        assert current_deadline() == chosen
    assert current_deadline() is None


@pytest.mark.parametrize(("outer", "inner", "kept"), [(100.0, 200.0, "outer"), (200.0, 100.0, "inner")])
def test_nested_scopes_keep_the_earliest_deadline(outer, inner, kept):
    with call_deadline(outer, "outer"), call_deadline(inner, "inner"):
        assert current_deadline().source == kept
        assert current_deadline().at == min(outer, inner)


def test_none_leaves_the_current_deadline():
    with call_deadline(100.0, "outer"), call_deadline(None, "nothing"):
        assert current_deadline() == Deadline(100.0, "outer")


def test_a_cleanup_budget_replaces_even_a_passed_deadline():
    with call_deadline(10.0, "the operator's timeout (30m)"):
        with cleanup_budget(30.0, "the cleanup", clock=lambda: 1000.0) as budget:
            assert budget == Deadline(1030.0, "the cleanup")
            assert current_deadline() == budget
        assert current_deadline().source == "the operator's timeout (30m)"


@pytest.mark.asyncio
async def test_asyncio_tasks_see_the_scope_that_started_them():
    async def look() -> Deadline | None:
        return current_deadline()

    with call_deadline(100.0, "the trigger's end_time"):
        inside = await asyncio.create_task(look())
    outside = await asyncio.create_task(look())
    assert inside == Deadline(100.0, "the trigger's end_time")
    assert outside is None


@pytest.mark.parametrize("bad", [math.nan, True, "soon"])
def test_a_deadline_that_is_not_a_time_is_refused_by_name(bad):
    with pytest.raises(CloudOSValidationError, match="deadline") as raised, call_deadline(bad, "x"):
        pass
    assert raised.value.parameter == "deadline"


def test_attempt_budget_without_a_deadline_is_the_clients_own():
    assert attempt_budget(60.0, None, now=5.0) == 60.0


def test_attempt_budget_is_cut_to_what_the_deadline_leaves():
    deadline = Deadline(110.0, "x")
    assert attempt_budget(60.0, deadline, now=100.0) == 10.0
    assert attempt_budget(5.0, deadline, now=100.0) == 5.0
    assert attempt_budget(60.0, deadline, now=110.0) is None
    assert attempt_budget(60.0, deadline, now=111.0) is None


def test_only_a_timeout_at_the_deadline_is_the_deadlines():
    deadline = Deadline(110.0, "x")
    assert deadline_passed(deadline, now=110.0)
    assert deadline_passed(deadline, now=109.99)
    assert not deadline_passed(deadline, now=100.0)
    assert not deadline_passed(None, now=1e12)


def test_a_sleep_fits_only_when_time_is_left_after_it():
    deadline = Deadline(110.0, "x")
    assert sleep_fits(5.0, None, now=100.0)
    assert sleep_fits(9.9, deadline, now=100.0)
    assert not sleep_fits(10.0, deadline, now=100.0)
