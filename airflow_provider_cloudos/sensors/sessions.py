"""CloudOSSessionSensor: wait until a session reaches a status, in any sensor mode."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_cloudos.core.errors import CloudOSError, CloudOSTransientError, CloudOSValidationError
from airflow_provider_cloudos.core.formatters import session_summary
from airflow_provider_cloudos.core.status import FAILURE_STATUSES, WaitOutcome, normalize_statuses
from airflow_provider_cloudos.core.validators import require_session_id
from airflow_provider_cloudos.core.waiting import StatusWatch
from airflow_provider_cloudos.deferral import check_event, defer_to_trigger
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger


class CloudOSSessionSensor(BaseSensorOperator):
    """Wait until a CloudOS session reaches ``target_status``; fail fast on a failure status.

    Works in ``poke`` and ``reschedule`` modes, and with ``deferrable=True`` checks once, then hands
    the wait to :class:`CloudOSSessionTrigger` with a deadline of ``timeout`` seconds, freeing the
    worker slot. Pushes the session summary as the return value.

    :param session_id: the session (templated; e.g. an upstream create task's XCom).
    :param target_status: a display status or a list of them (``running``, ``paused``,
        ``stopping``, ``terminated``, ...; API names such as ``ready`` are accepted).
    :param failure_status: statuses that fail the sensor at once (default ``terminated``).
    :param cloudos_conn_id: the ``cloudos`` connection.
    :param workspace_id: overrides the connection's workspace.
    :param deferrable: defer to the triggerer instead of poking.
    """

    template_fields: Sequence[str] = ("session_id", "target_status", "failure_status", "workspace_id")
    ui_color = "#d6e9f8"

    def __init__(
        self,
        *,
        session_id: str,
        target_status: str | Sequence[str] = "running",
        failure_status: str | Sequence[str] | None = None,
        cloudos_conn_id: str = CloudOSHook.default_conn_name,
        workspace_id: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.session_id = session_id
        self.target_status = target_status
        self.failure_status = failure_status
        self.cloudos_conn_id = cloudos_conn_id
        self.workspace_id = workspace_id
        self.deferrable = deferrable
        self._watch: StatusWatch | None = None

    @cached_property
    def hook(self) -> CloudOSHook:
        return CloudOSHook(cloudos_conn_id=self.cloudos_conn_id, workspace_id=self.workspace_id or None)

    def _validated(self) -> tuple[str, frozenset[str], frozenset[str]]:
        """Validate the rendered parameters before any HTTP call."""
        try:
            session_id = require_session_id(self.session_id, "session_id")
            targets = normalize_statuses(self.target_status, parameter="target_status")
            failures = (
                FAILURE_STATUSES - targets
                if self.failure_status is None
                else normalize_statuses(self.failure_status, parameter="failure_status")
            )
        except CloudOSValidationError as error:
            raise AirflowFailException(str(error)) from error
        return session_id, targets, failures

    def _watcher(self) -> StatusWatch:
        if self._watch is None:
            session_id, targets, failures = self._validated()
            self._watch = StatusWatch(
                session_id=session_id,
                targets=targets,
                failures=failures,
                started_at=time.time(),
                url=self.hook.session_url(session_id),
            )
        return self._watch

    def poke(self, context: Any) -> bool | PokeReturnValue:
        watch = self._watcher()
        try:
            session = self.hook.get_session(watch.session_id)
        except CloudOSTransientError as error:
            self.log.warning("CloudOS did not answer; will poke again: %s", error)
            return False
        except CloudOSError as error:
            raise AirflowFailException(str(error)) from error
        outcome, changed = watch.observe(session)
        if changed:
            self.log.info(watch.change_message(time.time()))
        if outcome is WaitOutcome.FAILED:
            raise AirflowFailException(
                f"Session {watch.session_id} is {watch.last_status} while waiting for "
                f"{watch.describe_targets()} ({watch.url})"
            )
        if outcome is WaitOutcome.REACHED:
            return PokeReturnValue(is_done=True, xcom_value=session_summary(session, self.hook.base_url))
        return False

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if isinstance(first, PokeReturnValue) and first.is_done:
            return first.xcom_value
        watch = self._watcher()
        trigger = CloudOSSessionTrigger(
            session_id=watch.session_id,
            end_time=time.time() + float(self.timeout),
            cloudos_conn_id=self.cloudos_conn_id,
            workspace_id=self.workspace_id or None,
            target_statuses=sorted(watch.targets),
            failure_statuses=sorted(watch.failures),
            poll_interval=float(self.poke_interval),
            started_at=watch.started_at,
        )
        defer_to_trigger(self, trigger)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        """Back from the trigger: the summary on success, a clear exception otherwise."""
        checked = check_event(event, timeout_exception=AirflowSensorTimeout)
        self.log.info(checked.get("message"))
        return checked.get("summary")


__all__ = ["CloudOSSessionSensor"]
