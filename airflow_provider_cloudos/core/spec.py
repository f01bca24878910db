"""Every value a DAG author writes, read and checked once, and the typed session specs built from them.

Operator parameters reach the core after Jinja rendered them, so every value may be a string
(``"500"``, ``"true"``, ``'["a", "b"]'``, ``"a,b"``). The one rule for an unset value: ``None``, or
a string that, stripped and lower-cased, is ``""``, ``"none"`` or ``"null"`` (what
``{{ params.x }}`` renders for a ``None`` param) means the parameter's default (for a resume: keep
the session's setting; for a list: no items). A required value (a session name, an id) is checked,
not defaulted. Every refusal is a :class:`CloudOSValidationError` naming the parameter exactly as
the DAG author wrote it, raised before any HTTP call.

- ``validate_*`` answers and never raises: ``validate_session_id`` gives a ``bool`` and
  ``validate_instance_type`` an ``(ok, message)`` pair, the official client's names and result
  shapes. ``require_*`` returns the clean value or raises (as do ``parse_bool`` and the
  cross-value ``check_*`` functions).
- Durations: one parser, :func:`parse_duration_seconds`, for shutdowns, timeouts, poll intervals,
  runtime limits and the connection's extras: a whole number and a unit (``s``, ``m``, ``h``,
  ``d``; case and blanks forgiven), a number of seconds (``30``, ``"0.5"``) or a ``timedelta``. An
  auto-shutdown takes no bare number: ``shutdown_in=8`` would be eight seconds where eight hours
  was surely meant. ``parse_shutdown_duration`` and ``parse_watch_timeout_duration`` keep the
  official names and results, but refuse by name, and the clock is injectable.
- Paths: ``parse_data_file`` and ``parse_link_path`` return the official dicts (same keys, same
  ``type`` values). What the official parsers let through and the server later refused is refused
  here: an empty bucket, project or path; an S3 file to mount without a key or ending in ``/``;
  Azure blob storage (``az://``, ``abfs(s)://``, ``wasb(s)://``, ``*.blob.core.windows.net``,
  ``*.dfs.core.windows.net``). Blanks are stripped, ``s3://`` is matched case-insensitively, a
  CloudOS path is normalised to ``a/b/c``, and a ``mountName:bucket:prefix`` legacy link is
  recognised only when its mount name contains no ``/`` or ``>``.
- Lists: a Python list (items kept whole: a name may contain a comma), a JSON or Python list
  literal in a string, or a comma-separated string.

The official Azure instance-type check refused real sizes with a multi-letter series or an
accelerator part (``Standard_NC6s_v3``, ``Standard_NC24ads_A100_v4``); the pattern here accepts
them, and constrained-vCPU sizes such as ``Standard_E64-32s_v3`` too. AWS sizes ``metal-24xl`` and
the ``-flex`` variants are accepted as well; the rare ``u-6tb1.metal`` family is not.

:func:`make_session_spec` and :func:`make_resume_spec` are the one place a parameter is checked and
given its default (the operators pass what the DAG gave, ``None`` when nothing). Paths are parsed
but not resolved (that needs the API); the auto-shutdown duration is checked now but turned into an
instant only when the body is built, so a task that waits in a queue still gets its full duration.
The request bodies are built from the spec and trust it, and so do the items to mount and link
(``build_*_item``): they are built from parsed paths.

``build_session_payload`` and ``build_resume_payload`` keep the official client's names,
parameters, defaults, validation order and result shape, so a payload built here is the payload
the official CLI sends. Where the official builder let a mistake through to the server, this one
refuses it (:class:`CloudOSValidationError`, naming the parameter and the value):

- booleans and numbers may arrive as rendered template strings (``"false"`` would otherwise be a
  truthy string and make a private session shared); they are converted, not passed through;
- the R version must be a known one, Spark workers a sane count, the cost limit ``-1`` or > 0;
- the project id must be a 24-hex id; ``shutdown_at`` must be an ISO-8601 instant (a ``datetime``
  is accepted and converted to the API's UTC ``...Z`` form);
- on Azure, S3 files cannot be mounted and nothing can be linked: the official builder silently
  dropped links there; this one refuses them. The body still carries ``"fuseFileSystems": []``
  on Azure, as the official client sends it, so both clients put the same bytes on the wire.

Instance types are not checked there (as in the official builder: the caller knows the
platform's catalogue). The operators never come through these two: they make a spec, which
checks every value once, instance types included, and builds the body (``to_payload``),
trusting what it holds. These two check their raw arguments, then build a spec from them and
let it build the body too, so both paths put the same bytes on the wire.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError

# --- an unset value --------------------------------------------------------------------------


def is_unset(value: Any) -> bool:
    """True for ``None`` and for the rendered forms of nothing (see the module docstring)."""
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null"))


# --- durations ------------------------------------------------------------------------------

UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_WITH_UNIT = re.compile(r"(\d+)([smhd])")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TOO_LONG = "the duration is too long"


def utc_timestamp(moment: datetime) -> str:
    """The API's instant format: ISO-8601 in UTC with a ``Z`` suffix.

    A naive ``moment`` is taken to be UTC already (that is what ``utcnow()``-style code produces).
    Microseconds are kept unless they are zero, exactly like ``datetime.isoformat``.
    """
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_instant(text: str) -> datetime | None:
    """An ISO-8601 instant (a ``Z`` suffix, either case, means UTC), or None when ``text`` is not one."""
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except ValueError:
        return None


def _read_seconds(value: Any, numbers: bool) -> float | None:
    """The seconds ``value`` spells (infinity when too many for a float), or None when no duration."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        text = value.strip().lower()
        match = _WITH_UNIT.fullmatch(text)
        if match is not None:
            value = int(match.group(1)) * UNITS[match.group(2)]
        elif numbers and _PLAIN_NUMBER.fullmatch(text):
            value = text
        else:
            return None
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or not numbers:
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def parse_duration_seconds(
    value: Any, *, parameter: str = "timeout", zero_allowed: bool = False, numbers: bool = True
) -> float:
    """Return a span of time in seconds, exactly (``"1m"`` is 60.0, ``0.5`` stays 0.5).

    Negative, infinite and NaN spans are refused, and zero unless ``zero_allowed`` (a wait that
    cannot wait is a configuration mistake); ``numbers=False`` refuses a bare number of seconds.
    """
    seconds = _read_seconds(value, numbers)
    if seconds is None or math.isnan(seconds):
        written = ", or a number of seconds" if numbers else " (a whole number and a unit)"
        raise CloudOSValidationError(
            parameter, value, f"expected a duration such as '30s', '30m', '2h' or '1d'{written}"
        )
    if seconds == math.inf:
        raise CloudOSValidationError(parameter, value, _TOO_LONG)
    if seconds < 0 or (seconds == 0 and not zero_allowed):
        bound = "0 or more" if zero_allowed else "greater than 0"
        raise CloudOSValidationError(parameter, value, f"the duration must be {bound}")
    return seconds


def parse_shutdown_timedelta(duration_str: Any, *, parameter: str = "shutdown_in") -> timedelta:
    """Check an auto-shutdown duration (``0m`` is allowed, as the official client allows it).

    Split out from :func:`parse_shutdown_duration` so that a duration can be validated when a task
    is configured while the instant is computed only when the request is about to be sent.
    """
    seconds = parse_duration_seconds(duration_str, parameter=parameter, zero_allowed=True, numbers=False)
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise CloudOSValidationError(parameter, duration_str, _TOO_LONG) from None


def parse_shutdown_duration(
    duration_str: Any, now: datetime | None = None, *, parameter: str = "shutdown_in"
) -> str:
    """Return the auto-shutdown instant ``now + duration`` in the API's format (``...Z``).

    ``now`` defaults to the current UTC time.
    """
    delta = parse_shutdown_timedelta(duration_str, parameter=parameter)
    try:
        return utc_timestamp((now if now is not None else datetime.now(UTC)) + delta)
    except OverflowError:
        raise CloudOSValidationError(parameter, duration_str, _TOO_LONG) from None


def parse_watch_timeout_duration(duration_str: Any, *, parameter: str = "timeout") -> int:
    """Return a wait timeout in whole seconds: :func:`parse_duration_seconds`, rounded up.

    Rounded up so that a positive fraction of a second never becomes a zero timeout.
    """
    return math.ceil(parse_duration_seconds(duration_str, parameter=parameter))


# --- single values ----------------------------------------------------------------------------

AWS = "aws"
AZURE = "azure"

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

#: The session types users name → the API's ``backend``: its own name, but Jupyter's is ``regular``.
SESSION_TYPE_TO_BACKEND = {"jupyter": "regular"} | {kind: kind for kind in ("vscode", "rstudio", "spark")}
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

_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off"})


def stripped_string(value: Any, parameter: str, expected: str = "a string") -> str:
    """``value`` without surrounding blanks; anything but a string is refused as not ``expected``."""
    if not isinstance(value, str):
        raise CloudOSValidationError(parameter, value, f"expected {expected}, got {type(value).__name__}")
    return value.strip()


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
            "(e.g., c5.xlarge, m5.2xlarge, g4dn.xlarge, r6i.metal)"
        )
    if platform == AZURE and _AZURE_INSTANCE.fullmatch(instance_type) is None:
        return False, (
            f"Invalid Azure instance type format: {instance_type!r}. Expected format: "
            "Standard_ then series and size, optional letters and an optional version such as _v4, "
            "or Basic_ then series and size (e.g., Standard_F1s, Standard_D4as_v4, Standard_NC6s_v3)"
        )
    return True, None


# --- require_*: the clean value, or an error naming the problem --------------------------------


def require_object_id(value: Any, parameter: str, what: str = "id") -> str:
    """Return a 24-hex id without surrounding blanks, or refuse it naming ``parameter``."""
    candidate = stripped_string(value, parameter, f"a {what} string")
    if not validate_session_id(candidate):
        raise CloudOSValidationError(parameter, value, f"a {what} is 24 hexadecimal characters")
    return candidate


def require_session_id(session_id: Any, parameter: str = "session_id") -> str:
    """Return the session id stripped of blanks, or raise naming ``parameter`` and the value."""
    return require_object_id(session_id, parameter, "session id")


def require_execution_platform(execution_platform: Any, parameter: str = "execution_platform") -> str:
    """``aws`` or ``azure`` in lower case; input case and blanks are forgiven."""
    platform = stripped_string(execution_platform, parameter, "'aws' or 'azure'").lower()
    if platform not in (AWS, AZURE):
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
    candidate = stripped_string(name, parameter)
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
        number = float(value)  # blanks around a numeric string are forgiven by float itself
    except (ValueError, OverflowError):
        raise CloudOSValidationError(parameter, value, f"expected {what}") from None
    if not math.isfinite(number):
        raise CloudOSValidationError(parameter, value, f"expected {what}, not infinity or NaN")
    return number


def _whole_number(value: Any, parameter: str, what: str, bounds: tuple[int, int], out_of_bounds: str) -> int:
    """A whole number (``what`` it should be) from ``bounds[0]`` to ``bounds[1]``, else ``out_of_bounds``."""
    number = require_number(value, parameter, what)
    if not number.is_integer():
        raise CloudOSValidationError(parameter, value, f"expected {what}, not a fraction")
    if not bounds[0] <= number <= bounds[1]:
        raise CloudOSValidationError(parameter, value, out_of_bounds)
    return int(number)


def require_storage_size(storage_size: Any, parameter: str = "storage_size") -> int:
    """Storage in whole GB, 100 to 5000; numeric strings accepted."""
    problem = f"storage must be between {STORAGE_MIN_GB} and {STORAGE_MAX_GB} GB"
    return _whole_number(
        storage_size, parameter, "a whole number of GB", (STORAGE_MIN_GB, STORAGE_MAX_GB), problem
    )


def require_session_type(session_type: Any, parameter: str = "session_type") -> str:
    """Return the API backend for a session type (``jupyter`` → ``regular``).

    The backend names themselves (``regular``) are accepted too, case and blanks forgiven.
    """
    key = stripped_string(session_type, parameter).lower()
    backend = SESSION_TYPE_TO_BACKEND.get(key, key)
    if backend in BACKEND_TO_SESSION_TYPE:
        return backend
    *others, last = SESSION_TYPE_TO_BACKEND
    raise CloudOSValidationError(
        parameter, session_type, f"expected a session type: {', '.join(others)} or {last}"
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
    problem = f"the number of Spark workers must be between 1 and {SPARK_MAX_WORKERS}"
    return _whole_number(
        spark_workers, parameter, "a whole number of workers", (1, SPARK_MAX_WORKERS), problem
    )


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
    if isinstance(value, int) and value in (0, 1):  # True and False included
        return bool(value)
    if isinstance(value, str) and (key := value.strip().lower()) in _TRUE | _FALSE:
        return key in _TRUE
    raise CloudOSValidationError(parameter, value, "expected a boolean: true/false, yes/no or 1/0")


# --- checks across values ----------------------------------------------------------------------


def check_spark_platform(backend: str, execution_platform: str, parameter: str = "session_type") -> None:
    """Spark sessions run on AWS EMR only."""
    if backend == "spark" and execution_platform != AWS:
        raise CloudOSValidationError(
            parameter, "spark", f"Spark sessions are only available on AWS, not on {execution_platform!r}"
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


def item_mount_name(item: dict[str, Any]) -> str:
    """The name an item is mounted under: ``data.name`` for S3 items, ``name`` for CloudOS files."""
    data = item.get("data")
    return str(data["name"]) if isinstance(data, dict) and data.get("name") else str(item.get("name", ""))


def check_duplicate_mount_names(
    pairs: Iterable[tuple[str, dict[str, Any]]], parameter: str = "links"
) -> None:
    """Refuse two items mounted under the same name; ``pairs`` is ``(user's path, item)``."""
    check_unique_names(((path, item_mount_name(item)) for path, item in pairs), parameter)


# --- lists and paths ----------------------------------------------------------------------------


def read_list_literal(text: str, original: Any, parameter: str) -> list[Any]:
    """Read ``["a", "b"]`` (JSON) or ``['a', 'b']`` (a Python list rendered by Jinja)."""
    # Imported here, when a list literal is read: kept out of the core's import time (see BENCHMARKS.md).
    import json

    try:
        loaded = json.loads(text)
    except ValueError:
        import ast

        try:
            loaded = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise CloudOSValidationError(
                parameter, original, "looks like a list but is neither valid JSON nor a Python list literal"
            ) from None
    if not isinstance(loaded, (list, tuple)):
        raise CloudOSValidationError(parameter, original, "expected a list")
    return list(loaded)


def split_strings(value: Any, *, parameter: str, noun: str = "item", whole: str | None = None) -> list[str]:
    """The strings in ``value``, stripped, blanks dropped; an unset value (see :func:`is_unset`) has none.

    A list or tuple keeps each item whole (an S3 key or a name may contain a comma); a string
    is split on commas unless it reads as a list literal. ``noun`` names an item in errors; ``whole``
    describes the accepted forms (default: "a list of <noun>s or a comma-separated string").
    """
    if is_unset(value):
        return []
    items: list[Any]
    if isinstance(value, str):
        text = value.strip()
        items = read_list_literal(text, value, parameter) if text.startswith("[") else text.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        accepted = whole or f"a list of {noun}s or a comma-separated string"
        raise CloudOSValidationError(parameter, value, f"expected {accepted}, got {type(value).__name__}")
    for item in items:
        if not isinstance(item, str):
            raise CloudOSValidationError(
                parameter, item, f"every {noun} must be a string, got {type(item).__name__}"
            )
    return [item.strip() for item in items if item.strip()]


S3_SCHEME = "s3://"
_AZURE_SCHEMES = ("az://", "abfs://", "abfss://", "wasb://", "wasbs://")
_AZURE_HOSTS = (".blob.core.windows.net", ".dfs.core.windows.net")

DATA_FILE_FORMATS = (
    "expected 's3://bucket/path/to/file' or a CloudOS file as 'project/dataset/path/to/file' "
    "(or 'project > dataset/path/to/file')"
)
AZURE_MOUNT_REFUSAL = (
    "mounting Azure blob storage paths is not supported; mount a file from a CloudOS dataset "
    "instead ('project/dataset/path/to/file')"
)
AZURE_LINK_REFUSAL = (
    "linking Azure blob storage is not supported; use the CloudOS file explorer to make the data "
    "available, or mount files from a CloudOS dataset"
)
LINK_PATH_FORMATS = (
    "expected 's3://bucket/prefix/', a CloudOS folder as 'project/dataset/folder' "
    "(or 'project > dataset/folder'), or the legacy 'mountName:bucketName:s3Prefix'"
)


def _require_text(value: Any, parameter: str, azure_problem: str) -> str:
    """The stripped path, refused when it is not a string, is empty or is Azure blob storage."""
    text = stripped_string(value, parameter, "a path string")
    if not text:
        raise CloudOSValidationError(parameter, value, "the path is empty")
    lowered = text.lower()  # the ways people write Azure blob (or Data Lake) storage locations:
    if lowered.startswith(_AZURE_SCHEMES) or any(host in lowered for host in _AZURE_HOSTS):
        raise CloudOSValidationError(parameter, value, azure_problem)
    return text


def _split_s3(text: str, original: str, parameter: str, example: str) -> tuple[str, str]:
    """``s3://bucket/rest`` → ``(bucket, rest)``; ``rest`` is ``""`` when there is none."""
    bucket, _, rest = text[len(S3_SCHEME) :].partition("/")
    if not bucket.strip():
        raise CloudOSValidationError(parameter, original, f"the S3 bucket name is empty; expected {example}")
    if bucket != bucket.strip() or " " in bucket:
        raise CloudOSValidationError(parameter, original, "an S3 bucket name cannot contain blanks")
    return bucket, rest


def _split_cloudos(text: str, original: str, parameter: str, formats: str, inner: str) -> tuple[str, str]:
    """Split ``project > path`` (preferred) or ``project/path`` at the first separator.

    ``gs://``, ``https://``... are refused (they would be read as a project named ``gs:``), and so
    are an empty project or an empty ``inner`` path; the path is normalised to ``a/b/c``.
    """
    scheme, separator, _ = text.partition("://")
    if separator and "/" not in scheme and ">" not in scheme:
        raise CloudOSValidationError(
            parameter, original, f"{scheme}:// locations are not supported; {formats}"
        )
    split = next((sep for sep in (">", "/") if sep in text), None)
    if split is None:
        raise CloudOSValidationError(parameter, original, formats)
    project, _, path = text.partition(split)
    if not project.strip():
        raise CloudOSValidationError(parameter, original, "the project name is empty")
    path = "/".join(segment.strip() for segment in path.split("/") if segment.strip())
    if not path:
        raise CloudOSValidationError(parameter, original, f"the {inner} inside the project is empty")
    return project.strip(), path


def parse_data_file(data_file_str: str, *, parameter: str = "mounts") -> dict[str, Any]:
    """Parse a file to mount into the session (the payload's ``dataItems``).

    Returns ``{"type": "s3", "s3_bucket", "s3_prefix"}`` (the object key) for ``s3://`` paths,
    else ``{"type": "cloudos", "project_name", "dataset_path"}``.
    """
    text = _require_text(data_file_str, parameter, AZURE_MOUNT_REFUSAL)
    if text.lower().startswith(S3_SCHEME):
        bucket, key = _split_s3(text, data_file_str, parameter, "s3://bucket/path/to/file")
        if not key:
            raise CloudOSValidationError(
                parameter, data_file_str, "a file to mount needs an object key: s3://bucket/path/to/file"
            )
        if key.endswith("/"):
            raise CloudOSValidationError(
                parameter,
                data_file_str,
                "this is a folder (it ends with '/'); only files can be mounted, link folders with links",
            )
        return {"type": "s3", "s3_bucket": bucket, "s3_prefix": key}
    project, path = _split_cloudos(text, data_file_str, parameter, DATA_FILE_FORMATS, "path")
    return {"type": "cloudos", "project_name": project, "dataset_path": path}


def parse_link_path(link_path_str: str, *, parameter: str = "links") -> dict[str, Any]:
    """Parse a folder (or S3 file) to link into the session (the payload's ``fuseFileSystems``).

    Returns, like the official client: ``{"type": "s3", "s3_bucket", "s3_prefix", "is_file"}``
    for ``s3://`` paths (a folder's prefix ends with ``/``; ``is_file`` when the last segment has
    a ``.`` and the path does not end with ``/``); ``{"type": "s3", "mount_name", "s3_bucket",
    "s3_prefix", "is_file": False}`` for legacy links; ``{"type": "cloudos", "project_name",
    "folder_path"}`` for CloudOS folders.
    """
    text = _require_text(link_path_str, parameter, AZURE_LINK_REFUSAL)
    if text.lower().startswith(S3_SCHEME):
        bucket, prefix = _split_s3(text, link_path_str, parameter, "s3://bucket/prefix/")
        is_file = bool(prefix) and not text.endswith("/") and "." in _last_segment(prefix)
        if prefix and not is_file and not prefix.endswith("/"):
            prefix += "/"
        return {"type": "s3", "s3_bucket": bucket, "s3_prefix": prefix, "is_file": is_file}
    if ":" in text and "//" not in text and ">" not in text and "/" not in text.partition(":")[0]:
        # mountName:bucket:prefix, the mount name without "/" (never with "//": schemes are refused below)
        parts = [part.strip() for part in text.split(":")]
        if len(parts) != 3:
            raise CloudOSValidationError(
                parameter,
                link_path_str,
                "a legacy link has exactly three parts: mountName:bucketName:s3Prefix",
            )
        mount_name, bucket, prefix = parts
        for part, what in ((mount_name, "mount name"), (bucket, "S3 bucket name")):
            if not part:
                raise CloudOSValidationError(
                    parameter, link_path_str, f"the {what} of the legacy link is empty"
                )
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return {
            "type": "s3",
            "mount_name": mount_name,
            "s3_bucket": bucket,
            "s3_prefix": prefix,
            "is_file": False,
        }
    project, folder = _split_cloudos(text, link_path_str, parameter, LINK_PATH_FORMATS, "folder path")
    return {"type": "cloudos", "project_name": project, "folder_path": folder}


def split_paths(value: Any, *, parameter: str = "mounts") -> list[str]:
    """Turn a templated value into a list of path strings, blanks dropped.

    Accepts ``None`` (no paths), a list or tuple of strings (kept whole: an S3 key may contain a
    comma), a JSON or Python list literal in a string, or a comma-separated string.
    """
    return split_strings(
        value, parameter=parameter, noun="path", whole="a path, a list of paths or a comma-separated string"
    )


def parse_data_files(value: Any, *, parameter: str = "mounts") -> list[dict[str, Any]]:
    """:func:`split_paths` then :func:`parse_data_file` on each path."""
    return [parse_data_file(path, parameter=parameter) for path in split_paths(value, parameter=parameter)]


def parse_link_paths(value: Any, *, parameter: str = "links") -> list[dict[str, Any]]:
    """:func:`split_paths` then :func:`parse_link_path` on each path."""
    return [parse_link_path(path, parameter=parameter) for path in split_paths(value, parameter=parameter)]


def describe_path(parsed: dict[str, Any]) -> str:
    """A parsed path written back in its canonical form, for messages."""
    if parsed.get("type") == "s3":
        if parsed.get("mount_name"):
            return f"{parsed['mount_name']}:{parsed.get('s3_bucket', '')}:{parsed.get('s3_prefix', '')}"
        return f"{S3_SCHEME}{parsed.get('s3_bucket', '')}/{parsed.get('s3_prefix', '')}"
    inner = parsed.get("dataset_path", parsed.get("folder_path", ""))
    return f"{parsed.get('project_name', '')}/{inner}"


def _last_segment(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


def link_mount_name(parsed: dict[str, Any]) -> str:
    """The name a parsed link is mounted under inside the session.

    Legacy links carry their own name; an S3 file or folder is named after its last path segment
    (a whole bucket after the bucket); a CloudOS folder after its last folder segment. Known
    before any HTTP call, so colliding names are refused when the task is configured.
    """
    if parsed.get("mount_name"):
        return str(parsed["mount_name"])
    if parsed.get("type") == "s3":
        return _last_segment(str(parsed.get("s3_prefix", ""))) or str(parsed.get("s3_bucket", ""))
    return _last_segment(str(parsed.get("folder_path", "")))


def parse_usd(value: Any, parameter: str, *, allow_zero: bool = False) -> float | None:
    """An amount of USD from a number or a rendered template; None when unset.

    Zero is refused for a guard (it would fire at once: a configuration mistake) but allowed for
    a minimum ("cost at least $0" simply selects everything).
    """
    if is_unset(value):
        return None
    amount = require_number(value, parameter, "an amount of USD such as 50 or 12.5")
    if amount < 0 or (amount == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "greater than 0"
        raise CloudOSValidationError(parameter, value, f"the amount must be {bound}")
    return amount


def parse_runtime(value: Any, parameter: str) -> int | None:
    """A runtime threshold in seconds (``"2h"``, ``"90m"``, ``3600``, a timedelta); None when unset."""
    return None if is_unset(value) else parse_watch_timeout_duration(value, parameter=parameter)


def parse_string_list(value: Any, parameter: str) -> tuple[str, ...]:
    """A list of strings from a list, a comma-separated string or a rendered list literal.

    A list keeps each item whole (a name may contain a comma); a string is split on commas unless
    it reads as a JSON or Python list (what Jinja renders for a list). Blank items are dropped;
    an unset value is the empty list.
    """
    if isinstance(value, (set, frozenset)):  # names: their order does not matter
        value = list(value)
    return tuple(
        split_strings(value, parameter=parameter, whole="a list of strings or a comma-separated string")
    )


# --- the specs, and the bodies built from them ---------------------------------------------------

DEFAULT_SHUTDOWN_IN = "12h"
DEFAULT_SPARK_MASTER_TYPE = "c5.2xlarge"
DEFAULT_SPARK_CORE_TYPE = "c5.xlarge"

ParsedPaths = tuple[dict[str, Any], ...]


def _read(value: Any, check: Callable[[Any], Any], default: Any = None) -> Any:
    """``check(value)``, the one check of a parameter; unset, ``default`` (checked too), or None if none."""
    value = default if is_unset(value) else value
    return None if value is None else check(value)


def _check_shutdown_in(shutdown_in: Any) -> str:
    """The checked duration as a unit string (``"8H"`` → ``"8h"``, a timedelta in seconds)."""
    seconds = parse_shutdown_timedelta(shutdown_in, parameter="shutdown_in").total_seconds()
    return shutdown_in.strip().lower() if isinstance(shutdown_in, str) else f"{math.ceil(seconds)}s"


def _parse_paths(mounts: Any, links: Any, platform: str) -> tuple[ParsedPaths, ParsedPaths]:
    """The parsed paths to mount and link, refused unless they fit the platform and each other.

    S3 files can be mounted only into AWS sessions (CloudOS dataset files work everywhere), and
    folders linked (FUSE) only into AWS sessions; at most ``MAX_LINKED_ITEMS`` links, no two
    under the same mount name (known before any HTTP call).
    """
    parsed_mounts = tuple(parse_data_files(mounts, parameter="mounts"))
    parsed_links = tuple(parse_link_paths(links, parameter="links"))
    if platform != AWS:
        s3_file = next(
            (describe_path(parsed) for parsed in parsed_mounts if parsed.get("type") == "s3"), None
        )
        if s3_file is not None:
            raise CloudOSValidationError(
                "mounts",
                s3_file,
                f"S3 files can only be mounted on AWS, not on {platform!r}; "
                "mount a file from a CloudOS dataset instead",
            )
        if parsed_links:
            paths = [describe_path(parsed) for parsed in parsed_links]
            raise CloudOSValidationError(
                "links",
                paths[0] if len(paths) == 1 else paths,
                f"linking folders is only supported on AWS, not on {platform!r}; use mounts instead",
            )
    if len(parsed_links) > MAX_LINKED_ITEMS:
        raise CloudOSValidationError(
            "links",
            f"{len(parsed_links)} paths",
            f"at most {MAX_LINKED_ITEMS} items can be linked into a session",
        )
    check_unique_names(((describe_path(parsed), link_mount_name(parsed)) for parsed in parsed_links), "links")
    return parsed_mounts, parsed_links


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """A checked session to create. ``mounts``/``links`` hold the parsed path dicts, unresolved.

    Immutable; equal to (and hashed like) another spec with the same fields.
    """

    name: str
    session_type: str
    backend: str
    execution_platform: str
    instance_type: str
    storage_size: int
    spot: bool
    shared: bool
    cost_limit: float
    shutdown_in: str
    mounts: ParsedPaths
    links: ParsedPaths
    r_version: str | None
    spark_master_type: str | None
    spark_core_type: str | None
    spark_workers: int

    def shutdown_at(self, now: datetime | None = None) -> str:
        """The auto-shutdown instant for a session created at ``now``."""
        return parse_shutdown_duration(self.shutdown_in, now)

    def to_payload(
        self,
        project_id: str,
        data_items: list[dict[str, Any]] | None,
        fuse_file_systems: list[dict[str, Any]] | None,
        now: datetime | None = None,
        shutdown_at: str | None = None,
    ) -> dict[str, Any]:
        """The body of ``POST /api/v1/interactive-sessions``, with the resolved mounts and links items.

        Nothing is checked again: the spec's values were checked when it was made, its paths
        fit its platform, and the items are what those paths resolved to. ``shutdown_at`` (an
        instant in the API's form) replaces :meth:`shutdown_at` when given.
        """
        configuration: dict[str, Any] = {
            "name": self.name,
            "backend": self.backend,
            "executionPlatform": self.execution_platform,
            "instanceType": self.instance_type,
            "isCostSaving": self.spot,
            "storageSizeInGb": self.storage_size,
            "storageMode": "regular",
            "visibility": "workspace" if self.shared else "private",
            "execution": {
                "computeCostLimit": self.cost_limit,
                "autoShutdownAtDate": shutdown_at or self.shutdown_at(now),
            },
        }
        if self.r_version is not None:
            configuration["rVersion"] = self.r_version
        if self.spark_master_type and self.spark_core_type:
            configuration["cluster"] = self._spark_cluster()
        return {
            "interactiveSessionConfiguration": configuration,
            "dataItems": list(data_items or []),
            "fileSystemIds": [],
            "fuseFileSystems": list(fuse_file_systems or []),
            "projectId": project_id,
        }

    def _spark_cluster(self) -> dict[str, Any]:
        workers = self.spark_workers
        capacity = {"minCapacity": workers, "maxCapacity": max(2 * workers, 10)}
        node = {"costSaving": self.spot, "storage": {"type": "gp2", "sizeInGbs": 50, "volumesPerInstance": 1}}
        return {
            "name": f"{self.name}-cluster",
            "releaseLabel": "emr-7.3.0",
            "ebsRootVolumeSizeInGb": 100,
            "instances": {
                "master": {"type": self.spark_master_type, **node},
                "core": {
                    "type": self.spark_core_type,
                    **node,
                    "minNumberOfInstances": workers,
                    "autoscaling": dict(capacity),
                },
                "tasks": [],
            },
            "autoscaling": dict(capacity),
            "id": None,
        }


@dataclass(frozen=True, slots=True)
class ResumeSpec:
    """A checked resume request; ``None`` fields keep the session's current setting.

    Immutable; equal to (and hashed like) another spec with the same fields.
    """

    execution_platform: str
    instance_type: str | None
    storage_size: int | None
    cost_limit: float | None
    shutdown_in: str | None
    mounts: ParsedPaths
    links: ParsedPaths

    @property
    def is_empty(self) -> bool:
        """True for a plain resume: nothing changes and nothing is mounted or linked."""
        kept = (self.instance_type, self.storage_size, self.cost_limit, self.shutdown_in)
        return all(value is None for value in kept) and not self.mounts and not self.links

    def shutdown_at(self, now: datetime | None = None) -> str | None:
        """The new auto-shutdown instant for a session resumed at ``now``, or None to keep it."""
        return None if self.shutdown_in is None else parse_shutdown_duration(self.shutdown_in, now)

    def to_payload(
        self,
        data_items: list[dict[str, Any]] | None = None,
        fuse_file_systems: list[dict[str, Any]] | None = None,
        now: datetime | None = None,
        shutdown_at: str | None = None,
    ) -> dict[str, Any]:
        """The body of ``PUT /api/v1/interactive-sessions/{id}/resume``: only what changes.

        ``dataItems`` and ``fileSystemIds`` are always lists; ``newInteractiveSessionConfiguration``
        appears only when the instance, storage, cost limit or shutdown changes (``None`` means
        "keep", as in the official builder), its ``execution`` only for cost limit or shutdown;
        ``fuseFileSystems`` only when there are links. ``shutdown_at`` replaces :meth:`shutdown_at`.
        """
        changes = _given({"instanceType": self.instance_type, "storageSizeInGb": self.storage_size})
        execution = _given(
            {"computeCostLimit": self.cost_limit, "autoShutdownAtDate": shutdown_at or self.shutdown_at(now)}
        )
        if execution:
            changes["execution"] = execution
        payload: dict[str, Any] = {"dataItems": list(data_items or []), "fileSystemIds": []}
        if changes:
            payload["newInteractiveSessionConfiguration"] = changes
        if fuse_file_systems:
            payload["fuseFileSystems"] = list(fuse_file_systems)
        return payload


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def make_session_spec(
    *,
    name: Any,
    session_type: Any,
    execution_platform: Any = None,
    instance_type: Any = None,
    storage_size: Any = None,
    spot: Any = None,
    shared: Any = None,
    cost_limit: Any = None,
    shutdown_in: Any = None,
    mounts: Any = None,
    links: Any = None,
    r_version: Any = None,
    spark_master_type: Any = None,
    spark_core_type: Any = None,
    spark_workers: Any = None,
) -> SessionSpec:
    """Check and convert rendered operator parameters into a :class:`SessionSpec`.

    Defaults: instance type ``c5.xlarge`` on AWS and ``Standard_F1s`` on Azure, R 4.5.2 for
    RStudio, Spark master ``c5.2xlarge`` and core ``c5.xlarge``, shutdown after 12h (the CLI's
    default). R and Spark settings given for another session type are checked but not kept.
    Spark, spot instances, S3 mounts and links are AWS only.
    """
    clean_name = require_session_name(name, "name")
    backend = require_session_type(session_type, "session_type")
    platform = _read(execution_platform, require_execution_platform, AWS)
    check_spark_platform(backend, platform, "session_type")
    instance = _read(
        instance_type, lambda v: require_instance_type(v, platform), DEFAULT_INSTANCE_TYPES[platform]
    )
    storage = _read(storage_size, require_storage_size, DEFAULT_STORAGE_SIZE)
    clean_spot = _read(spot, lambda v: parse_bool(v, "spot"), False)
    if clean_spot and platform != AWS:
        raise CloudOSValidationError(
            "spot", clean_spot, f"spot instances are only available on AWS, not on {platform!r}"
        )
    clean_shared = _read(shared, lambda v: parse_bool(v, "shared"), False)
    limit = _read(cost_limit, require_cost_limit, UNLIMITED_COST)
    shutdown = _read(shutdown_in, _check_shutdown_in, DEFAULT_SHUTDOWN_IN)
    parsed_mounts, parsed_links = _parse_paths(mounts, links, platform)
    clean_r_version = _read(r_version, require_r_version)
    master = _read(spark_master_type, lambda v: require_instance_type(v, AWS, "spark_master_type"))
    core = _read(spark_core_type, lambda v: require_instance_type(v, AWS, "spark_core_type"))
    workers = _read(spark_workers, require_spark_workers, DEFAULT_SPARK_WORKERS)
    is_rstudio, is_spark = backend == "rstudio", backend == "spark"
    return SessionSpec(
        name=clean_name,
        session_type=BACKEND_TO_SESSION_TYPE[backend],
        backend=backend,
        execution_platform=platform,
        instance_type=instance,
        storage_size=storage,
        spot=clean_spot,
        shared=clean_shared,
        cost_limit=limit,
        shutdown_in=shutdown,
        mounts=parsed_mounts,
        links=parsed_links,
        r_version=(clean_r_version or DEFAULT_R_VERSION) if is_rstudio else None,
        spark_master_type=(master or DEFAULT_SPARK_MASTER_TYPE) if is_spark else None,
        spark_core_type=(core or DEFAULT_SPARK_CORE_TYPE) if is_spark else None,
        spark_workers=workers,
    )


def make_resume_spec(
    *,
    execution_platform: Any,
    instance_type: Any = None,
    storage_size: Any = None,
    cost_limit: Any = None,
    shutdown_in: Any = None,
    mounts: Any = None,
    links: Any = None,
) -> ResumeSpec:
    """Check and convert rendered resume parameters into a :class:`ResumeSpec`.

    ``execution_platform`` is required: it decides which instance types, mounts and links are
    valid. Anything unset (``None``, ``""``, ``"None"``: see :func:`is_unset`) keeps the session's
    current setting.
    """
    platform = require_execution_platform(execution_platform, "execution_platform")
    instance = _read(instance_type, lambda v: require_instance_type(v, platform))
    storage = _read(storage_size, require_storage_size)
    limit = _read(cost_limit, require_cost_limit)
    shutdown = _read(shutdown_in, _check_shutdown_in)
    parsed_mounts, parsed_links = _parse_paths(mounts, links, platform)
    return ResumeSpec(
        execution_platform=platform,
        instance_type=instance,
        storage_size=storage,
        cost_limit=limit,
        shutdown_in=shutdown,
        mounts=parsed_mounts,
        links=parsed_links,
    )


# --- the official builders: raw arguments, checked here (see the module docstring) ---------------


def _shutdown_instant(shutdown_at: Any, parameter: str = "shutdown_at") -> str | None:
    """An instant in the API's UTC ``...Z`` form, or None when none was given."""
    if is_unset(shutdown_at):
        return None
    if isinstance(shutdown_at, datetime):
        return utc_timestamp(shutdown_at)
    moment = read_instant(stripped_string(shutdown_at, parameter, "an ISO-8601 instant or a datetime"))
    if moment is None:
        raise CloudOSValidationError(
            parameter,
            shutdown_at,
            "expected an ISO-8601 instant such as '2026-01-01T12:00:00Z' "
            "(a duration such as '12h' goes through parse_shutdown_duration first)",
        )
    return utc_timestamp(moment)


def _item_list(items: Any, parameter: str) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, dict) for item in items):
        raise CloudOSValidationError(parameter, items, "expected a list of payload items (dicts)")
    return list(items)


def non_blank(value: Any, parameter: str, problem: str = "a non-empty id is required") -> str:
    """``value`` stripped; refused (``problem``) when it is not a string or is blank."""
    if not isinstance(value, str) or not value.strip():
        raise CloudOSValidationError(parameter, value, problem)
    return value.strip()


def _instance_type(instance_type: Any, parameter: str = "instance_type") -> str:
    return non_blank(instance_type, parameter, "an instance type name is required")


def build_session_payload(
    name: str,
    backend: str,
    project_id: str,
    execution_platform: str = AWS,
    instance_type: str = DEFAULT_INSTANCE_TYPES[AWS],
    storage_size: int | str = DEFAULT_STORAGE_SIZE,
    is_spot: bool | str = False,
    is_shared: bool | str = False,
    cost_limit: float | str = UNLIMITED_COST,
    shutdown_at: str | datetime | None = None,
    data_files: list[dict[str, Any]] | None = None,
    s3_mounts: list[dict[str, Any]] | None = None,
    r_version: str | None = None,
    spark_master_type: str | None = None,
    spark_core_type: str | None = None,
    spark_workers: int | str = DEFAULT_SPARK_WORKERS,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The official creation builder: checks its raw arguments, then builds the spec's body.

    Checked in the official order (name, storage, backend, platform, Spark only on AWS, RStudio
    needs an R version, Spark needs master and core types), then the extra checks listed in the
    module docstring. ``shutdown_at`` empty means ``now + 24h`` (``now`` defaults to the clock).
    ``fuseFileSystems`` is always a list: the links on AWS, ``[]`` on Azure (as the official client).
    """
    clean_name = require_session_name(name, "name")
    storage = require_storage_size(storage_size, "storage_size")
    clean_backend = require_backend(backend, "backend")
    platform = require_execution_platform(execution_platform, "execution_platform")
    check_spark_platform(clean_backend, platform, "backend")
    if clean_backend == "rstudio" and not r_version:
        raise CloudOSValidationError(
            "r_version", r_version, f"an R version is required for RStudio sessions ({', '.join(R_VERSIONS)})"
        )
    clean_r_version = require_r_version(r_version, "r_version") if clean_backend == "rstudio" else None
    is_spark = clean_backend == "spark"
    for parameter, value in (("spark_master_type", spark_master_type), ("spark_core_type", spark_core_type)):
        if is_spark and not value:
            raise CloudOSValidationError(
                parameter, value, "Spark sessions need both a master and a core instance type"
            )
    project = require_object_id(project_id, "project_id", "project id")
    instance = _instance_type(instance_type)
    spot = parse_bool(is_spot, "is_spot")
    shared = parse_bool(is_shared, "is_shared")
    limit = require_cost_limit(cost_limit, "cost_limit")
    data_items = _item_list(data_files, "data_files")
    fuse_items = _item_list(s3_mounts, "s3_mounts")
    if platform != AWS:
        s3_files = [item for item in data_items if item.get("type") == "S3File"]
        if s3_files:
            raise CloudOSValidationError(
                "data_files", s3_files[0], f"S3 files can only be mounted on AWS, not on {platform!r}"
            )
        if fuse_items:
            raise CloudOSValidationError(
                "s3_mounts", fuse_items, f"linking folders is only supported on AWS, not on {platform!r}"
            )
    spec = SessionSpec(
        name=clean_name,
        session_type=BACKEND_TO_SESSION_TYPE[clean_backend],
        backend=clean_backend,
        execution_platform=platform,
        instance_type=instance,
        storage_size=storage,
        spot=spot,
        shared=shared,
        cost_limit=limit,
        shutdown_in="24h",  # with no shutdown instant given, the official builder stops it after 24 hours
        mounts=(),
        links=(),
        r_version=clean_r_version,
        spark_master_type=_instance_type(spark_master_type, "spark_master_type") if is_spark else None,
        spark_core_type=_instance_type(spark_core_type, "spark_core_type") if is_spark else None,
        spark_workers=require_spark_workers(spark_workers) if is_spark else DEFAULT_SPARK_WORKERS,
    )
    return spec.to_payload(project, data_items, fuse_items, now, _shutdown_instant(shutdown_at))


def build_resume_payload(
    instance_type: str | None = None,
    storage_size: int | str | None = None,
    cost_limit: float | str | None = None,
    shutdown_at: str | datetime | None = None,
    data_files: list[dict[str, Any]] | None = None,
    s3_mounts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The official resume builder: checks its raw arguments (None: keep), then builds the body."""
    spec = ResumeSpec(
        execution_platform=AWS,  # not read by the body; the official builder does not know it
        instance_type=None if instance_type is None else _instance_type(instance_type),
        storage_size=None if storage_size is None else require_storage_size(storage_size, "storage_size"),
        cost_limit=None if cost_limit is None else require_cost_limit(cost_limit, "cost_limit"),
        shutdown_in=None,
        mounts=(),
        links=(),
    )
    return spec.to_payload(
        _item_list(data_files, "data_files"),
        _item_list(s3_mounts, "s3_mounts"),
        None,
        _shutdown_instant(shutdown_at),
    )


# --- items to mount and link ----------------------------------------------------------------------


def build_s3_file_item(parsed: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """An ``S3File`` item for a ``s3://bucket/key`` parsed by :func:`parse_data_file` (or a file link).

    Named after the whole key, as the official CLI names mounted files; links pass the mount
    name (the key's last segment) instead. The parser checked the path: this trusts it.
    """
    key = parsed["s3_prefix"]
    return {
        "type": "S3File",
        "data": {"name": name or key, "s3BucketName": parsed["s3_bucket"], "s3ObjectKey": key},
    }


def build_s3_link_item(parsed: dict[str, Any]) -> dict[str, Any]:
    """The item for an S3 or legacy link parsed by :func:`parse_link_path`: an ``S3File`` named by its
    last segment, else an ``S3Folder``.

    A folder is named after the legacy mount name, else the last prefix segment, else the bucket;
    its prefix ends with ``/`` (a whole bucket keeps the empty prefix), as the parser made it.
    """
    if parsed.get("is_file"):
        return build_s3_file_item(parsed, name=link_mount_name(parsed))
    data = {
        "name": link_mount_name(parsed),
        "s3BucketName": parsed["s3_bucket"],
        "s3Prefix": parsed["s3_prefix"],
    }
    return {"type": "S3Folder", "data": data}


def build_project_folder_item(project_name: str, folder_path: str) -> dict[str, Any]:
    """An ``S3Folder`` item for a CloudOS project folder: bucket = project, prefix = folder path + ``/``.

    ``folder_path`` is ``a/b/c``, as :func:`parse_link_path` normalised it and resolving found it.
    """
    data = {
        "name": folder_path.rpartition("/")[2],
        "s3BucketName": project_name,
        "s3Prefix": f"{folder_path}/",
    }
    return {"type": "S3Folder", "data": data}


def build_file_item(file_id: str, file_name: str) -> dict[str, Any]:
    """A CloudOS dataset file to mount, by id."""
    item = non_blank(file_id, "file_id", "a file id is required")
    non_blank(file_name, "file_name", "a file name is required")
    return {"kind": "File", "item": item, "name": file_name}
