"""Operators that create, stop (pause) and resume CloudOS interactive sessions.

A session bills every minute it runs, so these operators are built around three promises:

* never two sessions where one was meant: a retried create task finds the session an earlier
  try created (by the id kept in Airflow's task state store on 3.3+, and by name everywhere)
  and carries on with it;
* never a leaked session: a task that started or resumed a session pauses it again when it is
  killed or its wait times out (``stop_on_kill``), in the worker and in the triggerer;
* every refusal explained: parameters are validated after rendering and before any HTTP call,
  and each error names the parameter and the value.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    BaseOperator,
    conf,
)

from airflow_provider_cloudos.compat import task_state_store
from airflow_provider_cloudos.core.durations import parse_watch_timeout_duration
from airflow_provider_cloudos.core.errors import (
    CloudOSError,
    CloudOSSessionFailedError,
    CloudOSValidationError,
    CloudOSWaitTimeoutError,
)
from airflow_provider_cloudos.core.formatters import format_cost, session_summary
from airflow_provider_cloudos.core.spec import make_resume_spec, make_session_spec
from airflow_provider_cloudos.core.status import (
    PAUSED,
    PRE_RUNNING_STATUSES,
    RUNNING,
    STOPPING,
    TERMINATED,
    map_status,
)
from airflow_provider_cloudos.core.validators import (
    parse_bool,
    require_object_id,
    require_session_id,
    validate_execution_platform,
)
from airflow_provider_cloudos.deferral import check_event, defer_to_trigger
from airflow_provider_cloudos.exceptions import to_airflow_exception
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.links import (
    XCOM_SESSION_ID,
    XCOM_SESSION_SUMMARY,
    XCOM_SESSION_URL,
    CloudOSSessionLink,
)
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

#: Key under which a create task keeps its session id in the task state store (3.3+).
STATE_STORE_KEY = "cloudos_session_id"
#: While waiting for ``running`` after a create or resume, these mean the session will not get
#: there on its own (a user or the cost limit paused it, or it is gone).
_NOT_RUNNING_ANYMORE = (STOPPING, PAUSED, TERMINATED)


def _validation_failure(error: CloudOSValidationError) -> AirflowFailException:
    return AirflowFailException(str(error))


def _positive_seconds(value: Any, parameter: str) -> float:
    if isinstance(value, bool):
        raise CloudOSValidationError(parameter, value, "expected a number of seconds greater than 0")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise CloudOSValidationError(
            parameter, value, "expected a number of seconds greater than 0"
        ) from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise CloudOSValidationError(parameter, value, "expected a number of seconds greater than 0")
    return seconds


def _platform_of(session: dict[str, Any]) -> str:
    """The execution platform a session runs on, read from what the API returned."""
    config = session.get("interactiveSessionConfiguration")
    if isinstance(config, dict) and isinstance(config.get("executionPlatform"), str):
        return validate_execution_platform(config["executionPlatform"])
    session_type = session.get("interactiveSessionType")
    if isinstance(session_type, str) and session_type.lower().startswith("azure"):
        return "azure"
    return "aws"


class _CloudOSSessionOperator(BaseOperator):
    """What the three session operators share: connection, waiting, XCom, links and kill handling."""

    operator_extra_links = (CloudOSSessionLink(),)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        cloudos_conn_id: str = CloudOSHook.default_conn_name,
        workspace_id: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | str = 30,
        timeout: float | str = "30m",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cloudos_conn_id = cloudos_conn_id
        self.workspace_id = workspace_id
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        #: The session this try started or resumed, and so must pause if it is killed.
        self._owned_session_id: str | None = None

    @cached_property
    def hook(self) -> CloudOSHook:
        return CloudOSHook(cloudos_conn_id=self.cloudos_conn_id, workspace_id=self.workspace_id or None)

    def _wait_settings(self) -> tuple[float, float]:
        """(poll interval, timeout) in seconds, validated after rendering."""
        poll = _positive_seconds(self.poll_interval, "poll_interval")
        timeout = float(parse_watch_timeout_duration(self.timeout, parameter="timeout"))
        return poll, timeout

    def _publish(self, context: Any, session: dict[str, Any], session_id: str) -> None:
        """Push id, URL and summary at once, so the link and downstream tasks work even if waiting fails."""
        url = self.hook.session_url(session_id)
        ti = context["ti"]
        ti.xcom_push(key=XCOM_SESSION_ID, value=session_id)
        ti.xcom_push(key=XCOM_SESSION_URL, value=url)
        ti.xcom_push(key=XCOM_SESSION_SUMMARY, value=session_summary(session, self.hook.base_url))

    def _get_session(self, session_id: str) -> dict[str, Any]:
        try:
            return self.hook.get_session(session_id)
        except CloudOSError as error:
            raise to_airflow_exception(error) from error

    def _wait(
        self,
        context: Any,
        session_id: str,
        targets: Iterable[str],
        failures: Iterable[str],
        *,
        stop_on_timeout: bool,
        method_name: str = "execute_complete",
    ) -> dict[str, Any] | None:
        """Wait for ``targets``: in the triggerer when deferrable, else here. Return the session.

        Returns None only after deferring (``defer`` raises, so in practice it does not return).
        """
        poll, timeout = self._wait_settings()
        target_list = sorted(set(targets))
        failure_list = sorted(set(failures) - set(target_list))
        if self.deferrable:
            current = self._get_session(session_id)
            status = map_status(current.get("status"))
            if status in target_list:
                self.log.info("Session %s is already %s; nothing to wait for", session_id, status)
                return current
            if status in failure_list:
                raise AirflowFailException(
                    f"Session {session_id} is {status} while waiting for {' or '.join(target_list)} "
                    f"({self.hook.session_url(session_id)})"
                )
            trigger = CloudOSSessionTrigger(
                session_id=session_id,
                end_time=time.time() + timeout,
                cloudos_conn_id=self.cloudos_conn_id,
                workspace_id=self.workspace_id or None,
                target_statuses=target_list,
                failure_statuses=failure_list,
                poll_interval=poll,
                stop_on_timeout=stop_on_timeout,
                stop_on_kill=stop_on_timeout,
                upload_on_close=True,
            )
            self.log.info(
                "Deferring until session %s is %s (deadline in %.0fs): %s",
                session_id,
                " or ".join(target_list),
                timeout,
                self.hook.session_url(session_id),
            )
            defer_to_trigger(self, trigger, method_name=method_name)
        try:
            return self.hook.wait_for_status(
                session_id,
                target_list,
                timeout=timeout,
                poll_interval=poll,
                failure_statuses=failure_list,
            )
        except CloudOSWaitTimeoutError as error:
            stopped = stop_on_timeout and self._stop_owned_session("its wait timed out")
            message = str(error) + ("; the session was paused to stop its costs" if stopped else "")
            raise AirflowException(message) from error
        except CloudOSSessionFailedError as error:
            raise AirflowFailException(str(error)) from error
        except CloudOSError as error:
            raise to_airflow_exception(error) from error
        except BaseException:
            # AirflowTaskTimeout (execution_timeout) and anything else that ends the wait early:
            # the session this try started must not keep billing.
            if stop_on_timeout:
                self._stop_owned_session("the task stopped while waiting")
            raise

    def _stop_owned_session(self, reason: str) -> bool:
        """Pause the session this try started or resumed; one quick call, never raises."""
        session_id = self._owned_session_id
        if not session_id:
            return False
        try:
            requested = self.hook.stop_session(session_id, upload_on_close=True)
        except Exception as error:
            self.log.error("Could not pause session %s after %s: %s", session_id, reason, error)
            return False
        if requested:
            self.log.warning("Paused session %s because %s", session_id, reason)
        return requested

    def _check_wait_event(self, event: dict[str, Any] | None) -> dict[str, Any]:
        """Back from the trigger: add the cost-limit explanation to a failure when it applies."""
        if isinstance(event, dict) and event.get("status") == "failure":
            summary = event.get("summary") or {}
            cost, limit = summary.get("cost_usd"), summary.get("cost_limit_usd")
            if isinstance(cost, (int, float)) and isinstance(limit, (int, float)) and 0 < limit <= cost:
                event = {
                    **event,
                    "message": f"{event.get('message')}: its compute cost limit was reached "
                    f"({format_cost(cost)} of {format_cost(limit)})",
                }
        return check_event(event)

    def _explain_not_running(self, error: AirflowFailException, session_id: str) -> AirflowFailException:
        """Say why a session stopped on its way to running when the cost limit explains it."""
        try:
            summary = session_summary(self.hook.get_session(session_id), self.hook.base_url)
        except CloudOSError:
            return error
        cost, limit = summary.get("cost_usd"), summary.get("cost_limit_usd")
        if isinstance(cost, (int, float)) and isinstance(limit, (int, float)) and 0 < limit <= cost:
            return AirflowFailException(
                f"{error}: its compute cost limit was reached ({format_cost(cost)} of {format_cost(limit)})"
            )
        return error

    def on_kill(self) -> None:
        """Marked failed or cleared while running in a worker: pause what this try started."""
        try:
            wanted = parse_bool(getattr(self, "stop_on_kill", False), "stop_on_kill")
        except CloudOSValidationError:
            wanted = True  # an unreadable flag on a kill path: stopping the spending is the safe side
        if wanted:
            self._stop_owned_session("the task was killed")


class CloudOSCreateSessionOperator(_CloudOSSessionOperator):
    """Create a CloudOS interactive session and (by default) wait until it is running.

    Returns the session id; also pushes ``session_url`` and ``session_summary`` to XCom as soon
    as the session exists. Every parameter below is templated.

    :param name: session name, 1-100 characters.
    :param session_type: ``jupyter``, ``vscode``, ``rstudio`` or ``spark``.
    :param project_name: project to create it in (resolved to its id), or give ``project_id``.
    :param project_id: the project's 24-hex id.
    :param workspace_id: the workspace; default: the connection's.
    :param execution_platform: ``aws`` (default) or ``azure``.
    :param instance_type: default ``c5.xlarge`` on AWS, ``Standard_F1s`` on Azure.
    :param storage_size: GB, 100-5000 (default 500).
    :param spot: use cost-saving spot instances (AWS).
    :param shared: visible to the whole workspace instead of private.
    :param cost_limit: compute cost limit in USD; -1 is unlimited.
    :param shutdown_in: auto-shutdown after this long, e.g. ``"30m"``, ``"8h"``, ``"2d"`` (default 12h).
    :param mounts: data files to mount: ``s3://bucket/key`` or ``project/dataset/path/file``.
    :param links: folders to link (a list or a comma-separated string): ``s3://bucket/prefix/``,
        ``project/folder/path`` or legacy ``name:bucket:prefix`` (AWS only).
    :param r_version: R version for RStudio (``4.5.2`` default, or ``4.4.2``).
    :param spark_master_type: Spark master instance type (default ``c5.2xlarge``).
    :param spark_core_type: Spark core instance type (default ``c5.xlarge``).
    :param spark_workers: number of Spark core workers (default 1).
    :param wait_for_running: wait until the session is running (default true).
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poll_interval: seconds between status checks (default 30).
    :param timeout: how long to wait, seconds or a duration such as ``"30m"`` (default 30m).
    :param reuse_existing: carry on with the live session of the same name (e.g. from an earlier
        try) instead of creating a second one (default true).
    :param stop_on_kill: pause the session if the task is killed or its wait times out (default true).
    :param cloudos_conn_id: the ``cloudos`` connection.
    """

    template_fields: Sequence[str] = (
        "name",
        "session_type",
        "project_name",
        "project_id",
        "workspace_id",
        "execution_platform",
        "instance_type",
        "storage_size",
        "spot",
        "shared",
        "cost_limit",
        "shutdown_in",
        "mounts",
        "links",
        "r_version",
        "spark_master_type",
        "spark_core_type",
        "spark_workers",
        "wait_for_running",
        "poll_interval",
        "timeout",
        "reuse_existing",
        "stop_on_kill",
    )
    template_fields_renderers = {"mounts": "json", "links": "json"}

    def __init__(
        self,
        *,
        name: str,
        session_type: str = "jupyter",
        project_name: str | None = None,
        project_id: str | None = None,
        execution_platform: str = "aws",
        instance_type: str | None = None,
        storage_size: int | str = 500,
        spot: bool | str = False,
        shared: bool | str = False,
        cost_limit: float | str = -1,
        shutdown_in: str | None = "12h",
        mounts: Sequence[str] | str | None = None,
        links: Sequence[str] | str | None = None,
        r_version: str | None = None,
        spark_master_type: str | None = None,
        spark_core_type: str | None = None,
        spark_workers: int | str = 1,
        wait_for_running: bool | str = True,
        reuse_existing: bool | str = True,
        stop_on_kill: bool | str = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.session_type = session_type
        self.project_name = project_name
        self.project_id = project_id
        self.execution_platform = execution_platform
        self.instance_type = instance_type
        self.storage_size = storage_size
        self.spot = spot
        self.shared = shared
        self.cost_limit = cost_limit
        self.shutdown_in = shutdown_in
        self.mounts = mounts
        self.links = links
        self.r_version = r_version
        self.spark_master_type = spark_master_type
        self.spark_core_type = spark_core_type
        self.spark_workers = spark_workers
        self.wait_for_running = wait_for_running
        self.reuse_existing = reuse_existing
        self.stop_on_kill = stop_on_kill

    def _validate(self) -> Any:
        """Everything checkable without the network, after rendering, before any HTTP call."""
        spec = make_session_spec(
            name=self.name,
            session_type=self.session_type,
            execution_platform=self.execution_platform,
            instance_type=self.instance_type,
            storage_size=self.storage_size,
            spot=self.spot,
            shared=self.shared,
            cost_limit=self.cost_limit,
            shutdown_in=self.shutdown_in,
            mounts=self.mounts,
            links=self.links,
            r_version=self.r_version,
            spark_master_type=self.spark_master_type,
            spark_core_type=self.spark_core_type,
            spark_workers=self.spark_workers,
        )
        project_id = (str(self.project_id).strip() if self.project_id else "") or None
        project_name = (str(self.project_name).strip() if self.project_name else "") or None
        if project_id:
            project_id = require_object_id(project_id, "project_id", "project id")
        elif not project_name:
            raise CloudOSValidationError(
                "project_name", self.project_name, "give the project's name (or its id as project_id)"
            )
        if self.workspace_id:
            require_object_id(str(self.workspace_id).strip(), "workspace_id", "workspace id")
        self.wait_for_running = parse_bool(self.wait_for_running, "wait_for_running")
        self.reuse_existing = parse_bool(self.reuse_existing, "reuse_existing")
        self.stop_on_kill = parse_bool(self.stop_on_kill, "stop_on_kill")
        self._wait_settings()
        return spec, project_id, project_name

    def execute(self, context: Any) -> str:
        try:
            spec, project_id, project_name = self._validate()
        except CloudOSValidationError as error:
            raise _validation_failure(error) from error
        if self.hook.workspace_id is None:
            raise AirflowFailException(
                "No workspace: set workspace_id on the task or in the extra of connection "
                f"{self.cloudos_conn_id!r}"
            )
        session = self._earlier_session(context, spec.name) if self.reuse_existing else None
        if session is None:
            session = self._create(spec, project_id, project_name)
        session_id = str(session["_id"])
        self._owned_session_id = session_id
        store = task_state_store(context)
        if store is not None:
            store.set(STATE_STORE_KEY, session_id)
        self._publish(context, session, session_id)
        if self.wait_for_running:
            try:
                self._wait(
                    context,
                    session_id,
                    [RUNNING],
                    _NOT_RUNNING_ANYMORE,
                    stop_on_timeout=bool(self.stop_on_kill),
                )
            except AirflowFailException as error:
                raise self._explain_not_running(error, session_id) from error
        return session_id

    def _create(self, spec: Any, project_id: str | None, project_name: str | None) -> dict[str, Any]:
        try:
            if project_id is None:
                project_id = self.hook.resolve_project_id(str(project_name))
            data_items = self.hook.resolve_mounts(list(spec.mounts))
            fuse = self.hook.resolve_links(list(spec.links))
            payload = spec.to_payload(project_id, data_items, fuse)
            session = self.hook.create_session(payload)
        except CloudOSValidationError as error:
            raise _validation_failure(error) from error
        except CloudOSError as error:
            raise to_airflow_exception(error) from error
        if not isinstance(session.get("_id"), str):
            raise AirflowException(f"CloudOS created a session but returned no id: {session!r}")
        self.log.info(
            "Created %s session %r (%s): %s",
            spec.session_type,
            spec.name,
            session["_id"],
            self.hook.session_url(session["_id"]),
        )
        return session

    def _earlier_session(self, context: Any, name: str) -> dict[str, Any] | None:
        """The session an earlier try of this task created, if it is still usable."""
        store = task_state_store(context)
        stored = store.get(STATE_STORE_KEY) if store is not None else None
        try:
            if isinstance(stored, str) and stored:
                session = self.hook.get_session(stored)
                status = map_status(session.get("status"))
                if status in (*PRE_RUNNING_STATUSES, RUNNING):
                    self.log.info("Carrying on with session %s from an earlier try (%s)", stored, status)
                    return session
                if status == PAUSED:
                    self.log.info("Session %s from an earlier try is paused; resuming it", stored)
                    resumed = self.hook.resume_session(stored, {"dataItems": [], "fileSystemIds": []})
                    return resumed if resumed.get("_id") else self.hook.get_session(stored)
            found = self.hook.find_live_session(name)
        except CloudOSError as error:
            raise to_airflow_exception(error) from error
        if found is not None:
            self.log.info(
                "Reusing live session %s named %r (status %s) instead of creating a second one",
                found.get("_id"),
                name,
                map_status(found.get("status")),
            )
        return found

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        checked = self._check_wait_event(event)
        self.log.info(checked.get("message"))
        summary = checked.get("summary")
        if summary:
            context["ti"].xcom_push(key=XCOM_SESSION_SUMMARY, value=summary)
        return str(checked["session_id"])


class CloudOSStopSessionOperator(_CloudOSSessionOperator):
    """Pause a CloudOS session (saving its data by default) and wait until it is paused.

    Idempotent: a session that is already paused succeeds at once, one already stopping is
    waited for. Works as a teardown (``stop.as_teardown(setups=create)``) so the session is paused
    even when the work between fails.

    :param session_id: the session (templated; e.g. ``create.output``).
    :param upload_on_close: save the session's data before stopping (default true).
    :param force: force the pause (``forceAbort``).
    :param wait_for_paused: wait until the session is paused (default true).
    :param accept_terminated: succeed when the session is already terminated (default: fail).
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param poll_interval: seconds between status checks (default 30).
    :param timeout: how long to wait, seconds or a duration such as ``"30m"`` (default 30m).
    """

    template_fields: Sequence[str] = (
        "session_id",
        "workspace_id",
        "upload_on_close",
        "force",
        "wait_for_paused",
        "accept_terminated",
        "poll_interval",
        "timeout",
    )

    def __init__(
        self,
        *,
        session_id: str,
        upload_on_close: bool | str = True,
        force: bool | str = False,
        wait_for_paused: bool | str = True,
        accept_terminated: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.session_id = session_id
        self.upload_on_close = upload_on_close
        self.force = force
        self.wait_for_paused = wait_for_paused
        self.accept_terminated = accept_terminated

    def execute(self, context: Any) -> str:
        try:
            session_id = require_session_id(self.session_id, "session_id")
            upload = parse_bool(self.upload_on_close, "upload_on_close")
            force = parse_bool(self.force, "force")
            self.wait_for_paused = parse_bool(self.wait_for_paused, "wait_for_paused")
            self.accept_terminated = parse_bool(self.accept_terminated, "accept_terminated")
            if self.workspace_id:
                require_object_id(str(self.workspace_id).strip(), "workspace_id", "workspace id")
            self._wait_settings()
        except CloudOSValidationError as error:
            raise _validation_failure(error) from error
        session = self._get_session(session_id)
        self._publish(context, session, session_id)
        status = map_status(session.get("status"))
        url = self.hook.session_url(session_id)
        if status == PAUSED:
            self.log.info("Session %s is already paused; nothing to do (%s)", session_id, url)
            return session_id
        if status == TERMINATED:
            if self.accept_terminated:
                self.log.info("Session %s is terminated; accepted as stopped (%s)", session_id, url)
                return session_id
            raise AirflowFailException(
                f"Session {session_id} is terminated and cannot be paused ({url}); "
                "set accept_terminated=True to treat that as success"
            )
        if status == STOPPING:
            self.log.info("Session %s is already stopping; waiting for it (%s)", session_id, url)
        else:
            try:
                requested = self.hook.stop_session(session_id, upload_on_close=upload, force=force)
            except CloudOSError as error:
                raise to_airflow_exception(error) from error
            self.log.info(
                "%s session %s (was %s, upload on close: %s): %s",
                "Pausing" if requested else "Session already pausing:",
                session_id,
                status,
                upload,
                url,
            )
        if not self.wait_for_paused:
            return session_id
        targets = [PAUSED, TERMINATED] if self.accept_terminated else [PAUSED]
        self._wait(context, session_id, targets, [TERMINATED], stop_on_timeout=False)
        return session_id

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        checked = check_event(event)
        self.log.info(checked.get("message"))
        return str(checked["session_id"])


class CloudOSResumeSessionOperator(_CloudOSSessionOperator):
    """Resume a paused CloudOS session, optionally with new resources, and wait until it runs.

    Only what changes is sent. Idempotent: a running session succeeds at once; one still
    stopping is waited for and then resumed; a terminated one is a clear failure. S3 mounts and
    links are refused on Azure sessions (the platform is read from the session).

    :param session_id: the session (templated).
    :param instance_type: new instance type.
    :param storage_size: new storage size in GB (100-5000).
    :param cost_limit: new compute cost limit in USD (-1 unlimited).
    :param shutdown_in: new auto-shutdown, e.g. ``"8h"``.
    :param mounts: data files to mount (see the create operator).
    :param links: folders to link (see the create operator).
    :param wait_for_running: wait until running (default true).
    :param stop_on_kill: pause the session if the task is killed or its wait times out (default true).
    """

    template_fields: Sequence[str] = (
        "session_id",
        "workspace_id",
        "instance_type",
        "storage_size",
        "cost_limit",
        "shutdown_in",
        "mounts",
        "links",
        "wait_for_running",
        "poll_interval",
        "timeout",
        "stop_on_kill",
    )
    template_fields_renderers = {"mounts": "json", "links": "json"}

    def __init__(
        self,
        *,
        session_id: str,
        instance_type: str | None = None,
        storage_size: int | str | None = None,
        cost_limit: float | str | None = None,
        shutdown_in: str | None = None,
        mounts: Sequence[str] | str | None = None,
        links: Sequence[str] | str | None = None,
        wait_for_running: bool | str = True,
        stop_on_kill: bool | str = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.session_id = session_id
        self.instance_type = instance_type
        self.storage_size = storage_size
        self.cost_limit = cost_limit
        self.shutdown_in = shutdown_in
        self.mounts = mounts
        self.links = links
        self.wait_for_running = wait_for_running
        self.stop_on_kill = stop_on_kill

    def _spec(self, execution_platform: str) -> Any:
        return make_resume_spec(
            execution_platform=execution_platform,
            instance_type=self.instance_type,
            storage_size=self.storage_size,
            cost_limit=self.cost_limit,
            shutdown_in=self.shutdown_in,
            mounts=self.mounts,
            links=self.links,
        )

    def execute(self, context: Any) -> str:
        try:
            session_id = require_session_id(self.session_id, "session_id")
            self._spec("aws")  # formats and ranges; platform rules once the session is known
            self.wait_for_running = parse_bool(self.wait_for_running, "wait_for_running")
            self.stop_on_kill = parse_bool(self.stop_on_kill, "stop_on_kill")
            if self.workspace_id:
                require_object_id(str(self.workspace_id).strip(), "workspace_id", "workspace id")
            self._wait_settings()
        except CloudOSValidationError as error:
            raise _validation_failure(error) from error
        session = self._get_session(session_id)
        self._session_id = session_id
        return self._resume_from(context, session)

    def _resume_from(self, context: Any, session: dict[str, Any]) -> str:
        session_id = str(session.get("_id") or self._session_id)
        status = map_status(session.get("status"))
        url = self.hook.session_url(session_id)
        self._publish(context, session, session_id)
        if status == TERMINATED:
            raise AirflowFailException(f"Session {session_id} is terminated and cannot be resumed ({url})")
        if status == STOPPING:
            self.log.info("Session %s is still stopping; waiting until it is paused to resume it", session_id)
            paused = self._wait(
                context,
                session_id,
                [PAUSED],
                [TERMINATED],
                stop_on_timeout=False,
                method_name="resume_after_pause",
            )
            if paused is None:  # pragma: no cover - deferral raises
                return session_id
            return self._resume_from(context, paused)
        if status in (RUNNING, *PRE_RUNNING_STATUSES):
            if status == RUNNING:
                self.log.info("Session %s is already running; nothing to resume (%s)", session_id, url)
            else:
                self.log.info("Session %s is already starting (%s); waiting for it", session_id, status)
            if self._has_changes():
                self.log.warning(
                    "Session %s was not paused, so the requested resource changes were not applied",
                    session_id,
                )
            if status != RUNNING and self.wait_for_running:
                self._wait(context, session_id, [RUNNING], _NOT_RUNNING_ANYMORE, stop_on_timeout=False)
            return session_id
        try:
            spec = self._spec(_platform_of(session))
        except CloudOSValidationError as error:
            raise _validation_failure(error) from error
        try:
            data_items = self.hook.resolve_mounts(list(spec.mounts))
            fuse = self.hook.resolve_links(list(spec.links))
            resumed = self.hook.resume_session(session_id, spec.to_payload(data_items, fuse))
        except CloudOSValidationError as error:
            raise _validation_failure(error) from error
        except CloudOSError as error:
            raise to_airflow_exception(error) from error
        self._owned_session_id = session_id
        self.log.info("Resuming session %s: %s", session_id, url)
        if resumed.get("_id"):
            self._publish(context, resumed, session_id)
        if self.wait_for_running:
            try:
                self._wait(
                    context,
                    session_id,
                    [RUNNING],
                    _NOT_RUNNING_ANYMORE,
                    stop_on_timeout=bool(self.stop_on_kill),
                )
            except AirflowFailException as error:
                raise self._explain_not_running(error, session_id) from error
        return session_id

    def _has_changes(self) -> bool:
        return any(
            value not in (None, "", [], ())
            for value in (
                self.instance_type,
                self.storage_size,
                self.cost_limit,
                self.shutdown_in,
                self.mounts,
                self.links,
            )
        )

    def resume_after_pause(self, context: Any, event: dict[str, Any] | None = None) -> str:
        """Back from waiting for a stopping session to pause: now resume it."""
        checked = check_event(event)
        self._session_id = str(checked["session_id"])
        try:
            self.wait_for_running = parse_bool(self.wait_for_running, "wait_for_running")
            self.stop_on_kill = parse_bool(self.stop_on_kill, "stop_on_kill")
        except CloudOSValidationError as error:
            raise _validation_failure(error) from error
        return self._resume_from(context, self._get_session(self._session_id))

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> str:
        checked = self._check_wait_event(event)
        self.log.info(checked.get("message"))
        summary = checked.get("summary")
        if summary:
            context["ti"].xcom_push(key=XCOM_SESSION_SUMMARY, value=summary)
        return str(checked["session_id"])


__all__ = [
    "STATE_STORE_KEY",
    "CloudOSCreateSessionOperator",
    "CloudOSResumeSessionOperator",
    "CloudOSStopSessionOperator",
]
