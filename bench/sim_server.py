"""The simulator in its own process, driven over stdin/stdout with one JSON object per line.

A benchmark must not count the server's CPU and memory as the client's, so the simulator runs
here and the benchmark talks to it with small commands:

``{"cmd": "add", "n": 1000, "status": "scheduled"}``
    add sessions directly (no HTTP request counted); answers ``{"ids": [...]}``.
``{"cmd": "reset"}``
    zero the request and connection counters.
``{"cmd": "counters"}``
    the counters' snapshot.
``{"cmd": "usage"}``
    this process's CPU seconds and RSS, to show whether the server was the bottleneck.
``{"cmd": "faults", ...}``
    set fault knobs (``error_rate``, ``drop_rate``, ``rate_limit_rate``, ``retry_after``...).
``{"cmd": "session", "id": ID}``
    the session as the API would show it now.
``{"cmd": "stop"}``
    stop and exit.

The first line written is ``{"url": ..., "connection": ..., ...}`` once the server listens.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from collections.abc import Sequence
from typing import Any

from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings
from bench.common import raise_open_files, rss_bytes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.sim_server")
    for name in ("scheduled", "setup", "initialising", "aborting", "resume_initialising"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=0.05)
    parser.add_argument("--backlog", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def _answer(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _handle(sim: CloudOSSimulator, command: dict[str, Any]) -> dict[str, Any] | None:
    name = command.get("cmd")
    if name == "add":
        status = str(command.get("status", "scheduled"))
        prefix = str(command.get("name", "bench"))
        ids = [sim.add_session(name=f"{prefix}-{i}", status=status)["_id"] for i in range(int(command["n"]))]
        return {"ids": ids}
    if name == "reset":
        sim.counters.reset()
        return {"ok": True}
    if name == "counters":
        return sim.counters.snapshot()
    if name == "usage":
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"cpu_seconds": usage.ru_utime + usage.ru_stime, "rss_bytes": rss_bytes()}
    if name == "faults":
        for knob, value in command.items():
            if knob != "cmd":
                setattr(sim.faults, knob, value)
        return {"ok": True}
    if name == "clear_faults":
        sim.faults.clear()
        return {"ok": True}
    if name == "session":
        return sim.session(str(command["id"]))
    if name == "stop":
        return None
    return {"error": f"unknown command {name!r}"}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    raise_open_files()
    timings = StateTimings(
        scheduled=args.scheduled,
        setup=args.setup,
        initialising=args.initialising,
        aborting=args.aborting,
        resume_initialising=args.resume_initialising,
    )
    with CloudOSSimulator(timings=timings, backlog=args.backlog, seed=args.seed) as sim:
        _answer(
            {
                "url": sim.url,
                "workspace_id": sim.workspace_id,
                "connection": sim.connection_json(),
                "project_id": sim.project_id,
                "project_name": sim.project_name,
            }
        )
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                answer = _handle(sim, json.loads(line))
            except Exception as error:  # report to the driver, keep serving
                answer = {"error": f"{type(error).__name__}: {error}"}
            if answer is None:
                _answer({"ok": True})
                break
            _answer(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
