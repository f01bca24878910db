"""The tasks a session block (``cloudos_session``) puts around its body.

The block reuses the session operators as they are; what it adds is one promise: it pauses only
a session it started. A created session is always the block's own. In the resume form, a session
that was already running (or starting) before the block is somebody else's: the block works in
it, but neither its teardown nor its guard pauses it. The resume operator says which case it was
in its ``started_session`` XCom, and the teardown and the guard read it (``started``, templated).

The guard watches the session while the body runs. It is a sensor in ``reschedule`` mode: each
poke is one short task run, and between pokes it holds no worker slot, like a deferral. It ends
in exactly one of three ways, so it cannot outlive the block:

* a limit is reached while the session runs: it pauses the session (only if the block started
  it) and fails with the reason, which fails the DAG run;
* the session is no longer running (the teardown paused it, or CloudOS, or a person): success;
* every task of the body has finished (whatever their states): success. This also ends the guard
  when the teardown pauses nothing (a session the block did not start).

A deferred trigger could not see the body's tasks end without querying task states from the
triggerer on every poll; ``reschedule`` keeps that question in the worker, where Airflow answers
it on every version (``compat.unfinished_tasks``). And ``airflow dags test`` runs one task at a
time with each trigger in line: a deferred guard would hold it there and the body would never run.

Serialized DAGs name this module as the tasks' ``_task_module``, so it keeps its path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseSensorOperator

from airflow_provider_cloudos.compat import unfinished_tasks
from airflow_provider_cloudos.core.errors import CloudOSError, CloudOSTransientError
from airflow_provider_cloudos.core.spec import is_unset, parse_bool, require_session_id
from airflow_provider_cloudos.core.status import PRE_RUNNING_STATUSES, RUNNING, map_status
from airflow_provider_cloudos.core.waiting import SessionGuard
from airflow_provider_cloudos.operators.cloudos_task import (
    CONNECTION_TEMPLATE_FIELDS,
    CloudOSSensorTimingMixin,
    CloudOSTaskMixin,
    airflow_errors,
)
from airflow_provider_cloudos.operators.sessions import (
    XCOM_STARTED_SESSION,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)


def started_flag(value: Any) -> bool:
    """The rendered ``started`` flag; a missing XCom (``"None"``) means "not known to be ours"."""
    return False if is_unset(value) else parse_bool(value, "started")


#: The block's setup task in its resume form: the resume operator itself, which says in its
#: ``started_session`` XCom whether it started the session. (The name stays importable.)
CloudOSBlockResumeOperator = CloudOSResumeSessionOperator


class CloudOSBlockPauseOperator(CloudOSStopSessionOperator):
    """The block's teardown: the stop operator, skipped for a session the block did not start.

    :param started: whether the block started the session (templated; the setup's XCom).
    """

    template_fields: Sequence[str] = (*CloudOSStopSessionOperator.template_fields, "started")

    def __init__(self, *, started: bool | str = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.started = started

    def execute(self, context: Any) -> str:
        with airflow_errors():
            started = started_flag(self.started)
        if not started:
            session_id = self._validated()
            self.log.info("Session %s was running before this block started; leaving it running", session_id)
            return session_id
        return super().execute(context)


class CloudOSSessionBlockGuard(CloudOSSensorTimingMixin, CloudOSTaskMixin, BaseSensorOperator):
    """Pause the block's session as soon as its cost or runtime limit is reached; fail the block.

    See the module docstring for how it ends. Runs in ``reschedule`` mode unless told otherwise.

    :param session_id: the block's session (templated; the setup's return value).
    :param body_task_ids: the block's body: the guard ends once all of them have finished.
    :param started: whether the block started the session; only then does the guard pause it.
    :param max_cost_usd: the cost limit in USD.
    :param max_runtime: the runtime limit (``"2h"``, seconds); the session's billed running time.
    :param upload_on_close: whether the guard's pause saves the session's data (default true).

    Also ``poke_interval`` and ``timeout`` as seconds or durations such as ``"1m"``
    (:class:`CloudOSSensorTimingMixin`), and ``cloudos_conn_id`` and ``workspace_id``
    (:class:`CloudOSTaskMixin`, templated).
    """

    template_fields: Sequence[str] = (
        "session_id",
        "started",
        "max_cost_usd",
        "max_runtime",
        "upload_on_close",
        *CONNECTION_TEMPLATE_FIELDS,
    )
    ui_color = "#fbe8e8"
    flag_parameters = ("upload_on_close",)

    def __init__(
        self,
        *,
        session_id: Any,
        body_task_ids: Sequence[str],
        started: bool | str = True,
        max_cost_usd: float | str | None = None,
        max_runtime: str | float | None = None,
        upload_on_close: bool | str = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("mode", "reschedule")
        super().__init__(**kwargs)
        self.session_id = session_id
        self.body_task_ids = sorted(set(body_task_ids))
        self.started = started
        self.max_cost_usd = max_cost_usd
        self.max_runtime = max_runtime
        self.upload_on_close = upload_on_close
        if max_cost_usd is None and max_runtime is None:
            raise ValueError(f"{self.task_id}: give max_cost_usd and/or max_runtime; a guard needs a limit")

    def _read_parameters(self) -> tuple[str, SessionGuard, bool]:
        session_id = require_session_id(self.session_id, "session_id")
        return session_id, self._session_guard(), started_flag(self.started)

    def poke(self, context: Any) -> bool:
        session_id, guard, started = self._validated()
        if not guard.active:
            raise AirflowFailException(
                f"max_cost_usd={self.max_cost_usd!r} and max_runtime={self.max_runtime!r} set no limit"
            )
        try:
            session = self.hook.get_session(session_id)
        except CloudOSTransientError as error:
            self.log.warning("CloudOS did not answer; the guard looks again later: %s", error)
            return False
        except CloudOSError as error:
            raise AirflowFailException(str(error)) from error
        status = map_status(session.get("status"))
        url = self.hook.session_url(session_id)
        if status not in (RUNNING, *PRE_RUNNING_STATUSES):
            self.log.info("Session %s is %s; nothing left to guard (%s)", session_id, status, url)
            return True
        reason = guard.check(session)
        if reason is not None:  # the guard fires: pause the session (only the block's own) and fail
            # What the messages call the block: its group id.
            group_id = getattr(getattr(self, "task_group", None), "group_id", None)
            block = f"block {group_id!r}" if group_id else "the session block"
            note = f"Guard of {block}: session {session_id} {reason} ({url})"
            if not started:
                raise AirflowFailException(
                    f"{note}; the block did not start this session, so it was left running"
                )
            try:
                requested = self.hook.pause_session(session_id, upload_on_close=self._flag("upload_on_close"))
            except CloudOSError as error:
                raise AirflowFailException(f"{note}; pausing it failed: {error}") from error
            self.log.warning("Paused session %s because its %s", session_id, reason)
            outcome = "the session was paused" if requested else "the session was already pausing"
            raise AirflowFailException(f"{note}; {outcome}")
        unfinished = unfinished_tasks(context["dag"].dag_id, context["run_id"], self.body_task_ids)
        if not unfinished:
            self.log.info("The block's tasks have finished; the guard ends (%s)", url)
            return True
        self.log.info(
            "Session %s is %s and within its limits (%s); %d task(s) of the block still to finish",
            session_id,
            status,
            guard.describe(),
            len(unfinished),
        )
        return False


__all__ = [
    "XCOM_STARTED_SESSION",
    "CloudOSBlockPauseOperator",
    "CloudOSBlockResumeOperator",
    "CloudOSSessionBlockGuard",
    "started_flag",
]
