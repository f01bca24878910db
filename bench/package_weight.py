"""Benchmark: the provider's weight, as a maintainer meets it.

``python -m bench.package_weight``

* ``code_lines``: lines of code in the package outside the simulator, not counting blank lines,
  comments and docstrings; per top-level area too, so a change shows where it moved. The demo's
  runner (``testing/demo.py``) sits beside the simulator it starts but is counted, as the area
  ``demo``: it is the provider's own code a user runs, not the stand-in for CloudOS.
* ``classes_above``: for every operator and sensor the package exports, how many of the
  provider's own classes stand above it (its ``__mro__``, less itself and everything not defined
  in ``airflow_provider_cloudos``).
* ``create_modules``: the provider's modules a blocking create enters (no wait for ``running``,
  the project given by name), from ``execute`` to its last HTTP request, against the local
  simulator: every module whose code runs in between, found with ``sys.setprofile``.
"""

from __future__ import annotations

import ast
import importlib
import io
import os
import sys
import tokenize
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from bench.common import REPO_ROOT, write_result

PACKAGE = "airflow_provider_cloudos"
PACKAGE_DIR = REPO_ROOT / PACKAGE
_SKIPPED_TOKENS = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
}


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def code_lines(path: Path) -> int:
    """Lines that hold code: not blank, not only a comment, not part of a docstring."""
    source = path.read_text(encoding="utf-8")
    docstrings = _docstring_lines(ast.parse(source))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in _SKIPPED_TOKENS:
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return len(lines)


def package_lines() -> dict[str, Any]:
    per_area: Counter[str] = Counter()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR).parts
        if parts[0] == "testing":
            if parts[1:] == ("demo.py",):
                per_area["demo"] += code_lines(path)
            continue
        per_area[parts[0] if len(parts) > 1 else "(top level)"] += code_lines(path)
    return {"total": sum(per_area.values()), "per_area": dict(sorted(per_area.items()))}


def classes_above() -> dict[str, list[str]]:
    """Each exported task class, with the provider's own classes above it."""
    found: dict[str, list[str]] = {}
    for module_name in (f"{PACKAGE}.operators", f"{PACKAGE}.sensors"):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            task_class = getattr(module, name)
            if not isinstance(task_class, type) or not hasattr(task_class, "execute"):
                continue
            found[name] = [
                ancestor.__qualname__
                for ancestor in task_class.__mro__[1:]
                if ancestor.__module__.startswith(PACKAGE)
            ]
    return found


def create_modules() -> list[str]:
    """The provider's modules a blocking create (project by name, no wait) runs code in."""
    from airflow_provider_cloudos.operators import CloudOSCreateSessionOperator
    from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

    class _TaskInstance:
        task_id, map_index, try_number = "create", -1, 1

        def xcom_push(self, key: str, value: Any) -> None:
            """Kept nowhere: only the modules the create runs through matter here."""

        def xcom_pull(self, *args: Any, **kwargs: Any) -> None:
            return None

    entered: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            module = frame.f_globals.get("__name__", "")
            if module.startswith(PACKAGE) and not module.startswith(f"{PACKAGE}.testing"):
                entered.add(module)

    with CloudOSSimulator(timings=StateTimings.fast()) as simulator:
        os.environ["AIRFLOW_CONN_CLOUDOS_DEFAULT"] = simulator.connection_json()
        task = CloudOSCreateSessionOperator(
            task_id="create", name="weight", project_name="genomics", wait_for_running=False
        )
        # Warm up once: imports done lazily on a first call are not the create's path.
        task.execute({"ti": _TaskInstance()})
        task = CloudOSCreateSessionOperator(
            task_id="create", name="weight-2", project_name="genomics", wait_for_running=False
        )
        sys.setprofile(profile)
        try:
            task.execute({"ti": _TaskInstance()})
        finally:
            sys.setprofile(None)
    return sorted(entered)


def main() -> int:
    modules = create_modules()
    above = classes_above()
    lines = package_lines()
    path = write_result(
        "package_weight",
        {
            "code_lines": lines,
            "classes_above": above,
            "most_classes_above": max(len(chain) for chain in above.values()),
            "create_modules": modules,
            "create_module_count": len(modules),
        },
        command="python -m bench.package_weight",
    )
    print(f"code lines outside the simulator (the demo counted): {lines['total']}")
    print(f"most provider classes above a task class: {max(len(chain) for chain in above.values())}")
    print(f"modules a blocking create enters: {len(modules)}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
