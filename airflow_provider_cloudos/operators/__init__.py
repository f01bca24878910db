"""The provider's operators: ``from airflow_provider_cloudos.operators import CloudOSCreateSessionOperator``.

Each name loads its module on first use (PEP 562): a DAG file using the session operators does not
load the fleet module, and none loads an HTTP library or a trigger (``test_operators_import.py``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_cloudos.operators.block import (
        CloudOSBlockPauseOperator,
        CloudOSBlockResumeOperator,
        CloudOSSessionBlockGuard,
    )
    from airflow_provider_cloudos.operators.fleet import (
        CloudOSPauseSessionsOperator,
        CloudOSSessionReportOperator,
    )
    from airflow_provider_cloudos.operators.sessions import (
        CloudOSCreateSessionOperator,
        CloudOSResumeSessionOperator,
        CloudOSStopSessionOperator,
    )

#: Public name → the module (in this package) that defines it.
_MODULES = {
    "CloudOSBlockPauseOperator": "block",
    "CloudOSBlockResumeOperator": "block",
    "CloudOSSessionBlockGuard": "block",
    "CloudOSCreateSessionOperator": "sessions",
    "CloudOSPauseSessionsOperator": "fleet",
    "CloudOSResumeSessionOperator": "sessions",
    "CloudOSSessionReportOperator": "fleet",
    "CloudOSStopSessionOperator": "sessions",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})


__all__ = [
    "CloudOSBlockPauseOperator",
    "CloudOSBlockResumeOperator",
    "CloudOSCreateSessionOperator",
    "CloudOSPauseSessionsOperator",
    "CloudOSResumeSessionOperator",
    "CloudOSSessionBlockGuard",
    "CloudOSSessionReportOperator",
    "CloudOSStopSessionOperator",
]
