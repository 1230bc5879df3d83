"""The ingest API over HTTPS (uvicorn's own TLS), basic auth on /metrics and /openapi.json from a
web config file, and the audit trail: who, when, from where, how many, request id; no payload."""
from __future__ import annotations

import logging
import ssl

import httpx
import orjson
import pytest

from services.audit import AUDIT_LOGGER
from services.ingest_api.app import create_app
from services.ingest_api.auth import Sources, hash_token
from services.ingest_api.server import ServerThread
from streams.settings import load_settings
from services.web_config import WebConfig, hash_password
from tests.events import ev

TOKEN = "unit-test-token-0123456789abcdefghij"
SECRET_UNIT_TEXT = "hemlig-enhet-text"


class MemorySink:
    """Keeps what the service would send to Kafka (the service under test is the HTTP side)."""

    def __init__(self) -> None:
        self.accepted: list = []
        self.rejected: list = []

    def submit(self, accepted, rejected, source) -> None:
        self.accepted += accepted
        self.rejected += rejected

    def ready(self, timeout_s: float = 2.0) -> bool:
        return True


@pytest.fixture(scope="module")
def secured(tmp_path_factory, tls_files):
    server = tls_files["casewatch-broker"]
    web_file = tmp_path_factory.mktemp("web") / "web.yml"
    web_file.write_text(f"tls_server_config:\n  cert_file: {server.cert}\n  key_file: {server.key}\n"
                        f"basic_auth_users:\n  prometheus: '{hash_password('scrape', rounds=4)}'\n")
    web = WebConfig.load(web_file)
    sources = Sources.from_dicts([{"name": "treserva", "token_sha256": hash_token(TOKEN), "allowed_types": ["*"]}])
    sink = MemorySink()
    app = create_app(load_settings(), sources, sink, web=web)
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(tls_files["ca"].cert)))
    with ServerThread(app, tls=web.uvicorn_options()) as url:
        yield url, sink, client
        client.close()  # no keep-alive connection left for the graceful shutdown to wait on


def test_https_only_and_the_server_certificate_verifies(secured):
    url, _sink, client = secured
    assert url.startswith("https://127.0.0.1:")
    assert client.get(f"{url}/healthz").status_code == 200
    with pytest.raises(httpx.HTTPError):
        httpx.get(url.replace("https://", "http://") + "/healthz", timeout=5)
    with pytest.raises(httpx.ConnectError):  # a client that trusts only the system CAs refuses it
        httpx.get(f"{url}/healthz", timeout=5)


def test_metrics_and_openapi_refuse_anonymous_requests(secured):
    url, _sink, client = secured
    for path in ("/metrics", "/openapi.json"):
        refused = client.get(f"{url}{path}")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert client.get(f"{url}{path}", auth=("prometheus", "wrong")).status_code == 401
        assert client.get(f"{url}{path}", auth=("prometheus", "scrape")).status_code == 200
    doc = client.get(f"{url}/openapi.json", auth=("prometheus", "scrape")).json()
    assert doc["paths"]["/metrics"]["get"]["security"] == [{"basic": []}]


def test_every_post_leaves_one_audit_line_without_payload(secured, caplog):
    url, sink, client = secured
    good = ev("report.received", "2026-11-02T09:00:00+01:00", case="c-audit-1", reporter="skola")
    bad = dict(ev("report.received", "2026-11-02T09:00:00+01:00", case="c-audit-2", reporter="skola"),
               unit=SECRET_UNIT_TEXT.upper())
    body = b"\n".join(orjson.dumps(e) for e in (good, bad))
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        ok = client.post(f"{url}/v1/events", content=body, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson", "X-Request-ID": "req-42"})
        anonymous = client.post(f"{url}/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"})
        odd_id = client.post(f"{url}/v1/events", content=b"[]", headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "X-Request-ID": "a b;c"})
    assert ok.status_code == 200 and ok.headers["x-request-id"] == "req-42"
    assert anonymous.status_code == 401
    assert odd_id.headers["x-request-id"] != "a b;c" and len(odd_id.headers["x-request-id"]) == 32
    lines = [orjson.loads(r.getMessage()) for r in caplog.records if r.name == AUDIT_LOGGER]
    assert len(lines) == 3
    first = lines[0]
    assert {k: first[k] for k in ("actor", "action", "outcome", "client", "request_id", "accepted", "rejected")} == {
        "actor": "treserva", "action": "events.post", "outcome": "200", "client": "127.0.0.1",
        "request_id": "req-42", "accepted": 1, "rejected": 1}
    assert first["at"].endswith("Z")
    assert lines[1]["actor"] == "unauthenticated" and lines[1]["outcome"] == "401"
    assert lines[2]["request_id"] == odd_id.headers["x-request-id"]
    text = caplog.text
    assert "c-audit-1" not in text and SECRET_UNIT_TEXT.upper() not in text and TOKEN not in text
    assert len(sink.accepted) == 1 and len(sink.rejected) == 1
