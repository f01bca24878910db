"""The provider's triggers: ``from airflow_provider_cloudos.triggers import CloudOSSessionTrigger``.

Each name loads its module on first use (PEP 562): only the triggerer, or a task that defers,
pays for the triggers and their HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_cloudos.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_cloudos.triggers.fleet import CloudOSFleetTrigger
    from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

#: Public name → the module (in this package) that defines it.
_MODULES = {
    "CloudOSSessionTrigger": "sessions",
    "CloudOSFleetTrigger": "fleet",
    #: The fleet trigger's old name, an alias: deferred tasks' rows may still name it.
    "CloudOSSessionsTrigger": "fleet",
}


__getattr__, __dir__ = lazy_exports(__name__, _MODULES)

__all__ = ["CloudOSFleetTrigger", "CloudOSSessionTrigger"]
