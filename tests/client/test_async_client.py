"""The async client: the blocking client's calls and retry loop, awaited; its loop's shared pool."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

import certifi
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp_server import serving, start

from airflow_provider_cloudos.client import AsyncCloudOSClient, RetryPolicy, async_client
from airflow_provider_cloudos.client.async_client import ssl_option
from airflow_provider_cloudos.client.transport import call_deadline
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSAuthError,
    CloudOSDeadlineError,
    CloudOSResponseTooLargeError,
    CloudOSStateError,
    CloudOSTransientError,
    CloudOSValidationError,
)
from airflow_provider_cloudos.version import __version__

# --- async_client ------------------------------------------------------------


KEY = "SENTINEL-KEY-123"
WS = "5c6d3e9bd954e800b23f8c62"
SID = "0123456789abcdef01234567"
SESSION = {"_id": SID, "name": "s", "status": "ready"}


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeCloudOS:
    """A scripted API: each request takes the next planned answer (200 with a session when none)."""

    plan: list[dict[str, Any]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    transports: list[Any] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.seen.append(
            Seen(
                request.method,
                request.path,
                list(request.query.items()),
                dict(request.headers),
                json.loads(raw) if raw else None,
            )
        )
        if request.transport not in self.transports:
            self.transports.append(request.transport)
        answer = self.plan.pop(0) if self.plan else {"json": SESSION}
        if answer.get("drop"):
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        status = answer.get("status", 200)
        if "json" in answer:
            return web.json_response(answer["json"], status=status, headers=answer.get("headers"))
        return web.Response(status=status, headers=answer.get("headers"))


@pytest_asyncio.fixture
async def api():
    fake = FakeCloudOS()
    async with serving(fake.handle) as url:
        yield fake, url


class Sleeper:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeper():
    return Sleeper()


def make_client(base_url: str, sleeper: Sleeper, **kwargs: Any) -> AsyncCloudOSClient:
    kwargs.setdefault("retry_policy", RetryPolicy(max_attempts=3, jitter=0.0))
    return AsyncCloudOSClient(base_url, KEY, WS, sleep=sleeper, **kwargs)


@pytest.mark.asyncio
async def test_get_retries_a_503_then_succeeds(api, sleeper):
    fake, base = api
    fake.plan = [{"status": 503}, {"json": SESSION}]
    async with make_client(base, sleeper) as client:
        assert await client.get_session(SID) == SESSION
    assert sleeper.delays == [1.0]
    assert [(s.method, s.path, s.query) for s in fake.seen] == [
        ("GET", f"/api/v2/interactive-sessions/{SID}", [("teamId", WS)])
    ] * 2
    headers = fake.seen[0].headers
    assert headers["apikey"] == KEY
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == f"airflow-provider-cloudos/{__version__}"


@pytest.mark.asyncio
async def test_retry_after_is_honoured(api, sleeper):
    fake, base = api
    fake.plan = [{"status": 429, "headers": {"Retry-After": "3"}}, {"json": SESSION}]
    async with make_client(base, sleeper) as client:
        await client.get_session(SID)
    assert sleeper.delays == [3.0]


@pytest.fixture
def refused_url():
    """A local port that refuses connections: bound (so nobody else takes it) but not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.asyncio
async def test_refused_connections_are_retried_then_reported(refused_url, sleeper):
    async with make_client(refused_url, sleeper) as client:
        with pytest.raises(CloudOSTransientError, match=r"unreachable for GET /api/v2/.* after 3 attempts"):
            await client.get_session(SID)
    assert sleeper.delays == [1.0, 2.0]


@pytest.mark.asyncio
async def test_a_dropped_connection_is_retried(api, sleeper):
    fake, base = api
    # aiohttp itself resends an idempotent request once, at once, when the server drops the
    # connection (RFC 9112 9.3.1); the second drop reaches the client's own policy.
    fake.plan = [{"drop": True}, {"drop": True}]
    async with make_client(base, sleeper) as client:
        assert await client.get_session(SID) == SESSION
    assert sleeper.delays[0] == 1.0


@pytest.mark.asyncio
async def test_exhausted_retries(api, sleeper):
    fake, base = api
    fake.plan = [{"status": 502}] * 3
    async with make_client(base, sleeper) as client:
        with pytest.raises(CloudOSTransientError, match=r"GET /api/v2/.*502 Bad Gateway\) after 3 attempts"):
            await client.get_session(SID)
    assert sleeper.delays == [1.0, 2.0]


@pytest.mark.asyncio
async def test_max_attempts_can_be_overridden_per_call(api, sleeper):
    fake, base = api
    fake.plan = [{"status": 503}, {"json": SESSION}]
    async with make_client(base, sleeper) as client:
        with pytest.raises(CloudOSTransientError, match="503"):
            await client.get_session(SID, max_attempts=1)
    assert sleeper.delays == []
    assert len(fake.seen) == 1


@pytest.mark.asyncio
async def test_calls_share_one_connection(api, sleeper):
    fake, base = api
    fake.plan = [
        {"json": SESSION},
        {"json": {"sessions": [SESSION], "paginationMetadata": {"Pagination-Count": 1}}},
        {"status": 204},
        {"json": SESSION},
        {"json": SESSION},
    ]
    client = make_client(base, sleeper)
    try:
        await client.get_session(SID)
        await client.list_sessions(limit=1)
        await client.pause_session(SID)
        await client.resume_session(SID, {})
        await client.get_session(SID)
    finally:
        await client.close()
    assert len(fake.seen) == 5
    assert len(fake.transports) == 1


@pytest.mark.asyncio
async def test_list_sessions(api, sleeper):
    fake, base = api
    fake.plan = [{"json": {"sessions": [SESSION], "paginationMetadata": {"Pagination-Count": 9}}}]
    async with make_client(base, sleeper) as client:
        result = await client.list_sessions(page=2, limit=5, statuses=["paused"], only_owner=True)
    assert result == ([SESSION], 9)
    assert fake.seen[0].path == "/api/v3/interactive-sessions"
    assert fake.seen[0].query == [
        ("teamId", WS),
        ("page", "2"),
        ("limit", "5"),
        ("status[]", "aborted"),
        ("status[]", "stopped"),
        ("onlyOwnerSessions", "true"),
        ("archived.status", "false"),
    ]


@pytest.mark.asyncio
async def test_abort_and_resume(api, sleeper):
    fake, base = api
    fake.plan = [{"status": 204}, {"json": {**SESSION, "status": "initialising"}}, {"status": 204}]
    async with make_client(base, sleeper) as client:
        assert await client.pause_session(SID, upload_on_close=False) is None
        assert await client.resume_session(SID, {"dataItems": []}) == {**SESSION, "status": "initialising"}
        assert await client.resume_session(SID, {}) == {}
    abort, resume, _ = fake.seen
    assert (abort.method, abort.path, abort.body) == (
        "PUT",
        f"/api/v1/interactive-sessions/{SID}/abort",
        {"uploadOnClose": False, "forceAbort": False},
    )
    assert (resume.method, resume.path, resume.body) == (
        "PUT",
        f"/api/v1/interactive-sessions/{SID}/resume",
        {"dataItems": []},
    )


@pytest.mark.asyncio
async def test_state_error_carries_the_server_message(api, sleeper):
    fake, base = api
    fake.plan = [{"status": 409, "json": {"message": "Session aborted in aborted status"}}]
    async with make_client(base, sleeper) as client:
        with pytest.raises(CloudOSStateError) as excinfo:
            await client.pause_session(SID)
    assert excinfo.value.server_message == "Session aborted in aborted status"


@pytest.mark.asyncio
async def test_bad_input_is_refused_before_any_call(api, sleeper):
    fake, base = api
    async with make_client(base, sleeper) as client:
        with pytest.raises(CloudOSValidationError, match="session_id='nope'"):
            await client.get_session("nope")
    async with AsyncCloudOSClient(base, KEY) as no_workspace:
        with pytest.raises(CloudOSValidationError, match="workspace_id=None"):
            await no_workspace.get_session(SID)
    assert fake.seen == []


@pytest.mark.asyncio
async def test_the_key_never_appears_in_errors_repr_or_logs(api, refused_url, sleeper, caplog):
    fake, base = api
    fake.plan = [
        {"status": 401, "json": {"message": f"unknown key {KEY}"}},
        {"status": 503, "json": {"message": f"busy {KEY}"}},
        {"status": 503, "json": {"message": f"busy {KEY}"}},
    ]
    texts = []
    with caplog.at_level(logging.DEBUG):
        async with make_client(base, sleeper) as client:
            texts.append(repr(client))
            with pytest.raises(CloudOSAuthError) as auth:
                await client.get_session(SID)
            with pytest.raises(CloudOSTransientError) as busy:
                await client.get_session(SID, max_attempts=2)
        async with make_client(refused_url, sleeper) as unreachable:
            with pytest.raises(CloudOSTransientError) as refused:
                await unreachable.get_session(SID)
    for excinfo in (auth, busy, refused):
        texts += [str(excinfo.value), repr(excinfo.value), str(excinfo.value.__cause__)]
    texts += [record.getMessage() for record in caplog.records]
    assert any("retrying in" in text for text in texts)
    assert f"base_url='{base}'" in texts[0]
    assert f"workspace_id='{WS}'" in texts[0]
    for text in texts:
        assert KEY not in text


@pytest.mark.asyncio
async def test_session_is_created_lazily_and_released_on_close(api, sleeper):
    _, base = api
    client = make_client(base, sleeper)
    assert client._session is None
    await client.get_session(SID)
    assert client._session is not None
    await client.close()
    assert client._session is None
    await client.close()


def test_repr_without_a_loop():
    client = AsyncCloudOSClient("cloudos.example.org", KEY, WS)
    assert repr(client) == f"AsyncCloudOSClient(base_url='https://cloudos.example.org', workspace_id='{WS}')"


def test_ssl_option():
    assert ssl_option(True) is True
    assert ssl_option(False) is False
    assert isinstance(ssl_option(certifi.where()), ssl.SSLContext)


def test_ssl_option_refuses_missing_or_unusable_bundles(tmp_path):
    with pytest.raises(CloudOSValidationError, match="no CA bundle"):
        ssl_option(str(tmp_path / "missing.pem"))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(CloudOSValidationError, match="not a usable CA bundle") as excinfo:
        ssl_option(str(junk))
    assert str(junk) in str(excinfo.value)


@pytest.mark.parametrize(("name", "value"), [("timeout", 0), ("connect_timeout", -1)])
def test_bad_timeouts(name, value):
    with pytest.raises(CloudOSValidationError, match=f"{name}={value}"):
        AsyncCloudOSClient("https://x.test", KEY, **{name: value})


def test_non_2xx_not_json_is_an_api_error_type():
    assert issubclass(CloudOSTransientError, CloudOSAPIError)


# --- deadlines, size cap, proxies ------------------------------------------------------------


class Clock:
    """Wall-clock time that moves only when the client sleeps."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.delays: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds


def deadline_client(base: str, clock: Clock, **kwargs: Any) -> AsyncCloudOSClient:
    policy = RetryPolicy(max_attempts=10, backoff_base=1.0, jitter=0.0)
    return AsyncCloudOSClient(base, KEY, WS, sleep=clock.sleep, clock=clock, retry_policy=policy, **kwargs)


@pytest.mark.asyncio
async def test_no_retry_sleeps_past_the_calls_deadline(api):
    fake, base = api
    fake.plan = [{"status": 503}] * 5
    clock = Clock()
    async with deadline_client(base, clock) as client:
        with (
            call_deadline(clock.now + 3.0, "the trigger's end_time (3s)"),
            pytest.raises(CloudOSDeadlineError) as raised,
        ):
            await client.get_session(SID)
    assert clock.delays == [1.0]
    assert len(fake.seen) == 2
    message = str(raised.value)
    assert f"GET /api/v2/interactive-sessions/{SID} stopped after 1.0s (2 attempts)" in message
    assert "the deadline of the trigger's end_time (3s) was reached; last failure: HTTP 503" in message


@pytest.mark.asyncio
async def test_no_attempt_starts_once_the_deadline_has_passed(api):
    fake, base = api
    clock = Clock()
    async with deadline_client(base, clock) as client:
        with (
            call_deadline(clock.now - 1, "the trigger's end_time"),
            pytest.raises(CloudOSDeadlineError, match="not sent: the deadline of the trigger's end_time"),
        ):
            await client.get_session(SID)
    assert fake.seen == []


@pytest.mark.asyncio
async def test_an_answer_over_the_cap_is_refused(api, sleeper):
    fake, base = api
    fake.plan = [{"json": {**SESSION, "padding": "x" * 2000}}]
    async with make_client(base, sleeper, max_response_bytes=1000) as client:
        with pytest.raises(CloudOSResponseTooLargeError) as raised:
            await client.get_session(SID)
    assert "too large to read (announced 2" in str(raised.value)
    assert "the limit is 1000 bytes" in str(raised.value)


@pytest.mark.asyncio
async def test_an_answer_at_the_cap_is_read(api, sleeper):
    _, base = api
    size = len(json.dumps(SESSION))
    async with make_client(base, sleeper, max_response_bytes=size) as client:
        assert await client.get_session(SID) == SESSION


@pytest.mark.parametrize(
    ("argument", "value", "problem"),
    [
        ("read_timeout", 0, "greater than 0"),
        ("max_response_bytes", 0, "at least 1"),
        ("proxy", "socks5://proxy:1080", "http or https"),
        ("proxy", "http://", "names no host"),
    ],
)
def test_bad_transport_settings_are_refused_by_name(argument, value, problem):
    with pytest.raises(CloudOSValidationError, match=problem) as raised:
        AsyncCloudOSClient("https://x.test", KEY, **{argument: value})
    assert raised.value.parameter == argument


def test_the_proxy_is_shown_without_its_credentials():
    client = AsyncCloudOSClient("https://x.test", KEY, WS, proxy="http://alice:s3cret@proxy.test:3128")
    assert client._route.proxy == "http://alice:s3cret@proxy.test:3128"
    assert "s3cret" not in repr(client)
    assert "proxy='http://***@proxy.test:3128'" in repr(client)


@pytest.mark.parametrize(
    "variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"]
)
def test_a_missing_environment_ca_bundle_is_refused_naming_the_variable(monkeypatch, tmp_path, variable):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, str(tmp_path / "missing.pem"))
    with pytest.raises(CloudOSValidationError, match="no CA bundle") as raised:
        AsyncCloudOSClient("https://x.test", KEY)
    assert raised.value.parameter == variable


def test_the_api_word_for_a_pause_is_an_alias_of_pause_session():
    assert AsyncCloudOSClient.abort_session is AsyncCloudOSClient.pause_session


# --- loop_pool ------------------------------------------------------------


class Recorder:
    """Answers every request with a session and a cookie, and remembers who asked on which socket."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []
        self.cookies: list[str | None] = []
        self.transports: list[Any] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.keys.append(request.headers.get("apikey"))
        self.cookies.append(request.headers.get("Cookie"))
        if request.transport not in self.transports:
            self.transports.append(request.transport)
        response = web.json_response({"_id": SID, "status": "ready"})
        response.set_cookie("tracking", str(len(self.keys)))
        return response


def pool_users() -> int:
    """How many clients use the running loop's pool."""
    pool = async_client._POOLS.get(asyncio.get_running_loop())
    return 0 if pool is None or pool.session.closed else pool.users


@pytest_asyncio.fixture
async def shared_pool_api():
    recorder = Recorder()
    async with serving(recorder.handle) as url:
        yield recorder, url


@pytest.mark.asyncio
async def test_clients_of_one_loop_share_one_keep_alive_connection(shared_pool_api):
    recorder, base = shared_pool_api
    clients = [AsyncCloudOSClient(base, f"KEY-{i}", WS) for i in range(5)]
    try:
        for client in clients:
            await client.get_session(SID)
        assert pool_users() == 5
    finally:
        for client in clients:
            await client.close()
    assert len(recorder.transports) == 1


@pytest.mark.asyncio
async def test_each_request_carries_its_own_clients_key_and_no_cookie(shared_pool_api):
    recorder, base = shared_pool_api
    first, second = AsyncCloudOSClient(base, "KEY-A", WS), AsyncCloudOSClient(base, "KEY-B", WS)
    async with first, second:
        await first.get_session(SID)
        await second.get_session(SID)
        await first.get_session(SID)
    assert recorder.keys == ["KEY-A", "KEY-B", "KEY-A"]
    # The server set a cookie on every answer; a shared jar would hand KEY-A's cookie to KEY-B.
    assert recorder.cookies == [None, None, None]


@pytest.mark.asyncio
async def test_the_last_client_out_closes_the_pool_and_the_next_one_opens_a_new_one(shared_pool_api):
    _, base = shared_pool_api
    first, second = AsyncCloudOSClient(base, "K1", WS), AsyncCloudOSClient(base, "K2", WS)
    await first.get_session(SID)
    await second.get_session(SID)
    shared = first._session
    assert shared is not None
    assert shared is second._session
    await first.close()
    assert pool_users() == 1
    assert not shared.closed
    await second.close()
    assert pool_users() == 0
    assert shared.closed
    await second.close()  # closing twice counts out once
    assert pool_users() == 0
    async with AsyncCloudOSClient(base, "K3", WS) as third:
        await third.get_session(SID)
        assert third._session is not shared
        assert pool_users() == 1


@pytest.mark.asyncio
async def test_a_client_that_is_never_used_never_joins_the_pool(shared_pool_api):
    _, base = shared_pool_api
    async with AsyncCloudOSClient(base, "K", WS):
        assert pool_users() == 0


def test_each_event_loop_has_its_own_pool(api_in_thread):
    base = api_in_thread

    async def one_wait() -> object:
        async with AsyncCloudOSClient(base, "K", WS) as client:
            await client.get_session(SID)
            return client._session

    first = asyncio.run(one_wait())
    second = asyncio.run(one_wait())
    assert first is not second


@pytest.fixture
def api_in_thread():
    """The recorder served from its own loop in a thread, for tests that run several loops."""
    loop = asyncio.new_event_loop()
    runner, url = loop.run_until_complete(start(Recorder().handle))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield url
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def test_clients_trusting_one_bundle_share_one_tls_context():
    # The context is part of aiohttp's connection key: one per bundle lets such clients share sockets.
    assert ssl_option(certifi.where()) is ssl_option(certifi.where())


class Gate:
    """Holds every request until released, counting those in flight and the sockets they came on."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.in_flight = 0
        self.peak = 0
        self.transports: set[int] = set()
        self.changed = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.transports.add(id(request.transport))
        async with self.changed:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.changed.notify_all()
        await self.open.wait()
        self.in_flight -= 1
        return web.json_response({"_id": SID, "status": "ready"})

    async def until(self, condition: Any, limit: float) -> bool:
        """True once ``condition()`` holds; False after ``limit`` seconds (it never held)."""
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(condition), timeout=limit)
            except TimeoutError:
                return False
        return True


@pytest.mark.asyncio
async def test_one_loop_holds_at_most_64_connections_and_queues_the_rest():
    assert async_client.POOL_CONNECTIONS == 64, "the cap docs/ and BENCHMARKS.md promise"
    gate = Gate()
    async with serving(gate.handle) as base:
        clients = [AsyncCloudOSClient(base, f"KEY-{i}", WS) for i in range(100)]
        try:
            calls = [asyncio.create_task(client.get_session(SID)) for client in clients]
            assert await gate.until(lambda: gate.in_flight >= 64, limit=20), gate.in_flight
            # A 65th socket would arrive within milliseconds; give it ample time to show up.
            more = await gate.until(lambda: gate.in_flight > 64, limit=0.5)
            assert not more, f"{gate.in_flight} requests on as many sockets: the cap is 64"
            gate.open.set()
            answers = await asyncio.wait_for(asyncio.gather(*calls), timeout=20)
        finally:
            gate.open.set()
            for client in clients:
                await client.close()
    assert [answer["_id"] for answer in answers] == [SID] * 100, "the other 36 queued, none failed"
    assert gate.peak == 64
    assert len(gate.transports) == 64
