"""How the fields of a ``cloudos`` Airflow connection become client settings.

Kept free of Airflow so the synchronous hook and the trigger's asynchronous path (which reads
the connection with Airflow's async API) parse a connection the same way, and so it can be
tested without a metadata database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from airflow_provider_cloudos.client.api import redact_credentials
from airflow_provider_cloudos.client.transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_REQUESTS_PER_SECOND,
    RetryPolicy,
    check_no_proxy,
    check_proxy_url,
    check_rate,
)
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.formatters import normalize_base_url, shown_url
from airflow_provider_cloudos.core.spec import is_unset, parse_bool, parse_duration_seconds, require_number


@dataclass(frozen=True)
class ClientSettings:
    """Everything needed to build a client; ``repr`` never shows the API key or proxy credentials."""

    base_url: str
    api_key: str = field(repr=False)
    workspace_id: str | None
    verify: bool | str = True
    proxy: str | None = field(default=None, repr=False)
    no_proxy: str | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    #: Seconds between status checks for the tasks on this connection that set no interval of
    #: their own; None: each task's default. A fast server (the local simulator) is polled often
    #: without writing a test-only interval into every DAG file.
    poll_interval: float | None = None
    #: Requests a second the tasks on this connection may send from one triggerer (``client.transport``).
    max_requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    #: The connection's host named no scheme and none was given elsewhere, so ``https://`` was put
    #: in front of it: worth telling, since a server that speaks plain HTTP then looks unreachable.
    assumed_https: bool = False

    def __repr__(self) -> str:
        # Left out: the key, and a flag only the hook reads.
        unshown = ("api_key", "assumed_https")
        shown = {item.name: getattr(self, item.name) for item in fields(self) if item.name not in unshown}
        shown["proxy"] = None if self.proxy is None else redact_credentials(self.proxy)
        return f"ClientSettings({', '.join(f'{name}={value!r}' for name, value in shown.items())})"


def _max_response_bytes(value: Any) -> int:
    """The ``max_response_mb`` extra, in bytes: a number of MB above 0 from JSON or a form's text field."""
    if value is None:
        return DEFAULT_MAX_RESPONSE_BYTES
    what = "the largest answer to accept, in MB, greater than 0"
    number = require_number(value, "max_response_mb", what)
    if number <= 0:
        raise CloudOSValidationError("max_response_mb", value, f"expected {what}")
    return max(1, int(number * 1_048_576))


def _retry_limit(value: Any) -> int:
    """Retries after the first attempt, a whole number from JSON or a form's text field."""
    text = value.strip() if isinstance(value, str) else value
    if (isinstance(text, str) and text.isdecimal()) or (isinstance(text, float) and text.is_integer()):
        text = int(text)
    if isinstance(text, bool) or not isinstance(text, int) or text < 0:
        problem = "expected a whole number of retries after the first attempt, 0 or more"
        raise CloudOSValidationError("retry_limit", value, problem)
    return text


def settings_from_connection(
    *,
    conn_id: str,
    host: str | None,
    password: str | None,
    port: int | None = None,
    schema: str | None = None,
    extra: Mapping[str, Any] | None = None,
    conn_type: str = "cloudos",
    workspace_id: str | None = None,
) -> ClientSettings:
    """Turn a connection's fields into :class:`ClientSettings`.

    ``host`` may be a full URL (``https://cloudos.example.org``), a bare host name, or empty (the
    public CloudOS). A ``port`` is added when the host names none; ``schema`` (``http``/``https``)
    picks the scheme of a bare host, which is how a URI-style connection
    (``cloudos://:KEY@127.0.0.1:8080?...``) reaches a plain-HTTP simulator. ``workspace_id``
    given here (an operator argument) wins over the connection's extra.
    """
    extra = dict(extra or {})

    def read(name: str, default: Any = None) -> Any:
        """An extra field, also under the ``extra__<type>__<name>`` key older UIs wrote; ``default``
        when unset."""
        keys = (name, f"extra__{conn_type}__{name}")
        return next((extra[key] for key in keys if not is_unset(extra.get(key))), default)

    if not password:
        problem = "the CloudOS connection has no API key: put it in the connection's password field"
        raise CloudOSValidationError("password", f"<connection {conn_id!r}>", problem)
    raw_host = (host or "").strip()
    scheme = (schema or read("scheme") or "").strip().lower()
    assumed_https = bool(raw_host) and "://" not in raw_host and not scheme
    if raw_host and "://" not in raw_host:
        if scheme and scheme not in ("http", "https"):
            raise CloudOSValidationError("schema", scheme, "the connection scheme must be http or https")
        raw_host = f"{scheme or 'https'}://{raw_host}"
    base_url = normalize_base_url(raw_host)
    scheme_part, rest = base_url.split("://", 1)
    host_part, slash, path = rest.partition("/")
    if port and ":" not in host_part.rsplit("]", 1)[-1]:
        base_url = f"{scheme_part}://{host_part}:{int(port)}{slash}{path}".rstrip("/")
    verify_ssl = parse_bool(read("verify_ssl", True), "verify_ssl")  # JSON, a checkbox, text
    ssl_cert = read("ssl_cert")
    if ssl_cert is not None and not isinstance(ssl_cert, str):
        raise CloudOSValidationError("ssl_cert", ssl_cert, "expected a path to a CA bundle file")
    verify: bool | str = (ssl_cert.strip() if ssl_cert else True) if verify_ssl else False
    if is_unset(workspace_id):
        workspace_id = read("workspace_id")
    poll = read("poll_interval")
    default_policy = RetryPolicy()
    retry_delay = read("retry_delay", default_policy.backoff_base)
    rate = read("max_requests_per_second", DEFAULT_REQUESTS_PER_SECOND)  # JSON or a form's text field
    return ClientSettings(
        base_url=base_url,
        api_key=password,
        workspace_id=None if workspace_id is None else str(workspace_id).strip(),
        verify=verify,
        # The extras are checked in this order: a connection with several wrong names the first.
        request_timeout=parse_duration_seconds(
            read("request_timeout", DEFAULT_REQUEST_TIMEOUT), parameter="request_timeout"
        ),
        max_response_bytes=_max_response_bytes(read("max_response_mb")),
        proxy=check_proxy_url(read("proxy")),
        no_proxy=check_no_proxy(read("no_proxy")),
        # The connection's retry limit and delay; the rest stays the default. ``retry_delay`` is the
        # first backoff; the backoffs double from there, up to the default cap or the delay itself
        # when it is longer (a delay of 60 s must not be cut to 30).
        retry_policy=RetryPolicy(
            backoff_base=(
                delay := parse_duration_seconds(retry_delay, parameter="retry_delay", zero_allowed=True)
            ),
            max_attempts=_retry_limit(read("retry_limit", default_policy.max_attempts - 1)) + 1,
            backoff_max=max(default_policy.backoff_max, delay),
        ),
        assumed_https=assumed_https,
        poll_interval=None if poll is None else parse_duration_seconds(poll, parameter="poll_interval"),
        max_requests_per_second=check_rate(
            require_number(rate, "max_requests_per_second", "a number of requests a second")
        ),
    )


def assumed_https_warning(conn_id: str, base_url: str) -> str:
    """What to tell a user whose connection host has no scheme (see ``ClientSettings.assumed_https``)."""
    return (
        f"The CloudOS connection {conn_id!r} gives its host without http:// or https://, so https:// "
        f"was assumed: requests go to {shown_url(base_url)}. Write the scheme in the connection's host "
        "(or its scheme extra) to make this explicit; http:// is only for a local simulator or a "
        "private deployment"
    )


__all__ = ["ClientSettings", "assumed_https_warning", "settings_from_connection"]
