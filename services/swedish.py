"""Swedish number formatting for text read by unit heads and the board: ``4 458``, ``-1,4 mnkr``."""
from __future__ import annotations

SPACE = "\u00a0"  # no-break space: a figure never wraps between its digit groups


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


MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
          "oktober", "november", "december")
MONTHS_SHORT = ("Jan", "Feb", "Mars", "April", "Maj", "Juni", "Juli", "Aug", "Sep", "Okt", "Nov", "Dec")


def month_name(month: int) -> str:
    """``3`` → ``mars`` (lower case, as in running Swedish text)."""
    return MONTHS[month - 1]


def long_date(day) -> str:
    """A ``datetime.date`` as ``31 mars 2024``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
