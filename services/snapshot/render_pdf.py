"""The report as PDF: WeasyPrint renders the same self-contained HTML page (A4 landscape).

WeasyPrint is a PyPI package that draws with Debian's Pango (``libpango-1.0-0``,
``libpangoft2-1.0-0``) and needs a font (``fonts-dejavu-core``); it renders the inline SVG
charts itself, so no browser is involved.
"""
from __future__ import annotations

import logging
from pathlib import Path


def render_pdf(html: str, target: Path) -> Path:
    try:
        from weasyprint import HTML
    except OSError as exc:  # the Python package is there, Pango is not
        raise RuntimeError(
            "WeasyPrint hittar inte Pango: installera Debian-paketen libpango-1.0-0 libpangoft2-1.0-0 "
            f"fonts-dejavu-core ({exc})") from None
    # WeasyPrint logs every CSS property it ignores at WARNING; the page uses none it needs.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    HTML(string=html, base_url=str(Path(target).parent)).write_pdf(str(target))
    return Path(target)
