"""The board editor's settings: environment (``CASEWATCH_BOARD_*``) over defaults, checked at start.

Kept apart from the pipeline's settings: the editor runs on the office's server, next to the
snapshots, and needs none of Kafka's or Redis' settings unless it reads the event log from Kafka.
"""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class EditorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEWATCH_BOARD_", frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8471, ge=0, le=65535)
    data_dir: Path = Field(Path("var/board"), description="drafts and audit trail, one folder per month")
    snapshots_dir: Path = Field(Path("snapshots"), description="frozen revisions, as `casewatch snapshot --out-dir`")
    events_file: Optional[Path] = None  # JSONL case events; or from_kafka
    from_kafka: bool = False
    config_file: Optional[Path] = None  # board.yaml; None: the packaged one
    ledger_file: Optional[Path] = None
    municipality: Optional[str] = None

    auth: Literal["local", "proxy"] = "local"
    users_file: Path = Path("board-users.yaml")
    proxy_user_header: str = "X-Remote-User"
    # Comma-separated addresses or networks of the reverse proxy; the user header is believed
    # only on connections from these. Required with auth=proxy.
    trusted_proxies: str = ""

    session_secret: Optional[SecretStr] = None
    session_secret_file: Optional[Path] = None
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_max_hours: int = Field(10, ge=1, le=7 * 24)
    # Seconds after the last keystroke before the page saves the draft by itself; 0: only on "Spara utkast".
    autosave_seconds: float = Field(3.0, ge=0, le=600)
    cookie_secure: bool = True  # Secure cookies; browsers accept them on http://localhost too

    @field_validator("proxy_user_header")
    @classmethod
    def _header(cls, value: str) -> str:
        if not _HEADER.match(value):
            raise ValueError("a header name: letters, digits and '-'")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # raises ValueError with the bad address
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "EditorSettings":
        if self.auth == "proxy" and not self.proxy_networks():
            raise ValueError("auth=proxy needs CASEWATCH_BOARD_TRUSTED_PROXIES (the proxy's addresses)")
        if bool(self.events_file) == self.from_kafka:
            raise ValueError("set either CASEWATCH_BOARD_EVENTS_FILE or CASEWATCH_BOARD_FROM_KAFKA=true")
        return self

    def proxy_networks(self) -> list:
        return [ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()]

    def secret_key(self) -> str | None:
        """The session signing key from the setting or its file; None: make one per process."""
        if self.session_secret is not None:
            return self.session_secret.get_secret_value()
        if self.session_secret_file is not None:
            return self.session_secret_file.read_text(encoding="utf-8").strip()
        return None


def load_editor_settings(**overrides) -> EditorSettings:
    from pydantic import ValidationError

    try:
        return EditorSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"casewatch board: invalid configuration: {problems}") from None
