"""CloudOSHook: an Airflow connection of type ``cloudos`` turned into a CloudOS API client.

The hook adds only what Airflow brings: reading the connection (sync, and async for triggers),
masking the API key, the connection form, ``test_connection``, a blocking wait that logs
like a person would want, and the deadlines a task or trigger holds its calls to (below). Every
API call, retry and error message lives in the Airflow-free client; every status decision in
the core's status model.

The deadlines a task's API calls must keep, opened as client call scopes: a task knows when it has
to be done (a sensor's ``timeout``, an operator's ``timeout``, a trigger's ``end_time`` and,
everywhere, the try's ``execution_timeout``). The client knows none of that; it reads the scope
opened here (:func:`~airflow_provider_cloudos.client.transport.call_deadline`) and neither starts an
attempt nor sleeps for a retry beyond it. Each deadline is named after what set it, so the error a
stalled server ends in says whose time ran out.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook

from airflow_provider_cloudos.client.api import CloudOSResolver, is_already_paused_refusal
from airflow_provider_cloudos.client.settings import (
    ClientSettings,
    assumed_https_warning,
    settings_from_connection,
)
from airflow_provider_cloudos.client.transport import (
    Deadline,
    call_deadline,
    cleanup_budget,
    current_deadline,
)
from airflow_provider_cloudos.compat import connection_form_widgets, current_try_started_at, mask_api_key
from airflow_provider_cloudos.core.errors import (
    CloudOSError,
    CloudOSGuardError,
    CloudOSNotFoundError,
    CloudOSSessionFailedError,
    CloudOSStateError,
    CloudOSTransientError,
    CloudOSWaitTimeoutError,
)
from airflow_provider_cloudos.core.formatters import format_duration, session_url
from airflow_provider_cloudos.core.lineage import DataLocation
from airflow_provider_cloudos.core.report import build_session_report, reports_access
from airflow_provider_cloudos.core.spec import parse_data_files, parse_link_paths
from airflow_provider_cloudos.core.status import LIVE_STATUSES, api_statuses_for, map_status
from airflow_provider_cloudos.core.waiting import (
    SessionGuard,
    StatusWatch,
    WaitEnd,
    run_blocking,
    session_wait,
)
from airflow_provider_cloudos.provider_info import CONN_FIELDS, CONNECTION_TYPE, UI_FIELD_BEHAVIOUR

if TYPE_CHECKING:
    # Imported where used: a DAG file importing an operator should not pay for requests and
    # aiohttp at parse time (about 110 ms measured, see BENCHMARKS.md).
    from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient
    from airflow_provider_cloudos.client.sync import CloudOSClient


#: The time given to the calls a task makes because its deadline passed (pausing the session it
#: started): short, as a kill allows about 5 s before SIGKILL, yet enough for one slow answer.
CLEANUP_SECONDS = 30.0
#: How long past its ``end_time`` the look a trigger takes at the deadline may take to be answered.
LAST_LOOK_SECONDS = 5.0


def _parsed(value: Any, parse: Callable[[Any], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    if isinstance(value, (list, tuple)) and all(isinstance(item, dict) for item in value):
        return list(value)
    return parse(value)


def missing_connection(conn_id: str) -> AirflowNotFoundException:
    """Which connection is missing and how to define it (Airflow's own message names only the id)."""
    example = (
        f'{{"conn_type": "{CONNECTION_TYPE}", "host": "https://cloudos.lifebit.ai", '
        '"password": "<API key>", "extra": {"workspace_id": "<workspace id>"}}'
    )
    return AirflowNotFoundException(
        f"The CloudOS connection {conn_id!r} is not defined. Define it with connection type "
        f"'{CONNECTION_TYPE}' (shown as 'CloudOS'): in the UI under Admin > Connections, or in the "
        f"environment variable AIRFLOW_CONN_{conn_id.upper()}, for example "
        f"AIRFLOW_CONN_{conn_id.upper()}='{example}', or with `airflow connections add {conn_id} "
        f"--conn-type {CONNECTION_TYPE} ...`. A task names another connection with cloudos_conn_id=..."
    )


class CloudOSHook(BaseHook):
    """Talk to a CloudOS deployment through an Airflow connection.

    :param cloudos_conn_id: the ``cloudos`` connection: host = CloudOS URL (empty means
        https://cloudos.lifebit.ai), password = API key, extra ``workspace_id``, ``verify_ssl``,
        ``ssl_cert``, ``proxy``, ``no_proxy``, ``request_timeout`` (total seconds per attempt),
        ``max_response_mb``, ``retry_limit`` and ``retry_delay``.
    :param workspace_id: overrides the connection's workspace.
    :param timeout: connect/read timeout of each HTTP request, in seconds (the total time of an
        attempt is the connection's ``request_timeout``).

    Blocking callers (operators, the sensor) call ``get_session``, ``pause_session``...; async
    callers (the triggers) call their ``a``-prefixed counterparts (``aget_session``,
    ``apause_session``), which read the connection with Airflow's async API and share one async
    client per hook, released by ``aclose`` or ``async with hook:``.

    Calls made inside :func:`~airflow_provider_cloudos.client.transport.call_deadline` end by that
    deadline, retries included (the operators, the sensor and the triggers open one).
    """

    conn_name_attr = "cloudos_conn_id"
    default_conn_name = "cloudos_default"
    conn_type = CONNECTION_TYPE
    hook_name = "CloudOS"

    def __init__(
        self,
        cloudos_conn_id: str = default_conn_name,
        workspace_id: str | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
    ) -> None:
        super().__init__()
        self.cloudos_conn_id = cloudos_conn_id
        self._workspace_override = workspace_id or None
        self.timeout = timeout
        self._async_client: AsyncCloudOSClient | None = None
        self._told_https_assumed = False

    # -- the connection form (Airflow 2.11 asks these; 3.2+ reads provider_info) -------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel host and password, hide what a CloudOS connection does not use."""
        return {key.replace("-", "_"): copy.copy(value) for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields for the form of Airflow 2.11 and 3.0-3.1 (3.2+ reads ``conn-fields`` instead)."""
        return connection_form_widgets(CONN_FIELDS)

    # -- connection → client ------------------------------------------------------------------

    @cached_property
    def settings(self) -> ClientSettings:
        """The parsed connection; the API key is masked in logs as soon as it is read."""
        try:
            conn = self.get_connection(self.cloudos_conn_id)
        except AirflowNotFoundException:
            raise missing_connection(self.cloudos_conn_id) from None  # Airflow's chain adds nothing
        if conn.password:
            mask_api_key(conn.password)
        return self._parse(conn, conn.extra_dejson)

    def _parse(self, conn: Any, extra: dict[str, Any]) -> ClientSettings:
        """Settings from a connection read either way (its extras are read differently).

        A host without a scheme is warned about once per hook, however often it is read.
        """
        fields = {name: getattr(conn, name) for name in ("host", "password", "port", "schema")}
        settings = settings_from_connection(
            conn_id=self.cloudos_conn_id, extra=extra, workspace_id=self._workspace_override, **fields
        )
        if settings.assumed_https and not self._told_https_assumed:
            self._told_https_assumed = True
            self.log.warning(assumed_https_warning(self.cloudos_conn_id, settings.base_url))
        return settings

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def workspace_id(self) -> str | None:
        return self.settings.workspace_id

    def get_conn(self) -> CloudOSClient:
        """The synchronous client; one per hook, so every call reuses its pooled connection."""
        return self.client

    @cached_property
    def client(self) -> CloudOSClient:
        from airflow_provider_cloudos.client.sync import CloudOSClient

        return CloudOSClient(
            timeout=self.timeout, total_timeout=self.settings.request_timeout, **self._client_settings()
        )

    def _client_settings(self) -> dict[str, Any]:
        """The connection's settings both clients take as they are."""
        names = ("base_url", "api_key", "workspace_id", "verify", "max_response_bytes", "proxy", "no_proxy")
        return {name: getattr(self.settings, name) for name in (*names, "retry_policy")}

    async def get_async_client(self) -> AsyncCloudOSClient:
        """The async client, built on first use from the connection read with Airflow's async API;
        one per hook, like :attr:`client`, so every async call shares its pooled connections.

        For triggers: a synchronous connection lookup inside the triggerer's event loop can
        deadlock on Airflow 3, so this never calls ``get_connection``.
        """
        if self._async_client is None:
            from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient

            settings = await self.aget_settings()
            # Remembered as the hook's settings: base_url and session_url then answer in the
            # triggerer without the synchronous connection lookup its event loop must not make.
            self.__dict__["settings"] = settings
            self._async_client = AsyncCloudOSClient(
                timeout=settings.request_timeout,
                connect_timeout=self.timeout[0],
                read_timeout=self.timeout[1],
                max_requests_per_second=settings.max_requests_per_second,
                **self._client_settings(),
            )
        return self._async_client

    async def areread_connection(self) -> None:
        """Read the connection anew and build the async client from it: after a 401 during a long
        wait the key was most likely rotated, and the connection (a secrets backend, the database)
        now holds the new one. Airflow reads connections afresh on every lookup, so this sees it.
        """
        self.log.warning(
            "CloudOS refused the API key; reading connection %r anew (a rotated key) and carrying on "
            "with the wait",
            self.cloudos_conn_id,
        )
        await self.aclose()
        await self.get_async_client()

    async def aget_settings(self) -> ClientSettings:
        from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

        try:
            conn = await get_async_connection(self.cloudos_conn_id)
        except AirflowNotFoundException:
            raise missing_connection(self.cloudos_conn_id) from None
        return self._parse(conn, await get_async_extra_dejson(conn))

    def close(self) -> None:
        if (client := self.__dict__.pop("client", None)) is not None:
            client.close()

    async def aclose(self) -> None:
        """Release the async client's share of the event loop's pool (a later call joins again)."""
        client, self._async_client = self._async_client, None
        if client is not None:
            await client.close()

    async def __aenter__(self) -> CloudOSHook:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def session_url(self, session_id: str) -> str:
        """The session's page in the CloudOS web app."""
        return session_url(self.base_url, session_id)

    async def asession_url(self, session_id: str) -> str:
        """:meth:`session_url` for async callers: the connection is read with Airflow's async API
        (once per hook; :attr:`base_url` and :meth:`session_url` then answer from it too)."""
        await self.get_async_client()
        return self.session_url(session_id)

    # -- sessions ----------------------------------------------------------------------------

    def create_session(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create a session. Never retried: a second POST would be a second bill."""
        return self.client.create_session(payload)

    def get_session(self, session_id: str) -> dict[str, Any]:
        return self.client.get_session(session_id)

    async def aget_session(self, session_id: str, *, expected: Iterable[str] = ()) -> dict[str, Any]:
        """:meth:`get_session` for async callers.

        ``expected``: display statuses the session is expected in (a wait's live statuses and
        targets). Given, the read is one of many waits' on this connection: the triggerer's shared
        reader may answer it from one listing for them all (``client.shared_reads``).
        """
        client = await self.get_async_client()
        if not expected:
            return await client.get_session(session_id)
        return await client.read_session(session_id, api_statuses_for(expected))

    async def aget_sessions(
        self, session_ids: Iterable[str], *, expected: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """The sessions of a batch's waits (the fleet trigger's) that the triggerer's shared reader
        found listed in the display statuses ``expected``, by id. The caller reads the rest with
        :meth:`aget_session`: a listing sees a session only in the statuses it names."""
        client = await self.get_async_client()
        return await client.read_sessions(session_ids, api_statuses_for(expected))

    def list_sessions(self, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        """One page of sessions and the total (filters as :meth:`CloudOSClient.list_sessions` takes them)."""
        return self.client.list_sessions(**filters)

    def iter_sessions(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every session matching the filters (``statuses``, ``only_owner``, ``archived``,
        ``page_size``, as :meth:`CloudOSClient.iter_sessions` takes them), walking all pages."""
        return self.client.iter_sessions(**filters)

    def session_report(
        self,
        *,
        statuses: Iterable[str] | None = None,
        only_owner: bool = False,
        include_archived: bool = False,
        now: datetime | None = None,
        include_access: bool = False,
    ) -> list[dict[str, Any]]:
        """The workspace's sessions as report rows of primitives, the most expensive first.

        ``include_access`` adds what each session mounts and links (``mounts``, ``links``); a
        session the list returned without those fields is read once more on its own.

        Walks every page (archived sessions in a second walk when asked: the server's default for
        an absent archive filter is not documented). Rows give status, type, instance, owner, cost,
        runtime and time to auto-shutdown (see
        :func:`airflow_provider_cloudos.core.report.build_session_report`).
        """
        sessions: dict[str, dict[str, Any]] = {}
        for archived in (False, True) if include_archived else (False,):
            for session in self.iter_sessions(statuses=statuses, only_owner=only_owner, archived=archived):
                sessions.setdefault(str(session.get("_id")), session)
        for key, session in sessions.items() if include_access else ():
            session_id = session.get("_id")
            if not reports_access(session) and isinstance(session_id, str):
                # Read on its own: the list left out what it mounts and links. Gone since it was
                # listed, its row says "not reported".
                with contextlib.suppress(CloudOSNotFoundError):
                    sessions[key] = {**session, **self.get_session(session_id)}
        return build_session_report(
            sessions.values(), self.base_url, now or datetime.now(UTC), include_access=include_access
        )

    def pause_session(self, session_id: str, *, upload_on_close: bool = True, force: bool = False) -> bool:
        """Ask CloudOS to pause a session; return False when it was already paused or pausing.

        The API refuses a second pause with "aborted in aborted status" (409/400); that is the
        state the caller wanted, so it is reported, not raised.
        """
        try:
            self.client.pause_session(session_id, upload_on_close=upload_on_close, force_abort=force)
        except CloudOSStateError as error:
            if is_already_paused_refusal(error):
                return False
            raise
        return True

    async def apause_session(
        self, session_id: str, *, upload_on_close: bool = True, force: bool = False
    ) -> bool:
        """:meth:`pause_session` for async callers: False when the session was already paused."""
        client = await self.get_async_client()
        try:
            await client.pause_session(session_id, upload_on_close=upload_on_close, force_abort=force)
        except CloudOSStateError as error:
            if is_already_paused_refusal(error):
                return False
            raise
        return True

    #: Deprecated names of :meth:`pause_session` and :meth:`apause_session`, kept for callers written
    #: against them.
    stop_session = pause_session
    astop_session = apause_session

    def resume_session(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.client.resume_session(session_id, payload)

    def find_sessions_by_name(
        self, name: str, *, statuses: Iterable[str] | None = None, only_owner: bool = False
    ) -> list[dict[str, Any]]:
        """Sessions of the workspace with exactly this name (and an id), newest first."""
        return [
            session
            for session in self.iter_sessions(statuses=statuses, only_owner=only_owner)
            if session.get("name") == name and isinstance(session.get("_id"), str)
        ]

    def find_live_session(self, name: str, *, only_owner: bool = False) -> dict[str, Any] | None:
        """The newest session with this exact name that exists and is not paused or terminated.

        How a killed create task finds the session its request in flight created; with
        ``only_owner`` only sessions of the API key's user are considered.
        """
        hits = self.find_sessions_by_name(name, statuses=sorted(LIVE_STATUSES), only_owner=only_owner)
        return next((session for session in hits if map_status(session.get("status")) in LIVE_STATUSES), None)

    # -- names and paths → ids and payload items ------------------------------------------

    @cached_property
    def resolver(self) -> CloudOSResolver:
        return CloudOSResolver(self.client)

    def resolve_project_id(self, project_name: str) -> str:
        return self.resolver.resolve_project_id(project_name)

    def locate_mounts(self, mounts: Any) -> list[tuple[dict[str, Any], DataLocation]]:
        """Data-file paths (S3 or ``project/dataset/path``) → ``dataItems`` entries, each with where
        its file lives (lineage names it by that).

        Accepts raw paths (a list or a comma-separated string) or already parsed ones.
        """
        return self.resolver.locate_mounts(_parsed(mounts, parse_data_files))

    def locate_links(self, links: Any) -> list[tuple[dict[str, Any], DataLocation]]:
        """Folder paths (S3, ``project/folder`` or legacy) → ``fuseFileSystems`` entries, each with
        where its folder lives."""
        return self.resolver.locate_links(_parsed(links, parse_link_paths))

    def locate_session_link(self, item: dict[str, Any]) -> DataLocation | None:
        """Where a folder a session object lists in its ``fuseFileSystems`` lives (None: unknown shape)."""
        return self.resolver.locate_session_link(item)

    # -- waiting ---------------------------------------------------------------------------

    def wait_for_status(
        self,
        session_id: str,
        target: str | Iterable[str] = "running",
        timeout: float = 1800.0,
        poll_interval: float = 30.0,
        *,
        failure_statuses: str | Iterable[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
        guard: SessionGuard | None = None,
        initial: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Block until the session reaches ``target``; return the last session object.

        ``initial`` is a session object the caller just received (from create or resume): it is
        taken as the first look, so the first request waits one ``poll_interval``.

        Runs the one single-session loop (:func:`~airflow_provider_cloudos.core.waiting.session_wait`):
        each status change is logged once, with the elapsed time and the session's URL; transient
        API errors that outlive the client's retries are logged and the wait goes on until the
        deadline (a flaky minute must not fail a ten-minute wait). The task's own call deadline,
        when one is open, ends the wait no later than it does.

        :raises CloudOSSessionFailedError: the session reached a failure status.
        :raises CloudOSGuardError: ``guard`` fired (cost or runtime) while still waiting.
        :raises CloudOSWaitTimeoutError: ``timeout`` seconds passed first.
        """
        started = clock()
        scoped = current_deadline()
        end_time = min(started + float(timeout), scoped.at if scoped is not None else math.inf)
        watch = StatusWatch.create(
            session_id,
            target,
            failure_statuses,
            started_at=started,
            url=self.session_url(session_id),
            guard=guard,
            parameters=("target", "failure_statuses"),
        )
        in_hand = [] if initial is None else [initial]

        def look(_: str) -> dict[str, Any] | CloudOSError:
            try:
                session = in_hand.pop() if in_hand else self.get_session(session_id)
            except CloudOSTransientError as error:
                return error
            if on_poll is not None:
                on_poll(session)
            return session

        result = run_blocking(
            session_wait(watch, poll_interval, end_time, clock=clock, log=self.log), look, sleep
        )
        if result.end is WaitEnd.REACHED and isinstance(result.session, dict):
            return result.session
        status = watch.last_status
        if result.end is WaitEnd.FAILED:
            raise CloudOSSessionFailedError(session_id, status or "unknown", result.message)
        if result.end is WaitEnd.GUARD:
            raise CloudOSGuardError(session_id, str(result.reason), result.message)
        # Timed out, even when the last look met no answer: near the task's own deadline that is its
        # call deadline refusing to ask, not CloudOS failing.
        waited = watch.elapsed(clock())
        raise CloudOSWaitTimeoutError(session_id, status, waited, watch.timeout_message(waited))

    # -- Airflow's "Test" button -------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """One cheap authenticated call (a one-item list) to prove URL, key and workspace."""
        try:
            total = self.client.check_access()
        except CloudOSError as error:
            return False, str(error)
        return True, (
            f"Connected to {self.base_url}, workspace {self.workspace_id}: "
            f"{total} interactive session(s) visible"
        )


# -- the deadlines of a task's (or a trigger's) calls ------------------------------------------


@contextmanager
def task_call_deadline(
    task: Any, seconds: float | None, what: str, *, started_at: float | None = None
) -> Iterator[Deadline | None]:
    """Calls in this block end by ``started_at + seconds`` (``what``'s deadline) and by the try's
    ``execution_timeout``, whichever comes first.

    ``started_at`` defaults to the start of the running try (now, outside Airflow).
    """
    start = current_try_started_at() if started_at is None else started_at
    own = None if seconds is None else start + float(seconds)
    timeout = getattr(task, "execution_timeout", None)
    limit = timeout.total_seconds() if timeout is not None and timeout.total_seconds() > 0 else None
    execution = None if limit is None else current_try_started_at() + limit
    with call_deadline(execution, f"execution_timeout ({format_duration(limit)})"):
        label = f"{what} ({format_duration(seconds)})" if seconds is not None else what
        with call_deadline(own, label) as chosen:
            yield chosen


def trigger_call_deadline(
    end_time: float, *, clock: Callable[[], float] = time.time
) -> AbstractContextManager[Deadline | None]:
    """The scope of one poll of a trigger: its ``end_time``, stretched to give a look taken near
    it :data:`LAST_LOOK_SECONDS`.

    A trigger takes a last look at the session when ``end_time`` arrives, or at once when it is
    created after it (on another triggerer): a session that became ready meanwhile is a success,
    not a timeout. That look gets a few seconds, no more, to be answered; looks taken earlier end
    by ``end_time`` itself.
    """
    moment = datetime.fromtimestamp(end_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    label = f"the trigger's end_time ({moment}; a look taken at it may take {LAST_LOOK_SECONDS:g}s)"
    return call_deadline(max(end_time, clock() + LAST_LOOK_SECONDS), label)


def cleanup_calls(reason: str) -> AbstractContextManager[Deadline]:
    """A short fresh budget for calls made because a deadline passed or the task is going away."""
    return cleanup_budget(CLEANUP_SECONDS, f"the cleanup after {reason}")


__all__ = [
    "CLEANUP_SECONDS",
    "LAST_LOOK_SECONDS",
    "CloudOSHook",
    "cleanup_calls",
    "task_call_deadline",
    "trigger_call_deadline",
]
