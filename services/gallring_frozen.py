"""Gallring in frozen reports: the removed cases go from everything case-level a frozen revision
keeps; what the board and the council were shown stays.

A revision store (``services/snapshot/revisions.py``) has a published folder ``<out>/<period>/rev-<n>/``
and internal state ``<out>-intern/<period>/rev-<n>/snapshot.json``. Both the board's months
(``casewatch snapshot``) and the IVO quarters (``casewatch ivo-report --out``) use it.

* Internal state (``snapshot.json`` of every revision): entries naming a removed case are dropped:
  IVO lines keyed ``<municipality>|<case_id>|...``, rows with ``municipality`` and ``case_id``,
  and change records (``falt``) whose path names such a key. The board's months hold no case
  ids, so theirs normally stay byte for byte.
* IVO quarters: the case-level files, the §6 ``ivo.json`` and the reporter's work list
  (``arbetslista.html/.csv/.xlsx``), are written again without the removed cases' lines, and so
  are the lines in ``rapport.json``. The council page (``statistik-kf``) and every figure
  (``statistik``, ``publicerad``) stay as frozen: counts were what was reported. The manifest's
  hashes are brought up to date and it records the gallring, so ``verify`` still holds.
* The board's published months are not touched.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from services.snapshot.revisions import MANIFEST, READ_ONLY, REPORT, SNAPSHOT, content_hash, default_state_root, \
    file_hash
from streams.core.timeutil import STOCKHOLM

Cases = set[tuple[str, str]]  # (municipality, case_id)

IVO_JSON = "ivo.json"  # services.ivo.freeze.JSON_FILE: marks an IVO quarter's revision


def _names_case(key: object, cases: Cases) -> bool:
    if not isinstance(key, str):
        return False
    parts = key.split("|")
    return len(parts) >= 2 and (parts[0], parts[1]) in cases


def _is_removed_row(value: object, cases: Cases) -> bool:
    if not isinstance(value, dict):
        return False
    if (value.get("municipality"), value.get("case_id")) in cases:
        return True
    where = value.get("falt")
    return isinstance(where, str) and any(_names_case(part, cases) for part in where.split("/"))


def scrub(value, cases: Cases) -> tuple[object, int]:
    """``value`` without anything naming a removed case, and how many entries were dropped."""
    dropped = 0
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if _names_case(key, cases) or _is_removed_row(item, cases):
                dropped += 1
                continue
            out[key], n = scrub(item, cases)
            dropped += n
        return out, dropped
    if isinstance(value, list):
        out_list = []
        for item in value:
            if _is_removed_row(item, cases):
                dropped += 1
                continue
            kept, n = scrub(item, cases)
            out_list.append(kept)
            dropped += n
        return out_list, dropped
    return value, 0


@dataclass(frozen=True)
class FrozenStore:
    """A revision store's two roots: the published folder and its internal state."""

    published: Path
    internal: Path

    @classmethod
    def at(cls, published: Path, internal: Path | None = None) -> "FrozenStore":
        return cls(Path(published), Path(internal) if internal else default_state_root(Path(published)))


@dataclass
class Scrub:
    """One revision file that names removed cases, and how many entries go."""

    path: Path
    entries: int

    def as_json(self) -> dict:
        return {"file": str(self.path), "entries_removed": self.entries}


def _revisions(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/rev-*") if p.is_dir()) if root.is_dir() else []


def _naming(root: Path, name: str, cases: Cases) -> list[tuple[Path, object, int]]:
    """``(path, scrubbed content, entries dropped)`` of each revision's ``name`` under ``root``
    that names a removed case."""
    found = []
    for folder in _revisions(root):
        path = folder / name
        if path.is_file():
            kept, n = scrub(orjson.loads(path.read_bytes()), cases)
            if n:
                found.append((path, kept, n))
    return found


def plan(stores: list[FrozenStore], cases: Cases) -> list[Scrub]:
    """Which frozen files name a removed case (the dry run); nothing is changed."""
    from services.ivo.freeze import LIST_CSV, LIST_HTML, LIST_XLSX

    out = []
    for store in stores:
        for path, _kept, n in _naming(store.published, IVO_JSON, cases):  # an IVO quarter's revision
            out += [Scrub(path.parent / name, n) for name in (IVO_JSON, LIST_HTML, LIST_CSV, LIST_XLSX, REPORT)]
        out += [Scrub(path, n) for path, _kept, n in _naming(store.internal, SNAPSHOT, cases)]
    return out


def _writable(path: Path) -> None:
    if path.exists():
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def _rewrite_ivo_revision(store: FrozenStore, folder: Path, kept_json: dict, cases: Cases, note: dict) -> list[str]:
    from services.ivo.freeze import LIST_CSV, LIST_HTML, LIST_XLSX, report_from_json, worklist_meta, write_worklist

    names = [IVO_JSON, REPORT, MANIFEST]
    report_doc, _ = scrub(orjson.loads((folder / REPORT).read_bytes()), cases)
    state = store.internal / folder.parent.name / folder.name / SNAPSHOT
    manifest = orjson.loads((folder / MANIFEST).read_bytes())
    meta = orjson.loads(state.read_bytes())["meta"] if state.is_file() else {"skapad": manifest.get("skapad")}
    for name in [*names, LIST_HTML, LIST_CSV, LIST_XLSX]:
        _writable(folder / name)
    (folder / IVO_JSON).write_bytes(orjson.dumps(kept_json, option=orjson.OPT_INDENT_2))
    (folder / REPORT).write_bytes(orjson.dumps(report_doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    listed = write_worklist(folder, report_from_json(kept_json), worklist_meta(meta))
    for name in [IVO_JSON, REPORT, *listed]:
        if name in manifest["filer"]:
            manifest["filer"][name] = file_hash(folder / name)
    manifest["innehall_sha256"] = content_hash({k: v for k, v in report_doc.items() if k != "revision"})
    manifest["gallring"] = [*manifest.get("gallring", []), note]
    (folder / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    for name in [*names, *listed]:
        os.chmod(folder / name, READ_ONLY)
    return [IVO_JSON, REPORT, *listed]


def apply(stores: list[FrozenStore], cases: Cases, before: str) -> list[Scrub]:
    """Remove the cases from every frozen store; what was changed."""
    note = {"fore": before, "utford": datetime.now(STOCKHOLM).isoformat(timespec="seconds")}
    done = []
    for store in stores:
        for path, kept_json, n in _naming(store.published, IVO_JSON, cases):
            lines = len(kept_json["decisions"]) + len(kept_json["interruptions"])
            names = _rewrite_ivo_revision(store, path.parent, kept_json, cases, {**note, "rader_borttagna": n,
                                                                                  "rader_kvar": lines})
            done += [Scrub(path.parent / name, n) for name in names]
        for path, kept, n in _naming(store.internal, SNAPSHOT, cases):
            path.write_bytes(orjson.dumps(kept, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            done.append(Scrub(path, n))
    return done
