"""Benchmark 3: HTTP requests and TCP connections of one full session lifecycle, per step.

``python -m bench.http_efficiency [--poll-interval 1.0]``

create → running → stop → paused → resume → running → stop → paused, through the operators,
once in sync mode and once deferrable (execute defers, the trigger runs to its event, the
resume method runs on a fresh operator, as in Airflow). The simulator counts requests by
endpoint and accepted TCP connections; the clients' ``_send`` is wrapped (in this process
only) to note what each request told the task.

A request is *uninformative* when it is a status read that returned what the task already knew,
less than half a poll interval after it learned it: not a scheduled poll, just a re-read (for
example the first poll of a wait straight after the create response said ``scheduled``).
Writes ``bench/results/http_efficiency.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from bench.common import write_result
from bench.taskrun import run_operator

STATUS_ENDPOINTS = ("get", "create", "resume")
_INSTRUMENTED: list[bool] = []


class RequestLog:
    """Every request the clients send, with the status it reported, in order."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.phase = "execute"
        self.step = ""

    def note(self, transport: str, name: str, status: str | None) -> None:
        self.entries.append(
            {
                "t": time.monotonic(),
                "step": self.step,
                "phase": self.phase,
                "transport": transport,
                "endpoint": name,
                "status": status,
            }
        )


LOG = RequestLog()


def _status_of(body: Any) -> str | None:
    try:
        payload = json.loads(body)
    except (TypeError, ValueError):
        return None
    if isinstance(payload, dict) and isinstance(payload.get("status"), str):
        from airflow_provider_cloudos.core.status import map_status

        return map_status(payload["status"])
    return None


def instrument(log: RequestLog) -> None:
    """Wrap both clients' ``_send`` (this process only) to log each request and its answer."""
    from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient
    from airflow_provider_cloudos.client.sync import CloudOSClient

    sync_send = CloudOSClient._send
    async_send = AsyncCloudOSClient._send

    def logged_sync(self: Any, request: Any, **kwargs: Any) -> Any:
        response = sync_send(self, request, **kwargs)
        body = response if isinstance(response, bytes) else response.content  # the body, or a Response
        status = _status_of(body) if request.name in STATUS_ENDPOINTS else None
        log.note("sync", request.name, status)
        return response

    async def logged_async(self: Any, request: Any, **kwargs: Any) -> Any:
        body = await async_send(self, request, **kwargs)
        status = _status_of(body) if request.name in STATUS_ENDPOINTS else None
        log.note("async", request.name, status)
        return body

    CloudOSClient._send = logged_sync  # type: ignore[method-assign]
    AsyncCloudOSClient._send = logged_async  # type: ignore[method-assign]


def classify(entries: list[dict[str, Any]], poll_interval: float) -> list[dict[str, Any]]:
    """Mark each request informative or not, from what the task knew before it (per step)."""
    known: str | None = None
    learned_at = 0.0
    step = None
    for entry in entries:
        if entry["step"] != step:
            step, known, learned_at = entry["step"], None, 0.0
        entry["uninformative"] = False
        if entry["endpoint"] == "get" and known is not None:
            soon = entry["t"] - learned_at < poll_interval / 2
            if entry["status"] == known and soon:
                entry["uninformative"] = True
                entry["why"] = (
                    f"re-read {known!r} {1000 * (entry['t'] - learned_at):.0f} ms after learning it"
                )
        if entry["endpoint"] in STATUS_ENDPOINTS and entry["status"] is not None:
            if entry["status"] != known or not entry["uninformative"]:
                learned_at = entry["t"]
            known = entry["status"]
        elif entry["endpoint"] == "abort":
            known, learned_at = None, entry["t"]
    return entries


def run_lifecycle(deferrable: bool, poll_interval: float) -> dict[str, Any]:
    from airflow_provider_cloudos.operators.sessions import (
        CloudOSCreateSessionOperator,
        CloudOSResumeSessionOperator,
        CloudOSStopSessionOperator,
    )
    from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

    timings = StateTimings(scheduled=1.0, setup=1.0, initialising=1.0, aborting=2.0, resume_initialising=2.0)
    log = LOG
    if not _INSTRUMENTED:
        instrument(log)
        _INSTRUMENTED.append(True)
    log.entries.clear()
    steps: list[dict[str, Any]] = []
    with CloudOSSimulator(timings=timings) as sim:
        os.environ["AIRFLOW_CONN_CLOUDOS_DEFAULT"] = sim.connection_json()
        common: dict[str, Any] = {"deferrable": deferrable, "poll_interval": poll_interval, "timeout": 120}
        session_id: str | None = None

        def session() -> str:
            assert session_id is not None
            return session_id

        plan: list[tuple[str, Callable[[], Any]]] = [
            (
                "create",
                lambda: CloudOSCreateSessionOperator(
                    task_id="create", name="bench-lifecycle", project_name=sim.project_name, **common
                ),
            ),
            ("stop", lambda: CloudOSStopSessionOperator(task_id="stop", session_id=session(), **common)),
            (
                "resume",
                lambda: CloudOSResumeSessionOperator(task_id="resume", session_id=session(), **common),
            ),
            (
                "stop again",
                lambda: CloudOSStopSessionOperator(task_id="stop_again", session_id=session(), **common),
            ),
        ]
        for name, make in plan:
            before = sim.counters.snapshot()
            log.step = name
            started = time.monotonic()

            def phase(value: str) -> None:
                log.phase = value

            result = run_operator(make, on_phase=phase)
            if name == "create":
                session_id = str(result)
            after = sim.counters.snapshot()
            requests = {
                endpoint: after["requests"][endpoint] - before["requests"][endpoint]
                for endpoint in after["requests"]
                if after["requests"][endpoint] - before["requests"][endpoint]
            }
            steps.append(
                {
                    "step": name,
                    "seconds": round(time.monotonic() - started, 2),
                    "requests": requests,
                    "total_requests": sum(requests.values()),
                    "tcp_connections_opened": after["connections_accepted"] - before["connections_accepted"],
                    "final_status": sim.session(session()).get("status"),
                }
            )
    entries = classify(list(log.entries), poll_interval)
    for step in steps:
        mine = [e for e in entries if e["step"] == step["step"]]
        step["by_phase"] = dict(Counter(f"{e['phase']}:{e['endpoint']}" for e in mine))
        step["uninformative"] = [
            {"phase": e["phase"], "endpoint": e["endpoint"], "why": e["why"]}
            for e in mine
            if e["uninformative"]
        ]
        step["sequence"] = [
            f"{e['phase']}:{e['endpoint']}{'=' + e['status'] if e['status'] else ''}" for e in mine
        ]
    return {
        "mode": "deferrable" if deferrable else "sync",
        "steps": steps,
        "total_requests": sum(s["total_requests"] for s in steps),
        "total_tcp_connections": sum(s["tcp_connections_opened"] for s in steps),
        "total_uninformative": sum(len(s["uninformative"]) for s in steps),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_efficiency", description=__doc__)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    modes = []
    for deferrable in (False, True):
        print(f"-- lifecycle, {'deferrable' if deferrable else 'sync'}", flush=True)
        result = run_lifecycle(deferrable, args.poll_interval)
        modes.append(result)
        for step in result["steps"]:
            print(
                f"   {step['step']:<10} requests={step['requests']} tcp={step['tcp_connections_opened']} "
                f"uninformative={len(step['uninformative'])}",
                flush=True,
            )
    write_result(
        "http_efficiency",
        {
            "parameters": {
                "poll_interval_seconds": args.poll_interval,
                "simulator_timings": "scheduled 1 s, setup 1 s, initialising 1 s, aborting 2 s, resume 2 s",
            },
            "modes": modes,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
