"""The local CloudOS API simulator: one object to start, configure, inspect and stop.

It serves the API from a background thread with its own asyncio event loop, so a test (or
the demo, or a benchmark) keeps its own thread free to drive the provider against it::

    with CloudOSSimulator(timings=StateTimings.fast()) as sim:
        hook_env = {"AIRFLOW_CONN_CLOUDOS_DEFAULT": sim.connection_json()}
        ...
        assert sim.counters.requests("create") == 1

Every request goes: route → count → fault injection (latency, drop, 503, 429, one-shots) →
the API (authentication, scoping, handler) → its answer, held in flight when a test asks.
See ``api.py`` for the API's rules, ``state.py`` for the session lifecycle and ``faults.py``
for the fault knobs.

Endpoints served (all need the ``apikey`` header and the ``teamId`` query parameter), with the
names used by counters and faults:

==================  ===============================================================
``create``          ``POST /api/v1/interactive-sessions`` → 201, the session
``get``             ``GET /api/v2/interactive-sessions/{id}``
``list``            ``GET /api/v3/interactive-sessions?page&limit&status[]&onlyOwnerSessions&archived.status``
``abort``           ``PUT /api/v1/interactive-sessions/{id}/abort`` → 204
``resume``          ``PUT /api/v1/interactive-sessions/{id}/resume`` → 200, the session
``projects``        ``GET /api/v2/projects?search=NAME`` (case-insensitive substring match)
``datasets``        ``GET /api/v2/datasets?projectId=P``
``dataset_items``   ``GET /api/v1/datasets/{datasetId}/items``
``folder_items``    ``GET /api/v1/folders/virtual/{folderId}/items`` and
                    ``GET /api/v1/folders/s3/{folderId}/items``
==================  ===============================================================

Folder browsing is not described by the known API documentation; the simulator models it
with the two ``folder_items`` paths, which answer in the dataset-items shape
(``{"folders": [...], "files": [...]}``) for the contents of one virtual or S3 folder.
An id that is not 24 hexadecimal characters is answered 400 (not 404) on every endpoint.

Outside the API, ``GET /app/data-science/interactive-analysis/view/{id}`` answers a session's
web page (``session_page.py``), as CloudOS does for a browser: no API key needed, 404 for an
unknown id. It is what the "CloudOS Session" link of a task opens in the demo.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_cloudos.testing.api import CloudOSApi
from airflow_provider_cloudos.testing.counters import Counters
from airflow_provider_cloudos.testing.faults import FaultDecision, Faults, format_retry_after
from airflow_provider_cloudos.testing.http_server import DEFAULT_BACKLOG, HttpServer, raise_open_file_limit
from airflow_provider_cloudos.testing.messages import HttpRequest, HttpResponse
from airflow_provider_cloudos.testing.seed import Seed, build_seed
from airflow_provider_cloudos.testing.session_page import (
    SESSION_PAGE_ENDPOINT,
    missing_session_page,
    session_page,
    session_page_id,
)
from airflow_provider_cloudos.testing.state import SessionStore
from airflow_provider_cloudos.testing.timings import (
    NAMED_TIMINGS,
    Clock,
    StateTimings,
    real_clock,
    timings_help,
    timings_name,
)
from airflow_provider_cloudos.testing.validation import is_object_id

CONNECTION_TYPE = "cloudos"
#: The ``poll_interval`` extra of the connections the simulator hands to people (its command
#: line, the demo): it answers at once and its sessions change state within seconds, so waits
#: check every second instead of the 30 s a real CloudOS deserves.
SIMULATOR_POLL_SECONDS = 1.0
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0
#: How often a held answer (``Faults.hold_answers``) looks whether it has been released.
HELD_ANSWER_CHECK_SECONDS = 0.02


def add_timings_argument(parser: argparse.ArgumentParser, help_prefix: str = "") -> None:
    """The ``--timings`` option of the command lines that start a simulator (its own, the demo's)."""
    parser.add_argument(
        "--timings",
        type=timings_name,
        choices=sorted(NAMED_TIMINGS),
        default="demo",
        help=f"{help_prefix}{timings_help()}; default demo",
    )


def _fault_response(decision: FaultDecision) -> HttpResponse:
    status = decision.status or 503
    headers: dict[str, str] = {}
    if decision.retry_after is not None:
        headers["Retry-After"] = format_retry_after(decision.retry_after)
    if status == 429:
        message = "Too many requests: slow down and retry later"
    else:
        message = f"Injected failure (HTTP {status}): the service is temporarily unavailable"
    return HttpResponse(status, {"message": message}, headers)


class CloudOSSimulator:
    """A CloudOS API on 127.0.0.1 for tests, the demo and benchmarks.

    ``timings`` defaults to :meth:`StateTimings.fast`; ``seed`` makes session ids and fault
    draws repeatable; ``clock`` (a monotonic seconds function, e.g. a
    :class:`~airflow_provider_cloudos.testing.timings.ManualClock`) replaces real time.
    """

    def __init__(
        self,
        timings: StateTimings | None = None,
        api_key: str | None = None,
        workspace_id: str | None = None,
        port: int = 0,
        seed: int = 0,
        host: str = "127.0.0.1",
        clock: Clock | None = None,
        backlog: int = DEFAULT_BACKLOG,
    ) -> None:
        if workspace_id is not None and not is_object_id(workspace_id):
            raise ValueError(f"workspace_id={workspace_id!r}: expected 24 hexadecimal characters")
        if api_key is not None and (not isinstance(api_key, str) or not api_key.strip()):
            raise ValueError("api_key: expected a non-empty string")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port={port!r}: expected 0 (any free port) or a port number up to 65535")
        self.seed: Seed = build_seed(workspace_id, api_key)
        self.faults = Faults(seed)
        self.counters = Counters()
        self._store = SessionStore(self.seed, timings or StateTimings.fast(), clock or real_clock, seed)
        self._api = CloudOSApi(self.seed, self._store)
        self._host = host
        self._requested_port = port
        self._backlog = backlog
        self._port: int | None = None
        self._lifecycle = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: HttpServer | None = None

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "not running"
        return f"CloudOSSimulator({where}, workspace_id={self.workspace_id!r})"

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> CloudOSSimulator:
        """Listen and serve from a background thread; returns once the port is bound."""
        with self._lifecycle:
            if self._thread is not None:
                raise RuntimeError("the simulator is already running")
            raise_open_file_limit()
            started = threading.Event()
            failures: list[BaseException] = []
            loop = asyncio.new_event_loop()
            http = HttpServer(self._handle, self.counters, self._host, self._requested_port, self._backlog)

            def serve() -> None:
                asyncio.set_event_loop(loop)
                try:
                    self._port = loop.run_until_complete(http.start())
                except BaseException as error:  # reported to the starting thread
                    failures.append(error)
                    started.set()
                    loop.close()
                    return
                started.set()
                try:
                    loop.run_forever()
                finally:
                    loop.run_until_complete(loop.shutdown_asyncgens())
                    loop.close()

            thread = threading.Thread(target=serve, name="cloudos-simulator", daemon=True)
            thread.start()
            if not started.wait(START_TIMEOUT_SECONDS):
                raise RuntimeError(f"the simulator did not start within {START_TIMEOUT_SECONDS:.0f}s")
            if failures:
                thread.join(START_TIMEOUT_SECONDS)
                raise failures[0]
            self._thread, self._loop, self._http = thread, loop, http
            return self

    def stop(self) -> None:
        """Close every connection and the listening socket; safe to call twice."""
        with self._lifecycle:
            thread, loop, http = self._thread, self._loop, self._http
            if thread is None or loop is None or http is None:
                return
            self.faults.release_held()
            try:
                asyncio.run_coroutine_threadsafe(http.close(), loop).result(STOP_TIMEOUT_SECONDS)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(STOP_TIMEOUT_SECONDS)
                self._thread = self._loop = self._http = None
                self._port = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def __enter__(self) -> CloudOSSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def _handle(self, request: HttpRequest) -> HttpResponse | None:
        page_of = session_page_id(request)
        if page_of is not None:
            return self._session_page(page_of)
        route = self._api.route(request.method, request.path)
        self.counters.record_request(route.endpoint, route.args[-1] if route.args else None)
        decision = self.faults.decide(route.endpoint)
        if decision.latency:
            await asyncio.sleep(decision.latency)
        if decision.drop:
            self.counters.record_drop()
            return None
        if decision.status is not None:
            return _fault_response(decision)
        response = self._api.respond(request, route)
        hold = self.faults.take_hold(route.endpoint)
        if hold is not None:
            while not self.faults.is_released(hold):
                await asyncio.sleep(HELD_ANSWER_CHECK_SECONDS)
        return response

    def _session_page(self, session_id: str) -> HttpResponse:
        """A session's web page (see ``session_page.py``): counted, never faulted, no key needed."""
        self.counters.record_request(SESSION_PAGE_ENDPOINT, session_id)
        try:
            return session_page(self._store.get(session_id), self._store.timings)
        except KeyError:
            return missing_session_page(session_id)

    @property
    def ignore_list_filters(self) -> bool:
        """When True the list endpoint ignores ``status[]``, ``onlyOwnerSessions`` and
        ``archived.status`` and lists every session: a server that fails to filter, to prove the
        provider checks again what it asked for."""
        return self._api.ignore_list_filters

    @ignore_list_filters.setter
    def ignore_list_filters(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"ignore_list_filters={value!r}: expected True or False")
        self._api.ignore_list_filters = value

    # ---- where and how to connect -------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the simulator is not running: call start() or use it as a context manager")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123`` (no trailing slash)."""
        return f"http://{self._host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.seed.api_key

    def rotate_api_key(self, new_key: str) -> None:
        """Accept only ``new_key`` from now on, as CloudOS does after a user rotates their key."""
        if not isinstance(new_key, str) or not new_key.strip():
            raise ValueError("new_key: expected a non-empty string")
        self.seed.api_key = new_key

    @property
    def workspace_id(self) -> str:
        return self.seed.workspace_id

    @property
    def project_name(self) -> str:
        """The default project ("genomics"), used by the demo."""
        return self.seed.default_project.name

    @property
    def project_id(self) -> str:
        return self.seed.default_project.id

    def connection_uri(self) -> str:
        """An Airflow connection URI for conn type ``cloudos``.

        ``cloudos://http://:KEY@127.0.0.1:PORT?workspace_id=W&verify_ssl=false&schema=http``.
        The second ``http://`` is Airflow's "host with protocol" form: Airflow parses this URI
        into host ``http://127.0.0.1``, port ``PORT``, password ``KEY`` and extras
        ``workspace_id``, ``verify_ssl`` and ``schema``. So the scheme travels in the host (as
        in :meth:`connection_json`) and again as ``schema`` for readers that look there; the
        port is Airflow's separate port field, which a hook must append to a host without one.
        """
        query = urlencode({"workspace_id": self.workspace_id, "verify_ssl": "false", "schema": "http"})
        return f"{CONNECTION_TYPE}://http://:{quote(self.api_key, safe='')}@{self._host}:{self.port}?{query}"

    def connection_json(self, poll_interval: float | None = None) -> str:
        """``AIRFLOW_CONN_CLOUDOS_DEFAULT`` in Airflow's JSON form; host carries scheme and port.

        ``poll_interval`` sets the connection's extra of that name: how often the tasks that set
        no interval of their own check a session (see :data:`SIMULATOR_POLL_SECONDS`).
        """
        extra: dict[str, Any] = {"workspace_id": self.workspace_id}
        if poll_interval is not None:
            extra["poll_interval"] = poll_interval
        return json.dumps(
            {"conn_type": CONNECTION_TYPE, "host": self.url, "password": self.api_key, "extra": extra},
            separators=(",", ":"),
        )

    def environment(self) -> dict[str, str]:
        """``KEY=value`` facts a script needs (printed by ``python -m ...testing``)."""
        return {
            "CLOUDOS_URL": self.url,
            "CLOUDOS_WORKSPACE_ID": self.workspace_id,
            "CLOUDOS_API_KEY": self.api_key,
            "CLOUDOS_PROJECT_NAME": self.project_name,
            "CLOUDOS_PROJECT_ID": self.project_id,
            "AIRFLOW_CONN_CLOUDOS_DEFAULT": self.connection_json(poll_interval=SIMULATOR_POLL_SECONDS),
        }

    # ---- sessions -----------------------------------------------------------------------

    @property
    def timings(self) -> StateTimings:
        return self._store.timings

    def set_timings(self, timings: StateTimings) -> None:
        """New durations apply to transitions that start from now on."""
        self._store.set_timings(timings)

    def add_session(
        self,
        name: str = "seeded-session",
        status: str = "ready",
        owner: str = "me",
        cost: float = 0.0,
        running_seconds: float = 0.0,
        instance_type: str | None = None,
        platform: str = "aws",
        backend: str = "regular",
        archived: bool = False,
        project_name: str | None = None,
        cost_limit: float = -1,
        storage_size_gb: int = 500,
        fuse_file_systems: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Put a session directly into ``status`` (any raw API status) and return it.

        A transitional status carries on from there with the current timings (``setup`` goes on
        to initialising and ready; ``aborting`` to aborted). ``owner`` is "me" (the simulator's
        user, as seen by ``onlyOwnerSessions``) or "other". ``fuse_file_systems`` are the folders
        it links, as a create body's items.
        """
        return self._store.add(
            name=name,
            status=status,
            owner=owner,
            cost=cost,
            running_seconds=running_seconds,
            instance_type=instance_type,
            platform=platform,
            backend=backend,
            archived=archived,
            project_name=project_name,
            cost_limit=cost_limit,
            storage_size_gb=storage_size_gb,
            fuse_file_systems=fuse_file_systems,
        )

    def session(self, session_id: str) -> dict[str, Any]:
        """The session as the API would show it now; KeyError for an unknown id."""
        try:
            return self._store.get(session_id)
        except KeyError:
            raise KeyError(f"no simulated session with id {session_id!r}") from None

    def sessions(self) -> list[dict[str, Any]]:
        """Every session, newest first."""
        return self._store.list_sessions()

    def terminate_session(self, session_id: str) -> None:
        """Terminate for good (the API has no such call): every later action gets 409."""
        try:
            self._store.terminate(session_id)
        except KeyError:
            raise KeyError(f"no simulated session with id {session_id!r}") from None

    def set_cost(self, session_id: str, usd: float) -> None:
        """Set ``totalCostInUsd``; billing continues from there while the session is ready."""
        try:
            self._store.set_cost(session_id, usd)
        except KeyError:
            raise KeyError(f"no simulated session with id {session_id!r}") from None

    @property
    def created_payloads(self) -> list[dict[str, Any]]:
        """Copies of every accepted creation body, in order."""
        return self._store.created_payloads

    @property
    def resume_payloads(self) -> list[tuple[str, Any]]:
        """``(session id, body)`` of every resume request for a known session, accepted or not."""
        return self._store.resume_payloads

    @property
    def abort_requests(self) -> list[tuple[str, bool, bool]]:
        """``(session id, uploadOnClose, forceAbort)`` of every well-formed pause request."""
        return self._store.abort_requests


__all__ = ["SIMULATOR_POLL_SECONDS", "CloudOSSimulator"]
