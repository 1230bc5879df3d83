"""Gallring against the real Kafka and Redis: after `apply`, no trace of the removed cases in any
topic (read back), in Redis or in the worker's store; kept cases and their figures unchanged."""
from __future__ import annotations

import uuid

import orjson
import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from services import gallring
from services.ingest import DeliveryTracker, ingest_lines, make_producer
from streams.settings import load_settings
from streams.projection import RedisProjection
from streams.contract.validate import parse_instant
from streams.core.facts import facts_to_json, fold_case
from tests.events import ev, line, replay
from tests.integration.ingest_support import records

OLD_CLOSED = "gone-case"  # closed, last entry 2018: removed
OLD_OPEN = "open-case"  # last entry 2018, never screened: kept (not closed)
RECENT = "recent-case"  # closed, 2025: kept


def _events() -> list[dict]:
    return [
        ev("report.received", "2018-03-01T10:00:00+01:00", case=OLD_CLOSED, reporter="skola"),
        ev("report.screened", "2018-03-10T10:00:00+01:00", case=OLD_CLOSED, outcome="no_investigation"),
        ev("report.received", "2018-04-01T10:00:00+02:00", case=OLD_OPEN, reporter="polis"),
        ev("report.received", "2025-03-01T10:00:00+01:00", case=RECENT, reporter="skola"),
        ev("report.screened", "2025-03-05T10:00:00+01:00", case=RECENT, outcome="no_investigation"),
        ev("report.screened", "2018-05-10T10:00:00+02:00", case=OLD_CLOSED, outcome="no_investigation"),
    ]


@pytest.fixture
def world(kafka_bootstrap, topic_factory, redis_url, tmp_path):
    topics = topic_factory(partitions=2, prefix="gallra")
    settings = load_settings(kafka_bootstrap=kafka_bootstrap, case_topic=topics.case_topic,
                             dead_letter_topic=topics.dead_letter_topic, redis_url=redis_url,
                             consumer_group=f"gallra-{uuid.uuid4().hex[:8]}", worker_data_dir=tmp_path / "worker")
    events = _events()
    bad = dict(events[0], event_id="bad-1", type="no.such.type")  # a dead letter naming the removed case
    kept_bad = dict(events[3], event_id="bad-2", type="no.such.type")
    producer = make_producer(settings, client_id="gallra-test")
    try:
        tracker = DeliveryTracker(producer)
        ingest_lines([line(e) for e in events] + [line(bad), line(kept_bad)], tracker, topics.case_topic,
                     topics.dead_letter_topic, "gallra.jsonl")
    finally:
        producer.close()
    # The worker's derived state, as a worker would have left it.
    changelog = f"{settings.consumer_group}-cases-changelog"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(changelog, 2, 1, topic_configs={"cleanup.policy": "compact"})])
    admin.close()
    plain = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    plain.send(changelog, key=f"0138/{OLD_CLOSED}".encode(), value=b'{"events":{}}').get(timeout=30)
    plain.close()
    settings.worker_data_dir.mkdir(parents=True)
    (settings.worker_data_dir / "cases-0.rocksdb").write_bytes(OLD_CLOSED.encode())
    store = RedisProjection.from_url(redis_url, settings.redis_prefix)
    store.write_cases([("0138", e["case_id"], facts_to_json(fold_case("0138", [
        (parse_instant(x["occurred_at"]), 0, x["event_id"], "bou-1", ()) for x in events if x["case_id"] == e["case_id"]])))
        for e in events])
    return settings, topics, store, changelog


def _mentions(bootstrap, topic, text: str) -> int:
    return sum(text.encode() in (r.value or b"") + (r.key or b"") for r in records(bootstrap, topic))


def test_dry_run_names_the_closed_old_case_and_changes_nothing(world):
    settings, topics, store, _ = world
    chosen = gallring.plan(settings, parse_instant("2020-01-01T00:00:00+01:00"))
    assert chosen.cases == {("0138", OLD_CLOSED)}
    assert chosen.as_json()["cases_by_municipality"] == {"0138": 1}
    assert _mentions(settings.kafka_bootstrap, topics.case_topic, OLD_CLOSED) == 3


def test_apply_leaves_no_trace_of_removed_cases(world, kafka_bootstrap):
    settings, topics, store, changelog = world
    before = replay([e for e in _events() if e["case_id"] != OLD_CLOSED], as_of="2025-06-01T00:00:00+02:00")
    chosen = gallring.plan(settings, parse_instant("2020-01-01T00:00:00+01:00"))
    summary = gallring.apply(settings, chosen, store)
    assert summary["cases_removed"] == 1 and summary["redis_fields_removed"] == 1
    for topic in (topics.case_topic, topics.dead_letter_topic):
        assert _mentions(kafka_bootstrap, topic, OLD_CLOSED) == 0
    kept = records(kafka_bootstrap, topics.case_topic)
    assert sorted({orjson.loads(r.value)["case_id"] for r in kept}) == [OLD_OPEN, RECENT]
    assert _mentions(kafka_bootstrap, topics.dead_letter_topic, RECENT) == 1
    assert store.client.hkeys(f"{settings.redis_prefix}:facts:0138") and \
        sorted(k.decode() for k in store.client.hkeys(f"{settings.redis_prefix}:facts:0138")) == [OLD_OPEN, RECENT]
    assert not settings.worker_data_dir.exists()
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert changelog not in admin.list_topics()
    finally:
        admin.close()
    # A replay over what is left gives the kept cases' figures exactly.
    from streams.core.replay import Replay

    r = Replay()
    r.add_lines(rec.value for rec in kept)
    after = r.result(parse_instant("2025-06-01T00:00:00+02:00"), None)
    assert after["units"] == before["units"]
    # Running it again finds nothing more to remove.
    assert gallring.plan(settings, parse_instant("2020-01-01T00:00:00+01:00")).cases == set()


def test_apply_refuses_while_a_worker_is_in_the_group(world, kafka_bootstrap):
    from kafka import KafkaConsumer

    settings, topics, store, _ = world
    consumer = KafkaConsumer(topics.case_topic, bootstrap_servers=kafka_bootstrap, group_id=settings.consumer_group,
                             auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        consumer.poll(timeout_ms=5000)
        chosen = gallring.plan(settings, parse_instant("2020-01-01T00:00:00+01:00"))
        with pytest.raises(gallring.WorkerRunning):
            gallring.apply(settings, chosen, store)
    finally:
        consumer.close()
    assert _mentions(kafka_bootstrap, topics.case_topic, OLD_CLOSED) == 3


def test_the_command_removes_cases_from_frozen_ivo_quarters_too(world, kafka_bootstrap, tmp_path):
    """`casewatch gallra` as an operator runs it: the dry run lists the frozen IVO quarter's
    case-level files; `--apply` leaves no trace of the removed case in them, in any topic or in
    Redis, while the council's page stays as frozen."""
    from typer.testing import CliRunner

    from services.commands import app
    from services.snapshot.revisions import verify
    from streams.core.replay import Replay

    settings, topics, store, _ = world
    # The removed case also had a decision enforced late (closed in 2018): it was in 2018-Q2's IVO report.
    late = [ev("decision.made", "2018-03-12T10:00:00+01:00", case=OLD_CLOSED, decision_id="d-gone",
               intervention="kontaktperson"),
            ev("decision.made", "2018-03-12T10:00:00+01:00", case=OLD_OPEN, decision_id="d-open",
               intervention="kontaktperson"),
            ev("decision.enforced", "2018-08-01T10:00:00+02:00", case=OLD_CLOSED, decision_id="d-gone")]
    producer = make_producer(settings, client_id="gallra-test-ivo")
    try:
        ingest_lines([line(e) for e in late], DeliveryTracker(producer), topics.case_topic, topics.dead_letter_topic,
                     "late.jsonl")
    finally:
        producer.close()
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(r.value + b"\n" for r in records(kafka_bootstrap, topics.case_topic)))
    ivo = tmp_path / "ivo"
    frozen = CliRunner().invoke(app, ["ivo-report", "--quarter", "2018-Q2", "--events", str(events), "--out", str(ivo),
                                      "--no-pdf"])
    assert frozen.exit_code == 0, frozen.output
    rev = ivo / "2018-Q2" / "rev-1"
    assert OLD_CLOSED in (rev / "arbetslista.csv").read_text(encoding="utf-8-sig")
    council = (rev / "statistik-kf.html").read_bytes()

    env = {"CASEWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap, "CASEWATCH_CASE_TOPIC": topics.case_topic,
           "CASEWATCH_DEAD_LETTER_TOPIC": topics.dead_letter_topic, "CASEWATCH_REDIS_URL": settings.redis_url,
           "CASEWATCH_CONSUMER_GROUP": settings.consumer_group, "CASEWATCH_WORKER_DATA_DIR": str(settings.worker_data_dir)}
    args = ["gallra", "--before", "2020-01-01", "--ivo-out", str(ivo), "--snapshots-out", str(tmp_path / "snapshots")]
    dry = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    listed = orjson.loads(dry.stdout)
    assert listed["dry_run"] and listed["cases_removed"] == 1
    assert {f["file"] for f in listed["frozen_report_files"]} >= {str(rev / "arbetslista.csv"), str(rev / "ivo.json"),
                                                                  str(tmp_path / "ivo-intern" / "2018-Q2" / "rev-1" /
                                                                      "snapshot.json")}
    assert OLD_CLOSED in (rev / "ivo.json").read_text(encoding="utf-8")

    done = CliRunner().invoke(app, [*args, "--apply"], env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    for path in [*rev.iterdir(), *(tmp_path / "ivo-intern").rglob("*.json")]:
        if path.suffix != ".xlsx":
            assert OLD_CLOSED not in path.read_text(encoding="utf-8-sig"), path
    assert "d-open" in (rev / "arbetslista.csv").read_text(encoding="utf-8-sig")
    assert (rev / "statistik-kf.html").read_bytes() == council and verify(rev) == []
    for topic in (topics.case_topic, topics.dead_letter_topic):
        assert _mentions(kafka_bootstrap, topic, OLD_CLOSED) == 0
    assert OLD_CLOSED.encode() not in store.client.hkeys(f"{settings.redis_prefix}:facts:0138")
    kept = Replay()
    kept.add_lines(r.value for r in records(kafka_bootstrap, topics.case_topic))
    assert {case for _m, case in kept.cases} == {OLD_OPEN, RECENT}
