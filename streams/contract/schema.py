"""JSON Schema (2020-12) for integrators, generated from the catalogue.

`casewatch generate` rewrites ``streams/schema/case-event.v1.json``; a test keeps
the committed file equal to the generated one and checks the schema agrees with the validator.
Two rules cannot be written as schema and are stated in the descriptions instead: the Luhn and
date test for personal identity numbers, and that a staff event's ``case_id`` equals its
``staff_id``.
"""
from __future__ import annotations

import json
from pathlib import Path

from .catalogue import CATALOGUE, Field

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "case-event.v1.json"
# Shape only; the validator additionally checks that the date and clock values exist.
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"


def _field_schema(field: Field) -> dict:
    if field.kind == "enum":
        return {"type": "string", "enum": list(field.choices)}
    if field.kind == "bool":
        return {"type": "boolean"}
    if field.kind == "id":
        return {"type": "string", "minLength": 1, "maxLength": 64}
    if field.kind == "number":
        return {"type": "number"}
    if field.kind == "nonneg_number":
        return {"type": "number", "minimum": 0}
    if field.kind == "fte":
        return {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 1}
    if field.kind == "timestamp":
        return {"type": "string", "pattern": TIMESTAMP_PATTERN}
    if field.kind == "text":
        return {"type": "string"}
    raise AssertionError(field.kind)


def build_schema() -> dict:
    branches = []
    for spec in CATALOGUE.values():
        data = {
            "type": "object",
            "properties": {f.name: _field_schema(f) for f in spec.fields},
            "required": [f.name for f in spec.fields if f.required],
        }
        branches.append({
            "if": {"properties": {"type": {"const": spec.type}}, "required": ["type"]},
            "then": {"properties": {"data": data}},
            "description": spec.swedish,
        })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://casewatch.example/schema/case-event.v1.json",
        "title": "casewatch case event, contract v1",
        "description": (
            "One case event. No string anywhere may hold a Swedish personal identity or coordination "
            "number (10 or 12 digits with a valid date and Luhn digit); such events are rejected "
            "with reason personal_id_in_payload. For staff.* events case_id must equal data.staff_id. "
            "Unknown extra fields are ignored."
        ),
        "type": "object",
        "required": ["event_id", "type", "occurred_at", "municipality", "unit", "case_id", "data"],
        "properties": {
            "event_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "type": {"type": "string", "enum": list(CATALOGUE)},
            "occurred_at": {"type": "string", "pattern": TIMESTAMP_PATTERN},
            "municipality": {"type": "string", "pattern": "^[0-9]{4}$"},
            "unit": {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"},
            "case_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "data": {"type": "object"},
            "recorded_at": {"type": "string", "pattern": TIMESTAMP_PATTERN},
            "source": {"type": "string"},
        },
        "allOf": branches,
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
