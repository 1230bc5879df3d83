"""The month's audit trail: who saved or froze what, when, from where; never the text itself.

One JSON line per action in ``<data_dir>/<YYYY-MM>/audit.jsonl``, appended under an exclusive
lock with ``O_APPEND`` so concurrent writers never interleave. Kept with the month's draft so
that the trail travels with it; shown in the app under "Händelselogg".
"""
from __future__ import annotations

import fcntl
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

AUDIT_FILE = "audit.jsonl"

# action -> how the app says it in Swedish
ACTIONS = {
    "save": "sparade utkastet",
    "save_refused_stale": "sparande avvisat: någon annan hade sparat",
    "save_refused_invalid": "sparande avvisat: ofullständig bedömning",
    "freeze": "frös rapporten",
    "freeze_unchanged": "frysning utan ändring: ingen ny revision",
}


@dataclass(frozen=True)
class AuditEntry:
    at: str  # ISO 8601, Stockholm time
    user: str
    client: str  # the address the request came from (the client's, when a trusted proxy named it)
    action: str  # a key of ACTIONS
    month: str
    version: int | None = None  # the draft version written or refused against
    revision: int | None = None  # the frozen revision

    @property
    def action_sv(self) -> str:
        return ACTIONS.get(self.action, self.action)


class AuditLog:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, month: str) -> Path:
        return self.root / month / AUDIT_FILE

    def append(self, entry: AuditEntry) -> None:
        if entry.action not in ACTIONS:
            raise ValueError(f"unknown audit action {entry.action!r}")
        path = self.path(entry.month)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = orjson.dumps({k: v for k, v in asdict(entry).items() if v is not None}) + b"\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
        finally:
            os.close(fd)

    def entries(self, month: str) -> list[AuditEntry]:
        """Oldest first."""
        path = self.path(month)
        if not path.is_file():
            return []
        return [AuditEntry(**orjson.loads(line)) for line in path.read_bytes().splitlines() if line.strip()]
