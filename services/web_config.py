"""TLS and basic auth for casewatch's HTTP endpoints, from a web configuration file.

The file has the shape Prometheus' own exporters read (exporter-toolkit's ``web-config.yml``),
so an operator who secures node_exporter secures casewatch the same way::

    tls_server_config:
      cert_file: server.crt            # relative paths: relative to this file
      key_file: server.key
      client_ca_file: ca.crt           # optional: with client_auth_type, mutual TLS
      client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default)
      min_version: TLS12               # TLS12 (default) or TLS13
    basic_auth_users:
      prometheus: $2b$12$...           # bcrypt hash (htpasswd -nBC 12 prometheus, or
                                       # `casewatch web-config hash`)

Without the file an endpoint is served as before (plain HTTP, no auth) and the command says so
in its start-up line. A correct password is remembered (as its SHA-256, per user) so that a
scrape every 15 s does not pay for bcrypt each time; a wrong one is never remembered.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml

CLIENT_AUTH_TYPES = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
TLS_VERSIONS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
REALM = 'Basic realm="casewatch", charset="UTF-8"'


class WebConfigError(ValueError):
    """The web configuration file is unreadable or inconsistent."""


def hash_password(password: str, rounds: int = 12) -> str:
    """A bcrypt hash for ``basic_auth_users``."""
    import bcrypt

    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


@dataclass
class WebConfig:
    cert_file: Optional[Path] = None
    key_file: Optional[Path] = None
    client_ca_file: Optional[Path] = None
    client_auth_type: str = "NoClientCert"
    min_version: str = "TLS12"
    users: dict[str, bytes] = field(default_factory=dict)
    _verified: dict[str, bytes] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, path: Path | str) -> "WebConfig":
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise WebConfigError(f"web config {path}: cannot read: {exc}") from None
        if not isinstance(data, dict):
            raise WebConfigError(f"web config {path}: expected a mapping")
        unknown = set(data) - {"tls_server_config", "basic_auth_users", "http_server_config"}
        if unknown:
            raise WebConfigError(f"web config {path}: unknown keys {sorted(unknown)}")
        tls = data.get("tls_server_config") or {}
        users = data.get("basic_auth_users") or {}
        if not isinstance(tls, dict) or not isinstance(users, dict):
            raise WebConfigError(f"web config {path}: tls_server_config and basic_auth_users must be mappings")

        def resolve(key: str) -> Optional[Path]:
            value = tls.get(key)
            return None if not value else (path.parent / value).resolve()

        config = cls(cert_file=resolve("cert_file"), key_file=resolve("key_file"),
                     client_ca_file=resolve("client_ca_file"),
                     client_auth_type=tls.get("client_auth_type", "NoClientCert"),
                     min_version=tls.get("min_version", "TLS12"),
                     users={str(u): str(h).encode("ascii") for u, h in users.items()})
        config.check(path)
        return config

    def check(self, source: Path | str = "web config") -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise WebConfigError(f"{source}: tls_server_config needs both cert_file and key_file")
        if self.client_auth_type not in CLIENT_AUTH_TYPES:
            raise WebConfigError(f"{source}: client_auth_type must be one of {sorted(CLIENT_AUTH_TYPES)}")
        if "Verify" in self.client_auth_type and self.client_ca_file is None:
            raise WebConfigError(f"{source}: client_auth_type {self.client_auth_type} needs client_ca_file")
        if self.min_version not in TLS_VERSIONS:
            raise WebConfigError(f"{source}: min_version must be one of {sorted(TLS_VERSIONS)}")
        for name in ("cert_file", "key_file", "client_ca_file"):
            file = getattr(self, name)
            if file is not None and not file.is_file():
                raise WebConfigError(f"{source}: {name} {file} does not exist")
        for user, hashed in self.users.items():
            if not hashed.startswith((b"$2a$", b"$2b$", b"$2y$")):
                raise WebConfigError(f"{source}: the password of {user!r} is not a bcrypt hash")

    @property
    def tls(self) -> bool:
        return self.cert_file is not None

    @property
    def auth(self) -> bool:
        return bool(self.users)

    def describe(self) -> str:
        """For the start-up log line: what protects the endpoint (never a secret)."""
        parts = ["TLS" if self.tls else "plain HTTP"]
        if self.tls and CLIENT_AUTH_TYPES[self.client_auth_type] == ssl.CERT_REQUIRED:
            parts.append("client certificates")
        parts.append(f"basic auth ({len(self.users)} users)" if self.auth else "no auth")
        return ", ".join(parts)

    def ssl_context(self) -> Optional[ssl.SSLContext]:
        if not self.tls:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = TLS_VERSIONS[self.min_version]
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        context.verify_mode = CLIENT_AUTH_TYPES[self.client_auth_type]
        if self.client_ca_file is not None:
            context.load_verify_locations(cafile=str(self.client_ca_file))
        return context

    def uvicorn_options(self) -> dict:
        """uvicorn.Config keyword arguments for the same TLS settings."""
        if not self.tls:
            return {}
        options = {"ssl_certfile": str(self.cert_file), "ssl_keyfile": str(self.key_file),
                   "ssl_cert_reqs": CLIENT_AUTH_TYPES[self.client_auth_type]}
        if self.client_ca_file is not None:
            options["ssl_ca_certs"] = str(self.client_ca_file)
        return options

    def authorised(self, header: Optional[str]) -> Optional[str]:
        """The user named by a valid ``Authorization: Basic`` header; None when refused.
        Always a user name when the config has no users (nothing to check)."""
        if not self.users:
            return ""
        if not header or not header[:6].lower() == "basic ":
            return None
        try:
            user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        hashed = self.users.get(user)
        if not sep or hashed is None:
            return None
        digest = hashlib.sha256(password.encode("utf-8")).digest()
        with self._lock:
            known = self._verified.get(user)
        if known is not None and hmac.compare_digest(known, digest):
            return user
        import bcrypt

        if not bcrypt.checkpw(password.encode("utf-8"), b"$2b$" + hashed[4:] if hashed.startswith(b"$2y$") else hashed):
            return None
        with self._lock:
            self._verified[user] = digest
        return user


def load_web_config(path: Path | str | None) -> WebConfig:
    """The web config at ``path``, or an empty one (plain HTTP, no auth) when ``path`` is None."""
    return WebConfig() if path is None else WebConfig.load(path)


def wsgi_basic_auth(app, config: WebConfig, open_paths: frozenset[str] = frozenset({"/healthz"})):
    """Wrap a WSGI app: every path but ``open_paths`` needs a valid basic-auth user."""
    if not config.auth:
        return app

    def guarded(environ, start_response):
        if (environ.get("PATH_INFO") or "/") in open_paths or config.authorised(environ.get("HTTP_AUTHORIZATION")) is not None:
            return app(environ, start_response)
        start_response("401 Unauthorized", [("Content-Type", "text/plain; charset=utf-8"),
                                            ("WWW-Authenticate", REALM)])
        return [b"unauthorized\n"]

    return guarded
