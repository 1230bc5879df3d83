"""Frozen snapshots: ``<root>/<YYYY-MM>/rev-<n>/`` with the published report
(``rapport.json``), the rendered outputs and ``manifest.json`` (SHA-256 of every file and of
the canonical published content); the internal state (raw figures, never published) goes to
the same path under a separate root (``<state>/<YYYY-MM>/rev-<n>/snapshot.json``).

* Same published report as the latest revision: nothing is written (the caller says so).
  Only what the board is shown counts: a changed raw figure that changes nothing shown (a
  source label, a suppressed count that stays hidden) makes no revision.
* Changed report (late events, a ledger, a new text): revision n + 1, with the list of
  changed values (old → new) in its banner. Earlier revisions are never touched; a revision
  is built in a temporary folder and renamed into place in one step, and its files are made
  read-only.
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

SNAPSHOT = "snapshot.json"  # internal state, under the state root
REPORT = "rapport.json"  # the published report
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
    def __init__(self, root: Path, state_root: Path | None = None) -> None:
        self.root = Path(root)
        self.state_root = Path(state_root) if state_root else default_state_root(self.root)

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

    def state_dir(self, month: str, revision: int) -> Path:
        return self.state_root / month / f"rev-{revision}"

    def load(self, month: str, revision: int | None = None) -> dict | None:
        """The internal state of a revision: ``{"meta", "content"}``."""
        revision = revision or self.latest(month)
        if revision is None:
            return None
        return orjson.loads((self.state_dir(month, revision) / SNAPSHOT).read_bytes())

    def load_report(self, month: str, revision: int | None = None) -> dict | None:
        revision = revision or self.latest(month)
        if revision is None:
            return None
        return orjson.loads((self.rev_dir(month, revision) / REPORT).read_bytes())

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

    def save(self, month: str, content: dict, meta: dict, publish: Callable[[dict, int], dict],
             render: Callable[[Path, dict, list[dict], str | None], list[str]] | None = None,
             diff: Callable[[dict, dict], list[dict]] | None = None) -> Outcome:
        """Freeze ``publish(content, revision)`` as a new revision unless it shows the board
        what the latest one shows."""
        latest = self.latest(month)
        previous = None if latest is None else self.load_report(month, latest)
        report = publish(content, (latest or 0) + 1)
        if previous is not None and same_report(previous, report):
            return Outcome(month, latest, self.rev_dir(month, latest), False, [])
        shown_changes = [] if previous is None or diff is None else diff(previous, report)
        raw_changes = [] if latest is None else changes(self.load(month, latest)["content"], content)
        revision = (latest or 0) + 1
        self.month_dir(month).mkdir(parents=True, exist_ok=True)
        while True:
            report["revision"] = revision
            tmp = self.month_dir(month) / f".rev-{revision}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            replaces = None if latest is None else f"rev-{latest}"
            created = datetime.now(STOCKHOLM).isoformat(timespec="seconds")
            (tmp / REPORT).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            try:
                names = [REPORT, *(render(tmp, report, shown_changes, replaces) if render else [])]
            except BaseException:
                _remove_tree(tmp)  # a failed rendering leaves no half-built revision behind
                raise
            manifest = {
                "manad": month, "revision": revision, "skapad": created,
                "innehall_sha256": content_hash(_shown(report)),
                "filer": {name: file_hash(tmp / name) for name in names},
                "ersatter": replaces, "antal_andringar": len(shown_changes),
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
            state = self.state_dir(month, revision)
            state.mkdir(parents=True, exist_ok=True)
            meta_full = {**meta, "revision": revision, "ersatter": replaces, "skapad": created,
                         "andringar": shown_changes, "andringar_internt": raw_changes}
            (state / SNAPSHOT).write_bytes(orjson.dumps({"meta": meta_full, "content": content},
                                                        option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            return Outcome(month, revision, target, True, shown_changes)


def default_state_root(root: Path) -> Path:
    """Beside the published folder, never inside it: ``snapshots`` → ``snapshots-intern``."""
    root = Path(root)
    return root.parent / f"{root.name}-intern"


def same_report(a: dict, b: dict) -> bool:
    """Whether two published reports show the board the same (the revision number aside)."""
    return content_hash(_shown(a)) == content_hash(_shown(b))


def _shown(report: dict) -> dict:
    """The report without its revision number (which alone is no change to the board)."""
    return {k: v for k, v in report.items() if k != "revision"}


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
    report = Path(rev_dir) / REPORT
    if report.is_file() and content_hash(_shown(orjson.loads(report.read_bytes()))) != manifest["innehall_sha256"]:
        problems.append("innehållets hash stämmer inte")
    return problems
