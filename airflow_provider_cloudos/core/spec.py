"""Typed, fully checked descriptions of a session to create or resume.

The operators hand over their parameters *after* Airflow rendered the templates, so every value
may be a string (``"500"``, ``"true"``, ``'["a", "b"]'``, ``"a,b"``), and an unset value (``""``,
``"None"``: the one rule is in :mod:`~.unset`) means the parameter's default. :func:`make_session_spec` and
:func:`make_resume_spec` convert and check everything at once, before any HTTP call, and every
error names the operator parameter exactly as the DAG author wrote it. Paths are parsed but not
resolved (resolution needs the API); the auto-shutdown duration is checked now but turned into an
instant only when the payload is built, so a task that waits in a queue still gets its full
duration.

This is the one place a value is checked and given its default (the operators pass what the DAG
gave, ``None`` when nothing); the request bodies are built from the spec and trust it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_provider_cloudos.core.durations import parse_shutdown_duration, parse_shutdown_timedelta
from airflow_provider_cloudos.core.paths import parse_data_files, parse_link_paths
from airflow_provider_cloudos.core.payloads import resume_body, session_body
from airflow_provider_cloudos.core.unset import is_unset
from airflow_provider_cloudos.core.validators import (
    AWS,
    BACKEND_TO_SESSION_TYPE,
    DEFAULT_INSTANCE_TYPES,
    DEFAULT_R_VERSION,
    DEFAULT_SPARK_WORKERS,
    DEFAULT_STORAGE_SIZE,
    UNLIMITED_COST,
    check_duplicate_link_names,
    check_link_count,
    check_links_platform,
    check_mounts_platform,
    check_spark_platform,
    check_spot_platform,
    parse_bool,
    require_cost_limit,
    require_execution_platform,
    require_instance_type,
    require_r_version,
    require_session_name,
    require_session_type,
    require_spark_workers,
    require_storage_size,
)

DEFAULT_SHUTDOWN_IN = "12h"
DEFAULT_SPARK_MASTER_TYPE = "c5.2xlarge"
DEFAULT_SPARK_CORE_TYPE = "c5.xlarge"

ParsedPaths = tuple[dict[str, Any], ...]


def _read(value: Any, check: Callable[[Any], Any], default: Any = None) -> Any:
    """``check(value)``, the one check of a parameter; unset, ``default`` (checked too), or None if none."""
    if is_unset(value):
        if default is None:
            return None
        value = default
    return check(value)


def _check_shutdown_in(shutdown_in: Any) -> str:
    """The checked duration as a unit string (``"8H"`` → ``"8h"``, a timedelta in seconds)."""
    delta = parse_shutdown_timedelta(shutdown_in, parameter="shutdown_in")
    return (
        shutdown_in.strip().lower()
        if isinstance(shutdown_in, str)
        else f"{math.ceil(delta.total_seconds())}s"
    )


def _parse_paths(mounts: Any, links: Any, platform: str) -> tuple[ParsedPaths, ParsedPaths]:
    parsed_mounts = tuple(parse_data_files(mounts, parameter="mounts"))
    parsed_links = tuple(parse_link_paths(links, parameter="links"))
    check_mounts_platform(parsed_mounts, platform, "mounts")
    check_links_platform(parsed_links, platform, "links")
    check_link_count(parsed_links, "links")
    check_duplicate_link_names(parsed_links, "links")
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
        return parse_shutdown_duration(self.shutdown_in, now, parameter="shutdown_in")

    def to_payload(
        self,
        project_id: str,
        data_items: list[dict[str, Any]] | None,
        fuse_file_systems: list[dict[str, Any]] | None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """The creation body, with the resolved ``mounts`` and ``links`` items.

        Nothing is checked again: the spec's values were checked when it was made, its paths
        fit its platform, and the items are what those paths resolved to.
        """
        return session_body(
            name=self.name,
            backend=self.backend,
            project_id=project_id,
            execution_platform=self.execution_platform,
            instance_type=self.instance_type,
            storage_size=self.storage_size,
            spot=self.spot,
            shared=self.shared,
            cost_limit=self.cost_limit,
            shutdown_at=self.shutdown_at(now),
            data_items=list(data_items or []),
            fuse_items=list(fuse_file_systems or []),
            r_version=self.r_version,
            spark_master_type=self.spark_master_type,
            spark_core_type=self.spark_core_type,
            spark_workers=self.spark_workers,
        )


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
    def changes_configuration(self) -> bool:
        """True when the instance, storage, cost limit or auto-shutdown changes."""
        return any(
            value is not None
            for value in (self.instance_type, self.storage_size, self.cost_limit, self.shutdown_in)
        )

    @property
    def is_empty(self) -> bool:
        """True for a plain resume: nothing changes and nothing is mounted or linked."""
        return not self.changes_configuration and not self.mounts and not self.links

    def shutdown_at(self, now: datetime | None = None) -> str | None:
        """The new auto-shutdown instant for a session resumed at ``now``, or None to keep it."""
        if self.shutdown_in is None:
            return None
        return parse_shutdown_duration(self.shutdown_in, now, parameter="shutdown_in")

    def to_payload(
        self,
        data_items: list[dict[str, Any]] | None = None,
        fuse_file_systems: list[dict[str, Any]] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """The resume body, with the resolved ``mounts`` and ``links`` items."""
        return resume_body(
            instance_type=self.instance_type,
            storage_size=self.storage_size,
            cost_limit=self.cost_limit,
            shutdown_at=self.shutdown_at(now),
            data_items=list(data_items or []),
            fuse_items=list(fuse_file_systems or []),
        )


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
    check_spot_platform(clean_spot, platform, "spot")
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
    valid. Anything unset (``None``, ``""``, ``"None"``: see :mod:`~.unset`) keeps the session's
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


__all__ = [
    "DEFAULT_SHUTDOWN_IN",
    "DEFAULT_SPARK_CORE_TYPE",
    "DEFAULT_SPARK_MASTER_TYPE",
    "DEFAULT_SPARK_WORKERS",
    "DEFAULT_STORAGE_SIZE",
    "UNLIMITED_COST",
    "ResumeSpec",
    "SessionSpec",
    "make_resume_spec",
    "make_session_spec",
]
