"""Work a trigger must finish when its task is killed, even if Airflow cancels it again meanwhile.

Airflow 3.3's triggerer calls ``on_kill`` inside the cancelled trigger's task, and keeps sending
the same cancellation on every sync with its supervisor (about once a second) until the trigger
is gone; each one cancels whatever ``on_kill`` is awaiting, and Airflow swallows that
cancellation. A pause that needs a task-state query, a connection lookup and a request (more than
a second on a busy triggerer) was dropped half-way: the deployment soak saw a task marked failed
whose session was never paused. Older Airflow versions cancel a trigger's cleanup the same way on
shutdown. So the pause runs in a task of its own, shielded from the caller's cancellation and
referenced here until it ends: the caller may be cancelled, the pause is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

#: Kill-path work still running; a strong reference, so the event loop cannot drop a task whose
#: caller was cancelled.
_RUNNING: set[asyncio.Task[Any]] = set()


async def run_to_the_end(work: Coroutine[Any, Any, None]) -> None:
    """Await ``work`` in its own task that a cancellation of the caller does not reach."""
    task = asyncio.ensure_future(work)
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    await asyncio.shield(task)


async def wait_for_kill_paths() -> None:
    """Wait until every kill-path task has ended (tests; a triggerer shutting down)."""
    while _RUNNING:
        await asyncio.gather(*list(_RUNNING), return_exceptions=True)
