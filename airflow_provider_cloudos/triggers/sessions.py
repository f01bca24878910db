"""CloudOSSessionTrigger: wait for a session's status in the triggerer, without a worker slot.

The trigger owns the deadline. Airflow's own deferral timeout fails the task without running
``execute_complete`` or any ``on_kill``, so a session started by that task would keep billing;
instead the trigger gets a wall-clock ``end_time`` (epoch seconds, valid on any triggerer),
polls until then, pauses the session itself when the operator asked for that, and yields
exactly one event.

A kill's pause must end even if Airflow cancels it again meanwhile. Airflow 3.3's triggerer calls
``on_kill`` inside the cancelled trigger's task, and keeps sending the same cancellation on every
sync with its supervisor (about once a second) until the trigger is gone; each one cancels
whatever ``on_kill`` is awaiting, and Airflow swallows that cancellation. A pause that needs a
task-state query, a connection lookup and a request (more than a second on a busy triggerer) was
dropped half-way: the deployment soak saw a task marked failed whose session was never paused.
Older Airflow versions cancel a trigger's cleanup the same way on shutdown. So the pause runs in a
task of its own (:func:`run_to_the_end`), shielded from the caller's cancellation and referenced
until it ends: the caller may be cancelled, the pause is not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine, Iterable
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_cloudos.compat import safe_to_pause_after_cancel, task_still_deferred
from airflow_provider_cloudos.core.errors import CloudOSAPIError, CloudOSAuthError, CloudOSError
from airflow_provider_cloudos.core.formatters import session_summary
from airflow_provider_cloudos.core.status import LIVE_STATUSES, map_status, normalize_statuses
from airflow_provider_cloudos.core.waiting import SessionGuard, StatusWatch, WaitEnd, run_async, session_wait
from airflow_provider_cloudos.deferral import ERROR
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook, trigger_call_deadline

#: Kill-path work still running; a strong reference, so the event loop cannot drop a task whose
#: caller was cancelled.
_RUNNING: set[asyncio.Task[Any]] = set()


async def run_to_the_end(work: Coroutine[Any, Any, None]) -> None:
    """Await ``work`` in its own task that a cancellation of the caller does not reach."""
    task = asyncio.ensure_future(work)
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    await asyncio.shield(task)


#: What every CloudOS trigger serializes, whatever it waits for.
_SHARED_KWARGS = ("end_time", "cloudos_conn_id", "workspace_id", "poll_interval", "started_at")


class _UnusableConnection(Exception):
    """The connection cannot be read or used: the wait ends with an event naming it."""


class CloudOSTriggerBase(BaseTrigger):
    """What both CloudOS triggers hold: the connection, the wall-clock deadline and the poll.

    Serialized as primitives only, never the API key: the connection is read again on the triggerer.

    :param end_time: wall-clock deadline, epoch seconds.
    :param cloudos_conn_id: the ``cloudos`` connection; read with Airflow's async API.
    :param workspace_id: overrides the connection's workspace.
    :param poll_interval: seconds between polls (polling rounds, for a batch).
    :param started_at: when the wait began (epoch); kept across triggerer moves for the logs.
    """

    def __init__(
        self,
        *,
        end_time: float,
        cloudos_conn_id: str = CloudOSHook.default_conn_name,
        workspace_id: str | None = None,
        poll_interval: float = 30.0,
        started_at: float | None = None,
    ) -> None:
        super().__init__()
        self.end_time = float(end_time)
        self.cloudos_conn_id = cloudos_conn_id
        self.workspace_id = workspace_id
        self.poll_interval = float(poll_interval)
        self.started_at = float(started_at) if started_at is not None else time.time()

    def _serialized(self, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        """The classpath and kwargs: the shared ones and the trigger's own ``kwargs``."""
        shared = {name: getattr(self, name) for name in _SHARED_KWARGS}
        return f"{type(self).__module__}.{type(self).__qualname__}", {**shared, **kwargs}

    def _hook(self) -> CloudOSHook:
        return CloudOSHook(cloudos_conn_id=self.cloudos_conn_id, workspace_id=self.workspace_id)


class CloudOSSessionTrigger(CloudOSTriggerBase):
    """Poll a CloudOS session until it reaches ``target_statuses``, fails, or ``end_time`` passes.

    :param session_id: the session to watch.
    :param target_statuses: display statuses that end the wait successfully (``running``...).
    :param failure_statuses: display statuses that end it as a failure (default ``terminated``,
        unless it is a target).
    :param stop_on_timeout: pause the session when the deadline passes or a guard fires (the task
        started it).
    :param stop_on_kill: pause the session when a user kills the deferred task.
    :param upload_on_close: whether such a pause saves the session's data.
    :param max_cost_usd: guard: end the wait with a ``guard`` event once the session's cost
        reaches this (checked while the session is not yet in a target or failure status).
    :param max_runtime_seconds: guard: the same for the session's running time.

    And the deadline, connection and poll of :class:`CloudOSTriggerBase` (``end_time``...).
    """

    def __init__(
        self,
        *,
        session_id: str,
        target_statuses: Iterable[str] = ("running",),
        failure_statuses: Iterable[str] | None = None,
        stop_on_timeout: bool = False,
        stop_on_kill: bool = False,
        upload_on_close: bool = True,
        max_cost_usd: float | None = None,
        max_runtime_seconds: float | None = None,
        last_status: str | None = None,
        **wait: Any,
    ) -> None:
        super().__init__(**wait)
        self.guard = SessionGuard(max_cost_usd=max_cost_usd, max_runtime_seconds=max_runtime_seconds)
        self.session_id = session_id
        self.target_statuses = sorted(normalize_statuses(list(target_statuses)))
        self.failure_statuses = (
            None if failure_statuses is None else sorted(normalize_statuses(list(failure_statuses)))
        )
        self.stop_on_timeout = bool(stop_on_timeout)
        self.stop_on_kill = bool(stop_on_kill)
        self.upload_on_close = bool(upload_on_close)
        #: The status the deferring task last saw (and logged), so the trigger logs only changes.
        self.last_status = map_status(last_status) if last_status else None
        self._event_yielded = False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._serialized(
            session_id=self.session_id,
            target_statuses=list(self.target_statuses),
            failure_statuses=None if self.failure_statuses is None else list(self.failure_statuses),
            stop_on_timeout=self.stop_on_timeout,
            stop_on_kill=self.stop_on_kill,
            upload_on_close=self.upload_on_close,
            # Only the limits that are set, so a trigger without a guard serializes as before.
            **self.guard.trigger_kwargs(),
            **({"last_status": self.last_status} if self.last_status else {}),
        )

    def _event(self, status: str, watch: StatusWatch, message: str, **extra: Any) -> TriggerEvent:
        self._event_yielded = True
        return TriggerEvent(
            {
                "status": status,
                "session_id": self.session_id,
                "session_status": watch.last_status,
                "api_status": watch.last_api_status,
                "elapsed": round(watch.elapsed(time.time()), 3),
                "message": message,
                **extra,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        watch = StatusWatch.create(
            self.session_id,
            self.target_statuses,
            self.failure_statuses,
            started_at=self.started_at,
            guard=self.guard,
        )
        watch.last_status = self.last_status
        try:
            async with hook:
                try:
                    watch.url = await hook.asession_url(self.session_id)
                except Exception as error:  # a broken or missing connection: one event, never a crash
                    raise _UnusableConnection(error) from error
                event = await self._wait(hook, watch)
        except _UnusableConnection as error:
            event = self._event(ERROR, watch, f"Cannot use connection {self.cloudos_conn_id!r}: {error}")
        except asyncio.CancelledError:
            # Airflow 2.11 has no trigger on_kill: a kill arrives as a cancellation, as do a
            # triggerer shutdown and a reassignment. Pause only when the task is really gone.
            if self.stop_on_kill and not self._event_yielded:
                await run_to_the_end(self._pause_if_cancelled_by_a_kill(hook))
            raise
        except Exception as error:
            # A bug, or an answer nobody foresaw: a bare raise would fail the task and leave the
            # session it started running with nobody watching it. Pause it (when it is this
            # task's to pause), then end with an event that says what happened.
            stopped = self.stop_on_timeout and await self._pause_quietly(self._hook(), "its wait failed")
            message = f"Waiting for session {self.session_id} failed: {type(error).__name__}: {error}"
            event = self._event(ERROR, watch, message, stopped=stopped)
        yield event

    async def _wait(self, hook: CloudOSHook, watch: StatusWatch) -> TriggerEvent:
        """Run the one single-session loop; pause the session on a guard or timeout when asked to."""
        #: Whether the connection was read anew after CloudOS refused its key, and not yet used since.
        reread = False
        expected = LIVE_STATUSES | set(self.target_statuses)

        async def look(session_id: str) -> dict[str, Any] | CloudOSError:
            nonlocal reread
            try:
                # No attempt or retry past end_time, however the server answers (or does not).
                with trigger_call_deadline(self.end_time):
                    # Live or at its target, where the triggerer's shared reader lists sessions.
                    session = await hook.aget_session(session_id, expected=expected)
            except CloudOSAuthError as error:
                if reread:
                    read_anew = f"refused again after connection {self.cloudos_conn_id!r} was read anew"
                    return CloudOSAuthError(f"{error} ({read_anew})")
                # Failing here would leave the session this task started billing, unwatched.
                try:
                    await hook.areread_connection()
                except CloudOSError as unusable:
                    raise _UnusableConnection(unusable) from unusable
                reread = True
                return await look(session_id)  # with the connection read anew
            except CloudOSAPIError as error:
                return error
            reread = False
            return session

        # The deferring task has just looked at the session, so the first look waits one interval.
        # Looking at once gains nothing and, on Airflow 3.3.2, an event that arrives before the
        # scheduler has processed the deferral fails the task ("state attribute is queued").
        # In step: the triggerer's waits of one interval look together, in one shared read.
        loop = session_wait(
            watch, self.poll_interval, self.end_time, clock=time.time, log=self.log, wait_first=True,
            in_step=True,
        )  # fmt: skip
        result = await run_async(loop, look, asyncio.sleep)
        extra: dict[str, Any] = {} if result.reason is None else {"reason": result.reason}
        if result.session is not None:
            extra["summary"] = session_summary(result.session, hook.base_url)
        if result.end in (WaitEnd.GUARD, WaitEnd.TIMED_OUT, WaitEnd.UNANSWERED):
            why = result.reason or "the wait timed out"
            extra["stopped"] = self.stop_on_timeout and await self._pause(hook, why)
        return self._event(result.end.value, watch, result.message, **extra)

    async def _pause_if_cancelled_by_a_kill(self, hook: CloudOSHook) -> None:
        if await safe_to_pause_after_cancel(self):
            await self._pause_quietly(hook, "the deferred task was killed")

    async def _pause(self, hook: CloudOSHook, reason: str) -> bool:
        """Pause the session; True when this call requested the pause."""
        try:
            stopped = await hook.apause_session(self.session_id, upload_on_close=self.upload_on_close)
        except CloudOSError as error:
            self.log.error("Could not pause session %s after %s: %s", self.session_id, reason, error)
            return False
        if stopped:
            self.log.warning("Paused session %s because %s", self.session_id, reason)
        return stopped

    async def _pause_quietly(self, hook: CloudOSHook, reason: str) -> bool:
        """:meth:`_pause` where nothing may be raised (a kill, a failed wait: the pause must not hide it)."""
        try:
            async with hook:
                await hook.get_async_client()  # the connection lookup stays outside the 30 s limit
                return await asyncio.wait_for(self._pause(hook, reason), timeout=30)
        except Exception as error:
            self.log.error("Could not pause session %s after %s: %s", self.session_id, reason, error)
            return False

    async def on_kill(self) -> None:
        """Airflow 3.3+: a user marked the deferred task failed/success or cleared it.

        A known 3.3.x bug can call this on an old triggerer after the trigger moved elsewhere, so
        the pause only happens when this trigger has not already ended and the task instance is no
        longer deferred.
        """
        if not self.stop_on_kill or self._event_yielded:
            return
        await run_to_the_end(self._pause_after_kill())

    async def _pause_after_kill(self) -> None:
        if await task_still_deferred(self):
            self.log.info("Task is still deferred elsewhere; not pausing session %s", self.session_id)
            return
        await self._pause_quietly(self._hook(), "the deferred task was killed")


__all__ = ["CloudOSSessionTrigger", "CloudOSTriggerBase", "run_to_the_end"]
