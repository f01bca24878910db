"""A CloudOS URL that cannot be reached: one plain message from both transports.

The message says what happened (refused, host name not resolved), which URL (without credentials
or query) and what to check; never the HTTP library's dump (its pool, "Max retries exceeded",
object reprs, the request URL with the workspace in its query), neither in the text nor in a
chained cause that a traceback would print.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import socket
import ssl
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_cloudos.client import AsyncCloudOSClient, CloudOSClient, RetryPolicy
from airflow_provider_cloudos.client.unreachable import (
    CHECK_THE_PROXY,
    CHECK_THE_URL,
    explain_no_answer,
    failure_chain,
    tls_reason,
)
from airflow_provider_cloudos.core.errors import CloudOSTransientError
from airflow_provider_cloudos.core.formatters import shown_url

KEY = "SENTINEL-KEY-unreachable"
WORKSPACE = "5c6d3e9bd954e800b23f8c62"
SESSION_ID = "0123456789abcdef01234567"
UNKNOWN_HOST = "cloudos.does-not-resolve.test"
#: What the HTTP libraries put in their own texts and must not reach a user.
LIBRARY_NOISE = (
    "HTTPConnectionPool",
    "HTTPSConnectionPool",
    "Max retries exceeded",
    "NewConnectionError",
    "NameResolutionError",
    "urllib3",
    "ClientConnector",
    "ConnectionKey",
    "SSLContext object",
    "Errno",
    "[",
    "teamId",
    WORKSPACE,
    KEY,
)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A local port that refuses connections: bound (so nobody else takes it) but not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def unknown_host(monkeypatch: pytest.MonkeyPatch) -> str:
    """A host name the resolver says does not exist: answered here, no DNS query leaves the machine."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == UNKNOWN_HOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return UNKNOWN_HOST


def fail_to_reach(transport: str, base_url: str) -> CloudOSTransientError:
    """The error one ``get_session`` to ``base_url`` ends with, in one attempt."""
    once = RetryPolicy(max_attempts=1)
    if transport == "blocking":
        with (
            CloudOSClient(base_url, KEY, WORKSPACE, retry_policy=once) as client,
            pytest.raises(CloudOSTransientError) as raised,
        ):
            client.get_session(SESSION_ID)
        return raised.value

    async def look() -> None:
        async with AsyncCloudOSClient(base_url, KEY, WORKSPACE, retry_policy=once) as client:
            await client.get_session(SESSION_ID)

    with pytest.raises(CloudOSTransientError) as caught:
        asyncio.run(look())
    return caught.value


def assert_plain(error: BaseException) -> None:
    """Neither the message nor the traceback a log would print carries the library's dump."""
    printed = "".join(traceback.format_exception(error))
    for noise in LIBRARY_NOISE:
        assert noise not in str(error), noise
        assert noise not in printed, noise


@pytest.mark.parametrize("transport", ["blocking", "async"])
def test_a_refused_connection_says_to_check_the_url_and_the_server(transport, refused_url):
    error = fail_to_reach(transport, refused_url)
    message = str(error)
    assert message == (
        f"CloudOS API unreachable for GET /api/v2/interactive-sessions/{SESSION_ID}: "
        f"connection refused by {refused_url}. {CHECK_THE_URL}"
    )
    assert_plain(error)


@pytest.mark.parametrize("transport", ["blocking", "async"])
def test_a_host_name_that_does_not_resolve_says_to_check_the_url(transport, unknown_host):
    error = fail_to_reach(transport, f"https://{unknown_host}/cloudos")
    message = str(error)
    assert f"the host name of https://{unknown_host}/cloudos could not be resolved" in message
    assert message.endswith(CHECK_THE_URL)
    assert_plain(error)


@pytest.mark.parametrize("transport", ["blocking", "async"])
def test_retries_of_a_refused_connection_are_logged_in_the_same_words(transport, refused_url, caplog):
    twice = RetryPolicy(max_attempts=2, backoff_base=0.0, jitter=0.0)
    with caplog.at_level(logging.WARNING):
        if transport == "blocking":
            with (
                CloudOSClient(
                    refused_url, KEY, WORKSPACE, retry_policy=twice, sleep=lambda _: None
                ) as client,
                pytest.raises(CloudOSTransientError, match="after 2 attempts: connection refused"),
            ):
                client.get_session(SESSION_ID)
        else:

            async def look() -> None:
                async def no_sleep(_: float) -> None:
                    return None

                async with AsyncCloudOSClient(
                    refused_url, KEY, WORKSPACE, retry_policy=twice, sleep=no_sleep
                ) as client:
                    await client.get_session(SESSION_ID)

            with pytest.raises(CloudOSTransientError, match="after 2 attempts: connection refused"):
                asyncio.run(look())
    retries = [record.getMessage() for record in caplog.records if "retrying in" in record.getMessage()]
    assert len(retries) == 1
    assert f"got connection refused by {refused_url}; retrying in" in retries[0]
    for noise in LIBRARY_NOISE:
        assert noise not in retries[0], noise


def wrapped(*layers: BaseException) -> BaseException:
    """``layers[0]`` raised while handling ``layers[1]``, raised from ``layers[2]``...: a chain as
    the HTTP libraries build it."""
    for outer, inner in itertools.pairwise(layers):
        outer.__cause__ = inner
    return layers[0]


class ProxyError(ConnectionError):
    """Named like the proxy errors of requests, urllib3 and aiohttp."""


def test_a_refused_proxy_is_told_apart_from_a_refused_cloudos():
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    explained = explain_no_answer(
        wrapped(ProxyError("Unable to connect to proxy"), refused), "https://x.test"
    )
    assert explained.reason == "the proxy refused the connection"
    assert explained.advice == CHECK_THE_PROXY


def test_an_unreachable_network_and_a_connect_timeout_also_say_to_check_the_url():
    unreachable = OSError(errno.ENETUNREACH, "Network is unreachable")
    assert explain_no_answer(
        wrapped(ConnectionError("pool dump"), unreachable), "http://10.0.0.9"
    ).detail() == (f"no network route to http://10.0.0.9. {CHECK_THE_URL}")

    class ConnectTimeoutError(Exception):
        """Named like urllib3's."""

    timed_out = wrapped(ConnectionError("pool dump"), ConnectTimeoutError("dump"), TimeoutError("timed out"))
    assert explain_no_answer(timed_out, "http://10.0.0.9").reason == (
        "no connection to http://10.0.0.9 within the connect timeout"
    )


def test_other_failures_are_named_by_their_innermost_cause_without_errno_brackets():
    reset = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    explained = explain_no_answer(wrapped(ConnectionError("('Connection aborted.', pool dump)"), reset))
    assert explained.reason == "ConnectionResetError: Connection reset by peer"
    assert explained.advice is None
    assert explain_no_answer(ConnectionResetError("reset")).reason == "ConnectionResetError: reset"


def test_a_tls_failure_is_named_by_the_ssl_error_without_its_prefix():
    verification = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
    )
    verification.verify_message = "self-signed certificate"
    wrapped_twice = wrapped(ConnectionError("HTTPSConnectionPool(...): Max retries exceeded"), verification)
    assert tls_reason(wrapped_twice) == "certificate verify failed: self-signed certificate"
    alert = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)")
    alert.reason = "WRONG_VERSION_NUMBER"
    assert tls_reason(wrapped(ConnectionError("pool dump"), alert)) == "wrong version number"


def test_the_chain_is_walked_once_whatever_its_loops():
    first, second = ConnectionError("a"), ConnectionError("b")
    first.__cause__, second.__cause__ = second, first
    assert list(failure_chain(first)) == [first, second]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://cloudos.example.org", "https://cloudos.example.org"),
        ("https://alice:s3cret@cloudos.example.org:8443/base/", "https://cloudos.example.org:8443/base"),
        ("http://127.0.0.1:9/api?teamId=abc&apikey=k#frag", "http://127.0.0.1:9/api"),
        ("cloudos.example.org?teamId=abc", "cloudos.example.org"),
    ],
)
def test_a_shown_url_has_no_credentials_query_or_fragment(url, shown):
    assert shown_url(url) == shown
