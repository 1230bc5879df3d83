"""Secrets from files, URLs masked in logs, and the one builder of Kafka client options."""
from __future__ import annotations

import ssl

import pytest
from pydantic import ValidationError

from streams.credentials import SecretFileError, mask_url, read_secret_file
from streams.kafka_security import KafkaSecurity, client_options, kafka_security_of

PASSWORD = "s3cr3t-Pa55"


@pytest.mark.parametrize("url, expected", [
    (f"redis://:{PASSWORD}@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    (f"redis://casewatch:{PASSWORD}@127.0.0.1:6379/0", "redis://casewatch:***@127.0.0.1:6379/0"),
    (f"rediss://{PASSWORD}@redis:6380/1", "rediss://***@redis:6380/1"),
    (f"redis://127.0.0.1:6379/0?password={PASSWORD}", "redis://127.0.0.1:6379/0?password=***"),
    (f"redis://127.0.0.1:6379/0?db=2&Password={PASSWORD}&ssl_ca_certs=/ca.crt",
     "redis://127.0.0.1:6379/0?db=2&Password=***&ssl_ca_certs=/ca.crt"),
    (f"rediss://u:{PASSWORD}@h:1/0?password={PASSWORD}", "rediss://u:***@h:1/0?password=***"),
    (f"kafka://user:{PASSWORD}@broker:9093", "kafka://user:***@broker:9093"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("unix:///run/redis.sock?db=1", "unix:///run/redis.sock?db=1"),
])
def test_mask_url_hides_the_password_however_it_is_given(url, expected):
    masked = mask_url(url)
    assert masked == expected
    assert PASSWORD not in masked


def test_secret_file_strips_one_newline_and_refuses_empty_or_missing(tmp_path):
    path = tmp_path / "pw"
    path.write_text(PASSWORD + "\n")
    assert read_secret_file(path).get_secret_value() == PASSWORD
    path.write_text(PASSWORD + " \r\n")
    assert read_secret_file(path).get_secret_value() == PASSWORD + " "  # inner spaces are the secret's
    path.write_text("\n")
    with pytest.raises(SecretFileError, match="is empty"):
        read_secret_file(path)
    with pytest.raises(SecretFileError, match="cannot read"):
        read_secret_file(tmp_path / "missing")


def test_plaintext_gives_no_options():
    assert KafkaSecurity().kafka_python() == {}
    assert KafkaSecurity().aiokafka() == {}
    assert KafkaSecurity().faust() == {}
    assert client_options("127.0.0.1:9092") == {}


def test_sasl_ssl_options_read_the_password_file_and_verify_the_broker(tmp_path, tls_files):
    secret = tmp_path / "kafka.password"
    secret.write_text(PASSWORD + "\n")
    security = KafkaSecurity(protocol="SASL_SSL", username="casewatch-worker", password_file=secret,
                             ca_file=tls_files["ca"].cert)
    options = security.kafka_python()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "casewatch-worker"
    assert options["sasl_plain_password"] == PASSWORD
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert security.aiokafka().keys() == options.keys()
    creds = security.faust()["broker_credentials"]
    assert creds.username == "casewatch-worker" and creds.password == PASSWORD
    assert creds.protocol.value == "SASL_SSL" and creds.mechanism.value == "SCRAM-SHA-512"
    assert PASSWORD not in repr(security)


def test_mutual_tls_loads_the_client_certificate(tls_files):
    pair = tls_files["casewatch-worker"]
    security = KafkaSecurity(protocol="SSL", ca_file=tls_files["ca"].cert, cert_file=pair.cert, key_file=pair.key)
    options = security.kafka_python()
    assert options["security_protocol"] == "SSL" and "sasl_mechanism" not in options
    assert security.faust()["broker_credentials"].protocol.value == "SSL"


@pytest.mark.parametrize("fields, message", [
    ({"protocol": "SASL_SSL", "password": "x"}, "needs a Kafka user name"),
    ({"protocol": "SASL_SSL", "username": "u"}, "needs a Kafka password"),
    ({"protocol": "PLAINTEXT", "username": "u", "password": "x"}, "need a SASL security protocol"),
    ({"protocol": "SSL", "cert_file": "/etc/hostname"}, "both its certificate and its key"),
    ({"protocol": "SASL_PLAINTEXT", "username": "u", "password": "x", "ca_file": "/etc/hostname"},
     "need SSL or SASL_SSL"),
    ({"protocol": "SSL", "ca_file": "/nonexistent/ca.crt"}, "does not exist"),
    ({"protocol": "TLS"}, "protocol"),
])
def test_inconsistent_security_settings_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        KafkaSecurity(**fields)


def test_security_of_a_settings_object_uses_its_kafka_fields(tls_files):
    class Fake:
        kafka_security_protocol = "SSL"
        kafka_ca_file = tls_files["ca"].cert

    assert kafka_security_of(Fake()).protocol == "SSL"
    assert client_options(Fake())["security_protocol"] == "SSL"


def test_settings_read_every_secret_from_its_file_and_never_show_it(tmp_path, monkeypatch):
    from streams.settings import Settings, load_settings

    files = {}
    for name in ("kafka_password", "redis_password", "pseudonym_key", "grafana_token"):
        files[name] = tmp_path / name
        files[name].write_text(f"{name}-{PASSWORD}\n")
        monkeypatch.setenv(f"CASEWATCH_{name.upper()}_FILE", str(files[name]))
    monkeypatch.setenv("CASEWATCH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CASEWATCH_KAFKA_USERNAME", "casewatch-ingest")
    monkeypatch.setenv("CASEWATCH_REDIS_URL", f"redis://u:{PASSWORD}@127.0.0.1:6379/0?password={PASSWORD}")
    settings = Settings()
    assert settings.kafka_password.get_secret_value() == f"kafka_password-{PASSWORD}"
    assert settings.redis_secret() == f"redis_password-{PASSWORD}"
    assert settings.pseudonym_key.get_secret_value() == f"pseudonym_key-{PASSWORD}"
    assert settings.kafka_security().kafka_python()["sasl_plain_password"] == f"kafka_password-{PASSWORD}"
    shown = repr(settings) + str(settings.redacted())
    assert PASSWORD not in shown
    assert settings.redacted()["redis_url"] == "redis://u:***@127.0.0.1:6379/0?password=***"

    monkeypatch.setenv("CASEWATCH_PSEUDONYM_KEY", "both-given")
    with pytest.raises(SystemExit, match="pseudonym_key or pseudonym_key_file, not both") as caught:
        load_settings()
    assert "both-given" not in str(caught.value)
    monkeypatch.delenv("CASEWATCH_PSEUDONYM_KEY")
    files["kafka_password"].write_text("")
    with pytest.raises(SystemExit, match="is empty"):
        load_settings()


def test_inconsistent_kafka_settings_stop_the_command_at_start(monkeypatch):
    from streams.settings import load_settings

    monkeypatch.setenv("CASEWATCH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(SystemExit, match="needs a Kafka user name"):
        load_settings()
