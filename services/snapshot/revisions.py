"""Frozen snapshots: ``<root>/<YYYY-MM>/rev-<n>/`` with ``snapshot.json``, the rendered
outputs and ``manifest.json`` (SHA-256 of every file and of the canonical content).

* Same content as the latest revision: nothing is written (the caller says so).
* Changed content (late events, a ledger, a new text): revision n + 1, with the list of
  changed values (old → new) in its ``snapshot.json`` and banner. Earlier revisions are never
  touched; a revision is built in a temporary folder and renamed into place in one step, and
  its files are made read-only.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from dataclasses import dataclass
from datetime import datetime

from streams.core.timeutil import STOCKHOLM
from pathlib import Path
from typing import Callable

import orjson

SNAPSHOT = "snapshot.json"
MANIFEST = "manifest.json"
_REV = re.compile(r"^rev-(\d+)$")
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH

# Lists of objects are diffed by these keys, so a changed row is named rather than numbered.
_ROW_KEYS = ("id", "manad", "vecka")


def canonical(value) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def file_hash(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def flatten(value, prefix: str = "") -> dict[str, object]:
    """``{"a/b/0": leaf}`` for every leaf; rows of lists keyed by id/manad/vecka when they have one."""
    out: dict[str, object] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}/{key}" if prefix else str(key)))
        if not value and prefix:
            out[prefix] = {}
    elif isinstance(value, list):
        for i, item in enumerate(value):
            key = next((str(item[k]) for k in _ROW_KEYS if isinstance(item, dict) and k in item), str(i))
            out.update(flatten(item, f"{prefix}/{key}"))
        if not value and prefix:
            out[prefix] = []
    else:
        out[prefix] = value
    return out


def changes(old: dict, new: dict) -> list[dict]:
    """Every leaf whose value differs: ``{"falt", "fore", "efter"}`` (absent: None)."""
    a, b = flatten(old), flatten(new)
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key, None) != b.get(key, None) or (key in a) != (key in b):
            out.append({"falt": key, "fore": a.get(key), "efter": b.get(key)})
    return out


@dataclass(frozen=True)
class Outcome:
    month: str
    revision: int
    path: Path
    created: bool  # False: identical content, no new revision
    changes: list[dict]


# A renderer writes its output files into the folder it is given and returns their names.
Renderer = Callable[[Path, dict], list[str]]


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def month_dir(self, month: str) -> Path:
        return self.root / month

    def revisions(self, month: str) -> list[int]:
        folder = self.month_dir(month)
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in folder.iterdir() if p.is_dir() and (m := _REV.match(p.name)))

    def latest(self, month: str) -> int | None:
        revs = self.revisions(month)
        return revs[-1] if revs else None

    def rev_dir(self, month: str, revision: int) -> Path:
        return self.month_dir(month) / f"rev-{revision}"

    def load(self, month: str, revision: int | None = None) -> dict | None:
        revision = revision or self.latest(month)
        if revision is None:
            return None
        return orjson.loads((self.rev_dir(month, revision) / SNAPSHOT).read_bytes())

    def history(self, months: list[str]) -> dict[str, dict]:
        """The latest frozen content of each of ``months`` that has one (``_revision`` added)."""
        out = {}
        for month in months:
            revision = self.latest(month)
            if revision is not None:
                content = dict(self.load(month, revision)["content"])
                content["_revision"] = f"rev-{revision}"
                out[month] = content
        return out

    def pending(self, month: str, content: dict, meta: dict, created: str) -> tuple[dict, bool]:
        """The document :meth:`save` would freeze now (``(document, True)``), or the latest
        one when ``content`` equals it (``(document, False)``). The board editor's preview
        renders this, so what is previewed is what gets frozen."""
        latest = self.latest(month)
        previous = None if latest is None else self.load(month, latest)
        if previous is not None and content_hash(previous["content"]) == content_hash(content):
            return previous, False
        diff = [] if previous is None else changes(previous["content"], content)
        meta_full = {**meta, "revision": (latest or 0) + 1, "ersatter": None if latest is None else f"rev-{latest}",
                     "skapad": created, "andringar": diff}
        return {"meta": meta_full, "content": content}, True

    def save(self, month: str, content: dict, meta: dict, render: Renderer | None = None) -> Outcome:
        """Freeze ``content`` as a new revision unless it equals the latest one."""
        latest = self.latest(month)
        previous = None if latest is None else self.load(month, latest)
        if previous is not None and content_hash(previous["content"]) == content_hash(content):
            return Outcome(month, latest, self.rev_dir(month, latest), False, [])
        diff = [] if previous is None else changes(previous["content"], content)
        revision = (latest or 0) + 1
        self.month_dir(month).mkdir(parents=True, exist_ok=True)
        while True:
            tmp = self.month_dir(month) / f".rev-{revision}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            meta_full = {**meta, "revision": revision, "ersatter": None if latest is None else f"rev-{latest}",
                         "skapad": datetime.now(STOCKHOLM).isoformat(timespec="seconds"),
                         "andringar": diff}
            document = {"meta": meta_full, "content": content}
            (tmp / SNAPSHOT).write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            try:
                names = [SNAPSHOT, *(render(tmp, document) if render else [])]
            except BaseException:
                _remove_tree(tmp)  # a failed rendering leaves no half-built revision behind
                raise
            manifest = {
                "manad": month, "revision": revision, "skapad": meta_full["skapad"],
                "innehall_sha256": content_hash(content),
                "filer": {name: file_hash(tmp / name) for name in names},
                "ersatter": meta_full["ersatter"], "antal_andringar": len(diff),
            }
            (tmp / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
            for name in [*names, MANIFEST]:
                os.chmod(tmp / name, READ_ONLY)
            target = self.rev_dir(month, revision)
            try:
                os.rename(tmp, target)  # fails if another run took this number meanwhile
            except OSError:
                if not target.exists():
                    raise
                _remove_tree(tmp)
                revision += 1
                continue
            return Outcome(month, revision, target, True, diff)


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        os.chmod(child, stat.S_IRUSR | stat.S_IWUSR)
    shutil.rmtree(path)


def verify(rev_dir: Path) -> list[str]:
    """Problems with a frozen revision: a file whose hash differs from the manifest, a missing
    file, or content whose hash differs. Empty when it is intact."""
    problems = []
    manifest = orjson.loads((Path(rev_dir) / MANIFEST).read_bytes())
    for name, digest in manifest["filer"].items():
        path = Path(rev_dir) / name
        if not path.is_file():
            problems.append(f"{name}: saknas")
        elif file_hash(path) != digest:
            problems.append(f"{name}: ändrad efter frysning")
    snapshot = Path(rev_dir) / SNAPSHOT
    if snapshot.is_file() and content_hash(orjson.loads(snapshot.read_bytes())["content"]) != manifest["innehall_sha256"]:
        problems.append("innehållets hash stämmer inte")
    return problems
