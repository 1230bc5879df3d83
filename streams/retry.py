"""Retrying a call to a service that is away for a moment (Redis, Kafka), without losing work."""
from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any, Awaitable, Callable

log = logging.getLogger("casewatch.worker")


async def until_it_answers(attempt: Callable[[], Awaitable[Any]], errors: Any, what: str, *,
                           first_delay: float, max_delay: float, log_every: int) -> Any:
    """``await attempt()`` until it does not raise one of ``errors``, backing off exponentially
    and logging the first failure and every ``log_every``-th."""
    delay = first_delay
    for n in itertools.count(1):
        try:
            return await attempt()
        except errors as exc:
            if n == 1 or n % log_every == 0:
                log.warning("%s failed (%s: %s); retrying (attempt %d)", what, type(exc).__name__, exc, n)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
