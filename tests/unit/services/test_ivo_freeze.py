"""Frozen IVO quarters (`casewatch ivo-report` without --json): the work list, the council page
and the §6 JSON agree; late events give a revision that names exactly what changed."""
from __future__ import annotations

import csv
import io
import json

import orjson
from openpyxl import load_workbook
from typer.testing import CliRunner

from services.commands import app
from tests.events import ev, line
from tests.unit.services.test_ivo_quarters import EVENTS


def _write(path, events):
    path.write_bytes(b"".join(line(e) + b"\n" for e in events))
    return path


def _run(*args):
    result = CliRunner().invoke(app, ["ivo-report", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def test_json_is_the_contract_report(tmp_path):
    events = _write(tmp_path / "e.jsonl", EVENTS)
    data = json.loads(_run("--quarter", "2024-Q3", "--events", events, "--json"))
    assert set(data) == {"quarter", "end", "decisions", "interruptions", "statistics"}
    assert set(data["decisions"][0]) == {"municipality", "unit", "case_id", "decision_id", "intervention", "sex",
                                         "decided", "limit", "kind", "status", "status_date", "days_waited",
                                         "delay_reason"}
    assert not (tmp_path / "ivo").exists()  # --json freezes nothing


def test_a_frozen_quarter_and_its_revision(tmp_path):
    events = _write(tmp_path / "e.jsonl", EVENTS)
    out = tmp_path / "ivo"
    first = _run("--quarter", "2024-Q3", "--events", events, "--out", out, "--no-pdf")
    assert "rev-1" in first
    rev1 = out / "2024-Q3" / "rev-1"
    report = orjson.loads((rev1 / "ivo.json").read_bytes())
    assert report == json.loads(_run("--quarter", "2024-Q3", "--events", events, "--json"))

    # The work list: the same lines in Swedish words, no codes; waits over six months flagged.
    rows = list(csv.DictReader(io.StringIO((rev1 / "arbetslista.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(rows) == len(report["decisions"]) + len(report["interruptions"])
    c = next(r for r in rows if r["Beslut-id"] == "dc")
    assert (c["Enhet"], c["Rapport"], c["Status"], c["Statusdatum"], c["Dagar i väntan"], c["Insats"]) == (
        "bou-2", "Uppföljning", "Verkställt", "2024-08-12", "160", "Placering")
    e = next(r for r in rows if r["Avser"] == "Avbrott i verkställighet")
    assert (e["Orsak till dröjsmål"], e["Kön"], e["Över 6 månader"]) == ("Ingen lämplig resurs", "Kvinna", "")
    d = next(r for r in rows if r["Beslut-id"] == "dd")
    assert d["Över 6 månader"] == "Ja" and d["Insats"] == "Stödboende"
    assert not any(code in (rev1 / "arbetslista.csv").read_text(encoding="utf-8-sig")
                   for code in ("placement", "ingen_resurs", "ej_verkstallt", "follow_up"))
    sheet = load_workbook(rev1 / "arbetslista.xlsx").active
    assert sheet.max_row == 3 + len(rows) and sheet["A3"].value == "Enhet"
    page = (rev1 / "arbetslista.html").read_text(encoding="utf-8")
    assert "Listan skapad" in page and str(events) in page and "Enhet bou-2" in page
    council = (rev1 / "statistik-kf.html").read_text(encoding="utf-8")
    assert "dc" not in council.replace("dec", "") and "bou-" not in council  # anonymised

    # Same events again: no new revision.
    assert "ingen ny revision" in _run("--quarter", "2024-Q3", "--events", events, "--out", out, "--no-pdf")

    # A late event: D was enforced on 15 Sep, which the source sent in October.
    late = _write(tmp_path / "late.jsonl", EVENTS + [
        ev("decision.enforced", "2024-09-15T10:00:00+02:00", case="d", decision_id="dd")])
    second = _run("--quarter", "2024-Q3", "--events", late, "--out", out, "--no-pdf")
    assert "rev-2" in second
    # the internal state lives beside the published folder, never in it (services/snapshot/revisions.py)
    state = out.parent / f"{out.name}-intern" / "2024-Q3" / "rev-2" / "snapshot.json"
    changes = orjson.loads(state.read_bytes())["meta"]["andringar"]
    fields = {c["falt"]: (c["fore"], c["efter"]) for c in changes}
    assert fields["beslut/0138|d|dd/status"] == ("ej_verkstallt", "verkstallt")
    assert fields["beslut/0138|d|dd/status_date"] == (None, "2024-09-15")
    assert fields["beslut/0138|d|dd/days_waited"] == (315, 300)
    assert fields["statistik/stodboende/man"] == (1, 0)
    assert "beslut 0138|d|dd status: ej_verkstallt → verkstallt" in second
    assert all(not f.startswith("beslut/0138|c|") for f in fields)  # nothing else about other decisions
    assert (out / "2024-Q3" / "rev-1" / "ivo.json").read_bytes() == (rev1 / "ivo.json").read_bytes()


def test_the_work_lists_count_of_events_is_written_the_swedish_way():
    from services.ivo.worklist import made_line

    text = made_line({"skapad_text": "1 oktober 2024 kl. 08.00", "kalla": "events.jsonl",
                      "data_text": "30 september 2024 kl. 23.10", "handelser": {"godkanda": 4938}})
    assert "(4\u00a0938 godkända händelser)" in text


def test_pages_name_units_municipality_and_quarter_in_swedish(tmp_path, monkeypatch):
    """The reporter and the council read names, not codes: the unit registry's display names
    (CONTRACT.md §7), the municipality's name, and the quarter in words."""
    registry = tmp_path / "units.yaml"
    registry.write_text('units:\n  - {municipality: "0138", unit: bou-1, name: "Barn och unga, mottagning"}\n'
                        '  - {municipality: "0138", unit: bou-2, name: "Barn och unga, utredning"}\n',
                        encoding="utf-8")
    monkeypatch.setenv("CASEWATCH_UNIT_REGISTRY_FILE", str(registry))
    events = _write(tmp_path / "e.jsonl", EVENTS)
    out = tmp_path / "ivo"
    _run("--quarter", "2024-Q3", "--events", events, "--out", out, "--no-pdf")
    rev1 = out / "2024-Q3" / "rev-1"
    page = (rev1 / "arbetslista.html").read_text(encoding="utf-8")
    assert "<h2>Barn och unga, utredning, Tyresö kommun</h2>" in page
    assert "tredje kvartalet 2024" in page
    assert "kommun 0138" not in page and "2024-Q3" not in page and "Enhet bou-" not in page
    assert "<td class='id'>dc</td>" in page  # ids kept whole on one line
    rows = list(csv.DictReader(io.StringIO((rev1 / "arbetslista.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    assert {r["Enhet"] for r in rows} <= {"Barn och unga, mottagning", "Barn och unga, utredning"}
    assert load_workbook(rev1 / "arbetslista.xlsx").active.title == "IVO kvartal 3 2024"
    council = (rev1 / "statistik-kf.html").read_text(encoding="utf-8")
    assert "för Tyresö kommun." in council and "tredje kvartalet 2024" in council
    assert "0138" not in council and "2024-Q3" not in council


def test_a_council_page_over_several_municipalities_names_each_of_them(tmp_path):
    """One event log with two municipalities and no --municipality: the statistics cover both, and
    the page says so by name instead of "kommunen"; with --municipality it names that one."""
    other = [{**e, "municipality": "0182", "event_id": f"nacka-{e['event_id']}"} for e in EVENTS]
    events = _write(tmp_path / "e.jsonl", [*EVENTS, *other])
    out = tmp_path / "ivo"
    _run("--quarter", "2024-Q3", "--events", events, "--out", out, "--no-pdf")
    council = (out / "2024-Q3" / "rev-1" / "statistik-kf.html").read_text(encoding="utf-8")
    assert "för Nacka kommun och Tyresö kommun tillsammans." in council
    assert "kommunen" not in council and "0182" not in council and "0138" not in council
    _run("--quarter", "2024-Q3", "--events", events, "--out", tmp_path / "one", "--no-pdf", "--municipality", "0182")
    council = (tmp_path / "one" / "2024-Q3" / "rev-1" / "statistik-kf.html").read_text(encoding="utf-8")
    assert "för Nacka kommun." in council and "Tyresö" not in council


def test_whom_the_council_page_covers():
    from services.ivo.council import covered

    assert covered({"kommun": "0138", "kommuner": ["0138"]}) == "Tyresö kommun"
    assert covered({"kommuner": ["0980", "0182", "0138"]}) == "Nacka kommun, Region Gotland och Tyresö kommun tillsammans"
    assert covered({"kommun": "0182"}) == "Nacka kommun"  # a revision frozen before "kommuner" was kept
    assert covered({}) == "kommunen"
    assert covered({"kommuner": ["0138", "0182"]}, "Tyresö kommun") == "Tyresö kommun"
