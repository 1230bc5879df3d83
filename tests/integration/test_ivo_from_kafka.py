"""`casewatch ivo-report --from-kafka`: the IVO report read from the case-event log equals the
report from the same events in a file (CONTRACT.md §6), on the hand-worked quarters and on a
simulated year."""
import json
import os
import subprocess
import sys
from datetime import datetime

from services.simulator import SimulationSpec, simulate
from streams.core.timeutil import STOCKHOLM
from tests.events import line
from tests.integration.pipeline import REPO, produce
from tests.unit.services.test_ivo_quarters import EVENTS


def ivo(args, env):
    out = subprocess.run([sys.executable, "-m", "services.commands", "ivo-report", "--json", *args],
                         capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_ivo_report_from_kafka_equals_the_report_from_the_file(kafka_bootstrap, topic_factory, tmp_path):
    simulated = list(simulate(SimulationSpec(months=9, municipalities=1, seed=11,
                                             end=datetime(2024, 10, 1, tzinfo=STOCKHOLM))))
    lines = [line(e) + b"\n" for e in EVENTS] + simulated
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(lines))
    topics = topic_factory(partitions=3, prefix="ivo")
    produce(kafka_bootstrap, topics.case_topic, lines)
    env = {**os.environ, "CASEWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap, "CASEWATCH_CASE_TOPIC": topics.case_topic}
    for quarter in ("2024-Q2", "2024-Q3"):
        from_file = ivo(["--quarter", quarter, "--events", str(events)], env)
        from_kafka = ivo(["--quarter", quarter, "--from-kafka"], env)
        assert from_kafka == from_file
        assert {d["decision_id"] for d in from_file["decisions"]} >= {"dc", "dd"}  # the hand-worked ones
        assert len(from_file["decisions"]) > 4  # and the simulated year's
