"""`casewatch dlq`: look at the dead-letter topic and replay what has become valid.

Both commands read the topic from the beginning up to the end offsets taken when they start
(no consumer group, nothing committed), so they always terminate and can be run again.

* ``dlq list`` counts dead letters by reason, field and source. It never prints a value.
* ``dlq replay [--reason R]`` validates each dead letter again with today's validator (and the
  configured unit registry) and sends the ones now valid to the case topic, keyed by
  ``case_id``, re-serialised with the contract's fields only, event ids kept. Running
  it twice sends them twice; the worker deduplicates by event id, so figures do not change.
  Dead letters stored *redacted* (header ``redacted: 1``, see :mod:`streams.dead_letter`) are
  not the original event and are never replayed (fix them at the source and send them again).
"""
from __future__ import annotations

import logging
import sys
from collections import Counter
from contextlib import contextmanager
from typing import Optional

import typer


log = logging.getLogger("casewatch.dlq")

app = typer.Typer(rich_markup_mode=None, help="Dead-letter topic: counts by reason and source; replay what is now valid",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _dead_letters(settings):
    """Every record of the dead-letter topic, beginning to the end offsets seen at the start."""
    from streams.kafka_log import read_records

    return read_records(settings.kafka_bootstrap, settings.dead_letter_topic, security=settings.kafka_security(),
                        client_id="casewatch-dlq")


def count_dead_letters(records) -> dict:
    from streams.dead_letter import header as _header

    by_reason: Counter[str] = Counter()
    by_field: Counter[str] = Counter()
    by_source: Counter[str] = Counter()
    by_source_reason: Counter[tuple[str, str]] = Counter()
    total = 0
    for record in records:
        total += 1
        reason = _header(record.headers, "reason") or "unknown"
        field = _header(record.headers, "field")
        source = _header(record.headers, "source_file", "source") or "unknown"
        by_reason[reason] += 1
        if field:
            by_field[f"{reason}:{field}"] += 1
        by_source[source] += 1
        by_source_reason[(source, reason)] += 1
    return {
        "total": total,
        "by_reason": dict(by_reason.most_common()),
        "by_reason_field": dict(by_field.most_common()),
        "by_source": dict(by_source.most_common()),
        "by_source_reason": {s: {r: n for (s2, r), n in sorted(by_source_reason.items()) if s2 == s}
                             for s in sorted(by_source)},
    }


def replay_dead_letters(records, sink, reason: str | None = None, source: str | None = None,
                        batch_size: int = 1000, dry_run: bool = False, registry=None) -> dict:
    """Re-validate dead letters (with the unit registry's pairs ``registry``, as every path);
    submit the now-valid ones to the case topic via ``sink``, re-serialised with the contract's
    fields only (CONTRACT.md §1a), never the stored bytes."""
    from streams.contract.validate import Event, validate_line_canonical
    from streams.dead_letter import header as _header, is_redacted

    scanned = considered = resubmitted = 0
    not_replayable = 0
    still_invalid: Counter[str] = Counter()
    batch: list[tuple[bytes, bytes]] = []
    for record in records:
        scanned += 1
        was = _header(record.headers, "reason") or "unknown"
        if reason and was != reason:
            continue
        if source and (_header(record.headers, "source_file", "source") or "unknown") != source:
            continue
        considered += 1
        value = record.value or b""
        if is_redacted(record.headers):  # stated by every writer (streams/dead_letter.py)
            not_replayable += 1
            continue
        outcome, canonical = validate_line_canonical(value, registry)
        if type(outcome) is not Event:
            still_invalid[outcome.reason] += 1
            continue
        batch.append((outcome.case_id.encode("utf-8"), canonical))
        if len(batch) >= batch_size:
            if not dry_run:
                sink.submit(batch, [], "dlq-replay")
            resubmitted += len(batch)
            batch = []
    if batch:
        if not dry_run:
            sink.submit(batch, [], "dlq-replay")
        resubmitted += len(batch)
    return {
        "scanned": scanned,
        "considered": considered,
        "resubmitted": resubmitted,
        "dry_run": dry_run,
        "still_invalid": sum(still_invalid.values()),
        "still_invalid_by_reason": dict(still_invalid.most_common()),
        "not_replayable_redacted": not_replayable,
    }


@contextmanager
def _clear_kafka_errors():
    """A missing topic or an unreachable broker: one line and exit status 2, not a traceback."""
    from streams.kafka_log import KafkaLogError

    try:
        yield
    except KafkaLogError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _settings(kafka_bootstrap, case_topic, dead_letter_topic):
    from streams.settings import load_settings

    return load_settings(kafka_bootstrap=kafka_bootstrap, case_topic=case_topic, dead_letter_topic=dead_letter_topic)


@app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON"),
    kafka_bootstrap: Optional[str] = typer.Option(None, "--kafka-bootstrap"),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic"),
) -> None:
    """Count dead letters by reason, field and source (never a value)."""
    settings = _settings(kafka_bootstrap, None, dead_letter_topic)
    with _clear_kafka_errors():
        counts = count_dead_letters(_dead_letters(settings))
    if as_json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(counts) + b"\n")
        return
    typer.echo(f"{counts['total']} dead letters in {settings.dead_letter_topic}")
    typer.echo("by reason:")
    for reason, n in counts["by_reason"].items():
        typer.echo(f"  {reason:28} {n}")
    if counts["by_reason_field"]:
        typer.echo("by reason and field:")
        for key, n in counts["by_reason_field"].items():
            typer.echo(f"  {key:40} {n}")
    typer.echo("by source:")
    for source, reasons in counts["by_source_reason"].items():
        typer.echo(f"  {source}: " + ", ".join(f"{r} {n}" for r, n in reasons.items()))


@app.command("replay")
def replay_command(
    reason: Optional[str] = typer.Option(None, "--reason", help="Only dead letters with this reason"),
    source: Optional[str] = typer.Option(None, "--source", help="Only dead letters from this source"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count; send nothing"),
    as_json: bool = typer.Option(False, "--json"),
    kafka_bootstrap: Optional[str] = typer.Option(None, "--kafka-bootstrap"),
    case_topic: Optional[str] = typer.Option(None, "--case-topic"),
    dead_letter_topic: Optional[str] = typer.Option(None, "--dead-letter-topic"),
) -> None:
    """Re-validate dead letters and send those now valid to the case topic (idempotent)."""
    from services.ingest_api.sink import open_sink
    from streams.contract.validate import REASONS

    if reason and reason not in REASONS and reason != "unknown":
        raise typer.BadParameter(f"unknown reason; one of {', '.join(REASONS)}", param_hint="--reason")
    settings = _settings(kafka_bootstrap, case_topic, dead_letter_topic)
    sink = None if dry_run else open_sink(settings)
    try:
        with _clear_kafka_errors():
            result = replay_dead_letters(_dead_letters(settings), sink, reason=reason, source=source, dry_run=dry_run,
                                         registry=settings.unit_registry_pairs())
    finally:
        if sink is not None:
            sink.close()
    if as_json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
        return
    typer.echo(f"scanned {result['scanned']} dead letters, {result['considered']} matched; "
               f"{'would resubmit' if dry_run else 'resubmitted'} {result['resubmitted']} now-valid events "
               f"to {settings.case_topic}")
    typer.echo(f"still invalid: {result['still_invalid']} "
               + ", ".join(f"{r} {n}" for r, n in result["still_invalid_by_reason"].items()))
    if result["not_replayable_redacted"]:
        typer.echo(f"not replayable (stored redacted, personal id): {result['not_replayable_redacted']}")
