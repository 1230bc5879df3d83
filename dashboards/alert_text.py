"""Pieces of Swedish alert text, as Prometheus template fragments.

An alert on a phone's lock screen must say what, in which unit, how many and since when, in
Swedish (docs/GLOSSARY.md): "Förhandsbedömning över 14 dagar: 3 i Barn och unga, äldsta sedan
12 mars kl. 09.00". Prometheus renders annotations with Go templates that know no Swedish and
no time zone, so the fragments here do the work in PromQL and in generated lookups:

- *which unit*: the unit registry's display name, which the exporter publishes as
  ``casewatch_unit_info{municipality, unit, name}``; the unit code when there is none;
- *since when*: the exporter's ``casewatch_oldest_overdue_timestamp_seconds{clock}`` (an instant,
  never a case) moved to Stockholm wall-clock time by the EU summer-time rule evaluated on the
  instant itself (:func:`stockholm_wall_clock`), then written with Swedish month names; the year
  is added when it is not the current Stockholm year;
- *how many*: Swedish decimals and per cent (``14,5``, ``25 %``).

Build time only: the rule generator imports this; the runtime never does.
"""
from __future__ import annotations

from streams.swedish import MONTHS

UNIT_INFO = "casewatch_unit_info"
OLDEST_OVERDUE = "casewatch_oldest_overdue_timestamp_seconds"


def stockholm_wall_clock(v: str) -> str:
    """PromQL: each sample of ``v`` (POSIX seconds as its value) plus its Stockholm UTC offset.

    Summer time (UTC+2) runs from the last Sunday of March 01:00 UTC to the last Sunday of
    October 01:00 UTC, the EU rule; ``day_of_month - day_of_week >= 25`` is "on or after the last
    Sunday" in a 31-day month. The result's calendar fields read in UTC are Stockholm's."""
    summer = (
        f"(month({v}) > 3 and month({v}) < 10)"
        f" or (month({v}) == 3 and (day_of_month({v}) - day_of_week({v})) >= 25"
        f" and (day_of_week({v}) > 0 or hour({v}) >= 1))"
        f" or (month({v}) == 10 and ((day_of_month({v}) - day_of_week({v})) < 25"
        f" or (day_of_week({v}) == 0 and hour({v}) < 1)))"
    )
    return f"{v} + 3600 * ((0 * {v} + 2) and ({summer}) or (0 * {v} + 1))"


def _quoted(text: str) -> str:
    """A Go raw string literal for a template argument (PromQL never holds a backquote here)."""
    assert "`" not in text
    return f"`{text}`"


def _month_lookup(var: str) -> str:
    branches = "".join(
        f'{{{{ {"if" if i == 0 else "else if"} eq ({var}.Format "1") "{i + 1}" }}}}{name}'
        for i, name in enumerate(MONTHS)
    )
    return branches + "{{ end }}"


def unit_name() -> str:
    """The unit's display name from the registry, else its code."""
    selector = f'{UNIT_INFO}{{municipality="%s",unit="%s"}}'
    return (
        f"{{{{ with printf {_quoted(selector)} $labels.municipality $labels.unit | query }}}}"
        "{{ . | first | label \"name\" }}{{ else }}{{ $labels.unit }}{{ end }}"
    )


def since(clock: str, job_matcher: str) -> str:
    """``, äldsta sedan 12 mars kl. 09.00`` (or ``12 mars 2025 kl. 09.00`` in another year) for
    the unit's oldest overdue item on ``clock``; empty when the exporter publishes none."""
    selector = (f'min by (municipality, unit) ({OLDEST_OVERDUE}{{{job_matcher},'
                f'municipality="%s",unit="%s",clock="{clock}"}})')
    wall = stockholm_wall_clock("%[1]s")
    now = stockholm_wall_clock("vector(time())")
    return (
        f"{{{{ with printf {_quoted(wall)} (printf {_quoted(selector)} $labels.municipality $labels.unit)"
        " | query }}{{ $t := . | first | value | toTime }}, äldsta sedan {{ $t.Day }} "
        + _month_lookup("$t")
        + f"{{{{ with query {_quoted(now)} }}}}{{{{ $now := . | first | value | toTime }}}}"
        '{{ if ne ($now.Format "2006") ($t.Format "2006") }} {{ $t.Format "2006" }}{{ end }}{{ end }}'
        ' kl. {{ $t.Format "15.04" }}{{ end }}'
    )


def count() -> str:
    """A count as Swedish text: ``3``, ``4 458`` is left to Prometheus (``humanize`` is English)."""
    return '{{ printf "%.0f" $value }}'


def decimal() -> str:
    """``14,5``: one decimal, a decimal comma."""
    return '{{ printf "%.1f" $value | reReplaceAll "\\\\." "," }}'


def percent() -> str:
    """``25 %``, ``25,5 %`` from a ratio ``$value``."""
    return '{{ $value | humanizePercentage | reReplaceAll "\\\\." "," | reReplaceAll "%" " %" }}'
