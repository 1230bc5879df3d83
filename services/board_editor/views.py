"""What the templates need beyond the content: Swedish formatting and reading the form back."""
from __future__ import annotations

import re
from datetime import datetime

from services.snapshot.render_html import COLOUR_WORD, cell_text
from services.swedish import mnkr, month_name, number

from .drafts import AreaText, Draft

TREND_WORD = {"positiv": "Positiv trend", "oförändrad": "Oförändrad trend", "nedåtgående": "Nedåtgående trend",
              None: "Ingen trend"}
_AREA_FIELD = re.compile(r"^area-([A-Za-z0-9_-]{1,64})-(events|actions|assessed_colour|reason)$")


def when(iso: str | None) -> str:
    """``2026-11-28T22:47:03+01:00`` → ``28 november 2026 kl. 22.47``."""
    if not iso:
        return "–"
    moment = datetime.fromisoformat(iso)
    return f"{moment.day} {month_name(moment.month)} {moment.year} kl. {moment:%H.%M}"


def clock_text(iso: str) -> str:
    """``kl. 22.47`` today, else the whole instant (``28 november 2026 kl. 22.47``)."""
    moment = datetime.fromisoformat(iso)  # local time, as the store writes it (app._now)
    if moment.date() == datetime.now(moment.tzinfo).date():
        return f"kl. {moment:%H.%M}"
    return when(iso)


def month_title(month: str) -> str:
    year, number_ = month.split("-")
    return f"{month_name(int(number_))} {year}"


def revision_word(name: str | None) -> str:
    """``rev-1`` (the folder's name) as the page says it: ``revision 1``."""
    return f"revision {name[4:]}" if name and name.startswith("rev-") else (name or "")


def changes_word(count: int) -> str:
    """``1 ändrad uppgift``, ``3 ändrade uppgifter``."""
    return f"{number(count)} {'ändrad uppgift' if count == 1 else 'ändrade uppgifter'}"


FILTERS = {"revision_word": revision_word, "changes_word": changes_word, "colour_word": lambda c: COLOUR_WORD.get(c, "Ej bedömd"), "trend_word": lambda t: TREND_WORD.get(t, "–"),
           "when": when, "month_title": month_title, "mnkr": mnkr, "number": number, "cell": cell_text}
GLOBALS: dict = {}


def draft_from_form(month: str, form) -> Draft:
    """The office's text as posted. Goal areas are read from the field names; the caller keeps
    only the board's own areas."""
    areas: dict[str, AreaText] = {}
    for key, value in form.multi_items():
        match = _AREA_FIELD.match(key)
        if not match:
            continue
        text = areas.setdefault(match.group(1), AreaText())
        value = str(value).replace("\r\n", "\n")
        if match.group(2) == "assessed_colour":
            text.assessed_colour = value or None
        else:
            setattr(text, match.group(2), value.strip())
    def text(name: str) -> str:
        return str(form.get(name, "")).replace("\r\n", "\n").strip()

    return Draft(month=month, areas=areas, risks=text("risks"), deviation=text("deviation"))


def shown_changes(meta: dict) -> list[dict]:
    """A revision's changes since the one before, as the board reads them."""
    return [{"falt": c["uppgift"], "fore": cell_text(c["fore"]), "efter": cell_text(c["efter"])}
            for c in meta.get("andringar", [])]
