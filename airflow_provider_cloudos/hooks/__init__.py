"""The provider's hook: ``from airflow_provider_cloudos.hooks import CloudOSHook``.

The name loads its module on first use (PEP 562), like the operators' package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_cloudos.hooks.cloudos import CloudOSHook

#: Public name → the module (in this package) that defines it.
_MODULES = {
    "CloudOSHook": "cloudos",
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


__all__ = ["CloudOSHook"]
