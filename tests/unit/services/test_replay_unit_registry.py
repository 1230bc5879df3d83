"""CONTRACT.md §7 on the replay path, through `casewatch replay` itself: with the unit registry
configured (the setting the worker, ingest and the API read, or `--unit-registry`), an event for
an unregistered (municipality, unit), in `unit` or `to_unit`, is rejected `unknown_unit` and
counted under the reasons, the file is read to its end; without a registry nothing changes."""
from __future__ import annotations

import orjson
import typer
from typer.testing import CliRunner

from services.commands.replay import replay_command
from tests.events import ev, line

cli = typer.Typer()
cli.command()(replay_command)

REGISTRY = ('units:\n  - {municipality: "0138", unit: bou-1, name: Barn och unga}\n'
            '  - {municipality: "0138", unit: bou-2, name: Barn och unga 2}\n')
EVENTS = [
    ev("report.received", "2024-03-01T10:00:00+01:00", case="c1", reporter="skola"),
    ev("report.received", "2024-03-02T10:00:00+01:00", case="c2", unit="inventad-1", reporter="polis"),
    ev("report.received", "2024-03-02T11:00:00+01:00", case="c3", unit="bou-1", mun="0180", reporter="polis"),
    ev("case.transferred", "2024-03-03T10:00:00+01:00", case="c1", to_unit="inventad-2"),
    ev("report.received", "2024-03-04T10:00:00+01:00", case="c4", unit="bou-2", reporter="skola"),
]


def _replay(tmp_path, env: dict, *extra: str) -> dict:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(line(e) for e in EVENTS) + b"\n")
    result = CliRunner().invoke(cli, [str(events), "--json", *extra], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def _no_registry_env(monkeypatch) -> dict:
    monkeypatch.delenv("CASEWATCH_UNIT_REGISTRY_FILE", raising=False)
    return {}


def test_without_a_registry_every_well_formed_unit_is_counted(tmp_path, monkeypatch):
    result = _replay(tmp_path, _no_registry_env(monkeypatch))
    assert result["events"] == {"accepted": 5, "duplicates": 0, "rejected": 0, "rejected_by_reason": {}}
    assert set(result["units"]["0138"]) == {"bou-1", "bou-2", "inventad-1", "inventad-2"}
    assert set(result["units"]["0180"]) == {"bou-1"}


def test_the_configured_registry_rejects_unknown_units_and_the_rest_is_counted(tmp_path, monkeypatch):
    registry = tmp_path / "units.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    result = _replay(tmp_path, {"CASEWATCH_UNIT_REGISTRY_FILE": str(registry)})
    # inventad-1 in `unit`, 0180/bou-1 (a known code in another municipality), inventad-2 in `to_unit`
    assert result["events"] == {"accepted": 2, "duplicates": 0, "rejected": 3,
                                "rejected_by_reason": {"unknown_unit": 3}}
    assert result["units"] == {"0138": {"bou-1": result["units"]["0138"]["bou-1"],
                                        "bou-2": result["units"]["0138"]["bou-2"]}}
    assert result["units"]["0138"]["bou-2"]["reports_received"] == 1


def test_the_option_names_a_registry_file_and_a_wrong_one_stops_clearly(tmp_path, monkeypatch):
    env = _no_registry_env(monkeypatch)
    registry = tmp_path / "units.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    result = _replay(tmp_path, env, "--unit-registry", str(registry))
    assert result["events"]["rejected_by_reason"] == {"unknown_unit": 3}

    registry.write_text('units:\n  - {municipality: "138", unit: bou-1, name: x}\n', encoding="utf-8")
    events = tmp_path / "events.jsonl"
    bad = CliRunner().invoke(cli, [str(events), "--json", "--unit-registry", str(registry)], env=env)
    assert bad.exit_code == 2 and "units.0.municipality" in bad.output


def test_the_ivo_report_counts_what_the_worker_counts_with_a_registry(tmp_path, monkeypatch):
    """The reports built on a replay (`ivo-report`, `snapshot`) read the same setting: a decision
    of an unregistered unit is not in the IVO report, as the worker never folded it."""
    from services.commands import app

    made = [ev("decision.made", "2024-01-10T10:00:00+01:00", case="k1", decision_id="d1", intervention="annan"),
            ev("decision.made", "2024-01-10T10:00:00+01:00", case="k2", unit="inventad-1", decision_id="d2",
               intervention="annan")]
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join(line(e) for e in made) + b"\n")
    registry = tmp_path / "units.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")

    def listed(env) -> list[str]:
        result = CliRunner().invoke(app, ["ivo-report", "--quarter", "2024-Q2", "--events", str(events), "--json"],
                                    env=env)
        assert result.exit_code == 0, result.output
        return sorted(d["case_id"] for d in orjson.loads(result.stdout)["decisions"])

    assert listed(_no_registry_env(monkeypatch)) == ["k1", "k2"]
    assert listed({"CASEWATCH_UNIT_REGISTRY_FILE": str(registry)}) == ["k1"]
