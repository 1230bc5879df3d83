"""The web configuration file of the metrics endpoints: TLS settings and bcrypt basic auth."""
from __future__ import annotations

import base64
import ssl

import pytest

from services.web_config import WebConfig, WebConfigError, hash_password, load_web_config, wsgi_basic_auth


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def web_config_file(tmp_path, tls_files):
    server = tls_files["casewatch-broker"]
    path = tmp_path / "web-config.yml"
    # the htpasswd flavour ($2y$) and a relative path, as operators write them
    hashed = hash_password("scrape-me", rounds=4).replace("$2b$", "$2y$", 1)
    (tmp_path / "server.crt").write_bytes(server.cert.read_bytes())
    path.write_text(f"tls_server_config:\n  cert_file: server.crt\n  key_file: {server.key}\n"
                    f"  client_ca_file: {tls_files['ca'].cert}\n  client_auth_type: RequireAndVerifyClientCert\n"
                    f"basic_auth_users:\n  prometheus: '{hashed}'\n")
    return path


def test_loads_tls_and_users(web_config_file, tmp_path):
    config = WebConfig.load(web_config_file)
    assert config.cert_file == (tmp_path / "server.crt").resolve()
    assert config.tls and config.auth
    assert config.describe() == "TLS, client certificates, basic auth (1 users)"
    context = config.ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert config.uvicorn_options()["ssl_cert_reqs"] == ssl.CERT_REQUIRED


def test_basic_auth_accepts_only_the_right_password(web_config_file):
    config = WebConfig.load(web_config_file)
    assert config.authorised(basic("prometheus", "scrape-me")) == "prometheus"
    assert config.authorised(basic("prometheus", "scrape-me")) == "prometheus"  # from the cache
    assert config.authorised(basic("prometheus", "scrape-me!")) is None
    assert config.authorised(basic("grafana", "scrape-me")) is None
    assert config.authorised(None) is None
    assert config.authorised("Bearer abc") is None
    assert config.authorised("Basic %%%") is None


def test_wsgi_guard_answers_401_with_a_challenge(web_config_file):
    config = WebConfig.load(web_config_file)
    seen = []

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"metrics"]

    guarded = wsgi_basic_auth(app, config)

    def call(path, header=None):
        environ = {"PATH_INFO": path}
        if header:
            environ["HTTP_AUTHORIZATION"] = header
        body = guarded(environ, lambda status, headers: seen.append((status, dict(headers))))
        return seen[-1][0], seen[-1][1], b"".join(body)

    status, headers, body = call("/metrics")
    assert status.startswith("401") and headers["WWW-Authenticate"].startswith("Basic")
    assert body == b"unauthorized\n"
    assert call("/metrics", basic("prometheus", "nope"))[0].startswith("401")
    assert call("/metrics", basic("prometheus", "scrape-me"))[2] == b"metrics"
    assert call("/healthz")[2] == b"metrics"  # probes stay open
    assert wsgi_basic_auth(app, load_web_config(None)) is app


@pytest.mark.parametrize("text, message", [
    ("tls_server_config:\n  cert_file: a.crt\n", "both cert_file and key_file"),
    ("basic_auth_users:\n  p: plaintext\n", "not a bcrypt hash"),
    ("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n", "does not exist"),
    ("basic_auth_user:\n  p: x\n", "unknown keys"),
    ("tls_server_config:\n  client_auth_type: Sometimes\n", "client_auth_type"),
    ("tls_server_config:\n  min_version: TLS10\n", "min_version"),
])
def test_bad_files_are_refused_at_start(tmp_path, text, message):
    path = tmp_path / "web.yml"
    path.write_text(text)
    with pytest.raises(WebConfigError, match=message):
        WebConfig.load(path)
