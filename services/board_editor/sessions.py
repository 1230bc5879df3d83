"""The live local-login sessions, kept on the server so that logging out ends a session for good.

The session cookie is signed, so the server cannot take a copy of it back: instead each login
gets a random id, and a cookie counts only while its id is in this store. Logging out removes
the id; a copy of the cookie is then refused, also after a restart (the store is a file in the
editor's data directory). Each entry also remembers which password hash the user logged in
with, so that resetting a password (``casewatch board add-user``) ends every session of that user.

The file is small and bounded: an entry is dropped once its session is past the maximum age,
and a user keeps at most ``MAX_PER_USER`` sessions (a further login ends the oldest, so the
store fails closed). Writes take a lock, re-read, and replace the file atomically; readers
notice a changed file by its stat and read it again.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import orjson

SESSIONS_FILE = "sessions.json"
MAX_PER_USER = 20


class SessionStoreError(RuntimeError):
    """The sessions file cannot be read; the message names the file, never an id."""


def password_mark(password_hash: str | None) -> str:
    """Stands for the user's current password hash: it changes whenever the password is set."""
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:32]


class SessionStore:
    def __init__(self, data_dir: Path, max_age_s: int, clock=time.time) -> None:
        self.path = Path(data_dir) / SESSIONS_FILE
        self.max_age_s = max_age_s
        self.clock = clock
        self._seen: tuple | None = None
        self._live: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._refresh()  # a damaged file fails at start, not at the first request

    def _stat(self) -> tuple | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read(self) -> dict[str, dict]:
        try:
            raw = orjson.loads(self.path.read_bytes())
            return {str(sid): {"user": str(e["user"]), "login_at": int(e["login_at"]), "mark": str(e["mark"])}
                    for sid, e in raw.items()}
        except FileNotFoundError:
            return {}
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            raise SessionStoreError(f"{self.path}: not a sessions file; remove it (everyone logs in again)") from None

    def _refresh(self) -> dict[str, dict]:
        with self._lock:
            stat = self._stat()
            if stat != self._seen:
                self._live, self._seen = self._read(), stat
            return self._live

    @contextmanager
    def _changing(self):
        """The live entries, read under the lock file; what the block leaves is written back."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(".sessions.lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                live = self._read()
                yield live
                oldest = self.clock() - self.max_age_s
                live = {sid: e for sid, e in live.items() if e["login_at"] >= oldest}
                tmp = self.path.with_name(f".{SESSIONS_FILE}.tmp-{os.getpid()}")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(orjson.dumps(live))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        with self._lock:
            self._seen = None  # read again on the next check

    def start(self, user: str, password_hash: str | None, login_at: int) -> str:
        """A new session id for ``user``; beyond ``MAX_PER_USER`` the user's oldest session ends."""
        sid = secrets.token_urlsafe(24)
        with self._changing() as live:
            live[sid] = {"user": user, "login_at": login_at, "mark": password_mark(password_hash)}
            own = sorted((e["login_at"], s) for s, e in live.items() if e["user"] == user)
            for _, old in own[:max(0, len(own) - MAX_PER_USER)]:
                del live[old]
        return sid

    def end(self, sid: str) -> None:
        with self._changing() as live:
            live.pop(sid, None)

    def is_live(self, sid: str | None, user: str, password_hash: str | None) -> bool:
        entry = self._refresh().get(sid) if sid else None
        return (entry is not None and entry["user"] == user and entry["login_at"] >= self.clock() - self.max_age_s
                and secrets.compare_digest(entry["mark"], password_mark(password_hash)))
