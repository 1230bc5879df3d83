"""State of the local stack: where it lives, what runs, and small process helpers.

The state dir is ``$CASEWATCH_STACK_DIR`` or ``<repo>/.stack/``.  ``stack.json`` in it
records every service that ``casewatch stack up`` started::

    {"kafka": {"bootstrap": "127.0.0.1:P", "pid": N, ...},
     "redis": {"url": "redis://127.0.0.1:P/0", "pid": N, ...},
     "prometheus": {"url": "http://127.0.0.1:P", "pid": N, ...},
     "alertmanager": {"url": "http://127.0.0.1:P", "pid": N, ...}}
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

HOST = "127.0.0.1"  # the only address anything in the stack ever binds
REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_FILE = "stack.json"


class StackError(RuntimeError):
    """A service of the local stack could not be installed, started or reached."""


def log(msg: str) -> None:
    """Progress output: always stderr, so stdout stays machine-readable."""
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


def stack_dir() -> Path:
    env = os.environ.get("CASEWATCH_STACK_DIR")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".stack"


def stack_file(base: Path | None = None) -> Path:
    return (base or stack_dir()) / STACK_FILE


def read_stack(base: Path | None = None) -> dict:
    """The recorded stack (``{}`` when nothing was started). Does not check liveness."""
    path = stack_file(base)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError:
        log(f"ignoring unreadable {path}")
        return {}


def write_stack(data: dict, base: Path | None = None) -> None:
    path = stack_file(base)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


@contextlib.contextmanager
def stack_lock(base: Path | None = None) -> Iterator[None]:
    """Serialise ``up``/``down`` between processes (two test sessions, two shells)."""
    base = base or stack_dir()
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- ports


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (bind to port 0, read, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_is_free(port: int | None) -> bool:
    if not port:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # like the servers themselves: a port whose old connections linger in TIME_WAIT
        # is free to listen on again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, int(port)))
        except OSError:
            return False
        return True


def reuse_or_free_port(previous: int | None) -> int:
    """Keep a service on its previous port when that is still free, else pick a new one."""
    return int(previous) if port_is_free(previous) else free_port()


# ----------------------------------------------------------------------- processes


def pid_alive(pid: int | None, marker: str | None = None) -> bool:
    """True when ``pid`` runs (not a zombie) and, if given, its command line holds ``marker``.

    The marker (a path inside the state dir) guards against a recycled pid.
    """
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    proc = Path(f"/proc/{int(pid)}")
    try:
        stat = (proc / "stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
        if marker is not None:
            # redis-server rewrites its command line (process title), so the working
            # directory, which spawn() sets to the service's own dir, counts as well
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if marker in cmdline:
                return True
            try:
                cwd = os.readlink(proc / "cwd")
            except OSError:
                return False
            return cwd == marker or marker.startswith(cwd + "/")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return True


def spawn(cmd: list[str], log_file: Path, cwd: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    """Start a long-running service detached from our session, output to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as out:
        return subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(cwd) if cwd else None,
            env=env,
            start_new_session=True,  # survives the CLI that started it; no Ctrl-C propagation
            close_fds=True,
        )


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop_pid(pid: int | None, timeout: float = 20.0, name: str = "process") -> bool:
    """SIGTERM, wait up to ``timeout`` s, then SIGKILL. Returns True if something was stopped."""
    if not pid:
        return False
    pid = int(pid)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    log(f"{name} (pid {pid}) ignored SIGTERM for {timeout:.0f}s; sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        _reap(pid)
        if not pid_alive(pid):
            break
        time.sleep(0.1)
    return True


def tail(path: Path, lines: int = 40) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode(errors="replace")
    except FileNotFoundError:
        return f"(no log file at {path})"
    return "\n".join(data.splitlines()[-lines:])


def http_ready(url: str, timeout: float = 2.0) -> bool:
    """GET ``url`` and report whether it answered 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_http_ready(url: str, pid: int, log_file: Path, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_ready(url):
            return
        _reap(pid)
        if not pid_alive(pid):
            raise StackError(f"{name} exited during start-up; last lines of {log_file}:\n{tail(log_file)}")
        time.sleep(0.25)
    raise StackError(f"{name} not ready at {url} after {timeout:.0f}s; last lines of {log_file}:\n{tail(log_file)}")
