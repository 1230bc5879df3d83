"""`casewatch snapshot` and `casewatch backtest`: the board report and its forecast's backtest
(services/snapshot/); `ivo-report` is in ivo.py."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer




def _fail(message: str) -> None:
    typer.echo(f"fel: {message}", err=True)
    raise typer.Exit(2)


# Both commands read the same event sources: a JSONL file or the case-event log in Kafka.
EVENTS_OPTION = typer.Option(None, "--events", help="JSONL-fil med ärendehändelser (CONTRACT.md)")
FROM_KAFKA_OPTION = typer.Option(False, "--from-kafka",
                                 help="Läs händelseloggen från Kafka (CASEWATCH_KAFKA_BOOTSTRAP, CASEWATCH_CASE_TOPIC)")


def _events(events: Optional[Path], from_kafka: bool):
    """The replay of the chosen source: a JSONL file, or the case-event log in Kafka."""
    from services.snapshot.figures import load_replay
    from streams.settings import load_settings

    if bool(events) == from_kafka:
        _fail("ange antingen --events FIL eller --from-kafka")
    settings = load_settings()
    registry = settings.unit_registry_pairs()  # the worker's units and link window: reports count what it counts
    if events is not None:
        if not events.is_file():
            _fail(f"filen finns inte: {events}")
        return load_replay(events, registry, settings.clocks())
    from streams.kafka_log import KafkaLogError, read_case_log

    try:
        return load_replay(read_case_log(settings.kafka_bootstrap, settings.case_topic,
                                         security=settings.kafka_security()), registry, settings.clocks())
    except KafkaLogError as exc:
        _fail(f"kan inte läsa händelseloggen: {exc}")


def _thresholds_file() -> Optional[Path]:
    """``CASEWATCH_THRESHOLDS_FILE`` through the validated settings (None: the default file)."""
    from streams.settings import load_settings

    return load_settings().thresholds_file


def _pick_municipality(replay, wanted: Optional[str]) -> str:
    from services.snapshot.figures import municipalities

    found = municipalities(replay)
    if wanted:
        if wanted not in found:
            _fail(f"kommun {wanted} finns inte i händelsefilen (finns: {', '.join(found) or 'inga'})")
        return wanted
    if len(found) == 1:
        return found[0]
    if not found:
        _fail("händelsefilen har inga godkända händelser")
    _fail(f"händelsefilen har flera kommuner ({', '.join(found)}): välj en med --municipality")
    return ""  # unreachable


def snapshot_command(
    month: str = typer.Option(..., "--month", help="Månaden som ska frysas, ÅÅÅÅ-MM"),
    events: Optional[Path] = EVENTS_OPTION,
    from_kafka: bool = FROM_KAFKA_OPTION,
    out_dir: Path = typer.Option(Path("snapshots"), "--out-dir", help="Mapp för frysta rapporter: <mapp>/<ÅÅÅÅ-MM>/rev-<n>/"),
    state_dir: Optional[Path] = typer.Option(None, "--state-dir",
                                             help="Mapp för internt underlag (opublicerat; standard: <mapp>-intern)"),
    config: Optional[Path] = typer.Option(None, "--config", help="Nämndens målstyrning (standard: services/snapshot/board.yaml)"),
    narrative_dir: Optional[Path] = typer.Option(Path("narrative"), "--narrative-dir",
                                                 help="Mapp med sekreterarens text <ÅÅÅÅ-MM>.md"),
    ledger: Optional[Path] = typer.Option(None, "--ledger",
                                          help="Huvudbok: SIE 4-fil (.se) eller CSV datum;verksamhet;belopp_sek[;text]"),
    municipality: Optional[str] = typer.Option(None, "--municipality", help="Kommunkod när filen har flera kommuner"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Skriv även rapport.pdf"),
) -> None:
    """Frys månadens nämndrapport (HTML, PDF, Excel, JSON). Oförändrade siffror ger ingen ny revision."""
    from services.snapshot.build import build_content, run_meta
    from services.snapshot.config import ConfigError, load_config
    from services.snapshot.figures import Month
    from services.snapshot.ledger import LedgerError, read_ledger
    from services.snapshot.freeze import freeze
    from services.snapshot.render_html import cell_text
    from services.snapshot.revisions import Store, default_state_root

    try:
        chosen = Month.parse(month)
    except ValueError as exc:
        _fail(str(exc))
    replay = _events(events, from_kafka)
    mun = _pick_municipality(replay, municipality)
    try:
        board = load_config(config, mun, _thresholds_file())
        ledger_lines = read_ledger(ledger, board.ledger_dimension, board.ledger_exclude_accounts) if ledger else None
    except (ConfigError, LedgerError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"kan inte läsa {exc.filename}: {exc.strerror}")
    store = Store(out_dir, state_dir or default_state_root(out_dir))
    history = store.history([str(m) for m in chosen.months_of_year()[:-1]])
    content = build_content(replay, chosen, board, mun, narrative_dir, ledger_lines, history)
    narrative_file = narrative_dir / f"{chosen}.md" if narrative_dir else None
    meta = run_meta(replay, board, str(narrative_file) if narrative_file and narrative_file.is_file() else None,
                    str(ledger) if ledger else None, str(events) if events else "kafka")
    outcome = freeze(store, str(chosen), content, meta, pdf)
    if not content["underlag"]["komplett_manad"]:
        typer.echo(f"obs: senaste händelse {meta['data_till_och_med']} är före månadens slut: preliminärt underlag", err=True)
    if not outcome.created:
        typer.echo(f"{chosen}: det nämnden ser är oförändrat – ingen ny revision; rev-{outcome.revision} gäller "
                   f"({outcome.path})")
        return
    if outcome.revision == 1:
        typer.echo(f"{chosen}: rev-1 fryst i {outcome.path}")
        return
    shown = outcome.changes
    typer.echo(f"{chosen}: rev-{outcome.revision} fryst i {outcome.path} – {len(shown)} uppgifter ändrade sedan "
               f"rev-{outcome.revision - 1}:")
    for c in shown[:30]:
        typer.echo(f"  {c['uppgift']}: {cell_text(c['fore'])} → {cell_text(c['efter'])}".replace("\u00a0", " "))
    if len(shown) > 30:
        typer.echo(f"  … och {len(shown) - 30} till")


def backtest_command(
    events: Path = typer.Option(..., "--events", help="JSONL file of case events (the year and its history)"),
    year: int = typer.Option(..., "--year", help="The year whose forecasts are tested"),
    municipality: Optional[str] = typer.Option(None, "--municipality", help="One municipality (default: all in the file)"),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="The municipality's ledger (SIE 4 or CSV): "
                                          "own staff, premises, income, so the whole net cost is tested"),
) -> None:
    """The board's year forecast made at each month's end against the year's outcome: the net
    cost (with --ledger) and the event-borne part (placements, consultants, assistance)."""
    from services.snapshot.backtest import backtest
    from services.snapshot.figures import load_replay, municipalities
    from services.snapshot.ledger import LedgerError, read_ledger

    if not events.is_file():
        _fail(f"filen finns inte: {events}")
    lines = None
    if ledger is not None:
        try:
            lines = read_ledger(ledger)
        except (OSError, LedgerError) as exc:
            _fail(f"huvudboken kan inte läsas: {exc}")
    replay = load_replay(events)
    codes = [municipality] if municipality else municipalities(replay)
    if lines is not None and len(codes) > 1:
        _fail("en huvudbok gäller en kommun: ange --municipality")
    for mun in codes:
        rows = backtest(replay, mun, year, ledger=lines)
        typer.echo(f"{mun} {year}: actual net cost {rows[0].actual_sek / 1e6:.1f} MSEK, "
                   f"event-borne {rows[0].events_actual_sek / 1e6:.1f} MSEK")
        for r in rows:
            typer.echo(f"  {year}-{r.month:02d}  forecast {r.forecast_sek / 1e6:8.2f} MSEK  error {r.error_pct:+6.2f} %"
                       f"  event-borne {r.events_error_pct:+6.2f} %")
