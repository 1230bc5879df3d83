"""The committed JSON Schema is generated from the catalogue and agrees with the validator."""
import json

import jsonschema
import orjson
import pytest

from streams.contract.schema import SCHEMA_PATH, render
from streams.contract.validate import Event, Rejection, validate_line
from tests.events import ev, line

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_committed_schema_is_up_to_date():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), "run: casewatch generate"


def test_schema_is_a_valid_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


ACCEPTED = [
    ev("report.received", "2024-03-01T10:00:00+01:00", reporter="polis", age_band="13-17"),
    ev("report.protection_assessed", "2024-03-01T10:00:00Z", immediate_protection=True),
    ev("investigation.extended", "2024-03-01T10:00:00+01:00", new_due="2024-06-01T10:00:00+02:00"),
    ev("decision.ended", "2024-03-01T10:00:00+01:00", decision_id="d1", reason="flyttat"),
    ev("application.received", "2024-03-01T10:00:00+01:00"),
    ev("payment.made", "2024-03-01T10:00:00+01:00", amount_sek=-250.5),
    ev("staff.joined", "2024-03-01T10:00:00+01:00", case="s1", staff_id="s1", role="behandlare",
       employment="consultant", fte=0.5, daily_cost_sek=7800),
]

REJECTED = [
    {k: v for k, v in ACCEPTED[0].items() if k != "unit"},
    dict(ACCEPTED[0], type="report.lost"),
    dict(ACCEPTED[0], occurred_at="2024-03-01T10:00:00"),
    dict(ACCEPTED[0], municipality="138"),
    dict(ACCEPTED[0], unit="Bou 1"),
    dict(ACCEPTED[0], data={"reporter": "grannen"}),
    dict(ACCEPTED[0], data={}),
    dict(ACCEPTED[5], data={"amount_sek": "250"}),
    dict(ACCEPTED[6], data=dict(ACCEPTED[6]["data"], fte=1.5)),
    dict(ACCEPTED[6], data=dict(ACCEPTED[6]["data"], daily_cost_sek=-1)),
]


@pytest.mark.parametrize("event", ACCEPTED)
def test_events_the_validator_accepts_satisfy_the_schema(event):
    assert isinstance(validate_line(line(event)), Event)
    VALIDATOR.validate(event)


@pytest.mark.parametrize("event", REJECTED)
def test_events_the_schema_refuses_are_rejected_by_the_validator(event):
    assert list(VALIDATOR.iter_errors(event))
    assert isinstance(validate_line(orjson.dumps(event)), Rejection)
