"""A quarter's IVO content from an event source: the §6 report, the council's statistics and
what the frozen revision holds (``content``)."""
from __future__ import annotations

from streams.core.clocks import Clocks
from streams.core.facts import fold_case
from streams.core.ivo import (INTERVENTIONS, NOT_ENFORCED, SEXES, WAIT_BANDS, IvoReport, Quarter, ivo_report,
                              wait_band)
from streams.core.replay import Replay
from streams.core.timeutil import format_ts

from .suppression import Grid, Suppressed, suppress


def report_from_replay(replay: Replay, quarter: Quarter, municipality: str | None = None,
                       clocks: Clocks | None = None) -> IvoReport:
    """§6 from every event of the input, each case folded as if at E (with the replay's clocks
    unless ``clocks`` says otherwise)."""
    clocks = replay.clocks if clocks is None else clocks
    end = quarter.end_ts
    cases = ((case_id, fold_case(mun, records.values(), end, clocks))
             for (mun, case_id), records in sorted(replay.cases.items()))
    return ivo_report(cases, quarter, municipality, clocks)


def council_counts(report: IvoReport) -> dict[tuple[str, str, str], int]:
    """Persons still waiting at E per (intervention, time waited, sex), zeros included: the
    listed decisions and interruptions that are ``ej_verkstallt`` (§6's ``statistics``)."""
    counts = {(i, b, s): 0 for i in INTERVENTIONS for b in WAIT_BANDS for s in SEXES}
    end = report.quarter.last_day
    for line in [*report.decisions, *report.interruptions]:
        if line.status == NOT_ENFORCED:
            parts = (line.intervention, wait_band(line.started, end), line.sex if line.sex in SEXES else "okänt")
            counts[parts] = counts.get(parts, 0) + 1
    return counts


def council_suppressed(report: IvoReport, below: int) -> tuple[Suppressed, list[Grid]]:
    counts = council_counts(report)
    extra = sorted({p[0] for p in counts} - set(INTERVENTIONS))  # an intervention a newer source sends
    grids = [Grid("insats", [*INTERVENTIONS, *extra], list(SEXES), 0), Grid("vantetid", list(WAIT_BANDS), [], 1)]
    return suppress(counts, grids, below), grids


def council_tables(report: IvoReport, below: int) -> dict:
    """The two tables as the page shows them (``<5``, ``..``), for the frozen quarter."""
    result, grids = council_suppressed(report, below)
    return {"undertryck_under": below, **{g.name: result.table(g) for g in grids}}


def source_meta(replay: Replay, source: str, municipality: str | None) -> dict:
    found = sorted({mun for mun, _case in replay.cases})
    return {"kalla": source, "kommun": municipality or (found[0] if len(found) == 1 else None),
            "kommuner": [municipality] if municipality else found,
            "data_till_och_med": format_ts(replay.latest) if replay.latest is not None else None,
            "handelser": {"godkanda": replay.accepted, "dubbletter": replay.duplicates,
                          "avvisade": sum(replay.rejected.values())}}
