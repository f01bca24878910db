"""OpenLineage for the create and resume operators: what data a session was given.

The OpenLineage provider calls ``get_openlineage_facets_on_start`` when a task starts and
``get_openlineage_facets_on_complete`` when it ends (also on failure, as it has no method of its
own). The complete event is the one that matters: it names every mounted file (an input) and
every linked folder (an output), resolved to the path inside its dataset, and the session itself
(a ``cloudosSession`` run facet). The start event can name only what needs no API lookup, the
S3 paths.

Without the OpenLineage provider nothing here is imported or stored: the record is pushed to
XCom (key ``cloudos_lineage``) only when the provider is installed, because a task that defers
comes back as a new operator instance and must find its record again.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable
from functools import cache
from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.lineage import (
    DataLocation,
    LineageDataset,
    SessionLineage,
    lineage_dataset,
    static_location,
)
from airflow_provider_cloudos.core.spec import parse_data_files, parse_link_paths

#: XCom key of the lineage record (pushed only when the OpenLineage provider is installed).
XCOM_LINEAGE = "cloudos_lineage"

log = logging.getLogger(__name__)


@cache
def openlineage_installed() -> bool:
    """True when ``apache-airflow-providers-openlineage`` can be imported (nothing is imported to know)."""
    try:
        return importlib.util.find_spec("airflow.providers.openlineage") is not None
    except (ImportError, ValueError):
        return False


def _static_datasets(locations: Iterable[DataLocation | None]) -> list[LineageDataset]:
    # S3 names need no CloudOS namespace; CloudOS paths are not static, so none is needed here.
    return [lineage_dataset(location, "") for location in locations if location is not None]


def record_lineage(
    task: Any,
    context: Any,
    session: dict[str, Any],
    mounts: Iterable[DataLocation],
    links: Iterable[DataLocation],
) -> None:
    """Keep on ``task`` (and push to XCom) what it gave ``session``; only with OpenLineage installed."""
    if not openlineage_installed():
        return
    lineage = SessionLineage.of(mounts, links, session, task.hook.base_url, str(task.hook.workspace_id))
    task.session_lineage = lineage
    context["ti"].xcom_push(key=XCOM_LINEAGE, value=lineage.to_xcom())


def restore_lineage(task: Any, context: Any) -> None:
    """Back from a deferral: read the record the first half of the task pushed."""
    if openlineage_installed() and task.session_lineage is None:
        task.session_lineage = _lineage_from_xcom(context["ti"])


def lineage_on_start(mounts: Any, links: Any) -> Any:
    """The S3 paths a task will mount and link: all that is known before resolving paths."""
    from airflow_provider_cloudos.openlineage_facets import operator_lineage

    try:
        mounted = [static_location(parsed) for parsed in parse_data_files(mounts)]
        linked = [static_location(parsed) for parsed in parse_link_paths(links)]
    except CloudOSValidationError:
        return operator_lineage(None)  # the task itself reports the bad value
    return operator_lineage(SessionLineage(_static_datasets(mounted), _static_datasets(linked)))


def _lineage_from_xcom(task_instance: Any) -> SessionLineage | None:
    try:
        value = task_instance.xcom_pull(
            task_ids=task_instance.task_id, key=XCOM_LINEAGE, map_indexes=task_instance.map_index
        )
    except Exception as error:  # lineage must never fail a task; an unreadable record is no record
        log.warning("Could not read this task's lineage record from XCom: %s", error)
        return None
    return SessionLineage.from_xcom(value)


__all__ = ["XCOM_LINEAGE", "lineage_on_start", "openlineage_installed", "record_lineage", "restore_lineage"]
