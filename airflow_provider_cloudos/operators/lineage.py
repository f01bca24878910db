"""OpenLineage methods of the create and resume operators: what data a session was given.

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
from airflow_provider_cloudos.core.paths import parse_data_files, parse_link_paths

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


class SessionLineageMixin:
    """Keeps what a task mounted and linked, and hands it to the OpenLineage provider."""

    #: The record of this try; a class default so that an instance made for a resumed
    #: (deferred) task starts without one and reads it back from XCom.
    _lineage: SessionLineage | None = None

    # Provided by the operator this is mixed into.
    mounts: Any
    links: Any
    hook: Any
    log: Any

    def _lineage_enabled(self) -> bool:
        """Whether lineage is kept at all: only where the OpenLineage provider is installed."""
        return openlineage_installed()

    def _record_lineage(
        self,
        context: Any,
        session: dict[str, Any],
        mounts: Iterable[DataLocation],
        links: Iterable[DataLocation],
    ) -> None:
        """Keep (and push to XCom) what this task gave ``session``; only with OpenLineage installed."""
        if not self._lineage_enabled():
            return
        lineage = SessionLineage.of(mounts, links, session, self.hook.base_url, str(self.hook.workspace_id))
        self._lineage = lineage
        context["ti"].xcom_push(key=XCOM_LINEAGE, value=lineage.to_xcom())

    def _restore_lineage(self, context: Any) -> None:
        """Back from a deferral: read the record the first half of the task pushed."""
        if self._lineage_enabled() and self._lineage is None:
            self._lineage = _lineage_from_xcom(context["ti"])

    def get_openlineage_facets_on_start(self) -> Any:
        """The S3 paths the task will mount and link: all that is known before resolving paths."""
        from airflow_provider_cloudos.openlineage import operator_lineage

        try:
            mounts = [static_location(parsed) for parsed in parse_data_files(self.mounts)]
            links = [static_location(parsed) for parsed in parse_link_paths(self.links)]
        except CloudOSValidationError:
            return operator_lineage(None)  # the task itself reports the bad value
        return operator_lineage(SessionLineage(_static_datasets(mounts), _static_datasets(links)))

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Every mounted file as an input, every linked folder as an output, and the session facet.

        Only what this instance holds: the provider calls this in a forked child on Airflow 3,
        where reading XCom can block until its timeout. A task that failed before its session
        existed reports nothing.
        """
        from airflow_provider_cloudos.openlineage import operator_lineage

        return operator_lineage(self._lineage)


def _lineage_from_xcom(task_instance: Any) -> SessionLineage | None:
    try:
        value = task_instance.xcom_pull(
            task_ids=task_instance.task_id, key=XCOM_LINEAGE, map_indexes=task_instance.map_index
        )
    except Exception as error:  # lineage must never fail a task; an unreadable record is no record
        log.warning("Could not read this task's lineage record from XCom: %s", error)
        return None
    return SessionLineage.from_xcom(value)


__all__ = ["XCOM_LINEAGE", "SessionLineageMixin", "openlineage_installed"]
