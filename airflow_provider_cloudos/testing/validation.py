"""Payload checks the simulator applies before it accepts a create, resume or abort.

Each refusal is a 400 whose message starts with the payload field at fault, written as its
path (``interactiveSessionConfiguration.storageSizeInGb``, ``dataItems.1``: an index after a dot,
since square brackets are lost in Airflow's CLI tables), so a test can tell exactly which field
the provider got wrong. The rules are those of ``cloudos-api.md``.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_provider_cloudos.testing.messages import ApiError
from airflow_provider_cloudos.testing.seed import Seed, SeedFile, SeedProject

BACKENDS = ("regular", "vscode", "spark", "rstudio")
PLATFORMS = ("aws", "azure")
VISIBILITIES = ("private", "workspace")
MIN_STORAGE_GB = 100
MAX_STORAGE_GB = 5000
DEFAULT_STORAGE_GB = 500
MAX_NAME_LENGTH = 100
DEFAULT_INSTANCE_TYPE = {"aws": "c5.xlarge", "azure": "Standard_F1s"}
NO_COST_LIMIT = -1

_OBJECT_ID = re.compile(r"[0-9a-fA-F]{24}")
CONFIG = "interactiveSessionConfiguration"
NEW_CONFIG = "newInteractiveSessionConfiguration"


def is_object_id(value: Any) -> bool:
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None


def refuse(field: str, problem: str) -> ApiError:
    return ApiError(400, f"{field} {problem}")


@dataclass
class CreateRequest:
    """An accepted creation: the project it goes to and the configuration with defaults filled."""

    project: SeedProject
    config: dict[str, Any]
    data_items: list[Any]
    fuse_file_systems: list[Any]
    file_system_ids: list[Any]


@dataclass
class ResumeRequest:
    """What a resume changes; ``None`` means unchanged."""

    instance_type: str | None
    storage_size_gb: int | None
    cost_limit: float | None
    auto_shutdown_at: str | None
    data_items: list[Any]
    fuse_file_systems: list[Any]
    file_system_ids: list[Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _object(body: Any, field: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise refuse(field, f"must be a JSON object (got {type(body).__name__})")
    return body


def _list(body: dict[str, Any], field: str) -> list[Any]:
    value = body.get(field, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise refuse(field, f"must be a list (got {type(value).__name__})")
    return value


def _storage(value: Any, field: str) -> int:
    if not _is_number(value) or value != int(value):
        raise refuse(field, f"must be a whole number of GB (got {value!r})")
    size = int(value)
    if not MIN_STORAGE_GB <= size <= MAX_STORAGE_GB:
        raise refuse(field, f"must be between {MIN_STORAGE_GB} and {MAX_STORAGE_GB} GB (got {size})")
    return size


def _instance_type(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse(field, f"must be a non-empty string (got {value!r})")
    return value.strip()


def _cost_limit(value: Any, field: str) -> float:
    if not _is_number(value) or (value < 0 and value != NO_COST_LIMIT):
        raise refuse(field, f"must be -1 (no limit) or a non-negative amount of USD (got {value!r})")
    return float(value)


def _instant(value: Any, field: str) -> str:
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return value.strip()
    raise refuse(field, f"must be an ISO-8601 date and time (got {value!r})")


def _execution(value: Any, field: str) -> tuple[float | None, str | None]:
    execution = _object(value, field)
    limit = execution.get("computeCostLimit")
    shutdown = execution.get("autoShutdownAtDate")
    return (
        None if limit is None else _cost_limit(limit, f"{field}.computeCostLimit"),
        None if shutdown is None else _instant(shutdown, f"{field}.autoShutdownAtDate"),
    )


def _data_items(items: list[Any], platform: str, seed: Seed) -> list[Any]:
    for index, item in enumerate(items):
        field = f"dataItems.{index}"
        if isinstance(item, dict) and item.get("type") == "S3File":
            data = item.get("data")
            if (
                not isinstance(data, dict)
                or not isinstance(data.get("s3BucketName"), str)
                or not data["s3BucketName"]
                or not isinstance(data.get("s3ObjectKey"), str)
                or not data["s3ObjectKey"]
            ):
                raise refuse(field, "of type S3File needs data.s3BucketName and data.s3ObjectKey")
            if platform != "aws":
                raise refuse(field, f"of type S3File is not supported on executionPlatform {platform}")
        elif isinstance(item, dict) and item.get("kind") == "File":
            file_id = item.get("item")
            if not is_object_id(file_id):
                raise refuse(f"{field}.item", f"must be a 24-hex file id (got {file_id!r})")
            if not isinstance(seed.by_id(str(file_id)), SeedFile):
                raise refuse(f"{field}.item", f"{file_id} is not an existing file")
        else:
            raise refuse(
                field,
                "must be {type: S3File, data: {s3BucketName, s3ObjectKey}} or {kind: File, item: <file id>}",
            )
    return copy.deepcopy(items)


def _fuse_file_systems(items: list[Any], platform: str) -> list[Any]:
    if items and platform == "azure":
        raise refuse("fuseFileSystems", "are not supported on executionPlatform azure")
    for index, item in enumerate(items):
        data = item.get("data") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or item.get("type") != "S3Folder"
            or not isinstance(data, dict)
            or not all(isinstance(data.get(key), str) and data[key] for key in ("name", "s3BucketName"))
            or not isinstance(data.get("s3Prefix"), str)
        ):
            raise refuse(
                f"fuseFileSystems.{index}", "must be {type: S3Folder, data: {name, s3BucketName, s3Prefix}}"
            )
    return copy.deepcopy(items)


def _choice(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise refuse(field, f"must be one of {', '.join(allowed)} (got {value!r})")
    return str(value)


def validate_create(body: Any, seed: Seed) -> CreateRequest:
    """Check a creation payload; the first problem found is refused."""
    payload = _object(body, "request body")
    project_id = payload.get("projectId")
    if project_id is None or project_id == "":
        raise refuse("projectId", "is required")
    if not is_object_id(project_id):
        raise refuse("projectId", f"must be a 24-hex project id (got {project_id!r})")
    project = seed.by_id(str(project_id))
    if not isinstance(project, SeedProject):
        raise refuse("projectId", f"{project_id} does not match any project in this workspace")
    if CONFIG not in payload:
        raise refuse(CONFIG, "is required")
    config = copy.deepcopy(_object(payload[CONFIG], CONFIG))

    name = config.get("name")
    if not isinstance(name, str) or not name:
        raise refuse(f"{CONFIG}.name", "is required")
    if len(name) > MAX_NAME_LENGTH:
        raise refuse(f"{CONFIG}.name", f"must be 1 to {MAX_NAME_LENGTH} characters long (got {len(name)})")
    backend = _choice(config.get("backend"), f"{CONFIG}.backend", BACKENDS)
    platform = _choice(config.get("executionPlatform"), f"{CONFIG}.executionPlatform", PLATFORMS)
    config["instanceType"] = _instance_type(
        config.get("instanceType", DEFAULT_INSTANCE_TYPE[platform]), f"{CONFIG}.instanceType"
    )
    config["storageSizeInGb"] = _storage(
        config.get("storageSizeInGb", DEFAULT_STORAGE_GB), f"{CONFIG}.storageSizeInGb"
    )
    cost_saving = config.get("isCostSaving", False)
    if not isinstance(cost_saving, bool):
        raise refuse(f"{CONFIG}.isCostSaving", f"must be true or false (got {cost_saving!r})")
    config["isCostSaving"] = cost_saving
    config["visibility"] = _choice(config.get("visibility", "private"), f"{CONFIG}.visibility", VISIBILITIES)
    execution = config.get("execution")
    limit, shutdown = _execution({} if execution is None else execution, f"{CONFIG}.execution")
    config["execution"] = {
        "computeCostLimit": NO_COST_LIMIT if limit is None else limit,
        "autoShutdownAtDate": shutdown,
    }
    if backend == "rstudio":
        r_version = config.get("rVersion")
        if not isinstance(r_version, str) or not r_version:
            raise refuse(f"{CONFIG}.rVersion", "is required for backend rstudio")
    if backend == "spark":
        if platform != "aws":
            raise refuse(f"{CONFIG}.backend", f"spark is not available on executionPlatform {platform}")
        if not isinstance(config.get("cluster"), dict) or not config["cluster"]:
            raise refuse(f"{CONFIG}.cluster", "is required for backend spark")
    data_items = _data_items(_list(payload, "dataItems"), platform, seed)
    fuse = _fuse_file_systems(_list(payload, "fuseFileSystems"), platform)
    file_system_ids = copy.deepcopy(_list(payload, "fileSystemIds"))
    return CreateRequest(project, config, data_items, fuse, file_system_ids)


def validate_resume(body: Any, platform: str, seed: Seed) -> ResumeRequest:
    """Check a resume payload for a session on ``platform``; everything in it is optional."""
    payload = _object({} if body is None else body, "request body")
    instance_type = storage = limit = shutdown = None
    if payload.get(NEW_CONFIG) is not None:
        new_config = _object(payload[NEW_CONFIG], NEW_CONFIG)
        if "instanceType" in new_config:
            instance_type = _instance_type(new_config["instanceType"], f"{NEW_CONFIG}.instanceType")
        if "storageSizeInGb" in new_config:
            storage = _storage(new_config["storageSizeInGb"], f"{NEW_CONFIG}.storageSizeInGb")
        if new_config.get("execution") is not None:
            limit, shutdown = _execution(new_config["execution"], f"{NEW_CONFIG}.execution")
    return ResumeRequest(
        instance_type=instance_type,
        storage_size_gb=storage,
        cost_limit=limit,
        auto_shutdown_at=shutdown,
        data_items=_data_items(_list(payload, "dataItems"), platform, seed),
        fuse_file_systems=_fuse_file_systems(_list(payload, "fuseFileSystems"), platform),
        file_system_ids=copy.deepcopy(_list(payload, "fileSystemIds")),
    )


def validate_abort(body: Any) -> tuple[bool, bool]:
    """``(uploadOnClose, forceAbort)``; both default to false when left out."""
    payload = _object({} if body is None else body, "request body")
    flags = []
    for field in ("uploadOnClose", "forceAbort"):
        value = payload.get(field, False)
        if not isinstance(value, bool):
            raise refuse(field, f"must be true or false (got {value!r})")
        flags.append(value)
    return flags[0], flags[1]


__all__ = [
    "BACKENDS",
    "DEFAULT_INSTANCE_TYPE",
    "MAX_STORAGE_GB",
    "MIN_STORAGE_GB",
    "PLATFORMS",
    "CreateRequest",
    "ResumeRequest",
    "is_object_id",
    "validate_abort",
    "validate_create",
    "validate_resume",
]
