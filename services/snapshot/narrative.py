"""The office's text for the month, merged into the report: per goal area the important
events, the actions and the office's assessed colour (with the reason when it differs from
the computed one), plus risks and a comment on the budget deviation.

The data model (:class:`MonthText`, one per month) is what a future editor will write:
``narrative/<YYYY-MM>.yaml``::

    malomraden:
      medarbetare:                    # the goal area's id in the board configuration
        viktiga_handelser: |
          - Fortsatt många nya anmälningar ...
        atgarder: |
          - Höja grundbemanningen ...
        bedomning: gul                # förvaltningens sammanvägda bedömning (grön/gul/röd)
        skal: Rekryteringsläget ...   # why, when it differs from the computed colour
    avvikelse: |                      # the budget deviation explained
      - Ökade kostnader för placeringar ...
    risker: |
      - ...

The older Markdown file ``narrative/<YYYY-MM>.md`` is read too: ``## Målområde <n>`` (or
``## <n>. ...``) starts a goal area whose ``### Viktiga händelser``, ``### Åtgärder``,
``### Bedömning`` (first word the colour) and ``### Skäl`` are its fields; top-level
sections are the three below (those outside a goal area apply to the whole report):

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
from dataclasses import dataclass, field
from pathlib import Path

import yaml

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


COLOURS = ("grön", "gul", "röd")


class NarrativeError(ValueError):
    pass


@dataclass(frozen=True)
class AreaText:
    events: str | None = None
    actions: str | None = None
    colour: str | None = None  # the office's assessed colour
    reason: str | None = None


@dataclass(frozen=True)
class MonthText:
    areas: dict[str, AreaText] = field(default_factory=dict)
    risks: str | None = None
    deviation: str | None = None
    general: dict[str, str | None] = field(default_factory=dict)  # legacy whole-report sections
    source: str | None = None

    def as_json(self) -> dict:
        return {
            "malomraden": {k: {"viktiga_handelser": a.events, "atgarder": a.actions, "bedomning": a.colour,
                               "skal": a.reason} for k, a in sorted(self.areas.items())},
            "risker": self.risks, "avvikelse": self.deviation,
            "overgripande": {k: v for k, v in self.general.items() if v},
        }


def _colour(text: str | None, where: str) -> str | None:
    if not text:
        return None
    word = text.strip().split()[0].strip(".:,").casefold()
    if word not in COLOURS:
        raise NarrativeError(f"{where}: bedömningen ska vara grön, gul eller röd, inte '{text.strip()}'")
    return word


def _text(value) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _from_yaml(path: Path, area_ids: dict[int, str]) -> MonthText:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    areas = {}
    for key, item in (raw.get("malomraden") or {}).items():
        key = area_ids.get(key, str(key)) if isinstance(key, int) else str(key)
        item = item or {}
        areas[key] = AreaText(_text(item.get("viktiga_handelser")), _text(item.get("atgarder")),
                              _colour(_text(item.get("bedomning")), f"{path}: {key}"), _text(item.get("skal")))
    return MonthText(areas, _text(raw.get("risker")), _text(raw.get("avvikelse")), {}, str(path))


_AREA = re.compile(r"^(?:målområde\s+(\d+)|(\d+)[.)]?\s)", re.IGNORECASE)


def _from_markdown(path: Path, area_ids: dict[int, str]) -> MonthText:
    general: dict[str, list[str]] = {}
    areas: dict[str, dict[str, list[str]]] = {}
    risks: list[str] = []
    deviation: list[str] = []
    current: list[str] | None = None
    area: dict[str, list[str]] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADING.match(line)
        if match and len(match.group(1)) <= 2:
            title = match.group(2).strip()
            number = _AREA.match(title)
            area = None
            if number:
                area = areas.setdefault(area_ids.get(int(number.group(1) or number.group(2)), title), {})
                current = None
            elif title.casefold().startswith("risker"):
                current = risks
            elif title.casefold().startswith("avvikelse"):
                current = deviation
            else:
                key = _key(title)
                current = general.setdefault(key, []) if key else None
            continue
        if match and len(match.group(1)) == 3 and area is not None:
            current = area.setdefault(match.group(2).strip().rstrip(":").casefold(), [])
            continue
        if current is not None:
            current.append(line)

    def joined(lines) -> str | None:
        return _text("\n".join(lines or []))

    out = {}
    for key, parts in areas.items():
        out[key] = AreaText(joined(parts.get("viktiga händelser")), joined(parts.get("åtgärder")),
                            _colour(joined(parts.get("bedömning")), f"{path}: {key}"), joined(parts.get("skäl")))
    return MonthText(out, joined(risks), joined(deviation),
                     {s: joined(general.get(s)) for s in SECTIONS}, str(path))


def load_month(narrative_dir: Path | None, month: str, area_ids: dict[int, str] | None = None) -> MonthText:
    """The month's text: ``<month>.yaml`` (or ``.yml``), else ``<month>.md``; empty when none."""
    if narrative_dir is None:
        return MonthText()
    area_ids = area_ids or {}
    for suffix in (".yaml", ".yml"):
        path = Path(narrative_dir) / f"{month}{suffix}"
        if path.is_file():
            return _from_yaml(path, area_ids)
    path = Path(narrative_dir) / f"{month}.md"
    if path.is_file():
        return _from_markdown(path, area_ids)
    return MonthText()
