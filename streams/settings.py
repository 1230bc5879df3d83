"""Configuration from the environment and one optional YAML file, validated at start.

Every service builds one frozen :class:`Settings` in its command and passes it down; nothing
reads the environment behind the caller's back. Secrets are ``SecretStr`` and print masked.
Precedence: explicit arguments > environment (``CASEWATCH_*``) > the YAML file > defaults.

Every secret can come from a file instead (a secrets mount): ``CASEWATCH_KAFKA_PASSWORD_FILE``,
``CASEWATCH_REDIS_PASSWORD_FILE``, ``CASEWATCH_PSEUDONYM_KEY_FILE``, ``CASEWATCH_GRAFANA_TOKEN_FILE``;
the file is read at start, and giving both a secret and its file is an error. Kafka security
(TLS, SASL/SCRAM, client certificates) is checked at start too: :meth:`Settings.kafka_security`
hands every Kafka client its options (streams/kafka_security.py).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from streams.core.clocks import CONTRACT_LINK_WINDOW_DAYS, Clocks, clocks_with_link_window
from streams.credentials import SecretFileError, mask_url, read_secret_file
from streams.event_size import DEFAULT_MAX_EVENT_BYTES, MAX_MAX_EVENT_BYTES, MIN_MAX_EVENT_BYTES
from streams.kafka_security import KafkaSecurity

# secret field -> the field naming a file that holds it
SECRET_FILES = {"kafka_password": "kafka_password_file", "redis_password": "redis_password_file",
                "pseudonym_key": "pseudonym_key_file", "grafana_token": "grafana_token_file"}

CONFIG_FILE_ENV = "CASEWATCH_CONFIG_FILE"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWATCH_", frozen=True, extra="forbid", hide_input_in_errors=True)

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="host:port[,host:port]")
    case_topic: str = "casewatch.case-events"
    dead_letter_topic: str = "casewatch.dead-letter"
    partitions: int = Field(4, ge=1, le=256)
    # The largest event (its canonical JSON) the doors accept: casewatch ingest, the ingest API,
    # the CSV importer (streams/event_size.py). Far below the broker's and Faust's message limits.
    max_event_bytes: int = Field(DEFAULT_MAX_EVENT_BYTES, ge=MIN_MAX_EVENT_BYTES, le=MAX_MAX_EVENT_BYTES)
    # Requests with no valid token the ingest API answers 401 per client address and minute;
    # beyond, 429 and one audit line per address and minute (services/ingest_api/auth_failures.py).
    ingest_api_auth_failures_per_minute: int = Field(20, ge=1, le=100_000)
    consumer_group: str = "casewatch-worker"
    redis_url: str = Field("redis://127.0.0.1:6379/0", repr=False)  # may carry a password
    redis_prefix: str = Field("cw", pattern=r"^[a-z0-9_-]{1,20}$")
    worker_data_dir: Path = Path("var/worker")
    worker_web_port: int = Field(6066, ge=0, le=65535)
    exporter_host: str = "127.0.0.1"
    exporter_port: int = Field(9464, ge=0, le=65535)
    # The exporter asks the broker for the worker group's committed offsets against the log end
    # this often (services/exporter/broker_lag.py); 0 switches it off (no Kafka access).
    exporter_lag_interval_s: float = Field(10.0, ge=0, le=300)
    # A fixed instant for the exporter's clock (tests, what-if); None means wall-clock time.
    as_of: Optional[str] = None
    thresholds_file: Optional[Path] = None
    # CONTRACT.md §7: the (municipality, unit) pairs there are; None accepts every well-formed unit.
    unit_registry_file: Optional[Path] = None
    # CONTRACT.md §3, linked investigations: a child investigation opened at most this many
    # calendar days after a no_action close of the case's previous child investigation continues
    # that one's clock (JO's criticism of restarted clocks). 14 is the contract's value; another
    # departs from the contract's (national) definition, so investigations_overdue and
    # investigations_linked_open no longer compare with other municipalities'. The worker and
    # every offline path (replay, snapshot, IVO report) fold with it: give them all the same.
    investigation_link_window_days: int = Field(
        CONTRACT_LINK_WINDOW_DAYS, ge=0, le=366,
        description="calendar days within which a new child investigation continues the previous one's clock")
    pseudonym_key: Optional[SecretStr] = None
    pseudonym_key_file: Optional[Path] = None
    pseudonym_key_id: Optional[str] = Field(None, pattern=r"^[a-z0-9]{1,12}$")
    grafana_token: Optional[SecretStr] = None
    grafana_token_file: Optional[Path] = None
    # Kafka security (streams/kafka_security.py; docs/SECURITY.md "Transport")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_username: Optional[str] = None
    kafka_password: Optional[SecretStr] = None
    kafka_password_file: Optional[Path] = None
    kafka_ca_file: Optional[Path] = None
    kafka_cert_file: Optional[Path] = None
    kafka_key_file: Optional[Path] = None
    # Redis: the password of the URL's user, kept out of the URL (rediss://user@host/0 + this)
    redis_password: Optional[SecretStr] = None
    redis_password_file: Optional[Path] = None
    # TLS and basic auth of the HTTP endpoints (exporter, ingest API): services/web_config.py
    web_config_file: Optional[Path] = None

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port, got {server!r}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for secret, file_field in SECRET_FILES.items():
            path = data.get(file_field)
            if not path:
                continue
            if data.get(secret):
                raise ValueError(f"give {secret} or {file_field}, not both")
            try:
                data = {**data, secret: read_secret_file(path, secret.replace("_", " "))}
            except SecretFileError as exc:
                raise ValueError(str(exc)) from None
        return data

    @model_validator(mode="after")
    def _kafka_security_is_consistent(self) -> "Settings":
        self.kafka_security()  # raises with a clear message at start, not at the first connect
        return self

    def kafka_security(self) -> KafkaSecurity:
        """The Kafka client security every client of this process uses."""
        return KafkaSecurity(protocol=self.kafka_security_protocol, sasl_mechanism=self.kafka_sasl_mechanism,
                             username=self.kafka_username, password=self.kafka_password,
                             ca_file=self.kafka_ca_file, cert_file=self.kafka_cert_file, key_file=self.kafka_key_file)

    def redis_secret(self) -> Optional[str]:
        """The Redis password kept beside the URL (None: the URL says everything)."""
        return self.redis_password.get_secret_value() if self.redis_password is not None else None

    @field_validator("unit_registry_file")
    @classmethod
    def _registry(cls, value: Optional[Path]) -> Optional[Path]:
        # Read and checked at start, so a wrong file stops the command, not the first event.
        if value is not None:
            from streams.contract.unit_registry import RegistryError, load_registry

            try:
                load_registry(value)
            except RegistryError as exc:
                raise ValueError(str(exc)) from None
        return value

    def clocks(self) -> Clocks:
        """The legal clocks every fold and KPI of this process uses: the defaults with the
        configured link window (streams/core/clocks.py)."""
        return clocks_with_link_window(self.investigation_link_window_days)

    def unit_registry(self):
        """The configured :class:`~streams.contract.unit_registry.UnitRegistry`, or None."""
        if self.unit_registry_file is None:
            return None
        from streams.contract.unit_registry import load_registry

        return load_registry(self.unit_registry_file)

    def unit_registry_pairs(self) -> Optional[frozenset[tuple[str, str]]]:
        """The registry's (municipality, unit) pairs, what the validator checks; None without one."""
        registry = self.unit_registry()
        return registry.pairs if registry is not None else None

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _YamlSource(settings_cls)

    def redacted(self) -> dict[str, Any]:
        """For logs: secrets masked, passwords in URLs masked however they are given."""
        shown = self.model_dump()
        shown["redis_url"] = mask_url(shown["redis_url"])
        for key in SECRET_FILES:
            shown[key] = "**********" if shown[key] else None
        return shown


class _YamlSource(PydanticBaseSettingsSource):
    """The one configuration file named by CASEWATCH_CONFIG_FILE (top-level keys = fields)."""

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_FILE_ENV)
        if not path:
            return {}
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ValueError(f"{CONFIG_FILE_ENV}={path}: cannot read: {exc.strerror}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{CONFIG_FILE_ENV}={path}: expected a mapping of settings")
        return data

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one readable message."""
    from pydantic import ValidationError

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"casewatch: invalid configuration: {problems}") from None
