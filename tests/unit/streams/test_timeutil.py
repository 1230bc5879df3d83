from datetime import datetime

import pytest

from streams.core.timeutil import STOCKHOLM, add_months, local_day, shift, format_ts
from streams.contract.validate import parse_instant


@pytest.mark.parametrize("start, months, expected", [
    ("2024-01-31", 1, "2024-02-29"),   # leap year: clamps to the 29th
    ("2023-01-31", 1, "2023-02-28"),
    ("2023-10-31", 4, "2024-02-29"),   # Oct 31 + 4 months lands in a leap February
    ("2024-10-31", 4, "2025-02-28"),
    ("2024-03-31", 3, "2024-06-30"),
    ("2024-11-15", 3, "2025-02-15"),   # year wrap
    ("2024-05-31", -1, "2024-04-30"),  # backwards too (warning windows)
])
def test_add_months_clamps_to_the_last_day(start, months, expected):
    dt = datetime.fromisoformat(start + "T09:00:00").replace(tzinfo=STOCKHOLM)
    assert add_months(dt, months).date().isoformat() == expected


def test_calendar_days_keep_the_local_time_across_dst():
    spring = parse_instant("2024-03-20T10:00:00+01:00")
    assert format_ts(shift(spring, 14, "days")) == "2024-04-03T10:00:00+02:00"
    autumn = parse_instant("2024-10-20T10:00:00+02:00")
    assert format_ts(shift(autumn, 14, "days")) == "2024-11-03T10:00:00+01:00"


def test_hours_are_elapsed_time_across_dst():
    ts = parse_instant("2024-03-30T12:00:00+01:00")
    assert format_ts(shift(ts, 24, "hours")) == "2024-03-31T13:00:00+02:00"


@pytest.mark.parametrize("instant, date", [
    ("2024-03-31T23:59:59+02:00", "2024-03-31"),
    ("2024-03-31T22:00:00Z", "2024-04-01"),
    ("2024-10-27T00:30:00+02:00", "2024-10-27"),
    ("2024-10-26T23:30:00+00:00", "2024-10-27"),
    ("2024-12-31T23:00:00Z", "2025-01-01"),
])
def test_local_day_is_the_stockholm_date(instant, date):
    assert local_day(parse_instant(instant)) == datetime.fromisoformat(date).toordinal()
