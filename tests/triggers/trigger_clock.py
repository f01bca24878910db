"""A stand-in clock for a trigger module, so that its waits run without waiting.

A trigger reads the time through its module's ``time`` and pauses through its module's ``asyncio``;
``TriggerClock`` replaces both. Each sleep is recorded with the number of status polls sent before it
and returns at once. Whether a sleep moves the clock is the one choice a test makes: a clock that
stands still keeps every ``elapsed`` equal to what the test set up, and a clock that sleeps move
reaches a deadline after exactly the intervals the trigger chose.
"""

from __future__ import annotations

import asyncio
import time
from types import ModuleType
from typing import Any

import pytest

from airflow_provider_cloudos.testing import CloudOSSimulator


class TriggerClock:
    """A trigger module's ``time`` and ``asyncio``; all but ``time()`` and ``sleep()`` is the real one."""

    def __init__(
        self, sim: CloudOSSimulator, *, sleeps_move_time: bool, max_sleeps: int | None = None
    ) -> None:
        # A whole minute: the waits' steps (multiples of their interval) fall where plain sleeps would.
        self.now = float(int(time.time() // 60 * 60))
        self.sim = sim
        self.sleeps: list[tuple[float, int]] = []
        self._sleeps_move_time = sleeps_move_time
        self._max_sleeps = max_sleeps

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append((seconds, self.sim.counters.requests("get")))
        if self._max_sleeps is not None:
            assert len(self.sleeps) <= self._max_sleeps, "the trigger keeps polling past its deadline"
        if self._sleeps_move_time:
            self.now += seconds
        await asyncio.sleep(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    def install(self, module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> TriggerClock:
        """Stand in for ``module``'s ``time`` and ``asyncio`` for the rest of the test."""
        monkeypatch.setattr(module, "time", self)
        monkeypatch.setattr(module, "asyncio", self)
        return self
