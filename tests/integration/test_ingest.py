"""`casewatch ingest FILE` against the real Kafka: what lands on which topic, and what never does."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
from kafka import KafkaConsumer, TopicPartition

from streams.contract.personal_id import contains_personal_id
from streams.core.replay import Replay
from tests.events import ev

REPO = Path(__file__).resolve().parents[2]
PNR = "811218-9876"  # a valid personnummer (date and Luhn): must never reach Kafka
PNR_12 = "198112189876"
AT = "2024-05-02T10:00:00+02:00"


def _ingest_argv() -> list[str]:
    """``casewatch ingest`` once the CLI registers it, else the command module itself."""
    from services import commands

    names = {c.name or (c.callback.__name__ if c.callback else None) for c in commands.app.registered_commands}
    assert "ingest" in names
    return [sys.executable, "-m", "services.commands", "ingest"]


def run_ingest(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CASEWATCH_CONFIG_FILE", None)
    return subprocess.run(_ingest_argv() + list(args), cwd=REPO, env=env, capture_output=True, timeout=timeout)


def read_all(bootstrap: str, topic: str) -> list:
    """Every record of ``topic``, beginning to the end offsets at the time of the call."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert tps, f"topic {topic} has no partitions"
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out, deadline = [], time.monotonic() + 30
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            assert time.monotonic() < deadline, f"timed out reading {topic}"
            for records in consumer.poll(timeout_ms=500).values():
                out.extend(records)
        return out
    finally:
        consumer.close()


def headers(record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers or ()}


def _mixed_file(path: Path) -> tuple[list[bytes], dict]:
    """A file mixing valid events, duplicates and every kind of rejection; returns its lines and
    the expected dead letters by line number: (reason, field)."""
    valid = [
        ev("report.received", AT, case="c1", reporter="skola", event_id="r1"),
        ev("report.screened", "2024-05-03T10:00:00+02:00", case="c1", outcome="investigation_opened", event_id="s1"),
        ev("investigation.opened", "2024-05-03T11:00:00+02:00", case="c1", area="barn_unga", event_id="i1"),
        ev("report.received", AT, case="c2", reporter="polis", event_id="r1"),  # same id, other case: not a duplicate
        ev("placement.started", AT, case="c3", unit="bou-2", placement_id="p1", placement_type="hvb",
           daily_cost_sek=4200, event_id="p1"),
        ev("staff.joined", AT, case="st-7", staff_id="st-7", role="socialsekreterare", employment="permanent",
           event_id="sj7"),
        ev("payment.made", AT, case="190", amount_sek=3100, event_id="pay1"),  # short numbers are fine
    ]
    lines: list[bytes] = [orjson.dumps(e) for e in valid]
    lines.append(orjson.dumps(valid[0]))  # duplicate of r1 in c1
    lines.append(orjson.dumps(valid[2]))  # duplicate of i1 in c1
    lines.append(b"")  # blank: layout, skipped
    expected: dict[int, tuple[str, str]] = {}

    def reject(raw: bytes, reason: str, field: str = "") -> None:
        lines.append(raw)
        expected[len(lines)] = (reason, field)

    reject(b'{"event_id": "x1", "type": ', "invalid_json")
    reject(orjson.dumps({k: v for k, v in ev("report.received", AT, reporter="skola").items() if k != "unit"}),
           "missing_field", "unit")
    reject(orjson.dumps(ev("report.teleported", AT)), "unknown_type", "type")
    reject(orjson.dumps(ev("report.received", "2024-05-02 10:00", reporter="skola")), "bad_timestamp", "occurred_at")
    reject(orjson.dumps(ev("report.received", AT, reporter="granne")), "bad_value", "data.reporter")
    reject(orjson.dumps(ev("report.received", AT, reporter="skola", note=f"born {PNR}")), "personal_id_in_payload")
    reject(orjson.dumps(ev("report.received", AT, case=PNR_12, reporter="skola")), "personal_id_in_payload")
    # the digits hidden behind JSON escapes: the validator decodes them, so must the dead letter
    escaped = "".join(f"\\u00{ord(c):x}" for c in PNR_12)
    reject(orjson.dumps(ev("report.received", AT, reporter="skola", note="ESC")).replace(b"ESC", escaped.encode()),
           "personal_id_in_payload")
    # a broken line that carries a personal id is dead-lettered as invalid_json, redacted all the same
    reject(f'{{"event_id": "x2", "note": "{PNR}", '.encode(), "invalid_json")
    path.write_bytes(b"\n".join(lines) + b"\n")
    return lines, expected


def test_mixed_file_lands_on_the_right_topics(kafka_bootstrap, topic_factory, tmp_path):
    topics = topic_factory(partitions=3, prefix="ingest")
    path = tmp_path / "mixed.jsonl"
    lines, expected_dead = _mixed_file(path)

    result = run_ingest(str(path), "--bootstrap", kafka_bootstrap, "--topic", topics.case_topic,
                        "--dead-letter-topic", topics.dead_letter_topic, "--json")
    assert result.returncode == 0, result.stderr.decode()
    summary = orjson.loads(result.stdout)

    replay = Replay()
    replay.add_lines(lines)
    assert summary["accepted"] == replay.accepted == 7
    assert summary["duplicates"] == replay.duplicates == 2
    assert summary["rejected_by_reason"] == dict(replay.rejected) == {
        "invalid_json": 2, "missing_field": 1, "unknown_type": 1, "bad_timestamp": 1, "bad_value": 1,
        "personal_id_in_payload": 3,
    }
    assert summary["rejected"] == len(expected_dead)

    accepted = read_all(kafka_bootstrap, topics.case_topic)
    dead = read_all(kafka_bootstrap, topics.dead_letter_topic)

    # accepted: each distinct event once, its original bytes, keyed by case_id
    assert sorted(r.value for r in accepted) == sorted(lines[:7])
    for record in accepted:
        assert record.key == orjson.loads(record.value)["case_id"].encode()
    by_case: dict[bytes, set[int]] = {}
    for record in accepted:
        by_case.setdefault(record.key, set()).add(record.partition)
    assert all(len(parts) == 1 for parts in by_case.values())

    # dead letters: reason, field, file name and line number in headers; original bytes unless redacted
    assert len(dead) == len(expected_dead)
    seen_lines = set()
    for record in dead:
        h = headers(record)
        line_no = int(h["line_no"])
        seen_lines.add(line_no)
        assert (h["reason"], h["field"]) == expected_dead[line_no]
        assert h["source_file"] == "mixed.jsonl"
        if h["reason"] == "personal_id_in_payload" or h["redacted"] == "1":
            assert record.value != lines[line_no - 1]
            assert b"[personnummer]" in record.value
        else:
            assert record.value == lines[line_no - 1]
    assert seen_lines == set(expected_dead)

    # no personal id in any byte of anything produced
    for record in accepted + dead:
        for part in [record.key or b"", record.value or b""] + [k.encode() + b"=" + v for k, v in record.headers or ()]:
            text = part.decode("utf-8", "replace")
            assert not contains_personal_id(text)
            assert PNR.replace("-", "") not in text.replace("-", "") and PNR_12 not in text
    assert PNR.encode() not in result.stdout + result.stderr


def test_table_summary_and_reingest_produces_again(kafka_bootstrap, topic_factory, tmp_path):
    """Duplicates are counted within one file; a second run sends again (the worker dedups)."""
    topics = topic_factory(partitions=1, prefix="ingest")
    path = tmp_path / "small.jsonl"
    events = [ev("report.received", AT, case=f"c{i}", reporter="skola", event_id=f"e{i}") for i in range(5)]
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events + events[:2]) + b"\n")
    args = [str(path), "--bootstrap", kafka_bootstrap, "--topic", topics.case_topic,
            "--dead-letter-topic", topics.dead_letter_topic]
    first = run_ingest(*args)
    assert first.returncode == 0, first.stderr.decode()
    table = first.stdout.decode()
    assert "accepted" in table and "duplicates" in table and "rejected" in table
    assert [int(x.replace(",", "")) for x in _row_numbers(table)] == [5, 2, 0]
    assert run_ingest(*args, "--json").returncode == 0
    assert len(read_all(kafka_bootstrap, topics.case_topic)) == 10
    assert read_all(kafka_bootstrap, topics.dead_letter_topic) == []


def _row_numbers(table: str) -> list[str]:
    rows = [line for line in table.splitlines() if line.startswith("│")]
    return [row.strip("│ ").split("│")[-1].strip() for row in rows[:3]]


def test_kafka_unreachable_exits_2_quickly(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_bytes(orjson.dumps(ev("report.received", AT, reporter="skola")) + b"\n")
    started = time.monotonic()
    result = run_ingest(str(path), "--bootstrap", "127.0.0.1:1", timeout=30)
    assert time.monotonic() - started < 10
    assert result.returncode == 2
    assert b"unreachable" in result.stderr and b"Traceback" not in result.stderr


def test_delivery_failure_is_a_nonzero_exit(kafka_bootstrap, topic_factory, tmp_path):
    """The broker refuses messages larger than the topic allows: reported, exit 1."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    topics = topic_factory(partitions=1, prefix="ingest")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topics.case_topic,
                                            {"max.message.bytes": "300"})])
    finally:
        admin.close()
    path = tmp_path / "big.jsonl"
    path.write_bytes(orjson.dumps(ev("decision.ended", AT, decision_id="d1", reason="x" * 2000)) + b"\n")
    result = run_ingest(str(path), "--bootstrap", kafka_bootstrap, "--topic", topics.case_topic,
                        "--dead-letter-topic", topics.dead_letter_topic, timeout=90)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert b"did not acknowledge" in result.stderr and b"Traceback" not in result.stderr


def test_with_a_unit_registry_unknown_units_are_dead_lettered_and_the_rest_produced(kafka_bootstrap,
                                                                                     topic_factory, tmp_path):
    """CONTRACT.md §7 through `casewatch ingest`: the configured registry (the worker's and the
    API's setting) dead-letters unknown pairs `unknown_unit`, in `unit` and `to_unit`; the file is
    read to its end. Without it, the same file is accepted whole."""
    def event(n: int, **fields) -> bytes:
        base = {"event_id": f"u-{n}", "type": "report.received", "occurred_at": AT, "municipality": "0138",
                "unit": "bou-1", "case_id": f"c-{n}", "data": {"reporter": "skola"}}
        return orjson.dumps({**base, **fields})

    lines = [event(1), event(2, unit="uppfunnen"), event(3, municipality="0180"),
             event(4, type="case.transferred", data={"to_unit": "uppfunnen-2"}), event(5, unit="bou-2")]
    path = tmp_path / "units.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    registry = tmp_path / "units.yaml"
    registry.write_text('units:\n  - {municipality: "0138", unit: bou-1, name: BoU 1}\n'
                        '  - {municipality: "0138", unit: bou-2, name: BoU 2}\n', encoding="utf-8")

    def ingest(topics, registry_file):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop("CASEWATCH_CONFIG_FILE", None)
        env.pop("CASEWATCH_UNIT_REGISTRY_FILE", None)
        if registry_file:
            env["CASEWATCH_UNIT_REGISTRY_FILE"] = str(registry_file)
        result = subprocess.run(_ingest_argv() + [str(path), "--bootstrap", kafka_bootstrap, "--topic",
                                                  topics.case_topic, "--dead-letter-topic", topics.dead_letter_topic,
                                                  "--json"], cwd=REPO, env=env, capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr.decode()
        return orjson.loads(result.stdout)

    plain = topic_factory(partitions=1, prefix="ingest-noreg")
    assert ingest(plain, None)["accepted"] == 5 and read_all(kafka_bootstrap, plain.dead_letter_topic) == []

    topics = topic_factory(partitions=1, prefix="ingest-reg")
    summary = ingest(topics, registry)
    assert summary["accepted"] == 2 and summary["rejected_by_reason"] == {"unknown_unit": 3}
    assert sorted(orjson.loads(r.value)["event_id"] for r in read_all(kafka_bootstrap, topics.case_topic)) == \
        ["u-1", "u-5"]
    dead = read_all(kafka_bootstrap, topics.dead_letter_topic)
    assert sorted((headers(r)["line_no"], headers(r)["reason"], headers(r)["field"]) for r in dead) == [
        ("2", "unknown_unit", "unit"), ("3", "unknown_unit", "unit"), ("4", "unknown_unit", "data.to_unit")]
