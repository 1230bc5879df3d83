"""The month's audit trail: who saved or froze, when, from where; never the text itself.

The entries have the shape of the ingest API's audit lines (``services/audit.py`` on the
branch that adds it: ``at, actor, action, outcome, client, request_id`` plus counts and short
identifiers), with the month, the draft version and the revision as details. Unlike the
ingest API's process-wide log, the board's trail is kept with the month, one JSON line per
action in ``<data_dir>/<YYYY-MM>/audit.jsonl``, so that it travels with the draft and can be
shown in the app ("Händelselogg"). Lines are appended under an exclusive lock with
``O_APPEND`` so concurrent writers never interleave.
"""
from __future__ import annotations

import fcntl
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import orjson

AUDIT_FILE = "audit.jsonl"
UNREADABLE = "audit.unreadable"  # a line that is not an entry: shown as such, never skipped silently

# (action, outcome) -> how the app says it in Swedish
SAID = {
    ("draft.save", "saved"): "sparade utkastet",
    ("draft.save", "stale"): "sparande avvisat: någon annan hade sparat",
    ("draft.save", "invalid"): "sparande avvisat: ofullständig bedömning",
    ("draft.autosave", "saved"): "sparade utkastet automatiskt",
    ("draft.autosave", "stale"): "automatisk sparning avvisad: någon annan hade sparat",
    ("report.freeze", "new_revision"): "frös rapporten",
    ("report.freeze", "unchanged"): "frysning utan ändring: ingen ny revision",
    ("report.freeze", "stale"): "frysning avvisad: utkastet hade ändrats",
    (UNREADABLE, UNREADABLE): "en rad i loggen kan inte läsas (skadad eller ändrad i filen)",
}


@dataclass(frozen=True)
class AuditEntry:
    at: str  # ISO 8601, Stockholm time
    actor: str  # the user name
    action: str  # draft.save | draft.autosave | report.freeze
    outcome: str
    client: str  # the address the request came from (the client's, when a trusted proxy named it)
    request_id: str
    month: str
    version: int | None = None  # the draft version written or refused against
    revision: int | None = None  # the frozen revision

    @property
    def said(self) -> str:
        return SAID.get((self.action, self.outcome), f"{self.action} ({self.outcome})")

    @property
    def told(self) -> str:
        """The log line as the board's secretary reads it: what happened, then after a comma to
        which version. A saved draft names the version it became; a refused save says that nothing
        was saved and which version the writer had opened ("första utkastet för månaden" rather
        than the store's "version 0", which no one ever saw); a freeze names the revision it made
        or kept and the draft version it was made from."""
        version = self.version
        if self.action.startswith("draft."):
            if self.outcome == "saved":
                return f"{self.said}, version {version}"
            if version == 0:
                return f"{self.said}, inget sparades (första utkastet för månaden)"
            if version is not None and version > 0:
                return f"{self.said}, inget sparades (utgick från version {version})"
            return f"{self.said}, inget sparades"
        if self.outcome == "new_revision":
            made_from = f" av utkastets version {version}" if version is not None else ""
            return f"{self.said}, revision {self.revision}{made_from}"
        if self.outcome == "unchanged":
            return f"{self.said}, revision {self.revision} gäller"
        return f"{self.said}, nu version {version}" if version is not None else self.said


class AuditLog:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, month: str) -> Path:
        return self.root / month / AUDIT_FILE

    def append(self, entry: AuditEntry) -> None:
        if (entry.action, entry.outcome) not in SAID:
            raise ValueError(f"unknown audit action {entry.action!r} / outcome {entry.outcome!r}")
        path = self.path(entry.month)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = orjson.dumps({k: v for k, v in asdict(entry).items() if v is not None}) + b"\n"
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a write cut short (a crash, a full disk) must not swallow this one
            os.write(fd, line)
        finally:
            os.close(fd)

    def entries(self, month: str) -> list[AuditEntry]:
        """Oldest first. A line that is not a whole entry (cut short, or edited by hand) is an
        entry of its own saying so: the trail stays readable and the damage stays visible."""
        path = self.path(month)
        if not path.is_file():
            return []
        return [_entry(line, month) for line in path.read_bytes().splitlines() if line.strip()]


def _entry(line: bytes, month: str) -> AuditEntry:
    try:
        entry = AuditEntry(**orjson.loads(line))
        datetime.fromisoformat(entry.at)
        if not all(isinstance(getattr(entry, name), str) for name in ("actor", "action", "outcome", "client")):
            raise TypeError
        return entry
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return AuditEntry(at="", actor="?", action=UNREADABLE, outcome=UNREADABLE, client="?", request_id="",
                          month=month)
