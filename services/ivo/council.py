"""The anonymised statistics for kommunfullmäktige and the auditors (SoL 16 kap. 6 h §): per
quarter, decisions and interruptions not enforced within three months and still waiting at the
quarter's end, by intervention and sex and by time waited; suppressed (``suppression.py``)."""
from __future__ import annotations

from html import escape

from services.swedish import long_date, number
from streams.core.ivo import Quarter

from . import words
from .suppression import TOTAL

ROW_LABELS = {**words.INTERVENTIONS_SV, **words.WAIT_BANDS_SV, TOTAL: words.TOTAL_SV}


def _cell(value) -> str:
    return escape(value) if isinstance(value, str) else number(value)


def _table(title: str, first: str, table: list[list], columns: list[str]) -> str:
    head = "".join(f"<th class='num'>{escape(h)}</th>" for h in columns)
    body = "".join(
        f"<tr{' class=total' if row[0] == TOTAL else ''}><td>{escape(ROW_LABELS.get(row[0], row[0]))}</td>"
        + "".join(f"<td class='num'>{_cell(v)}</td>" for v in row[1:]) + "</tr>"
        for row in table)
    return (f"<h2>{escape(title)}</h2><table><thead><tr><th>{escape(first)}</th>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def covered(meta: dict, municipality_name: str | None = None) -> str:
    """Whom the figures cover, in running text: ``Tyresö kommun``; with several municipalities
    ``Nacka kommun och Tyresö kommun tillsammans``; ``kommunen`` only when a revision frozen
    before the names were kept says nothing."""
    from streams.municipalities import municipality_name as name_of

    if municipality_name:
        return municipality_name
    codes = meta.get("kommuner") or ([meta["kommun"]] if meta.get("kommun") else [])
    names = sorted(name_of(code) for code in codes)
    if not names:
        return "kommunen"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} och {names[-1]} tillsammans"


def to_html(quarter: Quarter, statistik: dict, meta: dict, municipality_name: str | None = None) -> str:
    below = statistik["undertryck_under"]
    who = escape(covered(meta, municipality_name))
    revision = meta.get("revision")
    rev_text = f" Revision {revision}." if revision else ""
    return (
        "<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'>"
        f"<title>Ej verkställda beslut, {words.quarter_text(quarter)}</title><style>"
        "@page{size:A4;margin:20mm}"
        "body{font-family:'DejaVu Sans',sans-serif;font-size:10.5pt;margin:1.5em;max-width:44em}"
        "h1{font-size:16pt}h2{font-size:12pt;margin-top:1.6em}"
        "table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #bbb;padding:4px 8px;text-align:left}"
        "th{border-bottom:2px solid #333}td.num,th.num{text-align:right}tr.total td{font-weight:bold;"
        "border-top:2px solid #333}.note{font-size:9pt;color:#333}</style></head><body>"
        f"<h1>Rapport till kommunfullmäktige: ej verkställda beslut, {words.quarter_text(quarter)}</h1>"
        f"<p>Statistikrapport enligt 16 kap. 6 h § socialtjänstlagen för {who}. Antal gynnande beslut "
        "enligt socialtjänstlagen som inte verkställts inom tre månader från beslutet, och antal beslut där "
        "verkställigheten avbrutits i tre månader, som fortfarande inte var verkställda vid kvartalets slut "
        f"({long_date(quarter.last_day)}). Uppgifterna är avidentifierade.</p>"
        + _table("Efter insats och kön", "Insats", statistik["insats"], [*words.SEXES_SV.values(), words.TOTAL_SV])
        + _table("Efter tid i väntan", "Tid sedan beslut eller avbrott", statistik["vantetid"], ["Antal"])
        + f"<p class='note'>Antal 1–{below - 1} visas som &lt;{below}; “..” är dolt för att ett dolt antal inte "
        "ska kunna räknas fram ur summor eller andra celler. Samma uppgifter per beslut har rapporterats till "
        f"Inspektionen för vård och omsorg (IVO).{rev_text} Underlag: händelser till och med "
        f"{escape(meta['data_text'])}.</p></body></html>")
