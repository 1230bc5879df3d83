"""A quarter's IVO content from an event source: the §6 report, the council's statistics and
what the frozen revision holds (``content``)."""
from __future__ import annotations

from streams.core.clocks import DEFAULT_CLOCKS, Clocks
from streams.core.facts import fold_case
from streams.core.ivo import NOT_ENFORCED, SEXES, WAIT_BANDS, IvoReport, Quarter, ivo_report, wait_band
from streams.core.replay import Replay
from streams.core.timeutil import format_ts

from .suppression import Grid, suppress


def report_from_replay(replay: Replay, quarter: Quarter, municipality: str | None = None,
                       clocks: Clocks = DEFAULT_CLOCKS) -> IvoReport:
    """§6 from every event of the input, each case folded as if at E."""
    end = quarter.end_ts
    cases = ((case_id, fold_case(mun, records.values(), end, clocks))
             for (mun, case_id), records in sorted(replay.cases.items()))
    return ivo_report(cases, quarter, municipality, clocks)


def council_grids(report: IvoReport) -> list[Grid]:
    """The two anonymised tables: by intervention and sex, by time waited and sex (open at E)."""
    by_intervention = {i: dict(row) for i, row in report.statistics.items()}
    by_wait: dict[str, dict[str, int]] = {b: {s: 0 for s in SEXES} for b in WAIT_BANDS}
    end = report.quarter.last_day
    for line in [*report.decisions, *report.interruptions]:
        if line.status == NOT_ENFORCED:
            by_wait[wait_band(line.started, end)][line.sex if line.sex in SEXES else "okänt"] += 1
    return [Grid("insats", list(by_intervention), list(SEXES), by_intervention),
            Grid("vantetid", list(WAIT_BANDS), list(SEXES), by_wait)]


def council_tables(report: IvoReport, below: int) -> dict:
    grids = council_grids(report)
    result = suppress(grids, below)
    return {"undertryck_under": below, **{g.name: result.table(g) for g in grids}}


def source_meta(replay: Replay, source: str, municipality: str | None) -> dict:
    return {"kalla": source, "kommun": municipality,
            "data_till_och_med": format_ts(replay.latest) if replay.latest is not None else None,
            "handelser": {"godkanda": replay.accepted, "dubbletter": replay.duplicates,
                          "avvisade": sum(replay.rejected.values())}}
