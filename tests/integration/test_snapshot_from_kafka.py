"""`casewatch snapshot --from-kafka`: the board report read from the case-event log itself."""
import json
import os
import subprocess
import sys
from datetime import datetime

from services.simulator import SimulationSpec, simulate
from streams.core.timeutil import STOCKHOLM
from tests.integration.pipeline import REPO, produce


def snapshot(args, env, out_dir):
    return subprocess.run([sys.executable, "-m", "services.commands", "snapshot", "--month", "2024-03", "--no-pdf",
                           "--out-dir", str(out_dir), "--narrative-dir", str(out_dir / "none"), *args],
                          capture_output=True, text=True, timeout=300, env=env, cwd=REPO)


def test_snapshot_from_the_kafka_log_equals_the_snapshot_from_the_file(kafka_bootstrap, topic_factory, tmp_path):
    lines = list(simulate(SimulationSpec(months=2, municipalities=1, seed=3,
                                         end=datetime(2024, 4, 1, tzinfo=STOCKHOLM))))
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(lines))
    topics = topic_factory(partitions=3, prefix="snapshot")
    produce(kafka_bootstrap, topics.case_topic, lines)
    env = {**os.environ, "CASEWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap, "CASEWATCH_CASE_TOPIC": topics.case_topic}

    from_file = snapshot(["--events", str(events)], env, tmp_path / "file")
    from_kafka = snapshot(["--from-kafka"], env, tmp_path / "kafka")
    assert from_file.returncode == 0, from_file.stderr
    assert from_kafka.returncode == 0, from_kafka.stderr

    def figures(root):
        # the internal state, beside the published folder (services/snapshot/revisions.py)
        state = root.parent / f"{root.name}-intern" / "2024-03" / "rev-1" / "snapshot.json"
        document = json.loads(state.read_text(encoding="utf-8"))
        return document["content"]  # "meta" records when and from where: it differs by design

    assert figures(tmp_path / "kafka") == figures(tmp_path / "file")

    neither = snapshot([], env, tmp_path / "neither")
    assert neither.returncode == 2 and "--events" in neither.stderr
