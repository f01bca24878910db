"""The session status model: one place that says what each API status means.

The API reports raw statuses (``ready``, ``aborted``, both ``initialising`` spellings, and on
some endpoints ``running``/``stopped``); people, the CLI and this provider's parameters speak
display statuses (``running``, ``paused``). The official client's watch loop compared the raw
status with display names and so never saw ``ready`` as done; here every waiter (the hook's
synchronous wait, the trigger, the sensor) maps first and then asks its
:meth:`~airflow_provider_cloudos.core.waiting.StatusWatch.observe`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from airflow_provider_cloudos.core.errors import CloudOSValidationError

SCHEDULED = "scheduled"
SETUP = "setup"
INITIALISING = "initialising"
RUNNING = "running"
STOPPING = "stopping"
PAUSED = "paused"
TERMINATED = "terminated"

#: Raw API status → display status. Both spellings of "initialising" and the alternative names
#: some endpoints use (``running``, ``stopped``) are included.
API_TO_DISPLAY: dict[str, str] = {
    "scheduled": SCHEDULED,
    "setup": SETUP,
    "initialising": INITIALISING,
    "initializing": INITIALISING,
    "ready": RUNNING,
    "running": RUNNING,
    "aborting": STOPPING,
    "aborted": PAUSED,
    "stopped": PAUSED,
    "terminated": TERMINATED,
}

#: Display status → the raw API names it covers; used for the list endpoint's ``status[]`` filter.
DISPLAY_TO_API: dict[str, tuple[str, ...]] = {
    display: tuple(api for api, shown in API_TO_DISPLAY.items() if shown == display)
    for display in dict.fromkeys(API_TO_DISPLAY.values())
}

DISPLAY_STATUSES: frozenset[str] = frozenset(DISPLAY_TO_API)
#: Still starting: a session here is billing or about to, and will become ``running``.
PRE_RUNNING_STATUSES: frozenset[str] = frozenset({SCHEDULED, SETUP, INITIALISING})
#: The statuses a wait can end in: a session stays in them until someone acts (it is running, or
#: paused, or gone). Not "terminal": a running session has settled, not finished. (The official
#: module calls this set ``TERMINAL_STATES``.)
SETTLED_STATUSES: frozenset[str] = frozenset({RUNNING, PAUSED, TERMINATED})
#: Statuses a waiter treats as failure unless the caller waits for them explicitly.
FAILURE_STATUSES: frozenset[str] = frozenset({TERMINATED})
#: Statuses in which the session exists and may cost money (anything but paused/terminated).
LIVE_STATUSES: frozenset[str] = frozenset({SCHEDULED, SETUP, INITIALISING, RUNNING, STOPPING})


def map_status(status: str | None) -> str:
    """Return the display status for a raw API status.

    Case and surrounding blanks are ignored. Unknown statuses are returned lower-cased rather
    than refused: a new server-side state must not crash a wait, it just never matches a target.
    """
    if status is None:
        return "unknown"
    key = str(status).strip().lower()
    return API_TO_DISPLAY.get(key, key)


def normalize_statuses(statuses: str | Iterable[str], parameter: str = "target_status") -> frozenset[str]:
    """Turn a user's status or statuses (display or API names) into display statuses.

    Accepts one string (comma-separated allowed) or an iterable; refuses unknown names and an
    empty selection, naming ``parameter`` in the error.
    """
    if isinstance(statuses, str):
        items = [part for part in (piece.strip() for piece in statuses.split(",")) if part]
    else:
        try:
            items = [str(piece).strip() for piece in statuses]
        except TypeError:
            raise CloudOSValidationError(
                parameter, statuses, "expected a status name or a list of status names"
            ) from None
    if not items:
        raise CloudOSValidationError(parameter, statuses, "at least one status is required")
    unknown = [item for item in items if map_status(item) not in DISPLAY_STATUSES]
    if unknown:
        raise CloudOSValidationError(
            parameter,
            unknown[0],
            f"unknown session status; expected one of {', '.join(sorted(DISPLAY_STATUSES))}",
        )
    return frozenset(map(map_status, items))


class WaitOutcome(enum.StrEnum):
    """What a single observation of a session means for a waiter."""

    REACHED = "reached"
    FAILED = "failed"
    WAITING = "waiting"


def api_statuses_for(display_statuses: Iterable[str]) -> list[str]:
    """Raw API names for display statuses, for the list endpoint's ``status[]`` filter."""
    names: list[str] = []
    for display in sorted({map_status(s) for s in display_statuses}):
        names.extend(DISPLAY_TO_API.get(display, (display,)))
    return names
