"""Run a create task as if the ``openlineage`` extra were not installed; print what happened as JSON.

Run as a script (``python run_without_openlineage.py '{"mounts": [...], "links": [...]}'``) by
test_session_lineage.py: the OpenLineage modules cannot be imported and their distributions are
invisible to Airflow's provider discovery, which is what an environment without the extra looks
like, while the rest of the test environment (the simulator, the operators) stays as it is.
"""

from __future__ import annotations

import importlib.abc
import importlib.metadata
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HIDDEN_DISTRIBUTIONS = ("apache-airflow-providers-openlineage", "openlineage-")


class NoOpenLineage(importlib.abc.MetaPathFinder):
    """No OpenLineage module can be imported."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] == "openlineage" or name.startswith("airflow.providers.openlineage"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


def without_openlineage(distributions: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
    def visible(**kwargs: Any) -> Iterator[Any]:
        for dist in distributions(**kwargs):
            name = (dist.metadata["Name"] or "").lower().replace("_", "-")
            if not name.startswith(HIDDEN_DISTRIBUTIONS):
                yield dist

    return visible


def hide_openlineage() -> None:
    sys.meta_path.insert(0, NoOpenLineage())
    importlib.metadata.distributions = without_openlineage(importlib.metadata.distributions)  # type: ignore[assignment]
    try:
        import importlib_metadata
    except ImportError:
        return
    importlib_metadata.distributions = without_openlineage(importlib_metadata.distributions)


def main(arguments: dict[str, Any]) -> dict[str, Any]:
    hide_openlineage()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from operator_helpers import FAST, make_context

    from airflow_provider_cloudos.operators.cloudos_task import openlineage_installed
    from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator
    from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

    with CloudOSSimulator(timings=StateTimings.fast()) as simulator:
        os.environ["AIRFLOW_CONN_CLOUDOS_DEFAULT"] = simulator.connection_json()
        context = make_context()
        task = CloudOSCreateSessionOperator(
            task_id="create",
            name="no-lineage",
            project_name="genomics",
            mounts=arguments["mounts"],
            links=arguments["links"],
            **FAST,
        )
        session_id = task.execute(context)
        status = simulator.session(session_id)["status"]
    return {
        "installed": openlineage_installed(),
        "status": status,
        "pushed": [key for key, _ in context["ti"].pushes],
        "loaded": sorted(name for name in sys.modules if "openlineage" in name),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
