"""Failed local logins, counted per client address and per user name, so that passwords cannot
be guessed at the speed the server answers.

Past the limit a login is refused (429) before its password is checked: argon2 with its 64 MiB
and tens of milliseconds is also the most expensive thing an anonymous client can make the
editor do, and it runs on the event loop. A success clears the name's count. The per-name
limit is higher than the per-address one, so that one guesser cannot lock a colleague out
for long; both windows slide, so a refused client may try again after ``window_s``.
Memory is bounded: at most ``max_keys`` addresses and names are remembered (oldest dropped).
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Callable

MAX_FAILURES_PER_CLIENT = 10
MAX_FAILURES_PER_NAME = 20
WINDOW_S = 15 * 60


class LoginThrottle:
    def __init__(self, per_client: int = MAX_FAILURES_PER_CLIENT, per_name: int = MAX_FAILURES_PER_NAME,
                 window_s: float = WINDOW_S, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"client": per_client, "name": per_name}
        self.window = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        stamps = self._failures.get(key)
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, client: str, name: str) -> int:
        """0 when a login from ``client`` as ``name`` may be tried now, else the seconds to wait."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in (("client", client), ("name", name.casefold())):
                stamps = self._recent(key, now)
                if stamps and len(stamps) >= self.limits[key[0]]:
                    wait = max(wait, stamps[0] + self.window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, client: str, name: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (("client", client), ("name", name.casefold())):
                stamps = self._recent(key, now)
                if stamps is None:
                    stamps = self._failures[key] = deque()
                stamps.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", name.casefold()), None)
