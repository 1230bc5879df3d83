"""Request limits: body size, a per-source token bucket, and the recently-seen id window."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Awaitable, Callable

DEFAULT_MAX_BODY = 1 << 20  # 1 MiB


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


async def read_body(receive: Callable[[], Awaitable[dict]], limit: int, declared: int | None) -> bytes:
    """The request body from an ASGI ``receive``, refusing more than ``limit`` bytes without
    reading them all (a declared Content-Length over the limit is refused at once)."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError("client went away")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; :meth:`take` returns 0 when allowed, else the
    seconds until one token is there (for Retry-After)."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.stamp = clock()
        self.lock = threading.Lock()

    def take(self, cost: float = 1.0) -> float:
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= cost:
                self.tokens -= cost
                return 0.0
            return (cost - self.tokens) / self.rate


class RateLimiter:
    """One bucket per source name."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}
        self.lock = threading.Lock()

    def check(self, source: str, rate: float, burst: float) -> int:
        """0 when the request may go on, else the Retry-After in whole seconds (>= 1)."""
        bucket = self.buckets.get(source)
        if bucket is None:
            with self.lock:
                bucket = self.buckets.setdefault(source, TokenBucket(rate, burst, self.clock))
        wait = bucket.take()
        return 0 if wait <= 0 else max(1, math.ceil(wait))


class RecentIds:
    """The (source, municipality, case_id, event_id) keys accepted lately: a bounded LRU with a
    time-to-live. A hint for the client only; the worker deduplicates authoritatively."""

    def __init__(self, capacity: int = 200_000, ttl_s: float = 24 * 3600,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.ttl = ttl_s
        self.clock = clock
        self.seen: OrderedDict[tuple, float] = OrderedDict()
        self.lock = threading.Lock()

    def __contains__(self, key: tuple) -> bool:
        with self.lock:
            stamp = self.seen.get(key)
            if stamp is None:
                return False
            if self.clock() - stamp > self.ttl:
                del self.seen[key]
                return False
            return True

    def add_all(self, keys: list[tuple]) -> None:
        now = self.clock()
        with self.lock:
            for key in keys:
                self.seen[key] = now
                self.seen.move_to_end(key)
            while len(self.seen) > self.capacity:
                self.seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self.seen)
