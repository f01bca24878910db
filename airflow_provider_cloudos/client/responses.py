"""Reading CloudOS answers: status codes to typed exceptions, bodies to Python values.

Both transports hand their raw status and body here, so a given answer produces the same
exception with the same message whichever client received it. Messages name the request
(``METHOD /path``, never the query or headers), the status and the server's own ``message``;
any text that could echo the API key passes through :func:`redact` first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from airflow_provider_cloudos.client.deadline import Deadline
from airflow_provider_cloudos.client.endpoints import ApiRequest
from airflow_provider_cloudos.client.network import redact_credentials
from airflow_provider_cloudos.client.retry import is_retryable_status
from airflow_provider_cloudos.client.unreachable import explain_no_answer, tls_reason
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSAuthError,
    CloudOSDeadlineError,
    CloudOSNotFoundError,
    CloudOSPermissionError,
    CloudOSResponseTooLargeError,
    CloudOSStateError,
    CloudOSTransientError,
)

REDACTED = "***"
_MAX_SERVER_MESSAGE = 500
_MAX_SNIPPET = 120
_NOT_RETRIED = (
    "Not retried, because repeating it could start a second session; it may have been "
    "created anyway, and a re-run looks for it before creating another"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every non-empty secret, and the credentials of any URL, replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return redact_credentials(text)


def _text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body


def server_message(body: bytes | str | None) -> str | None:
    """The server's explanation: ``message`` (or ``error``) of a JSON body, else short plain text.

    HTML pages (from proxies and load balancers) are ignored: they explain nothing a user can
    act on and would drown the message.
    """
    text = _text(body).strip()
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        if text.startswith("<") or len(text) > _MAX_SERVER_MESSAGE:
            return None
        return text
    if isinstance(parsed, dict):
        for key in ("message", "error", "detail"):
            value = parsed.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:_MAX_SERVER_MESSAGE]
    return None


def _workspace(request: ApiRequest) -> str:
    return next((value for key, value in request.params if key == "teamId"), "?")


def _hint(status_code: int, request: ApiRequest) -> str:
    if status_code == 401:
        return "check the API key in the Airflow connection"
    if status_code == 403:
        return (
            f"the API key has no permission in workspace {_workspace(request)}; "
            "check the workspace id and the key's access to it"
        )
    if status_code == 404:
        what = "session" if request.name in ("get", "abort", "resume") else "resource"
        return f"no such {what} in workspace {_workspace(request)}; check the id and the workspace"
    if status_code in (400, 409):
        if request.name == "create":
            return "the server refused the session configuration"
        return "the action does not fit the current state of the session"
    if 300 <= status_code < 400:
        return "the server redirected the request; check the CloudOS URL (scheme and host) in the connection"
    if status_code == 429:
        return "CloudOS is limiting the rate of requests; try again later"
    if is_retryable_status(status_code):
        if not request.idempotent:
            return (
                "not retried, because repeating it could start a second session; it may have been "
                "created anyway, and a re-run looks for it before creating another"
            )
        return "the service is busy or failing; try again later"
    return "unexpected answer from the server"


def _error_class(status_code: int) -> type[CloudOSAPIError]:
    if status_code == 401:
        return CloudOSAuthError
    if status_code == 403:
        return CloudOSPermissionError
    if status_code == 404:
        return CloudOSNotFoundError
    if status_code in (400, 409):
        return CloudOSStateError
    if is_retryable_status(status_code):
        return CloudOSTransientError
    return CloudOSAPIError


def _phrase(status_code: int) -> str:
    try:
        return f"{status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return str(status_code)


def _attempts(attempts: int) -> str:
    return f" after {attempts} attempts" if attempts > 1 else ""


def raise_for_status(
    status_code: int,
    body: bytes | str | None,
    request: ApiRequest,
    *,
    attempts: int = 1,
    secrets: Iterable[str] = (),
) -> None:
    """Return quietly for 2xx; raise the matching :class:`CloudOSAPIError` subclass otherwise."""
    if 200 <= status_code < 300:
        return
    said = server_message(body)
    message = (
        f"CloudOS API refused {request.describe()} ({_phrase(status_code)}){_attempts(attempts)}: "
        f"{_hint(status_code, request)}"
    )
    if said:
        message += f". Server said: {said}"
    secrets = tuple(secrets)
    raise _error_class(status_code)(
        redact(message, secrets),
        status_code=status_code,
        endpoint=request.name,
        server_message=redact(said, secrets) if said else None,
    )


def connection_error(
    request: ApiRequest,
    error: BaseException,
    *,
    attempts: int = 1,
    secrets: Iterable[str] = (),
    base_url: str | None = None,
) -> CloudOSTransientError:
    """The exception for a request that got no HTTP answer at all (refused, reset, timed out).

    Says why in plain words and what to check (:func:`~.unreachable.explain_no_answer`), never
    the HTTP library's own text (its pool, object reprs and the URL with its query).
    """
    detail = explain_no_answer(error, base_url).detail()
    message = f"CloudOS API unreachable for {request.describe()}{_attempts(attempts)}: {detail}"
    if not request.idempotent:
        message += f". {_NOT_RETRIED}"
    return CloudOSTransientError(redact(message, secrets), status_code=None, endpoint=request.name)


def tls_error(request: ApiRequest, error: BaseException, *, secrets: Iterable[str] = ()) -> CloudOSAPIError:
    """The exception for a failed TLS handshake; retrying cannot fix a certificate."""
    message = (
        f"CloudOS API TLS handshake failed for {request.describe()}: {tls_reason(error)}. "
        "Check the CloudOS URL and the connection's SSL verification setting (or CA bundle path)"
    )
    return CloudOSAPIError(redact(message, secrets), status_code=None, endpoint=request.name)


def request_error(
    request: ApiRequest, error: BaseException, *, secrets: Iterable[str] = ()
) -> CloudOSAPIError:
    """The exception for a request the HTTP library could not even send (bad URL, bad header)."""
    message = f"CloudOS API request {request.describe()} could not be sent: {type(error).__name__}: {error}"
    return CloudOSAPIError(redact(message, secrets), status_code=None, endpoint=request.name)


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 100_000 else f"{size} bytes"


def too_large_error(
    request: ApiRequest, limit: int, *, announced: int | None = None
) -> CloudOSResponseTooLargeError:
    """The exception for an answer over the size cap, refused before it was read into memory."""
    size = f"announced {_megabytes(announced)}" if announced is not None else f"more than {_megabytes(limit)}"
    message = (
        f"CloudOS API answered {request.describe()} with a body too large to read ({size}, the limit "
        f"is {_megabytes(limit)}); refused without reading it. A CloudOS answer is never this large: "
        "check the CloudOS URL, or raise the connection's max_response_mb extra"
    )
    return CloudOSResponseTooLargeError(message, endpoint=request.name)


def deadline_error(
    request: ApiRequest,
    deadline: Deadline,
    *,
    attempts: int,
    elapsed: float,
    last_failure: str | None = None,
    secrets: Iterable[str] = (),
) -> CloudOSDeadlineError:
    """The exception for a call stopped because its task's deadline was reached.

    Says which call, how long it ran (and how many attempts it made) and whose deadline it was.
    """
    if attempts == 0:
        message = (
            f"CloudOS API {request.describe()} not sent: the deadline of {deadline.source} was "
            "already reached"
        )
    else:
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        message = (
            f"CloudOS API {request.describe()} stopped after {elapsed:.1f}s ({tries}): the deadline "
            f"of {deadline.source} was reached"
        )
    if last_failure:
        message += f"; last failure: {last_failure}"
    if attempts and not request.idempotent:
        message += f". {_NOT_RETRIED}"
    return CloudOSDeadlineError(redact(message, secrets), status_code=None, endpoint=request.name)


def decode_json(body: bytes | str | None, request: ApiRequest, *, secrets: Iterable[str] = ()) -> Any:
    """Parse a JSON body, or raise a :class:`CloudOSAPIError` saying the answer was not JSON.

    A non-JSON 200 usually means the URL points at a web page rather than the API.
    """
    text = _text(body)
    if not text.strip():
        raise CloudOSAPIError(
            f"CloudOS API answered {request.describe()} with an empty body where JSON was expected",
            endpoint=request.name,
        )
    try:
        return json.loads(text)
    except ValueError:
        snippet = text.strip()[:_MAX_SNIPPET]
        message = (
            f"CloudOS API answered {request.describe()} with a body that is not JSON ({snippet!r}); "
            "check that the CloudOS URL points at the API"
        )
        raise CloudOSAPIError(redact(message, secrets), endpoint=request.name) from None


def decode_json_object(
    body: bytes | str | None, request: ApiRequest, *, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """Like :func:`decode_json`, but the answer must be a JSON object."""
    parsed = decode_json(body, request, secrets=secrets)
    if not isinstance(parsed, dict):
        raise CloudOSAPIError(
            f"CloudOS API answered {request.describe()} with a JSON {type(parsed).__name__} "
            "where an object was expected",
            endpoint=request.name,
        )
    return parsed


def extract_items(payload: Any, key: str, request: ApiRequest) -> list[dict[str, Any]]:
    """The list under ``key`` (``sessions``, ``projects``, ``datasets``); a bare list is accepted.

    Entries that are not objects are dropped: one odd entry must not hide the others.
    """
    items = payload.get(key) if isinstance(payload, dict) else payload
    if items is None and isinstance(payload, dict):
        items = []
    if not isinstance(items, list):
        raise CloudOSAPIError(
            f"CloudOS API answered {request.describe()} without a {key!r} list",
            endpoint=request.name,
        )
    return [item for item in items if isinstance(item, dict)]


def extract_sessions(payload: Any, request: ApiRequest) -> list[dict[str, Any]]:
    """The ``sessions`` of a list answer."""
    return extract_items(payload, "sessions", request)


def extract_total(payload: Any) -> int | None:
    """``paginationMetadata["Pagination-Count"]`` of a list answer, or None when absent or odd."""
    if not isinstance(payload, dict):
        return None
    metadata = payload.get("paginationMetadata")
    if not isinstance(metadata, dict):
        return None
    count = metadata.get("Pagination-Count")
    if isinstance(count, bool):
        return None
    try:
        total = int(count)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return total if total >= 0 else None


def list_page(payload: Any, request: ApiRequest) -> tuple[list[dict[str, Any]], int | None]:
    """A list answer's sessions and total count (None when the server did not say)."""
    return extract_sessions(payload, request), extract_total(payload)


__all__ = [
    "REDACTED",
    "connection_error",
    "deadline_error",
    "decode_json",
    "decode_json_object",
    "extract_items",
    "extract_sessions",
    "extract_total",
    "list_page",
    "raise_for_status",
    "redact",
    "request_error",
    "server_message",
    "tls_error",
    "too_large_error",
]
