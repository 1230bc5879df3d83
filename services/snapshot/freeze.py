"""Freezing a month: render HTML, Excel and PDF into a new revision of the store.

One code path for ``casewatch snapshot`` and the board editor's "Frys", so the two can never
produce different files for the same content.
"""
from __future__ import annotations

from pathlib import Path

from .render_html import render
from .revisions import Outcome, Renderer, Store

HTML_FILE, PDF_FILE, XLSX_FILE = "rapport.html", "rapport.pdf", "rapport.xlsx"


def renderer(pdf: bool = True) -> Renderer:
    def render_all(folder: Path, document: dict) -> list[str]:
        page = render(document)
        (folder / HTML_FILE).write_text(page, encoding="utf-8")
        names = [HTML_FILE]
        from .render_xlsx import render_xlsx

        render_xlsx(document, folder / XLSX_FILE)
        names.append(XLSX_FILE)
        if pdf:
            from .render_pdf import render_pdf

            render_pdf(page, folder / PDF_FILE)
            names.append(PDF_FILE)
        return names

    return render_all


def freeze(store: Store, month: str, content: dict, meta: dict, pdf: bool = True) -> Outcome:
    """A new revision of ``month`` unless ``content`` equals the latest one."""
    return store.save(month, content, meta, renderer(pdf))
