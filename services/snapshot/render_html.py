"""The board's monthly report as one self-contained HTML page in Swedish, laid out like the
board's own follow-up: goals and their colour rules, per goal area its goal, important
events, the month-by-month marks, key figures and actions; the economy; risks; an appendix
of charts and tables.

It renders the *published* report (:mod:`.publish`) and nothing else: every count in it is
already suppressed. No script, no external asset: styles inline, charts as inline SVG
(:mod:`.charts`). A4 landscape, so the same page prints to PDF (:mod:`.render_pdf`).
"""
from __future__ import annotations

from html import escape

from services.swedish import MONTHS_SHORT, mnkr, number

from . import charts, narrative
from .colours import FALLING, GREEN, POSITIVE, RED, STABLE, YELLOW

COLOUR_HEX = {GREEN: "#2e7d32", YELLOW: "#f9c80e", RED: "#c62828", None: "#bdbdbd"}
COLOUR_WORD = {GREEN: "Grön", YELLOW: "Gul", RED: "Röd", None: "Ej bedömd"}
TREND_ARROW = {POSITIVE: "↗", STABLE: "→", FALLING: "↘", None: ""}
TREND_WORD = {POSITIVE: "Positiv", STABLE: "Oförändrad", FALLING: "Nedåtgående", None: "–"}

CSS = """
@page { size: A4 landscape; margin: 11mm 12mm 13mm 12mm;
        @bottom-right { content: "Sida " counter(page) " av " counter(pages); font-size: 7.5pt; color: #555;
                        font-family: "DejaVu Sans", sans-serif; }
        @bottom-left { content: string(doc-title); font-size: 7.5pt; color: #555; font-family: "DejaVu Sans", sans-serif; } }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 8.5pt; color: #1a1a1a;
       margin: 0; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 2pt 0; string-set: doc-title content(); }
h2 { font-size: 12pt; margin: 9pt 0 4pt 0; border-bottom: 1.5pt solid #1f5f8b; padding-bottom: 2pt; }
h3 { font-size: 10.5pt; margin: 9pt 0 3pt 0; }
h4 { font-size: 9pt; margin: 6pt 0 2pt 0; }
.sub { color: #444; margin: 0 0 6pt 0; font-size: 10pt; }
table { border-collapse: collapse; width: 100%; margin: 3pt 0 6pt 0; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border-bottom: 0.6pt solid #c8c8c8; padding: 2pt 4pt; text-align: left; vertical-align: middle; }
th { background: #eef3f7; font-weight: bold; font-size: 8pt; }
td.num { text-align: right; white-space: nowrap; }
th.num { text-align: right; }
table.econ td, table.econ th { font-size: 7.5pt; padding: 2pt 3pt; }
tr.total td { font-weight: bold; border-top: 1pt solid #444; }
.grid td, .grid th { text-align: center; padding: 2pt 2pt; }
.grid td.area, .grid th.area { text-align: left; width: 34%; }
.dot { display: inline-block; width: 11pt; height: 11pt; border-radius: 50%; vertical-align: middle;
       border: 0.5pt solid #555; }
.dot.small { width: 8pt; height: 8pt; }
.arrow { font-size: 11pt; margin-left: 2pt; vertical-align: middle; }
.word { font-size: 6.5pt; color: #333; display: block; line-height: 1.1; }
.banner { border: 1.5pt solid #c62828; background: #fdecea; padding: 5pt 8pt; margin: 6pt 0; }
.banner h2 { border: none; margin: 0 0 3pt 0; color: #c62828; }
.banner ul { margin: 2pt 0 0 14pt; padding: 0; font-size: 8pt; }
.warning { border: 1pt solid #e07b00; background: #fff4e5; padding: 4pt 8pt; margin: 6pt 0; }
.placeholder { border: 1pt dashed #e07b00; background: #fff8e1; padding: 4pt 6pt; font-style: italic; color: #8a5a00; }
.rules p { margin: 1pt 0; }
.area { page-break-inside: auto; }
.goal { margin: 0 0 4pt 0; font-style: italic; }
.assessed { margin: 2pt 0 4pt 0; }
.chart { margin: 4pt 0 8pt 0; }
.pagebreak { page-break-before: always; }
.note { font-size: 8pt; color: #444; }
.headline { font-size: 11pt; font-weight: bold; margin: 6pt 0 4pt 0; }
"""


def dot(colour: str | None, small: bool = False) -> str:
    cls = "dot small" if small else "dot"
    return f"<span class='{cls}' style='background:{COLOUR_HEX[colour]}' title='{COLOUR_WORD[colour]}'></span>"


def cell_text(value) -> str:
    """A published table cell as printed: numbers in Swedish format, text and markers as they are."""
    if isinstance(value, bool) or value is None:
        return "–"
    if isinstance(value, (int, float)):
        return number(value)
    return str(value)


def table(header: list[str], rows: list[list], total_last: bool = False, first_text: int = 1, css: str = "") -> str:
    head = "".join(f"<th{' class=num' if i >= first_text else ''}>{escape(h)}</th>" for i, h in enumerate(header))
    body = []
    for n, row in enumerate(rows):
        cls = " class='total'" if total_last and n == len(rows) - 1 else ""
        cells = "".join(f"<td{' class=num' if i >= first_text else ''}>{escape(cell_text(v))}</td>"
                        for i, v in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    cls = f" class='{css}'" if css else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _month_row(marks: list) -> str:
    cells = []
    for mark in marks:
        if mark is None:
            cells.append("<td></td>")
        else:
            arrow = TREND_ARROW[mark["trend"]]
            cells.append(f"<td>{dot(mark['farg'])}<span class='arrow'>{arrow}</span>"
                         f"<span class='word'>{COLOUR_WORD[mark['farg']]}</span></td>")
    return "".join(cells)


def _grid(report: dict) -> str:
    head = "".join(f"<th>{m}</th>" for m in MONTHS_SHORT)
    rows = "".join(f"<tr><td class='area'><b>{a['nummer']}. {escape(a['namn'])}</b></td>{_month_row(a['manader'])}</tr>"
                   for a in report["malomraden"])
    return (f"<table class='grid'><thead><tr><th class='area'>Målområde</th>{head}</tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _rules(report: dict) -> str:
    yellow = number(report["budget_gul_procent"], 0)
    return (
        "<div class='rules'>"
        "<h3>Uppföljning, målområde 1 – 3</h3>"
        f"<p>{dot(GREEN, True)} Grön: Förvaltningens sammanvägda bedömning och analys att målet kommer uppnås.</p>"
        f"<p>{dot(YELLOW, True)} Gul: Förvaltningens sammanvägda bedömning och analys att målet riskerar att inte uppnås.</p>"
        f"<p>{dot(RED, True)} Röd: Förvaltningens sammanvägda bedömning och analys att målet inte uppnås.</p>"
        "<h3>Uppföljning, målområde 4 budget i balans</h3>"
        f"<p>{dot(GREEN, True)} Grön: ≥ 100 % &nbsp; {dot(YELLOW, True)} Gul: {yellow} % avvikelse &nbsp; "
        f"{dot(RED, True)} Röd: Större avvikelse (årsprognosen mot årsbudgeten)</p>"
        "<h3>Trendförändring</h3>"
        "<p>Trendförändring från föregående månad noteras under respektive målområde: "
        "↗ Positiv trend &nbsp; → Oförändrad stabil trend &nbsp; ↘ Nedåtgående trend</p></div>"
    )


def _text(markdown: str | None) -> str:
    return narrative.to_html(markdown)


def _area(report: dict, area: dict) -> str:
    head = "".join(f"<th>{m}</th>" for m in MONTHS_SHORT)
    assessed = f"<p class='assessed'>Bedömning: {dot(area['farg'], True)} <b>{COLOUR_WORD[area['farg']]}</b>"
    if area["typ"] != "budget" and area["farg"] != area["farg_nyckeltal"]:
        reason = escape(area["skal"].rstrip(". ")) if area["skal"] else "<span class='placeholder'>Skäl saknas</span>"
        assessed += (f" – förvaltningens sammanvägda bedömning; nyckeltalen ensamma ger "
                     f"{COLOUR_WORD[area['farg_nyckeltal']].lower()}. Skäl: {reason}")
    assessed += f". Trend: {TREND_WORD[area['trend']].lower()}.</p>"
    figures = area["nyckeltal"]
    return (
        f"<div class='area'><h3>{area['nummer']}. {escape(area['namn'])}</h3>"
        f"<h4>Nämnd och förvaltningsmål</h4><p class='goal'>{escape(area['mal'])}</p>"
        f"<h4>Viktiga händelser</h4>{_text(area['viktiga_handelser'])}"
        f"<h4>Måluppfyllelse/månad</h4><table class='grid'><thead><tr>{head}</tr></thead>"
        f"<tbody><tr>{_month_row(area['manader'])}</tr></tbody></table>{assessed}"
        f"{table(figures['kolumner'], figures['rader'], first_text=1)}"
        f"<h4>Åtgärder</h4>{_text(area['atgarder'])}</div>"
    )


def _banner(changes: list[dict], revision: int, replaces: str | None) -> str:
    if revision <= 1:
        return ""
    items = "".join(f"<li>{escape(c['uppgift'])}: {escape(cell_text(c['fore']))} → {escape(cell_text(c['efter']))}</li>"
                    for c in changes[:30])
    more = f"<p class='note'>… och {len(changes) - 30} ändringar till.</p>" if len(changes) > 30 else ""
    return (f"<div class='banner'><h2>Revision {revision} – ersätter {escape(str(replaces))}</h2>"
            f"<p>Sent registrerade uppgifter har ändrat {len(changes)} uppgifter i rapporten sedan den "
            f"förra versionen som nämnden fick. Den tidigare versionen finns kvar oförändrad.</p><ul>{items}</ul>{more}</div>")


def _economy(report: dict) -> str:
    econ = report["ekonomi"]
    month_words = report["period"].rsplit(" ", 1)[0]
    tab = econ["tabell"]
    cost_chart = report["diagram"]["kostnad"]
    svg = charts.cost_chart(cost_chart["titel"], list(MONTHS_SHORT), cost_chart["utfall"], cost_chart["budget"],
                            cost_chart["budget"][-1], cost_chart["prognos"])
    return (
        f"<h2 class='pagebreak'>4 Hållbar ekonomi – ekonomiskt utfall</h2>"
        f"<h4>{escape(tab['titel'])}</h4>{table(tab['kolumner'], tab['rader'], total_last=True, css='econ')}"
        f"<p class='headline'>Avvikelse mot budget för perioden {escape(month_words)} {escape(mnkr(econ['avvikelse_ack']))}</p>"
        f"{_text(econ['kommentar'])}"
        f"<p class='note'>Årsprognosens avvikelse mot årsbudgeten: {escape(mnkr(econ['avvikelse_ar']))}. "
        "Kostnader visas med minustecken, som nettokostnad; en positiv avvikelse betyder lägre kostnad än budget.</p>"
        f"{svg}"
    )


def _appendix(report: dict) -> str:
    below = report["undertryck_under"]
    data = report["diagram"]
    inflow = data["inflode"]
    parts = [
        "<h2 class='pagebreak'>Bilaga: ärendeflöde, placeringar och ej verkställda beslut</h2>",
        charts.bar_chart(inflow["titel"], inflow["kategorier"], [tuple(s) for s in inflow["serier"]],
                         suppress_below=below, label_every=max(1, len(inflow["kategorier"]) // 14),
                         faded=inflow["ofullstandig"], note="ljusare stapel: veckan pågår vid månadens slut"),
        charts.bar_chart(data["klockor"]["titel"], data["klockor"]["kategorier"],
                         [tuple(s) for s in data["klockor"]["serier"]], suppress_below=below, value_labels=True),
        "<div class='pagebreak'></div>",
        charts.bar_chart(data["placeringar"]["titel"], data["placeringar"]["kategorier"],
                         [tuple(s) for s in data["placeringar"]["serier"]], suppress_below=below, value_labels=True),
    ]
    for tab in report["tabeller"]:
        parts.append(f"<h4>{escape(tab['titel'])}</h4>{table(tab['kolumner'], tab['rader'], total_last=True)}")
    return "".join(parts)


def render(report: dict, changes: list[dict] | None = None, replaces: str | None = None) -> str:
    """The published report as one HTML page."""
    title = report["titel"]
    warning = ("<div class='warning'><b>Preliminärt underlag.</b> Alla uppgifter för månaden var inte registrerade "
               "när rapporten togs fram.</div>") if report["preliminar"] else ""
    general = "".join(f"<h3>{escape(k)}</h3>{_text(v)}" for k, v in report["overgripande"].items() if v)
    areas = "".join(_area(report, a) for a in report["malomraden"])
    about = "".join(f"<p class='note'>{escape(p)}</p>" for p in report["om_underlaget"])
    return (
        "<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'/>"
        f"<title>{escape(title)} – {escape(report['namnd'])}, {escape(report['kommun'])}</title><style>{CSS}</style>"
        "</head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p class='sub'>{escape(report['namnd'])} · {escape(report['forvaltning'])} · {escape(report['kommun'])}</p>"
        f"<p class='sub'><b>Läget per {escape(report['laget_per'])}</b></p>"
        f"{_banner(changes or [], report['revision'], replaces)}{warning}"
        f"<h2>Mål</h2><p>Målbedömning per målområde för {escape(report['forvaltning'])}.</p>{_rules(report)}"
        f"<h2>Måluppfyllelse {escape(report['period'])}</h2>{_grid(report)}"
        f"{('<h2>Övergripande</h2>' + general) if general else ''}"
        f"<h2 class='pagebreak'>Måluppfyllelse per målområde</h2>{areas}"
        f"{_economy(report)}"
        f"<h2>Risker</h2>{_text(report['risker'])}"
        f"{_appendix(report)}"
        f"<h2>Om underlaget</h2>{about}"
        "</body></html>"
    )
