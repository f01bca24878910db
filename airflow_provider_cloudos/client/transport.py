"""How a request reaches CloudOS, whichever library sends it: the part both clients share.

One retry loop (:meth:`Attempts.steps`, a generator that does no I/O) decides everything between
the first attempt and the last: whether another attempt may start, whether a failure or an
answer is worth one more (:func:`retry_delay`), how long to wait, what to log and what to raise.
:func:`run_blocking` and :func:`run_awaited` carry its steps out; a transport gives them its own
send and sleep and names which of its exceptions mean what (:class:`TransportErrors`).

Idempotent requests are repeated after any passing failure. Creating a session is a plain POST:
if its response is lost (or a 5xx hides what happened), the session may exist already, and a
second POST would start (and bill) a second one; that case is left to the operator, which looks
for the session its earlier attempt created. A 429 is the one exception: the server refused the
request before acting on it, so a create waits and is sent again.

The time a task has left is a context-scoped deadline both transports read: the task opens a
scope once (``with call_deadline(started + timeout, "the sensor's timeout (20s)"):``) and no
request inside it starts an attempt or sleeps for a retry beyond it. Scopes nest, and the
earliest deadline wins; :func:`cleanup_budget` replaces it with a short, fresh one for the calls
that must still run after it passed (pausing the session a timed-out task started). The deadline
is wall-clock epoch seconds, carried by a :mod:`contextvars` variable.

Where requests go: the connection's ``proxy`` extra, else ``HTTPS_PROXY``/``HTTP_PROXY`` (by the
CloudOS URL's scheme), else ``ALL_PROXY``; none when the host matches ``no_proxy`` or
``NO_PROXY`` (host names, domain suffixes, IP networks, ``*``). CA bundle: the connection's
``ssl_cert``, else ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE`` or
``SSL_CERT_DIR``. Neither library reads the environment itself: both send what this rule says.

Why a request got no answer is found at the bottom of the libraries' exception chains (a refused
connection, a host name that does not resolve), without importing either library, so both
report it the same way. In an event loop, every request on one connection (URL, key, workspace)
first takes its turn from that connection's :class:`RequestBudget`; a 429 holds the whole budget.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import functools
import ipaddress
import logging
import math
import os
import random
import re
import socket
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable, Generator, Hashable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from airflow_provider_cloudos.client import api
from airflow_provider_cloudos.client.api import (
    _NOT_RETRIED,
    ApiRequest,
    _attempts,
    _unusable,
    decode_json,
    extract_items,
    extract_total,
    is_retryable_status,
    raise_for_status,
    redact,
    redact_credentials,
)
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSDeadlineError,
    CloudOSResponseTooLargeError,
    CloudOSTransientError,
    CloudOSValidationError,
)
from airflow_provider_cloudos.core.formatters import normalize_base_url, shown_url
from airflow_provider_cloudos.core.spec import as_utc, non_blank
from airflow_provider_cloudos.version import __version__

#: The total time one attempt may take (connect, send, the whole answer), whatever the server does.
DEFAULT_REQUEST_TIMEOUT = 60.0


#: The largest answer read into memory. A page of 100 sessions is well under 1 MB; anything near
#: this is a misconfigured URL (a download, a proxy's page) rather than CloudOS.
DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024


#: Bytes asked for per read of an answer, so that size and time are checked as it arrives.
READ_CHUNK_BYTES = 64 * 1024


class AttemptTimeout(TimeoutError):
    """One attempt used its whole time (connect + send + answer) without a complete answer."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within {seconds:g}s (the total time allowed for one attempt)")


def check_seconds(value: object, parameter: str, what: str = "a number of seconds greater than 0") -> float:
    """A finite number greater than 0 (``what`` it should be), refused by name otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise CloudOSValidationError(parameter, value, f"expected {what}")
    return float(value)


def clean_workspace_id(workspace_id: str | None) -> str | None:
    if workspace_id is not None and not isinstance(workspace_id, str):
        problem = f"expected a string, got {type(workspace_id).__name__}"
        raise CloudOSValidationError("workspace_id", workspace_id, problem)
    return (workspace_id or "").strip() or None


def check_verify(verify: bool | str) -> bool | str:
    """TLS verification: True, False, or the path of a CA bundle file (or directory).

    A missing bundle is refused now, by name, rather than at the first request where the HTTP
    library reports it in its own terms.
    """
    if isinstance(verify, bool):
        return verify
    path = non_blank(verify, "verify", "expected True, False or the path of a CA bundle file or directory")
    if not os.path.exists(path):
        raise CloudOSValidationError("verify", verify, "no CA bundle file or directory at this path")
    return path


def safe_cause(error: BaseException, secrets: Iterable[str]) -> BaseException | None:
    """``error`` to chain as the cause, or None when its text would reveal a secret (the API key,
    a proxy password, or any URL's credentials)."""
    text = str(error)
    reveals = redact_credentials(text) != text or any(secret and secret in text for secret in secrets)
    return None if reveals else error


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry."""

    #: Every attempt, the first included (1 means never retry).
    max_attempts: int = 5
    #: The first backoff in seconds; each next one doubles, up to ``backoff_max``.
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    #: The fraction of each backoff randomly taken off, so that many clients failing together do
    #: not come back in lockstep.
    jitter: float = 0.5
    #: The longest ``Retry-After`` obeyed as given.
    retry_after_max: float = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise CloudOSValidationError("max_attempts", self.max_attempts, "expected an integer")
        if self.max_attempts < 1:
            raise CloudOSValidationError("max_attempts", self.max_attempts, "at least 1 attempt is needed")
        for name in ("backoff_base", "backoff_max", "retry_after_max"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise CloudOSValidationError(name, value, "expected a number of seconds, 0 or more")
        jitter = self.jitter
        if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            raise CloudOSValidationError("jitter", jitter, "expected a fraction between 0 and 1")


def parse_retry_after(value: str | None, *, clock: Callable[[], float] = time.time) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP date), None if unusable.

    A date in the past means "now" (0 seconds).
    """
    text = (value or "").strip()
    with suppress(ValueError):  # not a number of seconds: maybe a date
        seconds = float(text)
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    # RFC 9110 dates are always GMT; a date without a zone is read the same way.
    return max(as_utc(moment).timestamp() - clock(), 0.0)


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    *,
    status_code: int | None,
    retry_after: str | None,
    idempotent: bool,
    rng: Callable[[], float] = random.random,
    clock: Callable[[], float] = time.time,
) -> float | None:
    """Seconds to wait before the next attempt, or None when the failure is final.

    ``attempt`` is the number (from 1) of the attempt that just failed; ``status_code`` is None
    for a connection failure. A usable ``Retry-After`` is obeyed as given, up to
    ``retry_after_max``; otherwise the wait is ``backoff_base * 2**(attempt-1)``, capped at
    ``backoff_max``, minus a random share of up to ``jitter`` of it.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise CloudOSValidationError("attempt", attempt, "attempts are counted from 1")
    if not is_retryable_status(status_code) or attempt >= policy.max_attempts:
        return None
    if not idempotent and status_code != 429:
        # A lost answer or a 5xx may hide a session that was made; a 429 says the server refused
        # the request before doing anything, so even a create may be sent again.
        return None
    requested = parse_retry_after(retry_after, clock=clock)
    if requested is not None:
        return min(requested, policy.retry_after_max)
    backoff = min(policy.backoff_max, policy.backoff_base * 2 ** min(attempt - 1, 62))
    return backoff * (1.0 - policy.jitter * min(max(rng(), 0.0), 1.0))


@dataclass(frozen=True)
class Deadline:
    """A wall-clock moment (epoch seconds) and what set it, for the message when it is reached."""

    at: float
    source: str


_CURRENT: ContextVar[Deadline | None] = ContextVar("cloudos_call_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the calls made here, or None when no task set one."""
    return _CURRENT.get()


_Scoped = TypeVar("_Scoped", bound=Deadline | None)


@contextmanager
def _scope(deadline: _Scoped) -> Iterator[_Scoped]:
    """``deadline`` is the current one inside the block."""
    token = _CURRENT.set(deadline)
    try:
        yield deadline
    finally:
        _CURRENT.reset(token)


def call_deadline(at: float | None, source: str) -> AbstractContextManager[Deadline | None]:
    """Calls in this block end by ``at`` (epoch seconds); None leaves the current deadline.

    Inside an earlier deadline, the earlier one stays: a scope can only shorten the time left.
    """
    outer = _CURRENT.get()
    if at is None or (outer is not None and outer.at <= at):
        return _scope(outer)
    return _scope(Deadline(at, source))


def cleanup_budget(
    seconds: float, source: str, *, clock: Callable[[], float] = time.time
) -> AbstractContextManager[Deadline]:
    """A fresh deadline ``seconds`` from now that replaces any current one.

    For the calls a task makes because its deadline passed (pausing the session it started): they
    would otherwise be refused before they are sent.
    """
    return _scope(Deadline(clock() + seconds, source))


@dataclass(frozen=True)
class Route:
    """The proxy a client sends through (None: straight to CloudOS); its repr hides credentials."""

    proxy: str | None = field(default=None, repr=False)
    source: str = "none"

    def __repr__(self) -> str:
        shown = None if self.proxy is None else redact_credentials(self.proxy)
        return f"Route(proxy={shown!r}, source={self.source!r})"

    def basic_authorization(self) -> str | None:
        """The ``Proxy-Authorization`` value for the proxy URL's credentials (decoded), None without any."""
        parts = urlsplit(self.proxy or "")
        if parts.username is None:
            return None
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        return f"Basic {base64.b64encode(pair.encode()).decode('ascii')}"

    def without_credentials(self) -> str | None:
        """The proxy URL with no ``user:password@`` (aiohttp takes them as a header instead)."""
        if self.proxy is None:
            return None
        parts = urlsplit(self.proxy)
        return parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]).geturl()

    def secrets(self) -> tuple[str, ...]:
        """What must never show in a message: the password (raw and decoded), and the header made of it."""
        authorization = self.basic_authorization()
        if authorization is None:
            return ()
        password = urlsplit(self.proxy or "").password
        return (*({password, unquote(password)} if password else ()), authorization.split(" ", 1)[1])


def check_proxy_url(value: object, parameter: str = "proxy") -> str | None:
    """A proxy URL (``http://host:port``, optionally with credentials), checked; blank is None."""
    if value is not None and not isinstance(value, str):
        raise CloudOSValidationError(parameter, value, "expected a proxy URL such as http://proxy:3128")
    text = (value or "").strip()
    if not text:
        return None
    text = text if "://" in text else f"http://{text}"
    shown = redact_credentials(text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - reading it is the check: a port that is not a number raises
    except ValueError:
        raise CloudOSValidationError(parameter, shown, "not a usable proxy URL (check the port)") from None
    if parts.scheme.lower() not in ("http", "https"):
        problem = f"the proxy scheme must be http or https, not {parts.scheme!r}"
        raise CloudOSValidationError(parameter, shown, problem)
    if not parts.hostname:
        raise CloudOSValidationError(parameter, shown, "the proxy URL names no host")
    return text


def check_no_proxy(value: object, parameter: str = "no_proxy") -> str | None:
    """A ``no_proxy`` list: comma-separated hosts, domain suffixes, IP networks or ``*``."""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(item) for item in value)
    if value is not None and not isinstance(value, str):
        raise CloudOSValidationError(parameter, value, "expected comma-separated host names")
    return ",".join(entry.strip() for entry in (value or "").split(",") if entry.strip()) or None


def _matches(host: str, authority: str, entry: str) -> bool:
    """Whether one ``no_proxy`` entry covers a host (``authority`` is ``host:port``)."""
    if entry == "*":
        return True
    if "/" in entry:
        try:
            return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    name = entry.lstrip(".").lower()
    if not name:
        return False
    target = authority if re.fullmatch(r"[^:\[\]]+:\d+", name) else host  # host:port, or a host name
    return target == name or target.endswith("." + name)


def bypasses_proxy(url: str, no_proxy: str | None) -> bool:
    """True when the host of ``url`` matches an entry of ``no_proxy`` (a host name, a domain
    suffix with or without its leading dot, ``host:port``, an IP network, or ``*``)."""
    if not no_proxy:
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    authority = f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    return any(_matches(host, authority, entry.strip()) for entry in no_proxy.split(",") if entry.strip())


def choose_route(
    base_url: str,
    proxy: str | None = None,
    no_proxy: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Route:
    """The proxy for requests to ``base_url`` (see the module's rule)."""
    env = os.environ if environ is None else environ
    proxy = check_proxy_url(proxy)
    # ``{scheme: proxy}`` (and ``"no"``) from the ``*_proxy`` variables; a lowercase name, read
    # last, wins, as with curl and ``requests``.
    found = {
        name[: -len("_proxy")].lower(): value
        for name, value in sorted(env.items(), key=lambda item: item[0] == item[0].lower())
        if value and name.lower().endswith("_proxy")
    }
    exclusions = ",".join(part for part in (check_no_proxy(no_proxy), found.get("no")) if part)
    if bypasses_proxy(base_url, exclusions):
        return Route(None, "no_proxy")
    if proxy is not None:
        return Route(proxy, "connection")
    scheme = urlsplit(base_url).scheme.lower()
    from_env = found.get(scheme) or found.get("all")
    if not from_env:
        return Route(None, "none")
    return Route(check_proxy_url(from_env, f"{scheme.upper()}_PROXY"), "environment")


def verify_from_environment(verify: bool | str, environ: Mapping[str, str] | None = None) -> bool | str:
    """The TLS setting to use: an explicit bundle or False as given; True picks up the environment's
    CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, ``SSL_CERT_FILE``, ``SSL_CERT_DIR``).

    A variable naming a path that does not exist is refused by name: otherwise each library
    would fail in its own words at the first request, or (aiohttp) silently ignore it.
    """
    if verify is not True:
        return verify
    env = os.environ if environ is None else environ
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        value = (env.get(name) or "").strip()
        if value:
            if not os.path.exists(value):
                raise CloudOSValidationError(name, value, "no CA bundle file or directory at this path")
            return value
    return True


#: What to check when the CloudOS server itself could not be reached.
CHECK_THE_URL = "Check the CloudOS URL (the host of the Airflow connection) and that the server is up"


#: What to check when the proxy in front of it could not be reached.
CHECK_THE_PROXY = (
    "Check the proxy (the connection's proxy extra, or HTTPS_PROXY, HTTP_PROXY or ALL_PROXY in the "
    "environment) and that it is up"
)


#: Links the libraries use to wrap one failure in another: Python's own, urllib3's ``reason``,
#: aiohttp's ``os_error``.
_LINKS = ("__cause__", "reason", "os_error")


#: Modules whose exceptions carry plain words (not a library's wrapping of them).
_PLAIN = ("builtins", "ssl", "socket")


@dataclass(frozen=True)
class NoAnswer:
    """Why an attempt got no answer: a short ``reason`` for retry log lines, and the ``advice``
    the final error gives (None when the failure is not one the user can fix by a setting)."""

    reason: str
    advice: str | None = None

    def detail(self) -> str:
        """The reason and the advice, as the end of an error message."""
        return f"{self.reason}. {self.advice}" if self.advice else self.reason


def failure_chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception it wraps, outermost first, each once."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (*(getattr(current, name, None) for name in _LINKS), *getattr(current, "args", ()))
        context = None if current.__suppress_context__ else current.__context__
        pending.extend(item for item in (*linked, context) if isinstance(item, BaseException))


def _named(chain: list[BaseException], *words: str) -> bool:
    """Whether a library named the failure so: the proxy's (``requests``/urllib3 ``ProxyError``,
    aiohttp ``ClientProxyConnectionError``) or a connect timeout (urllib3 ``ConnectTimeoutError``,
    aiohttp ``ConnectionTimeoutError``); recognised by name, to import neither library."""
    return any(word in cls.__name__ for item in chain for cls in type(item).__mro__ for word in words)


def _innermost(chain: list[BaseException]) -> str:
    """``Type: text`` of the innermost plain OS error of the chain, else of its last exception, with
    an OS error's words rather than its ``[Errno N]`` prefix (square brackets are eaten by Airflow's
    CLI tables)."""
    builtin = [item for item in chain if isinstance(item, OSError) and type(item).__module__ in _PLAIN]
    error = builtin[-1] if builtin else chain[-1]
    strerror = getattr(error, "strerror", None)
    text = strerror if isinstance(strerror, str) and strerror else str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def explain_no_answer(error: BaseException, base_url: str | None = None) -> NoAnswer:
    """Why ``error`` (what a transport raised) left a request without an answer.

    A refused connection, a host name that does not resolve, a host out of reach or a connection
    that timed out says which URL (without credentials or query) and what to check; anything
    else is named by its innermost failure.
    """
    chain = list(failure_chain(error))
    errnos = {getattr(item, "errno", None) for item in chain if isinstance(item, OSError)}
    refused = any(isinstance(item, ConnectionRefusedError) for item in chain)
    unresolved = any(isinstance(item, socket.gaierror) for item in chain)
    if (refused or unresolved) and _named(chain, "Proxy"):
        what = "refused the connection" if refused else "has a host name that could not be resolved"
        return NoAnswer(f"the proxy {what}", CHECK_THE_PROXY)
    where = shown_url(base_url) if base_url else "the CloudOS server"
    if refused:
        return NoAnswer(f"connection refused by {where}", CHECK_THE_URL)
    if unresolved:
        return NoAnswer(f"the host name of {where} could not be resolved", CHECK_THE_URL)
    if errnos & {errno.ENETUNREACH, errno.EHOSTUNREACH}:  # a host or network out of reach
        return NoAnswer(f"no network route to {where}", CHECK_THE_URL)
    timed_out = any(isinstance(item, TimeoutError) for item in chain)
    if timed_out and _named(chain, "ConnectTimeout", "ConnectionTimeout"):
        return NoAnswer(f"no connection to {where} within the connect timeout", CHECK_THE_URL)
    return NoAnswer(_innermost(chain))


def tls_reason(error: BaseException) -> str:
    """Why a TLS handshake failed, from the ``ssl`` error at the bottom of the chain: the
    certificate check's own words (``self-signed certificate``) or the alert's name, without
    the ``[SSL: ...]`` prefix or the library's wrapping."""
    chain = list(failure_chain(error))
    for item in reversed(chain):
        verify_message = getattr(item, "verify_message", None)
        if isinstance(item, ssl.SSLCertVerificationError) and verify_message:
            return f"certificate verify failed: {verify_message}"
    for item in reversed(chain):
        reason = getattr(item, "reason", None)
        if isinstance(item, ssl.SSLError) and isinstance(reason, str) and reason:
            return reason.replace("_", " ").lower()
    return _innermost(chain)


#: Requests a second one connection may send from one event loop, unless its extra says otherwise.
DEFAULT_REQUESTS_PER_SECOND = 20.0


def check_rate(value: object, parameter: str = "max_requests_per_second") -> float:
    """A number of requests a second greater than 0, refused by name otherwise."""
    return check_seconds(value, parameter, "a number of requests a second above 0")


class RequestBudget:
    """The turns of one connection's requests; see the module's docstring."""

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = float(per_second)
        self._interval = 1.0 / self.per_second
        #: How far ahead of its pace the budget lets a burst run: one second's worth of requests.
        self._burst = max(0.0, (max(1.0, self.per_second) - 1.0) * self._interval)
        self._clock = clock
        #: When the next request would be sent if the budget were spent evenly.
        self._paced_until = clock()

    def turn(self) -> float:
        """Take the next turn: how many seconds from now the request may be sent (0: now)."""
        now = self._clock()
        paced = max(self._paced_until, now)
        send_at = max(now, paced - self._burst)
        self._paced_until = paced + self._interval
        return round(send_at - now, 6)  # to the microsecond: a float sum's dust is not a wait

    def hold(self, seconds: float) -> None:
        """CloudOS said "too many requests": no request on this connection for ``seconds``, and
        none in a burst after it."""
        resume_at = self._clock() + max(0.0, seconds)
        self._paced_until = max(self._paced_until, resume_at + self._burst)


_BUDGETS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, RequestBudget]] = (
    weakref.WeakKeyDictionary()
)


def budget_for(key: Hashable, per_second: float) -> RequestBudget:
    """The running loop's budget of connection ``key``; a changed rate starts a new one."""
    budgets = _BUDGETS.setdefault(asyncio.get_running_loop(), {})
    budget = budgets.get(key)
    if budget is None or budget.per_second != per_second:
        budget = budgets[key] = RequestBudget(per_second)
    return budget


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 100_000 else f"{size} bytes"


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer, as an attempt hands it to the loop."""

    status: int
    body: bytes
    retry_after: str | None


@dataclass(frozen=True)
class Send:
    """Send the request now; the attempt may take ``seconds`` in all."""

    seconds: float


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` before the next attempt."""

    seconds: float


#: What the loop asks for next (its last step is the body of the 2xx answer that ends the call),
#: and what it is told after a :class:`Send`: the answer, or the failure thrown into it.
Steps = Generator[Send | Sleep | bytes, Answer, None]


@dataclass(frozen=True)
class TransportErrors:
    """What a transport's exceptions mean to the loop; any other exception is not the loop's.

    ``tls``: a failed handshake (never retried, a certificate does not change). ``passing``: no
    (complete) answer, which another attempt may cure; of those, ``timeouts`` ran out of time.
    ``unsendable``: the library could not even send the request. With ``timeout_is_the_attempts``
    every timeout is reported as the attempt's own (the library's only timeout is the attempt's).
    """

    tls: tuple[type[BaseException], ...]
    passing: tuple[type[BaseException], ...]
    timeouts: tuple[type[BaseException], ...]
    unsendable: tuple[type[BaseException], ...]
    timeout_is_the_attempts: bool = False


@dataclass
class Attempts:
    """Where one call stands: how many attempts it made, what failed last, the deadline it serves.

    The deadline is read once, when the call starts, from the scope the caller opened.
    """

    request: ApiRequest
    policy: RetryPolicy
    attempt_seconds: float
    secrets: tuple[str, ...] = field(repr=False)  # the API key among them: never shown
    clock: Callable[[], float]
    logger: logging.Logger
    base_url: str | None = None
    count: int = field(default=0, init=False)
    _last_failure: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._deadline = current_deadline()
        self._started = self.clock()

    def _left(self) -> float:
        """Seconds until the deadline (infinite without one)."""
        return math.inf if self._deadline is None else self._deadline.at - self.clock()

    def steps(self, errors: TransportErrors) -> Steps:
        """The loop: attempts and the waits between them, until a 2xx answer or an error."""
        delay: float | None
        while True:
            # The client's own limit, cut to what the deadline leaves.
            budget = min(self.attempt_seconds, self._left())
            if budget <= 0:
                raise self._out_of_time(self._last_failure)
            self.count += 1
            try:
                answer = yield Send(budget)
            except errors.tls as exc:  # no retry fixes a certificate
                raise self._error(
                    f"CloudOS API TLS handshake failed for {self.request.describe()}: {tls_reason(exc)}. "
                    "Check the CloudOS URL and the connection's SSL verification setting (or CA bundle path)"
                ) from safe_cause(exc, self.secrets)
            except errors.passing as exc:
                delay = self._failed(exc, budget, errors)
            except errors.unsendable as exc:  # a bad URL or header: the request could not even be sent
                raise self._error(
                    f"CloudOS API request {self.request.describe()} could not be sent: "
                    f"{type(exc).__name__}: {exc}"
                ) from safe_cause(exc, self.secrets)
            else:
                delay = self._delay(answer.status, answer.retry_after)  # None unless the status is retryable
                if delay is None:  # a 2xx ends the call; any other answer is raised as its error
                    raise_for_status(
                        answer.status, answer.body, self.request, attempts=self.count, secrets=self.secrets
                    )
                    yield answer.body
                    return
                delay = self._before_retry(f"HTTP {answer.status}", delay)
            yield Sleep(delay)

    def _failed(self, exc: BaseException, budget: float, errors: TransportErrors) -> float:
        """Seconds to wait after an attempt that got no (complete) answer; raise when it is final.

        The message reports an attempt that used its time as an :class:`AttemptTimeout`, else what
        the transport raised, which is chained only when it reveals no secret.
        """
        timed_out = isinstance(exc, errors.timeouts)
        if timed_out and self._left() <= 0.05:
            # Cut by the deadline (a timeout this close to it is the deadline's: timers are not
            # exact), not by a shorter timeout of the client's own (a connect timeout, say): what
            # it says is the deadline; an earlier attempt's failure, if any, is still the last
            # thing CloudOS (or the network) said.
            raise self._out_of_time(self._last_failure) from None
        error = AttemptTimeout(budget) if timed_out and errors.timeout_is_the_attempts else exc
        delay = self._delay(None, None)
        if delay is None:
            # No HTTP answer at all: why in plain words and what to check, never the HTTP library's
            # own text (its pool, object reprs and the URL with its query). Nothing chained when
            # the message already says what to check (the library's chain would repeat its pool
            # dump and the URL's query in the traceback); else what the transport raised, unless
            # it reveals a secret.
            why = f"{_attempts(self.count)}: {explain_no_answer(error, self.base_url).detail()}"
            message = f"CloudOS API unreachable for {self.request.describe()}{why}"
            explained = explain_no_answer(exc, self.base_url).advice is not None
            raise self._error(message, CloudOSTransientError, self.count) from (
                None if explained else safe_cause(exc, self.secrets)
            )
        if isinstance(error, AttemptTimeout):
            return self._before_retry(str(error), delay)
        # The transport's text may quote a header or a proxy URL: it is redacted like any message.
        return self._before_retry(redact(explain_no_answer(error, self.base_url).reason, self.secrets), delay)

    def _delay(self, status: int | None, retry_after: str | None) -> float | None:
        idempotent = self.request.idempotent
        return retry_delay(
            self.policy, self.count, status_code=status, retry_after=retry_after, idempotent=idempotent
        )

    def _before_retry(self, failure: str, delay: float) -> float:
        """``delay``, once it is known to fit before the deadline and the retry is logged."""
        if delay >= self._left():  # no time left for another attempt after the sleep
            raise self._out_of_time(failure) from None
        self.logger.warning(
            "CloudOS API %s (%s) got %s; retrying in %.2fs (attempt %d of %d)",
            self.request.name,
            self.request.describe(),
            failure,
            delay,
            self.count + 1,
            self.policy.max_attempts,
        )
        self._last_failure = failure
        return delay

    def _error(
        self, message: str, kind: type[CloudOSAPIError] = CloudOSAPIError, sent: int = 0
    ) -> CloudOSAPIError:
        """The call's error: ``message`` redacted, with no HTTP status (there was no answer), saying
        why a create that was ``sent`` is not sent again."""
        if sent and not self.request.idempotent:
            message += f". {_NOT_RETRIED}"
        return kind(redact(message, self.secrets), status_code=None, endpoint=self.request.name)

    def _out_of_time(self, failure: str | None) -> CloudOSAPIError:
        """The error for a call stopped by its task's deadline: which call, how long it ran (and
        how many attempts it made), whose deadline it was and what failed last."""
        assert self._deadline is not None
        what, source = self.request.describe(), self._deadline.source
        tries = "1 attempt" if self.count == 1 else f"{self.count} attempts"
        done = f"stopped after {self.clock() - self._started:.1f}s ({tries})" if self.count else "not sent"
        reached = "was reached" if self.count else "was already reached"
        message = f"CloudOS API {what} {done}: the deadline of {source} {reached}"
        if failure:
            message += f"; last failure: {failure}"
        return self._error(message, CloudOSDeadlineError, self.count)


def run_blocking(steps: Steps, send: Callable[[float], Answer], sleep: Callable[[float], Any]) -> bytes:
    """Carry out ``steps`` with blocking calls: the blocking client's retry loop.

    What a step did (an answer; nothing for a sleep) is sent back into the loop, and what it
    raised is thrown into it: the loop decides what a failure means, or raises it again.
    """
    step = next(steps)
    while not isinstance(step, bytes):
        try:
            done = send(step.seconds) if isinstance(step, Send) else sleep(step.seconds)
        except Exception as exc:
            step = steps.throw(exc)
        else:
            step = steps.send(done)
    return step


async def run_awaited(
    steps: Steps, send: Callable[[float], Awaitable[Answer]], sleep: Callable[[float], Awaitable[Any]]
) -> bytes:
    """Carry out ``steps`` awaiting each call: the async client's retry loop (see :func:`run_blocking`)."""
    step = next(steps)
    while not isinstance(step, bytes):
        try:
            done = await (send(step.seconds) if isinstance(step, Send) else sleep(step.seconds))
        except Exception as exc:
            step = steps.throw(exc)
        else:
            step = steps.send(done)
    return step


#: What a call makes of its 2xx body (and its request, for messages).
Reader = Callable[[bytes, ApiRequest], Any]


class ClientBase:
    """The settings and helpers both transports share; not used on its own.

    ``attempt_seconds`` is the total time one attempt may take, however the transport keeps it.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str | None,
        attempt_seconds: float,
        max_response_bytes: int,
        proxy: str | None,
        no_proxy: str | None,
        retry_policy: RetryPolicy | None,
        clock: Callable[[], float],
        user_agent: str | None,
        sleep: Callable[[float], Any],
    ) -> None:
        self._attempt_seconds = attempt_seconds
        self.base_url = normalize_base_url(base_url)
        if not isinstance(api_key, str) or not api_key.strip():
            raise CloudOSValidationError("api_key", "", "an API key is required")
        # A key with a line break or control character inside would make the HTTP library raise an
        # error quoting the header value: refused here, where the message can stay silent about it.
        self._api_key = api_key.strip()
        if not self._api_key.isprintable():
            problem = "the API key contains line breaks or control characters"
            raise CloudOSValidationError("api_key", "<redacted>", problem)
        self.workspace_id = clean_workspace_id(workspace_id)
        size = self._max_bytes = max_response_bytes
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            problem = "expected a number of bytes of at least 1"
            raise CloudOSValidationError("max_response_bytes", size, problem)
        self._route = choose_route(self.base_url, proxy, no_proxy)
        self.retry_policy = retry_policy or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._secrets = (self._api_key, *self._route.secrets())
        self._headers = {
            "apikey": self._api_key,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": user_agent or f"airflow-provider-cloudos/{__version__}",
        }

    def __repr__(self) -> str:
        """Where the client points (and through which proxy, without its credentials), never what
        it authenticates with."""
        proxy = "" if self._route.proxy is None else f", proxy={redact_credentials(self._route.proxy)!r}"
        return f"{type(self).__name__}(base_url={self.base_url!r}, workspace_id={self.workspace_id!r}{proxy})"

    def _workspace(self, workspace_id: str | None) -> str:
        """The workspace of one call: the one passed in, else the client's; one is required."""
        workspace = clean_workspace_id(workspace_id) or self.workspace_id
        if not workspace:
            problem = "no workspace id given to the call or to the client; set it in the connection"
            raise CloudOSValidationError("workspace_id", workspace_id, problem)
        return workspace

    def _attempts(self, request: ApiRequest, max_attempts: int | None, logger: logging.Logger) -> Attempts:
        """The attempts of one call, under the client's policy or ``max_attempts`` for this call."""
        policy = self.retry_policy
        if max_attempts is not None:
            policy = replace(policy, max_attempts=max_attempts)
        return Attempts(
            request, policy, self._attempt_seconds, self._secrets, self._clock, logger, self.base_url
        )

    def _refuse_announced(self, request: ApiRequest, length: str | None) -> None:
        """Refuse, unread, an answer whose announced ``Content-Length`` passes the size cap."""
        with suppress(ValueError):  # none announced (blank) or not a number: it is read and counted
            if (announced := int((length or "").strip())) > self._max_bytes:
                raise self._too_large(request, announced)

    def _too_large(self, request: ApiRequest, announced: int | None = None) -> CloudOSResponseTooLargeError:
        """The exception for an answer over the size cap, refused before it was read into memory."""
        limit = _megabytes(self._max_bytes)
        size = f"announced {_megabytes(announced)}" if announced is not None else f"more than {limit}"
        message = (
            f"CloudOS API answered {request.describe()} with a body too large to read ({size}, the limit "
            f"is {limit}); refused without reading it. A CloudOS answer is never this large: "
            "check the CloudOS URL, or raise the connection's max_response_mb extra"
        )
        return CloudOSResponseTooLargeError(message, endpoint=request.name)

    def _object(self, body: bytes, request: ApiRequest, *, empty: bool = False) -> dict[str, Any]:
        """The JSON object of a 2xx answer; ``{}`` for an empty one where ``empty`` allows it."""
        if empty and not body.strip():
            return {}
        parsed = decode_json(body, request, secrets=self._secrets)
        if not isinstance(parsed, dict):
            raise _unusable(request, f"with a JSON {type(parsed).__name__} where an object was expected")
        return parsed

    def _listed(self, body: bytes, request: ApiRequest) -> tuple[list[dict[str, Any]], int | None]:
        """The sessions of one listed page and the server's total (None when it gives none)."""
        payload = decode_json(body, request, secrets=self._secrets)
        return extract_items(payload, "sessions", request), extract_total(payload)

    # --- the calls both clients make: each returns its result, or (async client) an awaitable of it --

    def _call(self, request: ApiRequest, read: Reader | None, max_attempts: int | None) -> Any:
        """Send ``request`` (the client's ``_send``) and what ``read`` makes of its 2xx body (None
        without ``read``). Each client defines it: the blocking one returns the result, the async one
        is a coroutine."""
        raise NotImplementedError(f"{type(self).__name__} defines no _call")

    def get_session(
        self, session_id: str, workspace_id: str | None = None, *, max_attempts: int | None = None
    ) -> Any:
        """The session's object. ``max_attempts`` overrides the policy for one call (a trigger that
        tolerates transient errors between polls itself can pass 1)."""
        request = api.get_session(self._workspace(workspace_id), session_id)
        return self._call(request, self._object, max_attempts)

    def list_sessions(
        self,
        page: int = 1,
        limit: int = api.MAX_PAGE_SIZE,
        statuses: str | Iterable[str] | None = None,
        only_owner: bool = False,
        archived: bool | None = False,
        workspace_id: str | None = None,
        *,
        max_attempts: int | None = None,
    ) -> Any:
        """One page of sessions and the total count over all pages.

        ``statuses`` may be display names (``running``, ``paused``) or API names; each display
        name expands to every API spelling of it. When the server gives no count, the total is
        the number of sessions known so far (earlier pages plus this one).
        """

        def read(body: bytes, request: ApiRequest) -> tuple[list[dict[str, Any]], int]:
            sessions, total = self._listed(body, request)
            return sessions, ((page - 1) * limit + len(sessions) if total is None else total)

        workspace = self._workspace(workspace_id)
        return self._call(
            api.list_sessions(workspace, page, limit, statuses, only_owner, archived), read, max_attempts
        )

    def pause_session(
        self,
        session_id: str,
        upload_on_close: bool = True,
        force_abort: bool = False,
        workspace_id: str | None = None,
        *,
        max_attempts: int | None = None,
    ) -> Any:
        """Pause a session. An already paused one gives :class:`CloudOSStateError` (409).

        The exception's ``server_message`` says "aborted in aborted status"; callers that only
        want the session paused treat it as success.
        """
        request = api.abort_session(self._workspace(workspace_id), session_id, upload_on_close, force_abort)
        return self._call(request, None, max_attempts)

    #: The API's word for :meth:`pause_session` (deprecated: kept for callers written against it).
    abort_session = pause_session

    def resume_session(
        self,
        session_id: str,
        payload: dict[str, Any],
        workspace_id: str | None = None,
        *,
        max_attempts: int | None = None,
    ) -> Any:
        """Resume a paused session; the session object (empty when the server sends no body)."""
        request = api.resume_session(self._workspace(workspace_id), session_id, payload)
        return self._call(request, functools.partial(self._object, empty=True), max_attempts)
