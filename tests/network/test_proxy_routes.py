"""Blocking and deferred calls take the same route: through the proxy the environment or the
connection names, or straight to CloudOS when ``no_proxy`` says so.

A real forward proxy on 127.0.0.1 counts what goes through it, and the simulator counts what
reaches it: a create (blocking, POST), a deferred wait (the trigger's GETs, aiohttp) and a pause
(blocking, PUT) are each seen by both, or by the simulator alone.
"""

from __future__ import annotations

import asyncio

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from forward_proxy import ForwardProxy
from task_helpers import connection_json, make_context, run_task, run_trigger

from airflow_provider_cloudos.client import AsyncCloudOSClient, CloudOSClient, RetryPolicy
from airflow_provider_cloudos.core.errors import CloudOSAPIError, CloudOSTransientError
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator

FAST = {"poll_interval": 0.02, "timeout": 20}
CREATE_PATH = "/api/v1/interactive-sessions?"
GET_PATH = "/api/v2/interactive-sessions/"
ABORT_PATH = "/abort"
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def clean_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable from the machine or the test suite's own ``NO_PROXY=127.0.0.1``."""
    for name in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def proxy():
    with ForwardProxy() as running:
        yield running


def use_connection(monkeypatch: pytest.MonkeyPatch, simulator: CloudOSSimulator, **extra: str) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CLOUDOS_DEFAULT",
        connection_json(simulator.url, key=simulator.api_key, workspace=simulator.workspace_id, **extra),
    )


def create_wait_and_pause(simulator: CloudOSSimulator, proxy: ForwardProxy) -> dict[str, int]:
    """Create a session deferrably (so a trigger waits), then pause it; the proxy's count per step."""
    counts: dict[str, int] = {}
    context = make_context()
    create = CloudOSCreateSessionOperator(
        task_id="create", name="through-proxy", project_name="genomics", deferrable=True, **FAST
    )
    with pytest.raises(TaskDeferred) as deferred:
        create.execute(context)
    counts["create"] = proxy.count("POST", CREATE_PATH)
    before = proxy.count("GET", GET_PATH)
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "success", event["message"]
    counts["wait"] = proxy.count("GET", GET_PATH) - before
    session_id = create.execute_complete(context, event)
    run_task(CloudOSStopSessionOperator(task_id="stop", session_id=session_id, **FAST))
    counts["pause"] = proxy.count("PUT", ABORT_PATH)
    assert simulator.counters.requests("create") == 1
    assert simulator.session(session_id)["status"] == "aborted"
    return counts


def test_the_environment_proxy_carries_a_create_a_deferred_wait_and_a_pause(
    simulator, proxy, clean_proxy_environment
):
    clean_proxy_environment.setenv("HTTP_PROXY", proxy.url)
    use_connection(clean_proxy_environment, simulator)
    counts = create_wait_and_pause(simulator, proxy)
    assert counts["create"] == 1
    assert counts["wait"] >= 1
    assert counts["pause"] == 1


def test_the_connection_proxy_carries_them_too_and_wins_over_the_environment(
    simulator, proxy, clean_proxy_environment
):
    with ForwardProxy() as unused:
        clean_proxy_environment.setenv("HTTP_PROXY", unused.url)
        use_connection(clean_proxy_environment, simulator, proxy=proxy.url)
        counts = create_wait_and_pause(simulator, proxy)
        assert unused.passages == []
    assert counts["create"] == 1
    assert counts["wait"] >= 1
    assert counts["pause"] == 1


@pytest.mark.parametrize(
    ("where", "no_proxy"),
    [("connection", "127.0.0.1"), ("connection", "example.org, 127.0.0.0/8"), ("environment", "127.0.0.1")],
)
def test_no_proxy_sends_every_call_straight_to_cloudos(
    simulator, proxy, clean_proxy_environment, where, no_proxy
):
    if where == "connection":
        use_connection(clean_proxy_environment, simulator, proxy=proxy.url, no_proxy=no_proxy)
    else:
        clean_proxy_environment.setenv("HTTP_PROXY", proxy.url)
        clean_proxy_environment.setenv("NO_PROXY", no_proxy)
        use_connection(clean_proxy_environment, simulator)
    counts = create_wait_and_pause(simulator, proxy)
    assert counts == {"create": 0, "wait": 0, "pause": 0}
    assert proxy.passages == []


def test_proxy_credentials_are_sent_to_the_proxy_by_both_clients(simulator, clean_proxy_environment):
    with ForwardProxy(credentials=("alice", "pr0xy-s3cret")) as proxy:
        address = proxy.url.replace("http://", "http://alice:pr0xy-s3cret@")
        use_connection(clean_proxy_environment, simulator, proxy=address)
        counts = create_wait_and_pause(simulator, proxy)
        assert counts["create"] == 1
        assert counts["wait"] >= 1
        assert counts["pause"] == 1
        assert all(passage.authenticated for passage in proxy.passages)


@pytest.mark.parametrize("transport", ["blocking", "async"])
def test_a_failing_proxy_never_shows_the_api_key_or_the_proxy_password(
    simulator, clean_proxy_environment, transport
):
    """A proxy that refuses (407) and echoes the request's headers in its page, as some do."""
    with ForwardProxy(credentials=("alice", "right-password"), echo_headers=True) as proxy:
        address = proxy.url.replace("http://", "http://alice:wr0ng-pa55word@")
        use_connection(clean_proxy_environment, simulator, proxy=address)
        hook = CloudOSHook()
        if transport == "blocking":
            with pytest.raises(CloudOSAPIError) as raised:
                hook.get_session("0123456789abcdef01234567")
        else:

            async def look() -> None:
                async with await hook.get_async_client() as client:
                    await client.get_session("0123456789abcdef01234567")

            with pytest.raises(CloudOSAPIError) as raised:
                asyncio.run(look())
        assert proxy.count() >= 1
    message = str(raised.value)
    assert "407" in message
    assert simulator.api_key not in message
    assert "wr0ng-pa55word" not in message
    assert simulator.api_key not in repr(raised.value)


@pytest.mark.parametrize("transport", ["blocking", "async"])
def test_an_unreachable_proxy_is_named_without_its_password(simulator, clean_proxy_environment, transport):
    with ForwardProxy() as proxy:
        address = proxy.url.replace("http://", "http://alice:s3cret-w0rd@")
    # The proxy has stopped: its port refuses connections.
    use_connection(clean_proxy_environment, simulator, proxy=address)
    settings = CloudOSHook().settings
    assert "s3cret-w0rd" not in repr(settings)
    arguments = (settings.base_url, settings.api_key, settings.workspace_id)
    once = RetryPolicy(max_attempts=1)
    if transport == "blocking":
        with CloudOSClient(*arguments, proxy=settings.proxy, retry_policy=once) as client:
            assert "s3cret-w0rd" not in repr(client)
            with pytest.raises(CloudOSTransientError) as raised:
                client.get_session("0123456789abcdef01234567")
    else:

        async def look() -> None:
            async with AsyncCloudOSClient(*arguments, proxy=settings.proxy, retry_policy=once) as client:
                assert "s3cret-w0rd" not in repr(client)
                await client.get_session("0123456789abcdef01234567")

        with pytest.raises(CloudOSTransientError) as raised:
            asyncio.run(look())
    message = str(raised.value)
    assert "unreachable" in message
    assert "the proxy refused the connection. Check the proxy" in message
    assert "s3cret-w0rd" not in message
    assert simulator.api_key not in message
    assert raised.value.__cause__ is None or "s3cret-w0rd" not in str(raised.value.__cause__)
