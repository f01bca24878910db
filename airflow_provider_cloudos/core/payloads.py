"""Request bodies for creating and resuming sessions, and the items they mount and link.

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

Instance types are not checked here (as in the official builder: the caller knows the platform's
catalogue). The operators never come through these two: :mod:`~airflow_provider_cloudos.core.spec`
checks every value once, instance types included, and the spec builds the body
(``to_payload``), trusting what it holds. These two check their raw arguments, then build a spec
from them and let it build the body too, so both paths put the same bytes on the wire.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.spec import (
    AWS,
    BACKEND_TO_SESSION_TYPE,
    DEFAULT_INSTANCE_TYPES,
    DEFAULT_SPARK_WORKERS,
    DEFAULT_STORAGE_SIZE,
    R_VERSIONS,
    UNLIMITED_COST,
    ResumeSpec,
    SessionSpec,
    check_spark_platform,
    describe_path,
    is_unset,
    link_mount_name,
    parse_bool,
    read_instant,
    require_backend,
    require_cost_limit,
    require_execution_platform,
    require_object_id,
    require_r_version,
    require_session_name,
    require_spark_workers,
    require_storage_size,
    utc_timestamp,
)

# --- small checks shared by both builders -------------------------------------------------------


def _shutdown_instant(shutdown_at: Any, parameter: str = "shutdown_at") -> str | None:
    """An instant in the API's UTC ``...Z`` form, or None when none was given."""
    if is_unset(shutdown_at):
        return None
    if isinstance(shutdown_at, datetime):
        return utc_timestamp(shutdown_at)
    if not isinstance(shutdown_at, str):
        raise CloudOSValidationError(
            parameter,
            shutdown_at,
            f"expected an ISO-8601 instant or a datetime, got {type(shutdown_at).__name__}",
        )
    moment = read_instant(shutdown_at.strip())
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


def _instance_type(instance_type: Any, parameter: str = "instance_type") -> str:
    if not isinstance(instance_type, str) or not instance_type.strip():
        raise CloudOSValidationError(parameter, instance_type, "an instance type name is required")
    return instance_type.strip()


# --- the official builders: raw arguments, checked here -------------------------------------------


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
    clean_r_version: str | None = None
    if clean_backend == "rstudio":
        if not r_version:
            raise CloudOSValidationError(
                "r_version",
                r_version,
                f"an R version is required for RStudio sessions ({', '.join(R_VERSIONS)})",
            )
        clean_r_version = require_r_version(r_version, "r_version")
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
        spark_workers=require_spark_workers(spark_workers, "spark_workers")
        if is_spark
        else DEFAULT_SPARK_WORKERS,
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


def _require_s3(parsed: Any, parameter: str) -> tuple[str, str]:
    if not isinstance(parsed, dict) or parsed.get("type") != "s3" or not parsed.get("s3_bucket"):
        raise CloudOSValidationError(
            parameter, parsed, "expected a parsed S3 path (from parse_data_file/parse_link_path)"
        )
    return str(parsed["s3_bucket"]), str(parsed.get("s3_prefix") or "")


def build_s3_file_item(parsed: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """An ``S3File`` item for a parsed ``s3://bucket/key``.

    Named after the whole key, as the official CLI names mounted files; links pass the mount
    name (the key's last segment) instead.
    """
    bucket, key = _require_s3(parsed, "mounts")
    if not key or key.endswith("/"):
        raise CloudOSValidationError("mounts", describe_path(parsed), "an S3 file needs an object key")
    return {"type": "S3File", "data": {"name": name or key, "s3BucketName": bucket, "s3ObjectKey": key}}


def build_s3_link_item(parsed: dict[str, Any]) -> dict[str, Any]:
    """The item for a parsed S3 or legacy link: an ``S3File`` named by its last segment, else an ``S3Folder``.

    A folder is named after the legacy mount name, else the last prefix segment, else the bucket;
    its prefix ends with ``/`` (a whole bucket keeps the empty prefix).
    """
    if parsed.get("is_file"):
        return build_s3_file_item(parsed, name=link_mount_name(parsed))
    bucket, prefix = _require_s3(parsed, "links")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = {**parsed, "s3_prefix": prefix, "is_file": False}
    return {
        "type": "S3Folder",
        "data": {"name": link_mount_name(folder), "s3BucketName": bucket, "s3Prefix": prefix},
    }


def build_project_folder_item(project_name: str, folder_path: str) -> dict[str, Any]:
    """An ``S3Folder`` item for a CloudOS project folder: bucket = project, prefix = folder path + ``/``."""
    if not isinstance(project_name, str) or not project_name.strip():
        raise CloudOSValidationError("links", project_name, "the project name is empty")
    segments = [segment.strip() for segment in str(folder_path or "").split("/") if segment.strip()]
    if not segments:
        raise CloudOSValidationError("links", folder_path, "the folder path inside the project is empty")
    return {
        "type": "S3Folder",
        "data": {
            "name": segments[-1],
            "s3BucketName": project_name.strip(),
            "s3Prefix": "/".join(segments) + "/",
        },
    }


def build_file_item(file_id: str, file_name: str) -> dict[str, Any]:
    """A CloudOS dataset file to mount, by id."""
    if not isinstance(file_id, str) or not file_id.strip():
        raise CloudOSValidationError("file_id", file_id, "a file id is required")
    if not isinstance(file_name, str) or not file_name.strip():
        raise CloudOSValidationError("file_name", file_name, "a file name is required")
    return {"kind": "File", "item": file_id.strip(), "name": file_name}
