"""Request limits: body size, events per request, per-source token buckets (requests and
events), the time a client may take, and the recently-seen id window.

What bounds the service's memory under a flood: at most ``limit_concurrency`` requests in
flight (uvicorn answers 503 beyond), each body at most ``max_body`` bytes read under a deadline,
at most ``max_events`` events parsed from it (a longer array or NDJSON body is refused 413 after
counting, before any event is validated or a dead letter written), so an answer lists at most
``max_events`` outcomes."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Awaitable, Callable

DEFAULT_MAX_BODY = 1 << 20  # 1 MiB
DEFAULT_MAX_EVENTS = 5000  # per request: ~200 B each fills the 1 MiB body
DEFAULT_BODY_TIMEOUT_S = 30.0  # the whole body must arrive within this
DEFAULT_HEADER_TIMEOUT_S = 10.0  # the request line and headers must arrive within this
DEFAULT_IDLE_TIMEOUT_S = 5.0  # a kept-alive connection with no new request is closed
DEFAULT_MAX_CONNECTIONS = 256  # uvicorn's limit_concurrency: 503 beyond
MAX_HEADER_BYTES = 16 * 1024


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

    def check(self, source: str, rate: float, burst: float, cost: float = 1.0) -> int:
        """0 when the request may go on (``cost`` tokens are taken), else the Retry-After in
        whole seconds (>= 1). A cost above ``burst`` can never be paid: the caller refuses such a
        request (413), never caps its cost, which would sell it for less than it costs."""
        bucket = self.buckets.get(source)
        if bucket is None:
            with self.lock:
                bucket = self.buckets.setdefault(source, TokenBucket(rate, burst, self.clock))
        wait = bucket.take(cost)
        return 0 if wait <= 0 else max(1, math.ceil(wait))

    def available(self, source: str, rate: float, burst: float) -> bool:
        """Whether ``source``'s bucket holds at least one token now (nothing is taken)."""
        bucket = self.buckets.get(source)
        if bucket is None:
            return True
        with bucket.lock:
            return bucket.tokens + (bucket.clock() - bucket.stamp) * bucket.rate >= 1


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
