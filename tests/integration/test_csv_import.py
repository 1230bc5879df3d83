"""`casewatch import-csv` against the real Kafka: idempotent re-import, no personal id on any
topic, in logs or in the summary, resumability, and the missing-key error."""
from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from services.commands.import_csv import import_csv_command
from streams.contract.personal_id import contains_personal_id
from streams.core.replay import Replay
from tests.integration.ingest_support import captured_logs, record_has_personal_id, records

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "csv"
KEY = "7e3a9c1f5b2d8e4a6c0f1b3d5e7a9c2e4f6a8b0d1c3e5f7a9b2c4d6e8f0a1b3c"  # 256 bits, a test key

cli = typer.Typer()
cli.command()(import_csv_command)


def _run(args: list[str], env: dict) -> dict:
    result = CliRunner().invoke(cli, [*args, "--json"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout.strip().splitlines()[-1])


def _env(kafka_bootstrap, topics, key=KEY) -> dict:
    env = {"CASEWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap, "CASEWATCH_CASE_TOPIC": topics.case_topic,
           "CASEWATCH_DEAD_LETTER_TOPIC": topics.dead_letter_topic, "CASEWATCH_PSEUDONYM_KEY": key}
    return env


def _sample_pnrs(name: str, encoding: str) -> set[str]:
    lines = (EXAMPLES / f"{name}.csv").read_bytes().decode(encoding).splitlines()[1:]
    column = 1 if name == "orosanmalningar" else 0
    return {line.split(";")[column] for line in lines if line}


@pytest.mark.parametrize("name,encoding,events", [("orosanmalningar", "cp1252", 70), ("placeringar", "utf-8-sig", 42)])
def test_import_twice_changes_nothing_and_no_personal_id_leaves(name, encoding, events, kafka_bootstrap, topic_factory,
                                                                tmp_path):
    topics = topic_factory(partitions=4, prefix=f"csv-{name}")
    env = _env(kafka_bootstrap, topics)
    args = [str(EXAMPLES / f"{name}.csv"), "--mapping", str(EXAMPLES / f"{name}.yaml"), "--state-dir", str(tmp_path)]
    with captured_logs() as logs:
        first = _run(args, env)
        second = _run(args, env)          # the state says done: nothing sent
        forced = _run([*args, "--force"], env)  # everything sent again, same ids
    assert first["complete"] and first["events_sent"] == events
    assert second["already_complete"] and second["events_sent_this_run"] == 0
    assert forced["events_sent_this_run"] == events

    on_topic = records(kafka_bootstrap, topics.case_topic)
    assert len(on_topic) == 2 * events
    for record in on_topic:
        assert record.key == orjson.loads(record.value)["case_id"].encode()
    replay = Replay()
    replay.add_lines(r.value for r in on_topic)
    assert (replay.accepted, replay.duplicates, sum(replay.rejected.values())) == (events, events, 0)

    pnrs = _sample_pnrs(name, encoding)
    # every sample id is valid-looking except the one row made to fail the Luhn test
    assert len(pnrs) > 20 and sum(not contains_personal_id(p) for p in pnrs) <= 1
    dead = records(kafka_bootstrap, topics.dead_letter_topic)
    texts = [orjson.dumps(s).decode() for s in (first, second, forced)] + logs.lines
    texts += [p.read_text() for p in tmp_path.rglob("*.json")]
    for record in on_topic + dead:
        assert not record_has_personal_id(record)
        assert not any(p.encode() in record.value for p in pnrs if p)
    for text in texts:
        assert not contains_personal_id(text)
        assert not any(p and p in text for p in pnrs)


def test_resume_after_a_stop_equals_one_full_import(kafka_bootstrap, topic_factory, tmp_path):
    topics = topic_factory(partitions=4, prefix="csv-resume")
    env = _env(kafka_bootstrap, topics)
    args = [str(EXAMPLES / "orosanmalningar.csv"), "--mapping", str(EXAMPLES / "orosanmalningar.yaml"),
            "--state-dir", str(tmp_path), "--batch-size", "10"]
    part = _run([*args, "--max-rows", "30"], env)
    assert not part["complete"] and part["rows_this_run"] == 30
    rest = _run(args, env)
    assert rest["complete"] and rest["resumed_from_row"] == 30 and rest["rows"] == 73 and rest["events_sent"] == 70
    resumed_ids = [orjson.loads(r.value)["event_id"] for r in records(kafka_bootstrap, topics.case_topic)]

    full_topics = topic_factory(partitions=4, prefix="csv-full")
    full = _run([str(EXAMPLES / "orosanmalningar.csv"), "--mapping", str(EXAMPLES / "orosanmalningar.yaml"),
                 "--state-dir", str(tmp_path / "full")], _env(kafka_bootstrap, full_topics))
    full_ids = [orjson.loads(r.value)["event_id"] for r in records(kafka_bootstrap, full_topics.case_topic)]
    assert len(resumed_ids) == len(set(resumed_ids)) == 70
    assert set(resumed_ids) == set(full_ids)
    assert {k: rest[k] for k in ("rows", "events_sent", "row_errors_by_reason")} == \
        {k: full[k] for k in ("rows", "events_sent", "row_errors_by_reason")}


def test_missing_key_is_a_clear_error_and_sends_nothing(kafka_bootstrap, topic_factory, tmp_path):
    topics = topic_factory(partitions=1, prefix="csv-nokey")
    env = {**_env(kafka_bootstrap, topics, key=""), "CASEWATCH_PSEUDONYM_KEY": ""}
    result = CliRunner().invoke(cli, [str(EXAMPLES / "placeringar.csv"), "--mapping", str(EXAMPLES / "placeringar.yaml"),
                                      "--state-dir", str(tmp_path)], env=env)
    assert result.exit_code == 2
    assert "CASEWATCH_PSEUDONYM_KEY" in result.output
    assert records(kafka_bootstrap, topics.case_topic) == []


def test_unknown_units_are_dead_lettered_with_a_registry_and_the_rest_goes_on(kafka_bootstrap, topic_factory,
                                                                              tmp_path):
    """CONTRACT.md §7 on the CSV path: with the unit registry configured (the setting the worker,
    ingest and the API read), rows of a unit not in it are dead-lettered `unknown_unit` and every
    other row is still imported; without a registry the same file imports as before."""
    from streams.dead_letter import header

    registry = tmp_path / "units.yaml"
    registry.write_text('units:\n  - {municipality: "0138", unit: bou-mottagning, name: Mottagningen}\n'
                        '  - {municipality: "0138", unit: bou-ost, name: Barn och unga Öst}\n', encoding="utf-8")
    args = [str(EXAMPLES / "orosanmalningar.csv"), "--mapping", str(EXAMPLES / "orosanmalningar.yaml")]

    plain_topics = topic_factory(partitions=2, prefix="csv-noreg")
    plain = _run([*args, "--state-dir", str(tmp_path / "plain")], _env(kafka_bootstrap, plain_topics))
    plain_units = [orjson.loads(r.value)["unit"] for r in records(kafka_bootstrap, plain_topics.case_topic)]
    assert plain["events_sent"] == 70 and plain["rejected"] == 0
    assert records(kafka_bootstrap, plain_topics.dead_letter_topic) == []
    vast = plain_units.count("bou-vast")
    assert vast > 0 and len(plain_units) == 70

    topics = topic_factory(partitions=2, prefix="csv-reg")
    env = {**_env(kafka_bootstrap, topics), "CASEWATCH_UNIT_REGISTRY_FILE": str(registry)}
    summary = _run([*args, "--state-dir", str(tmp_path / "reg")], env)
    assert summary["complete"] and summary["rejected_by_reason"] == {"unknown_unit": vast}
    assert summary["events_sent"] == 70 - vast
    on_topic = [orjson.loads(r.value) for r in records(kafka_bootstrap, topics.case_topic)]
    assert len(on_topic) == 70 - vast and {e["unit"] for e in on_topic} == {"bou-mottagning", "bou-ost"}
    letters = records(kafka_bootstrap, topics.dead_letter_topic)
    assert len(letters) == vast
    assert {header(r.headers, "reason") for r in letters} == {"unknown_unit"}
    assert all(orjson.loads(r.value)["unit"] == "bou-vast" for r in letters)
    assert all(header(r.headers, "source_file") == "orosanmalningar.csv" for r in letters)
