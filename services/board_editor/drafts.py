"""A month's draft text, one JSON file per month, saved only against the version it was read at.

Two people editing the same month must never overwrite each other silently: every save names
the version the writer started from, and a save against an older version is refused with
:class:`StaleDraft` (which carries who saved in between). A lock file serialises the
check-and-write between processes; the JSON is written to a temporary file and renamed, so a
reader never sees half a draft.
"""
from __future__ import annotations

import fcntl
import os
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from services.snapshot.colours import COLOURS

DRAFT_FILE = "draft.json"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_TEXT = 20_000  # characters per field: a long page of bullets, far from a pasted document


@dataclass
class AreaText:
    """What the office writes for one goal area."""
    events: str = ""  # Viktiga händelser
    actions: str = ""  # Åtgärder
    assessed_colour: str | None = None  # förvaltningens sammanvägda bedömning; None = the computed one
    reason: str = ""  # required when assessed_colour differs from the computed colour


@dataclass
class Draft:
    month: str
    version: int = 0  # 0: nothing saved yet
    areas: dict[str, AreaText] = field(default_factory=dict)
    risks: str = ""
    deviation: str = ""  # the budget deviation explained (Avvikelse mot budget)
    saved_by: str | None = None
    saved_at: str | None = None

    def area(self, area_id: str) -> AreaText:
        return self.areas.get(area_id) or AreaText()

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> "Draft":
        areas = {k: AreaText(**v) for k, v in (raw.get("areas") or {}).items()}
        return cls(month=raw["month"], version=int(raw["version"]), areas=areas, risks=raw.get("risks", ""),
                   deviation=raw.get("deviation", ""), saved_by=raw.get("saved_by"), saved_at=raw.get("saved_at"))


class StaleDraft(Exception):
    """The draft changed since the writer read it."""

    def __init__(self, current: Draft) -> None:
        super().__init__(f"draft {current.month} is at version {current.version}")
        self.current = current


def check_month(month: str) -> str:
    if not _MONTH.match(month):
        raise ValueError(f"ogiltig månad {month!r}: ange ÅÅÅÅ-MM")
    return month


def problems(draft: Draft, computed: dict[str, str | None]) -> dict[str, str]:
    """Field errors in Swedish, keyed ``<area>.<field>`` (empty: the draft may be saved).
    ``computed`` maps each goal area to its computed colour."""
    out: dict[str, str] = {}
    for area_id, text in draft.areas.items():
        if text.assessed_colour is not None and text.assessed_colour not in COLOURS:
            out[f"{area_id}.assessed_colour"] = "Välj grön, gul eller röd."
        elif (text.assessed_colour is not None and text.assessed_colour != computed.get(area_id)
              and not text.reason.strip()):
            out[f"{area_id}.reason"] = ("Skriv en motivering: förvaltningens bedömning skiljer sig från den "
                                        "beräknade färgen.")
        for name in ("events", "actions", "reason"):
            if len(getattr(text, name)) > MAX_TEXT:
                out[f"{area_id}.{name}"] = f"Texten är för lång (högst {MAX_TEXT} tecken)."
    for name in ("risks", "deviation"):
        if len(getattr(draft, name)) > MAX_TEXT:
            out[name] = f"Texten är för lång (högst {MAX_TEXT} tecken)."
    return out


class DraftStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def month_dir(self, month: str) -> Path:
        return self.root / check_month(month)

    def load(self, month: str) -> Draft:
        path = self.month_dir(month) / DRAFT_FILE
        if not path.is_file():
            return Draft(month=month)
        return Draft.from_json(orjson.loads(path.read_bytes()))

    def months(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _MONTH.match(p.name) and (p / DRAFT_FILE).is_file())

    @contextmanager
    def locked(self, month: str):
        folder = self.month_dir(month)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def save(self, draft: Draft, expected_version: int, user: str, when: str) -> Draft:
        """Write ``draft`` as version ``expected_version + 1``; :class:`StaleDraft` when the
        stored version is no longer ``expected_version``."""
        with self.locked(draft.month):
            current = self.load(draft.month)
            if current.version != expected_version:
                raise StaleDraft(current)
            saved = Draft(month=draft.month, version=current.version + 1, areas=draft.areas, risks=draft.risks,
                          deviation=draft.deviation, saved_by=user, saved_at=when)
            path = self.month_dir(draft.month) / DRAFT_FILE
            tmp = path.with_suffix(f".tmp-{os.getpid()}")
            tmp.write_bytes(orjson.dumps(saved.as_json(), option=orjson.OPT_INDENT_2))
            os.replace(tmp, path)
            return saved
