"""Why a request got no HTTP answer, in words a person can act on.

Both HTTP libraries wrap the socket's failure in layers of their own: ``requests`` raises a
``ConnectionError`` around urllib3's ``MaxRetryError`` around a ``NewConnectionError`` around
the socket's ``ConnectionRefusedError``; aiohttp a ``ClientConnectorError`` around it. Their
texts repeat the connection pool, object reprs and the full URL with its query (the workspace
id). What a user can act on sits at the bottom of that chain: the connection was refused, or
the host name does not resolve. This module finds it by following Python's own exception links,
without importing either library, so both transports report a failure the same way.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from airflow_provider_cloudos.core.formatters import shown_url

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
#: Errors of a host or network out of reach.
_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH})


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
        linked = [getattr(current, name, None) for name in _LINKS]
        linked += list(getattr(current, "args", ()))
        if not current.__suppress_context__:
            linked.append(current.__context__)
        pending.extend(item for item in linked if isinstance(item, BaseException))


def _through_proxy(chain: list[BaseException]) -> bool:
    """Whether a library said the failure was the proxy's (``requests``/urllib3 ``ProxyError``,
    aiohttp ``ClientProxyConnectionError``); recognised by name, to import neither library."""
    return any("Proxy" in cls.__name__ for error in chain for cls in type(error).__mro__)


def _plain(error: BaseException) -> str:
    """``Type: text`` of the innermost failure, with an OS error's words rather than its
    ``[Errno N]`` prefix (square brackets are eaten by Airflow's CLI tables)."""
    strerror = getattr(error, "strerror", None)
    text = strerror if isinstance(strerror, str) and strerror else str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _is_timeout(chain: list[BaseException]) -> bool:
    return any(isinstance(item, TimeoutError) for item in chain)


def _connect_timed_out(chain: list[BaseException]) -> bool:
    """A timeout while connecting (urllib3 ``ConnectTimeoutError``, aiohttp
    ``ConnectionTimeoutError``), recognised by name like the proxy errors."""
    named = any(
        "ConnectTimeout" in cls.__name__ or "ConnectionTimeout" in cls.__name__
        for item in chain
        for cls in type(item).__mro__
    )
    return named and _is_timeout(chain)


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
    if (refused or unresolved) and _through_proxy(chain):
        what = "refused the connection" if refused else "has a host name that could not be resolved"
        return NoAnswer(f"the proxy {what}", CHECK_THE_PROXY)
    where = shown_url(base_url) if base_url else "the CloudOS server"
    if refused:
        return NoAnswer(f"connection refused by {where}", CHECK_THE_URL)
    if unresolved:
        return NoAnswer(f"the host name of {where} could not be resolved", CHECK_THE_URL)
    if errnos & _NO_ROUTE:
        return NoAnswer(f"no network route to {where}", CHECK_THE_URL)
    if _connect_timed_out(chain):
        return NoAnswer(f"no connection to {where} within the connect timeout", CHECK_THE_URL)
    if len(chain) == 1:
        return NoAnswer(_plain(error))
    builtin = [item for item in chain if isinstance(item, OSError) and type(item).__module__ in _PLAIN]
    return NoAnswer(_plain(builtin[-1] if builtin else chain[-1]))


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
    builtin = [item for item in chain if isinstance(item, OSError) and type(item).__module__ in _PLAIN]
    return _plain(builtin[-1] if builtin else chain[-1])


__all__ = ["CHECK_THE_PROXY", "CHECK_THE_URL", "NoAnswer", "explain_no_answer", "failure_chain", "tls_reason"]
