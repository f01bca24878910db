from __future__ import annotations

import ast
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


#: The official ``interactive_session`` module's names that the core has an equivalent of, and
#: the name that equivalent has here (the same, except where the official name says the wrong thing).
OFFICIAL_EQUIVALENTS = {
    "parse_shutdown_duration": "parse_shutdown_duration",
    "parse_watch_timeout_duration": "parse_watch_timeout_duration",
    "parse_data_file": "parse_data_file",
    "parse_link_path": "parse_link_path",
    "validate_instance_type": "validate_instance_type",
    "validate_session_id": "validate_session_id",
    "DEFAULT_STORAGE_SIZE": "DEFAULT_STORAGE_SIZE",
    "build_session_payload": "build_session_payload",
    "build_resume_payload": "build_resume_payload",
    "TERMINAL_STATES": "SETTLED_STATUSES",
    "API_STATUS_MAPPING": "API_TO_DISPLAY",
    "PRE_RUNNING_STATUSES": "PRE_RUNNING_STATUSES",
    "map_status": "map_status",
    "format_duration": "format_duration",
    "format_cost": "format_cost",
    "format_timestamp": "format_timestamp",
    "format_instance_type": "format_instance_type",
    "transform_session_response": "transform_session_response",
    "export_session_status_json": "export_session_status_json",
    "export_session_status_csv": "export_session_status_csv",
}


def _core_names_the_provider_imports() -> set[str]:
    """Every name the provider's modules outside ``core/`` import from a core module."""
    package = REPO_ROOT / "airflow_provider_cloudos"
    names = set()
    for path in package.rglob("*.py"):
        if path.relative_to(package).parts[0] == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "airflow_provider_cloudos.core"
            ):
                names.update(alias.name for alias in node.names)
    return names


def test_the_public_names_are_the_official_ones_plus_what_the_provider_uses():
    expected = set(OFFICIAL_EQUIVALENTS.values()) | _core_names_the_provider_imports()
    assert set(core.__all__) - expected == set(), "exported, but neither official nor used: trim them"
    assert expected - set(core.__all__) == set(), "official or used by the provider, but not exported"


def test_settled_statuses_are_the_official_terminal_states_under_an_honest_name():
    assert {"running", "paused", "terminated"} == core.SETTLED_STATUSES
    assert not hasattr(core, "TERMINAL_STATUSES")


def test_validate_session_id_is_the_official_boolean_check():
    assert core.validate_session_id("a" * 24) is True
    assert core.validate_session_id("nope") is False


def test_errors_and_spec_types_are_exported():
    assert issubclass(core.CloudOSValidationError, ValueError)
    assert core.make_session_spec(name="n", session_type="jupyter").backend == "regular"
