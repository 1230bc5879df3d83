"""End-to-end streaming benchmark: Kafka → Faust worker → Redis, on this machine.

    python bench/streaming.py [--events 200000] [--rate 1000] [--seconds 20] [--table-store rocksdb]

Needs the local stack (``casewatch stack up``; addresses from ``.stack/stack.json``).

1. Throughput: N simulated events are produced to a fresh topic first. A plain aiokafka
   consumer drains the topic (the floor of any Python consumer), then one that also validates
   every line (the floor of any *correct* one), then a Faust agent that does nothing
   (bench/faust_ceiling.py: what Faust itself costs per message); then ``casewatch worker`` runs as a subprocess
   and the time from its first to its last accepted event is taken from the Redis pipeline
   counters. Figures are events/s and the ratio to the plain consumer in the same run.
2. Latency: with the worker caught up on a second fresh topic, events (each a new case) are
   produced at ``--rate`` per second; a poller reads their facts from Redis with one HMGET
   every 2 ms and records produce → visible-in-Redis (= visible at /metrics: the exporter
   computes at scrape time). p50/p99/max are printed.

Everything shares 2 cores here (Kafka, Redis, worker, producer, poller), so read the figures
as ratios within one run.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from services.kafka_topics import ensure_topics  # noqa: E402
from services.simulator import SimulationSpec, simulate  # noqa: E402
from services.stack import read_stack  # noqa: E402
from streams.projection import RedisProjection  # noqa: E402
from streams.contract.validate import validate_line  # noqa: E402
from streams.core.timeutil import STOCKHOLM  # noqa: E402

PARTITIONS = 4


def simulated(n: int) -> list[bytes]:
    municipalities = max(1, -(-n // 12_000))  # about 12.5k events each: enough, then cut
    spec = SimulationSpec(municipalities=municipalities, population=60_000, months=4,
                          end=datetime(2024, 5, 17, 14, tzinfo=STOCKHOLM), seed=42)
    lines = []
    for line in simulate(spec):
        lines.append(line.rstrip(b"\n"))
        if len(lines) >= n:
            break
    return lines


def produce_all(bootstrap: str, topic: str, lines: list[bytes]) -> float:
    async def run() -> float:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1 << 18, acks="all")
        await producer.start()
        started = time.perf_counter()
        try:
            for line in lines:
                key = orjson.loads(line)["case_id"].encode()
                await producer.send(topic, line, key=key)  # enqueues; delivery awaited by flush
            await producer.flush()
        finally:
            await producer.stop()
        return time.perf_counter() - started

    return asyncio.run(run())


def drain(bootstrap: str, topic: str, n: int, validate: bool) -> float:
    """Seconds for a plain aiokafka consumer (no group) to read ``n`` messages from the start."""
    async def run() -> float:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        try:
            seen = 0
            started = None
            while seen < n:
                batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
                if started is None and batches:
                    started = time.perf_counter()
                for records in batches.values():
                    seen += len(records)
                    if validate:
                        for record in records:
                            validate_line(record.value)
            return time.perf_counter() - (started or time.perf_counter())
        finally:
            await consumer.stop()

    return asyncio.run(run())


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def faust_ceiling(stack: dict, topic: str, n: int) -> tuple[float, float]:
    """events/s of a do-nothing Faust agent on the worker's settings (bench/faust_ceiling.py)."""
    env = dict(os.environ, CASEWATCH_KAFKA_BOOTSTRAP=stack["kafka"]["bootstrap"], PYTHONPATH=str(REPO))
    env.pop("CASEWATCH_CONFIG_FILE", None)
    done = subprocess.run([sys.executable, str(REPO / "bench" / "faust_ceiling.py"), topic, str(n)], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    # Faust's worker sends stdout through its logging: the figure may follow a log prefix
    lines = [line.split("faust-ceiling-eps ")[1].split() for line in (done.stdout + done.stderr).splitlines()
             if "faust-ceiling-eps " in line]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the bare Faust agent failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return float(lines[-1][0]), float(lines[-1][2])  # events/s, CPU µs per event


class WorkerProcess:
    def __init__(self, env: dict, log: Path, table_store: str, batch_within: float) -> None:
        argv = [sys.executable, "-m", "services.commands", "worker", "--loglevel", "warning",
                "--table-store", table_store, "--batch-within", str(batch_within)]
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def worker_env(stack: dict, topic: str, prefix: str, data_dir: Path) -> dict:
    env = dict(os.environ)
    env.pop("CASEWATCH_CONFIG_FILE", None)
    env.update({
        "CASEWATCH_KAFKA_BOOTSTRAP": stack["kafka"]["bootstrap"],
        "CASEWATCH_REDIS_URL": stack["redis"]["url"],
        "CASEWATCH_REDIS_PREFIX": prefix,
        "CASEWATCH_CASE_TOPIC": f"{topic}.case-events",
        "CASEWATCH_DEAD_LETTER_TOPIC": f"{topic}.dead-letter",
        "CASEWATCH_PARTITIONS": str(PARTITIONS),
        "CASEWATCH_CONSUMER_GROUP": f"{topic}-worker",
        "CASEWATCH_WORKER_DATA_DIR": str(data_dir),
        "CASEWATCH_WORKER_WEB_PORT": "0",
        "PYTHONPATH": str(REPO),
    })
    return env


def processed(store: RedisProjection) -> int:
    s = store.pipeline_stats()
    return sum(s.events.get(o, 0) for o in ("accepted", "duplicate", "rejected"))


def throughput(stack: dict, n: int, table_store: str, batch_within: float, tmp: Path) -> dict:
    bootstrap = stack["kafka"]["bootstrap"]
    tag = f"bench.{uuid.uuid4().hex[:10]}"
    ensure_topics(bootstrap, f"{tag}.case-events", f"{tag}.dead-letter", PARTITIONS)
    lines = simulated(n)
    n = len(lines)
    produce_s = produce_all(bootstrap, f"{tag}.case-events", lines)
    plain_s = drain(bootstrap, f"{tag}.case-events", n, validate=False)
    validating_s = drain(bootstrap, f"{tag}.case-events", n, validate=True)
    faust_eps, faust_cpu = faust_ceiling(stack, f"{tag}.case-events", n)

    prefix = f"b{uuid.uuid4().hex[:8]}"
    store = RedisProjection.from_url(stack["redis"]["url"], prefix)
    worker = WorkerProcess(worker_env(stack, tag, prefix, tmp / "tp-data"), tmp / "tp-worker.log",
                           table_store, batch_within)
    try:
        first_t = first_n = None
        deadline = time.monotonic() + 600
        while True:
            done = processed(store)
            now = time.perf_counter()
            if first_t is None and done > 0:
                first_t, first_n, first_cpu = now, done, cpu_seconds(worker.proc.pid)
            if done >= n:
                worker_cpu = (cpu_seconds(worker.proc.pid) - first_cpu) / (done - first_n) * 1e6
                break
            if worker.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker stopped or timed out at {done}/{n}; see {tmp / 'tp-worker.log'}")
            time.sleep(0.05)
        worker_s = now - first_t
        worker_rate = (n - first_n) / worker_s
    finally:
        worker.stop()
        _cleanup(store)
        _delete_topics(bootstrap, tag)
    return {
        "events": n,
        "produce_eps": n / produce_s,
        "plain_aiokafka_eps": n / plain_s,
        "aiokafka_validate_eps": n / validating_s,
        "faust_eps": faust_eps,
        "worker_eps": worker_rate,
        "faust_cpu_us": faust_cpu,
        "worker_cpu_us": worker_cpu,
        "cpu_ratio": faust_cpu / worker_cpu,
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "ratio_to_faust": worker_rate / faust_eps,
        "ratio_to_plain": worker_rate / (n / plain_s),
        "ratio_to_validating": worker_rate / (n / validating_s),
    }


def latency(stack: dict, rate: float, seconds: float, table_store: str, batch_within: float, tmp: Path) -> dict:
    import redis
    from kafka import KafkaProducer

    bootstrap = stack["kafka"]["bootstrap"]
    tag = f"bench.{uuid.uuid4().hex[:10]}"
    ensure_topics(bootstrap, f"{tag}.case-events", f"{tag}.dead-letter", PARTITIONS)
    prefix = f"b{uuid.uuid4().hex[:8]}"
    store = RedisProjection.from_url(stack["redis"]["url"], prefix)
    worker = WorkerProcess(worker_env(stack, tag, prefix, tmp / "lat-data"), tmp / "lat-worker.log",
                           table_store, batch_within)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=1, acks="all")
    topic = f"{tag}.case-events"
    run = uuid.uuid4().hex[:6]

    def event(i: int) -> tuple[bytes, bytes]:
        case_id = f"lat-{run}-{i}"
        return case_id.encode(), orjson.dumps({
            "event_id": f"{case_id}-r", "type": "report.received", "occurred_at": "2024-05-17T10:00:00+02:00",
            "municipality": "0999", "unit": "bench-1", "case_id": case_id, "data": {"reporter": "skola"}})

    try:
        # warm up: the worker joins its group, gets partitions, and projects a first event
        key, value = event(-1)
        producer.send(topic, key=key, value=value).get(30)
        deadline = time.monotonic() + 120
        while not store.client.hexists(f"{prefix}:facts:0999", key):
            if worker.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker did not start; see {tmp / 'lat-worker.log'}")
            time.sleep(0.05)

        total = int(rate * seconds)
        sent: list[tuple[bytes, float]] = []  # appended by the sender only (atomic under the GIL)
        seen_at: dict[bytes, float] = {}
        finished = threading.Event()

        def send() -> None:
            started = time.perf_counter()
            for i in range(total):
                pause = started + i / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                key, value = event(i)
                sent.append((key, time.perf_counter()))
                producer.send(topic, key=key, value=value)
            producer.flush()
            finished.set()

        def poll() -> None:
            client = redis.Redis.from_url(stack["redis"]["url"])
            hash_key = f"{prefix}:facts:0999"
            outstanding: list[bytes] = []
            taken = 0
            while len(seen_at) < total:
                fresh = len(sent)
                outstanding.extend(k for k, _t in sent[taken:fresh])
                taken = fresh
                if outstanding:
                    values = client.hmget(hash_key, outstanding)
                    now = time.perf_counter()
                    still = []
                    for k, v in zip(outstanding, values):
                        if v is None:
                            still.append(k)
                        else:
                            seen_at[k] = now
                    outstanding = still
                time.sleep(0.002)

        sender = threading.Thread(target=send)
        poller = threading.Thread(target=poll, daemon=True)
        sender.start()
        poller.start()
        sender.join()
        poller.join(120)
        delays = sorted((seen_at[k] - t) * 1000 for k, t in sent if k in seen_at)
    finally:
        producer.close()
        worker.stop()
        _cleanup(store)
        _delete_topics(bootstrap, tag)

    def pct(p: float) -> float:
        return delays[min(len(delays) - 1, int(p / 100 * len(delays)))]

    return {"rate": rate, "events": len(delays), "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
            "max_ms": delays[-1]}


def _delete_topics(bootstrap: str, tag: str) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casewatch-bench-cleanup")
    try:
        names = [t for t in admin.list_topics() if t.startswith(tag) or t.startswith(f"{tag}-worker")]
        admin.delete_topics(names, timeout_ms=10_000, raise_errors=False)
    except Exception:  # noqa: BLE001 - best effort
        pass
    finally:
        admin.close()


def _cleanup(store: RedisProjection) -> None:
    keys = list(store.client.scan_iter(f"{store.prefix}:*", count=1000))
    for i in range(0, len(keys), 500):
        store.client.delete(*keys[i:i + 500])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--table-store", default="rocksdb", choices=("rocksdb", "memory"))
    parser.add_argument("--batch-within", type=float, default=0.1)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    stack = read_stack()
    if not stack.get("kafka") or not stack.get("redis"):
        raise SystemExit("no local stack: run `casewatch stack up` first")
    with TemporaryDirectory(prefix="casewatch-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_throughput:
            t = throughput(stack, args.events, args.table_store, args.batch_within, tmp)
            print(f"throughput ({t['events']:,} events, {PARTITIONS} partitions, {args.table_store} tables):")
            print(f"  producer (aiokafka, linger 5 ms)     {t['produce_eps']:>10,.0f} events/s")
            print(f"  plain aiokafka consumer (drain)      {t['plain_aiokafka_eps']:>10,.0f} events/s")
            print(f"  aiokafka consumer + validate_line    {t['aiokafka_validate_eps']:>10,.0f} events/s")
            print(f"  bare Faust agent (take_events, no work) {t['faust_eps']:>7,.0f} events/s")
            print(f"  casewatch worker Kafka->table->Redis {t['worker_eps']:>10,.0f} events/s")
            print(f"  worker / plain consumer              {t['ratio_to_plain']:>10.3f}")
            print(f"  worker / validating consumer         {t['ratio_to_validating']:>10.3f}")
            print(f"  worker / bare Faust agent            {t['ratio_to_faust']:>10.3f}")
            print(f"  CPU per event: bare Faust {t['faust_cpu_us']:.0f} µs, worker {t['worker_cpu_us']:.0f} µs "
                  f"(bare / worker {t['cpu_ratio']:.3f}); load average {t['load']}")
        if not args.skip_latency:
            lat = latency(stack, args.rate, args.seconds, args.table_store, args.batch_within, tmp)
            print(f"latency produce -> Redis projection at {lat['rate']:,.0f} events/s "
                  f"({lat['events']:,} events, batch within {args.batch_within}s):")
            print(f"  p50 {lat['p50_ms']:.1f} ms   p90 {lat['p90_ms']:.1f} ms   p99 {lat['p99_ms']:.1f} ms   "
                  f"max {lat['max_ms']:.1f} ms")


if __name__ == "__main__":
    main()
