"""The provider's operators: ``from airflow_provider_cloudos.operators import CloudOSCreateSessionOperator``.

Each name loads its module on first use (PEP 562): a DAG file using the session operators does not
load the fleet module, and none loads an HTTP library or a trigger (``test_operators_import.py``).
"""

# ruff: noqa: F401  (the imports for type checkers are the exports: see __all__ at the end)
from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_cloudos.lazy_exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _MODULES)

__all__ = sorted(_MODULES)
