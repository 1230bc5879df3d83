"""Since when a unit is late: the oldest overdue deadline per legal clock."""
import math
from datetime import datetime, timezone

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.clocks import DEFAULT_CLOCKS
from streams.core.changes import change_instants
from streams.core.kpis import Period, group_by_unit, unit_kpis
from streams.core.overdue import CLOCK_KPIS, oldest_overdue
from streams.core.replay import Replay
from streams.core.timeutil import day_start, local_day
from tests.unit.streams.test_properties import event_sets, instants


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _items(lines):
    replay = Replay()
    replay.add_lines([orjson.dumps(e) for e in lines])
    return group_by_unit(replay.facts())


def _report(event_id, case, at, type_="report.received", **data):
    return {"event_id": event_id, "type": type_, "occurred_at": at, "municipality": "0138", "unit": "bou-1",
            "case_id": case, "data": data or ({"reporter": "skola"} if type_ == "report.received" else {})}


def test_the_oldest_overdue_report_dates_the_screening_clock():
    lines = [
        _report("a", "c1", "2026-03-01T09:00:00+01:00"),
        _report("b", "c2", "2026-03-05T10:30:00+01:00"),
        _report("c", "c3", "2026-03-20T08:00:00+01:00"),  # not yet 14 days at as_of
        _report("d", "c1", "2026-03-02T09:00:00+01:00", "report.protection_assessed", immediate_protection=False),
    ]
    items = _items(lines)[("0138", "bou-1")]
    as_of = _ts("2026-03-25T12:00:00+01:00")
    oldest = oldest_overdue(items, as_of)
    assert oldest["screening"] == _ts("2026-03-15T09:00:00+01:00")  # the 1 March report + 14 days
    # protection: c1 was assessed; c2's 24 hours ran out on 6 March, c3's on 21 March
    assert oldest["protection"] == _ts("2026-03-06T10:30:00+01:00")
    assert oldest["investigation"] is None and oldest["enforcement"] is None
    # a screening done resolves it: the next oldest takes over
    lines.append(_report("e", "c1", "2026-03-24T09:00:00+01:00", "report.screened", outcome="no_investigation"))
    items = _items(lines)[("0138", "bou-1")]
    assert oldest_overdue(items, as_of)["screening"] == _ts("2026-03-19T10:30:00+01:00")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_sets(), st.data())
def test_a_clock_has_a_since_exactly_when_its_count_is_above_zero(events, data):
    as_of = float(data.draw(instants))
    period = Period.month_to_date(as_of)
    for items in _items(events).values():
        figures = unit_kpis(items, as_of, period)
        oldest = oldest_overdue(items, as_of)
        for clock, kpi in CLOCK_KPIS.items():
            assert (oldest[clock] is not None) == (figures[kpi] > 0), (clock, figures[kpi], oldest[clock])
            if oldest[clock] is not None:
                assert oldest[clock] < as_of


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_sets(), st.data())
def test_since_holds_until_the_next_change_instant(events, data):
    """The exporter reuses a unit's samples until its next change instant: so must this."""
    as_of = float(data.draw(instants))
    midnight = day_start(local_day(as_of) + 1)
    for items in _items(events).values():
        upcoming = [x for x in change_instants(items, DEFAULT_CLOCKS) if x >= as_of]
        end = min(upcoming[0] if upcoming else midnight, midnight)
        if end <= as_of:
            continue
        last = math.nextafter(end, -math.inf)
        assert oldest_overdue(items, last) == oldest_overdue(items, as_of)


def test_no_item_no_since():
    from streams.core.kpis import UnitItems

    assert oldest_overdue(UnitItems(), datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()) == dict.fromkeys(
        CLOCK_KPIS)
