"""The operators' base classes: what every waiting operator shares, and what create and resume add.

The create, stop and resume operators (``operators/sessions.py``) differ only in what they ask
CloudOS to do; how they wait (here or in the triggerer), what they push to XCom before waiting,
and how they pause a session they started when killed or timed out is the same, and lives here.
The fleet pause (``operators/fleet.py``) shares the parameters of the wait and the deadline.

Two classes, no mixins: above an operator stand at most these two and
:class:`~airflow_provider_cloudos.operators.connection_task.CloudOSTaskMixin` (connection and
workspace, shared with the sensors), and for a block's task the operator it extends. What a
task records (OpenLineage, saved results) is done by functions of
:mod:`~airflow_provider_cloudos.operators.task_lineage` and :mod:`~airflow_provider_cloudos.operators.results`
that take the task.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    BaseOperator,
)

from airflow_provider_cloudos.client.api import is_not_resumable_refusal
from airflow_provider_cloudos.core.errors import (
    CloudOSError,
    CloudOSGuardError,
    CloudOSSessionFailedError,
    CloudOSValidationError,
    CloudOSWaitTimeoutError,
)
from airflow_provider_cloudos.core.formatters import format_cost, format_duration, session_summary
from airflow_provider_cloudos.core.lineage import SessionLineage
from airflow_provider_cloudos.core.spec import (
    AWS,
    AZURE,
    is_unset,
    require_execution_platform,
)
from airflow_provider_cloudos.core.status import (
    LIVE_STATUSES,
    PAUSED,
    PRE_RUNNING_STATUSES,
    RUNNING,
    STOPPING,
    TERMINATED,
    WaitOutcome,
    map_status,
)
from airflow_provider_cloudos.core.waiting import PAUSED_TO_STOP_COSTS, SessionGuard, StatusWatch
from airflow_provider_cloudos.deferral import check_event, defer_to_trigger
from airflow_provider_cloudos.exceptions import to_airflow_exception
from airflow_provider_cloudos.hooks.cloudos import cleanup_calls, task_call_deadline
from airflow_provider_cloudos.links import (
    XCOM_SESSION_ID,
    XCOM_SESSION_SUMMARY,
    XCOM_SESSION_URL,
    CloudOSSessionLink,
)
from airflow_provider_cloudos.operators.connection_task import (
    DEFAULT_DEFERRABLE,
    DEFAULT_POLL_SECONDS,
    CloudOSTaskMixin,
    connection_poll_interval,
    validation_failure,
)
from airflow_provider_cloudos.operators.results import with_results_alias
from airflow_provider_cloudos.operators.task_lineage import lineage_on_start

#: Key under which a create task keeps its session id in the task state store (3.3+).
STATE_STORE_KEY = "cloudos_session_id"
#: While waiting for ``running`` after a create or resume, these mean the session will not get
#: there on its own (a user or the cost limit paused it, or it is gone).
NOT_RUNNING_ANYMORE = (STOPPING, PAUSED, TERMINATED)
#: A session an earlier try created can be carried on with from these statuses.
REUSABLE = frozenset({*LIVE_STATUSES, PAUSED})


def platform_of(session: dict[str, Any]) -> str:
    """The execution platform a session runs on, read from what the API returned."""
    config = session.get("interactiveSessionConfiguration")
    if isinstance(config, dict) and isinstance(config.get("executionPlatform"), str):
        return require_execution_platform(config["executionPlatform"])
    session_type = session.get("interactiveSessionType")
    if isinstance(session_type, str) and session_type.lower().startswith("azure"):
        return AZURE
    return AWS


def try_number(context: Any) -> int:
    try:
        number = context["ti"].try_number
    except (KeyError, AttributeError, TypeError):
        return 1
    return number if isinstance(number, int) else 1


def cost_limit_note(summary: Any) -> str | None:
    """Why a session stopped on its own, when its compute cost limit explains it."""
    if not isinstance(summary, dict):
        return None
    cost, limit = summary.get("cost_usd"), summary.get("cost_limit_usd")
    if isinstance(cost, (int, float)) and isinstance(limit, (int, float)) and 0 < limit <= cost:
        return f"its compute cost limit was reached ({format_cost(cost)} of {format_cost(limit)})"
    return None


class CloudOSSessionOperatorBase(CloudOSTaskMixin, BaseOperator):
    """The one base of the operators: they poll CloudOS until something happens, in the worker or
    the triggerer, and share waiting, XCom, the session link and kill handling.

    Its API calls are all held to its ``timeout``, counted from the start of the try (and to
    ``execution_timeout``): a stalled server cannot hold the worker beyond the time the user gave.

    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``); not
        templated.
    :param poll_interval: time between status checks: seconds or a duration such as ``"1m"``.
        Not given: the connection's ``poll_interval`` extra, else 30 s (so a DAG written for
        production polls a fast local simulator often, through the simulator's connection).
    :param timeout: how long to wait: seconds or a duration such as ``"30m"`` (default 30m).
    """

    ui_color = "#e8f1fb"
    operator_extra_links: Sequence[Any] = (CloudOSSessionLink(),)
    #: A task whose pauses save sessions' data declares the results' asset alias in its outlets
    #: (:mod:`~airflow_provider_cloudos.operators.results`), keeping the user's own.
    records_saved_results: ClassVar[bool] = False

    def __init__(
        self,
        *,
        deferrable: bool | str = DEFAULT_DEFERRABLE,
        poll_interval: float | str | None = None,
        timeout: float | str = "30m",
        outlets: Any = None,
        **kwargs: Any,
    ) -> None:
        if self.records_saved_results:
            outlets = with_results_alias(outlets)
        super().__init__(outlets=outlets, **kwargs)
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        #: The session this try started or resumed, and so must pause if it is killed.
        self._owned_session_id: str | None = None
        #: The name of a session being created: its id is unknown until CloudOS answers, and a
        #: kill can arrive while the answer is in flight.
        self._creating_name: str | None = None
        #: Set when the task is told to stop (``on_kill``: its supervisor's SIGTERM, which may come
        #: to a try that Airflow has already failed and retried): from then on it starts nothing.
        self._kill_requested = False
        #: The session page this run published, for the extra link: None when unknown here (the
        #: link is read from XCom), "" once ``execute`` started and has published none yet.
        self.published_session_url: str | None = None

    # -- rendered parameters ------------------------------------------------------------------

    def _wait_settings(self) -> tuple[float, float]:
        """(poll interval, timeout) in seconds; an interval not given is read from the connection."""
        if is_unset(self.poll_interval):
            poll = connection_poll_interval(self.hook, DEFAULT_POLL_SECONDS)
        else:
            poll = self._seconds("poll_interval")
        return poll, self._seconds("timeout")

    def _check_shared(self) -> None:
        """The wait's settings and the guard, checked without reading the connection (this also
        runs at parse time)."""
        super()._check_shared()
        self._flag("deferrable")
        if not is_unset(self.poll_interval):
            self._seconds("poll_interval")
        self._seconds("timeout")
        self._session_guard()

    def _session_guard(self) -> SessionGuard:
        """The cost/runtime guard on waits for ``running``: none here (create and resume offer one)."""
        return SessionGuard()

    def execute(self, context: Any) -> Any:
        """Do the operator's work (``_execute``) with every API call held to its deadline."""
        try:
            seconds: float | None = self._seconds("timeout")
        except CloudOSValidationError:
            seconds = None  # refused by name in _execute, before any call
        with task_call_deadline(self, seconds, "the operator's timeout"):
            return self._execute(context)

    def _execute(self, context: Any) -> Any:
        raise NotImplementedError

    # -- talking to CloudOS -------------------------------------------------------------------

    def _start_run(self) -> None:
        """Called first by ``execute``: nothing published yet, so the link has nothing to show."""
        self.published_session_url = ""

    def _publish(self, context: Any, session: dict[str, Any], session_id: str) -> None:
        """Push id, URL and summary at once, so the link and downstream tasks work even if waiting fails."""
        ti = context["ti"]
        url = self.hook.session_url(session_id)
        ti.xcom_push(key=XCOM_SESSION_ID, value=session_id)
        ti.xcom_push(key=XCOM_SESSION_URL, value=url)
        self.published_session_url = url
        ti.xcom_push(key=XCOM_SESSION_SUMMARY, value=session_summary(session, self.hook.base_url))

    def _get_session(self, session_id: str) -> dict[str, Any]:
        try:
            return self.hook.get_session(session_id)
        except CloudOSError as error:
            raise to_airflow_exception(error) from error

    def _request_resume(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Resume a paused session; one that somebody resumed meanwhile is carried on with.

        The session counts as this try's own before the request is sent: a kill or an
        ``execution_timeout`` can arrive while CloudOS is already resuming it.
        """
        previous_owner, self._owned_session_id = self._owned_session_id, session_id
        try:
            resumed = self.hook.resume_session(session_id, payload)
        except CloudOSError as error:
            self._owned_session_id = previous_owner
            if not is_not_resumable_refusal(error):
                raise to_airflow_exception(error) from error
            current = self._get_session(session_id)
            status = map_status(current.get("status"))
            if status not in (RUNNING, *PRE_RUNNING_STATUSES):
                raise to_airflow_exception(error) from error
            self.log.info(
                "Session %s was resumed meanwhile (now %s); carrying on with it", session_id, status
            )
            return current
        self._owned_session_id = session_id
        return resumed

    # -- waiting ------------------------------------------------------------------------------

    def _wait(
        self,
        session_id: str,
        targets: Iterable[str],
        failures: Iterable[str],
        *,
        stop_on_timeout: bool,
        method_name: str = "execute_complete",
        known: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Wait for ``targets``: in the triggerer when deferrable, else here. Return the session.

        Deferring raises ``TaskDeferred``; Airflow then calls ``method_name`` with the trigger's
        event. ``stop_on_timeout`` (the task's wish) pauses the session on a timeout, a guard or a
        kill only if this try owns it (:meth:`_may_pause`): the blocking and the deferred wait
        decide through that one call, so they cannot disagree.
        ``known`` is the session object CloudOS just returned (create/resume): reading it again
        a millisecond later would tell the task nothing new.
        """
        poll, timeout = self._wait_settings()
        may_pause = self._may_pause(session_id, stop_on_timeout)
        target_list = sorted(set(targets))
        failure_list = sorted(set(failures) - set(target_list))
        guard = self._session_guard() if RUNNING in target_list else SessionGuard()
        url = self.hook.session_url(session_id)
        if self._flag("deferrable"):
            current = known if known is not None else self._get_session(session_id)
            watch = StatusWatch.create(session_id, target_list, failure_list, url=url)
            outcome, _ = watch.observe(current)
            status = watch.last_status
            if outcome is WaitOutcome.REACHED:
                self.log.info(watch.already_there_message())
                return current
            if outcome is WaitOutcome.FAILED:
                raise AirflowFailException(watch.failed_message())
            # Imported here: parsing a DAG file needs no trigger module (see BENCHMARKS.md).
            from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

            trigger = CloudOSSessionTrigger(
                session_id=session_id,
                end_time=time.time() + timeout,
                cloudos_conn_id=self.cloudos_conn_id,
                workspace_id=self._workspace_override(),
                target_statuses=target_list,
                # None lets the trigger fail on nothing but "terminated" unless that is a target;
                # an empty list is refused by its status check.
                failure_statuses=failure_list or None,
                poll_interval=poll,
                stop_on_timeout=may_pause,
                stop_on_kill=may_pause,
                upload_on_close=True,
                max_cost_usd=guard.max_cost_usd,
                max_runtime_seconds=guard.max_runtime_seconds,
                last_status=status,
            )
            self.log.info(
                "Session %s is %s; deferring until it is %s (at most %s): %s",
                session_id,
                status,
                " or ".join(target_list),
                format_duration(timeout),
                url,
            )
            defer_to_trigger(self, trigger, method_name=method_name)
        try:
            return self.hook.wait_for_status(
                session_id,
                target_list,
                timeout=timeout,
                poll_interval=poll,
                failure_statuses=failure_list,
                guard=guard if guard.active else None,
                initial=known,
            )
        except CloudOSGuardError as error:
            stopped = may_pause and self._pause_owned_session(error.reason)
            raise AirflowFailException(str(error) + (PAUSED_TO_STOP_COSTS if stopped else "")) from error
        except CloudOSWaitTimeoutError as error:
            stopped = may_pause and self._pause_owned_session("its wait timed out")
            raise AirflowException(str(error) + (PAUSED_TO_STOP_COSTS if stopped else "")) from error
        except CloudOSSessionFailedError as error:
            raise AirflowFailException(str(error)) from error
        except CloudOSError as error:
            raise to_airflow_exception(error) from error
        except BaseException:
            # AirflowTaskTimeout (execution_timeout) and anything else that ends the wait early:
            # the session this try started must not keep billing.
            if may_pause:
                self._pause_owned_session("the task stopped while waiting")
            raise

    def _wait_until_running(
        self,
        context: Any,
        session_id: str,
        *,
        stop_on_timeout: bool,
        known: dict[str, Any] | None = None,
    ) -> None:
        """Wait for ``running`` after a create or resume; say so when the cost limit stopped it.

        The summary pushed before the wait said "starting"; the one the wait ends with replaces it
        (the deferred path does the same in ``_running_event``).
        """
        try:
            running = self._wait(
                session_id,
                [RUNNING],
                NOT_RUNNING_ANYMORE,
                stop_on_timeout=stop_on_timeout,
                known=known,
            )
        except AirflowFailException as error:
            raise self._explain_not_running(error, session_id) from error
        if running.get("_id"):
            context["ti"].xcom_push(
                key=XCOM_SESSION_SUMMARY, value=session_summary(running, self.hook.base_url)
            )

    def _explain_not_running(self, error: AirflowFailException, session_id: str) -> AirflowFailException:
        try:
            summary = session_summary(self.hook.get_session(session_id), self.hook.base_url)
        except CloudOSError:
            return error
        note = cost_limit_note(summary)
        return AirflowFailException(f"{error}: {note}") if note else error

    def _running_event(self, context: Any, event: dict[str, Any] | None) -> str:
        """Back from waiting for ``running``: push the fresh summary, or explain the failure."""
        if isinstance(event, dict) and event.get("status") == "failure":
            note = cost_limit_note(event.get("summary"))
            if note:
                event = {**event, "message": f"{event.get('message')}: {note}"}
        checked = check_event(event)
        self.log.info(checked.get("message"))
        summary = checked.get("summary")
        if summary:
            context["ti"].xcom_push(key=XCOM_SESSION_SUMMARY, value=summary)
        return str(checked["session_id"])

    # -- kills --------------------------------------------------------------------------------

    def _may_pause(self, session_id: str, wanted: bool) -> bool:
        """Whether a timeout, guard or kill may pause ``session_id``: the one ownership rule.

        Only a session this try started or resumed (or its earlier try did) is this task's to
        pause; one it found starting, or that somebody else resumed first (a lost resume race),
        is never paused by it, whatever ``stop_on_kill`` says.
        """
        return wanted and self._owned_session_id == session_id

    def _pause_owned_session(self, reason: str) -> bool:
        """Pause the session this try started or resumed; one quick call, never raises."""
        session_id = self._owned_session_id
        if not session_id and self._creating_name:
            session_id = self._find_session_being_created(self._creating_name)
        if not session_id:
            return False
        try:
            with cleanup_calls(reason):
                requested = self.hook.pause_session(session_id, upload_on_close=True)
        except Exception as error:
            self.log.error("Could not pause session %s after %s: %s", session_id, reason, error)
            return False
        if requested:
            self.log.warning("Paused session %s because %s", session_id, reason)
        else:
            self.log.info("Session %s was already paused or pausing when %s", session_id, reason)
        return requested

    def _find_session_being_created(self, name: str) -> str | None:
        """The live session a create request in flight made, found by its name."""
        try:
            with cleanup_calls(f"creating session {name!r} was interrupted"):
                session = self.hook.find_live_session(name, only_owner=True)
        except Exception as error:
            self.log.error("Could not look for session %r being created: %s", name, error)
            return None
        return str(session["_id"]) if session and session.get("_id") else None

    def on_kill(self) -> None:
        """Marked failed or cleared while running in a worker: pause what this try started."""
        self._kill_requested = True
        try:
            wanted = self._flag("stop_on_kill") if hasattr(self, "stop_on_kill") else False
        except CloudOSValidationError:
            wanted = True  # an unreadable flag on a kill path: stopping the spending is the safe side
        if wanted:
            self._pause_owned_session("the task was killed")


class CloudOSSessionStartOperator(CloudOSSessionOperatorBase):
    """What the two operators that bring a session up, create and resume, share: their parameters
    (declared once), the guard on their wait for ``running`` and their OpenLineage methods
    (:mod:`~airflow_provider_cloudos.operators.task_lineage`).

    (``storage_size``, ``cost_limit`` and ``shutdown_in`` are not here: on create they are values
    with defaults, on resume changes to make, so each operator declares and documents its own.)

    :param instance_type: the instance type, checked against the platform (create: default
        ``c5.xlarge`` on AWS, ``Standard_F1s`` on Azure; resume: unchanged when not given).
    :param mounts: data files to mount (a list or a comma-separated string):
        ``s3://bucket/key`` or ``project/dataset/path/file``.
    :param links: folders to link (a list or a comma-separated string): ``s3://bucket/prefix/``,
        ``project/folder/path`` or legacy ``name:bucket:prefix`` (AWS only).
    :param wait_for_running: wait until the session is running (default true).
    :param stop_on_kill: pause the session if the task is killed, its wait times out or its guard
        fires (default true).
    :param max_cost_usd: guard while waiting for running: fail (and pause, with ``stop_on_kill``)
        once the session's cost reaches this many USD.
    :param max_runtime: guard while waiting for running: the same for its running time (``"2h"``).
    """

    #: The flags create and resume share.
    START_FLAGS: tuple[str, ...] = ("wait_for_running", "stop_on_kill")
    #: Templated, like every parameter of create and resume.
    START_TEMPLATE_FIELDS: tuple[str, ...] = (
        "instance_type",
        "mounts",
        "links",
        "wait_for_running",
        "stop_on_kill",
        "max_cost_usd",
        "max_runtime",
    )
    template_fields_renderers = {"mounts": "json", "links": "json"}
    #: The OpenLineage record of this try; a class default so that an instance made for a resumed
    #: (deferred) task starts without one and reads it back from XCom.
    session_lineage: SessionLineage | None = None

    def __init__(
        self,
        *,
        instance_type: str | None = None,
        mounts: Sequence[str] | str | None = None,
        links: Sequence[str] | str | None = None,
        wait_for_running: bool | str = True,
        stop_on_kill: bool | str = True,
        max_cost_usd: float | str | None = None,
        max_runtime: str | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.instance_type = instance_type
        self.mounts = mounts
        self.links = links
        self.wait_for_running = wait_for_running
        self.stop_on_kill = stop_on_kill
        self.max_cost_usd = max_cost_usd
        self.max_runtime = max_runtime

    def _session_guard(self) -> SessionGuard:
        """The cost/runtime guard on the wait for ``running``."""
        return SessionGuard.from_params(max_cost_usd=self.max_cost_usd, max_runtime=self.max_runtime)

    def get_openlineage_facets_on_start(self) -> Any:
        """The S3 paths the task will mount and link: all that is known before resolving paths."""
        return lineage_on_start(self.mounts, self.links)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Every mounted file as an input, every linked folder as an output, and the session facet.

        Only what this instance holds: the provider calls this in a forked child on Airflow 3,
        where reading XCom can block until its timeout. A task that failed before its session
        existed reports nothing.
        """
        from airflow_provider_cloudos.openlineage_facets import operator_lineage

        return operator_lineage(self.session_lineage)


__all__ = [
    "REUSABLE",
    "STATE_STORE_KEY",
    "CloudOSSessionOperatorBase",
    "CloudOSSessionStartOperator",
    "platform_of",
    "try_number",
    "validation_failure",
]
