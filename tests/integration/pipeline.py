"""Running the real pipeline in tests: casewatch services as subprocesses, and waiting on them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterable, Optional

import orjson
import pytest
from kafka import KafkaProducer

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """One `casewatch <command>` subprocess; its output goes to a log shown when a test fails."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0

    def start(self) -> "Service":
        self.starts += 1
        with open(self.log, "ab") as out:
            out.write(f"\n===== start {self.starts} =====\n".encode())
            out.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", "services.commands", *self.argv], env=self.env,
                                         cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        assert self.alive(), f"{self.name} died on its own:\n{self.tail()}"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def wait_for(check: Callable[[], object], timeout: float, what: str, services: Iterable[Service] = (),
             interval: float = 0.5) -> float:
    """Seconds until ``check()`` is truthy; fails with the services' log tails after ``timeout``."""
    services = list(services)
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        for service in services:
            if service.proc is not None and not service.alive():
                pytest.fail(f"{service.name} exited (rc {service.proc.returncode}) while waiting for {what}:\n"
                            f"{service.tail()}")
        if time.monotonic() - started > timeout:
            tails = "\n".join(f"--- {s.name}\n{s.tail()}" for s in services)
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tails}")
        time.sleep(interval)


def produce(bootstrap: str, topic: str, lines: Iterable[bytes]) -> int:
    """Send JSONL lines keyed by their case_id, as `casewatch ingest` does for valid events."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    n = 0
    try:
        for line in lines:
            raw = line.rstrip(b"\n")
            producer.send(topic, key=orjson.loads(raw)["case_id"].encode(), value=raw)
            n += 1
        producer.flush(60)
    finally:
        producer.close(10)
    return n


def http_get(url: str, timeout: float = 10) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def pipeline_env(kafka_bootstrap: str, redis_url: str, topics, data_dir: Path, group: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CASEWATCH_CONFIG_FILE", None)
    env.update({
        "CASEWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CASEWATCH_REDIS_URL": redis_url,
        "CASEWATCH_CASE_TOPIC": topics.case_topic,
        "CASEWATCH_DEAD_LETTER_TOPIC": topics.dead_letter_topic,
        "CASEWATCH_PARTITIONS": str(topics.partitions),
        "CASEWATCH_CONSUMER_GROUP": group,
        "CASEWATCH_WORKER_DATA_DIR": str(data_dir),
        "CASEWATCH_WORKER_WEB_PORT": "0",
        "PYTHONPATH": str(REPO),
    })
    return env
