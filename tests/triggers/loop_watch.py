"""A detector of event-loop blocking, built on asyncio's debug mode.

In debug mode asyncio times every step it runs (a callback, or a task running up to its next
``await``) and logs ``Executing <step> took N seconds`` for each one longer than the loop's
``slow_callback_duration``. A blocking call inside a trigger (a sync HTTP request, a sync
connection lookup) holds its step for the whole round-trip, so against a simulator that answers
slowly it shows as a step at least as long as the answer, naming the coroutine that blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator


class _SlowSteps(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.steps: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Executing "):
            self.steps.append(message)


@contextlib.contextmanager
def slow_loop_steps(threshold: float) -> Iterator[list[str]]:
    """Inside an ``async`` test: collect every loop step that runs longer than ``threshold`` s."""
    loop = asyncio.get_running_loop()
    logger = logging.getLogger("asyncio")
    handler = _SlowSteps()
    saved = loop.get_debug(), loop.slow_callback_duration, logger.level, logger.disabled
    loop.set_debug(True)
    loop.slow_callback_duration = threshold
    logger.setLevel(logging.WARNING)
    logger.disabled = False
    logger.addHandler(handler)
    try:
        yield handler.steps
    finally:
        logger.removeHandler(handler)
        loop.set_debug(saved[0])
        loop.slow_callback_duration = saved[1]
        logger.setLevel(saved[2])
        logger.disabled = saved[3]
