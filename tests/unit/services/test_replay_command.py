"""`casewatch replay` as a user runs it: a subprocess on a file."""
import subprocess
import sys

import orjson
import pytest

from streams.core.kpis import KPI_KEYS
from tests.events import ev, line

pytestmark = pytest.mark.slow  # every test here runs the CLI in a subprocess


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.commands", *args], capture_output=True, text=True, timeout=120)


def write_events(path, events, extra=()):
    path.write_bytes(b"\n".join([*(line(e) for e in events), *extra]) + b"\n")


EVENTS = [
    ev("report.received", "2024-03-01T10:00:00+01:00", reporter="skola"),
    ev("report.received", "2024-03-02T10:00:00+01:00", case="c2", unit="bou-2", reporter="polis"),
    ev("placement.started", "2024-02-10T10:00:00+01:00", case="c3", placement_id="p1",
       placement_type="hvb", daily_cost_sek=4458),
]


def test_replay_prints_the_contract_shape(tmp_path):
    f = tmp_path / "events.jsonl"
    write_events(f, EVENTS + [EVENTS[0]], extra=[b"{broken", b'{"type": "x"}'])
    out = run_cli("replay", str(f), "--json")
    assert out.returncode == 0, out.stderr
    result = orjson.loads(out.stdout)
    assert set(result) == {"as_of", "period", "events", "units"}
    assert result["as_of"] == "2024-03-02T10:00:00+01:00"
    assert result["period"] == {"from": "2024-03-01", "to": "2024-03-03"}
    assert result["events"] == {"accepted": 3, "duplicates": 1, "rejected": 2,
                                "rejected_by_reason": {"invalid_json": 1, "missing_field": 1}}
    assert set(result["units"]["0138"]) == {"bou-1", "bou-2"}
    for figures in result["units"]["0138"].values():
        assert set(figures) == set(KPI_KEYS)
    assert result["units"]["0138"]["bou-1"]["placement_cost_sek"] == {"hvb": 2 * 4458}


def test_replay_with_explicit_as_of_and_period(tmp_path):
    f = tmp_path / "events.jsonl"
    write_events(f, EVENTS)
    out = run_cli("replay", str(f), "--json", "--as-of", "2024-03-01T12:00:00+01:00", "--period", "2024-02")
    result = orjson.loads(out.stdout)
    assert result["period"] == {"from": "2024-02-01", "to": "2024-03-01"}
    assert set(result["units"]["0138"]) == {"bou-1"}
    assert result["units"]["0138"]["bou-1"]["placement_days"] == {"hvb": 20}


def test_replay_refuses_bad_options_clearly(tmp_path):
    f = tmp_path / "events.jsonl"
    write_events(f, EVENTS)
    bad = run_cli("replay", str(f), "--as-of", "yesterday")
    assert bad.returncode != 0 and "RFC 3339" in bad.stderr
    both = run_cli("replay", str(f), "--period", "2024-02", "--from", "2024-02-01", "--to", "2024-03-01")
    assert both.returncode != 0 and "not both" in both.stderr
    missing = run_cli("replay", str(tmp_path / "nope.jsonl"))
    assert missing.returncode != 0 and "no such file" in missing.stderr


def test_replay_without_json_prints_a_swedish_summary(tmp_path):
    f = tmp_path / "events.jsonl"
    write_events(f, EVENTS)
    out = run_cli("replay", str(f))
    assert out.returncode == 0, out.stderr
    assert "Enhet bou-1, Tyresö kommun" in out.stdout
    assert "Orosanmälningar i perioden" in out.stdout
