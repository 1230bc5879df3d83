"""Pieces of Swedish alert text, as Prometheus template fragments.

An alert on a phone's lock screen must say what, in which unit, how many and since when, in
Swedish (docs/GLOSSARY.md): "Förhandsbedömning över 14 dagar: 3 i Barn och unga, äldsta sedan
12 mars kl. 09.00". Prometheus renders annotations with Go templates that know no Swedish and
no time zone, so the fragments here do the work in PromQL and in generated lookups:

- *which unit*: the unit registry's display name, which the exporter publishes as
  ``casewatch_unit_info{municipality, unit, name}``; the unit code when there is none;
- *which municipality*: its name from SCB's table (``streams/municipalities.py``), recorded once
  per code as ``casewatch:municipality:info{municipality, name}`` by a generated reference group
  (:func:`municipality_info_rules`) and looked up by the annotation at alert time. A lookup rather
  than a join in the alert expression: a page must fire even when the name is missing (then the
  text says ``kommunkod 0138``); and the names are reference data known at build time, so the
  exporter need not publish them;
- *since when*: the exporter's ``casewatch_oldest_overdue_timestamp_seconds{clock}`` (an instant,
  never a case) moved to Stockholm wall-clock time by the EU summer-time rule evaluated on the
  instant itself (:func:`stockholm_wall_clock`), then written with Swedish month names; the year
  is added when it is not the current Stockholm year;
- *how many*: Swedish figures as ``streams/swedish.py`` writes them: digit groups and the per cent
  sign after a no-break space (``39 866``, ``25 %``), a decimal comma (``14,5``). Prometheus's
  ``humanize`` is English (``39.87k``) and Go's regexp has no look-ahead, so :func:`grouped`
  inserts one group separator per pass of an anchored ``reReplaceAll``.

Build time only: the rule generator imports this; the runtime never does.
"""
from __future__ import annotations

from streams.municipalities import municipalities, municipality_name
from streams.swedish import MONTHS

UNIT_INFO = "casewatch_unit_info"
MUNICIPALITY_INFO = "casewatch:municipality:info"
NBSP = "\\u00a0"  # a Go string escape: the generated YAML shows it, no invisible character
# Go's regexp has no look-ahead: each pass moves the last three digits of the leading run behind a
# no-break space, so a value below 10^12 needs at most three passes.
GROUP_PASSES = 3
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


def municipality() -> str:
    """The municipality's name (``Tyresö kommun``, ``Region Gotland``), else ``kommunkod 0138``."""
    selector = f'{MUNICIPALITY_INFO}{{municipality="%s"}}'
    return (
        f"{{{{ with printf {_quoted(selector)} $labels.municipality | query }}}}"
        '{{ . | first | label "name" }}{{ else }}kommunkod {{ $labels.municipality }}{{ end }}'
    )


def municipality_info_rules() -> list[tuple[str, dict[str, str]]]:
    """``(record, labels)`` of one constant series per SCB code: the names :func:`municipality`
    looks up and the Grafana drop-down shows. 290 series of one sample each, evaluated by
    ``vector(1)``; nothing from the data passes into them."""
    return [(MUNICIPALITY_INFO, {"municipality": code, "name": municipality_name(code)})
            for code in sorted(municipalities())]


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


def grouped(pipeline: str) -> str:
    """Template pipeline text: ``pipeline`` (a number as text, ``.`` for decimals) with Swedish
    digit groups and a decimal comma, ``39866.5`` → ``39 866,5``; the decimals are never grouped."""
    passes = f' | reReplaceAll "^(-?\\\\d+)(\\\\d{{3}})" "${{1}}{NBSP}${{2}}"' * GROUP_PASSES
    return f'{pipeline}{passes} | reReplaceAll "\\\\." ","'


def _formatted(value: str, verb: str) -> str:
    return "{{ " + grouped(f'{value} | printf "{verb}"') + " }}"


def count(value: str = "$value") -> str:
    """``39 866``: a whole number with Swedish digit groups (``value``: a template pipeline)."""
    return _formatted(value, "%.0f")


def decimal(value: str = "$value") -> str:
    """``14,5``, ``1 234,5``: one decimal, a decimal comma."""
    return _formatted(value, "%.1f")


def number(value: str = "$value") -> str:
    """``2,5``, ``40``, ``1 500``: as many decimals as the value has (a threshold)."""
    return _formatted(value, "%.10g")


def percent(value: str = "$value") -> str:
    """``25 %``, ``25,5 %`` from a ratio: ``humanizePercentage`` with a comma and a no-break space."""
    return "{{ " + f'{value} | humanizePercentage | reReplaceAll "\\\\." "," | reReplaceAll "%" "{NBSP}%"' + " }}"
