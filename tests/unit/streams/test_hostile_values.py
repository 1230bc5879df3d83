"""Values a faulty source can send that are valid JSON and valid RFC 3339 but that no figure can
be computed from: dates at the ends of the calendar, amounts near the largest float. Each is a
clean rejection, and the unit's other events still give their figures (before the bounds, one
such event made every KPI computation of its unit raise: replay, exporter and reports alike)."""
import orjson
import pytest

from streams.contract.fast_validate import validate_line_fast
from streams.contract.validate import Event, Rejection, validate_line
from tests.events import ev, kpis, line

GOOD = [
    ev("report.received", "2024-01-10T10:00:00+01:00", case="c1", reporter="skola"),
    ev("investigation.opened", "2024-01-12T10:00:00+01:00", case="c1", area="barn_unga"),
    ev("payment.made", "2024-01-15T10:00:00+01:00", case="c2", amount_sek=1200),
    ev("placement.started", "2024-01-02T10:00:00+01:00", case="c3", placement_id="p1",
       placement_type="hvb", daily_cost_sek=4458),
]
AS_OF = "2024-01-31T12:00:00+01:00"

HOSTILE = [
    (ev("report.received", "0001-01-01T00:00:00+01:00", case="h1", reporter="skola"), "bad_timestamp", "occurred_at"),
    (ev("report.received", "9999-12-31T23:00:00+01:00", case="h2", reporter="skola"), "bad_timestamp", "occurred_at"),
    (ev("report.received", "1899-12-31T23:59:59Z", case="h3", reporter="skola"), "bad_timestamp", "occurred_at"),
    (ev("report.received", "2200-01-01T00:00:00Z", case="h4", reporter="skola"), "bad_timestamp", "occurred_at"),
    (ev("investigation.extended", "2024-01-20T10:00:00+01:00", case="c1", new_due="9999-12-31T12:00:00+01:00"),
     "bad_timestamp", "data.new_due"),
    (ev("payment.made", "2024-01-16T10:00:00+01:00", case="h5", amount_sek=1e308), "bad_value", "data.amount_sek"),
    (ev("payment.made", "2024-01-16T10:00:00+01:00", case="h6", amount_sek=1e308), "bad_value", "data.amount_sek"),
    (ev("payment.made", "2024-01-16T10:00:00+01:00", case="h7", amount_sek=-1e308), "bad_value", "data.amount_sek"),
    (ev("placement.started", "2024-01-02T10:00:00+01:00", case="h8", placement_id="p9", placement_type="hvb",
        daily_cost_sek=1e300), "bad_value", "data.daily_cost_sek"),
    (ev("placement.cost_changed", "2024-01-05T10:00:00+01:00", case="c3", placement_id="p1",
        daily_cost_sek=2 ** 64 - 1), "bad_value", "data.daily_cost_sek"),
]


def with_recorded_at(event: dict, value: str) -> dict:
    return {**event, "recorded_at": value}


@pytest.mark.parametrize("event, reason, field", HOSTILE + [
    (with_recorded_at(GOOD[0], "0001-01-01T00:00:00Z"), "bad_timestamp", "recorded_at"),
])
def test_values_no_figure_can_be_computed_from_are_rejected_by_both_validators(event, reason, field):
    raw = line(event)
    assert validate_line(raw) == Rejection(reason, field)
    assert validate_line_fast(raw) == Rejection(reason, field)


@pytest.mark.parametrize("event", [
    ev("report.received", "1900-01-01T00:00:00Z", reporter="skola"),
    ev("report.received", "2199-12-31T23:59:59.999999+00:00", reporter="skola"),
    ev("payment.made", "2024-01-16T10:00:00+01:00", amount_sek=1e12),
    ev("payment.made", "2024-01-16T10:00:00+01:00", amount_sek=-1e12),
    ev("placement.started", "2024-01-02T10:00:00+01:00", placement_id="p", placement_type="hvb",
       daily_cost_sek=999_999_999_999.5),
])
def test_the_bounds_are_far_from_any_real_event(event):
    raw = line(event)
    assert type(validate_line(raw)) is Event
    assert validate_line_fast(raw) == validate_line(raw)


def test_a_hostile_event_among_good_ones_leaves_the_units_figures_computable_and_unchanged():
    expected = kpis(GOOD, AS_OF)
    assert kpis(GOOD + [event for event, _, _ in HOSTILE], AS_OF) == expected
    assert expected["payments_sek"] == 1200


def test_the_default_as_of_is_never_taken_from_a_rejected_far_future_event():
    from tests.events import replay

    out = replay(GOOD + [HOSTILE[1][0]])
    assert out["as_of"] == "2024-01-15T10:00:00+01:00"
    assert out["events"]["rejected_by_reason"] == {"bad_timestamp": 1}
    assert orjson.dumps(out)  # the figures are plain JSON
