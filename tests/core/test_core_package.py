from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import airflow_provider_cloudos.core as core

REPO_ROOT = Path(__file__).resolve().parents[2]

#: The core's import budget (timings are measured in bench/, see BENCHMARKS.md): importing any core
#: module loads no Airflow, no HTTP library, and neither pandas nor rich (the official module's
#: weight, which the core must stay at least 10x lighter than).
BANNED = ("airflow", "requests", "aiohttp", "urllib3", "httpx", "pandas", "rich")

_PROBE = """
import importlib, json, pkgutil, sys
import airflow_provider_cloudos.core as core
for module in pkgutil.iter_modules(core.__path__):
    importlib.import_module(f"airflow_provider_cloudos.core.{module.name}")
banned = set(sys.argv[1:])
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in banned)))
"""


def _loaded_by_the_core(banned: tuple[str, ...]) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, *banned],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_importing_every_core_module_loads_no_airflow_http_library_pandas_or_rich():
    assert _loaded_by_the_core(BANNED) == []


def test_the_budget_probe_sees_a_banned_library_when_one_is_loaded():
    """The probe can fail: the core imports ``re``, and the probe reports it (and its parts)."""
    assert "re" in _loaded_by_the_core(("re",))


def test_all_lists_only_names_that_exist_and_no_duplicates():
    assert len(core.__all__) == len(set(core.__all__))
    for name in core.__all__:
        assert hasattr(core, name), name


def test_the_official_names_are_exported():
    official = {
        "parse_shutdown_duration",
        "parse_watch_timeout_duration",
        "parse_data_file",
        "parse_link_path",
        "validate_instance_type",
        "validate_session_id",
        "build_session_payload",
        "build_resume_payload",
        "map_status",
        "format_duration",
        "format_cost",
        "format_timestamp",
        "format_instance_type",
        "transform_session_response",
        "export_session_status_json",
        "export_session_status_csv",
    }
    assert official <= set(core.__all__)


def test_validate_session_id_is_the_official_boolean_check():
    assert core.validate_session_id("a" * 24) is True
    assert core.validate_session_id("nope") is False


def test_errors_and_spec_types_are_exported():
    assert issubclass(core.CloudOSValidationError, ValueError)
    assert core.make_session_spec(name="n", session_type="jupyter").backend == "regular"
