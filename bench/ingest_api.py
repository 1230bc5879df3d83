"""Benchmark: sustained accepted events/s into Kafka through the HTTP ingest API (batched NDJSON,
concurrent clients) and through the CSV adapter, against the local stack's Kafka.

The service runs in this process (uvicorn in a thread, 127.0.0.1, a free port); clients are
threads with httpx. Topics are made per run (unique names) and deleted afterwards.
Run: python bench/ingest_api.py [--seconds 15] [--batch 500] [--clients 4] [--csv-rows 100000]
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples.csv.generate_samples import fake_personnummer  # noqa: E402
from services.csv_import.importer import import_csv  # noqa: E402
from services.csv_import.mapping import load_mapping  # noqa: E402
from services.csv_import.pseudonymise import Pseudonymiser  # noqa: E402
from services.ingest_api.app import create_app  # noqa: E402
from services.ingest_api.auth import Sources, hash_token  # noqa: E402
from services.ingest_api.server import ServerThread  # noqa: E402
from services.ingest_api.sink import open_sink  # noqa: E402
from services.kafka_topics import ensure_topics  # noqa: E402
from streams.settings import load_settings  # noqa: E402
from services.stack import read_stack  # noqa: E402

TOKEN = "bench-token-0123456789abcdef0123456789"


def _events(n: int, offset: int) -> list[bytes]:
    out = []
    for i in range(offset, offset + n):
        out.append(orjson.dumps({
            "event_id": f"b-{i}", "type": "report.received", "occurred_at": "2024-03-02T09:15:00+01:00",
            "municipality": "0138", "unit": f"bou-{i % 7}", "case_id": f"case-{i % 50_000}",
            "data": {"reporter": "skola"}}))
    return out


def bench_http(bootstrap: str, seconds: float, batch: int, clients: int) -> dict:
    tag = uuid.uuid4().hex[:12]
    settings = load_settings(kafka_bootstrap=bootstrap, case_topic=f"bench.{tag}.case-events",
                             dead_letter_topic=f"bench.{tag}.dead-letter")
    ensure_topics(bootstrap, settings.case_topic, settings.dead_letter_topic, 4)
    sources = Sources.from_dicts([{"name": "bench", "token_sha256": hash_token(TOKEN), "allowed_types": ["*"],
                                   "rate_per_second": 100_000, "burst": 100_000}])
    sink = open_sink(settings)
    accepted = [0] * clients
    requests = [0] * clients
    stop = threading.Event()
    try:
        app = create_app(settings, sources, sink)
        with ServerThread(app) as url:
            def client(k: int) -> None:
                with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {TOKEN}",
                                                       "Content-Type": "application/x-ndjson"}) as http:
                    offset = k * 10_000_000
                    while not stop.is_set():
                        body = b"\n".join(_events(batch, offset))
                        offset += batch
                        r = http.post(f"{url}/v1/events", content=body)
                        r.raise_for_status()
                        accepted[k] += r.json()["accepted"]
                        requests[k] += 1

            threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(seconds)
            stop.set()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
    finally:
        sink.close()
        _drop(bootstrap, [settings.case_topic, settings.dead_letter_topic])
    total = sum(accepted)
    return {"path": "http ndjson", "batch": batch, "clients": clients, "seconds": round(elapsed, 1),
            "requests": sum(requests), "accepted": total, "events_per_s": round(total / elapsed)}


def _csv_file(path: Path, rows: int) -> None:
    rng = random.Random(7)
    people = [fake_personnummer(rng, 2006, 2022) for _ in range(20_000)]
    reporters = ["Skola", "Polis", "Hälso- och sjukvård", "Socialtjänst", "Anonym", "Övrig"]
    units = ["Mottagningen barn och unga", "BoU Öst", "BoU Väst"]
    start = datetime(2023, 1, 1, 8, 0)
    with open(path, "w", encoding="cp1252", newline="") as stream:
        out = csv.writer(stream, delimiter=";")
        out.writerow(["Inkom", "Personnummer", "Anmälare", "Enhet", "Åldersgrupp", "Handläggare"])
        for i in range(rows):
            at = start + timedelta(minutes=7 * i)
            out.writerow([at.strftime("%Y-%m-%d %H:%M"), rng.choice(people), rng.choice(reporters),
                          rng.choice(units), "", f"HL{i % 9}"])


def bench_csv(bootstrap: str, rows: int, workdir: Path) -> dict:
    tag = uuid.uuid4().hex[:12]
    settings = load_settings(kafka_bootstrap=bootstrap, case_topic=f"bench.{tag}.case-events",
                             dead_letter_topic=f"bench.{tag}.dead-letter")
    ensure_topics(bootstrap, settings.case_topic, settings.dead_letter_topic, 4)
    path = workdir / f"orosanmalningar-{rows}.csv"
    if not path.exists():
        _csv_file(path, rows)
    mapping = load_mapping(ROOT / "examples" / "csv" / "orosanmalningar.yaml")
    sink = open_sink(settings)
    try:
        started = time.perf_counter()
        summary = import_csv(path, mapping, Pseudonymiser(b"bench-key-0123456789abcdef"), sink,
                             state_dir=workdir / f"state-{tag}", batch_size=5000, progress=False)
        elapsed = time.perf_counter() - started
    finally:
        sink.close()
        _drop(bootstrap, [settings.case_topic, settings.dead_letter_topic])
    return {"path": "csv adapter", "rows": rows, "seconds": round(elapsed, 1), "accepted": summary["events_sent"],
            "events_per_s": round(summary["events_sent"] / elapsed)}


def _drop(bootstrap: str, topics: list[str]) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics(topics, timeout_ms=10_000, raise_errors=False)
    finally:
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--csv-rows", type=int, default=100_000)
    args = parser.parse_args()
    bootstrap = read_stack()["kafka"]["bootstrap"]
    workdir = ROOT / "bench" / ".data"
    workdir.mkdir(parents=True, exist_ok=True)
    for result in (bench_http(bootstrap, args.seconds, args.batch, args.clients),
                   bench_csv(bootstrap, args.csv_rows, workdir)):
        print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
