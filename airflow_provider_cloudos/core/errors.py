"""The provider's exceptions.

One small hierarchy shared by every layer, so that an operator can turn any failure into an
Airflow exception with a message a user can act on. Messages name the parameter and the bad
value (for validation) or the endpoint and the server's own words (for API errors). None of
them ever carries the API key: the key is not passed to any constructor here.

A value in a message reads as :func:`shown_value` shows it: messages end up in Airflow's task
logs, its UI and the tables of its command line, which read text in square brackets as markup and
drop it (``[variant]`` vanishes), so a list (or tuple) is shown in parentheses instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def shown_value(value: Any) -> str:
    """``value`` as a message shows it: ``('a', 'b')`` for a list or tuple, ``{'k': ('v')}`` for a
    mapping and ``{'a'}`` for a set (their items shown the same way), else its repr."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {shown_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(shown_value(item) for item in value) + ")"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(shown_value(item) for item in value) + "}"
    return repr(value)


class CloudOSError(Exception):
    """Root of every error raised by this provider's core and client."""


class CloudOSValidationError(CloudOSError, ValueError):
    """A user-supplied value is wrong; raised before any HTTP call.

    Keeps the parameter name and the offending value so callers (and tests) can tell exactly
    which input was refused.
    """

    def __init__(self, parameter: str, value: Any, problem: str) -> None:
        self.parameter = parameter
        self.value = value
        self.problem = problem
        super().__init__(f"Invalid {parameter}={shown_value(value)}: {problem}")


class CloudOSAPIError(CloudOSError):
    """The CloudOS API answered with an error status.

    ``status_code`` is None when no HTTP answer arrived (connection failures).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        endpoint: str | None = None,
        server_message: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.endpoint = endpoint
        self.server_message = server_message
        super().__init__(message)


class CloudOSAuthError(CloudOSAPIError):
    """401: the API key was refused."""


class CloudOSPermissionError(CloudOSAPIError):
    """403: the key is valid but has no access to that workspace."""


class CloudOSNotFoundError(CloudOSAPIError):
    """404: no such session, project, dataset or file."""


class CloudOSStateError(CloudOSAPIError):
    """400/409: the action does not fit the session's current state (or the payload)."""


class CloudOSTransientError(CloudOSAPIError):
    """429, 5xx or a connection failure that outlived every retry."""


class CloudOSDeadlineError(CloudOSTransientError):
    """A call ran out of the time its task had left (a sensor's or operator's ``timeout``, a
    trigger's ``end_time``, ``execution_timeout``), whatever the server was doing.

    Transient, because the server may well answer later; the task's own deadline logic decides
    what happens next (a sensor times out, a trigger reports the wait's end).
    """


class CloudOSResponseTooLargeError(CloudOSAPIError):
    """The answer was larger than the client's cap, and was refused before being read whole."""


class CloudOSSessionFailedError(CloudOSError):
    """A waited-for session reached a failure state (for example ``terminated``)."""

    def __init__(self, session_id: str, status: str, message: str) -> None:
        self.session_id = session_id
        self.status = status
        super().__init__(message)


class CloudOSWaitTimeoutError(CloudOSError):
    """A wait passed its deadline before the session reached the wanted status."""

    def __init__(self, session_id: str, last_status: str | None, waited_seconds: float, message: str) -> None:
        self.session_id = session_id
        self.last_status = last_status
        self.waited_seconds = waited_seconds
        super().__init__(message)


class CloudOSGuardError(CloudOSError):
    """A waited-for session reached its cost or runtime guard before the wanted status."""

    def __init__(self, session_id: str, reason: str, message: str) -> None:
        self.session_id = session_id
        self.reason = reason
        super().__init__(message)


class CloudOSResolutionError(CloudOSError, ValueError):
    """A project, dataset, file or folder named by the user does not exist (or is unusable)."""
