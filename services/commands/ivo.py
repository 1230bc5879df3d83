"""`casewatch ivo-report`: the quarterly IVO report (CONTRACT.md §6) as JSON, or frozen as a
quarter with the reporter's work list and the council's statistics (services/ivo/)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .snapshot import EVENTS_OPTION, FROM_KAFKA_OPTION, _events, _fail


def ivo_report_command(
    quarter: str = typer.Option(..., "--quarter", help="Kvartal ÅÅÅÅ-Qn, t.ex. 2024-Q1"),
    events: Optional[Path] = EVENTS_OPTION,
    from_kafka: bool = FROM_KAFKA_OPTION,
    municipality: Optional[str] = typer.Option(None, "--municipality", help="Bara denna kommun (standard: alla)"),
    as_json: bool = typer.Option(False, "--json", help="Skriv rapporten som JSON (CONTRACT.md §6) och frys inget"),
    out: Path = typer.Option(Path("ivo"), "--out", help="Mapp för frysta kvartal: <out>/<kvartal>/rev-<n>/"),
    below: int = typer.Option(5, "--suppress-below", min=2, help="Antal under detta döljs i statistiken"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Statistiksidan även som PDF (WeasyPrint)"),
) -> None:
    """Beslut och avbrott som inte verkställts inom tre månader (16 kap. 6 f–h § SoL): JSON, eller
    ett fryst kvartal med arbetslista (HTML, CSV, Excel) och statistik till fullmäktige (HTML, PDF)."""
    import orjson

    from services.ivo.freeze import change_text, freeze
    from services.ivo.quarter import report_from_replay, source_meta
    from streams.core.ivo import Quarter

    try:
        chosen = Quarter.parse(quarter)
    except ValueError as exc:
        _fail(str(exc))
    replay = _events(events, from_kafka)
    report = report_from_replay(replay, chosen, municipality)
    if as_json:
        typer.echo(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
        return
    meta = source_meta(replay, str(events) if events else "Kafka (händelseloggen)", municipality)
    from services.ivo.words import unit_names
    from streams.settings import load_settings

    # The work list names units as the registry does (CONTRACT.md §7), kept with the revision.
    meta["enhetsnamn"] = unit_names(load_settings().unit_registry(),
                                    ((i.municipality, i.unit) for i in [*report.decisions, *report.interruptions]))
    outcome = freeze(report, out, meta, below, pdf)
    lines = f"{len(report.decisions)} beslut, {len(report.interruptions)} avbrott"
    if not outcome.created:
        typer.echo(f"{chosen}: oförändrat ({lines}) – ingen ny revision; rev-{outcome.revision} gäller ({outcome.path})")
    elif outcome.revision == 1:
        typer.echo(f"{chosen}: rev-1 fryst i {outcome.path} ({lines})")
    else:
        typer.echo(f"{chosen}: rev-{outcome.revision} fryst i {outcome.path} ({lines}) – "
                   f"{len(outcome.changes)} uppgifter ändrade sedan rev-{outcome.revision - 1}:")
        for change in outcome.changes:
            typer.echo(f"  {change_text(change)}")
