"""docker-compose.yml: valid against the Compose Specification schema, runs only casewatch
commands that exist, publishes only Grafana (on loopback), has no default admin password,
health-checks every long-running service, and agrees with the files it mounts."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
# Compose Specification JSON schema, vendored from the PyPI package docker-compose 1.29.2
# (compose/config/compose_spec.json, Apache-2.0); see tests/data/README.md.
SCHEMA_FILE = REPO / "tests" / "data" / "compose-spec.json"
CASEWATCH_IMAGE = "casewatch:local"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _one_shot(service: dict) -> bool:
    return bool(service.get("profiles")) and service.get("restart") == "no"


def test_valid_against_the_compose_spec(compose):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator_class = jsonschema.Draft201909Validator  # the schema's $schema
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_catches_mistakes():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(schema)
    assert not validator.is_valid({"services": {"a": {"image": "x", "helthcheck": {}}}})
    assert not validator.is_valid({"services": {"a": {"image": "x", "ports": "3000"}}})
    assert validator.is_valid({"services": {"a": {"image": "x"}}})


def test_compose_spec_form_without_version(compose):
    assert "version" not in compose


def test_only_grafana_publishes_a_port_and_only_on_loopback(services):
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"grafana"}
    assert services["grafana"]["ports"] == ["127.0.0.1:3000:3000"]


def test_grafana_admin_password_has_no_default(services):
    environment = services["grafana"]["environment"]
    password = environment["GF_SECURITY_ADMIN_PASSWORD"]
    assert re.fullmatch(r"\$\{GF_SECURITY_ADMIN_PASSWORD:\?[^}]+\}", password), password
    env_example = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert re.search(r"^GF_SECURITY_ADMIN_PASSWORD=$", env_example, re.M), ".env.example must leave it empty"


def test_every_service_has_a_healthcheck_or_is_a_one_shot(services):
    for name, service in services.items():
        if _one_shot(service):
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", name


def test_the_expected_services(services):
    assert set(services) == {"kafka", "redis", "prometheus", "alertmanager", "grafana", "casewatch-worker",
                             "casewatch-exporter", "casewatch-ingest", "casewatch-simulator"}
    assert services["casewatch-simulator"]["profiles"] == ["demo"]
    assert services["casewatch-ingest"]["profiles"] == ["ingest"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["redis"]["image"] == "redis:7"
    assert services["redis"]["command"][:3] == ["redis-server", "--appendonly", "yes"]


def test_casewatch_services_are_built_from_the_dockerfile_and_reach_kafka_and_redis(services):
    ours = {name: s for name, s in services.items() if name.startswith("casewatch-")}
    for name, service in ours.items():
        assert service["image"] == CASEWATCH_IMAGE and service["build"]["dockerfile"] == "Dockerfile", name
        environment = service["environment"]
        assert environment["CASEWATCH_KAFKA_BOOTSTRAP"] == "kafka:9092", name
        assert environment["CASEWATCH_REDIS_URL"].startswith("redis://redis:6379/"), name
    assert ours["casewatch-exporter"]["environment"]["CASEWATCH_EXPORTER_HOST"] == "0.0.0.0"
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r'^ENTRYPOINT \["casewatch"\]$', dockerfile, re.M)
    assert re.search(r"^USER casewatch$", dockerfile, re.M)


def casewatch_invocations(services) -> list[tuple[str, list[str]]]:
    """(service, argv after `casewatch`) for every casewatch command compose runs."""
    found = []
    for name, service in services.items():
        if service.get("image") != CASEWATCH_IMAGE:
            continue
        command = service.get("command")
        if isinstance(command, str):
            command = shlex.split(command)
        if service.get("entrypoint") == ["sh", "-c"]:
            for part in re.split(r"&&|\|\||;|\|", " ".join(command)):
                words = shlex.split(part)
                assert words and words[0] == "casewatch", f"{name}: {part!r} is not a casewatch command"
                found.append((name, words[1:]))
        else:
            assert "entrypoint" not in service, name  # the image's entrypoint is `casewatch`
            found.append((name, list(command)))
    return found


def test_every_casewatch_command_compose_runs_exists():
    import typer

    from services.commands import app

    root = typer.main.get_command(app)
    services = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]
    invocations = casewatch_invocations(services)
    assert {argv[0] for _, argv in invocations} >= {"worker", "exporter", "ingest", "simulate"}
    for service, argv in invocations:
        command = root
        words = list(argv)
        while hasattr(command, "commands") and words and not words[0].startswith("-"):  # a group
            sub = command.commands.get(words[0])
            assert sub is not None, f"{service}: `casewatch {' '.join(argv)}`: no command {words[0]!r}"
            command, words = sub, words[1:]
        options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for word in words:
            if word.startswith("--"):
                assert word.split("=", 1)[0] in options, f"{service}: `casewatch {' '.join(argv)}`: no option {word}"


def test_every_interpolated_variable_is_documented_in_env_example():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M))
    assert used, "no variables found"
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


def test_named_volumes_are_declared_and_bind_mounts_exist(compose, services):
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                if source != "./import":  # the operator's drop directory for casewatch-ingest
                    assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                used.add(source)
    assert used == declared


def test_prometheus_in_compose_scrapes_the_exporter_service(services):
    from dashboards.config import DEFAULT_CONFIG

    mounts = dict(v.split(":")[:2] for v in services["prometheus"]["volumes"])
    config = yaml.safe_load((REPO / mounts["./deploy/prometheus/prometheus.compose.yml"].replace(
        "/etc/prometheus/prometheus.yml", "deploy/prometheus/prometheus.compose.yml")).read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    port = services["casewatch-exporter"]["environment"]["CASEWATCH_EXPORTER_PORT"]
    assert jobs[DEFAULT_CONFIG.exporter_job]["static_configs"][0]["targets"] == [f"casewatch-exporter:{port}"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    rules_dir = mounts["./dashboards/generated/rules"]
    assert all(pattern.startswith(rules_dir + "/") for pattern in config["rule_files"])
    assert any((REPO / "dashboards/generated/rules").glob("*.y*ml"))


def test_grafana_provisioning_matches_the_mounts(services):
    from dashboards.grafana.common import DATASOURCE_UID, FOLDER_UID

    mounts = dict(v.split(":")[:2] for v in services["grafana"]["volumes"])
    provisioning = REPO / "deploy/grafana/provisioning"
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    datasource = yaml.safe_load((provisioning / "datasources/prometheus.yaml").read_text())["datasources"][0]
    assert datasource["uid"] == DATASOURCE_UID and datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards/casewatch.yaml").read_text())["providers"][0]
    assert provider["options"]["path"] == mounts["./dashboards/grafana/generated"]
    assert provider["folderUid"] == FOLDER_UID
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(provider["options"]["path"] + "/")
    assert (REPO / "dashboards/grafana/generated" / Path(home).name).exists()
