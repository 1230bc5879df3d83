"""Swedish figures and dates for text read by on-call social workers, unit heads and the board.

Numbers: ``4 458``, ``-1,4 mnkr``, ``12 %`` (digit groups joined by a no-break space so a figure
never wraps). Dates and times the way a Swedish text writes them: ``28 november 2026 kl. 22.47``,
``12 mars kl. 09.00`` (no year when it is the reader's current year), always in Stockholm time.

Pure functions, no I/O: the core, the exporter, the board, the demo and the alert generator all
use them (``services/swedish.py`` re-exports them for older imports).
"""
from __future__ import annotations

from datetime import date, datetime

from streams.core.timeutil import STOCKHOLM

SPACE = "\u00a0"  # no-break space: a figure never wraps between its digit groups

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
          "oktober", "november", "december")
# One short form everywhere a month is abbreviated (chart axes, the colour grid, the economy
# table's "jan–mar 2024"): three letters, lower case, no full stop, as Swedish tables write them.
MONTHS_SHORT = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")


# --------------------------------------------------------------------------- numbers

def number(value: float | int | None, decimals: int = 0) -> str:
    """``4458`` → ``4 458``; ``0.25, 1`` → ``0,3``; None → ``–``."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"  # 4,458.50 → swap the separators
    text = text.replace(",", SPACE).replace(".", ",")
    if text.startswith("-"):
        # -0,4 rounded to whole units is "0", not "-0"
        return text[1:] if not text.strip("-0,") else "-" + text[1:]
    return text


def sek(value: float | None) -> str:
    return "–" if value is None else f"{number(value)}{SPACE}kr"


def mnkr(value: float | None, decimals: int = 1) -> str:
    """Millions of kronor as the board reads them: ``-1 400 000`` → ``-1,4 mnkr``."""
    return "–" if value is None else f"{number(value / 1_000_000, decimals)}{SPACE}mnkr"


def tkr(value: float | None) -> str:
    return "–" if value is None else f"{number(value / 1_000)}{SPACE}tkr"


def percent(ratio: float | None, decimals: int = 0) -> str:
    return "–" if ratio is None else f"{number(ratio * 100, decimals)}{SPACE}%"


# --------------------------------------------------------------------------- dates

def month_name(month: int) -> str:
    """``3`` → ``mars`` (lower case, as in running Swedish text)."""
    return MONTHS[month - 1]


def local(instant: datetime | float | int) -> datetime:
    """An aware datetime or POSIX seconds as Stockholm wall-clock time.

    A naive datetime is refused: guessing its zone is how a 22.47 becomes a 23.47."""
    if isinstance(instant, datetime):
        if instant.tzinfo is None:
            raise ValueError("a naive datetime has no zone; give an aware one or POSIX seconds")
        return instant.astimezone(STOCKHOLM)
    return datetime.fromtimestamp(float(instant), STOCKHOLM)


def long_date(day: date | datetime | float | int) -> str:
    """``31 mars 2024``. A ``date`` is taken as is; an instant is read in Stockholm time."""
    if not isinstance(day, date) or isinstance(day, datetime):
        day = local(day).date()
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def clock_time(instant: datetime | float | int) -> str:
    """``kl. 09.00``: the Swedish clock notation, 24-hour, a full stop between hour and minute."""
    t = local(instant)
    return f"kl. {t.hour:02d}.{t.minute:02d}"


def date_time(instant: datetime | float | int, *, now: datetime | float | int | None = None) -> str:
    """``28 november 2026 kl. 22.47``; with ``now`` in the same Stockholm year: ``12 mars kl. 09.00``."""
    t = local(instant)
    text = f"{t.day} {MONTHS[t.month - 1]}"
    if now is None or local(now).year != t.year:
        text += f" {t.year}"
    return f"{text} {clock_time(t)}"


def as_of_line(instant: datetime | float | int) -> str:
    """The heading of a figure set: ``Läget per 28 november 2026 kl. 22.47``."""
    return f"Läget per {date_time(instant)}"


def since(instant: datetime | float | int, *, now: datetime | float | int | None = None) -> str:
    """``sedan 12 mars kl. 09.00``: when the oldest overdue item passed its limit."""
    return f"sedan {date_time(instant, now=now)}"
