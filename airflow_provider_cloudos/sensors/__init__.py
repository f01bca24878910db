"""The provider's sensor: ``from airflow_provider_cloudos.sensors import CloudOSSessionSensor``.

The name loads its module on first use (PEP 562), like the operators' package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_cloudos.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor

#: Public name → the module (in this package) that defines it.
_MODULES = {
    "CloudOSSessionSensor": "sessions",
}


__getattr__, __dir__ = lazy_exports(__name__, _MODULES)

__all__ = ["CloudOSSessionSensor"]
