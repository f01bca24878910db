"""Reading the API's refusals that mean "already done".

Pausing a paused session and resuming a running one are refused by CloudOS (409/400), yet for
an idempotent operator they are the state the user asked for. Recognising them needs the
server's words, so the knowledge sits here once, next to the client.
"""

from __future__ import annotations

from airflow_provider_cloudos.core.errors import CloudOSAPIError, CloudOSStateError


def _text(error: CloudOSAPIError) -> str:
    return (error.server_message or str(error)).lower()


def is_already_paused_refusal(error: BaseException) -> bool:
    """True for the refusal of a pause on a session that is paused or being paused."""
    if not isinstance(error, CloudOSStateError):
        return False
    text = _text(error)
    return "aborted status" in text or "aborting status" in text


def is_not_resumable_refusal(error: BaseException) -> bool:
    """True for the refusal of a resume on a session that is not paused."""
    return isinstance(error, CloudOSStateError) and "not in a resumable status" in _text(error)


__all__ = ["is_already_paused_refusal", "is_not_resumable_refusal"]
