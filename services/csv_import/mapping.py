"""Mapping files: how one case system's CSV export becomes contract events.

A mapping (YAML) names the export's dialect, where each envelope field comes from, and which
event(s) a row becomes. Values are either static (a plain scalar, or ``{value: ...}``) or
taken from a column with optional conversion::

    name: orosanmalningar            # part of every event id: renaming it re-keys the events
    source: lifecare-orosanmalan     # optional: the envelope's `source`
    file: {delimiter: ";", encoding: cp1252}
    timezone: Europe/Stockholm       # naive timestamps are local time here
    envelope:
      municipality: "0138"
      unit: {column: Enhet, map: {"BoU Mottagning": bou-mottagning}, slug: true}
      case_id: {column: Personnummer, pseudonymise: personal_id}
    events:
      - type: report.received
        occurred_at: {column: Inkom, format: "%Y-%m-%d %H:%M"}
        data:
          reporter: {column: Anmälare, map: {Skola: skola, Polis: polis}}

Column values are stripped and NFC-normalised; ``map`` keys match case-insensitively; a
``map`` value of ``null`` on the event ``type`` skips the row for that event. Errors name a
reason and the mapping's column, never the cell's value.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from streams.contract.catalogue import CATALOGUE

from .pseudonymise import Pseudonymiser, normalise_text

ValueType = Literal["string", "number", "integer", "bool", "timestamp"]
PseudonymKind = Literal["personal_id", "case_number", "identifier"]

ROW_ERROR_REASONS = (
    "missing_value", "unmapped_value", "bad_number", "bad_timestamp", "bad_bool",
    "bad_personal_id", "bad_identifier",
)


class MappingError(ValueError):
    """The mapping file itself is wrong (message safe to show: it names mapping keys only)."""


class RowError(Exception):
    """A row that the mapping cannot turn into an event: a reason and the column, no value."""

    def __init__(self, reason: str, column: str | None) -> None:
        super().__init__(f"{reason}: {column}" if column else reason)
        self.reason = reason
        self.column = column


def slugify(text: str) -> str:
    """A unit name as the contract's ``[a-z0-9-]{1,40}``: "BoU Öst" -> "bou-ost"."""
    text = normalise_text(text).casefold()
    text = text.translate(str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "æ": "a", "ø": "o"}))
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:40].rstrip("-")


_NUMBER_JUNK = re.compile(r"[\s\u00a0\u202f']")
_CURRENCY = re.compile(r"(?i)(kr|sek|:-)$")


def parse_number(text: str) -> float | int:
    """Swedish and plain numbers: "4 458,50", "4458.5", "1 100 kr", "1.100,00"."""
    s = _CURRENCY.sub("", _NUMBER_JUNK.sub("", text)).rstrip(".")
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif "," in s:
        s = s.replace(",", ".")
    s = s.replace("\u2212", "-")
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", s):
        raise ValueError("not a number")
    number = float(s)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return int(number) if number.is_integer() and "." not in s else number


class ValueSpec(BaseModel):
    """Where one output value comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Any = None
    column: Optional[str] = None
    map: Optional[dict[str, Any]] = None
    default: Any = None
    type: ValueType = "string"
    format: Optional[str] = None
    formats: Optional[list[str]] = None
    pseudonymise: Optional[PseudonymKind] = None
    optional: bool = False
    slug: bool = False
    true_values: list[str] = Field(default_factory=lambda: ["ja", "j", "yes", "y", "true", "1", "x", "sant"])
    false_values: list[str] = Field(default_factory=lambda: ["nej", "n", "no", "false", "0", "falskt"])

    @model_validator(mode="before")
    @classmethod
    def _scalar_is_static(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return {"value": data}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> "ValueSpec":
        static = "value" in self.model_fields_set
        if static == (self.column is not None):
            raise ValueError("give either a static value or a column")
        if static and (self.map or self.pseudonymise or self.format or self.formats):
            raise ValueError("map, pseudonymise and format need a column")
        return self

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


class WhenSpec(BaseModel):
    """A condition on a row for an event template: the column is non-empty (``present``),
    empty (``present: false``), or equals one of ``equals`` (case-insensitive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    present: Optional[bool] = None
    equals: Optional[list[str]] = None


class EventTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Optional[str] = Field(None, description="stable template id for event ids; default: the fixed type")
    type: ValueSpec
    when: Optional[WhenSpec] = None
    occurred_at: ValueSpec
    recorded_at: Optional[ValueSpec] = None
    municipality: Optional[ValueSpec] = None
    unit: Optional[ValueSpec] = None
    case_id: Optional[ValueSpec] = None
    data: dict[str, ValueSpec] = Field(default_factory=dict)
    id_columns: Optional[list[str]] = Field(
        None, description="columns identifying this event in a row (default: the mapping's)")


class FileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    quotechar: str = Field('"', min_length=1, max_length=1)
    skip_lines: int = Field(0, ge=0, description="lines before the header row (report titles)")

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    municipality: Optional[ValueSpec] = None
    unit: Optional[ValueSpec] = None
    case_id: Optional[ValueSpec] = None


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    description: Optional[str] = None
    source: Optional[str] = None
    file: FileSpec = Field(default_factory=FileSpec)
    timezone: str = "Europe/Stockholm"
    id_columns: Optional[list[str]] = Field(
        None, description="columns whose values identify a row (default: every column)")
    envelope: Envelope = Field(default_factory=Envelope)
    events: list[EventTemplate] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _check(self) -> "Mapping":
        keys = []
        for index, template in enumerate(self.events):
            where = f"events[{index}]"
            for name in ("municipality", "unit", "case_id"):
                if getattr(template, name) is None and getattr(self.envelope, name) is None:
                    raise ValueError(f"{where}: no {name} (set it in envelope or in the event)")
            fixed = "value" in template.type.model_fields_set
            types = [template.type.value] if fixed else [v for v in (template.type.map or {}).values() if v is not None]
            if not fixed and not template.type.map:
                raise ValueError(f"{where}.type: a type from a column needs a map to catalogue types")
            for type_ in types:
                if type_ not in CATALOGUE:
                    raise ValueError(f"{where}.type: {type_!r} is not in the catalogue")
                known = {f.name for f in CATALOGUE[type_].fields}
                unknown = sorted(set(template.data) - known)
                if unknown and fixed:
                    raise ValueError(f"{where}.data: {', '.join(unknown)} not fields of {type_}")
            keys.append(template.id or (template.type.value if fixed else f"event{index}"))
        if len(set(keys)) != len(keys):
            raise ValueError("two event templates share an id; give each an explicit `id`")
        return self

    def template_keys(self) -> list[str]:
        return [t.id or (t.type.value if "value" in t.type.model_fields_set else f"event{i}")
                for i, t in enumerate(self.events)]

    def columns(self) -> set[str]:
        """Every column the mapping reads."""
        found: set[str] = set(self.id_columns or ())

        def add(spec: ValueSpec | None) -> None:
            if spec is not None and spec.column:
                found.add(spec.column)

        for name in ("municipality", "unit", "case_id"):
            add(getattr(self.envelope, name))
        for template in self.events:
            for spec in (template.type, template.occurred_at, template.recorded_at, template.municipality,
                         template.unit, template.case_id, *template.data.values()):
                add(spec)
            if template.when:
                found.add(template.when.column)
            found.update(template.id_columns or ())
        return found


def load_mapping(path: Path | str) -> Mapping:
    """Read and check a mapping file; MappingError with every problem on failure."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise MappingError(f"{path}: expected a mapping at the top level")
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'mapping'}: {e['msg']}" for e in exc.errors())
        raise MappingError(f"{path}: {problems}") from None
