"""The secretary's text for the month: ``narrative/<YYYY-MM>.md``, merged into the report.

The file has up to three sections, each a level-2 heading with its text below:

    ## Viktiga händelser
    - Fortsatt många nya anmälningar ...
    ## Åtgärder
    ...
    ## Risker
    ...

Level-3 headings inside a section (e.g. one per goal area) are kept as sub-headings. A
missing file or section shows the visible placeholder :data:`PLACEHOLDER`. The Markdown
understood is deliberately small: paragraphs, ``-``/``*``/``•`` bullets, ``**bold**`` and
``*italic*``; everything else is shown as text (HTML in the file is escaped, never run).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

SECTIONS = ("Viktiga händelser", "Åtgärder", "Risker")
PLACEHOLDER = "Ingen text inlämnad för månaden"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")


def _key(title: str) -> str | None:
    folded = title.strip().rstrip(":").casefold()
    for section in SECTIONS:
        if folded == section.casefold():
            return section
    return None


def parse(text: str) -> dict[str, str]:
    """``{section: markdown text}`` for the sections present (text before any section is ignored)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match and len(match.group(1)) <= 2:
            key = _key(match.group(2))
            current = sections.setdefault(key, []) if key else None
            continue
        if current is not None:
            current.append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items() if "\n".join(v).strip()}


def load(narrative_dir: Path | None, month: str) -> dict:
    """``{"fil": path or None, "sektioner": {section: text or None}}`` for all three sections."""
    path = None if narrative_dir is None else Path(narrative_dir) / f"{month}.md"
    found = parse(path.read_text(encoding="utf-8")) if path is not None and path.is_file() else {}
    return {
        "fil": str(path) if path is not None and path.is_file() else None,
        "sektioner": {s: found.get(s) for s in SECTIONS},
    }


def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _ITALIC.sub(r"<em>\1</em>", out)


def to_html(markdown: str | None) -> str:
    """A section's text as HTML; the placeholder (marked so it stands out) when there is none."""
    if not markdown:
        return f"<p class='placeholder'>{PLACEHOLDER}</p>"
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            blocks.append(f"<h4>{_inline(heading.group(2))}</h4>")
        elif bullet:
            if paragraph:
                flush()
            items.append(bullet.group(1).strip())
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()  # a bullet's continuation line
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    flush()
    return "".join(blocks)


def to_text(markdown: str | None) -> str:
    """Plain text for the spreadsheet: the placeholder when there is none."""
    return markdown if markdown else PLACEHOLDER
