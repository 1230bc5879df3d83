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

from math import copysign
from typing import Any, Callable, Iterable, NamedTuple, cast

import orjson

from streams.contract.catalogue import CATALOGUE

from .clocks import DEFAULT_CLOCKS, Clocks

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
    # v2 fields last, with v1's meaning as defaults, so projections written before v2 still load.
    child: bool = True  # about a child: only then on the legal clock (SoL 11 kap. 2 §)
    clock_start: float | None = None  # linked: the opening of the first episode of the chain
    inherited_due: float | None = None  # linked: the deadline the previous episode extended to

    @property
    def linked(self) -> bool:
        return self.clock_start is not None


class DecisionItem(NamedTuple):
    unit: str
    made: float
    intervention: str
    resolved: float | None  # first enforcement or ending
    decision_id: str | None = None  # the IVO list names decisions; last, so older projections still load
    legal_basis: str = "sol"
    sex: str | None = None
    enforced: float | None = None  # first enforcement
    ended: float | None = None  # first ending
    # ((interrupted_at, closed_at | None, "resumed" | "ended" | None), ...) in event-time order
    interruptions: tuple = ()
    delay_reasons: tuple = ()  # ((occurred_at, reason), ...) in event-time order


class PlacementItem(NamedTuple):
    unit: str
    placement_type: str
    started: float
    ended: float | None
    costs: tuple  # ((from_instant, daily_cost_sek), ...) sorted; the start's own cost included
    legal_basis: str = "sol"


class ApplicationItem(NamedTuple):
    unit: str
    received: float
    decided: float | None
    new_applicant: bool = False


class PaymentItem(NamedTuple):
    unit: str
    paid: float
    amount_sek: int | float  # as the event wrote it (not "float": a compiled core would convert)


def payment_order(p: PaymentItem) -> tuple:
    """The order of a case's payments in its facts: by instant, then by value (amount, unit, an
    int before a float, -0.0 before 0.0), never by event id, so a state that keeps payments
    without their ids (streams/case_state.py) folds them into the same facts."""
    amount = p.amount_sek
    return p.paid, amount, p.unit, type(amount) is float, copysign(1.0, amount)


class StaffItem(NamedTuple):
    unit: str
    role: str
    employment: str
    fte: int | float
    daily_cost_sek: int | float | None
    joined: float
    left: float | None


class CaseTransfer(NamedTuple):
    """A ``case.transferred``: from ``at`` on, the case is in ``unit`` (the event's ``to_unit``).
    The field is called ``unit`` like every item's, the unit the fact belongs to afterwards."""

    unit: str
    at: float
    from_unit: str  # the envelope's unit: transfers_out counts there


class UnitNamed(NamedTuple):
    """A unit the case's events name (``unit`` or ``to_unit``), with the first instant they do:
    the contract lists every named unit from then on, with zeros if nothing else is there."""

    unit: str
    at: float


class CaseFacts(NamedTuple):
    municipality: str
    reports: tuple[ReportItem, ...] = ()
    investigations: tuple[InvestigationItem, ...] = ()
    decisions: tuple[DecisionItem, ...] = ()
    placements: tuple[PlacementItem, ...] = ()
    applications: tuple[ApplicationItem, ...] = ()
    payments: tuple[PaymentItem, ...] = ()
    staff: tuple[StaffItem, ...] = ()
    transfers: tuple[CaseTransfer, ...] = ()  # in event-time order; none to the unit it leaves
    units: tuple[UnitNamed, ...] = ()


_C = {name: spec.code for name, spec in CATALOGUE.items()}
(REPORT, PROTECTED, SCREENED, INV_OPENED, INV_EXTENDED, INV_CLOSED, DEC_MADE, DEC_ENFORCED,
 DEC_ENDED, PL_STARTED, PL_COST, PL_ENDED, APP_RECEIVED, APP_DECIDED, PAYMENT, STAFF_JOINED,
 STAFF_LEFT, DEC_INTERRUPTED, DEC_RESUMED, DEC_DELAY_REASON, TRANSFERRED) = (_C[t] for t in CATALOGUE)
# Events that follow a decision's enforcement, folded per decision after the case's loop.
_DECISION_FOLLOW_UPS = frozenset((DEC_ENFORCED, DEC_ENDED, DEC_INTERRUPTED, DEC_RESUMED, DEC_DELAY_REASON))


def _opt(payload: tuple, i: int, default: object = None) -> object:
    """Payload field ``i``, or ``default`` for events kept before the field existed (worker state)."""
    if len(payload) > i:
        value = payload[i]
        return default if value is None else value
    return default


def fold_case(municipality: str, records: Iterable[Record], as_of: float | None = None,
              clocks: Clocks = DEFAULT_CLOCKS) -> CaseFacts:
    """The facts of one case from its distinct events (those after ``as_of`` ignored).
    ``clocks`` gives the window within which a new child investigation continues the previous
    one's clock (CONTRACT.md §3, linked investigations)."""
    if as_of is not None:
        records = [r for r in records if r[0] <= as_of]
    reports: list[list] = []
    awaiting_protection: list[list] = []
    awaiting_screening: list[list] = []
    investigations: list[list] = []
    open_investigation: list | None = None
    last_outcome: str | None = None  # of the most recent closed episode
    decisions: dict[str, list] = {}
    follow_ups: dict[str, list] = {}
    placements: dict[str, list] = {}
    placement_ends: dict[str, float] = {}
    cost_changes: dict[str, list] = {}
    applications: list[list] = []
    open_application: list | None = None
    payments: list[PaymentItem] = []
    staff: list[list] = []
    open_staff: list | None = None
    transfers: list[CaseTransfer] = []
    named: dict[str, float] = {}

    # Records sort as tuples: (ts, code, event_id) decide, since event ids are unique in a case.
    for ts, code, _event_id, unit, payload in sorted(records):
        if unit not in named:
            named[unit] = ts  # sorted: the first time is the earliest
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
                child = _opt(payload, 1)
                child = payload[0] == "barn_unga" if child is None else child
                clock_start = inherited = None
                previous = investigations[-1] if investigations else None
                if (child and previous is not None and previous[4] and last_outcome == "no_action"
                        and ts <= clocks.link_window.after(previous[2])):
                    clock_start = previous[1] if previous[5] is None else previous[5]
                    inherited = previous[3][-1][1] if previous[3] else previous[6]
                open_investigation = [unit, ts, None, [], child, clock_start, inherited]
                investigations.append(open_investigation)
        elif code == INV_EXTENDED:
            if open_investigation is not None:
                open_investigation[3].append((ts, payload[0]))
        elif code == INV_CLOSED:
            if open_investigation is not None:
                open_investigation[2] = ts
                open_investigation = None
                last_outcome = payload[0]
        elif code == DEC_MADE:
            if payload[0] not in decisions:
                decisions[payload[0]] = [unit, ts, payload[1], _opt(payload, 2, "sol"), _opt(payload, 3)]
        elif code in _DECISION_FOLLOW_UPS:
            follow_ups.setdefault(payload[0], []).append((ts, code, payload))
        elif code == PL_STARTED:
            placements.setdefault(payload[0], [unit, payload[1], ts, payload[2], _opt(payload, 4, "sol")])
        elif code == PL_COST:
            cost_changes.setdefault(payload[0], []).append((ts, payload[1]))
        elif code == PL_ENDED:
            placement_ends.setdefault(payload[0], ts)
        elif code == APP_RECEIVED:
            if open_application is None:  # first contact counts; repeats while pending do not
                open_application = [unit, ts, None, bool(_opt(payload, 0, False))]
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
        elif code == TRANSFERRED:
            to_unit = payload[0]
            if to_unit not in named:
                named[to_unit] = ts
            if to_unit != unit:  # "a transfer to the unit it leaves changes nothing"
                transfers.append(CaseTransfer(to_unit, ts, unit))

    return CaseFacts(
        municipality,
        tuple(ReportItem(*r) for r in reports),
        tuple(InvestigationItem(u, o, c, tuple(ext), child, start, inherited)
              for u, o, c, ext, child, start, inherited in investigations),
        tuple(
            _decision(decision_id, fields, follow_ups.get(decision_id, ()))
            for decision_id, fields in sorted(decisions.items())
        ),
        tuple(
            PlacementItem(
                u, ptype, started, placement_ends.get(pid),
                tuple(sorted([(started, cost), *cost_changes.get(pid, ())])), basis,
            )
            for pid, (u, ptype, started, cost, basis) in sorted(placements.items())
        ),
        tuple(ApplicationItem(*a) for a in applications),
        tuple(sorted(payments, key=payment_order)) if len(payments) > 1 else tuple(payments),
        tuple(StaffItem(*s) for s in staff),
        tuple(transfers),
        tuple(UnitNamed(u, at) for u, at in sorted(named.items())),
    )


def _decision(decision_id: str, fields: list, follow_ups) -> DecisionItem:
    """A decision with what followed it, in event-time order: the first enforcement and ending;
    interruptions of an enforced, not ended decision, each closed by a resumption or an ending;
    the reasons for delay given."""
    unit, made, intervention, legal_basis, sex = fields
    enforced = ended = None
    interruptions: list[list] = []
    open_interruption: list | None = None
    reasons = []
    for ts, code, payload in follow_ups:
        if code == DEC_ENFORCED:
            if enforced is None:
                enforced = ts
        elif code == DEC_ENDED:
            if ended is None:
                ended = ts
                if open_interruption is not None:
                    open_interruption[1:] = [ts, "ended"]
                    open_interruption = None
        elif code == DEC_INTERRUPTED:
            # Only an enforcement under way can be interrupted; a repeat while interrupted is the same one.
            if enforced is not None and ended is None and open_interruption is None:
                open_interruption = [ts, None, None]
                interruptions.append(open_interruption)
        elif code == DEC_RESUMED:
            if open_interruption is not None:
                open_interruption[1:] = [ts, "resumed"]
                open_interruption = None
        else:
            reasons.append((ts, payload[1]))
    resolved = ended if enforced is None else enforced if ended is None else min(enforced, ended)
    return DecisionItem(unit, made, intervention, resolved, decision_id, legal_basis, sex, enforced, ended,
                        tuple(map(tuple, interruptions)), tuple(reasons))


# --- (de)serialisation for projections --------------------------------------------------------

_ITEM_TYPES = (ReportItem, InvestigationItem, DecisionItem, PlacementItem, ApplicationItem, PaymentItem, StaffItem,
               CaseTransfer, UnitNamed)


def _as_list(value: object) -> list:
    """Named tuples as plain lists: orjson serialises tuples, not their subclasses, and asks this
    for each one it meets (in C: no Python walk over every value, ~20 % of the worker's fold)."""
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def facts_to_json(facts: CaseFacts) -> bytes:
    return orjson.dumps(facts, default=_as_list)


def _plain(value: object) -> object:
    """Named tuples as plain lists, all the way down (a Python walk: for :func:`plain_facts`)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def plain_facts(facts: CaseFacts) -> list:
    """The facts as the plain lists :func:`facts_to_json` writes (a family may be replaced)."""
    return cast(list, _plain(facts))


def _pairs(values) -> tuple:
    return tuple(map(tuple, values))


def _investigation(u, o, c, ext, *v2) -> InvestigationItem:
    return InvestigationItem(u, o, c, _pairs(ext), *v2)


def _decision_item(*fields) -> DecisionItem:
    if len(fields) > 9:
        fields = (*fields[:9], _pairs(fields[9]), *(_pairs(f) for f in fields[10:]))
    return DecisionItem(*fields)


def _placement(u, t, s, e, costs, *v2) -> PlacementItem:
    return PlacementItem(u, t, s, e, _pairs(costs), *v2)


_BUILDERS: dict[type, Callable[..., tuple]] = {InvestigationItem: _investigation, DecisionItem: _decision_item, PlacementItem: _placement}


def facts_from_json(raw: bytes | str) -> CaseFacts:
    """Facts as :func:`facts_to_json` wrote them, also by a worker from before contract v2: its
    items take the v1 meaning of the new fields (every investigation on the child clock, every
    decision and placement SoL), and its named units are those of its items."""
    municipality, *families = orjson.loads(raw)
    built: list[Any] = []
    for item_type, items in zip(_ITEM_TYPES, families):
        build: Callable[..., tuple] = _BUILDERS.get(item_type, item_type)
        built.append(tuple(build(*i) for i in items))
    facts = CaseFacts(municipality, *built)
    if len(families) < len(_ITEM_TYPES):
        facts = facts._replace(units=units_of_items(facts))
    return facts


def units_of_items(facts: CaseFacts) -> tuple[UnitNamed, ...]:
    """The units a case's items name, each with its first instant (facts from before v2)."""
    first: dict[str, Any] = {}
    for family in facts[1:8]:
        item: Any
        for item in family:
            at = item[1] if type(item) is not PlacementItem else item.started
            if type(item) is StaffItem:
                at = item.joined
            if at < first.get(item.unit, float("inf")):
                first[item.unit] = at
    return tuple(UnitNamed(u, at) for u, at in sorted(first.items()))
