"""Who may use the editor, and as what: the users file (YAML).

    users:
      - name: anna.svensson        # as the login or the proxy's header gives it
        role: writer               # writer: save and freeze; reader: read, preview, download
        password_argon2: $argon2id$v=19$m=65536,t=3,p=4$...   # local login only

Passwords are stored only as argon2id hashes (``casewatch board add-user`` writes them). With
the reverse proxy the file still says who is a writer; a user the proxy vouches for but the
file does not name gets no access.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("reader", "writer")
_HASHER = PasswordHasher()
# Verified when the name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class AccountsError(ValueError):
    """The users file is wrong; the message names positions and keys, never a hash."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role == "writer"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def load_accounts(path: Path) -> dict[str, Account]:
    if not Path(path).is_file():
        return {}
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out: dict[str, Account] = {}
    for i, item in enumerate(raw.get("users") or ()):
        name, role = str(item.get("name", "")).strip(), item.get("role")
        if not name:
            raise AccountsError(f"{path}: users[{i}]: 'name' saknas")
        if role not in ROLES:
            raise AccountsError(f"{path}: users[{i}] ({name}): role ska vara en av {ROLES}")
        if name in out:
            raise AccountsError(f"{path}: users[{i}]: {name} förekommer två gånger")
        out[name] = Account(name, role, item.get("password_argon2"))
    return out


def save_account(path: Path, name: str, role: str, password: str | None) -> None:
    """Add or replace ``name`` in the users file (created with mode 0600 when missing)."""
    if role not in ROLES:
        raise AccountsError(f"role ska vara en av {ROLES}")
    path = Path(path)
    raw = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
    users = [u for u in raw.get("users") or () if u.get("name") != name]
    entry = {"name": name, "role": role}
    if password:
        entry["password_argon2"] = hash_password(password)
    users.append(entry)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(yaml.safe_dump({"users": users}, allow_unicode=True, sort_keys=False), encoding="utf-8")


def verify_login(accounts: dict[str, Account], name: str, password: str) -> Account | None:
    account = accounts.get(name)
    try:
        _HASHER.verify(account.password_hash if account and account.password_hash else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return account if account and account.password_hash else None
