"""The simulated municipality's ledger (huvudbok) as a SIE 4 file: what the events do not carry.

The board's economy table takes own staff, premises and income from the accounting system's
export (``casewatch snapshot --ledger``). For a simulated municipality this module writes that
export, matching the simulated events: the salaries of exactly the permanent staff the events
say were employed (by unit, role, FTE and days employed), plus the administration's own costs
and income, which no event carries. Hired consultants, placements and assistance are in the
events and so are not booked here (in a real ledger they are, on the accounts ``board.yaml``
leaves out).

Assumptions (stated, not measured): monthly salaries by role at 2024 level, raised 3.5 % each
1 January (the revision applied from the year's start); personnel overheads (PO) 40 % of
salary; each month's salaries booked on the 25th. The cost centres follow ``board.yaml``:
100 the administration as a whole, 200 children and young people (with intake, violence and
treatment units), 300 adults, 400 economic assistance. Amounts scale with the population.
"""
from __future__ import annotations

from calendar import monthrange
from datetime import date
from pathlib import Path

from services.snapshot.ledger import LedgerLine, write_sie
from streams.municipalities import municipality_name

from . import model as M
from .world import unit_kind

SALARY_2024 = {"socialsekreterare": 40_500, "arbetsledare": 49_000, "behandlare": 35_500, "annan": 33_000}
SALARY_RAISE = 0.035
PERSONNEL_OVERHEAD = 0.40  # PO-pålägg: employer's contributions, pensions, insurance

COST_CENTRES = {"bou": "200", "mottagning": "200", "vald": "200", "behandling": "200", "vuxen": "300", "eb": "400"}
CENTRE_NAMES = {"100": "Förvaltningsövergripande", "200": "Barn- och ungdomsvård", "300": "Vård och vuxna",
                "400": "Ekonomiskt bistånd"}
ACCOUNTS = {"3130": "Ersättningar och avgifter", "3510": "Statsbidrag", "5011": "Lön månadsavlönade",
            "5611": "Personalomkostnader", "6110": "Lokalhyra", "6540": "IT-tjänster", "7990": "Övriga kostnader"}
# Monthly lines per cost centre at the reference population (cost positive, income negative):
# the administration's management and staff functions (10 FTE), premises, IT and the rest;
# state grants for children's care; fees (adults) and recovered assistance.
FIXED_MONTHLY = (
    ("100", "5011", 480_000, "Förvaltningsledning och stab, löner"),
    ("100", "5611", 480_000 * PERSONNEL_OVERHEAD, "Förvaltningsledning och stab, personalomkostnader"),
    ("100", "6110", 620_000, "Lokalhyra"),
    ("100", "6540", 230_000, "IT-tjänster"),
    ("100", "7990", 180_000, "Övriga kostnader"),
    ("200", "3510", -250_000, "Statsbidrag"),
    ("300", "3130", -40_000, "Egenavgifter"),
    ("400", "3130", -60_000, "Återbetalt bistånd"),
)
PAYDAY = 25


def _months(first: date, last: date):
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def ledger_lines(staff_log, population: int, first: date, last: date) -> list[LedgerLine]:
    """One month's lines for every month from ``first`` to ``last`` whose 25th is within them.

    ``staff_log``: (unit, role, consultant, fte, first day, leaving day) of everyone the
    simulation employed (:attr:`Municipality.staff_log`); only permanent staff are booked."""
    scale = population / M.REFERENCE_POPULATION
    lines: list[LedgerLine] = []
    for year, month in _months(first, last):
        booked = date(year, month, PAYDAY)
        if not first <= booked <= last:
            continue
        lo = date(year, month, 1).toordinal()
        days = monthrange(year, month)[1]
        hi = lo + days
        level = (1 + SALARY_RAISE) ** (year - 2024)
        salaries: dict[str, float] = {}
        for unit, role, consultant, fte, joined, left in staff_log:
            if consultant:
                continue
            worked = min(left, hi) - max(joined, lo)
            if worked > 0:
                centre = COST_CENTRES.get(unit_kind(unit), "100")
                pay = SALARY_2024.get(role, SALARY_2024["annan"]) * level * fte * worked / days
                salaries[centre] = salaries.get(centre, 0.0) + pay
        for centre, pay in sorted(salaries.items()):
            lines.append(LedgerLine(booked, centre, round(pay, 2), "Löner", "5011"))
            lines.append(LedgerLine(booked, centre, round(pay * PERSONNEL_OVERHEAD, 2), "Personalomkostnader", "5611"))
        for centre, account, amount, text in FIXED_MONTHLY:
            raised = level if account in ("5011", "5611") else 1.0
            lines.append(LedgerLine(booked, centre, round(amount * scale * raised, 2), text, account))
    return lines


def write_ledger(path: Path, code: str, staff_log, population: int, first: date, last: date) -> Path:
    """The SIE 4 file of one simulated municipality over ``first``..``last``."""
    lines = ledger_lines(staff_log, population, first, last)
    return write_sie(path, municipality_name(code), last.year, lines, ACCOUNTS, CENTRE_NAMES)


def ledger_path(path: Path, code: str, several: bool) -> Path:
    """``huvudbok.se`` for one municipality; ``huvudbok-0138.se`` when the run has several."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{code}{path.suffix}") if several else path
