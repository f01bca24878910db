"""Importing the provider and the example DAGs raises no deprecation warning from Airflow.

The import runs in a fresh interpreter: a warning fires only on a module's first import, and
this test process has imported much of Airflow and the provider already. There, after Airflow's
own start-up, every warning is an error, except those that third-party libraries raise about each
other (Flask about its own API used by Flask-SQLAlchemy under 2.11, and so on): a warning counts
when Airflow, the provider or an example DAG is where it is raised or what it blames. It runs on
whichever Airflow is installed; CI runs it on 2.11 and on 3.x.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from airflow_provider_cloudos import compat

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = REPO / "example_dags"

#: Every module of the provider a DAG, a worker or a triggerer may import.
PROVIDER_MODULES = (
    "airflow_provider_cloudos",
    "airflow_provider_cloudos.session_block",
    "airflow_provider_cloudos.compat",
    "airflow_provider_cloudos.deferral",
    "airflow_provider_cloudos.hooks.cloudos",
    "airflow_provider_cloudos.links",
    "airflow_provider_cloudos.operators.block",
    "airflow_provider_cloudos.operators.sessions",
    "airflow_provider_cloudos.provider_info",
    "airflow_provider_cloudos.sensors.sessions",
    "airflow_provider_cloudos.triggers.sessions",
)

_IMPORT_UNDER_ERRORS = textwrap.dedent(
    """
    import importlib, importlib.util, re, sys, warnings
    from pathlib import Path

    import airflow  # Airflow's own start-up is not the provider's to answer for

    modules, dag_files = sys.argv[1].split(","), [Path(p) for p in sys.argv[2:]]
    dag_modules = ["cloudos_example_" + path.stem for path in dag_files]
    ours = "|".join(["airflow", "airflow_provider_cloudos", *map(re.escape, dag_modules)])
    warnings.simplefilter("error")
    # Warnings blamed on a third-party module are those libraries' business, not Airflow's.
    warnings.filterwarnings("ignore", module=rf"(?!(?:{ours})(?:\\.|$))")
    for name in modules:
        importlib.import_module(name)
        print("imported", name, flush=True)
    for path, module_name in zip(dag_files, dag_modules):
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        print("imported", path.name, flush=True)
    warnings.resetwarnings()
    warnings.simplefilter("ignore")  # at exit Airflow 2.11 imports its web stack
    """
)


def _airflow_environment(home: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="True",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PYTHONWARNINGS="",
    )
    if not compat.AIRFLOW_V_3_0_PLUS:
        # 2.11 warns on the first import of its metrics, whatever the DAG, until a deployment
        # opts in to Airflow 3's timer units; that is a setting of the installation, not of a
        # provider, and every 2.11 deployment on its way to 3 is told to flip it.
        env["AIRFLOW__METRICS__TIMER_UNIT_CONSISTENCY"] = "True"
    return env


def _import_under_errors(tmp_path: Path, modules: tuple[str, ...], dag_files: list[Path]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_UNDER_ERRORS, ",".join(modules), *map(str, dag_files)],
        env=_airflow_environment(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"a warning was raised:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_provider_modules_import_without_deprecation_warnings(tmp_path):
    printed = _import_under_errors(tmp_path, PROVIDER_MODULES, [])
    assert printed.count("imported ") == len(PROVIDER_MODULES)


def test_example_dags_import_without_deprecation_warnings(tmp_path):
    dag_files = sorted(EXAMPLE_DAGS.glob("*.py"))
    dag_files = [path for path in dag_files if not path.name.startswith("_")]
    assert dag_files, f"no example DAGs found in {EXAMPLE_DAGS}"
    printed = _import_under_errors(tmp_path, PROVIDER_MODULES, dag_files)
    for path in dag_files:
        assert f"imported {path.name}" in printed


def test_the_check_fails_on_a_deprecation_warning(tmp_path):
    """A deprecation blamed on a DAG file fails the check: the check can fail at all."""
    deprecated = tmp_path / "dags" / "uses_a_deprecated_api.py"
    deprecated.parent.mkdir()
    deprecated.write_text(
        textwrap.dedent(
            """
            import warnings

            def old_api():
                warnings.warn("old_api is deprecated", DeprecationWarning, stacklevel=2)

            old_api()
            """
        )
    )
    with pytest.raises(AssertionError, match="old_api is deprecated"):
        _import_under_errors(tmp_path, ("airflow_provider_cloudos",), [deprecated])
