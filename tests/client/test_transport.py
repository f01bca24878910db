"""The context-scoped deadline both transports read: nesting, cleanup budgets, attempt budgets.

The one rule both transports follow for proxies and CA bundles, and the redaction of proxy credentials.

A CloudOS URL that cannot be reached: one plain message from both transports.

The message says what happened (refused, host name not resolved), which URL (without credentials
or query) and what to check; never the HTTP library's dump (its pool, "Max retries exceeded",
object reprs, the request URL with the workspace in its query), neither in the text nor in a
chained cause that a traceback would print.

The request budget of one connection: a pace, a burst, and a 429 that holds every request.

The one retry loop both transports drive: attempts, decisions, logs and errors, without a network.

The loop is a generator of steps; these tests play the transport: they answer each ``Send`` with an
:class:`Answer` or throw what the library raised into it, and check what it asks for next.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import itertools
import logging
import socket
import ssl
import traceback
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import certifi
import pytest

from airflow_provider_cloudos.client import AsyncCloudOSClient, CloudOSClient, RetryPolicy, api
from airflow_provider_cloudos.client.api import is_retryable_status, redact_credentials
from airflow_provider_cloudos.client.transport import (
    CHECK_THE_PROXY,
    CHECK_THE_URL,
    Answer,
    Attempts,
    Deadline,
    RequestBudget,
    Route,
    Send,
    Sleep,
    TransportErrors,
    budget_for,
    bypasses_proxy,
    call_deadline,
    check_no_proxy,
    check_proxy_url,
    choose_route,
    cleanup_budget,
    current_deadline,
    explain_no_answer,
    failure_chain,
    parse_retry_after,
    retry_delay,
    run_awaited,
    run_blocking,
    tls_reason,
    verify_from_environment,
)
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSDeadlineError,
    CloudOSNotFoundError,
    CloudOSTransientError,
    CloudOSValidationError,
)
from airflow_provider_cloudos.core.formatters import shown_url
from airflow_provider_cloudos.testing import ManualClock

# --- retry ------------------------------------------------------------


NO_JITTER = RetryPolicy(jitter=0.0)
NOW = 1_800_000_000.0


def delay(policy=NO_JITTER, attempt=1, status_code=503, retry_after=None, idempotent=True, rng=lambda: 0.0):
    return retry_delay(
        policy,
        attempt,
        status_code=status_code,
        retry_after=retry_after,
        idempotent=idempotent,
        rng=rng,
        clock=lambda: NOW,
    )


def test_defaults():
    assert RetryPolicy() == RetryPolicy(
        max_attempts=5, backoff_base=1.0, backoff_max=30.0, jitter=0.5, retry_after_max=120.0
    )


@pytest.mark.parametrize("code", [None, 429, 500, 502, 503, 504])
def test_retryable_statuses(code):
    assert is_retryable_status(code)


@pytest.mark.parametrize("code", [200, 400, 401, 403, 404, 409, 501, 505])
def test_not_retryable_statuses(code):
    assert not is_retryable_status(code)
    assert delay(status_code=code) is None


def test_backoff_doubles_per_attempt():
    policy = RetryPolicy(max_attempts=10, backoff_base=0.5, jitter=0.0)
    assert [delay(policy, attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped():
    policy = RetryPolicy(max_attempts=100, backoff_base=1.0, backoff_max=30.0, jitter=0.0)
    assert delay(policy, 6) == 30.0
    assert delay(policy, 99) == 30.0


def test_jitter_takes_at_most_its_fraction_off():
    policy = RetryPolicy(backoff_base=4.0, jitter=0.5)
    assert delay(policy, 1, rng=lambda: 0.0) == 4.0
    assert delay(policy, 1, rng=lambda: 0.5) == 3.0
    assert delay(policy, 1, rng=lambda: 0.999999) == pytest.approx(2.0, abs=1e-5)
    assert delay(policy, 1, rng=lambda: 1.0) == 2.0


def test_jitter_never_exceeds_the_cap():
    policy = RetryPolicy(max_attempts=20, backoff_max=10.0, jitter=0.5)
    for share in (0.0, 0.3, 0.7, 1.0):
        value = delay(policy, 15, rng=lambda share=share: share)
        assert 5.0 <= value <= 10.0


def test_connection_errors_are_retried():
    assert delay(status_code=None) == 1.0


def test_non_idempotent_requests_are_not_retried_after_an_answer_that_may_hide_their_effect():
    for code in (None, 500, 502, 503, 504):
        assert delay(status_code=code, idempotent=False) is None
        assert delay(status_code=code, retry_after="1", idempotent=False) is None


def test_a_429_is_retried_even_for_a_create_because_the_server_did_nothing():
    assert delay(status_code=429, retry_after="2", idempotent=False) == 2.0
    assert delay(status_code=429, idempotent=False) == 1.0  # no Retry-After: the backoff
    assert delay(RetryPolicy(max_attempts=1), 1, status_code=429, idempotent=False) is None


def test_attempts_exhausted():
    policy = RetryPolicy(max_attempts=3, jitter=0.0)
    assert delay(policy, 2) is not None
    assert delay(policy, 3) is None
    assert delay(RetryPolicy(max_attempts=1), 1) is None


def test_retry_after_seconds_is_used_as_is():
    assert delay(status_code=429, retry_after="7") == 7.0
    assert delay(status_code=503, retry_after=" 0.25 ") == 0.25
    # Longer than the backoff would be, and shorter: Retry-After wins either way.
    assert delay(RetryPolicy(backoff_base=10.0, jitter=0.0), status_code=429, retry_after="2") == 2.0


def test_retry_after_is_capped():
    assert delay(RetryPolicy(retry_after_max=60.0), status_code=429, retry_after="3600") == 60.0


def test_retry_after_http_date():
    header = formatdate(NOW + 42, usegmt=True)
    assert delay(status_code=503, retry_after=header) == pytest.approx(42.0)


def test_retry_after_date_in_the_past_means_now():
    assert delay(status_code=503, retry_after=formatdate(NOW - 100, usegmt=True)) == 0.0


@pytest.mark.parametrize("header", ["soon", "", "nan", "inf", "Wed, 99 Foo 2024"])
def test_unusable_retry_after_falls_back_to_backoff(header):
    assert delay(status_code=429, retry_after=header) == 1.0


def test_parse_retry_after():
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("120") == 120.0


def test_attempt_must_count_from_one():
    with pytest.raises(CloudOSValidationError, match="attempt=0"):
        delay(attempt=0)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("max_attempts", 0, "at least 1 attempt is needed"),
        ("max_attempts", 2.5, "expected an integer"),
        ("max_attempts", True, "expected an integer"),
        ("backoff_base", -1, "expected a number of seconds, 0 or more"),
        ("backoff_base", True, "expected a number of seconds, 0 or more"),
        ("backoff_max", "1", "expected a number of seconds, 0 or more"),
        ("retry_after_max", -0.1, "expected a number of seconds, 0 or more"),
        ("jitter", 1.5, "expected a fraction between 0 and 1"),
        ("jitter", -0.1, "expected a fraction between 0 and 1"),
        ("jitter", True, "expected a fraction between 0 and 1"),
        ("jitter", "0.5", "expected a fraction between 0 and 1"),
    ],
)
def test_policy_refuses_bad_values(field, value, problem):
    with pytest.raises(CloudOSValidationError) as excinfo:
        RetryPolicy(**{field: value})
    assert str(excinfo.value) == f"Invalid {field}={value!r}: {problem}"


def test_policy_accepts_the_edges_of_each_range():
    edges = RetryPolicy(max_attempts=1, backoff_base=0, backoff_max=0, retry_after_max=0, jitter=1)
    assert (edges.backoff_base, edges.backoff_max, edges.retry_after_max, edges.jitter) == (0, 0, 0, 1)
    assert RetryPolicy(jitter=0).jitter == 0


@pytest.mark.parametrize("attempt", [0, -1, True, 1.0])
def test_attempt_must_be_a_whole_number_from_one(attempt):
    with pytest.raises(CloudOSValidationError) as excinfo:
        delay(attempt=attempt)
    assert str(excinfo.value) == f"Invalid attempt={attempt!r}: attempts are counted from 1"


def test_retry_after_date_without_a_zone_is_read_as_gmt_whatever_the_machines_zone(monkeypatch):
    import time

    header = formatdate(NOW + 42, usegmt=True).removesuffix(" GMT")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        waited = parse_retry_after(header, clock=lambda: NOW)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert waited == pytest.approx(42.0)


def test_backoff_exponent_is_bounded_for_huge_attempt_numbers():
    unbounded = RetryPolicy(max_attempts=10_000, backoff_max=float("inf"), jitter=0.0)
    assert delay(unbounded, attempt=5_000) == 2.0**62


def test_a_random_share_outside_0_1_is_clamped():
    policy = RetryPolicy(jitter=0.5)
    assert delay(policy, attempt=1, rng=lambda: 7.0) == 0.5, "at most the jitter fraction is taken off"
    assert delay(policy, attempt=1, rng=lambda: -3.0) == 1.0, "never more than the backoff"


# --- deadline ------------------------------------------------------------


def test_no_deadline_outside_any_scope():
    assert current_deadline() is None


def test_a_scope_sets_the_deadline_and_restores_the_outer_one():
    with call_deadline(100.0, "the sensor's timeout (20s)") as chosen:
        assert chosen == Deadline(100.0, "the sensor's timeout (20s)")
        assert current_deadline() == chosen
    assert current_deadline() is None


@pytest.mark.parametrize(("outer", "inner", "kept"), [(100.0, 200.0, "outer"), (200.0, 100.0, "inner")])
def test_nested_scopes_keep_the_earliest_deadline(outer, inner, kept):
    with call_deadline(outer, "outer"), call_deadline(inner, "inner"):
        assert current_deadline().source == kept
        assert current_deadline().at == min(outer, inner)


def test_none_leaves_the_current_deadline():
    with call_deadline(100.0, "outer"), call_deadline(None, "nothing"):
        assert current_deadline() == Deadline(100.0, "outer")


def test_a_cleanup_budget_replaces_even_a_passed_deadline():
    with call_deadline(10.0, "the operator's timeout (30m)"):
        with cleanup_budget(30.0, "the cleanup", clock=lambda: 1000.0) as budget:
            assert budget == Deadline(1030.0, "the cleanup")
            assert current_deadline() == budget
        assert current_deadline().source == "the operator's timeout (30m)"


@pytest.mark.asyncio
async def test_asyncio_tasks_see_the_scope_that_started_them():
    async def look() -> Deadline | None:
        return current_deadline()

    with call_deadline(100.0, "the trigger's end_time"):
        inside = await asyncio.create_task(look())
    outside = await asyncio.create_task(look())
    assert inside == Deadline(100.0, "the trigger's end_time")
    assert outside is None


def test_attempts_are_cut_to_what_the_deadline_leaves_and_none_starts_without_time():
    clock = ManualClock()
    with call_deadline(clock() + 110.0, "x"):
        call = attempts(clock=clock)
    steps = call.steps(ERRORS)
    clock.advance(100.0)
    assert next(steps) == Send(10.0)
    assert next(attempts().steps(ERRORS)) == Send(60.0)  # no deadline: the client's own


@pytest.mark.parametrize(("at", "deadlines"), [(109.99, True), (109.90, False)])
def test_only_a_timeout_at_the_deadline_is_the_deadlines(at, deadlines):
    """Timers are not exact: a timeout within 0.05 s of the deadline is the deadline's."""
    clock = ManualClock()
    with call_deadline(clock() + 110.0, "x"):
        steps = attempts(clock=clock, policy=RetryPolicy(backoff_base=0.0)).steps(ERRORS)
    next(steps)
    clock.advance(at)
    if deadlines:
        with pytest.raises(CloudOSDeadlineError, match=r"the deadline of x was reached$"):
            steps.throw(TimeoutError())
    else:
        assert steps.throw(TimeoutError()) == Sleep(0.0)


# --- network ------------------------------------------------------------


HTTPS_URL = "https://cloudos.example.org"
HTTP_URL = "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("environ", "url", "expected"),
    [
        ({}, HTTPS_URL, None),
        ({"HTTPS_PROXY": "http://corp:3128"}, HTTPS_URL, "http://corp:3128"),
        ({"HTTPS_PROXY": "http://corp:3128"}, HTTP_URL, None),
        ({"HTTP_PROXY": "http://plain:3128"}, HTTP_URL, "http://plain:3128"),
        ({"ALL_PROXY": "http://all:3128"}, HTTPS_URL, "http://all:3128"),
        ({"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}, HTTPS_URL, "http://lower:2"),
        ({"https_proxy": "corp:3128"}, HTTPS_URL, "http://corp:3128"),
        ({"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "example.org"}, HTTPS_URL, None),
        ({"HTTPS_PROXY": "http://corp:3128", "no_proxy": ".example.org"}, HTTPS_URL, None),
        ({"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "*"}, HTTPS_URL, None),
        (
            {"HTTPS_PROXY": "http://corp:3128", "NO_PROXY": "other.org,xample.org"},
            HTTPS_URL,
            "http://corp:3128",
        ),
        ({"HTTP_PROXY": "http://plain:3128", "NO_PROXY": "127.0.0.0/8"}, HTTP_URL, None),
        ({"HTTP_PROXY": "http://plain:3128", "NO_PROXY": "127.0.0.1:8080"}, HTTP_URL, None),
        ({"HTTP_PROXY": "http://plain:3128", "NO_PROXY": "127.0.0.1:9999"}, HTTP_URL, "http://plain:3128"),
    ],
)
def test_the_environment_decides_when_the_connection_says_nothing(environ, url, expected):
    assert choose_route(url, environ=environ).proxy == expected


def test_the_connection_proxy_wins_over_the_environment():
    route = choose_route(HTTPS_URL, "http://mine:8080", environ={"HTTPS_PROXY": "http://corp:3128"})
    assert route == Route("http://mine:8080", "connection")


@pytest.mark.parametrize(
    ("no_proxy", "environ"),
    [("cloudos.example.org", {}), ("example.org", {}), ("*", {}), (None, {"NO_PROXY": "example.org"})],
)
def test_no_proxy_from_the_connection_or_the_environment_skips_any_proxy(no_proxy, environ):
    route = choose_route(
        HTTPS_URL, "http://mine:8080", no_proxy, environ={**environ, "HTTPS_PROXY": "http://c:1"}
    )
    assert route == Route(None, "no_proxy")


def test_no_proxy_entries_are_matched_as_whole_names():
    assert not bypasses_proxy("https://notexample.org", "example.org")
    assert bypasses_proxy("https://a.b.example.org", "example.org")
    assert bypasses_proxy("http://[::1]:8080", "::1")
    assert not bypasses_proxy("https://host", "10.0.0.0/8")
    assert not bypasses_proxy("https://host", None)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ftp://proxy:21", "the proxy scheme must be http or https"),
        ("http://", "names no host"),
        ("http://proxy:port", "not a usable proxy URL"),
        (42, "expected a proxy URL"),
    ],
)
def test_bad_proxy_urls_are_refused_by_name(value, problem):
    with pytest.raises(CloudOSValidationError, match=problem) as raised:
        check_proxy_url(value)
    assert raised.value.parameter == "proxy"


@pytest.mark.parametrize("value", ["socks5://alice:s3cret@proxy:1080", "alice:s3cret@proxy:port"])
def test_a_refused_proxy_url_does_not_echo_its_password(value):
    with pytest.raises(CloudOSValidationError) as raised:
        check_proxy_url(value)
    assert "s3cret" not in str(raised.value)
    assert "://***@proxy:" in str(raised.value)


def test_a_bad_environment_proxy_is_refused_naming_the_variable():
    with pytest.raises(CloudOSValidationError) as raised:
        choose_route(HTTPS_URL, environ={"HTTPS_PROXY": "ftp://corp:21"})
    assert raised.value.parameter == "HTTPS_PROXY"


def test_no_proxy_lists_are_tidied():
    assert check_no_proxy(" a.org , ,b.org ") == "a.org,b.org"
    assert check_no_proxy(["a.org", "b.org"]) == "a.org,b.org"
    assert check_no_proxy("  ") is None
    with pytest.raises(CloudOSValidationError, match="no_proxy"):
        check_no_proxy(3)


def test_credentials_are_redacted_from_text_and_repr():
    text = "Cannot connect to http://alice:s3cret@proxy:3128 via https://bob:pw@other/x"
    assert redact_credentials(text) == "Cannot connect to http://***@proxy:3128 via https://***@other/x"
    route = Route("http://alice:s%40cret@proxy:3128", "connection")
    assert "s%40cret" not in repr(route)
    assert route.basic_authorization() == f"Basic {base64.b64encode(b'alice:s@cret').decode()}"
    assert route.without_credentials() == "http://proxy:3128"
    assert set(route.secrets()) >= {"s%40cret", "s@cret"}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, True),
        ({"REQUESTS_CA_BUNDLE": certifi.where()}, certifi.where()),
        ({"CURL_CA_BUNDLE": certifi.where()}, certifi.where()),
        ({"SSL_CERT_FILE": certifi.where()}, certifi.where()),
        ({"REQUESTS_CA_BUNDLE": certifi.where(), "SSL_CERT_FILE": "/nowhere.pem"}, certifi.where()),
    ],
)
def test_the_environment_ca_bundle_applies_when_verification_is_on(environ, expected):
    assert verify_from_environment(True, environ) == expected


@pytest.mark.parametrize("verify", [False, "/explicit/bundle.pem"])
def test_an_explicit_setting_wins_over_the_environment(verify):
    assert verify_from_environment(verify, {"REQUESTS_CA_BUNDLE": certifi.where()}) == verify


def test_a_missing_environment_bundle_is_refused_naming_the_variable(tmp_path):
    with pytest.raises(CloudOSValidationError, match="no CA bundle") as raised:
        verify_from_environment(True, {"SSL_CERT_FILE": str(tmp_path / "gone.pem")})
    assert raised.value.parameter == "SSL_CERT_FILE"


# --- unreachable ------------------------------------------------------------


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


# --- budget ------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_second_of_requests_goes_at_once_and_the_rest_at_the_pace():
    clock = Clock()
    budget = RequestBudget(10, clock=clock)

    delays = [budget.turn() for _ in range(15)]

    assert delays[:10] == [0.0] * 10
    assert [round(delay, 3) for delay in delays[10:]] == [0.1, 0.2, 0.3, 0.4, 0.5]


def test_an_unused_budget_refills_to_one_burst_and_no_more():
    clock = Clock()
    budget = RequestBudget(10, clock=clock)
    for _ in range(10):
        budget.turn()
    clock.now += 60

    delays = [budget.turn() for _ in range(11)]

    assert delays[:10] == [0.0] * 10
    assert round(delays[10], 3) == 0.1


def test_a_429_holds_every_request_of_the_connection_then_resumes_at_the_pace():
    clock = Clock()
    budget = RequestBudget(10, clock=clock)

    budget.hold(5.0)
    delays = [budget.turn() for _ in range(3)]

    assert [round(delay, 3) for delay in delays] == [5.0, 5.1, 5.2]


def test_a_slow_budget_spaces_every_request():
    clock = Clock()
    budget = RequestBudget(0.5, clock=clock)

    assert [budget.turn() for _ in range(3)] == [0.0, 2.0, 4.0]


def test_one_budget_per_connection_and_rate_in_a_loop():
    async def run() -> tuple[bool, bool, bool]:
        first = budget_for("connection", 10)
        return (
            first is budget_for("connection", 10),
            first is not budget_for("another connection", 10),
            budget_for("connection", 5).per_second == 5,
        )

    assert asyncio.run(run()) == (True, True, True)


# --- attempts ------------------------------------------------------------


WS = "a" * 24
SID = "b" * 24
ATTEMPTS_KEY = "KEY-never-shown"
GET = api.get_session(WS, SID)
CREATE = api.create_session(WS, {"interactiveSessionConfiguration": {"name": "x"}})
POLICY = RetryPolicy(max_attempts=3, backoff_base=1.0, jitter=0.0)
LOGGER = logging.getLogger("tests.client.transport")
#: A transport whose library raises builtin exceptions.
ERRORS = TransportErrors(
    tls=(ssl.SSLError,),
    passing=(ConnectionError, TimeoutError),
    timeouts=(TimeoutError,),
    unsendable=(ValueError,),
)


def attempts(request=GET, clock=None, policy=POLICY) -> Attempts:
    return Attempts(
        request,
        policy,
        attempt_seconds=60.0,
        secrets=(ATTEMPTS_KEY,),
        clock=clock or ManualClock(),
        logger=LOGGER,
    )


def answer(status: int, body: bytes = b"", retry_after: str | None = None) -> Answer:
    return Answer(status, body, retry_after)


def test_each_attempt_is_counted_and_may_take_the_whole_attempt_time():
    call = attempts()
    steps = call.steps(ERRORS)
    assert next(steps) == Send(60.0)
    assert steps.send(answer(503)) == Sleep(1.0)
    assert next(steps) == Send(60.0)
    assert call.count == 2


def test_a_2xx_answer_ends_the_call_with_its_body():
    steps = attempts().steps(ERRORS)
    next(steps)
    assert steps.send(answer(200, b"{}")) == b"{}"
    with pytest.raises(StopIteration):
        next(steps)


def test_a_retryable_answer_waits_as_the_policy_says_and_logs_it(caplog):
    steps = attempts().steps(ERRORS)
    next(steps)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert steps.send(answer(503)) == Sleep(1.0)
        next(steps)
        assert steps.send(answer(429, retry_after="7")) == Sleep(7.0)
    assert [record.getMessage() for record in caplog.records] == [
        f"CloudOS API get (GET /api/v2/interactive-sessions/{SID}) got HTTP 503; "
        "retrying in 1.00s (attempt 2 of 3)",
        f"CloudOS API get (GET /api/v2/interactive-sessions/{SID}) got HTTP 429; "
        "retrying in 7.00s (attempt 3 of 3)",
    ]


def test_the_last_attempt_raises_the_answer_as_an_error_counting_the_attempts():
    steps = attempts(policy=RetryPolicy(max_attempts=1)).steps(ERRORS)
    next(steps)
    with pytest.raises(CloudOSTransientError, match="503"):
        steps.send(answer(503, b'{"message": "busy"}'))


def test_a_refusal_is_never_retried():
    steps = attempts().steps(ERRORS)
    next(steps)
    with pytest.raises(CloudOSNotFoundError):
        steps.send(answer(404, b'{"message": "no such session"}'))


def test_a_lost_connection_is_retried_with_the_failure_named(caplog):
    steps = attempts().steps(ERRORS)
    next(steps)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert steps.throw(ConnectionResetError("reset")) == Sleep(1.0)
        next(steps)
        assert steps.throw(TimeoutError("timed out")) == Sleep(2.0)
    messages = [record.getMessage() for record in caplog.records]
    assert "got ConnectionResetError: reset; retrying in 1.00s (attempt 2 of 3)" in messages[0]
    assert "got TimeoutError: timed out; retrying in 2.00s" in messages[1]


def test_a_transport_whose_only_timeout_is_the_attempts_reports_it_as_such(caplog):
    own_timeout = TransportErrors(
        tls=(), passing=(TimeoutError,), timeouts=(TimeoutError,), unsendable=(), timeout_is_the_attempts=True
    )
    steps = attempts().steps(own_timeout)
    next(steps)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert steps.throw(TimeoutError()) == Sleep(1.0)
    assert "got no complete answer within 60s" in caplog.records[0].getMessage()


def test_a_final_lost_connection_says_why_after_how_many_attempts_without_the_key():
    steps = attempts(policy=RetryPolicy(max_attempts=3, backoff_base=0.0)).steps(ERRORS)
    next(steps)
    steps.throw(ConnectionError("refused"))
    next(steps)
    steps.throw(ConnectionError("refused"))
    next(steps)
    with pytest.raises(CloudOSTransientError) as raised:
        steps.throw(ConnectionError(f"refused {ATTEMPTS_KEY}"))
    assert str(raised.value) == (
        f"CloudOS API unreachable for GET /api/v2/interactive-sessions/{SID} after 3 attempts: "
        "ConnectionError: refused ***"
    )
    assert (raised.value.status_code, raised.value.endpoint) == (None, "get")


def test_a_create_is_sent_once_and_its_error_says_why():
    steps = attempts(request=CREATE).steps(ERRORS)
    next(steps)
    cause = ConnectionResetError("reset by peer")
    with pytest.raises(CloudOSTransientError, match="Not retried, because repeating it") as raised:
        steps.throw(cause)
    assert raised.value.__cause__ is cause


def test_a_create_answered_429_is_sent_again():
    steps = attempts(request=CREATE).steps(ERRORS)
    next(steps)
    assert steps.send(answer(429, retry_after="3")) == Sleep(3.0)
    assert next(steps) == Send(60.0)
    assert steps.send(answer(201, b"{}")) == b"{}"


def test_a_cause_that_would_reveal_the_key_is_not_chained():
    steps = attempts(policy=RetryPolicy(max_attempts=1)).steps(ERRORS)
    next(steps)
    with pytest.raises(CloudOSTransientError) as raised:
        steps.throw(ConnectionRefusedError(f"refused for apikey {ATTEMPTS_KEY}"))
    assert raised.value.__cause__ is None
    assert ATTEMPTS_KEY not in str(raised.value)


def test_an_exception_that_is_not_the_transports_goes_through_unchanged():
    steps = attempts().steps(ERRORS)
    next(steps)
    strange = KeyError("not a transport failure")
    with pytest.raises(KeyError) as raised:
        steps.throw(strange)
    assert raised.value is strange


def test_no_attempt_starts_past_the_deadline():
    clock = ManualClock()
    with call_deadline(clock() - 1, "the sensor's timeout (5s)"):
        call = attempts(clock=clock)
        steps = call.steps(ERRORS)
        with pytest.raises(CloudOSDeadlineError, match="not sent: the deadline of the sensor's timeout"):
            next(steps)
    assert call.count == 0


def test_no_retry_sleeps_past_the_deadline_and_the_error_names_the_last_failure():
    clock = ManualClock()
    with call_deadline(clock() + 5, "the trigger's end_time (5s)"):
        steps = attempts(clock=clock).steps(ERRORS)
        next(steps)
        clock.advance(2)
        with pytest.raises(CloudOSDeadlineError) as raised:
            steps.send(answer(503, retry_after="10"))
    message = str(raised.value)
    assert "stopped after 2.0s (1 attempt): the deadline of the trigger's end_time (5s)" in message
    assert message.endswith("last failure: HTTP 503")


def test_an_attempt_is_cut_to_what_the_deadline_leaves_and_then_refused_with_the_last_failure():
    clock = ManualClock()
    with call_deadline(clock() + 10, "the operator's timeout (10s)"):
        steps = attempts(clock=clock).steps(ERRORS)
        assert next(steps) == Send(10.0)
        assert steps.send(answer(502)) == Sleep(1.0)
        clock.advance(9.5)
        assert next(steps) == Send(0.5)
        clock.advance(0.5)
        with pytest.raises(CloudOSDeadlineError, match="2 attempts"):
            steps.throw(TimeoutError())


def test_the_deadline_refuses_the_next_attempt_with_the_last_failure():
    clock = ManualClock()
    with call_deadline(clock() + 10, "the operator's timeout (10s)"):
        steps = attempts(clock=clock).steps(ERRORS)
        next(steps)
        assert steps.send(answer(502)) == Sleep(1.0)
        clock.advance(10)
        with pytest.raises(CloudOSDeadlineError, match="last failure: HTTP 502"):
            next(steps)


def test_a_create_cut_by_the_deadline_ends_as_the_deadline_not_as_a_lost_connection():
    """The operator tells the two apart: only a lost create makes it look for what it created."""
    clock = ManualClock()
    with call_deadline(clock() + 10, "the operator's timeout (10s)"):
        steps = attempts(request=CREATE, clock=clock).steps(ERRORS)
        next(steps)
        clock.advance(10)
        with pytest.raises(CloudOSDeadlineError) as raised:
            steps.throw(TimeoutError())
    message = str(raised.value)
    assert "stopped after 10.0s (1 attempt): the deadline of the operator's timeout (10s)" in message
    assert "last failure" not in message


def test_a_final_lost_connection_names_what_the_transport_raised():
    steps = attempts(policy=RetryPolicy(max_attempts=1)).steps(ERRORS)
    next(steps)
    with pytest.raises(
        CloudOSTransientError, match=r"unreachable for GET .*: ConnectionResetError: reset by peer"
    ):
        steps.throw(ConnectionResetError("reset by peer"))


def test_a_failed_tls_handshake_names_the_reason_and_keeps_the_cause():
    call = attempts()
    steps = call.steps(ERRORS)
    next(steps)
    refused = ssl.SSLCertVerificationError("certificate verify failed: self-signed certificate")
    with pytest.raises(CloudOSAPIError, match=r"TLS handshake failed .*self-signed certificate") as raised:
        steps.throw(refused)
    assert raised.value.__cause__ is refused
    assert call.count == 1


def test_a_request_that_could_not_be_sent_names_the_reason_and_keeps_the_cause():
    steps = attempts().steps(ERRORS)
    next(steps)
    bad = ValueError("Invalid header value b'x\\n'")
    with pytest.raises(
        CloudOSAPIError, match="could not be sent: ValueError: Invalid header value"
    ) as raised:
        steps.throw(bad)
    assert raised.value.__cause__ is bad


# --- the runners: each transport's only loop is carrying the steps out ----------------------


class Transport:
    """Answers each attempt from a script (an answer, or an exception to raise) and records sleeps."""

    def __init__(self, *script: Answer | Exception) -> None:
        self.script = list(script)
        self.budgets: list[float] = []
        self.sleeps: list[float] = []

    def send(self, seconds: float) -> Answer:
        self.budgets.append(seconds)
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def send_awaited(self, seconds: float) -> Answer:
        return self.send(seconds)

    async def sleep_awaited(self, seconds: float) -> None:
        self.sleep(seconds)


SCRIPT = (ConnectionResetError("reset"), answer(503, retry_after="4"), answer(200, b'{"ok": 1}'))


def test_the_blocking_runner_sends_sleeps_and_returns_the_body():
    transport = Transport(*SCRIPT)
    body = run_blocking(attempts().steps(ERRORS), transport.send, transport.sleep)
    assert body == b'{"ok": 1}'
    assert transport.budgets == [60.0, 60.0, 60.0]
    assert transport.sleeps == [1.0, 4.0]


@pytest.mark.asyncio
async def test_the_awaiting_runner_does_the_same_steps():
    transport = Transport(*SCRIPT)
    body = await run_awaited(attempts().steps(ERRORS), transport.send_awaited, transport.sleep_awaited)
    assert body == b'{"ok": 1}'
    assert transport.budgets == [60.0, 60.0, 60.0]
    assert transport.sleeps == [1.0, 4.0]


def test_a_runner_raises_what_the_loop_decides():
    transport = Transport(answer(503), answer(503), answer(503))
    with pytest.raises(CloudOSTransientError, match="3 attempts"):
        run_blocking(attempts().steps(ERRORS), transport.send, transport.sleep)
    assert transport.sleeps == [1.0, 2.0]
