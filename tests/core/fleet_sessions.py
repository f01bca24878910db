"""A session object shaped like the API's, with only the fields the fleet core reads."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def session(
    name: str = "analysis",
    status: str = "ready",
    *,
    session_id: str = "a" * 24,
    cost: float | None = 1.0,
    runtime: float | None = 600,
    shutdown: str | None = None,
    **extra,
) -> dict:
    """A session object shaped like the API's (only the fields the fleet code reads)."""
    data = {
        "_id": session_id,
        "name": name,
        "status": status,
        "interactiveSessionType": "awsJupyterNotebook",
        "user": {"name": "Ada", "surname": "Lovelace", "email": "ada@example.org"},
        "project": {"_id": "b" * 24, "name": "genomics"},
        "resources": {"instanceType": "c5.xlarge", "isCostSaving": False, "storageSizeInGb": 500},
        "totalCostInUsd": cost,
        "totalRunningTimeInSeconds": runtime,
        "execution": {"computeCostLimit": -1, "autoShutdownAtDate": shutdown},
    }
    data.update(extra)
    return data
