"""The pipeline end to end over the secure stack: `casewatch ingest` as the ingest principal
(SASL_SSL, SCRAM-SHA-512) -> `casewatch worker` as the worker principal (Faust and its aiokafka
clients over SASL_SSL) -> Redis over TLS as its ACL user -> the same figures as `casewatch replay`."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime

import pytest

from services.simulator import SimulationSpec, simulate
from services.stack.kafka_secure import INGEST, WORKER
from streams.projection import RedisProjection
from streams.core.kpis import Period, compute
from streams.core.replay import Replay
from streams.core.timeutil import STOCKHOLM
from tests.integration.pipeline import REPO, Service, wait_for
from tests.integration.secure_support import secure_stack, secure_topics  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration
END = datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM)


def service_env(stack: dict, principal: str, topics: tuple[str, str], **extra: str) -> dict[str, str]:
    kafka, redis_entry = stack["kafka"], stack["redis"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEWATCH_")}
    env.update({
        "PYTHONPATH": str(REPO),
        "CASEWATCH_KAFKA_BOOTSTRAP": kafka["bootstrap"],
        "CASEWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "CASEWATCH_KAFKA_SASL_MECHANISM": kafka["sasl_mechanism"],
        "CASEWATCH_KAFKA_USERNAME": principal,
        "CASEWATCH_KAFKA_PASSWORD_FILE": kafka["principals"][principal]["password_file"],
        "CASEWATCH_KAFKA_CA_FILE": kafka["ca_file"],
        "CASEWATCH_REDIS_URL": redis_entry["url"],
        "CASEWATCH_REDIS_PASSWORD_FILE": redis_entry["password_file"],
        "CASEWATCH_CASE_TOPIC": topics[0],
        "CASEWATCH_DEAD_LETTER_TOPIC": topics[1],
        "CASEWATCH_PARTITIONS": "2",
        **extra,
    })
    return env


def test_ingest_worker_redis_over_tls_and_scram_equal_replay(secure_stack, secure_topics, tmp_path):
    lines = list(simulate(SimulationSpec(municipalities=1, population=3_000, months=2, end=END, seed=5)))
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines))
    prefix = f"s{uuid.uuid4().hex[:10]}"
    worker_env = service_env(secure_stack, WORKER, secure_topics, CASEWATCH_REDIS_PREFIX=prefix,
                             CASEWATCH_CONSUMER_GROUP=f"{WORKER}-{uuid.uuid4().hex[:8]}",
                             CASEWATCH_WORKER_DATA_DIR=str(tmp_path / "worker"), CASEWATCH_WORKER_WEB_PORT="0")
    worker = Service("worker", ["worker", "--loglevel", "info", "--session-timeout", "6"], worker_env,
                     tmp_path / "worker.log").start()
    try:
        ingest = subprocess.run([sys.executable, "-m", "services.commands", "ingest", str(events)], cwd=REPO,
                                env=service_env(secure_stack, INGEST, secure_topics), capture_output=True,
                                text=True, timeout=240)
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        replay = Replay()
        replay.add_lines(lines)
        as_of = replay.latest
        period = Period.month_to_date(as_of)
        expected = replay.result(as_of, period)["units"]
        password = open(secure_stack["redis"]["password_file"]).read().strip()

        def projected():
            store = RedisProjection.from_url(secure_stack["redis"]["url"], prefix, password=password)
            try:
                facts = [f for m in store.municipalities() for f in store.read_facts(m)]
            finally:
                store.close()
            return compute(facts, as_of, period) if facts else None

        wait_for(lambda: projected() == expected, 180, "the worker's figures to equal the replay", [worker])
    finally:
        worker.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert "TopicAuthorizationFailed" not in log and password not in log
