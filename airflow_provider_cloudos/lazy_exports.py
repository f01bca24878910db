"""Package names that load their module on first use (PEP 562), shared by the subpackages.

A DAG file that imports one operator should not pay for the fleet module, an HTTP library or a
trigger; so each subpackage lists its public names and the module of each, and this builds the
module-level ``__getattr__`` and ``__dir__`` that import a module only when one of its names is used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, modules: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose name ``N`` lives in ``package.modules[N]``."""

    def __getattr__(name: str) -> Any:
        if (module := modules.get(name)) is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *modules})

    return __getattr__, __dir__
