"""Per-case facts folded from a case's distinct events.

A case's state is the *set* of its distinct events; its facts are a deterministic function of
that set: the events are sorted by (event time, catalogue position, event id) and folded by
small state machines. Arrival order and duplicates therefore cannot change anything, and a
replay or a re-applied projection gives the same facts.

Each fact ("item") carries the unit of the event that created it and every instant that later
changes it. KPIs read an item *at* ``as_of`` by ignoring instants after it; because the state
machines only look backwards in time, that equals folding only the events up to ``as_of``.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple

import orjson

from streams.contract.catalogue import CATALOGUE

# An event as the fold keeps it: (occurred_at as POSIX seconds, catalogue code, event_id, unit, payload).
Record = tuple


class ReportItem(NamedTuple):
    unit: str
    received: float
    protected: float | None  # first protection assessment at or after the report
    screened: float | None  # first screening at or after the report


class InvestigationItem(NamedTuple):
    unit: str
    opened: float
    closed: float | None
    extensions: tuple  # ((decided_at, new_due), ...) in event-time order


class DecisionItem(NamedTuple):
    unit: str
    made: float
    intervention: str
    resolved: float | None  # first enforcement or ending
    decision_id: str | None = None  # the IVO list names decisions; last, so older projections still load


class PlacementItem(NamedTuple):
    unit: str
    placement_type: str
    started: float
    ended: float | None
    costs: tuple  # ((from_instant, daily_cost_sek), ...) sorted; the start's own cost included


class ApplicationItem(NamedTuple):
    unit: str
    received: float
    decided: float | None


class PaymentItem(NamedTuple):
    unit: str
    paid: float
    amount_sek: float


class StaffItem(NamedTuple):
    unit: str
    role: str
    employment: str
    fte: float
    daily_cost_sek: float | None
    joined: float
    left: float | None


class CaseFacts(NamedTuple):
    municipality: str
    reports: tuple[ReportItem, ...] = ()
    investigations: tuple[InvestigationItem, ...] = ()
    decisions: tuple[DecisionItem, ...] = ()
    placements: tuple[PlacementItem, ...] = ()
    applications: tuple[ApplicationItem, ...] = ()
    payments: tuple[PaymentItem, ...] = ()
    staff: tuple[StaffItem, ...] = ()


_C = {name: spec.code for name, spec in CATALOGUE.items()}
(REPORT, PROTECTED, SCREENED, INV_OPENED, INV_EXTENDED, INV_CLOSED, DEC_MADE, DEC_ENFORCED,
 DEC_ENDED, PL_STARTED, PL_COST, PL_ENDED, APP_RECEIVED, APP_DECIDED, PAYMENT, STAFF_JOINED,
 STAFF_LEFT) = (_C[t] for t in CATALOGUE)


def fold_case(municipality: str, records: Iterable[Record], as_of: float | None = None) -> CaseFacts:
    """The facts of one case from its distinct events (those after ``as_of`` ignored)."""
    if as_of is not None:
        records = [r for r in records if r[0] <= as_of]
    reports: list[list] = []
    awaiting_protection: list[list] = []
    awaiting_screening: list[list] = []
    investigations: list[list] = []
    open_investigation: list | None = None
    decisions: dict[str, list] = {}
    resolutions: dict[str, float] = {}
    placements: dict[str, list] = {}
    placement_ends: dict[str, float] = {}
    cost_changes: dict[str, list] = {}
    applications: list[list] = []
    open_application: list | None = None
    payments: list[PaymentItem] = []
    staff: list[list] = []
    open_staff: list | None = None

    # Records sort as tuples: (ts, code, event_id) decide, since event ids are unique in a case.
    for ts, code, _event_id, unit, payload in sorted(records):
        if code == REPORT:
            report = [unit, ts, None, None]
            reports.append(report)
            awaiting_protection.append(report)
            awaiting_screening.append(report)
        elif code == PROTECTED:
            for report in awaiting_protection:
                report[2] = ts
            awaiting_protection.clear()
        elif code == SCREENED:
            for report in awaiting_screening:
                report[3] = ts
            awaiting_screening.clear()
        elif code == INV_OPENED:
            if open_investigation is None:  # an "open" while open is a re-export, not a new clock
                open_investigation = [unit, ts, None, []]
                investigations.append(open_investigation)
        elif code == INV_EXTENDED:
            if open_investigation is not None:
                open_investigation[3].append((ts, payload[0]))
        elif code == INV_CLOSED:
            if open_investigation is not None:
                open_investigation[2] = ts
                open_investigation = None
        elif code == DEC_MADE:
            decisions.setdefault(payload[0], [unit, ts, payload[1]])
        elif code == DEC_ENFORCED or code == DEC_ENDED:
            resolutions.setdefault(payload[0], ts)
        elif code == PL_STARTED:
            placements.setdefault(payload[0], [unit, payload[1], ts, payload[2]])
        elif code == PL_COST:
            cost_changes.setdefault(payload[0], []).append((ts, payload[1]))
        elif code == PL_ENDED:
            placement_ends.setdefault(payload[0], ts)
        elif code == APP_RECEIVED:
            if open_application is None:  # first contact counts; repeats while pending do not
                open_application = [unit, ts, None]
                applications.append(open_application)
        elif code == APP_DECIDED:
            if open_application is not None:
                open_application[2] = ts
                open_application = None
        elif code == PAYMENT:
            payments.append(PaymentItem(unit, ts, payload[0]))
        elif code == STAFF_JOINED:
            if open_staff is None:
                _sid, role, employment, fte, daily_cost = payload
                open_staff = [unit, role, employment, fte, daily_cost, ts, None]
                staff.append(open_staff)
        elif code == STAFF_LEFT:
            if open_staff is not None:
                open_staff[6] = ts
                open_staff = None

    return CaseFacts(
        municipality,
        tuple(ReportItem(*r) for r in reports),
        tuple(InvestigationItem(u, o, c, tuple(ext)) for u, o, c, ext in investigations),
        tuple(
            DecisionItem(u, made, intervention, resolutions.get(decision_id), decision_id)
            for decision_id, (u, made, intervention) in sorted(decisions.items())
        ),
        tuple(
            PlacementItem(
                u, ptype, started, placement_ends.get(pid),
                tuple(sorted([(started, cost), *cost_changes.get(pid, ())])),
            )
            for pid, (u, ptype, started, cost) in sorted(placements.items())
        ),
        tuple(ApplicationItem(*a) for a in applications),
        tuple(payments),
        tuple(StaffItem(*s) for s in staff),
    )


# --- (de)serialisation for projections --------------------------------------------------------

_ITEM_TYPES = (ReportItem, InvestigationItem, DecisionItem, PlacementItem, ApplicationItem, PaymentItem, StaffItem)


def _plain(value: object) -> object:
    """Named tuples as plain lists: orjson serialises tuples, not their subclasses."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def facts_to_json(facts: CaseFacts) -> bytes:
    return orjson.dumps(_plain(facts))


def facts_from_json(raw: bytes | str) -> CaseFacts:
    municipality, *families = orjson.loads(raw)
    built = []
    for item_type, items in zip(_ITEM_TYPES, families):
        if item_type is InvestigationItem:
            built.append(tuple(InvestigationItem(u, o, c, tuple(map(tuple, ext))) for u, o, c, ext in items))
        elif item_type is PlacementItem:
            built.append(tuple(PlacementItem(u, t, s, e, tuple(map(tuple, costs))) for u, t, s, e, costs in items))
        else:
            built.append(tuple(item_type(*i) for i in items))
    return CaseFacts(municipality, *built)
