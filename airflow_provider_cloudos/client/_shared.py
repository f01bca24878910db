"""What the synchronous and asynchronous clients set up the same way.

Headers, the checks on the key and the workspace, the status filter and the redaction of the
key from text: one place, so that the two transports stay thin and cannot disagree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from airflow_provider_cloudos.client.network import redact_credentials
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.status import api_statuses_for, normalize_statuses
from airflow_provider_cloudos.version import __version__

DEFAULT_USER_AGENT = f"airflow-provider-cloudos/{__version__}"
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
        self.seconds = seconds
        super().__init__(f"no complete answer within {seconds:g}s (the total time allowed for one attempt)")


def check_seconds(value: object, parameter: str) -> float:
    """A number of seconds greater than 0, refused by name otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise CloudOSValidationError(parameter, value, "expected a number of seconds greater than 0")
    return float(value)


def check_max_bytes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CloudOSValidationError("max_response_bytes", value, "expected a number of bytes of at least 1")
    return value


def announced_length(value: str | None) -> int | None:
    """The ``Content-Length`` a server announced, or None when absent or unreadable."""
    if value is None:
        return None
    try:
        length = int(value.strip())
    except ValueError:
        return None
    return length if length >= 0 else None


def clean_api_key(api_key: str) -> str:
    """The key without surrounding blanks; refused (without echoing it) when unusable.

    A key with a line break or control character inside would make the HTTP library raise an
    error quoting the header value, so it is refused here, where the message can stay silent
    about it.
    """
    if not isinstance(api_key, str) or not api_key.strip():
        raise CloudOSValidationError("api_key", "", "an API key is required")
    key = api_key.strip()
    if not key.isprintable():
        raise CloudOSValidationError(
            "api_key", "<redacted>", "the API key contains line breaks or control characters"
        )
    return key


def clean_workspace_id(workspace_id: str | None) -> str | None:
    if workspace_id is None:
        return None
    if not isinstance(workspace_id, str):
        raise CloudOSValidationError(
            "workspace_id", workspace_id, f"expected a string, got {type(workspace_id).__name__}"
        )
    return workspace_id.strip() or None


def resolve_workspace_id(given: str | None, default: str | None) -> str:
    """The workspace of one call: the one passed in, else the client's; one is required."""
    workspace = clean_workspace_id(given) or default
    if not workspace:
        raise CloudOSValidationError(
            "workspace_id",
            given,
            "no workspace id given to the call or to the client; set it in the connection",
        )
    return workspace


def build_headers(api_key: str, user_agent: str | None) -> dict[str, str]:
    return {
        "apikey": api_key,
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": user_agent or DEFAULT_USER_AGENT,
    }


def api_status_filter(statuses: str | Iterable[str] | None) -> list[str] | None:
    """API names for the ``status[]`` filter from display or API names; None or empty: no filter."""
    if statuses is None:
        return None
    if not isinstance(statuses, str):
        statuses = list(statuses)
    if not statuses:
        return None
    return api_statuses_for(normalize_statuses(statuses, "statuses"))


def client_repr(kind: str, base_url: str, workspace_id: str | None, proxy: str | None = None) -> str:
    """The repr of a client: where it points (and through which proxy, without its credentials),
    never what it authenticates with."""
    shown = f"{kind}(base_url={base_url!r}, workspace_id={workspace_id!r}"
    if proxy is not None:
        shown += f", proxy={redact_credentials(proxy)!r}"
    return shown + ")"


def check_verify(verify: bool | str) -> bool | str:
    """TLS verification: True, False, or the path of a CA bundle file (or directory).

    A missing bundle is refused now, by name, rather than at the first request where the HTTP
    library reports it in its own terms.
    """
    if isinstance(verify, bool):
        return verify
    if not isinstance(verify, str) or not verify.strip():
        raise CloudOSValidationError(
            "verify", verify, "expected True, False or the path of a CA bundle file or directory"
        )
    path = verify.strip()
    if not os.path.exists(path):
        raise CloudOSValidationError("verify", verify, "no CA bundle file or directory at this path")
    return path


def safe_cause(error: BaseException, secrets: Iterable[str]) -> BaseException | None:
    """``error`` to chain as the cause, or None when its text would reveal a secret (the API key,
    a proxy password, or any URL's credentials)."""
    text = str(error)
    if redact_credentials(text) != text:
        return None
    return None if any(secret and secret in text for secret in secrets) else error
