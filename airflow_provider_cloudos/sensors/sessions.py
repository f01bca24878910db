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
)

from airflow_provider_cloudos.core.errors import CloudOSDeadlineError, CloudOSError, CloudOSTransientError
from airflow_provider_cloudos.core.formatters import session_summary
from airflow_provider_cloudos.core.spec import is_unset, require_session_id
from airflow_provider_cloudos.core.status import normalize_statuses
from airflow_provider_cloudos.core.waiting import (
    SessionGuard,
    StatusWatch,
    WaitEnd,
    run_blocking,
    session_wait,
)
from airflow_provider_cloudos.deferral import check_event, defer_to_trigger
from airflow_provider_cloudos.hooks.cloudos import task_call_deadline
from airflow_provider_cloudos.operators.cloudos_task import (
    CONNECTION_TEMPLATE_FIELDS,
    DEFAULT_DEFERRABLE,
    CloudOSSensorTimingMixin,
    CloudOSTaskMixin,
    check_literal_parameters,
)


class CloudOSSessionSensor(CloudOSSensorTimingMixin, CloudOSTaskMixin, BaseSensorOperator):
    """Wait until a CloudOS session reaches ``target_status``; fail fast on a failure status.

    Works in ``poke`` and ``reschedule`` modes, and with ``deferrable=True`` checks once, then hands
    the wait to :class:`CloudOSSessionTrigger` with a deadline of ``timeout`` seconds, freeing the
    worker slot. Pushes the session summary as the return value.

    Cost and runtime guards: with ``max_cost_usd`` and/or ``max_runtime`` the sensor also succeeds
    as soon as the session's cost or running time reaches the limit, while it is not yet in a
    target status, so that a downstream task (a stop operator) can pause it. Give no
    ``target_status`` to watch a running session until its guard fires: the wait then also ends,
    successfully, when the session is paused by other means (there is nothing left to stop).
    With a guard the result carries ``guard_reason``: what fired (e.g. ``"cost $50.20 reached the
    limit of $50.00"``), or None when a target status ended the wait.

    :param session_id: the session (templated; e.g. an upstream create task's XCom).
    :param target_status: a display status or a list of them (``running``, ``paused``,
        ``stopping``, ``terminated``, ...; API names such as ``ready`` are accepted). Default
        ``running``, or ``paused`` when a guard is given.
    :param failure_status: statuses that fail the sensor at once (default ``terminated``).
    :param max_cost_usd: guard: succeed once the session's cost reaches this many USD.
    :param max_runtime: guard: succeed once the session has run this long (``"8h"``, seconds).
    :param deferrable: check once, then wait in the triggerer (default: ``[operators]
        default_deferrable``); not templated.

    Also ``poke_interval`` and ``timeout`` as seconds or durations such as ``"1m"``
    (:class:`CloudOSSensorTimingMixin`; with ``deferrable`` the timeout is the trigger's
    deadline; a ``poke_interval`` left out is the connection's ``poll_interval`` extra if set),
    and ``cloudos_conn_id`` and ``workspace_id`` (:class:`CloudOSTaskMixin`, templated).
    """

    template_fields: Sequence[str] = (
        "session_id",
        "target_status",
        "failure_status",
        "max_cost_usd",
        "max_runtime",
        *CONNECTION_TEMPLATE_FIELDS,
    )
    ui_color = "#d6e9f8"

    def __init__(
        self,
        *,
        session_id: str,
        target_status: str | Sequence[str] | None = None,
        failure_status: str | Sequence[str] | None = None,
        max_cost_usd: float | str | None = None,
        max_runtime: str | float | None = None,
        deferrable: bool | str = DEFAULT_DEFERRABLE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.max_cost_usd = max_cost_usd
        self.max_runtime = max_runtime
        self.session_id = session_id
        self.target_status = target_status
        self.failure_status = failure_status
        check_literal_parameters(self, self._validated)

    flag_parameters = ("deferrable",)

    def _read_parameters(self) -> StatusWatch:
        """The wait the parameters ask for; :attr:`_watch` starts its clock."""
        session_id = require_session_id(self.session_id, "session_id")
        guard = SessionGuard.from_params(max_cost_usd=self.max_cost_usd, max_runtime=self.max_runtime)
        wanted, failing = self.target_status, self.failure_status
        if wanted is None or is_unset(wanted):
            wanted = "paused" if guard.active else "running"
        # An empty list is refused here (StatusWatch.create would read it as "no failure status").
        failures = (
            None if failing is None or is_unset(failing) else normalize_statuses(failing, "failure_status")
        )
        return StatusWatch.create(session_id, wanted, failures, guard=guard)

    def _result(self, summary: Any, guard_reason: str | None) -> Any:
        """The summary, with ``guard_reason`` when a guard is set (what fired, or None)."""
        guard = self._validated().guard
        if isinstance(summary, dict) and guard is not None and guard.active:
            return {**summary, "guard_reason": guard_reason}
        return summary

    @cached_property
    def _watch(self) -> StatusWatch:
        """The wait, its clock started at the first look."""
        watch = self._validated()
        watch.started_at, watch.url = time.time(), self.hook.session_url(watch.session_id)
        return watch

    def poke(self, context: Any) -> bool | PokeReturnValue:
        """One look, judged by the one single-session loop: an end time already passed makes it
        look once; its deadline is the sensor's own (Airflow's timeout, or the trigger's)."""
        result = run_blocking(
            session_wait(self._watch, 0.0, 0.0, clock=time.time, log=self.log), self._look, time.sleep
        )
        if result.end is WaitEnd.FAILED:
            raise AirflowFailException(result.message)
        if result.session is None:
            return False  # not there yet, or CloudOS did not answer: poke again
        if result.end is WaitEnd.GUARD:
            self.log.info(result.message)
        summary = session_summary(result.session, self.hook.base_url)
        return PokeReturnValue(is_done=True, xcom_value=self._result(summary, result.reason))

    def _look(self, session_id: str) -> dict[str, Any] | CloudOSError:
        try:
            # Each look ends by the sensor's timeout (counted from its first look) and by
            # execution_timeout, whatever the server does.
            started = self._watch.started_at
            with task_call_deadline(self, float(self.timeout), "the sensor's timeout", started_at=started):
                return self.hook.get_session(session_id)
        except CloudOSDeadlineError as error:
            raise AirflowSensorTimeout(str(error)) from error
        except CloudOSTransientError as error:
            return error
        except CloudOSError as error:
            raise AirflowFailException(str(error)) from error

    def execute(self, context: Any) -> Any:
        self._validated()
        self._require_workspace()
        if not self.poke_interval_given and self.hook.settings.poll_interval is not None:
            self.poke_interval = self.hook.settings.poll_interval  # the connection's, when the DAG gave none
        if not self._flag("deferrable"):
            return super().execute(context)
        first = self.poke(context)
        if isinstance(first, PokeReturnValue) and first.is_done:
            return first.xcom_value
        watch = self._watch
        limits: dict[str, Any] = watch.guard.trigger_kwargs() if watch.guard else {}
        # Imported here: parsing a DAG file needs no trigger module (see BENCHMARKS.md).
        from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

        trigger = CloudOSSessionTrigger(
            session_id=watch.session_id,
            end_time=time.time() + float(self.timeout),
            cloudos_conn_id=self.cloudos_conn_id,
            workspace_id=self._workspace_override(),
            target_statuses=sorted(watch.targets),
            failure_statuses=sorted(watch.failures),
            poll_interval=float(self.poke_interval),
            started_at=watch.started_at,
            last_status=watch.last_status,
            **limits,
        )
        defer_to_trigger(self, trigger)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        """Back from the trigger: the summary on success or guard, a clear exception otherwise."""
        checked = check_event(event, timeout_exception=AirflowSensorTimeout, guard_is_success=True)
        self.log.info(checked.get("message"))
        return self._result(checked.get("summary"), checked.get("reason"))


__all__ = ["CloudOSSessionSensor"]
