"""Deliberately invalid lines: malformed variants of valid ones, each with the reason the contract
rejects it."""
from __future__ import annotations

from random import Random

import orjson

# Event types whose every data field is optional (application.received: new_applicant).
_OPTIONAL_DATA_ONLY = frozenset({"application.received"})

def fake_personal_number(rng: Random) -> str:
    """A made-up Swedish personal identity (or coordination) number that passes the date and
    Luhn checks of CONTRACT.md §1a. Only for deliberately invalid test lines."""
    year = rng.randint(1940, 2015)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    if rng.random() < 0.2:
        day += 60  # samordningsnummer
    serial = rng.randint(0, 999)
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial:03d}"
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    check = (10 - total % 10) % 10
    if rng.random() < 0.5:
        return f"{year}{month:02d}{day:02d}{serial:03d}{check}"
    return f"{nine[:6]}-{nine[6:]}{check}"


def spoil(line: bytes, reason: str, rng: Random, event_id: str) -> bytes:
    """A malformed variant of a valid line that the contract rejects with ``reason``."""
    if reason == "invalid_json":
        return line[: len(line) // 2].rstrip(b"\n") + b"\n"
    obj = orjson.loads(line)
    obj["event_id"] = event_id
    pick = rng.randrange(3)
    if reason == "missing_field":
        if pick == 2 and obj["data"] and obj["type"] not in _OPTIONAL_DATA_ONLY:
            del obj["data"][next(iter(obj["data"]))]  # the first data field is then required
        else:
            del obj[("case_id", "occurred_at", "type")[pick]]
    elif reason == "bad_type":
        if pick == 0:
            obj["case_id"] = 4711
        elif pick == 1:
            obj["municipality"] = int(obj["municipality"])
        else:
            obj["data"] = []
    elif reason == "unknown_type":
        obj["type"] = ("report.withdrawn", "case.merged", "placement.paused")[pick]
    elif reason == "bad_timestamp":
        occurred = obj["occurred_at"]
        obj["occurred_at"] = (occurred[:19], occurred[:10], occurred[:19] + "Z+1")[pick]
    elif reason == "personal_id_in_payload":
        number = fake_personal_number(rng)
        if pick == 0:
            obj["case_id"] = number
        elif pick == 1:
            obj["comment"] = f"barnet {number} har flyttat"
        else:
            obj["data"]["note"] = number
    else:  # pragma: no cover
        raise ValueError(reason)
    return orjson.dumps(obj) + b"\n"

