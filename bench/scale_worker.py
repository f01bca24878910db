"""One measured process of the waiting-at-scale benchmark: N waits, the async way or the blocking way.

Started by :mod:`bench.wait_at_scale` in a fresh interpreter per run, so that one run's memory
never inflates the next. The protocol on stdin/stdout:

1. the worker imports everything and completes one warm-up wait (so lazy imports and first-use
   caches are paid before the baseline), then prints ``READY <baseline RSS>``;
2. the driver adds N sessions to the simulator, zeroes its counters and writes one JSON line
   ``{"ids": [...], "poll_interval": 1.0, "deadline_seconds": 300}``;
3. the worker waits for all of them and prints one JSON line with its measurements.

Modes:

``trigger``
    N :class:`CloudOSSessionTrigger` runs in ONE asyncio loop, as the triggerer runs them, each
    reading its connection through Airflow's async API (``AIRFLOW_CONN_CLOUDOS_DEFAULT``). A
    heartbeat task sleeping 10 ms measures how late the loop wakes it (the loop lag).
``trigger-per-wait``
    The same, with the shared reader and the request budget turned off: every wait reads its own
    session, unpaced, as before they existed.
``threads``
    N threads each polling with ``requests`` the way the official client's watch loop does: a
    new ``requests.Session`` (with its own retrying adapter) for every poll, then ``time.sleep``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.common import (
    cpu_seconds,
    peak_rss_bytes,
    raise_open_files,
    reset_peak_rss,
    rss_bytes,
    summary_ms,
)

HEARTBEAT_SECONDS = 0.010
SAMPLE_SECONDS = 0.2
#: Lag samples from the first seconds, when every wait opens its connection at once, are
#: reported apart from the steady state.
STARTUP_SECONDS = 5.0


class MemorySampler(threading.Thread):
    """Samples this process's RSS every 200 ms, for the timeline and the steady-state figure."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self._clock = clock
        self._halt = threading.Event()
        self.samples: list[tuple[float, int]] = []

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((round(self._clock(), 3), rss_bytes()))
            self._halt.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._halt.set()
        self.join()


class GcClock:
    """Time spent in the cyclic garbage collector, per generation (it stops the whole loop)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self.longest = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        spent = time.perf_counter() - self._started
        generation = int(info.get("generation", 0))
        self.seconds[generation] += spent
        self.collections[generation] += 1
        self.longest = max(self.longest, spent)

    def summary(self) -> dict[str, Any]:
        return {
            "collections_by_generation": self.collections,
            "seconds_by_generation": [round(value, 3) for value in self.seconds],
            "longest_pause_ms": round(self.longest * 1000, 1),
        }


def _steady_rss(samples: list[tuple[float, int]], start: float, end: float) -> int | None:
    """Median RSS between ``start`` and ``end`` seconds (all sessions waiting, none finished)."""
    values = sorted(rss for moment, rss in samples if start <= moment <= end)
    return values[len(values) // 2] if values else None


# ---- the async way: triggers in one loop ----------------------------------------------------------


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    return {"status": "no event"}


def _make_trigger(session_id: str, poll_interval: float, deadline_seconds: float) -> Any:
    from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

    return CloudOSSessionTrigger(
        session_id=session_id,
        end_time=time.time() + deadline_seconds,
        poll_interval=poll_interval,
    )


async def _heartbeat(
    clock: Callable[[], float], lags: list[tuple[float, float]], stop: asyncio.Event
) -> None:
    """Sleep 10 ms again and again; each oversleep is the loop's lag (dated by when it began)."""
    while not stop.is_set():
        began = clock()
        before = time.perf_counter()
        await asyncio.sleep(HEARTBEAT_SECONDS)
        lags.append((began, time.perf_counter() - before - HEARTBEAT_SECONDS))


async def _run_triggers(
    ids: list[str], poll_interval: float, deadline_seconds: float, *, stagger: float
) -> dict[str, Any]:
    spread = random.Random(0)
    started = time.perf_counter()

    def clock() -> float:
        return time.perf_counter() - started

    sampler = MemorySampler(clock)
    lags: list[tuple[float, float]] = []
    stop = asyncio.Event()
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    cpu_before = cpu_seconds()
    sampler.start()
    heartbeat = asyncio.create_task(_heartbeat(clock, lags, stop))
    done_at: list[float] = []
    done_wall: list[float] = []

    async def wait_one(session_id: str) -> dict[str, Any]:
        if stagger:
            await asyncio.sleep(spread.uniform(0, stagger))
        event = await _first_event(_make_trigger(session_id, poll_interval, deadline_seconds))
        done_at.append(clock())
        done_wall.append(time.time())
        return event

    events = await asyncio.gather(*(wait_one(session_id) for session_id in ids))
    stop.set()
    await heartbeat
    cpu_used = cpu_seconds() - cpu_before
    gc.callbacks.remove(gc_clock)
    elapsed = clock()
    sampler.stop()
    first_done = min(done_at) if done_at else elapsed
    correct = sum(
        1
        for session_id, event in zip(ids, events, strict=True)
        if event.get("status") == "success"
        and event.get("session_status") == "running"
        and event.get("session_id") == session_id
    )
    statuses: dict[str, int] = {}
    for event in events:
        key = str(event.get("status"))
        statuses[key] = statuses.get(key, 0) + 1
    all_lags = [lag for _, lag in lags]
    steady = [lag for moment, lag in lags if STARTUP_SECONDS <= moment < first_done]
    startup = [lag for moment, lag in lags if moment < STARTUP_SECONDS]
    worst = max(lags, key=lambda sample: sample[1]) if lags else (0.0, 0.0)
    return {
        "events_correct": correct,
        "event_statuses": statuses,
        "example_failure": next((e for e in events if e.get("status") != "success"), None),
        "elapsed_seconds": round(elapsed, 2),
        "first_event_seconds": round(first_done, 2),
        "last_event_seconds": round(max(done_at) if done_at else elapsed, 2),
        "cpu_seconds": round(cpu_used, 3),
        "loop_lag": summary_ms(all_lags),
        "loop_lag_startup": summary_ms(startup),
        "loop_lag_steady": summary_ms(steady),
        "worst_lag_began_at_seconds": round(worst[0], 2),
        "garbage_collector": gc_clock.summary(),
        "heartbeats_expected": int(elapsed / HEARTBEAT_SECONDS),
        "rss_samples": sampler.samples,
        "steady_window": [STARTUP_SECONDS, round(first_done, 2)],
        "event_wall_times": done_wall,
    }


# ---- the blocking way: a thread per wait, polling like the official client -------------------------


def _official_style_get(url: str, params: dict[str, str], headers: dict[str, str]) -> Any:
    """One poll as the official client makes it: a new Session and retrying adapter per call."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    session = requests.Session()
    adapter = HTTPAdapter(max_retries=Retry(total=5, status_forcelist=[429, 500, 502, 503, 504]))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session.get(url, params=params, headers=headers, timeout=60)


def _run_threads(ids: list[str], poll_interval: float, deadline_seconds: float) -> dict[str, Any]:
    from airflow_provider_cloudos.core.status import map_status

    connection = json.loads(os.environ["AIRFLOW_CONN_CLOUDOS_DEFAULT"])
    base = connection["host"].rstrip("/")
    workspace = connection["extra"]["workspace_id"]
    headers = {"apikey": connection["password"], "Content-Type": "application/json"}
    started = time.perf_counter()

    def clock() -> float:
        return time.perf_counter() - started

    results: dict[str, str] = {}
    request_seconds: list[float] = []
    sleep_overshoot: list[float] = []
    done_at: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.time() + deadline_seconds

    def watch(session_id: str) -> None:
        url = f"{base}/api/v2/interactive-sessions/{session_id}"
        status = "unknown"
        while time.time() < deadline:
            before = time.perf_counter()
            try:
                response = _official_style_get(url, {"teamId": workspace}, headers)
                status = map_status(response.json().get("status"))
            except Exception as error:
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
            after = time.perf_counter()
            with lock:
                request_seconds.append(after - before)
            if status in ("running", "paused", "terminated"):
                break
            time.sleep(poll_interval)
            with lock:
                sleep_overshoot.append(time.perf_counter() - after - poll_interval)
        with lock:
            results[session_id] = status
            done_at.append(clock())

    sampler = MemorySampler(clock)
    cpu_before = cpu_seconds()
    sampler.start()
    threads = [threading.Thread(target=watch, args=(session_id,), daemon=True) for session_id in ids]
    started_threads = 0
    thread_error = None
    for thread in threads:
        try:
            thread.start()
        except RuntimeError as error:  # "can't start new thread"
            thread_error = str(error)
            break
        started_threads += 1
    peak_threads = threading.active_count()
    for thread in threads[:started_threads]:
        thread.join()
    cpu_used = cpu_seconds() - cpu_before
    elapsed = clock()
    sampler.stop()
    first_done = min(done_at) if done_at else elapsed
    correct = sum(1 for session_id in ids if results.get(session_id) == "running")
    return {
        "events_correct": correct,
        "threads_started": started_threads,
        "thread_start_error": thread_error,
        "peak_threads": peak_threads,
        "errors": len(errors),
        "example_error": errors[0] if errors else None,
        "elapsed_seconds": round(elapsed, 2),
        "first_event_seconds": round(first_done, 2),
        "last_event_seconds": round(max(done_at) if done_at else elapsed, 2),
        "cpu_seconds": round(cpu_used, 3),
        "request_latency": summary_ms(request_seconds),
        "sleep_overshoot": summary_ms(sleep_overshoot),
        "rss_samples": sampler.samples,
        "steady_window": [STARTUP_SECONDS, round(first_done, 2)],
    }


# ---- warm-up, baseline and the protocol --------------------------------------------------------------


def _connection_lookup_cost(repeats: int = 300) -> dict[str, Any]:
    """Per-trigger cost of reading the connection through Airflow's async API (sequential calls)."""
    from airflow_provider_cloudos.hooks.cloudos import CloudOSHook

    async def measure() -> dict[str, Any]:
        hook = CloudOSHook()
        cpu, wall = cpu_seconds(), time.perf_counter()
        for _ in range(repeats):
            await hook.aget_settings()
        lookup_cpu, lookup_wall = cpu_seconds() - cpu, time.perf_counter() - wall
        cpu, wall = cpu_seconds(), time.perf_counter()
        for _ in range(repeats):
            client = await CloudOSHook().get_async_client()
            await client.close()
        build_cpu, build_wall = cpu_seconds() - cpu, time.perf_counter() - wall
        return {
            "aget_settings_ms": round(lookup_wall / repeats * 1000, 3),
            "aget_settings_cpu_ms": round(lookup_cpu / repeats * 1000, 3),
            "get_async_client_ms": round(build_wall / repeats * 1000, 3),
            "get_async_client_cpu_ms": round(build_cpu / repeats * 1000, 3),
        }

    return asyncio.run(measure())


def _warm_up(mode: str, warm_id: str) -> None:
    if mode.startswith("trigger"):
        event = asyncio.run(_first_event(_make_trigger(warm_id, 0.05, 30)))
        if event.get("status") != "success":
            raise RuntimeError(f"warm-up wait failed: {event}")
    else:
        _run_threads([warm_id], 0.05, 30)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_worker")
    parser.add_argument("--mode", choices=("trigger", "trigger-per-wait", "threads"), required=True)
    parser.add_argument("--warm-id", required=True, help="a session that is already running")
    args = parser.parse_args(argv)
    # The protocol keeps the real stdout; anything else printed (logs) goes to stderr.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    raise_open_files()
    if args.mode.startswith("trigger"):
        import airflow_provider_cloudos.triggers.sessions
        from airflow_provider_cloudos.client import shared_reads

        if args.mode == "trigger-per-wait":
            # Bench only, as before the reader and the budget existed: no round is ever listed,
            # and the connection's requests are not paced.
            from airflow_provider_cloudos.client import settings

            shared_reads.SOLO_ASKS = sys.maxsize
            settings.DEFAULT_REQUESTS_PER_SECOND = 1e9
    else:
        import requests  # noqa: F401

        import airflow_provider_cloudos.core.status  # noqa: F401
    _warm_up(args.mode, args.warm_id)
    lookup = _connection_lookup_cost() if args.mode.startswith("trigger") else None
    gc.collect()
    time.sleep(0.5)
    baseline = rss_bytes()
    peak_reset = reset_peak_rss()
    print(f"READY {baseline}", file=protocol, flush=True)
    order_line = sys.stdin.readline()
    order = json.loads(order_line)
    if order.get("gc_freeze"):
        # Prototype (bench only): what Airflow's DAG processor does after start-up; the objects
        # that exist now (Airflow's modules, settings...) are never scanned by the collector again.
        gc.freeze()
    ids: list[str] = order["ids"]
    poll_interval = float(order["poll_interval"])
    deadline_seconds = float(order["deadline_seconds"])
    if args.mode.startswith("trigger"):
        result = asyncio.run(
            _run_triggers(
                ids,
                poll_interval,
                deadline_seconds,
                stagger=float(order.get("stagger", 0.0)),
            )
        )
        result["connection_lookup"] = lookup
    else:
        result = _run_threads(ids, poll_interval, deadline_seconds)
    samples = result["rss_samples"]
    steady = _steady_rss(samples, *result["steady_window"])
    result.update(
        {
            "mode": args.mode,
            "n": len(ids),
            "baseline_rss_bytes": baseline,
            "peak_rss_bytes": peak_rss_bytes() if peak_reset else max(rss for _, rss in samples),
            "peak_from": "VmHWM after clear_refs" if peak_reset else "200 ms samples",
            "steady_rss_bytes": steady,
        }
    )
    print(json.dumps(result), file=protocol, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
