"""Swedish public holidays for Alertmanager's quiet hours, from the maintained `holidays` calendar.

Tickets and infos wait for office hours; a Swedish office is closed on the public holidays
(allmänna helgdagar: Easter, Ascension, Whitsun, Midsummer Day, All Saints' Day, Christmas ...)
and on the three eves everyone treats as such (midsommarafton, julafton, nyårsafton, the library's
``de_facto`` category). Easter and the days hung on it move every year, so the dates are computed
by `holidays` for a fixed range of years (:data:`HOLIDAY_YEARS`) at build time and written
into ``alertmanager.yml`` as dated time intervals; a test fails when the range runs out.

Build time only: the runtime never imports this module.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

import holidays

CATEGORIES = ("public", "de_facto")
# The years written into alertmanager.yml. Fixed, so a rebuild gives the same file whatever the
# date; tests/unit/test_holidays.py fails when fewer than two years remain ahead.
HOLIDAY_YEARS = range(2025, 2036)
MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december")


def swedish_holidays(years: Iterable[int]) -> dict[date, str]:
    """``{date: Swedish name}`` of every public holiday and de facto day off in ``years``."""
    calendar = holidays.country_holidays("SE", years=list(years), categories=CATEGORIES, language="sv")
    return dict(sorted(calendar.items()))


def holiday_time_intervals(years: Iterable[int], location: str) -> list[dict]:
    """Alertmanager ``time_intervals`` entries covering those days, one per (year, month):
    ``{"years": ["2027"], "months": ["march"], "days_of_month": ["26", "28", "29"], "location": ...}``."""
    by_month: dict[tuple[int, int], list[int]] = {}
    for day in swedish_holidays(years):
        by_month.setdefault((day.year, day.month), []).append(day.day)
    return [
        {"years": [str(year)], "months": [MONTH_NAMES[month - 1]], "days_of_month": [str(d) for d in days],
         "location": location}
        for (year, month), days in sorted(by_month.items())
    ]
