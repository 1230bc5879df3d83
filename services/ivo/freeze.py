"""Frozen quarters: ``<out>/<YYYY-Qn>/rev-<n>/`` through the board's revision store
(``services/snapshot/revisions.py``): the §6 JSON, the work list (HTML, CSV, XLSX) and the
council page (HTML, PDF). Late events that change a line or a published figure give revision
n + 1 whose internal ``snapshot.json`` (in ``<out>-intern/``) lists every changed value (old → new); same content, no revision.

Lines are keyed ``<municipality>|<case_id>|<decision_id>`` (an interruption adds its start
date), so a revision names the decision that changed, not a list position.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import orjson

from services.snapshot.revisions import Outcome, Store, changes
from streams.core.timeutil import STOCKHOLM
from services.swedish import long_date
from streams.core.ivo import IvoItem, IvoReport, Quarter

from . import council, worklist
from .quarter import council_tables

JSON_FILE = "ivo.json"
LIST_HTML, LIST_CSV, LIST_XLSX = "arbetslista.html", "arbetslista.csv", "arbetslista.xlsx"
COUNCIL_HTML, COUNCIL_PDF = "statistik-kf.html", "statistik-kf.pdf"


def line_key(line: IvoItem, interruption: bool) -> str:
    key = f"{line.municipality}|{line.case_id}|{line.decision_id}"
    return f"{key}|{line.started.isoformat()}" if interruption else key


def content(report: IvoReport, below: int) -> dict:
    data = report.as_json()
    return {
        "kvartal": data["quarter"], "slut": data["end"],
        "beslut": {line_key(i, False): row for i, row in zip(report.decisions, data["decisions"])},
        "avbrott": {line_key(i, True): row for i, row in zip(report.interruptions, data["interruptions"])},
        "statistik": data["statistics"],
        "publicerad": council_tables(report, below),
    }


def report_from_json(data: dict) -> IvoReport:
    """The inverse of ``IvoReport.as_json``: a frozen ``ivo.json`` back as a report (gallring
    re-renders the work list from it without the removed cases)."""
    def items(rows: list[dict], start_key: str) -> tuple[IvoItem, ...]:
        return tuple(IvoItem(
            municipality=r["municipality"], unit=r["unit"], case_id=r["case_id"], decision_id=r["decision_id"],
            intervention=r["intervention"], sex=r["sex"], started=date.fromisoformat(r[start_key]),
            limit=date.fromisoformat(r["limit"]), kind=r["kind"], status=r["status"],
            status_date=date.fromisoformat(r["status_date"]) if r["status_date"] else None,
            days_waited=r["days_waited"], delay_reason=r["delay_reason"]) for r in rows)
    return IvoReport(Quarter.parse(data["quarter"]), items(data["decisions"], "decided"),
                     items(data["interruptions"], "interrupted"), data["statistics"])


def worklist_meta(meta: dict) -> dict:
    """What the work list's header line reads, from a revision's meta (``skapad``, ``kalla``, ...)."""
    return {**meta, "skapad_text": instant_text(meta.get("skapad")),
            "data_text": instant_text(meta.get("data_till_och_med"))}


def write_worklist(folder: Path, report: IvoReport, meta: dict) -> list[str]:
    """The reporter's work list (HTML, CSV, XLSX) into ``folder``; the file names."""
    (folder / LIST_HTML).write_text(worklist.to_html(report, meta), encoding="utf-8")
    (folder / LIST_CSV).write_text(worklist.to_csv(report, meta.get("enhetsnamn")), encoding="utf-8-sig")
    worklist.to_xlsx(report, meta, folder / LIST_XLSX)
    return [LIST_HTML, LIST_CSV, LIST_XLSX]


def instant_text(iso: str | None) -> str:
    """``2024-08-12T10:00:00+02:00`` → ``12 augusti 2024 kl. 10.00`` (local time as given)."""
    if not iso:
        return "–"
    at = datetime.fromisoformat(iso)
    return f"{long_date(at.date())} kl. {at:%H.%M}"


def renderer(report: IvoReport, pdf: bool = True):
    def render(folder: Path, document: dict) -> list[str]:
        meta = worklist_meta(document["meta"])
        (folder / JSON_FILE).write_bytes(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2))
        write_worklist(folder, report, meta)
        page = council.to_html(report.quarter, document["content"]["publicerad"], meta)
        (folder / COUNCIL_HTML).write_text(page, encoding="utf-8")
        names = [JSON_FILE, LIST_HTML, LIST_CSV, LIST_XLSX, COUNCIL_HTML]
        if pdf:
            from services.snapshot.render_pdf import render_pdf

            render_pdf(page, folder / COUNCIL_PDF)
            names.append(COUNCIL_PDF)
        return names
    return render


def freeze(report: IvoReport, out: Path, meta: dict, below: int, pdf: bool = True) -> Outcome:
    """Freeze the quarter through the board's revision store: a new revision only when the
    published content changes; the revision's changes are those of the content."""
    render_files = renderer(report, pdf)

    def publish(body: dict, revision: int) -> dict:
        return {"content": body}

    def render(folder: Path, published: dict, shown_changes: list[dict], replaces: str | None) -> list[str]:
        meta_full = {**meta, "revision": published["revision"], "ersatter": replaces,
                     "skapad": datetime.now(STOCKHOLM).isoformat(timespec="seconds"), "andringar": shown_changes}
        return render_files(folder, {"meta": meta_full, "content": published["content"]})

    return Store(out).save(str(report.quarter), content(report, below), meta, publish, render,
                           lambda previous, current: changes(previous["content"], current["content"]))


def change_text(change: dict) -> str:
    """One revision change as a line: ``beslut 0138|c1|d1 status: ej_verkstallt → verkstallt``."""
    field = change["falt"].split("/")
    what = " ".join(field[:-1]) if len(field) > 1 else field[0]
    fmt = lambda v: "–" if v is None else (orjson.dumps(v).decode() if isinstance(v, (dict, list)) else str(v))  # noqa: E731
    return f"{what} {field[-1]}: {fmt(change['fore'])} → {fmt(change['efter'])}"
