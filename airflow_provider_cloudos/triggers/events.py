"""The statuses of the one event a CloudOS trigger yields, one per way a wait can end.

Apart from the triggers so that the operators and the sensor can read events without importing
a trigger module (and ``airflow.triggers.base`` with it) when a DAG file is parsed.
"""

from __future__ import annotations

SUCCESS = "success"
FAILURE = "failure"
TIMEOUT = "timeout"
ERROR = "error"
#: The session's cost or runtime reached ``max_cost_usd``/``max_runtime_seconds`` while waiting.
GUARD = "guard"
EVENT_STATUSES = frozenset({SUCCESS, FAILURE, TIMEOUT, ERROR, GUARD})

__all__ = ["ERROR", "EVENT_STATUSES", "FAILURE", "GUARD", "SUCCESS", "TIMEOUT"]
