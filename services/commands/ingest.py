"""`casewatch ingest FILE`: validate a JSONL file and produce it to Kafka (see services.ingest).

Exit status: 0 when every message was acknowledged (rejected lines included: they are on the
dead-letter topic, which is where they belong), 1 when Kafka did not acknowledge a message,
2 for usage errors and when Kafka is unreachable.
"""
from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator, Optional

import orjson
import typer

if TYPE_CHECKING:  # Kafka and pydantic-settings load inside the command, not with --help
    from services.ingest import DeliveryTracker, IngestSummary

TOPIC_TIMEOUT_S = 8.0


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"casewatch ingest: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _progress(total: int | None) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar on stderr, only when a person is watching it."""
    if not total or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
                  console=Console(stderr=True)) as bar:
        task = bar.add_task("ingest", total=total)
        yield lambda done: bar.update(task, completed=done)


def render_table(summary: IngestSummary) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"casewatch ingest: {summary.source_file}", title_justify="left")
    table.add_column("outcome")
    table.add_column("events", justify="right")
    table.add_row("accepted (produced)", f"{summary.accepted:,}")
    table.add_row("duplicates (not produced)", f"{summary.duplicates:,}")
    table.add_row("rejected (dead-lettered)", f"{summary.rejected:,}")
    for reason, n in sorted(summary.rejected_by_reason.items()):
        table.add_row(f"  {reason}", f"{n:,}")
    console = Console(record=True, width=80, file=open(os.devnull, "w"))
    console.print(table)
    rate = summary.lines / summary.seconds if summary.seconds else 0.0
    console.print(f"{summary.lines:,} lines in {summary.seconds:.1f} s ({rate:,.0f}/s) -> "
                  f"{summary.case_topic} / {summary.dead_letter_topic}")
    return console.export_text()


def ingest_command(
    file: Path = typer.Argument(..., help="JSONL file of case events ('-' for stdin)", allow_dash=True),
    bootstrap: Optional[str] = typer.Option(None, "--bootstrap", help="Kafka host:port[,host:port] (default: settings)"),
    topic: Optional[str] = typer.Option(None, "--topic", help="Case-event topic (default: settings)"),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic", help="Dead-letter topic (default: settings)"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object"),
) -> None:
    """Validate a JSONL file and produce accepted events to Kafka, rejected lines to the dead-letter topic."""
    stdin = str(file) == "-"
    if not stdin and not file.is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE")
    from services.ingest import DeliveryError, DeliveryTracker, KafkaUnreachable, ingest_lines, make_producer
    from streams.settings import load_settings

    settings = load_settings(kafka_bootstrap=bootstrap, case_topic=topic, dead_letter_topic=dead_letter_topic)

    try:
        producer = make_producer(settings)
    except KafkaUnreachable as exc:
        raise _fail(f"{exc}. Is the stack running (casewatch stack up)?", 2) from None
    try:
        from services.kafka_topics import ensure_topics

        try:
            ensure_topics(settings.kafka_bootstrap, settings.case_topic, settings.dead_letter_topic,
                          settings.partitions, timeout_s=TOPIC_TIMEOUT_S, security=settings.kafka_security())
        except Exception as exc:  # noqa: BLE001 - any failure here means we cannot go on
            raise _fail(f"could not create or find the topics on {settings.kafka_bootstrap}: {exc}", 2) from None

        tracker = DeliveryTracker(producer)
        source_name = "stdin" if stdin else file.name
        try:
            if stdin:
                summary = ingest_lines(sys.stdin.buffer, tracker, settings.case_topic, settings.dead_letter_topic,
                                       source_name, registry=settings.unit_registry_pairs(),
                                       max_event_bytes=settings.max_event_bytes)
            else:
                with open(file, "rb", buffering=1 << 20) as stream:
                    summary = _ingest_stream(stream, tracker, settings, source_name)
        except DeliveryError as exc:
            done = ", ".join(f"{n:,} to {t}" for t, n in sorted(tracker.acknowledged.items())) or "none"
            raise _fail(f"{exc}. Acknowledged before the failure: {done}. Re-running the ingest is safe: "
                        "the worker ignores event ids it has already counted.", 1) from None
    except BaseException:
        # The failure was reported above in one clear line; what kafka-python's I/O thread logs
        # while it is closed under a dead broker ("Uncaught error ...", with a traceback on
        # stderr through logging's last resort) would only bury it.
        logging.getLogger("kafka").setLevel(logging.CRITICAL + 1)
        _close_quietly(producer, timeout=0)
        raise
    _close_quietly(producer, timeout=10)

    if as_json:
        sys.stdout.buffer.write(orjson.dumps(summary.as_json()) + b"\n")
    else:
        typer.echo(render_table(summary))


def _close_quietly(producer, timeout: float) -> None:
    try:
        producer.close(timeout=timeout)
    except Exception:  # noqa: BLE001 - after a failure message: no traceback from the close
        pass


def _ingest_stream(stream: BinaryIO, tracker: DeliveryTracker, settings, source_name: str) -> IngestSummary:
    with _progress(os.fstat(stream.fileno()).st_size) as progress:
        from services.ingest import ingest_lines

        return ingest_lines(stream, tracker, settings.case_topic, settings.dead_letter_topic, source_name,
                            progress=progress, registry=settings.unit_registry_pairs(),
                            max_event_bytes=settings.max_event_bytes)
