"""The ingest API's OpenAPI document (``GET /openapi.json``), built from the contract's catalogue."""
from __future__ import annotations

import orjson

from streams.contract.validate import REASONS
from streams.event_size import TOO_LARGE

from .limits import DEFAULT_MAX_BODY


def _event_schemas() -> dict:
    """The contract's event schema as OpenAPI likes it: one object schema per catalogue type
    (``type`` as a const discriminator) instead of the integrators' if/then form in
    ``streams/schema/case-event.v2.json``; both come from the same catalogue."""
    from streams.contract.catalogue import CATALOGUE
    from streams.contract.schema import SCHEMA_PATH, _field_schema

    full = orjson.loads(SCHEMA_PATH.read_bytes())
    envelope = {k: v for k, v in full["properties"].items() if k != "type"}
    schemas: dict[str, dict] = {}
    refs = []
    for name, spec in CATALOGUE.items():
        key = "Event_" + name.replace(".", "_")
        data = {"type": "object", "properties": {f.name: _field_schema(f) for f in spec.fields}}
        required = [f.name for f in spec.fields if f.required]
        if required:
            data["required"] = required
        schemas[key] = {"type": "object", "description": spec.swedish, "required": full["required"],
                        "properties": {**envelope, "type": {"type": "string", "const": name}, "data": data}}
        refs.append({"$ref": f"#/components/schemas/{key}"})
    schemas["CaseEvent"] = {"description": full["description"], "oneOf": refs,
                            "discriminator": {"propertyName": "type", "mapping": {
                                n: r["$ref"] for n, r in zip(CATALOGUE, refs)}}}
    return schemas


def _error_schema() -> dict:
    return {"type": "object", "required": ["error", "detail"],
            "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}}


def openapi_document(max_body_bytes: int = DEFAULT_MAX_BODY, metrics_auth: bool = False) -> dict:
    error = {"$ref": "#/components/schemas/Error"}
    json_error = {"application/json": {"schema": error}}
    result = {
        "type": "object",
        "required": ["accepted", "duplicate", "rejected", "results"],
        "properties": {
            "accepted": {"type": "integer", "minimum": 0},
            "duplicate": {"type": "integer", "minimum": 0},
            "rejected": {"type": "integer", "minimum": 0},
            "rejected_by_reason": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                                   "description": "rejected events summed up by contract reason"},
            "results": {"type": "array", "items": {
                "type": "object", "required": ["index", "status"], "additionalProperties": False,
                "properties": {
                    "index": {"type": "integer", "minimum": 0},
                    "status": {"enum": ["accepted", "duplicate", "rejected"]},
                    "reason": {"type": "string", "description": "contract rejection reason",
                               "examples": [*REASONS, TOO_LARGE]},
                    "field": {"type": "string", "description": "the field at fault (a name from the catalogue)"},
                }}},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "casewatch ingest API",
            "version": "1.0.0",
            "description": (
                "Case systems send case events (CONTRACT.md v1). Valid events go to Kafka keyed by case_id; "
                "rejected ones to the dead-letter topic. Each event gets an outcome by its index in the request; "
                "no value from the input is ever echoed. `duplicate` is a hint from a recent-id window: the worker "
                "deduplicates authoritatively, so resending is always safe."),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/v1/events": {"post": {
                "operationId": "postEvents",
                "summary": "Send one event, an array of events, or NDJSON",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"oneOf": [
                        {"$ref": "#/components/schemas/CaseEvent"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/CaseEvent"}},
                    ]}},
                    "application/x-ndjson": {"schema": {"type": "string",
                                                        "description": "one CaseEvent JSON object per line"}},
                }},
                "responses": {
                    "200": {"description": "per-event outcomes (also when some or all were rejected)",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IngestResult"}}}},
                    "400": {"description": "the body was cut short", "content": json_error},
                    "401": {"description": "missing or unknown bearer token", "content": json_error,
                            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
                    "403": {"description": "the source may not send an event type, or for a municipality or unit, "
                                           "in the request; nothing stored",
                            "content": json_error},
                    "408": {"description": "the body did not arrive in time", "content": json_error},
                    "413": {"description": f"body larger than {max_body_bytes} bytes, more events than the "
                                           "per-request cap, or a request that is one event over the event size "
                                           "limit (in a batch such an event is rejected as too_large)",
                            "content": json_error},
                    "415": {"description": "unsupported Content-Type", "content": json_error},
                    "429": {"description": "rate limit of the source exceeded", "content": json_error,
                            "headers": {"Retry-After": {"schema": {"type": "string"}, "required": True}}},
                    "503": {"description": "Kafka did not acknowledge; send the same request again",
                            "content": json_error, "headers": {"Retry-After": {"schema": {"type": "string"}}}},
                },
            }},
            "/healthz": {"get": {"operationId": "healthz", "security": [], "summary": "the process is up",
                                 "responses": {"200": {"description": "up", "content": {"application/json": {
                                     "schema": {"type": "object"}}}}}}},
            "/readyz": {"get": {"operationId": "readyz", "security": [], "summary": "Kafka is reachable",
                                "responses": {
                                    "200": {"description": "ready", "content": {"application/json": {"schema": {"type": "object"}}}},
                                    "503": {"description": "Kafka unreachable", "content": {"application/json": {"schema": {"type": "object"}}}},
                                }}},
            "/metrics": {"get": {"operationId": "metrics", "security": [{"basic": []}] if metrics_auth else [],
                                 "summary": "Prometheus metrics",
                                 "responses": {"200": {"description": "text exposition format",
                                                       "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                **({"basic": {"type": "http", "scheme": "basic"}} if metrics_auth else {})},
            "schemas": {**_event_schemas(), "IngestResult": result, "Error": _error_schema()},
        },
    }
