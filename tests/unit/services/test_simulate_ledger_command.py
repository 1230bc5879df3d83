"""`casewatch simulate --ledger FILE` through the CLI: the SIE 4 ledger is written beside the
events and reads back, by the snapshot's own ledger reader, with the cost centres the board
configuration maps to its activities."""
from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from services.commands import app
from services.snapshot.config import load_config
from services.snapshot.ledger import is_sie, read_ledger


def _simulate(tmp_path, *extra: str):
    events = tmp_path / "events.jsonl"
    result = CliRunner().invoke(app, ["simulate", "--months", "3", "--end", "2024-03-31", "--seed", "3",
                                      "--out", str(events), *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert events.stat().st_size > 0
    return result


def test_simulate_writes_a_sie4_ledger_the_snapshot_reads_back(tmp_path):
    ledger = tmp_path / "huvudbok.se"
    _simulate(tmp_path, "--ledger", str(ledger))
    raw = ledger.read_bytes()
    assert is_sie(ledger) and raw.startswith(b"#FLAGGA")
    assert b"#SIETYP 4" in raw and b'#FNAMN "Tyres\x94 kommun"' in raw  # CP437, as the format says
    lines = read_ledger(ledger)
    board = load_config()
    expected = {code for activity in board.activities for code in activity.ledger_codes}
    assert expected == {"100", "200", "300", "400"}
    # every cost centre of the board is booked, and nothing outside them
    assert {line.activity for line in lines} == expected
    assert all(date(2024, 1, 1) <= line.day <= date(2024, 3, 31) for line in lines)
    # own staff are costs in the centres that employ them; state grants and fees are income
    salaries = [line for line in lines if line.account.startswith("50")]
    assert {line.activity for line in salaries} >= {"200", "300", "400"}
    assert all(line.amount_sek > 0 for line in salaries)
    assert any(line.amount_sek < 0 for line in lines if line.account.startswith("3"))


def test_simulate_names_one_ledger_per_municipality(tmp_path):
    ledger = tmp_path / "huvudbok.se"
    _simulate(tmp_path, "--municipalities", "2", "--ledger", str(ledger))
    written = sorted(p.name for p in tmp_path.glob("huvudbok*.se"))
    assert written == ["huvudbok-0114.se", "huvudbok-0138.se"] and not ledger.exists()
    for name in written:
        assert {line.activity for line in read_ledger(tmp_path / name)} == {"100", "200", "300", "400"}
