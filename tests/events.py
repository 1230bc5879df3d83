"""Small builders for contract events in tests."""
from __future__ import annotations

import itertools

import orjson

from streams.contract.validate import parse_instant
from streams.core.kpis import Period
from streams.core.replay import Replay

_ids = itertools.count(1)


def ev(type_: str, at: str, case: str = "c1", unit: str = "bou-1", mun: str = "0138",
       event_id: str | None = None, **data) -> dict:
    return {
        "event_id": event_id or f"t-{next(_ids)}",
        "type": type_,
        "occurred_at": at,
        "municipality": mun,
        "unit": unit,
        "case_id": case,
        "data": data,
    }


def line(event: dict) -> bytes:
    return orjson.dumps(event)


def replay(events: list[dict], as_of: str | None = None, period: Period | None = None) -> dict:
    r = Replay()
    r.add_lines(line(e) for e in events)
    return r.result(parse_instant(as_of) if as_of else None, period)


def kpis(events: list[dict], as_of: str | None = None, period: Period | None = None,
         mun: str = "0138", unit: str = "bou-1") -> dict:
    return replay(events, as_of, period)["units"][mun][unit]
