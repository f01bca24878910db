"""The request budget of one connection: a pace, a burst, and a 429 that holds every request."""

from __future__ import annotations

import asyncio

from airflow_provider_cloudos.client.budget import RequestBudget, budget_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_second_of_requests_goes_at_once_and_the_rest_at_the_pace():
    clock = Clock()
    budget = RequestBudget(10, clock=clock)

    delays = [budget.turn() for _ in range(15)]

    assert delays[:10] == [0.0] * 10
    assert [round(delay, 3) for delay in delays[10:]] == [0.1, 0.2, 0.3, 0.4, 0.5]


def test_an_unused_budget_refills_to_one_burst_and_no_more():
    clock = Clock()
    budget = RequestBudget(10, clock=clock)
    for _ in range(10):
        budget.turn()
    clock.now += 60

    delays = [budget.turn() for _ in range(11)]

    assert delays[:10] == [0.0] * 10
    assert round(delays[10], 3) == 0.1


def test_a_429_holds_every_request_of_the_connection_then_resumes_at_the_pace():
    clock = Clock()
    budget = RequestBudget(10, clock=clock)

    budget.hold(5.0)
    delays = [budget.turn() for _ in range(3)]

    assert [round(delay, 3) for delay in delays] == [5.0, 5.1, 5.2]


def test_a_slow_budget_spaces_every_request():
    clock = Clock()
    budget = RequestBudget(0.5, clock=clock)

    assert [budget.turn() for _ in range(3)] == [0.0, 2.0, 4.0]


def test_one_budget_per_connection_and_rate_in_a_loop():
    async def run() -> tuple[bool, bool, bool]:
        first = budget_for("connection", 10)
        return (
            first is budget_for("connection", 10),
            first is not budget_for("another connection", 10),
            budget_for("connection", 5).per_second == 5,
        )

    assert asyncio.run(run()) == (True, True, True)
