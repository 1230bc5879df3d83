"""The audit trail: who did what, when, from where; never what they sent.

One JSON object per line on the ``casewatch.audit`` logger (a file of its own with
``--audit-log FILE``, else the process log), for the ingest API today and any other place that
changes what the board or the case flow shows (the board editor can call :meth:`AuditLog.record`
with its own action names)::

    {"at": "2026-11-28T23:47:11.204Z", "actor": "treserva-export", "action": "events.post",
     "outcome": "200", "client": "10.1.2.3", "request_id": "4f0c...", "accepted": 120,
     "duplicate": 0, "rejected": 2}

Only counts and short identifiers are allowed as details: a value that is neither an integer nor
a short token (letters, digits, ``._:/@-``, never a personal identity number) is refused with
ValueError, so no payload, free text or personal identity number slips into the trail.
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

import orjson

from streams.contract.personal_id import contains_personal_id

AUDIT_LOGGER = "casewatch.audit"
_TOKEN = re.compile(r"[A-Za-z0-9._:/@-]{0,80}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_RESERVED = {"at", "actor", "action", "outcome", "client", "request_id"}


def request_id_from(header: Optional[str]) -> str:
    """The caller's ``X-Request-ID`` when it is a plain token, else a fresh one. Neither may read
    as a personal identity number: a random hex id can hold such a run of digits, and the audit
    log refuses it (``_checked``), which answered 500."""
    if header and _REQUEST_ID.fullmatch(header) and not contains_personal_id(header):
        return header
    while contains_personal_id(fresh := uuid.uuid4().hex):
        pass
    return fresh


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def _checked(name: str, value: object) -> object:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _TOKEN.fullmatch(value) and not contains_personal_id(value):
        return value
    raise ValueError(f"audit detail {name!r} must be a count or a short identifier, not free text")


class AuditLog:
    def __init__(self, logger: Optional[logging.Logger] = None, clock: Callable[[], float] = time.time) -> None:
        self.logger = logger or logging.getLogger(AUDIT_LOGGER)
        self.clock = clock

    def record(self, *, actor: str, action: str, outcome: str, client: Optional[str], request_id: str,
               **details: object) -> dict:
        """Write one audit line and return it (as a dict)."""
        clash = _RESERVED & set(details)
        if clash:
            raise ValueError(f"audit details may not be named {sorted(clash)}")
        line = {"at": _iso(self.clock()), "actor": _checked("actor", actor), "action": _checked("action", action),
                "outcome": _checked("outcome", outcome), "client": _checked("client", client or "unknown"),
                "request_id": _checked("request_id", request_id)}
        line.update({name: _checked(name, value) for name, value in details.items()})
        self.logger.info("%s", orjson.dumps(line).decode())
        return line


def audit_to_file(path: Path | str) -> logging.Handler:
    """Send the audit logger to ``path`` (appending, one JSON line each), and only there."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(AUDIT_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler
