"""One poke-mode wait, as an Airflow worker runs it: a whole Python process per waiting session.

``python -m bench.poke_worker SESSION_ID [POKE_INTERVAL]`` imports Airflow and the provider's
sensor, then pokes until the session runs, exactly what a poke-mode task's process holds in
memory while it waits (a real Airflow 3 worker also runs a supervisor process per task, which
this does not count: the figure is a lower bound).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    session_id = args[0]
    interval = float(args[1]) if len(args) > 1 else 1.0

    import airflow  # noqa: F401  (what a worker process has loaded anyway)

    from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor

    sensor = CloudOSSessionSensor(task_id="wait", session_id=session_id, poke_interval=interval, timeout=600)
    print("POKING", flush=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if sensor.poke({}):
            print("DONE", flush=True)
            return 0
        time.sleep(interval)
    return 1


if __name__ == "__main__":
    sys.exit(main())
