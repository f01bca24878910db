"""CloudOSFleetTrigger: wait in the triggerer until every session of a batch reaches a status.

A task can defer to one trigger only, so a fleet action that paused 250 sessions either waits for
all of them in one trigger or chains 250 deferrals. One trigger also shares one pooled
connection and polls only the sessions still pending, a round's through one listing of the
triggerer's shared reader (``client.shared_reads``): 250 sessions are 3 pages, not 250 reads
(measured against one :class:`CloudOSSessionTrigger` per session: see BENCHMARKS.md).

Like the single-session trigger it owns its wall-clock deadline (``end_time``, epoch seconds),
tolerates transient API errors, and yields exactly one event. It never pauses or resumes
anything: it only watches.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_cloudos.core.errors import CloudOSAuthError, CloudOSError, CloudOSValidationError
from airflow_provider_cloudos.core.spec import require_session_id
from airflow_provider_cloudos.core.status import LIVE_STATUSES
from airflow_provider_cloudos.core.waiting import BatchWatch, StatusWatch, batch_wait, run_async
from airflow_provider_cloudos.deferral import ERROR
from airflow_provider_cloudos.hooks.cloudos import trigger_call_deadline
from airflow_provider_cloudos.triggers.sessions import CloudOSTriggerBase

#: Requests in flight at once during one polling round: gentle on the API, still quick.
DEFAULT_MAX_CONCURRENCY = 8
#: The names a refused ``target_statuses``/``failure_statuses`` is reported under.
_STATUS_PARAMETERS = ("target_status", "failure_statuses")


class CloudOSFleetTrigger(CloudOSTriggerBase):
    """Poll a batch of CloudOS sessions until each reaches ``target_statuses`` or fails.

    The single event says how each session ended: ``reached`` (id → display status), ``failed``
    (id → why) and, after the deadline, ``pending`` (id → last status seen). Its status is
    ``success`` when all reached a target, ``failure`` when all are settled but some failed,
    ``timeout`` when the deadline came first, ``error`` when the connection is unusable.

    :param session_ids: the sessions to watch (24-hex ids).
    :param target_statuses: display statuses that settle a session successfully (default paused).
    :param failure_statuses: display statuses that settle it as failed (default ``terminated``,
        unless it is a target).
    :param max_concurrency: requests in flight at once within a round.

    And the deadline, connection and poll of :class:`CloudOSTriggerBase` (``end_time``...).
    """

    def __init__(
        self,
        *,
        session_ids: Iterable[str],
        target_statuses: Iterable[str] = ("paused",),
        failure_statuses: Iterable[str] | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        **wait: Any,
    ) -> None:
        super().__init__(**wait)
        self.session_ids = list(dict.fromkeys(require_session_id(sid, "session_ids") for sid in session_ids))
        listed = None if failure_statuses is None else list(failure_statuses)
        statuses = StatusWatch.create("", list(target_statuses), listed, parameters=_STATUS_PARAMETERS)
        self.target_statuses = sorted(statuses.targets)
        self.failure_statuses = sorted(statuses.failures)
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise CloudOSValidationError("max_concurrency", max_concurrency, "expected a whole number >= 1")
        self.max_concurrency = max_concurrency

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._serialized(
            session_ids=list(self.session_ids),
            target_statuses=list(self.target_statuses),
            failure_statuses=list(self.failure_statuses),
            max_concurrency=self.max_concurrency,
        )

    def _event(self, status: str, watch: BatchWatch, message: str) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "session_ids": list(self.session_ids),
                "reached": dict(watch.reached),
                "failed": dict(watch.failed),
                "pending": dict(watch.pending),
                "elapsed": round(max(0.0, time.time() - self.started_at), 3),
                "message": message,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self._hook()
        watch = BatchWatch(
            self.session_ids, self.target_statuses, self.failure_statuses, started_at=self.started_at
        )
        try:
            await hook.get_async_client()  # an unusable connection ends the wait with one event
        except CloudOSError as error:
            yield self._event(ERROR, watch, f"Cannot use connection {self.cloudos_conn_id!r}: {error}")
            return
        limit = asyncio.Semaphore(self.max_concurrency)

        async def read(session_id: str, key_refused: list[str] | None) -> None:
            """Read one session into ``watch``; a 401 goes to ``key_refused`` when it is given."""
            async with limit:
                try:
                    with trigger_call_deadline(self.end_time):
                        session = await hook.aget_session(session_id)
                except CloudOSError as error:
                    if isinstance(error, CloudOSAuthError) and key_refused is not None:
                        key_refused.append(session_id)
                    elif watch.unread(session_id, error):
                        self.log.warning(
                            "CloudOS did not answer about session %s; the wait goes on: %s", session_id, error
                        )
                    return
            watch.observe(session_id, session)

        # Live or at a target: where the triggerer's shared reader lists the batch, a page a hundred.
        expected = LIVE_STATUSES | set(self.target_statuses)

        async def poll_round(session_ids: list[str]) -> None:
            with trigger_call_deadline(self.end_time):
                listed = await hook.aget_sessions(session_ids, expected=expected)
            for session_id, session in listed.items():
                watch.observe(session_id, session)
            refused: list[str] = []
            unlisted = [session_id for session_id in session_ids if session_id not in listed]
            await asyncio.gather(*(read(session_id, refused) for session_id in unlisted))
            if not refused:
                return
            # A key rotated during the wait (see CloudOSHook.areread_connection): one read of the
            # connection per round that meets a 401; refused again, those sessions fail.
            try:
                await hook.areread_connection()
            except CloudOSError as error:
                for session_id in refused:
                    watch.unread(session_id, error)
                return
            await asyncio.gather(*(read(session_id, None) for session_id in refused))

        # The task deferred right after asking for the pauses: the first round waits one interval
        # (an event before the scheduler processed the deferral fails the task on Airflow 3.3.2).
        loop = batch_wait(
            watch,
            poll_interval=self.poll_interval,
            end_time=self.end_time,
            clock=time.time,
            log=self.log.info,
            wait_first=True,
        )
        async with hook:
            result = await run_async(loop, poll_round, asyncio.sleep)
        yield self._event(result.end.value, watch, result.message)


#: The fleet trigger's earlier name, one letter away from the session trigger's. Trigger rows already in
#: Airflow's database may name ``airflow_provider_cloudos.triggers.fleet.CloudOSSessionsTrigger``: they
#: load this class, which serializes under its new name.
CloudOSSessionsTrigger = CloudOSFleetTrigger

__all__ = ["DEFAULT_MAX_CONCURRENCY", "CloudOSFleetTrigger", "CloudOSSessionsTrigger"]
