"""The soak's verdicts, as plain functions over what it observed, so each can be shown to fail.

The deployment test gathers evidence (request times from the simulator, task instances from
Airflow's REST API, memory from /proc) and hands it here; ``test_soak_checks.py`` feeds each
function the evidence a broken provider or a fault injection that never fired would leave, and
sees it refuse. Nothing here imports Airflow, so those tests run in the ordinary suite.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path


def first_after(times: Iterable[float], moment: float) -> float | None:
    """The earliest of ``times`` after ``moment`` (None when there is none)."""
    return min((t for t in times if t > moment), default=None)


def adoption_seconds(killed_at: float, polls: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Seconds from a triggerer's kill to the first poll of each of its sessions.

    A wait counts as adopted only when its session was polled after the kill: the killed
    triggerer was gone, so the poll came from the one that took the wait over. A session never
    polled after the kill fails the check, whatever Airflow's trigger table says.
    """
    seen = {session: first_after(times, killed_at) for session, times in polls.items()}
    unpolled = sorted(session for session, at in seen.items() if at is None)
    assert not unpolled, f"never polled after the kill (not adopted): {unpolled}"
    return {session: round(at - killed_at, 1) for session, at in seen.items() if at is not None}


def parse_api_time(value: str | None) -> float | None:
    """An Airflow REST API timestamp (ISO 8601, with offset) as epoch seconds."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def check_deadline_seen(
    end_time: float,
    pauses: Sequence[float],
    task_end: float | None,
    *,
    poll: float,
    threshold: float,
    resume: float,
) -> tuple[float, float]:
    """A wait whose deadline passed while no triggerer ran it ended by one poll plus the threshold.

    What a user sees: the session was paused (its first pause request) no earlier than the
    deadline and no later than ``poll + threshold`` after it, and the task ended after the
    deadline and at most ``resume`` after that pause (the event's trip back to a worker, which
    fails the task). Returns how late the pause and the task's end came, in seconds.
    """
    pause = first_after(pauses, end_time - 2 * poll)
    assert pause is not None, f"the session was never paused around its deadline ({end_time:.1f})"
    late = pause - end_time
    assert late >= 0, f"paused {-late:.1f}s before its deadline"
    assert late <= poll + threshold, f"paused {late:.1f}s after its deadline (limit {poll + threshold:.0f}s)"
    assert task_end is not None, "the task has no end date"
    ended = task_end - end_time
    assert ended >= 0, f"the task ended {-ended:.1f}s before its deadline"
    assert task_end - pause <= resume, (
        f"the task ended {task_end - pause:.1f}s after its pause (limit {resume:.0f}s)"
    )
    return round(late, 1), round(ended, 1)


def check_tries_unchanged(before: Mapping[str, int], after: Mapping[str, int]) -> None:
    """Adopted waits ran on: no retry may hide a broken adoption."""
    changed = {task: (before[task], after.get(task)) for task in before if after.get(task) != before[task]}
    assert not changed, f"tries changed across the triggerer kill (before, after): {changed}"


def check_faults_injected(injected: Mapping[str, int]) -> None:
    """Every kind of fault the soak claims to inject was injected at least once."""
    missing = sorted(kind for kind, count in injected.items() if count <= 0)
    assert not missing, f"faults never injected: {missing} ({dict(injected)})"


def check_request_ceiling(requests: Mapping[str, int], runs: int, ceiling: Mapping[str, float]) -> None:
    """Requests per run stay under a ceiling per endpoint: a wait that polls in a loop shows here."""
    over = {
        endpoint: round(requests.get(endpoint, 0) / runs, 1)
        for endpoint, limit in ceiling.items()
        if requests.get(endpoint, 0) > limit * runs
    }
    assert not over, f"requests per run over the ceiling {dict(ceiling)}: {over}"


def pss_kib(pids: Iterable[int]) -> int:
    """Proportional set size of processes, in KiB: shared pages counted once across them."""
    total = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:  # a process that ended between listing and reading
            continue
        total += next((int(line.split()[1]) for line in lines if line.startswith("Pss:")), 0)
    return total


def sampled_mib(measure: Callable[[], int], samples: int, interval: float) -> dict[str, float]:
    """``samples`` readings of ``measure`` (KiB), ``interval`` apart: their median, low and high in MiB."""
    readings = []
    for number in range(samples):
        if number:
            time.sleep(interval)
        readings.append(measure() / 1024)
    assert all(reading > 0 for reading in readings), f"no memory read: {readings}"
    return {
        "median": round(statistics.median(readings), 1),
        "min": round(min(readings), 1),
        "max": round(max(readings), 1),
    }
