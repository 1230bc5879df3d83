"""Gallring in frozen reports (services/gallring_frozen.py): the removed cases leave the IVO
quarters' case-level files (ivo.json, the work list) and every revision's internal state; what
the board and the council were shown stays byte for byte, and each revision still verifies."""
from __future__ import annotations

import csv
import hashlib
import io

import orjson
from openpyxl import load_workbook
from typer.testing import CliRunner

from services import gallring_frozen
from services.commands import app
from services.gallring_frozen import FrozenStore
from services.snapshot.revisions import Store, verify
from tests.events import ev, line
from tests.unit.services.test_ivo_quarters import EVENTS

GONE = {"c": "gallras-c", "e": "gallras-e"}  # two cases of the quarter's report, renamed to be found
CASES = {("0138", name) for name in GONE.values()}


def _events(extra=()) -> list[dict]:
    return [dict(e, case_id=GONE.get(e["case_id"], e["case_id"])) for e in EVENTS] + list(extra)


def _freeze(tmp_path, out, events) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(line(e) + b"\n" for e in events))
    result = CliRunner().invoke(app, ["ivo-report", "--quarter", "2024-Q3", "--events", str(path), "--out", str(out),
                                      "--no-pdf"])
    assert result.exit_code == 0, result.output


def _tree(root) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _mentions(root) -> list[str]:
    """Files under ``root`` in which a removed case id can be read (the XLSX cell by cell)."""
    found = []
    for path in root.rglob("*"):
        if path.suffix == ".xlsx":
            cells = {str(c.value) for row in load_workbook(path).active.iter_rows() for c in row}
            text = " ".join(cells)
        elif path.is_file():
            text = path.read_text(encoding="utf-8-sig")
        else:
            continue
        if any(name in text for name in GONE.values()):
            found.append(str(path.relative_to(root)))
    return sorted(found)


def test_removed_cases_leave_case_level_files_and_internal_state_and_what_was_shown_stays(tmp_path):
    ivo = tmp_path / "ivo"
    _freeze(tmp_path, ivo, _events())
    # A late event for a removed case: rev-2, whose changes (shown and internal) name that case.
    _freeze(tmp_path, ivo, _events([ev("decision.delay_reason", "2024-09-01T10:00:00+02:00", case="gallras-e",
                                       decision_id="de", reason="annan")]))
    rev1, rev2 = ivo / "2024-Q3" / "rev-1", ivo / "2024-Q3" / "rev-2"
    assert rev2.is_dir()
    # A board month beside it: its internal state names no case, so nothing of it may change.
    board = Store(tmp_path / "snapshots")
    board.save("2024-09", {"figures": {"0138": {"bou-1": {"decisions_reportable": 3}}}}, {"kalla": "test"},
               lambda content, revision: {"content": content})
    stores = [FrozenStore.at(ivo), FrozenStore.at(tmp_path / "snapshots")]
    board_before = _tree(tmp_path / "snapshots") | _tree(tmp_path / "snapshots-intern")
    before = {rev: orjson.loads((rev / "ivo.json").read_bytes()) for rev in (rev1, rev2)}
    shown_before = {rev: (rev / "statistik-kf.html").read_bytes() for rev in (rev1, rev2)}
    figures_before = {rev: {k: v for k, v in orjson.loads((rev / "rapport.json").read_bytes())["content"].items()
                            if k in ("statistik", "publicerad")} for rev in (rev1, rev2)}
    assert _mentions(ivo) and _mentions(tmp_path / "ivo-intern")

    planned = {str(s.path.relative_to(tmp_path)) for s in gallring_frozen.plan(stores, CASES)}
    assert planned == {f"ivo/2024-Q3/{rev}/{name}" for rev in ("rev-1", "rev-2")
                       for name in ("ivo.json", "arbetslista.html", "arbetslista.csv", "arbetslista.xlsx",
                                    "rapport.json")} | {f"ivo-intern/2024-Q3/{rev}/snapshot.json"
                                                        for rev in ("rev-1", "rev-2")}
    assert _mentions(ivo)  # the dry run changed nothing

    gallring_frozen.apply(stores, CASES, "2025-01-01")

    assert _mentions(ivo) == [] and _mentions(tmp_path / "ivo-intern") == []
    for rev in (rev1, rev2):
        after = orjson.loads((rev / "ivo.json").read_bytes())
        for kind in ("decisions", "interruptions"):
            assert after[kind] == [x for x in before[rev][kind] if x["case_id"] not in GONE.values()]
        assert after["statistics"] == before[rev]["statistics"]
        rows = list(csv.DictReader(io.StringIO((rev / "arbetslista.csv").read_text(encoding="utf-8-sig")),
                                   delimiter=";"))
        assert sorted(r["Beslut-id"] for r in rows) == sorted(x["decision_id"] for k in ("decisions", "interruptions")
                                                             for x in after[k])
        assert (rev / "statistik-kf.html").read_bytes() == shown_before[rev]
        report = orjson.loads((rev / "rapport.json").read_bytes())["content"]
        assert {k: report[k] for k in ("statistik", "publicerad")} == figures_before[rev]
        assert verify(rev) == []
        assert orjson.loads((rev / "manifest.json").read_bytes())["gallring"][0]["fore"] == "2025-01-01"
    assert _tree(tmp_path / "snapshots") | _tree(tmp_path / "snapshots-intern") == board_before
    assert gallring_frozen.plan(stores, CASES) == []  # a second run finds nothing


def test_scrub_drops_lines_keys_rows_and_changes_naming_a_case_only():
    cases = {("0138", "x1")}
    state = {"beslut": {"0138|x1|d1": {"status": "a"}, "0138|x2|d1": {"status": "b"}, "0180|x1|d1": {}},
             "rader": [{"municipality": "0138", "case_id": "x1"}, {"municipality": "0138", "case_id": "x2"}],
             "andringar": [{"falt": "beslut/0138|x1|d1/status", "fore": "a", "efter": "b"},
                           {"falt": "statistik/annan/man", "fore": 1, "efter": 2}],
             "x1": 3}
    kept, dropped = gallring_frozen.scrub(state, cases)
    assert dropped == 3
    assert kept == {"beslut": {"0138|x2|d1": {"status": "b"}, "0180|x1|d1": {}},
                    "rader": [{"municipality": "0138", "case_id": "x2"}],
                    "andringar": [{"falt": "statistik/annan/man", "fore": 1, "efter": 2}],
                    "x1": 3}
