"""Failed authentication per client address: a token bucket of ``per_minute`` failures (burst
the same), and one audit line per address and window for the requests refused beyond it.

Only failures take tokens: a valid bearer token is served whatever its address's bucket holds
(the per-source limits still apply), so a stale client left on a rotated-out token, or anyone
sharing a NAT or proxy address, cannot lock valid sources out. Within the bucket each failure
gets its 401 and its own audit line; beyond it the answer is 429 with Retry-After and no line of
its own: the refusals are counted and :meth:`due` hands out one summary per address per window.

Memory is bounded: at most ``capacity`` addresses are tracked, the least recently failing one
evicted first (its pending count handed out as a summary, never dropped). IPv6 addresses count
per /64, the block one host usually holds, so rotating through it buys no new bucket.
"""
from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

DEFAULT_AUTH_FAILURES_PER_MINUTE = 20
DEFAULT_TRACKED_ADDRESSES = 10_000  # about 150 bytes each
SUMMARY_WINDOW_S = 60.0


def address_key(host: str | None) -> str:
    """The bucket an address falls in: an IPv4 address itself, an IPv6 address its /64."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass
class _Address:
    tokens: float
    stamp: float
    refused: int = 0  # refused since the last summary
    window_start: float = 0.0  # when the first of those was refused


@dataclass(frozen=True)
class RefusedSummary:
    client: str
    refused: int
    window_s: int


class AuthFailureLimiter:
    def __init__(self, per_minute: int = DEFAULT_AUTH_FAILURES_PER_MINUTE,
                 capacity: int = DEFAULT_TRACKED_ADDRESSES, window_s: float = SUMMARY_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1 or capacity < 1:
            raise ValueError("per_minute and capacity must be at least 1")
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.capacity = capacity
        self.window = window_s
        self.clock = clock
        self.addresses: OrderedDict[str, _Address] = OrderedDict()
        self.evicted: list[RefusedSummary] = []
        self.lock = threading.Lock()
        self.last_sweep = clock()

    def _refill(self, state: _Address, now: float) -> None:
        state.tokens = min(self.burst, state.tokens + (now - state.stamp) * self.rate)
        state.stamp = now

    def retry_after(self, key: str) -> int:
        """0 when a failure from ``key`` would still get its 401 now (nothing is taken), else the
        whole seconds until it would (>= 1)."""
        with self.lock:
            state = self.addresses.get(key)
            if state is None:
                return 0
            self._refill(state, self.clock())
            return 0 if state.tokens >= 1 else max(1, math.ceil((1 - state.tokens) / self.rate))

    def failed(self, key: str) -> None:
        """A request from ``key`` failed authentication and was answered 401: take a token."""
        with self.lock:
            now = self.clock()
            state = self.addresses.get(key)
            if state is None:
                state = self.addresses[key] = _Address(self.burst, now)
                while len(self.addresses) > self.capacity:
                    old_key, old = self.addresses.popitem(last=False)
                    if old.refused:
                        self.evicted.append(RefusedSummary(old_key, old.refused, self._span(old, now)))
            else:
                self._refill(state, now)
                self.addresses.move_to_end(key)
            state.tokens = max(0.0, state.tokens - 1)

    def refused(self, key: str) -> None:
        """A request from ``key`` failed beyond the limit and was answered 429: count it."""
        with self.lock:
            state = self.addresses.get(key)
            if state is None:  # evicted in between: the count is all that matters
                state = self.addresses[key] = _Address(0.0, self.clock())
            if not state.refused:
                state.window_start = self.clock()
            state.refused += 1

    def due(self) -> list[RefusedSummary]:
        """Summaries to write now: every address whose window of refusals has ended, and every
        evicted address that had refusals pending. Cheap between sweeps (once a window)."""
        with self.lock:
            now = self.clock()
            out, self.evicted = self.evicted, []
            if now - self.last_sweep < min(self.window, 1.0) and not out:
                return out
            self.last_sweep = now
            for key, state in self.addresses.items():
                if state.refused and now - state.window_start >= self.window:
                    out.append(RefusedSummary(key, state.refused, self._span(state, now)))
                    state.refused = 0
            return out

    def _span(self, state: _Address, now: float) -> int:
        return max(1, round(now - state.window_start))

    def __len__(self) -> int:
        return len(self.addresses)
