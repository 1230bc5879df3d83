"""The IVO quarterly report as data (CONTRACT.md §6; SoL 2001:453 16 kap. 6 f–h §).

A pure function of folded case facts and a quarter: no I/O. Quarter end E is the last instant of
the quarter's last local day; a decision's limit L is ``decision.made`` + 3 months (the core's
enforcement clock), an interruption's L is ``decision.interrupted`` + 3 months. Only ``sol``
decisions (and their interruptions) are reportable.

Choices where §6 is silent (docs/IVO.md):
- ``delay_reason`` is the latest ``decision.delay_reason`` at or before E; for an interruption,
  the latest one recorded at or after the interruption began.
- ``statistics`` has every intervention of the catalogue, each with all three sexes, zeros
  included (a stable shape, like §5's "every KPI key, even when all are zero").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Iterator

from .clocks import DEFAULT_CLOCKS, Clocks
from .facts import CaseFacts, DecisionItem
from .timeutil import STOCKHOLM, local_date, local_day

INTERVENTIONS = ("familjebehandling", "kontaktfamilj", "kontaktperson", "placement", "stodboende", "annan")
SEXES = ("kvinna", "man", "okänt")
NOT_ENFORCED, ENFORCED, ENDED = "ej_verkstallt", "verkstallt", "avslutat"
NEW, FOLLOW_UP = "new", "follow_up"


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        try:
            year, q = text.strip().upper().split("-Q")
            chosen = cls(int(year), int(q))
        except ValueError:
            raise ValueError(f"ogiltigt kvartal '{text}': ange ÅÅÅÅ-Qn, t.ex. 2024-Q1") from None
        if not 1 <= chosen.quarter <= 4:
            raise ValueError(f"ogiltigt kvartal '{text}': n ska vara 1–4")
        return chosen

    @classmethod
    def containing(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def end(self) -> datetime:
        """E: the last instant (microsecond) of the quarter's last local day."""
        d = self.last_day
        return datetime(d.year, d.month, d.day, 23, 59, 59, 999999, tzinfo=STOCKHOLM)

    @property
    def end_ts(self) -> float:
        # The same arithmetic as an event's instant (datetime.timestamp), so a limit or an
        # event at exactly E compares equal to it.
        return self.end.timestamp()

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.quarter == 1 else Quarter(self.year, self.quarter - 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.quarter == 4 else Quarter(self.year, self.quarter + 1)


@dataclass(frozen=True)
class IvoItem:
    """One line of the report: a decision (``started`` = decided) or an interruption."""

    municipality: str
    unit: str
    case_id: str
    decision_id: str
    intervention: str
    sex: str | None
    started: date  # decided, or interrupted
    limit: date
    kind: str
    status: str
    status_date: date | None
    days_waited: int
    delay_reason: str | None

    def as_json(self, start_key: str) -> dict:
        return {
            "municipality": self.municipality, "unit": self.unit, "case_id": self.case_id,
            "decision_id": self.decision_id, "intervention": self.intervention, "sex": self.sex,
            start_key: self.started.isoformat(), "limit": self.limit.isoformat(), "kind": self.kind,
            "status": self.status, "status_date": self.status_date.isoformat() if self.status_date else None,
            "days_waited": self.days_waited, "delay_reason": self.delay_reason,
        }


@dataclass(frozen=True)
class IvoReport:
    quarter: Quarter
    decisions: tuple[IvoItem, ...]
    interruptions: tuple[IvoItem, ...]
    statistics: dict[str, dict[str, int]]

    def as_json(self) -> dict:
        return {
            "quarter": str(self.quarter), "end": self.quarter.end.isoformat(),
            "decisions": [i.as_json("decided") for i in self.decisions],
            "interruptions": [i.as_json("interrupted") for i in self.interruptions],
            "statistics": self.statistics,
        }


def _kind(limit: float, closed: float | None, quarter: Quarter) -> str | None:
    """``new``, ``follow_up`` or None (not in this quarter's report) for a clock that started
    a limit ``limit`` and was closed (enforced, ended, resumed) at ``closed``."""
    if closed is not None and closed <= limit:
        return None  # done in time: never reportable
    prev_end = quarter.previous().end_ts
    if prev_end < limit <= quarter.end_ts:
        return NEW
    if limit <= prev_end and (closed is None or closed > prev_end):
        return FOLLOW_UP  # reported before, still open at the end of the quarter before
    return None


def _days(start: float, until: float) -> int:
    return local_day(until) - local_day(start)


def decision_lines(municipality: str, case_id: str, unit_at_end: str | None, item: DecisionItem,
                   quarter: Quarter, clocks: Clocks = DEFAULT_CLOCKS) -> Iterator[tuple[str, IvoItem]]:
    """``("decision" | "interruption", IvoItem)`` for one decision folded at E."""
    if item.legal_basis != "sol" or item.decision_id is None:
        return
    end = quarter.end_ts
    unit = unit_at_end or item.unit
    limit = clocks.enforcement.deadline(item.made)
    closings = [(t, s) for t, s in ((item.enforced, ENFORCED), (item.ended, ENDED)) if t is not None and t <= end]
    closed_at, status = min(closings) if closings else (None, NOT_ENFORCED)
    kind = _kind(limit, closed_at, quarter)
    reasons = [(at, r) for at, r in item.delay_reasons if at <= end]
    if kind is not None:
        yield "decision", IvoItem(
            municipality, unit, case_id, item.decision_id, item.intervention, item.sex,
            local_date(item.made), local_date(limit), kind, status,
            local_date(closed_at) if closed_at is not None else None,
            _days(item.made, closed_at if closed_at is not None else end), reasons[-1][1] if reasons else None)
    for started, closed, how in item.interruptions:
        if started > end:
            continue
        closed = closed if closed is not None and closed <= end else None
        limit = clocks.enforcement.deadline(started)
        kind = _kind(limit, closed, quarter)
        if kind is None:
            continue
        status = NOT_ENFORCED if closed is None else (ENFORCED if how == "resumed" else ENDED)
        since = [r for at, r in reasons if at >= started]
        yield "interruption", IvoItem(
            municipality, unit, case_id, item.decision_id, item.intervention, item.sex,
            local_date(started), local_date(limit), kind, status,
            local_date(closed) if closed is not None else None,
            _days(started, closed if closed is not None else end), since[-1] if since else None)


def unit_at(facts: CaseFacts, t: float) -> str | None:
    """The case's unit at ``t`` by its transfers (§3a); None: no transfer yet, the item's own."""
    moved = [tr for tr in facts.transfers if tr.at <= t]
    return moved[-1].unit if moved else None


def ivo_report(cases: Iterable[tuple[str, CaseFacts]], quarter: Quarter, municipality: str | None = None,
               clocks: Clocks = DEFAULT_CLOCKS) -> IvoReport:
    """The report from ``(case_id, facts folded at quarter.end_ts)`` pairs."""
    decisions: list[IvoItem] = []
    interruptions: list[IvoItem] = []
    for case_id, facts in cases:
        if municipality is not None and facts.municipality != municipality:
            continue
        unit = unit_at(facts, quarter.end_ts)
        for item in facts.decisions:
            for what, line in decision_lines(facts.municipality, case_id, unit, item, quarter, clocks):
                (decisions if what == "decision" else interruptions).append(line)
    order = lambda i: (i.municipality, i.unit, i.started, i.case_id, i.decision_id)  # noqa: E731
    decisions.sort(key=order)
    interruptions.sort(key=order)
    return IvoReport(quarter, tuple(decisions), tuple(interruptions), statistics(decisions + interruptions))


def statistics(lines: Iterable[IvoItem]) -> dict[str, dict[str, int]]:
    """Listed decisions and interruptions still ``ej_verkstallt`` at E, by intervention and sex."""
    table = {i: {s: 0 for s in SEXES} for i in INTERVENTIONS}
    for line in lines:
        if line.status == NOT_ENFORCED:
            row = table.setdefault(line.intervention, {s: 0 for s in SEXES})
            row[line.sex if line.sex in SEXES else "okänt"] += 1
    return table


WAIT_BANDS = ("3-6", "7-12", "over_12")


def _plus_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = ((date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def wait_band(started: date, end: date) -> str:
    """Time waited at ``end``: ``3-6`` months (up to 6 months), ``7-12`` (more than 6, up to 12)
    or ``over_12`` (more than 12 months), by calendar months as the deadlines count them."""
    if end > _plus_months(started, 12):
        return "over_12"
    return "7-12" if end > _plus_months(started, 6) else "3-6"


def over_six_months(started: date, end: date) -> bool:
    return end > _plus_months(started, 6)


def due_this_quarter(decisions: Iterable[tuple[DecisionItem, object]], as_of: float,
                     clocks: Clocks = DEFAULT_CLOCKS) -> dict[str, int]:
    """Open ``sol`` decisions and interruptions of one unit (``(item, custody)`` pairs, custody
    None or with ``holds(t)``) that are not reportable yet but will be by the end of the quarter
    containing ``as_of`` unless enforced or resumed: the unit head can still act."""
    quarter_end = Quarter.containing(local_date(as_of)).end_ts
    due = {"decision": 0, "interruption": 0}
    for d, custody in decisions:
        if d.legal_basis != "sol" or d.made > as_of or (custody is not None and not custody.holds(as_of)):
            continue
        closed = [t for t in (d.enforced, d.ended) if t is not None and t <= as_of]
        if not closed and as_of <= clocks.enforcement.deadline(d.made) <= quarter_end:
            due["decision"] += 1
        for start, end, _how in d.interruptions:
            if start <= as_of and (end is None or end > as_of) \
                    and as_of <= clocks.enforcement.deadline(start) <= quarter_end:
                due["interruption"] += 1
    return due
