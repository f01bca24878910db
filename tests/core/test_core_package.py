from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import airflow_provider_cloudos.core as core

REPO_ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
import airflow_provider_cloudos.core
banned = ("airflow", "requests", "aiohttp", "urllib3", "httpx")
loaded = sorted(
    name for name in sys.modules
    if name.split(".")[0] in banned
)
print(json.dumps(loaded))
"""


def test_importing_core_loads_no_airflow_and_no_http_library():
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []


_STDLIB_PROBE = """
import sys
before = set(sys.modules)
import airflow_provider_cloudos.core
print(" ".join(sorted(set(sys.modules) - before)))
"""


def test_importing_core_leaves_out_the_standard_modules_it_needs_only_later():
    """dataclasses (it brings inspect), ast, csv and json would double the import time (BENCHMARKS.md)."""
    completed = subprocess.run(
        [sys.executable, "-c", _STDLIB_PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = set(completed.stdout.strip().splitlines()[-1].split())
    assert loaded & {"dataclasses", "inspect", "ast", "csv", "json"} == set()


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
