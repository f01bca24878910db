"""What every benchmark shares: the machine's description, result files, memory and CPU probes.

Results are JSON files under ``bench/results/``; each carries the machine it ran on, the date
and the command that reproduces it, so a figure in BENCHMARKS.md can always be traced back.
Memory is read from ``/proc`` (Linux) because the figures that matter are the kernel's: the
resident set of a process, and its peak (``VmHWM``), which ``/proc/self/clear_refs`` can reset
so that a warm-up does not count.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
#: Where results go; ``python -m bench --quick`` points it elsewhere so published figures stay.
RESULTS_DIR = Path(os.environ.get("CLOUDOS_BENCH_RESULTS") or BENCH_DIR / "results")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ---- the machine ------------------------------------------------------------------------------


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _memory_total_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def machine_info() -> dict[str, Any]:
    """The facts a reader needs to compare a figure with their own machine."""
    memory = _memory_total_bytes()
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "airflow": _version("apache-airflow"),
        "aiohttp": _version("aiohttp"),
        "requests": _version("requests"),
        "provider": _version("airflow-provider-cloudos"),
    }


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that reproduces a result, as typed from the repository root."""
    args = list(sys.argv[1:] if argv is None else argv)
    module = sys.modules["__main__"].__spec__
    entry = f"-m {module.name}" if module is not None else shlex.quote(sys.argv[0])
    return " ".join([".venv/bin/python", entry, *map(shlex.quote, args)])


def write_result(name: str, data: dict[str, Any], *, command: str | None = None) -> Path:
    """Write ``bench/results/<name>.json`` atomically, with machine, date and command."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "date": now_utc(),
        "command": command or command_line(),
        "machine": machine_info(),
        **data,
    }
    path = RESULTS_DIR / f"{name}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def read_result(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


# ---- statistics -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def summary_ms(values_seconds: Iterable[float]) -> dict[str, Any]:
    """p50/p99/max (and count) of durations given in seconds, reported in milliseconds."""
    values = list(values_seconds)
    if not values:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "count": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(max(values)),
    }


# ---- memory and CPU -----------------------------------------------------------------------------


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size now."""
    with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * PAGE_SIZE


def peak_rss_bytes(pid: int | str = "self") -> int:
    """Peak resident set size (``VmHWM``) since start or since :func:`reset_peak_rss`."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> bool:
    """Make ``VmHWM`` start again from the current RSS (Linux 4.0+); False when refused."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raise_open_files(wanted: int = 65536) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (capped by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def kib(value: float | None) -> float | None:
    return None if value is None else round(value / 1024, 1)


def mib(value: float | None) -> float | None:
    return None if value is None else round(value / 2**20, 1)


# ---- subprocess environment ---------------------------------------------------------------------

_AIRFLOW_HOME: str | None = None


def bench_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a benchmark subprocess: the repo importable, a throw-away Airflow home.

    Bytecode writing is allowed (see below). The Airflow home is a fresh temporary directory so
    a benchmark never reads or writes the user's ``~/airflow``; the simulator is on 127.0.0.1, so
    no proxy may intercept.
    """
    global _AIRFLOW_HOME
    if _AIRFLOW_HOME is None:
        _AIRFLOW_HOME = tempfile.mkdtemp(prefix="cloudos-bench-airflow-home-")
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")])),
            "AIRFLOW_HOME": env.get("CLOUDOS_BENCH_AIRFLOW_HOME", _AIRFLOW_HOME),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    # Installed packages come with compiled bytecode (pip compiles it); the provider, run from
    # the work tree, gets the same only if Python may write it. Without this, every import of
    # the provider would be timed with its compilation and the comparison would be unfair.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if extra:
        env.update(extra)
    return env


class Stopwatch:
    """Monotonic seconds since creation."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.started
