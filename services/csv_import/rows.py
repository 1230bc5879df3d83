"""Applying a mapping (:mod:`services.csv_import.mapping`) to the rows of a CSV export:
:class:`RowMapper` turns one row into contract events or a :class:`RowError`."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional
from zoneinfo import ZoneInfo

from streams.contract.catalogue import CATALOGUE

from .mapping import Mapping, RowError, ValueSpec, WhenSpec, EventTemplate, parse_number, slugify
from .pseudonymise import Pseudonymiser, normalise_text


_SKIP = object()


@dataclass(frozen=True)
class BuiltEvent:
    template: str
    event: dict


class RowMapper:
    """Turns CSV rows (dicts of header -> cell) into contract events with one mapping and key."""

    def __init__(self, mapping: Mapping, pseudonymiser: Pseudonymiser) -> None:
        self.mapping = mapping
        self.pseudo = pseudonymiser
        self.zone = ZoneInfo(mapping.timezone)
        self.keys = mapping.template_keys()
        self._maps: dict[int, dict[str, Any]] = {}
        self._typed: dict[int, ValueSpec] = {}

    def missing_columns(self, header: list[str]) -> list[str]:
        return sorted(self.mapping.columns() - set(header))

    # -- single values

    def _lookup(self, spec: ValueSpec) -> dict[str, Any]:
        table = self._maps.get(id(spec))
        if table is None:
            table = self._maps[id(spec)] = {normalise_text(str(k)).casefold(): v for k, v in (spec.map or {}).items()}
        return table

    def _timestamp(self, spec: ValueSpec, text: str) -> str:
        formats = spec.formats or ([spec.format] if spec.format else [])
        for fmt in formats:
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=self.zone)
            return parsed.isoformat(timespec="seconds")
        if not formats:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                raise RowError("bad_timestamp", spec.column) from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=self.zone)
            return parsed.isoformat(timespec="seconds")
        raise RowError("bad_timestamp", spec.column)

    def _convert(self, spec: ValueSpec, text: str) -> Any:
        column = spec.column
        if spec.type == "timestamp":
            return self._timestamp(spec, text)
        if spec.type in ("number", "integer"):
            try:
                number = parse_number(text)
            except ValueError:
                raise RowError("bad_number", column) from None
            if spec.type == "integer":
                if not float(number).is_integer():
                    raise RowError("bad_number", column)
                return int(number)
            return number
        if spec.type == "bool":
            folded = text.casefold()
            if folded in {v.casefold() for v in spec.true_values}:
                return True
            if folded in {v.casefold() for v in spec.false_values}:
                return False
            raise RowError("bad_bool", column)
        return text

    def value(self, spec: ValueSpec, row: dict[str, str]) -> Any:
        """The output value, ``_SKIP`` when an optional value is empty, or RowError."""
        if spec.column is None:
            return spec.value
        text = normalise_text(row.get(spec.column) or "")
        if not text:
            if spec.has_default:
                return spec.default
            if spec.optional:
                return _SKIP
            raise RowError("missing_value", spec.column)
        if spec.pseudonymise:
            try:
                return self.pseudo.pseudonym(spec.pseudonymise, text)
            except ValueError:
                raise RowError("bad_personal_id" if spec.pseudonymise == "personal_id" else "bad_identifier",
                               spec.column) from None
        if spec.map is not None:
            table = self._lookup(spec)
            folded = text.casefold()
            if folded in table:
                return table[folded]
            if spec.has_default:
                return spec.default
            if not spec.slug:
                raise RowError("unmapped_value", spec.column)
        if spec.slug:
            slug = slugify(text)
            if not slug:
                raise RowError("unmapped_value", spec.column)
            return slug
        return self._convert(spec, text)

    # -- rows

    def _when(self, when, row: dict[str, str]) -> bool:
        text = normalise_text(row.get(when.column) or "")
        if when.present is not None and bool(text) != when.present:
            return False
        if when.equals is not None and text.casefold() not in {normalise_text(v).casefold() for v in when.equals}:
            return False
        return True

    def row_identity(self, row: dict[str, str], columns: list[str] | None = None) -> list[tuple[str, str]]:
        """The normalised source values that identify a row, sorted by column name (so a
        re-export with its columns reordered keeps its event ids)."""
        names = columns or self.mapping.id_columns or row.keys()
        return sorted((name, normalise_text(row.get(name) or "")) for name in names if name is not None)

    def events(self, row: dict[str, str]) -> list[BuiltEvent]:
        """The events a row becomes (maybe none); RowError when the mapping cannot apply."""
        envelope = self.mapping.envelope
        built: list[BuiltEvent] = []
        identity: list[tuple[str, str]] | None = None  # shared by templates without their own
        for key, template in zip(self.keys, self.mapping.events):
            if template.when is not None and not self._when(template.when, row):
                continue
            type_ = self.value(template.type, row)
            if type_ is None or type_ is _SKIP:
                continue
            event: dict[str, Any] = {"event_id": "", "type": type_}
            event["occurred_at"] = self._required(self._with_type(template.occurred_at), row)
            for name in ("municipality", "unit", "case_id"):
                spec = getattr(template, name) or getattr(envelope, name)
                event[name] = self._required(spec, row)
            data: dict[str, Any] = {}
            for name, spec in template.data.items():
                value = self.value(spec, row)
                if value is not _SKIP:
                    data[name] = value
            event["data"] = data
            if template.recorded_at is not None:
                recorded = self.value(self._with_type(template.recorded_at), row)
                if recorded is not _SKIP:
                    event["recorded_at"] = recorded
            if self.mapping.source:
                event["source"] = self.mapping.source
            if template.id_columns:
                own = self.row_identity(row, template.id_columns)
            else:
                if identity is None:
                    identity = self.row_identity(row)
                own = identity
            event["event_id"] = self.pseudo.event_id(self.mapping.name, key, own)
            built.append(BuiltEvent(key, event))
        return built

    def _required(self, spec: ValueSpec, row: dict[str, str]) -> Any:
        value = self.value(spec, row)
        if value is _SKIP:
            raise RowError("missing_value", spec.column)
        return value

    def _with_type(self, spec: ValueSpec) -> ValueSpec:
        """Timestamp fields read as timestamps unless the mapping says otherwise."""
        if spec.column is None or "type" in spec.model_fields_set:
            return spec
        cached = self._typed.get(id(spec))
        if cached is None:
            cached = self._typed[id(spec)] = spec.model_copy(update={"type": "timestamp"})
        return cached
