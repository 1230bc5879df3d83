"""The unit registry (CONTRACT.md §7): the (municipality, unit) pairs a municipality has, each
with the display name people see, and optionally which ingest sources may write to it.

A YAML file, configured with ``unit_registry_file`` in the settings
(``CASEWATCH_UNIT_REGISTRY_FILE``)::

    units:
      - municipality: "0138"        # SCB kommunkod, quoted so YAML keeps the leading zero
        unit: bou-1                 # as in events: [a-z0-9-]{1,40}
        name: Barn och unga, mottagning
        sources: [treserva-bou]     # optional: ingest API sources that may write to this unit

When a registry is configured, an event naming a pair that is not in it (in ``unit`` or
``to_unit``) is rejected ``unknown_unit``; that bounds the metric series a faulty source can
create. Without one, every well-formed unit is accepted. Dashboards, alerts and reports show
:meth:`UnitRegistry.display_name` instead of the bare unit code.

The file is read once at start; a wrong file stops the command with a message naming the
entry and the key at fault.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class RegistryError(ValueError):
    """The registry file is wrong; the message names the entry and the key."""


class _UnitModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    municipality: str = Field(pattern=r"^[0-9]{4}$")
    unit: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    name: str = Field(min_length=1, max_length=120)
    sources: Optional[list[str]] = None


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: list[_UnitModel] = Field(min_length=1)


@dataclass(frozen=True)
class RegisteredUnit:
    municipality: str
    unit: str
    name: str
    sources: Optional[frozenset[str]]  # None: any source may write to it


class UnitRegistry:
    """The configured units. ``pairs`` is the set the validator checks against."""

    def __init__(self, units: Iterable[RegisteredUnit]) -> None:
        self.units: dict[tuple[str, str], RegisteredUnit] = {}
        for entry in units:
            place = (entry.municipality, entry.unit)
            if place in self.units:
                raise RegistryError(f"unit {entry.municipality}/{entry.unit} is listed twice")
            self.units[place] = entry
        self.pairs: frozenset[tuple[str, str]] = frozenset(self.units)

    def __contains__(self, place: tuple[str, str]) -> bool:
        return place in self.pairs

    def __len__(self) -> int:
        return len(self.units)

    def display_name(self, municipality: str, unit: str) -> str:
        """The name people see; the unit code itself for a unit not in the registry."""
        entry = self.units.get((municipality, unit))
        return entry.name if entry is not None else unit

    def may_write(self, source: str, municipality: str, unit: str) -> bool:
        """Whether ingest source ``source`` may send events for this unit: the unit is
        registered and lists no sources, or lists this one."""
        entry = self.units.get((municipality, unit))
        if entry is None:
            return False
        return entry.sources is None or source in entry.sources

    def municipalities(self) -> frozenset[str]:
        return frozenset(m for m, _ in self.pairs)


def parse_registry(document: object, origin: str = "unit registry") -> UnitRegistry:
    try:
        model = _FileModel.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise RegistryError(f"{origin}: {problems}") from None
    return UnitRegistry(RegisteredUnit(u.municipality, u.unit, u.name,
                                       frozenset(u.sources) if u.sources is not None else None)
                        for u in model.units)


def load_registry(path: Path) -> UnitRegistry:
    """Read and check the registry file; :class:`RegistryError` says what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML ({type(exc).__name__})") from None
    try:
        return parse_registry(document, str(path))
    except RegistryError as exc:
        raise RegistryError(str(exc)) from None
