"""Checks for every value a session is created or resumed with, in two kinds told apart by name.

- ``validate_*`` answers and never raises: ``validate_session_id`` gives a ``bool`` and
  ``validate_instance_type`` an ``(ok, message)`` pair, the official client's names and result
  shapes, so code written against it carries over.
- ``require_*`` returns the clean value or raises :class:`CloudOSValidationError` naming the
  parameter, the value and the problem. Values arrive from rendered Airflow templates, so numbers
  and booleans may be strings and are converted here, once, before any HTTP call.
  (``parse_bool`` and the cross-value ``check_*`` functions raise the same error.)

The official Azure instance-type check refused real sizes with a multi-letter series or an
accelerator part (``Standard_NC6s_v3``, ``Standard_NC24ads_A100_v4``); the pattern here accepts
them, and constrained-vCPU sizes such as ``Standard_E64-32s_v3`` too (they are ordinary sizes in
Azure's catalogue). AWS sizes ``metal-24xl`` and the ``-flex`` variants are accepted as well; the
rare ``u-6tb1.metal`` family is not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.paths import describe_path, link_mount_name

AWS = "aws"
AZURE = "azure"
EXECUTION_PLATFORMS: tuple[str, ...] = (AWS, AZURE)

NAME_MAX_LENGTH = 100
STORAGE_MIN_GB = 100
STORAGE_MAX_GB = 5000
DEFAULT_STORAGE_SIZE = 500
UNLIMITED_COST = -1
SPARK_MAX_WORKERS = 100
DEFAULT_SPARK_WORKERS = 1
MAX_LINKED_ITEMS = 100
R_VERSIONS: tuple[str, ...] = ("4.5.2", "4.4.2")
DEFAULT_R_VERSION = "4.5.2"

#: The session types users name → the API's ``backend``.
SESSION_TYPE_TO_BACKEND: dict[str, str] = {
    "jupyter": "regular",
    "vscode": "vscode",
    "rstudio": "rstudio",
    "spark": "spark",
}
BACKEND_TO_SESSION_TYPE: dict[str, str] = {backend: kind for kind, backend in SESSION_TYPE_TO_BACKEND.items()}
BACKENDS: tuple[str, ...] = tuple(BACKEND_TO_SESSION_TYPE)

DEFAULT_INSTANCE_TYPES: dict[str, str] = {AWS: "c5.xlarge", AZURE: "Standard_F1s"}

_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
_AWS_INSTANCE = re.compile(
    r"[a-z]{1,4}\d+[a-z0-9]*(?:-flex)?\.(?:nano|micro|small|medium|large|\d*xlarge|metal(?:-\d+xl)?)"
)
_AZURE_INSTANCE = re.compile(
    r"(?:Standard|Basic)_[A-Z]{1,3}\d+(?:-\d+)?[a-z]*(?:_[A-Z][A-Za-z0-9]*)?(?:_v\d+)?(?:_Promo)?"
)
_AWS_EXAMPLES = "c5.xlarge, m5.2xlarge, g4dn.xlarge, r6i.metal"
_AZURE_EXAMPLES = "Standard_F1s, Standard_D4as_v4, Standard_NC6s_v3"

_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off"})


def _words(names: Iterable[str]) -> str:
    """``a, b, c or d``: choices as a sentence says them."""
    listed = list(names)
    return listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} or {listed[-1]}"


# --- official-shaped checks -------------------------------------------------------------------


def validate_session_id(session_id: Any) -> bool:
    """True iff ``session_id`` is exactly 24 hexadecimal characters (official semantics)."""
    return isinstance(session_id, str) and _OBJECT_ID.fullmatch(session_id) is not None


def validate_instance_type(instance_type: Any, execution_platform: str = AWS) -> tuple[bool, str | None]:
    """``(True, None)`` when the instance type fits the platform's naming, else ``(False, why)``.

    Like the official client, an unknown platform is not checked (``(True, None)``); blanks are
    not forgiven here, :func:`require_instance_type` strips them.
    """
    if not isinstance(instance_type, str) or not instance_type:
        return False, "Instance type must be a non-empty string"
    platform = execution_platform.strip().lower() if isinstance(execution_platform, str) else ""
    if platform == AWS and _AWS_INSTANCE.fullmatch(instance_type) is None:
        return False, (
            f"Invalid AWS instance type format: {instance_type!r}. Expected format: "
            "family and generation, optional variant letters, a dot, then the size "
            f"(e.g., {_AWS_EXAMPLES})"
        )
    if platform == AZURE and _AZURE_INSTANCE.fullmatch(instance_type) is None:
        return False, (
            f"Invalid Azure instance type format: {instance_type!r}. Expected format: "
            "Standard_ then series and size, optional letters and an optional version such as _v4, "
            f"or Basic_ then series and size (e.g., {_AZURE_EXAMPLES})"
        )
    return True, None


# --- require_*: the clean value, or an error naming the problem --------------------------------


def require_object_id(value: Any, parameter: str, what: str = "id") -> str:
    """Return a 24-hex id without surrounding blanks, or refuse it naming ``parameter``."""
    if not isinstance(value, str):
        raise CloudOSValidationError(
            parameter, value, f"expected a {what} string, got {type(value).__name__}"
        )
    candidate = value.strip()
    if not validate_session_id(candidate):
        raise CloudOSValidationError(parameter, value, f"a {what} is 24 hexadecimal characters")
    return candidate


def require_session_id(session_id: Any, parameter: str = "session_id") -> str:
    """Return the session id stripped of blanks, or raise naming ``parameter`` and the value."""
    return require_object_id(session_id, parameter, "session id")


def require_execution_platform(execution_platform: Any, parameter: str = "execution_platform") -> str:
    """``aws`` or ``azure`` in lower case; input case and blanks are forgiven."""
    if not isinstance(execution_platform, str):
        raise CloudOSValidationError(
            parameter,
            execution_platform,
            f"expected 'aws' or 'azure', got {type(execution_platform).__name__}",
        )
    platform = execution_platform.strip().lower()
    if platform not in EXECUTION_PLATFORMS:
        raise CloudOSValidationError(
            parameter, execution_platform, "the execution platform must be 'aws' or 'azure'"
        )
    return platform


def require_instance_type(
    instance_type: Any, execution_platform: str, parameter: str = "instance_type"
) -> str:
    """Return the stripped instance type when it fits the platform, else raise naming ``parameter``."""
    platform = require_execution_platform(execution_platform)
    candidate = instance_type.strip() if isinstance(instance_type, str) else instance_type
    ok, problem = validate_instance_type(candidate, platform)
    if not ok:
        raise CloudOSValidationError(parameter, instance_type, problem or "invalid instance type")
    return str(candidate)


def require_session_name(name: Any, parameter: str = "name") -> str:
    """A session name of 1 to 100 characters, surrounding blanks removed."""
    if not isinstance(name, str):
        raise CloudOSValidationError(parameter, name, f"expected a string, got {type(name).__name__}")
    candidate = name.strip()
    if not 1 <= len(candidate) <= NAME_MAX_LENGTH:
        raise CloudOSValidationError(
            parameter,
            name,
            f"a session name must be 1-{NAME_MAX_LENGTH} characters, this one has {len(candidate)}",
        )
    return candidate


def require_number(value: Any, parameter: str, what: str = "a number") -> float:
    """A finite number from an int, a float or a numeric string (``what`` it should be); no booleans."""
    if isinstance(value, bool):
        raise CloudOSValidationError(parameter, value, f"expected {what}, not a boolean")
    if not isinstance(value, (int, float, str)):
        raise CloudOSValidationError(parameter, value, f"expected {what}, got {type(value).__name__}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        raise CloudOSValidationError(parameter, value, f"expected {what}") from None
    if not math.isfinite(number):
        raise CloudOSValidationError(parameter, value, f"expected {what}, not infinity or NaN")
    return number


def _to_int(value: Any, parameter: str, what: str) -> int:
    number = require_number(value, parameter, what)
    if not number.is_integer():
        raise CloudOSValidationError(parameter, value, f"expected {what}, not a fraction")
    return int(number)


def require_storage_size(storage_size: Any, parameter: str = "storage_size") -> int:
    """Storage in whole GB, 100 to 5000; numeric strings accepted."""
    size = _to_int(storage_size, parameter, "a whole number of GB")
    if not STORAGE_MIN_GB <= size <= STORAGE_MAX_GB:
        raise CloudOSValidationError(
            parameter, storage_size, f"storage must be between {STORAGE_MIN_GB} and {STORAGE_MAX_GB} GB"
        )
    return size


def require_session_type(session_type: Any, parameter: str = "session_type") -> str:
    """Return the API backend for a session type (``jupyter`` → ``regular``).

    The backend names themselves (``regular``) are accepted too, case and blanks forgiven.
    """
    if not isinstance(session_type, str):
        raise CloudOSValidationError(
            parameter, session_type, f"expected a string, got {type(session_type).__name__}"
        )
    key = session_type.strip().lower()
    if key in SESSION_TYPE_TO_BACKEND:
        return SESSION_TYPE_TO_BACKEND[key]
    if key in BACKEND_TO_SESSION_TYPE:
        return key
    raise CloudOSValidationError(
        parameter,
        session_type,
        f"expected a session type: {_words(SESSION_TYPE_TO_BACKEND)}",
    )


def require_backend(backend: Any, parameter: str = "backend") -> str:
    """One of the API's backend names exactly, as the official payload builder requires."""
    if backend not in BACKENDS:
        raise CloudOSValidationError(
            parameter,
            backend,
            f"invalid backend type; expected one of {', '.join(BACKENDS)} (regular is a Jupyter session)",
        )
    return str(backend)


def require_cost_limit(cost_limit: Any, parameter: str = "cost_limit") -> float:
    """A compute cost limit in USD: ``-1`` (unlimited) or more than zero; numeric strings accepted.

    Whole numbers come back as ``int`` so the payload reads ``-1`` rather than ``-1.0``.
    """
    number = require_number(cost_limit, parameter, "a number of USD (-1 for unlimited)")
    if number != UNLIMITED_COST and number <= 0:
        raise CloudOSValidationError(
            parameter, cost_limit, "the cost limit must be greater than 0, or -1 for unlimited"
        )
    return int(number) if number.is_integer() else number


def require_spark_workers(spark_workers: Any, parameter: str = "spark_workers") -> int:
    """A number of Spark core workers, 1 to ``SPARK_MAX_WORKERS``."""
    workers = _to_int(spark_workers, parameter, "a whole number of workers")
    if not 1 <= workers <= SPARK_MAX_WORKERS:
        raise CloudOSValidationError(
            parameter, spark_workers, f"the number of Spark workers must be between 1 and {SPARK_MAX_WORKERS}"
        )
    return workers


def require_r_version(r_version: Any, parameter: str = "r_version") -> str:
    """One of the R versions CloudOS offers for RStudio sessions."""
    candidate = r_version.strip() if isinstance(r_version, str) else r_version
    if candidate not in R_VERSIONS:
        raise CloudOSValidationError(
            parameter, r_version, f"unknown R version; the known versions are {', '.join(R_VERSIONS)}"
        )
    return str(candidate)


def parse_bool(value: Any, parameter: str) -> bool:
    """A boolean from a bool, ``0``/``1``, or a rendered template such as ``"true"`` or ``"no"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    raise CloudOSValidationError(parameter, value, "expected a boolean: true/false, yes/no or 1/0")


# --- checks across values ----------------------------------------------------------------------


def check_spark_platform(backend: str, execution_platform: str, parameter: str = "session_type") -> None:
    """Spark sessions run on AWS EMR only."""
    if backend == "spark" and execution_platform != AWS:
        raise CloudOSValidationError(
            parameter, "spark", f"Spark sessions are only available on AWS, not on {execution_platform!r}"
        )


def check_spot_platform(spot: bool, execution_platform: str, parameter: str = "spot") -> None:
    """Spot (cost-saving) instances are an AWS feature."""
    if spot and execution_platform != AWS:
        raise CloudOSValidationError(
            parameter, spot, f"spot instances are only available on AWS, not on {execution_platform!r}"
        )


def check_mounts_platform(
    mounts: Iterable[dict[str, Any]], execution_platform: str, parameter: str = "mounts"
) -> None:
    """S3 files can be mounted only into AWS sessions; CloudOS dataset files work everywhere."""
    if execution_platform == AWS:
        return
    for parsed in mounts:
        if parsed.get("type") == "s3":
            raise CloudOSValidationError(
                parameter,
                describe_path(parsed),
                f"S3 files can only be mounted on AWS, not on {execution_platform!r}; "
                "mount a file from a CloudOS dataset instead",
            )


def check_links_platform(
    links: Iterable[dict[str, Any]], execution_platform: str, parameter: str = "links"
) -> None:
    """CloudOS links folders (FUSE) only into AWS sessions."""
    paths = [describe_path(parsed) for parsed in links]
    if paths and execution_platform != AWS:
        raise CloudOSValidationError(
            parameter,
            paths[0] if len(paths) == 1 else paths,
            f"linking folders is only supported on AWS, not on {execution_platform!r}; use mounts instead",
        )


def check_link_count(links: Iterable[Any], parameter: str = "links") -> None:
    """CloudOS links at most ``MAX_LINKED_ITEMS`` items into one session."""
    count = len(list(links))
    if count > MAX_LINKED_ITEMS:
        raise CloudOSValidationError(
            parameter, f"{count} paths", f"at most {MAX_LINKED_ITEMS} items can be linked into a session"
        )


def check_unique_names(named_paths: Iterable[tuple[str, str]], parameter: str = "links") -> None:
    """Refuse two paths that would be mounted under the same name, naming both paths.

    ``named_paths`` is ``(path, mount name)`` pairs.
    """
    first_path_by_name: dict[str, str] = {}
    for path, name in named_paths:
        if name in first_path_by_name:
            raise CloudOSValidationError(
                parameter,
                path,
                f"mount name {name!r} is used by both {first_path_by_name[name]!r} and {path!r}; "
                "two items cannot be mounted under the same name",
            )
        first_path_by_name[name] = path


def check_duplicate_link_names(links: Iterable[dict[str, Any]], parameter: str = "links") -> None:
    """:func:`check_unique_names` for parsed links, before any HTTP call."""
    check_unique_names(((describe_path(parsed), link_mount_name(parsed)) for parsed in links), parameter)


__all__ = [
    "AWS",
    "AZURE",
    "BACKENDS",
    "BACKEND_TO_SESSION_TYPE",
    "DEFAULT_INSTANCE_TYPES",
    "DEFAULT_R_VERSION",
    "DEFAULT_SPARK_WORKERS",
    "DEFAULT_STORAGE_SIZE",
    "EXECUTION_PLATFORMS",
    "MAX_LINKED_ITEMS",
    "NAME_MAX_LENGTH",
    "R_VERSIONS",
    "SESSION_TYPE_TO_BACKEND",
    "SPARK_MAX_WORKERS",
    "STORAGE_MAX_GB",
    "STORAGE_MIN_GB",
    "UNLIMITED_COST",
    "check_duplicate_link_names",
    "check_link_count",
    "check_links_platform",
    "check_mounts_platform",
    "check_spark_platform",
    "check_spot_platform",
    "check_unique_names",
    "parse_bool",
    "require_backend",
    "require_cost_limit",
    "require_execution_platform",
    "require_instance_type",
    "require_number",
    "require_object_id",
    "require_r_version",
    "require_session_id",
    "require_session_name",
    "require_session_type",
    "require_spark_workers",
    "require_storage_size",
    "validate_instance_type",
    "validate_session_id",
]
