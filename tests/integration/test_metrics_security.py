"""/metrics behind a web config file: TLS and basic auth refuse anonymous scrapes, and the
real Prometheus scrapes with the credentials the generated configuration carries."""
from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Gauge

from dashboards.prometheus_config import ScrapeAuth, render_prometheus_config
from services.exporter.server import serve
from services.stack.tls import ensure_tls
from services.web_config import WebConfig, hash_password

PASSWORD = "scrape-secret-7f3a"


@pytest.fixture
def secured_exporter(tmp_path):
    tls = ensure_tls(tmp_path / "tls", ())
    server_pair = tls["casewatch-broker"]
    web_file = tmp_path / "web-config.yml"
    web_file.write_text(f"tls_server_config:\n  cert_file: {server_pair.cert}\n  key_file: {server_pair.key}\n"
                        f"basic_auth_users:\n  prometheus: '{hash_password(PASSWORD, rounds=10)}'\n")
    registry = CollectorRegistry()
    Gauge("casewatch_security_probe", "a value Prometheus must read through TLS and basic auth",
          registry=registry).set(42)
    server, port = serve(registry, "127.0.0.1", 0, WebConfig.load(web_file))
    yield f"127.0.0.1:{port}", tls["ca"].cert
    server.shutdown()
    server.server_close()


def _get(url: str, ca, auth: tuple[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if auth:
        import base64

        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_anonymous_and_wrong_credentials_are_refused(secured_exporter):
    target, ca = secured_exporter
    assert _get(f"https://{target}/metrics", ca)[0] == 401
    assert _get(f"https://{target}/metrics", ca, ("prometheus", "wrong"))[0] == 401
    status, body = _get(f"https://{target}/metrics", ca, ("prometheus", PASSWORD))
    assert status == 200 and b"casewatch_security_probe 42.0" in body
    assert _get(f"https://{target}/healthz", ca)[0] == 200  # probes need no password
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(f"http://{target}/metrics", timeout=5).read()  # no plain HTTP


def test_prometheus_scrapes_with_the_generated_credentials(secured_exporter, prometheus_factory, tmp_path):
    target, ca = secured_exporter
    password_file = tmp_path / "metrics.password"
    password_file.write_text(PASSWORD + "\n")
    config = render_prometheus_config([target], [], [], scrape_interval="1s", evaluation_interval="1s",
                                      exporter_auth=ScrapeAuth("prometheus", str(password_file), str(ca)))
    assert PASSWORD not in config  # only the path of the password file
    url = prometheus_factory(config)
    deadline = time.monotonic() + 60
    value = None
    while time.monotonic() < deadline:
        query = urllib.parse.urlencode({"query": "casewatch_security_probe"})
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as response:
            result = json.loads(response.read())["data"]["result"]
        if result:
            value = result[0]["value"][1]
            break
        time.sleep(0.5)
    assert value == "42", "Prometheus did not scrape the secured exporter"
