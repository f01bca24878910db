"""Operators that act on many sessions of a workspace: pause the ones a filter selects, and report.

"Pause every running session at 8 pm except these" and "show me what is costing money" are the
jobs a scheduler is asked for and the official client cannot do. Both operators walk every page of
the list endpoint; the selection and the report rows are decided by the pure core
(:mod:`~airflow_provider_cloudos.core.selection`, :mod:`~airflow_provider_cloudos.core.report`), so
they can be tested and reasoned about alone.

The report's CSV goes to a local file or to any object store Airflow can reach: on a distributed
executor (Celery, Kubernetes) the worker's disk is gone with the task. A destination with a scheme
(``s3://``, ``gs://``, ``file://``, ``s3://aws_conn@bucket/key``...) is written through Airflow's
``ObjectStoragePath``, which finds the filesystem and the credentials; a path without one is a
local file.
"""

from __future__ import annotations

import inspect
import os
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

from airflow_provider_cloudos.compat import context_task_instance, object_storage_path
from airflow_provider_cloudos.core.errors import CloudOSError, CloudOSValidationError
from airflow_provider_cloudos.core.formatters import format_cost, format_duration, session_summary
from airflow_provider_cloudos.core.report import report_csv, summarize_report
from airflow_provider_cloudos.core.selection import SessionFilter
from airflow_provider_cloudos.core.spec import is_unset, parse_bool, parse_string_list
from airflow_provider_cloudos.core.status import PAUSED, TERMINATED, map_status, normalize_statuses
from airflow_provider_cloudos.core.waiting import BatchWatch, WaitEnd, batch_wait, run_blocking
from airflow_provider_cloudos.deferral import check_event, defer_to_trigger
from airflow_provider_cloudos.hooks.cloudos import task_call_deadline
from airflow_provider_cloudos.operators.cloudos_task import (
    CONNECTION_TEMPLATE_FIELDS,
    WAIT_TEMPLATE_FIELDS,
    CloudOSSessionOperatorBase,
    CloudOSTaskMixin,
    airflow_errors,
    check_literal_parameters,
    keep_parameters,
    record_saved_results,
    saved_folders,
    saves_results,
)

#: XCom key of the pause results, pushed before waiting (and before failing) so they survive both.
XCOM_PAUSE_RESULTS = "pause_results"
#: Per-session results of a pause.
PAUSED_NOW = "paused"
ALREADY_PAUSED = "already paused"
WOULD_PAUSE = "would pause"
FAILED_PREFIX = "failed: "
#: A paused session is done; so is a terminated one (it bills no more, and cannot be paused).
_SETTLED = (PAUSED, TERMINATED)
#: Sessions named in one log line listing a selection, at most.
_LOG_LIMIT = 20
#: The pause operator's parameters that select the sessions: ``SessionFilter.from_params``'s.
_FILTER_PARAMETERS = tuple(inspect.signature(SessionFilter.from_params).parameters)
#: A URL's scheme (RFC 3986), as in ``s3://`` or ``file://``; a Windows drive (``C:\``) is none.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
#: Schemes that are the worker's own disk: their folders are created, as for a plain path.
_LOCAL_PROTOCOLS = frozenset({"file", "local"})


class CloudOSPauseSessionsOperator(CloudOSSessionOperatorBase):
    """Pause every session of a workspace that a filter selects, e.g. all running ones at night.

    Walks every page of the session list. Each selected session is paused in turn; one that
    fails does not stop the others, and the task fails at the end listing every failure (the
    results are pushed to XCom under ``pause_results`` first). ``dry_run`` lists what would be
    paused and pauses nothing. With ``wait_for_paused`` the task then waits until every paused
    session is paused (or terminated): in the worker, or with ``deferrable`` in a single trigger
    for the whole batch; then each session whose pause saved its data (this task paused it, with
    upload, not forced, and it is paused) gets an asset event for each folder it links (see
    :mod:`~airflow_provider_cloudos.operators.cloudos_task`). Without the wait, nothing is saved yet
    when the task ends, and no event is recorded.

    Returns (XCom) ``{"dry_run": bool, "matched": [ids], "paused": [ids paused by this task],
    "results": {id: "paused" | "already paused" | "would pause" | "failed: <why>"},
    "names": {id: name}}``.

    Every parameter below is templated.

    :param statuses: which statuses to select (default ``running``); a list or comma-separated.
    :param only_owner: only sessions of the connection's user.
    :param name_pattern: only names matching this glob, e.g. ``"nightly-*"``.
    :param min_runtime: only sessions that have run at least this long (``"2h"``, seconds).
    :param min_cost_usd: only sessions that have cost at least this many USD.
    :param exclude_names: names (or globs) never to pause: the allow-list.
    :param exclude_ids: session ids never to pause.
    :param dry_run: report what would be paused, pause nothing (default false). Kept in the
        ``is_dry_run`` attribute (and template field): ``BaseOperator.dry_run`` is a method.
    :param upload_on_close: save each session's data before stopping (default true).
    :param force: force the pause (``forceAbort``).
    :param wait_for_paused: wait until all paused sessions are paused (default false).

    Also ``deferrable`` (one batch trigger for the wait), ``poll_interval`` and ``timeout``
    (:class:`~airflow_provider_cloudos.operators.cloudos_task.CloudOSSessionOperatorBase`), and
    ``cloudos_conn_id`` and ``workspace_id`` (:class:`CloudOSTaskMixin`). Every parameter is
    templated except ``deferrable``.
    """

    flag_parameters = ("upload_on_close", "force", "wait_for_paused")
    template_fields: Sequence[str] = (
        *_FILTER_PARAMETERS,
        "is_dry_run",
        *flag_parameters,
        *WAIT_TEMPLATE_FIELDS,
        *CONNECTION_TEMPLATE_FIELDS,
    )
    template_fields_renderers = {"exclude_names": "json", "exclude_ids": "json"}
    operator_extra_links = ()  # it acts on many sessions: no single session page to link to
    records_saved_results = True
    is_dry_run: bool | str

    def __init__(
        self,
        *,
        statuses: str | Sequence[str] = "running",
        only_owner: bool | str = False,
        name_pattern: str | None = None,
        min_runtime: str | float | None = None,
        min_cost_usd: float | str | None = None,
        exclude_names: str | Sequence[str] | None = None,
        exclude_ids: str | Sequence[str] | None = None,
        dry_run: bool | str = False,
        upload_on_close: bool | str = True,
        force: bool | str = False,
        wait_for_paused: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        keep_parameters(self, locals(), dry_run="is_dry_run")
        check_literal_parameters(self, self._validated)

    def _read_parameters(self) -> tuple[SessionFilter, bool]:
        """The selection and ``dry_run``; the flags are read where they are used."""
        selection = SessionFilter.from_params(**{name: getattr(self, name) for name in _FILTER_PARAMETERS})
        return selection, parse_bool(self.is_dry_run, "dry_run")

    # -- the work ---------------------------------------------------------------------------

    def _execute(self, context: Any) -> dict[str, Any]:
        selection, dry_run = self._validated()
        self._require_workspace()
        matched = self._select(selection)
        names = {str(s["_id"]): str(s.get("name") or "") for s in matched}
        if dry_run:
            for session in matched:
                self.log.info("Dry run: would pause %s", self._describe(session))
            self.log.info("Dry run: %d session(s) would be paused; nothing was changed", len(matched))
            return self._outcome(dict.fromkeys(names, WOULD_PAUSE), names, dry_run=True)
        upload, force = self._flag("upload_on_close"), self._flag("force")
        results = {str(session["_id"]): self._pause(session, upload, force) for session in matched}
        wait = self._flag("wait_for_paused")
        outcome = self._outcome(results, names, dry_run=False)
        failures = {sid: result for sid, result in results.items() if result.startswith(FAILED_PREFIX)}
        self.log.info(
            "Paused %d session(s), %d already paused, %d failed",
            len(outcome["paused"]),
            sum(result == ALREADY_PAUSED for result in results.values()),
            len(failures),
        )
        ti = context_task_instance(context)
        if (failures or (wait and results)) and ti is not None:
            ti.xcom_push(key=XCOM_PAUSE_RESULTS, value=outcome)
        if failures:
            listed = "; ".join(
                f"{sid} ({names[sid]}): {why[len(FAILED_PREFIX) :]}" for sid, why in failures.items()
            )
            raise AirflowException(f"Could not pause {len(failures)} of {len(results)} session(s): {listed}")
        if wait and results:
            self._record_fleet_results(context, outcome, self._wait_for_all(list(results)))
        elif outcome["paused"] and saves_results(True, upload, force):
            self.log.info("Not waiting for the saves to end, so no asset event is recorded")
        return outcome

    def _select(self, selection: SessionFilter) -> list[dict[str, Any]]:
        """Walk every page; keep what the filter selects; say why candidates were skipped."""
        self.log.info("Selecting %s", selection.describe())
        matched: list[dict[str, Any]] = []
        listed = 0
        with airflow_errors():
            for session in self.hook.iter_sessions(
                statuses=sorted(selection.statuses), only_owner=selection.only_owner, page_size=100
            ):
                listed += 1
                if not isinstance(session.get("_id"), str):
                    continue
                reason = selection.why_not(session)
                if reason is None:
                    matched.append(session)
                elif map_status(session.get("status")) in selection.statuses:
                    self.log.info("Skipping %s: %s", self._describe(session), reason)
        self.log.info("%d session(s) listed, %d selected", listed, len(matched))
        return matched

    def _describe(self, session: dict[str, Any]) -> str:
        summary = session_summary(session)
        return (
            f"session {summary['id']} {summary['name']!r} ({summary['status']}, "
            f"{format_cost(summary['cost_usd'])}, {format_duration(summary['runtime_seconds'])})"
        )

    def _pause(self, session: dict[str, Any], upload: bool, force: bool) -> str:
        """One session's pause; never raises, so one failure does not stop the others."""
        if map_status(session.get("status")) == PAUSED:
            return ALREADY_PAUSED
        try:
            requested = self.hook.pause_session(session["_id"], upload_on_close=upload, force=force)
        except CloudOSError as error:
            self.log.error("Could not pause %s: %s", self._describe(session), error)
            return f"{FAILED_PREFIX}{error}"
        self.log.info("%s %s", "Pausing" if requested else "Already pausing:", self._describe(session))
        return PAUSED_NOW if requested else ALREADY_PAUSED

    @staticmethod
    def _outcome(results: dict[str, str], names: dict[str, str], *, dry_run: bool) -> dict[str, Any]:
        return {
            "dry_run": dry_run,
            "matched": list(results),
            "paused": [sid for sid, result in results.items() if result == PAUSED_NOW],
            "results": results,
            "names": names,
        }

    # -- waiting ----------------------------------------------------------------------------

    def _wait_for_all(self, session_ids: list[str]) -> dict[str, str]:
        """Wait until every session is paused or terminated; return the status each one ended in."""
        poll, timeout = self._wait_settings()
        started = time.time()
        end_time = started + timeout
        if self._flag("deferrable"):
            # Imported here: parsing a DAG file needs no trigger module (see BENCHMARKS.md).
            from airflow_provider_cloudos.triggers.fleet import CloudOSFleetTrigger

            trigger = CloudOSFleetTrigger(
                session_ids=session_ids,
                end_time=end_time,
                cloudos_conn_id=self.cloudos_conn_id,
                workspace_id=self._workspace_override(),
                target_statuses=list(_SETTLED),
                failure_statuses=[],
                poll_interval=poll,
                started_at=started,
            )
            self.log.info(
                "Deferring until %d session(s) are paused (deadline in %.0fs)", len(session_ids), timeout
            )
            defer_to_trigger(self, trigger)
        watch = BatchWatch(session_ids, _SETTLED, started_at=started)

        def poll_round(pending: list[str]) -> None:
            for session_id in pending:
                try:
                    watch.observe(session_id, self.hook.get_session(session_id))
                except CloudOSError as error:
                    if watch.unread(session_id, error):
                        self.log.warning(
                            "CloudOS did not answer about session %s; will ask again: %s", session_id, error
                        )

        loop = batch_wait(
            watch, poll_interval=poll, end_time=end_time, clock=time.time, log=self.log.info, wait_first=False
        )
        result = run_blocking(loop, poll_round, time.sleep)
        if result.end is WaitEnd.FAILED:
            raise AirflowFailException(result.message)
        if result.end is WaitEnd.TIMED_OUT:
            raise AirflowException(result.message)
        return dict(watch.reached)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Back from the batch trigger: the results pushed before deferring, or a clear failure."""
        checked = check_event(event)
        self.log.info(checked.get("message"))
        ti = context["ti"]
        # This instance's own map index: without it Airflow 3 reads every instance of a mapped task.
        outcome = ti.xcom_pull(task_ids=self.task_id, key=XCOM_PAUSE_RESULTS, map_indexes=ti.map_index)
        if not isinstance(outcome, dict):
            raise AirflowException("The pause results pushed before waiting are missing from XCom")
        self._record_fleet_results(context, outcome, checked.get("reached") or {})
        return outcome

    def _record_fleet_results(self, context: Any, outcome: dict[str, Any], reached: dict[str, str]) -> None:
        """After the wait: the asset events of every session whose pause by this task saved its data.

        ``reached``: the status each session ended the wait in; only a paused one has saved. Each of
        those is read once more: what it links, when CloudOS saved it and what it cost by then.
        """
        if not saves_results(True, self._flag("upload_on_close"), self._flag("force")):
            return
        for session_id in [sid for sid in outcome["paused"] if reached.get(sid) == PAUSED]:
            try:
                session = self.hook.get_session(session_id)
            except CloudOSError as error:  # paused already: one unreadable session costs its events only
                self.log.error(
                    "Could not read session %s after its pause; no asset event: %s", session_id, error
                )
                continue
            record_saved_results(
                self, context, session_summary(session, self.hook.base_url), saved_folders(self, session)
            )


class CloudOSSessionReportOperator(CloudOSTaskMixin, BaseOperator):
    """Report on the workspace's sessions: status, type, instance, owner, cost, runtime, time to
    auto-shutdown; most expensive first. Optionally also writes the rows as CSV.

    Returns (XCom, JSON-friendly) ``{"generated_at": ISO time, "count", "by_status",
    "total_cost_usd", "total_cost", "live_count", "live_cost_usd", "csv_path", "sessions": [rows]}``;
    each row has display strings (``cost``, ``runtime``, ``time_to_auto_shutdown``) and the
    numbers behind them (``cost_usd``, ``runtime_seconds``, ``time_to_auto_shutdown_seconds``).

    Every parameter below is templated.

    :param statuses: only these statuses (default: all).
    :param only_owner: only sessions of the connection's user.
    :param include_archived: include archived sessions (default false).
    :param csv_path: also write the report as CSV here: a local path (parent folders are created)
        or an object-storage URL read through Airflow's ``ObjectStoragePath`` (``s3://bucket/key.csv``,
        ``s3://aws_conn_id@bucket/key.csv``, ``gs://...``, ``file:///...``), which outlives the
        worker on a distributed executor.
    :param include_access: the access audit: each row also lists what the session mounts
        (``mounts``) and links (``links``), as CloudOS records them; ``None`` where the API does
        not say. A session listed without those fields is read once more on its own.

    Also ``cloudos_conn_id`` and ``workspace_id`` (:class:`CloudOSTaskMixin`). Every parameter is
    templated.
    """

    template_fields: Sequence[str] = (
        "statuses",
        "only_owner",
        "include_archived",
        "csv_path",
        "include_access",
        *CONNECTION_TEMPLATE_FIELDS,
    )
    ui_color = "#e8f1fb"
    statuses: str | Sequence[str] | None
    csv_path: str | None

    def __init__(
        self,
        *,
        statuses: str | Sequence[str] | None = None,
        only_owner: bool | str = False,
        include_archived: bool | str = False,
        csv_path: str | None = None,
        include_access: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        keep_parameters(self, locals())
        check_literal_parameters(self, self._validated)

    def _read_parameters(self) -> tuple[list[str] | None, dict[str, bool], str | None]:
        """The statuses, the flags (``session_report``'s keywords) and the CSV's destination."""
        items = parse_string_list(self.statuses, "statuses")
        statuses = sorted(normalize_statuses(items, parameter="statuses")) if items else None
        flags = {flag: self._flag(flag) for flag in ("only_owner", "include_archived", "include_access")}
        return statuses, flags, check_report_path(self.csv_path)

    def execute(self, context: Any) -> dict[str, Any]:
        """Build the report; its API calls are held to the task's ``execution_timeout``."""
        statuses, flags, path = self._validated()
        self._require_workspace()
        now, include_access = datetime.now(UTC), flags["include_access"]
        with airflow_errors(), task_call_deadline(self, None, "the report"):
            rows = self.hook.session_report(statuses=statuses, now=now, **flags)
        totals = summarize_report(rows)
        if path:
            write_report(path, report_csv(rows, include_access=include_access))
        self.log.info(
            "%d session(s), %d live costing %s so far; by status: %s",
            totals["count"],
            totals["live_count"],
            format_cost(totals["live_cost_usd"]),
            ", ".join(f"{status} {n}" for status, n in totals["by_status"].items()) or "none",
        )
        for row in rows[:_LOG_LIMIT]:
            owner, url = row["owner"] or "-", row["url"] or ""
            cells = (row["cost"], row["status"], row["name"], row["instance"], owner, row["runtime"], url)
            self.log.info("  ".join(["%s"] * len(cells)), *cells)
            if include_access:
                self.log.info("    mounts: %s", _access_text(row["mounts"]))
                self.log.info("    links:  %s", _access_text(row["links"]))
        if path:
            self.log.info("Report written to %s", path)
        return {"generated_at": now.isoformat(), **totals, "csv_path": path, "sessions": rows}


def _access_text(items: list[str] | None) -> str:
    return "(not reported by CloudOS)" if items is None else ", ".join(items) or "none"


def is_storage_url(destination: str) -> bool:
    """Whether the report's destination is a URL (``s3://...``), written through ``ObjectStoragePath``."""
    return _SCHEME.match(destination) is not None


def check_report_path(value: Any, parameter: str = "csv_path") -> str | None:
    """The destination as given (blanks stripped), or None for no file; checked without I/O on a store.

    Runs when the DAG is parsed too (for a literal value), so an object store is not contacted:
    only a local path is looked at on disk.
    """
    if is_unset(value):
        return None
    if not isinstance(value, str):
        raise CloudOSValidationError(
            parameter, value, "expected a file path or an object-storage URL such as 's3://bucket/key.csv'"
        )
    destination = value.strip()
    if destination.endswith("/"):
        raise CloudOSValidationError(parameter, value, "ends with '/', so names a folder; give a file path")
    if not is_storage_url(destination) and os.path.isdir(destination):
        raise CloudOSValidationError(parameter, value, "is a directory; give a file path")
    return destination


def write_report(destination: str, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to the destination :func:`check_report_path` returned.

    Parent folders are created on the local disk (a plain path or ``file://``); object stores have
    none to create (and creating one at a bucket's root would create a bucket).
    """
    local = not is_storage_url(destination)
    path: Any = Path(os.path.abspath(destination)) if local else object_storage_path(destination)
    if local or path.protocol in _LOCAL_PROTOCOLS:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


__all__ = [
    "ALREADY_PAUSED",
    "PAUSED_NOW",
    "WOULD_PAUSE",
    "XCOM_PAUSE_RESULTS",
    "CloudOSPauseSessionsOperator",
    "CloudOSSessionReportOperator",
]
