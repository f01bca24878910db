"""A session's saved results as Airflow assets: the pause that saves them wakes the DAGs waiting on them.

A session writes into the folders it links; its results exist once a pause with upload has saved
them. So the tasks that pause sessions (the stop operator, the session block's teardown, which is
one, and the fleet pause) record then one asset event per linked folder, with no ``outlets`` from
the user: each declares the asset alias :data:`RESULTS_ALIAS` and adds the folders' assets to it
at run time, since only then are they known (templated links, the session object).

Only a pause that saved data records events: this task's request paused a live session with
upload and without force, and the task saw the session paused. None for a pause without upload,
a forced one, one of a session already paused or stopping, one that failed or timed out (the
task fails), one the task did not wait for (the data is not saved yet when it ends), a dry run.

Which folders: the session object lists them (``fuseFileSystems``) where CloudOS reports it; what
each one is, the create or resume task of the same run that linked it recorded
(:data:`XCOM_LINKED_FOLDERS`), and the rest are looked up. The URIs are the lineage names of
:mod:`airflow_provider_cloudos.core.lineage`; the Airflow differences are in
:mod:`airflow_provider_cloudos.compat`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_cloudos.compat import add_asset_event, asset_alias, context_task_instance
from airflow_provider_cloudos.core.errors import CloudOSError
from airflow_provider_cloudos.core.lineage import (
    DataLocation,
    asset_uri,
    cloudos_namespace,
    linked_folder_uris,
    saved_results_extra,
)
from airflow_provider_cloudos.core.report import describe_access_item
from airflow_provider_cloudos.core.status import PAUSED

#: The asset alias every pausing task declares in its outlets; its events are the saved folders.
RESULTS_ALIAS = "cloudos_session_results"
#: XCom key under which a create or resume task keeps what each folder it linked is.
XCOM_LINKED_FOLDERS = "cloudos_linked_folders"
#: XCom key under which a deferring stop task keeps the folders its pause is saving into.
XCOM_SAVING_INTO = "cloudos_saving_into"


def saves_results(requested: bool, upload_on_close: bool, force: bool) -> bool:
    """Whether a pause saves the session's data: this task's request (not someone else's), with
    upload, not forced (a forced pause may stop before the upload ends)."""
    return requested and upload_on_close and not force


def push_linked_folders(
    context: Any, hook: Any, session_id: str, links: Iterable[tuple[dict[str, Any], DataLocation]]
) -> None:
    """Keep, for the pause that will save into them, what each folder a create or resume task linked is.

    Keyed by how the session object shows the folder's item; nothing is pushed for no links.
    """
    located = list(links)
    ti = context_task_instance(context)
    if not located or ti is None:
        return
    namespace = cloudos_namespace(hook.base_url, str(hook.workspace_id))
    folders = {describe_access_item(item): asset_uri(location, namespace) for item, location in located}
    ti.xcom_push(key=XCOM_LINKED_FOLDERS, value={"session_id": session_id, "folders": folders})


def with_results_alias(outlets: Any) -> list[Any]:
    """A pausing task's outlets: the user's (they keep Airflow's own events) and :data:`RESULTS_ALIAS`."""
    given = [] if outlets is None else list(outlets) if isinstance(outlets, (list, tuple)) else [outlets]
    return [*given, asset_alias(RESULTS_ALIAS)]


def _links_folders(task: Any) -> bool:
    """Whether ``task`` is a create or resume task (a mapped one keeps its class apart)."""
    from airflow_provider_cloudos.operators.session_task import CloudOSSessionStartOperator

    operator_class = getattr(task, "operator_class", None) or type(task)
    return isinstance(operator_class, type) and issubclass(operator_class, CloudOSSessionStartOperator)


def linked_in_this_run(task: Any, context: Any, session_id: str) -> dict[str, str]:
    """What the create and resume tasks upstream of ``task`` recorded about ``session_id``'s folders."""
    ti = context_task_instance(context)
    if ti is None:
        return {}
    known: dict[str, str] = {}
    for upstream in task.get_flat_relatives(upstream=True):
        if not _links_folders(upstream):
            continue
        pulled = ti.xcom_pull(task_ids=upstream.task_id, key=XCOM_LINKED_FOLDERS)
        for record in pulled if isinstance(pulled, list) else [pulled]:
            if (
                isinstance(record, Mapping)
                and record.get("session_id") == session_id
                and isinstance(record.get("folders"), Mapping)
            ):
                known.update({str(key): str(uri) for key, uri in record["folders"].items()})
    return known


def saved_folders(task: Any, session: Mapping[str, Any], known: Mapping[str, str] | None = None) -> list[str]:
    """The asset URIs of the folders ``session`` links (``known``: what the run's tasks recorded)."""
    hook = task.hook

    def locate_uri(item: Mapping[str, Any]) -> str | None:
        """The asset URI of a folder the session object lists and no task of the run recorded."""
        try:
            location = hook.locate_session_link(dict(item))
        except CloudOSError as error:
            task.log.warning("Could not tell which folder %s is: %s", describe_access_item(item), error)
            return None
        if location is None:
            return None
        return asset_uri(location, cloudos_namespace(hook.base_url, str(hook.workspace_id)))

    return linked_folder_uris(session, known or {}, locate_uri)


def record_saved_results(
    task: Any, context: Any, summary: Mapping[str, Any], uris: Iterable[str]
) -> list[str]:
    """One asset event per folder in ``uris``, once the session is seen paused; the URIs recorded.

    Called after a pause that saves data (:func:`saves_results`) was waited for, with the summary
    of the session as the wait ended (a trigger's event carries it: no second read).
    """
    log = task.log
    session_id = summary.get("id")
    status = summary.get("status")
    if status != PAUSED:
        log.info("Session %s ended %s, not paused: no asset event", session_id, status)
        return []
    folders = list(uris)
    if not folders:
        log.info("Session %s saved its data but links no folder: no asset event", session_id)
        return []
    extra = saved_results_extra(summary)
    recorded = []
    for uri in folders:
        try:
            recorded.append(add_asset_event(context, RESULTS_ALIAS, uri, extra))
        except Exception as error:  # the data is saved; a folder Airflow refuses must not fail the pause
            log.error("Could not record the asset event of %s: %s", uri, error)
    if recorded:
        log.info(
            "Session %s saved its data: asset event(s) for %s (alias %r)",
            session_id,
            ", ".join(recorded),
            RESULTS_ALIAS,
        )
    return recorded


__all__ = [
    "RESULTS_ALIAS",
    "XCOM_LINKED_FOLDERS",
    "XCOM_SAVING_INTO",
    "linked_in_this_run",
    "push_linked_folders",
    "record_saved_results",
    "saved_folders",
    "saves_results",
    "with_results_alias",
]
