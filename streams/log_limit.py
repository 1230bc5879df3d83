"""A log filter that keeps an outage from flooding the log.

While Kafka is down aiokafka and Faust log the same few errors about a hundred times a second
(every reconnect attempt, every metadata refresh, every fetch). The filter lets the first
``burst`` records of each (logger, level, message template) through in every ``window_s``
seconds and swallows the rest; the first record after a window with swallowed ones says how
many were left out, so the count is never lost. Records below WARNING pass untouched.
"""
from __future__ import annotations

import logging
import time
from typing import Callable


class RepeatLimit(logging.Filter):
    def __init__(self, burst: int = 5, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[tuple, list] = {}  # key -> [window start, passed, swallowed]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        entry = self._seen.get(key)
        if entry is None or now - entry[0] >= self.window_s:
            swallowed = entry[2] if entry is not None else 0
            self._seen[key] = [now, 1, 0]
            if len(self._seen) > 10_000:  # templates are few; this only bounds a pathological case
                self._seen = {key: self._seen[key]}
            if swallowed:
                record.msg = f"{record.msg} [{swallowed} more like this in the last {self.window_s:.0f} s left out]"
            return True
        if entry[1] < self.burst:
            entry[1] += 1
            return True
        entry[2] += 1
        return False


def limit_repeats(logger: logging.Logger | None = None, **kwargs) -> RepeatLimit:
    """Install one :class:`RepeatLimit` on every handler of ``logger`` (the root by default)."""
    logger = logger or logging.getLogger()
    limit = RepeatLimit(**kwargs)
    for handler in logger.handlers:
        handler.addFilter(limit)
    return limit
