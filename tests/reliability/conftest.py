"""Fixtures of the reliability harness: fast retries, the artefact scan, and the harness report.

Every harness test is scanned for the sentinel API key: the ``artefacts`` fixture is autouse
and, when the test ends, fails it if the key shows up in any log line (std logging and
structlog), XCom, trigger kwargs, event, exception or repr the test produced.

With ``CLOUDOS_HARNESS_REPORT=path`` the figures (lifecycles run, faults injected, sessions
leaked...) are written to that JSON file when the session ends; ``python -m bench.report``
turns it into the table in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from reliability_helpers import REPORT, Artefacts, TaskDriver, record

from airflow_provider_cloudos.client import settings, transport
from airflow_provider_cloudos.client.transport import RetryPolicy

#: The product's retry policy with its timings scaled down; attempts and rules are unchanged.
FAST_POLICY = replace(RetryPolicy(), backoff_base=0.01, backoff_max=0.05, retry_after_max=0.2)


@pytest.fixture(autouse=True)
def fast_retry_policy(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    """Clients build ``RetryPolicy()`` by default (``client.transport``), and a connection's policy starts
    from it (``client.settings``); in this test process both are the fast one."""

    def fast_policy(**overrides: Any) -> RetryPolicy:
        return replace(FAST_POLICY, **overrides)

    monkeypatch.setattr(transport, "RetryPolicy", fast_policy)
    monkeypatch.setattr(settings, "RetryPolicy", fast_policy)
    return FAST_POLICY


@pytest.fixture(scope="session", autouse=True)
def harness_report() -> Iterator[dict[str, Any]]:
    started = time.monotonic()
    yield REPORT
    path = os.environ.get("CLOUDOS_HARNESS_REPORT")
    if not path:
        return
    document = {
        "benchmark": "reliability_harness",
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "CLOUDOS_HARNESS_REPORT=bench/results/harness.json .venv/bin/pytest tests/reliability",
        "machine": {
            "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "python": platform.python_version(),
            "airflow": metadata.version("apache-airflow"),
        },
        "duration_seconds": round(time.monotonic() - started, 1),
        **REPORT,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@pytest.fixture(autouse=True)
def artefacts(log_lines: Callable[[], list[str]], sentinel_api_key: str) -> Iterator[Artefacts]:
    """Collects what the test produced; afterwards no piece of it may contain the API key."""
    collected = Artefacts()
    yield collected
    lines = log_lines()
    leaks = collected.leaks(sentinel_api_key) + [("log", line) for line in lines if sentinel_api_key in line]
    record(
        "secrets",
        tests_scanned=1,
        log_lines_scanned=len(lines),
        artefacts_scanned=sum(collected.counts().values()),
        leaks=len(leaks),
        **{f"{kind}_scanned": count for kind, count in collected.counts().items()},
    )
    assert not leaks, f"the API key leaked into: {leaks[:3]}"


@pytest.fixture
def driver(artefacts: Artefacts) -> TaskDriver:
    return TaskDriver(artefacts)
