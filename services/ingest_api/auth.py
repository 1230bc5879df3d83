"""Source systems and their bearer tokens.

The sources file (YAML) lists each case system allowed to post events::

    sources:
      - name: treserva-bou              # [a-z0-9-]: a metric label and the dead letters' source
        token_sha256:                   # sha256 hex of each active token; several = rotation
          - 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
        allowed_types: [report.received, report.screened, investigation.opened]
        rate_per_second: 20             # requests; optional (default 20)
        burst: 40                       # optional (default 2 x rate)
        events_per_second: 1000         # events, whatever the batching; optional (default 1000)
        event_burst: 10000              # optional (default: the larger of 2 x events_per_second
                                        #   and the per-request event cap); also this source's
                                        #   most events in one request (413 beyond)
        municipalities: ["0138"]        # SCB codes this source may write for; optional (all)

Tokens are never stored, only their SHA-256 (``casewatch ingest-api hash-token`` prints it).
A presented token is hashed and compared with every active hash of every source using
:func:`hmac.compare_digest`, always the same number of comparisons, so timing tells nothing
about which part matched. To rotate: add the new hash, move the client over, remove the old one.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from streams.contract.catalogue import CATALOGUE

from .limits import DEFAULT_MAX_EVENTS

DEFAULT_RATE = 20.0
DEFAULT_EVENT_RATE = 1000.0

_HEX64 = re.compile(r"[0-9a-f]{64}")


class SourcesError(ValueError):
    """The sources file is wrong; the message names keys and positions, never a hash."""


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of a token as the sources file stores it (surrounding whitespace
    and a trailing newline, as from ``echo``, are not part of the token)."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


class _SourceModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    token_sha256: list[str] = Field(min_length=1)
    allowed_types: list[str] = Field(min_length=1)
    rate_per_second: float = Field(DEFAULT_RATE, gt=0, le=100_000)
    burst: Optional[float] = Field(None, ge=1, le=1_000_000)
    events_per_second: float = Field(DEFAULT_EVENT_RATE, gt=0, le=1_000_000)
    event_burst: Optional[float] = Field(None, ge=1, le=10_000_000)
    municipalities: Optional[list[str]] = None

    @field_validator("municipalities")
    @classmethod
    def _codes(cls, values: Optional[list[str]]) -> Optional[list[str]]:
        if values is not None and (not values or not all(isinstance(v, str) and re.fullmatch(r"[0-9]{4}", v)
                                                          for v in values)):
            raise ValueError("a non-empty list of four-digit SCB codes, quoted (\"0138\")")
        return values

    @field_validator("token_sha256", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("token_sha256")
    @classmethod
    def _hex(cls, values: list[str]) -> list[str]:
        out = []
        for i, value in enumerate(values):
            value = value.strip().lower()
            if not _HEX64.fullmatch(value):
                raise ValueError(f"entry {i} is not a sha256 hex digest (64 hex characters)")
            out.append(value)
        return out

    @field_validator("allowed_types")
    @classmethod
    def _types(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in CATALOGUE and v != "*"]
        if unknown:
            raise ValueError(f"not catalogue event types: {', '.join(map(str, unknown))}")
        return values


class _SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[_SourceModel] = Field(min_length=1)


@dataclass(frozen=True)
class Source:
    name: str
    token_hashes: tuple[bytes, ...]
    allowed_types: frozenset[str]
    rate_per_second: float = DEFAULT_RATE
    burst: float = 2 * DEFAULT_RATE
    events_per_second: float = DEFAULT_EVENT_RATE
    event_burst: float = 2 * DEFAULT_EVENT_RATE
    municipalities: Optional[frozenset[str]] = None  # None: any municipality

    def may_send(self, event_type: str) -> bool:
        return event_type in self.allowed_types

    def may_write_for(self, municipality: str) -> bool:
        return self.municipalities is None or municipality in self.municipalities

    def __repr__(self) -> str:  # hashes are not secrets, but there is no reason to print them
        return f"Source(name={self.name!r}, allowed_types={sorted(self.allowed_types)})"


class Sources:
    """The configured sources; :meth:`authenticate` maps an Authorization header to one."""

    def __init__(self, sources: list[Source]) -> None:
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise SourcesError("two sources share a name")
        seen: set[bytes] = set()
        for source in sources:
            for digest in source.token_hashes:
                if digest in seen:
                    raise SourcesError(f"source {source.name}: a token hash is used by two sources")
                seen.add(digest)
        self.sources = tuple(sources)
        self._table = tuple((digest, source) for source in sources for digest in source.token_hashes)

    def __iter__(self):
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)

    def authenticate(self, authorization: str | None) -> Source | None:
        """The source whose active token is presented as ``Bearer <token>``, or None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        presented = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found = None
        for digest, source in self._table:  # no early exit: constant work whatever matches
            if hmac.compare_digest(presented, digest):
                found = source
        return found

    @classmethod
    def from_dicts(cls, entries: list[dict]) -> "Sources":
        try:
            parsed = _SourcesFile.model_validate({"sources": entries})
        except ValidationError as exc:
            raise SourcesError(_problems(exc)) from None
        return cls._build(parsed)

    @classmethod
    def _build(cls, parsed: _SourcesFile, max_events_per_request: int = DEFAULT_MAX_EVENTS) -> "Sources":
        out = []
        for s in parsed.sources:
            allowed = frozenset(CATALOGUE) if "*" in s.allowed_types else frozenset(s.allowed_types)
            out.append(Source(s.name, tuple(bytes.fromhex(h) for h in s.token_sha256), allowed,
                              s.rate_per_second, s.burst or max(1.0, 2 * s.rate_per_second),
                              s.events_per_second,
                              s.event_burst or max(2 * s.events_per_second, float(max_events_per_request)),
                              frozenset(s.municipalities) if s.municipalities is not None else None))
        return cls(out)


def _problems(exc: ValidationError) -> str:
    # pydantic's messages can quote the input; keep only locations and our own messages
    parts = []
    for e in exc.errors():
        loc = ".".join(map(str, e["loc"])) or "sources"
        msg = e["msg"] if e["type"] in ("value_error", "missing", "extra_forbidden", "too_short") else e["type"]
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def load_sources(path: Path | str) -> Sources:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError:
        raise SourcesError(f"{path}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise SourcesError(f"{path}: expected `sources:` with a list of sources")
    try:
        parsed = _SourcesFile.model_validate(raw)
    except ValidationError as exc:
        raise SourcesError(f"{path}: {_problems(exc)}") from None
    try:
        return Sources._build(parsed)
    except SourcesError as exc:
        raise SourcesError(f"{path}: {exc}") from None
