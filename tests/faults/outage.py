"""Taking a service of the local stack away and bringing it back where it was (same port, same
data), as a crash and a restart by the operator or systemd would."""
from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from typing import Iterator

from services.stack import up_stack
from services.stack.state import pid_alive, read_stack


@contextmanager
def service_down(name: str, seconds: float) -> Iterator[dict]:
    """SIGKILL ``name`` (``kafka`` or ``redis``), keep it down ``seconds`` (the body runs
    meanwhile), then start it again on its data; fails unless it is back on the same port."""
    before = read_stack()[name]
    os.kill(int(before["pid"]), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(before["pid"], before.get("marker")) and time.monotonic() < deadline:
        time.sleep(0.05)
    down_at = time.monotonic()
    yield before
    time.sleep(max(0.0, seconds - (time.monotonic() - down_at)))
    after = up_stack(with_monitoring=False, install=False)[name]
    assert after["port"] == before["port"], f"{name} came back on port {after['port']}, was {before['port']}"
