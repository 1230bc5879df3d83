"""Freezing a month: publish the report, render HTML, Excel and PDF into a new revision.

One code path for ``casewatch snapshot`` and the board editor's "Frys", so the two can never
produce different files for the same content; :func:`preview` renders the very page a
freeze would write now, which is what the editor shows as its preview.
"""
from __future__ import annotations

from pathlib import Path

from .publish import publish, report_changes
from .render_html import render
from .revisions import Outcome, Store, same_report

HTML_FILE, PDF_FILE, XLSX_FILE = "rapport.html", "rapport.pdf", "rapport.xlsx"


def renderer(pdf: bool = True):
    def render_all(folder: Path, report: dict, changes: list[dict], replaces: str | None) -> list[str]:
        page = render(report, changes, replaces)
        (folder / HTML_FILE).write_text(page, encoding="utf-8")
        names = [HTML_FILE]
        from .render_xlsx import render_xlsx

        render_xlsx(report, folder / XLSX_FILE, changes)
        names.append(XLSX_FILE)
        if pdf:
            from .render_pdf import render_pdf

            render_pdf(page, folder / PDF_FILE)
            names.append(PDF_FILE)
        return names

    return render_all


def publisher(content: dict, revision: int) -> dict:
    return publish(content, {"revision": revision})


def freeze(store: Store, month: str, content: dict, meta: dict, pdf: bool = True) -> Outcome:
    """A new revision of ``month`` unless the board would see what the latest one shows."""
    return store.save(month, content, meta, publisher, renderer(pdf), report_changes)


def preview(store: Store, month: str, content: dict) -> tuple[str, bool]:
    """The page :func:`freeze` would write now, and whether it would make a new revision
    (False: the board would see the latest revision unchanged, whose page is returned)."""
    latest = store.latest(month)
    report = publisher(content, (latest or 0) + 1)
    previous = None if latest is None else store.load_report(month, latest)
    if previous is not None and same_report(previous, report):
        return (store.rev_dir(month, latest) / HTML_FILE).read_text(encoding="utf-8"), False
    changes = [] if previous is None else report_changes(previous, report)
    return render(report, changes, None if latest is None else f"rev-{latest}"), True
