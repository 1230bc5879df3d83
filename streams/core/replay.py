"""The reference computation (CONTRACT.md §5): lines in, the contract's JSON figures out.

Pure: it takes lines from any iterable and keeps per-case event sets in memory; the streaming
path shares :func:`streams.core.facts.fold_case` and :func:`streams.core.kpis.compute` with it.

Two drivers compute the same figures, and both stay, for different jobs:

- :class:`Replay` (here) is the plain one: every distinct event kept as Python objects per case
  (about 400 bytes an event). With its default validator, :func:`validate_line`, it is the
  oracle the property tests hold the fast driver and the fast validator to. The IVO report, the
  board snapshot, the backtest and the demo use it too, since they read cases and their facts
  one by one (``cases``, :meth:`Replay.facts`, :meth:`Replay.add_event`); they give it
  :func:`~streams.contract.fast_validate.validate_line_fast` (:func:`fast_replay`), whose answers
  are :func:`validate_line`'s for every line (differential tests), so nothing they show changes.
- :class:`streams.core.packed_replay.PackedReplay` is ``casewatch replay``: the compiled
  validator, events packed in one buffer, each case folded once and the figures computed one
  municipality at a time (about a quarter of the memory, less CPU). It only gives the figures.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, Iterator

from streams.contract.fast_validate import validate_line_fast
from streams.contract.validate import Event, Registry, Rejection, validate_line

from .case_budget import CASE_TOO_LARGE, CaseBudget
from .clocks import DEFAULT_CLOCKS, Clocks
from .facts import CaseFacts, fold_case
from .kpis import Period, compute
from .timeutil import format_ts


def accepted_events(lines: Iterable[bytes | str], registry: Registry | None, rejected: Counter,
                    validate: Callable = validate_line) -> Iterator[Event]:
    """The lines' accepted events; each rejection counted by reason in ``rejected`` (blank lines
    are layout, not events, and are skipped). ``validate``: :func:`validate_line` or another
    function that gives its answers (the packed replay's compiled fast path)."""
    for line in lines:
        event = validate(line, registry)
        if type(event) is Rejection:
            if event.reason == "invalid_json" and not line.strip():
                continue
            rejected[event.reason] += 1
            continue
        yield event


class Replay:
    """Accumulates distinct events per case; :meth:`result` folds and computes."""

    def __init__(self, clocks: Clocks = DEFAULT_CLOCKS, registry: Registry | None = None,
                 validate: Callable = validate_line) -> None:
        self.clocks = clocks
        self.registry = registry  # the unit registry (CONTRACT.md §7), None when not configured
        self.validate = validate  # validate_line, or a function that gives its answers
        # (municipality, case_id) -> {event_id: record}; dedup is per case, as the Kafka key is.
        self.cases: dict[tuple[str, str], dict[str, tuple]] = {}
        # each case's byte budget, spent as the worker's state spends it (case_budget.py): an
        # event past it is rejected as ``case_too_large`` here too, in the same arrival order
        self._budgets: dict[tuple[str, str], CaseBudget] = {}
        self.accepted = 0
        self.duplicates = 0
        self.rejected: Counter[str] = Counter()
        self.latest: float | None = None

    def add_line(self, line: bytes | str) -> Event | Rejection:
        outcome = self.validate(line, self.registry)
        if isinstance(outcome, Rejection):
            self.rejected[outcome.reason] += 1
        else:
            self.add_event(outcome)
        return outcome

    def add_lines(self, lines: Iterable[bytes | str]) -> None:
        """The hot loop of a replay: :meth:`add_line` and :meth:`add_event` inlined."""
        cases, budgets, latest = self.cases, self._budgets, self.latest
        accepted = duplicates = 0
        for event in accepted_events(lines, self.registry, self.rejected, self.validate):
            event_id, _type, code, ts, municipality, unit, case_id, payload = event
            key = (municipality, case_id)
            case = cases.get(key)
            if case is None:
                case = cases[key] = {}
                budget = budgets[key] = CaseBudget()
            elif event_id in case:
                duplicates += 1
                continue
            else:
                budget = budgets[key]
            if not budget.admit(event_id, ts, code, unit, payload):
                self.rejected[CASE_TOO_LARGE] += 1
                continue
            case[event_id] = (ts, code, event_id, unit, payload)
            accepted += 1
            if latest is None or ts > latest:
                latest = ts
        self.accepted += accepted
        self.duplicates += duplicates
        self.latest = latest

    def add_event(self, event: Event) -> bool:
        """Keep ``event``; False when the case already has an event with its id, or has no room
        left for it (then it is counted as rejected, ``case_too_large``)."""
        key = (event.municipality, event.case_id)
        case = self.cases.get(key)
        if case is None:
            case = self.cases[key] = {}
            self._budgets[key] = CaseBudget()
        elif event.event_id in case:
            self.duplicates += 1
            return False
        if not self._budgets[key].admit(event.event_id, event.ts, event.code, event.unit, event.payload):
            self.rejected[CASE_TOO_LARGE] += 1
            return False
        case[event.event_id] = (event.ts, event.code, event.event_id, event.unit, event.payload)
        self.accepted += 1
        if self.latest is None or event.ts > self.latest:
            self.latest = event.ts
        return True

    def facts(self, as_of: float | None = None) -> Iterable[CaseFacts]:
        for (municipality, _case_id), records in self.cases.items():
            yield fold_case(municipality, records.values(), as_of, self.clocks)

    def result(self, as_of: float | None = None, period: Period | None = None) -> dict:
        if as_of is None:
            if self.latest is None:
                raise ValueError("no accepted event to take as_of from; give --as-of")
            as_of = self.latest
        period = period or Period.month_to_date(as_of)
        return {
            "as_of": format_ts(as_of),
            "period": period.as_json(),
            "events": {
                "accepted": self.accepted,
                "duplicates": self.duplicates,
                "rejected": sum(self.rejected.values()),
                "rejected_by_reason": dict(sorted(self.rejected.items())),
            },
            "units": compute(self.facts(as_of), as_of, period, self.clocks),
        }


def fast_replay(clocks: Clocks = DEFAULT_CLOCKS, registry: Registry | None = None) -> Replay:
    """A :class:`Replay` that validates with the compiled fast path: the same events, rejections
    and figures, in less time (what the IVO report, the snapshot and the demo read)."""
    return Replay(clocks, registry, validate_line_fast)
