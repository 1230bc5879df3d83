"""Secrets read from files, and connection URLs made safe to log.

Every secret of casewatch can come from a file (a Docker/Kubernetes secrets mount) instead of an
environment variable: ``CASEWATCH_<NAME>_FILE``. A secret file holds the secret and at most a
trailing newline; an empty file is an error, not an empty password.

:func:`mask_url` hides the password of a Redis or Kafka URL however it was given: as userinfo
(``redis://user:pw@host``), as a query parameter (``?password=pw``), or both.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

MASK = "***"
# query parameters whose value is a credential (redis-py reads password= and username=)
SECRET_QUERY_KEYS = frozenset({"password", "pass", "pwd", "token", "secret", "sasl_plain_password"})


class SecretFileError(ValueError):
    """A secret file is missing, unreadable or empty."""


def read_secret_file(path: Path | str, what: str = "secret") -> SecretStr:
    """The secret in ``path``: its content without one trailing newline (``\\r\\n`` too)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretFileError(f"{what} file {path}: cannot read: {exc.strerror or exc}") from None
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    if not text:
        raise SecretFileError(f"{what} file {path} is empty")
    return SecretStr(text)


_USERINFO = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^@/?#]*)@", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (the user name stays: it tells who connects)."""
    if not url:
        return url
    masked = url
    match = _USERINFO.match(masked)
    if match:
        user, sep, _password = match.group("userinfo").partition(":")
        shown = f"{user}:{MASK}" if sep else (MASK if not user else user)
        # "redis://pw@host" (no colon) is how redis-py reads a bare password: mask it too
        if not sep and user and "://" in masked and masked.lower().startswith(("redis", "rediss", "unix")):
            shown = MASK
        masked = f"{match.group('scheme')}{shown}@{masked[match.end():]}"
    parts = urlsplit(masked)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(k.lower() in SECRET_QUERY_KEYS for k, _ in pairs):
            query = urlencode([(k, MASK if k.lower() in SECRET_QUERY_KEYS else v) for k, v in pairs], safe="*/:")
            masked = urlunsplit(parts._replace(query=query))
    return masked


def mask_text(text: str, urls: list[str]) -> str:
    """``text`` with each of ``urls`` replaced by its masked form (for messages built elsewhere)."""
    for url in urls:
        if url:
            text = text.replace(url, mask_url(url))
    return text
