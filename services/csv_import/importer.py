"""Import one CSV export through a mapping: rows -> pseudonymised contract events -> Kafka.

* Personal ids and case numbers are pseudonymised by the mapping before an event exists; each
  event is then checked by the contract's validator, so anything that still looks like a
  personal id (say, in a free-text column mapped into ``data``) is rejected and dead-lettered
  redacted, never produced.
* Event ids are keyed hashes of the mapping name and the row's normalised values: importing a
  file again produces the same ids, and the worker counts each event once.
* Resumable: after each batch is acknowledged by Kafka the state file records the number of
  data rows done (and the file's SHA-256). A restart skips those rows; rows sent after the last
  commit are sent again with the same ids, which changes nothing. A file whose import finished
  is not sent again unless forced.
* Rows the mapping cannot read (a missing date, a value not in a ``map``, an invalid personal
  id) are not events: they are counted in the summary by reason and column, with line numbers,
  never with a value. Fix the mapping or the export and import again.
"""
from __future__ import annotations

import csv
import hashlib
import logging
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import orjson

from streams.contract.canonical import canonical_bytes
from streams.contract.personal_id import redact
from streams.contract.validate import Rejection, validate_object
from streams.event_size import DEFAULT_MAX_EVENT_BYTES, REFUSED, too_large

from .mapping import Mapping, RowError
from .rows import RowMapper
from .pseudonymise import Pseudonymiser

log = logging.getLogger("casewatch.csv_import")

STATE_VERSION = 1
MAX_ERROR_LINES = 20  # line numbers kept per reason in the summary


class ImportError_(RuntimeError):
    """A file that cannot be imported as the mapping describes (message safe to show)."""


def file_sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


@dataclass
class ImportState:
    """What the state file holds; counts are cumulative over resumed runs."""

    mapping: str
    file_sha256: str
    rows_committed: int = 0
    complete: bool = False
    counts: dict = field(default_factory=dict)
    updated_at: str = ""

    @classmethod
    def load(cls, path: Path) -> "ImportState | None":
        try:
            raw = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError):
            raise ImportError_(f"state file {path} is unreadable; remove it to start over") from None
        if raw.get("version") != STATE_VERSION:
            raise ImportError_(f"state file {path} has an unknown version; remove it to start over")
        return cls(raw["mapping"], raw["file_sha256"], int(raw["rows_committed"]), bool(raw["complete"]),
                   dict(raw.get("counts") or {}), raw.get("updated_at", ""))

    def save(self, path: Path) -> None:
        self.updated_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as stream:
            stream.write(orjson.dumps({"version": STATE_VERSION, "mapping": self.mapping,
                                       "file_sha256": self.file_sha256, "rows_committed": self.rows_committed,
                                       "complete": self.complete, "counts": self.counts,
                                       "updated_at": self.updated_at}, option=orjson.OPT_INDENT_2))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)


def state_path_for(state_dir: Path, mapping: Mapping, sha256: str) -> Path:
    return Path(state_dir) / f"{mapping.name}-{sha256[:16]}.state.json"


class _Tally:
    """Counters for one run (merged into the state's cumulative ones at each commit)."""

    def __init__(self, previous: dict | None = None) -> None:
        p = previous or {}
        self.rows = int(p.get("rows", 0))
        self.rows_without_event = int(p.get("rows_without_event", 0))
        self.events_sent = int(p.get("events_sent", 0))
        self.duplicates_in_file = int(p.get("duplicates_in_file", 0))
        self.rejected = Counter(p.get("rejected_by_reason") or {})
        self.row_errors: Counter[str] = Counter(p.get("row_errors_by_reason") or {})
        self.error_lines: dict[str, list[int]] = {k: list(v) for k, v in (p.get("row_error_lines") or {}).items()}

    def row_error(self, error: RowError, line: int) -> None:
        key = f"{error.reason}:{error.column}" if error.column else error.reason
        self.row_errors[key] += 1
        lines = self.error_lines.setdefault(key, [])
        if len(lines) < MAX_ERROR_LINES:
            lines.append(line)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "rows_without_event": self.rows_without_event,
            "events_sent": self.events_sent,
            "duplicates_in_file": self.duplicates_in_file,
            "rejected": sum(self.rejected.values()),
            "rejected_by_reason": dict(sorted(self.rejected.items())),
            "row_errors": sum(self.row_errors.values()),
            "row_errors_by_reason": dict(sorted(self.row_errors.items())),
            "row_error_lines": {k: v for k, v in sorted(self.error_lines.items())},
        }


def _header(reader, mapping: Mapping) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportError_("the file is empty: no header row") from None
    if header and header[0].startswith("\ufeff"):  # a BOM read with a plain utf-8 encoding
        header[0] = header[0][1:]
    return [h.strip() for h in header]


@contextmanager
def _progress(total_bytes: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when a person watches it; otherwise a log line now and then."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("import", total=total_bytes)
        yield lambda done: bar.update(task, completed=done)


def import_csv(path: Path, mapping: Mapping, pseudonymiser: Pseudonymiser, sink, *,
               state_dir: Path = Path("var/import"), batch_size: int = 1000, max_rows: int | None = None,
               force: bool = False, progress: bool = True, registry=None,
               max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> dict:
    """Import ``path``; returns the summary (also written next to the state file).

    ``registry``: the unit registry's (municipality, unit) pairs (CONTRACT.md §7); an event for
    another pair is dead-lettered ``unknown_unit``. None: every well-formed unit is accepted.

    ``sink`` is the ingest API's :class:`~services.ingest_api.app.EventSink`: ``submit(accepted,
    rejected, source)`` returns once Kafka acknowledged. ``max_rows`` stops after that many data
    rows of this run (the state then resumes from there). An event whose canonical form exceeds
    ``max_event_bytes`` is dead-lettered as ``too_large`` (streams/event_size.py).
    """
    path = Path(path)
    # An export may be named after the person it is about ("utdrag 19811218-9876.csv"): the name
    # is shown (summary, logs, errors) with such a number masked, as the dead letters show it.
    shown = redact(path.name)
    if not path.is_file():
        raise ImportError_(f"no such file: {redact(str(path))}")
    started = time.perf_counter()
    sha = file_sha256(path)
    state_file = state_path_for(state_dir, mapping, sha)
    state = None if force else ImportState.load(state_file)
    if state is not None and (state.mapping != mapping.name or state.file_sha256 != sha):
        state = None
    summary_base = {"mapping": mapping.name, "file": shown, "file_sha256": sha, "state_file": str(state_file)}
    if state is not None and state.complete:
        log.info("import-csv: %s was imported completely before (mapping %s); nothing to send", shown, mapping.name)
        summary = {**summary_base, "already_complete": True, "complete": True, "resumed_from_row": state.rows_committed,
                   "rows_this_run": 0, "events_sent_this_run": 0, "seconds": 0.0, **state.counts}
        return summary
    state = state or ImportState(mapping.name, sha)
    resume_from = state.rows_committed
    if resume_from:
        log.info("import-csv: resuming %s after data row %d", shown, resume_from)
    tally = _Tally(state.counts)
    mapper = RowMapper(mapping, pseudonymiser)
    source = f"csv:{mapping.name}"
    seen_ids: set[tuple[str, str, str]] = set()
    accepted: list[tuple[bytes, bytes]] = []
    rejected: list[tuple] = []
    rows_this_run = sent_this_run = 0
    row_number = 0
    chars_read = 0
    stopped_early = False
    total_bytes = path.stat().st_size

    def commit(upto: int, complete: bool) -> None:
        nonlocal accepted, rejected, sent_this_run
        if accepted or rejected:
            sink.submit(accepted, rejected, source)
        tally.events_sent += len(accepted)
        sent_this_run += len(accepted)
        accepted, rejected = [], []
        state.rows_committed = upto
        state.complete = complete
        state.counts = tally.as_dict()
        state.save(state_file)

    try:
        stream = open(path, "r", encoding=mapping.file.encoding, errors="strict", newline="")
    except OSError as exc:
        raise ImportError_(f"cannot open {redact(str(path))}: {exc.strerror}") from None
    with stream, _progress(total_bytes, progress) as show:
        for _ in range(mapping.file.skip_lines):
            stream.readline()
        reader = csv.reader(stream, delimiter=mapping.file.delimiter, quotechar=mapping.file.quotechar)
        try:
            header = _header(reader, mapping)
            missing = mapper.missing_columns(header)
            if missing:
                raise ImportError_(f"the file lacks column(s) the mapping reads: {', '.join(missing)} "
                                   f"(check the delimiter {mapping.file.delimiter!r} and the encoding "
                                   f"{mapping.file.encoding})")
            for cells in reader:
                row_number += 1
                if row_number <= resume_from:
                    continue
                if max_rows is not None and rows_this_run >= max_rows:
                    row_number -= 1  # this row is left for the next run
                    stopped_early = True
                    break
                rows_this_run += 1
                chars_read += sum(map(len, cells)) + len(cells)
                if not any(c.strip() for c in cells):
                    tally.rows_without_event += 1
                    tally.rows += 1
                    continue
                tally.rows += 1
                row = dict(zip(header, cells))
                line = reader.line_num + mapping.file.skip_lines
                try:
                    built = mapper.events(row)
                except RowError as error:
                    tally.row_error(error, line)
                    continue
                if not built:
                    tally.rows_without_event += 1
                for item in built:
                    event = item.event
                    outcome = validate_object(event, registry)
                    raw = orjson.dumps(event)
                    canonical = None
                    if type(outcome) is not Rejection:
                        # The contract's fields only, as every path passes events on (CONTRACT.md §1a).
                        canonical = canonical_bytes(event, outcome.type)
                        if too_large(canonical, max_event_bytes):
                            outcome = REFUSED
                    if type(outcome) is Rejection:
                        tally.rejected[outcome.reason] += 1
                        rejected.append((raw, outcome, {"source_file": path.name, "line_no": line}))
                        continue
                    key = (outcome.municipality, outcome.case_id, outcome.event_id)
                    if key in seen_ids:
                        tally.duplicates_in_file += 1
                        continue
                    seen_ids.add(key)
                    accepted.append((outcome.case_id.encode("utf-8"), canonical))
                if len(accepted) + len(rejected) >= batch_size:
                    commit(row_number, False)
                    show(chars_read)
                if rows_this_run % 10_000 == 0:
                    log.info("import-csv: %s: %d rows, %d events sent", shown, tally.rows, tally.events_sent)
        except UnicodeDecodeError:
            raise ImportError_(f"data row {row_number + 1} is not valid {mapping.file.encoding}: check `encoding` "
                               "in the mapping (Swedish exports are often cp1252 or utf-8-sig)") from None
        except csv.Error as exc:
            raise ImportError_(f"line {reader.line_num}: malformed CSV ({exc})") from None
        finished = not stopped_early
        commit(row_number, finished)
        show(total_bytes)
    seconds = time.perf_counter() - started
    summary = {**summary_base, "already_complete": False, "complete": finished, "resumed_from_row": resume_from,
               "rows_this_run": rows_this_run, "events_sent_this_run": sent_this_run, "seconds": round(seconds, 3),
               "events_per_second": round(sent_this_run / seconds, 1) if seconds > 0 else None, **tally.as_dict()}
    summary_file = state_file.with_name(state_file.name.replace(".state.json", ".summary.json"))
    summary_file.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    log.info("import-csv: %s: %s; %d rows this run, %d events sent, %d rejected, %d row errors",
             shown, "complete" if finished else f"stopped after row {row_number}", rows_this_run,
             sent_this_run, summary["rejected"], summary["row_errors"])
    return summary

