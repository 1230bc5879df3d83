"""Configuration from the environment and one optional YAML file, validated at start.

Every service builds one frozen :class:`Settings` in its command and passes it down; nothing
reads the environment behind the caller's back. Secrets are ``SecretStr`` and print masked.
Precedence: explicit arguments > environment (``CASEWATCH_*``) > the YAML file > defaults.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_FILE_ENV = "CASEWATCH_CONFIG_FILE"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWATCH_", frozen=True, extra="forbid")

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="host:port[,host:port]")
    case_topic: str = "casewatch.case-events"
    dead_letter_topic: str = "casewatch.dead-letter"
    partitions: int = Field(4, ge=1, le=256)
    consumer_group: str = "casewatch-worker"
    redis_url: str = Field("redis://127.0.0.1:6379/0", repr=False)  # may carry a password
    redis_prefix: str = Field("cw", pattern=r"^[a-z0-9_-]{1,20}$")
    worker_data_dir: Path = Path("var/worker")
    worker_web_port: int = Field(6066, ge=0, le=65535)
    exporter_host: str = "127.0.0.1"
    exporter_port: int = Field(9464, ge=0, le=65535)
    # A fixed instant for the exporter's clock (tests, what-if); None means wall-clock time.
    as_of: Optional[str] = None
    thresholds_file: Optional[Path] = None
    pseudonym_key: Optional[SecretStr] = None
    grafana_token: Optional[SecretStr] = None

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

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _YamlSource(settings_cls)

    def redacted(self) -> dict[str, Any]:
        """For logs: secrets masked by pydantic, credentials stripped from URLs."""
        shown = self.model_dump()
        url = shown["redis_url"]
        if "@" in url:
            scheme, rest = url.split("://", 1)
            shown["redis_url"] = f"{scheme}://***@{rest.split('@', 1)[1]}"
        for key in ("pseudonym_key", "grafana_token"):
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
