"""triggers/kill_path.py: the pauses a killed task needs run to their end, and can be waited for."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_cloudos.triggers.kill_path import run_to_the_end, wait_for_kill_paths


@pytest.mark.asyncio
async def test_waiting_for_kill_paths_outlasts_one_that_failed() -> None:
    """One kill path that raised must not end the wait for the others (a triggerer shutting down
    waits for every pause still under way)."""
    fail, release = asyncio.Event(), asyncio.Event()
    paused: list[str] = []

    async def failing_pause() -> None:
        await fail.wait()
        raise RuntimeError("the pause request failed")

    async def slow_pause() -> None:
        await release.wait()
        paused.append("slow")

    callers = [asyncio.ensure_future(run_to_the_end(work())) for work in (failing_pause, slow_pause)]
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(wait_for_kill_paths())
    await asyncio.sleep(0)
    fail.set()
    await asyncio.sleep(0.05)
    assert not waiting.done(), "the wait ended while a pause was still under way"
    release.set()
    await asyncio.wait_for(waiting, 5)
    assert paused == ["slow"]
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(outcomes[0], RuntimeError)
    assert outcomes[1] is None


@pytest.mark.asyncio
async def test_a_kill_path_goes_on_when_its_caller_is_cancelled() -> None:
    release = asyncio.Event()
    paused: list[str] = []

    async def pause() -> None:
        await release.wait()
        paused.append("paused")

    caller = asyncio.ensure_future(run_to_the_end(pause()))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await asyncio.wait_for(wait_for_kill_paths(), 5)
    assert paused == ["paused"]
