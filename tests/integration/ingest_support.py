"""Shared helpers for the ingest API, CSV import and dead-letter tests (real Kafka)."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from streams.kafka_log import read_records
from services.ingest_api.app import create_app
from services.ingest_api.auth import Sources, hash_token
from services.ingest_api.server import ServerThread
from services.ingest_api.sink import open_sink
from streams.settings import load_settings
from streams.contract.personal_id import contains_personal_id

TOKEN_ALL = "test-token-all-types-0123456789abcdef"
TOKEN_ALL_ROTATED = "test-token-all-types-rotated-fedcba9876"
TOKEN_REPORTS = "test-token-reports-only-0123456789abcd"
TOKEN_SLOW = "test-token-slow-source-0123456789abcdef"
WRONG_TOKEN = "test-token-nobody-has-this-one-00000000"
# 256 bits (64 hex digits), as the key check demands; a test key, never used anywhere else
TEST_PSEUDONYM_KEY = "4c1f8e0b9a7d3c2e5f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e"

SOURCES = [
    {"name": "all-types", "token_sha256": [hash_token(TOKEN_ALL), hash_token(TOKEN_ALL_ROTATED)],
     "allowed_types": ["*"], "rate_per_second": 10_000, "burst": 10_000},
    {"name": "reports-only", "token_sha256": hash_token(TOKEN_REPORTS),
     "allowed_types": ["report.received", "report.screened"], "rate_per_second": 10_000},
    {"name": "slow", "token_sha256": [hash_token(TOKEN_SLOW)], "allowed_types": ["*"],
     "rate_per_second": 0.5, "burst": 3},
]


def auth(token: str = TOKEN_ALL) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def settings_for(bootstrap: str, topics):
    return load_settings(kafka_bootstrap=bootstrap, case_topic=topics.case_topic,
                         dead_letter_topic=topics.dead_letter_topic, pseudonym_key=TEST_PSEUDONYM_KEY)


@contextmanager
def running_service(bootstrap: str, topics, sources=None, server_limits=None, **kwargs):
    """The ingest API on 127.0.0.1 (a free port) against ``topics``; yields (url, app)."""
    settings = settings_for(bootstrap, topics)
    sink = open_sink(settings)
    try:
        app = create_app(settings, Sources.from_dicts(sources or SOURCES), sink, **kwargs)
        with ServerThread(app, **(server_limits or {})) as url:
            yield url, app
    finally:
        sink.close()


def records(bootstrap: str, topic: str) -> list:
    """Every message on ``topic`` (beginning to the current end)."""
    return list(read_records(bootstrap, topic))


def has_personal_id(data: bytes | str) -> bool:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return contains_personal_id(text)


def record_has_personal_id(record) -> bool:
    parts = [record.key or b"", record.value or b""]
    parts.extend(v or b"" for _k, v in (record.headers or ()))
    parts.extend(k.encode() for k, _v in (record.headers or ()))
    return any(has_personal_id(p) for p in parts)


class CaptureAll(logging.Handler):
    """Every log record of the process, formatted, for scanning."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("httpx", "httpcore")):  # the tests' own HTTP client, not the service
            return
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001
            text = str(record.msg)
        self.lines.append(text)


@contextmanager
def captured_logs():
    handler = CaptureAll()
    root, ours = logging.getLogger(), logging.getLogger("casewatch")
    old = root.level, ours.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # every library's INFO and up; ours down to DEBUG
    ours.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old[0])
        ours.setLevel(old[1])
