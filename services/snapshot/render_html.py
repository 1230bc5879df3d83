"""The board's monthly report as one self-contained HTML page in Swedish.

No script, no external asset: styles inline, charts as inline SVG (:mod:`.charts`). Laid out
for A4 landscape so the same page prints to PDF (:mod:`.render_pdf`). Published counts are
suppressed (``<5``, ``..``); the unsuppressed figures stay in ``snapshot.json``.
"""
from __future__ import annotations

import re
from datetime import date
from html import escape

from services.summary import period_text
from services.swedish import MONTHS_SHORT, date_time, long_date, month_name, number, percent

from . import charts, narrative
from .colours import FALLING, GREEN, POSITIVE, RED, STABLE, YELLOW
from .economy import FORECAST_METHOD
from .labels import CLOCK_SERIES, COUNT_KPIS, ECONOMY_OTHER_SV, ECONOMY_SV, INTERVENTIONS_SV, KPI_SV, PLACEMENT_TYPES_SV
from .suppress import SECONDARY, TOTAL, is_small, marker

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
h4 { font-size: 9.5pt; margin: 6pt 0 2pt 0; }
.sub { color: #444; margin: 0 0 6pt 0; }
.meta { font-size: 8pt; color: #555; }
table { border-collapse: collapse; width: 100%; margin: 3pt 0 6pt 0; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border-bottom: 0.6pt solid #c8c8c8; padding: 2pt 4pt; text-align: left; vertical-align: middle; }
th { background: #eef3f7; font-weight: bold; font-size: 8.5pt; }
td.num, th.num { text-align: right; white-space: nowrap; }
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
.banner ul { margin: 2pt 0 0 14pt; padding: 0; columns: 2; font-size: 8pt; }
.warning { border: 1pt solid #e07b00; background: #fff4e5; padding: 4pt 8pt; margin: 6pt 0; }
.placeholder { border: 1pt dashed #e07b00; background: #fff8e1; padding: 4pt 6pt; font-style: italic; color: #8a5a00; }
.legend { font-size: 8pt; color: #333; margin: 2pt 0 4pt 0; }
.legend span { margin-right: 12pt; white-space: nowrap; }
.cols { display: flex; gap: 12pt; }
.cols > div { flex: 1; }
.chart { margin: 4pt 0 8pt 0; }
.pagebreak { page-break-before: always; }
.note { font-size: 8pt; color: #444; }
.headline { font-size: 11pt; font-weight: bold; margin: 4pt 0; }
"""


def _when(value: object) -> str:
    """An ISO instant from the snapshot's data as Swedish text ("28 november 2026 kl. 22.47");
    anything else (a missing value) as it is."""
    from datetime import datetime

    try:
        return date_time(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value) if value not in (None, "") else "–"


def _dot(colour: str | None, small: bool = False) -> str:
    cls = "dot small" if small else "dot"
    return f"<span class='{cls}' style='background:{COLOUR_HEX[colour]}' title='{COLOUR_WORD[colour]}'></span>"


def _trend(trend: str | None) -> str:
    if trend is None:
        return ""
    return f"<span class='arrow' title='{TREND_WORD[trend]}'>{TREND_ARROW[trend]}</span>"


def count_text(value, below: int) -> str:
    """A published count as plain text: ``<5`` for 1..4, markers as they are."""
    if isinstance(value, str):
        return value
    return marker(below) if is_small(value, below) else number(value)


def _count(value, below: int) -> str:
    return escape(count_text(value, below))


def _tkr(sek: float | None) -> str:
    """Net cost as the board's tables show it: a cost is negative, in thousands."""
    return "–" if sek is None else number(sek / 1000)


def format_indicator(value, fmt: str, below: int, base=None) -> str:
    if value is None:
        return "–"
    if base is not None and is_small(base, below):
        return SECONDARY  # a mean over fewer than `below` cases is not published
    if fmt == "antal":
        return count_text(value, below)
    if fmt == "procent":
        return percent(value, 0)
    if fmt == "decimal":
        return number(value, 1)
    if fmt == "dagar":
        return number(value, 0)
    return number(value)


def _target(ind: dict) -> str:
    sign = "≤" if ind["riktning"] == "lagre" else "≥"
    value = format_indicator(ind["mal"], ind["format"], 10**9)
    return escape(f"{sign} {value}")


def _period_label(month: int, year: int) -> str:
    yy = str(year)[2:]
    return f"{MONTHS_SHORT[0]} {yy} – {MONTHS_SHORT[month - 1]} {yy}"


def change_label(path: str, content: dict | None = None) -> str:
    """A changed field's path in words: ``figures/bou-1/reports_received`` → ``bou-1 · Inkomna orosanmälningar``."""
    parts = path.split("/")
    names_of: dict[str, str] = {}
    for area in (content or {}).get("malomraden", ()):
        names_of[area["id"]] = f"{area['nummer']}. {area['namn']}"
        names_of.update({i["id"]: i["namn"] for i in area["indikatorer"]})
    for row in (content or {}).get("ekonomi", {}).get("verksamheter", ()):
        names_of[row["id"]] = row["namn"]
    head = parts[0]
    if head == "figures" and len(parts) >= 3:
        label = KPI_SV.get(parts[2], parts[2])
        extra = f" ({PLACEMENT_TYPES_SV.get(parts[3], parts[3])})" if len(parts) > 3 else ""
        return f"{parts[1]} · {label}{extra}"
    if head == "kommun_totalt" and len(parts) >= 2:
        extra = f" ({PLACEMENT_TYPES_SV.get(parts[2], parts[2])})" if len(parts) > 2 else ""
        return f"Hela kommunen · {KPI_SV.get(parts[1], parts[1])}{extra}"
    names = {**ECONOMY_SV, **ECONOMY_OTHER_SV}
    if head == "ekonomi" and len(parts) >= 4 and parts[1] == "verksamheter":
        return f"Ekonomi · {names_of.get(parts[2], parts[2])} · {names.get(parts[3], '/'.join(parts[3:]))}"
    if head == "ekonomi" and len(parts) >= 3 and parts[1] == "resultat":
        return f"Ekonomi · Resultat · {names.get(parts[2], '/'.join(parts[2:]))}"
    if head == "ekonomi" and len(parts) == 2:
        return f"Ekonomi · Totalt · {names.get(parts[1], parts[1])}"
    if head == "malomraden" and len(parts) >= 5 and parts[2] == "indikatorer":
        what = {"varde": "utfall", "foregaende_manad": "föregående månad", "farg": "bedömning", "mal": "målvärde"}
        return f"Nyckeltal · {names_of.get(parts[3], parts[3])} ({what.get(parts[4], parts[4])})"
    if head == "malomraden" and len(parts) >= 3:
        area = names_of.get(parts[1], parts[1])
        if parts[2] == "manader" and len(parts) >= 5:
            return f"Målområde · {area} · {parts[3]} ({'färg' if parts[4] == 'farg' else parts[4]})"
        return f"Målområde · {area} · {'färg' if parts[2] == 'farg' else parts[2]}"
    if head == "berattelse":
        return f"Text · {parts[1] if len(parts) > 1 else ''}"
    return " · ".join(parts)


def change_value(path: str, value, below: int) -> str:
    if value is None:
        return "–"
    parts = path.split("/")
    key = parts[2] if parts[0] == "figures" and len(parts) > 2 else parts[1] if parts[0] == "kommun_totalt" and len(parts) > 1 else None
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, (int, float)):
        # counts are ints (and any int may count people): small ones stay hidden in the banner too
        if isinstance(value, int) or key in COUNT_KPIS or parts[0] in ("ivo", "placeringar_tabell"):
            return count_text(value, below)
        field = parts[-1]
        if parts[0] == "ekonomi" and field in ECONOMY_SV:
            # costs are printed as negative net cost; deviations are already signed (budget - cost)
            return f"{_tkr(value if field.startswith('avvikelse') else -value)} tkr"
        if float(value).is_integer():
            return number(value)
        return number(value, 3 if abs(value) < 1 else 2)
    if isinstance(value, str) and parts[0] == "berattelse":
        return "(text)"
    return str(value)


# Left out of the banner (still in snapshot.json): derived series, working parts and the
# unit-level repetition of municipality figures.
_HIDDEN_CHANGE = re.compile(
    r"^(diagram|underlag|figures|placeringar_tabell)/|^ivo/publicerad/|/forbattring$|/bas$|/prognos_delar/"
    r"|/kostnader_ack/|^ekonomi/verksamheter/[^/]+/(avvikelse_procent|foregaende_ar_kalla)$"
    r"|weekly_mean_12w$|_last_7d$|_due_soon$|^kommun_totalt/(placement_days|placements_mean)/")

_CHANGE_ORDER = ("malomraden", "ekonomi", "kommun_totalt", "figures", "ivo", "placeringar_tabell", "berattelse")


def board_changes(changes: list[dict]) -> list[dict]:
    """The changes a reader of the report cares about, most important first (charts and
    bookkeeping left out: they follow from the figures listed)."""
    changed = [c for c in changes if not _HIDDEN_CHANGE.search(c["falt"])]
    changed.sort(key=lambda c: (_CHANGE_ORDER.index(c["falt"].split("/")[0])
                                if c["falt"].split("/")[0] in _CHANGE_ORDER else 99, c["falt"]))
    return changed


def _banner(meta: dict, below: int, content: dict | None = None, limit: int = 24) -> str:
    revision = meta.get("revision", 1)
    if revision <= 1:
        return ""
    changed = board_changes(meta.get("andringar", []))
    items = "".join(
        f"<li>{escape(change_label(c['falt'], content))}: {escape(change_value(c['falt'], c['fore'], below))} → "
        f"{escape(change_value(c['falt'], c['efter'], below))}</li>" for c in changed[:limit]
    )
    more = f"<p class='note'>… och {len(changed) - limit} ändringar till (se snapshot.json).</p>" if len(changed) > limit else ""
    return (f"<div class='banner'><h2>Revision {revision} – ersätter {escape(str(meta.get('ersatter')))}</h2>"
            f"<p>Sena händelser eller ändrat underlag har ändrat {len(changed)} uppgifter sedan förra revisionen "
            f"som visats för nämnden (alla ändringar per enhet finns i snapshot.json). Tidigare revisioner finns "
            f"kvar oförändrade.</p><ul>{items}</ul>{more}</div>")


def _grid(content: dict) -> str:
    year = int(content["manad"][:4])
    head = "".join(f"<th>{m}</th>" for m in MONTHS_SHORT)
    rows = []
    for area in content["malomraden"]:
        cells = []
        for m in range(1, 13):
            mark = area["manader"].get(f"{year}-{m:02d}")
            if mark is None:
                cells.append("<td></td>")
            else:
                cells.append(f"<td>{_dot(mark['farg'])}{_trend(mark['trend'])}"
                             f"<span class='word'>{COLOUR_WORD[mark['farg']]}</span></td>")
        rows.append(f"<tr><td class='area'><b>{area['nummer']}. {escape(area['namn'])}</b></td>{''.join(cells)}</tr>")
    return (f"<table class='grid'><thead><tr><th class='area'>Målområde</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _legend(content: dict) -> str:
    rules = content["regler"]
    return (
        "<div class='legend'>"
        f"<span>{_dot(GREEN, True)} Grön: målet bedöms uppnås</span>"
        f"<span>{_dot(YELLOW, True)} Gul: målet riskerar att inte uppnås</span>"
        f"<span>{_dot(RED, True)} Röd: målet bedöms inte uppnås</span>"
        f"<span>{_dot(None, True)} Ej bedömd</span></div>"
        "<div class='legend'>"
        f"<span>Budget i balans: grön ≥ 100 % av budget hålls, gul inom {number(rules['budget_gul_procent'], 1)} % "
        "avvikelse, röd vid större avvikelse (årsprognos mot årsbudget).</span></div>"
        "<div class='legend'>"
        f"<span>↗ Positiv trend</span><span>→ Oförändrad, stabil trend</span><span>↘ Nedåtgående trend</span>"
        f"<span>Trend mot föregående månad; oförändrad inom ±{number(rules['trend_tolerans'] * 100)} % "
        f"(budget: ±{number(rules['trend_tolerans_budget_pp'], 1)} procentenheter).</span></div>"
    )


def _indicator_table(content: dict, below: int) -> str:
    rows = []
    for area in content["malomraden"]:
        if area["typ"] == "budget":
            econ = content["ekonomi"]["resultat"]
            rows.append(
                f"<tr><td>{area['nummer']}</td><td>Årsprognos mot årsbudget, avvikelse</td>"
                f"<td class='num'>≥ 0 %</td><td class='num'>{number(-(econ['avvikelse_procent'] or 0), 1)} %</td>"
                f"<td class='num'>–</td><td>{_dot(econ['farg'], True)} {COLOUR_WORD[econ['farg']]}</td>"
                f"<td>{_trend(area['trend'])} {TREND_WORD[area['trend']]}</td></tr>")
            continue
        for ind in area["indikatorer"]:
            rows.append(
                f"<tr><td>{area['nummer']}</td><td>{escape(ind['namn'])}</td><td class='num'>{_target(ind)}</td>"
                f"<td class='num'><b>{escape(format_indicator(ind['varde'], ind['format'], below, ind['bas']))}</b></td>"
                f"<td class='num'>{escape(format_indicator(ind['foregaende_manad'], ind['format'], below))}</td>"
                f"<td>{_dot(ind['farg'], True)} {COLOUR_WORD[ind['farg']]}</td>"
                f"<td>{_trend(_ind_trend(ind, content))} {TREND_WORD[_ind_trend(ind, content)]}</td></tr>")
    return ("<table><thead><tr><th>Mål</th><th>Indikator</th><th class='num'>Målvärde</th>"
            f"<th class='num'>Utfall {month_name(int(content['manad'][5:]))}</th><th class='num'>Föreg. månad</th>"
            f"<th>Bedömning</th><th>Trend</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _ind_trend(ind: dict, content: dict) -> str | None:
    from .colours import trend

    return trend([ind["forbattring"]], content["regler"]["trend_tolerans"])


def _economy(content: dict) -> str:
    econ = content["ekonomi"]
    month = int(content["manad"][5:])
    year = int(content["manad"][:4])
    rows = []
    any_partial = False
    for row in [*econ["verksamheter"], econ["resultat"]]:
        partial = not row["foregaende_ar_fullstandigt"]
        any_partial |= partial
        last = "–*" if partial else _tkr(-row["foregaende_ar"])
        last_dev = "–*" if partial else _tkr(row["avvikelse_mot_foregaende_ar"])
        cls = " class='total'" if row["id"] == "resultat" else ""
        rows.append(
            f"<tr{cls}><td>{escape(row['namn'])}</td>"
            f"<td class='num'>{_tkr(-row['utfall_ack'])}</td><td class='num'>{_tkr(-row['budget_ack'])}</td>"
            f"<td class='num'>{_tkr(row['avvikelse_ack'])}</td><td class='num'>{_tkr(-row['arsprognos'])}</td>"
            f"<td class='num'>{_tkr(-row['arsbudget'])}</td><td class='num'>{_tkr(row['avvikelse_ar'])}</td>"
            f"<td class='num'>{last_dev}</td><td class='num'>{last}</td>"
            f"<td>{_dot(row['farg'], True)}</td></tr>")
    total = econ["resultat"]
    deviation = total["avvikelse_ack"]
    from services.swedish import mnkr

    note = (f"<p class='note'>* Händelserna täcker inte hela {year - 1} (första händelse "
            f"{escape(str(content['underlag']['forsta_handelse']))}): föregående års utfall visas inte. Ange det i "
            "board.yaml (utfall_foregaende_ar_sek).</p>") if any_partial else ""
    ledger = "" if econ["huvudbok"] else ("<p class='note'>Ingen huvudboksfil inläst: kostnaderna avser placeringar, "
                                          "konsulter och utbetalt ekonomiskt bistånd ur händelserna.</p>")
    return (
        f"<p class='headline'>Avvikelse mot budget för perioden januari – {month_name(month)} {mnkr(deviation)}; "
        f"årsprognosens avvikelse mot årsbudget {mnkr(total['avvikelse_ar'])}.</p>"
        "<table><thead><tr><th>Nettokostnad per verksamhet, tkr</th>"
        f"<th class='num'>Utfall ack.<br/>{_period_label(month, year)}</th>"
        f"<th class='num'>Budget ack.<br/>{_period_label(month, year)}</th><th class='num'>Avvikelse ack.</th>"
        f"<th class='num'>Årsprognos</th><th class='num'>Årsbudget<br/>{_period_label(12, year)}</th>"
        f"<th class='num'>Avvikelse</th><th class='num'>Avvikelse<br/>mot {year - 1}</th>"
        f"<th class='num'>Utfall ack.<br/>{_period_label(12, year - 1)}</th><th>Bed.</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{note}{ledger}"
        f"<p class='note'><b>Prognosmetod.</b> {escape(FORECAST_METHOD)}</p>"
    )


def _placements(content: dict, below: int) -> str:
    table = content["placeringar_tabell"]
    if len(table) <= 1:
        return "<p>Inga pågående placeringar vid månadens slut.</p>"
    units = [u for u in sorted(content["figures"]) if content["figures"][u]["placements_active"]]
    head = "".join(f"<th class='num'>{escape(u)}</th>" for u in units) + "<th class='num'>Totalt</th>"
    rows = []
    for row in table:
        name = "Totalt" if row[0] == TOTAL else PLACEMENT_TYPES_SV.get(row[0], row[0])
        cls = " class='total'" if row[0] == TOTAL else ""
        rows.append(f"<tr{cls}><td>{escape(name)}</td>" + "".join(f"<td class='num'>{_count(v, below)}</td>" for v in row[1:]) + "</tr>")
    return (f"<table><thead><tr><th>Placeringsform</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p class='note'>{escape(marker(below))}: 1–{below - 1} placeringar. {SECONDARY}: dolt för att en dold uppgift inte "
            "ska kunna räknas fram ur summorna.</p>")


def _ivo(content: dict, below: int) -> str:
    table = content["ivo"]["publicerad"]
    rows = []
    for row in table:
        name = "Totalt" if row[0] == TOTAL else INTERVENTIONS_SV.get(row[0], row[0])
        cls = " class='total'" if row[0] == TOTAL else ""
        rows.append(f"<tr{cls}><td>{escape(name)}</td>" + "".join(f"<td class='num'>{_count(v, below)}</td>" for v in row[1:]) + "</tr>")
    return ("<table><thead><tr><th>Insats</th><th class='num'>Väntat högst 3 månader</th>"
            "<th class='num'>Väntat mer än 3 månader (rapporteras till IVO)</th><th class='num'>Totalt</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p class='note'>Gynnande beslut som inte verkställts vid månadens slut. Förteckningen per ärende lämnas "
            f"till IVO kvartalsvis (casewatch ivo-report --quarter {escape(content['ivo']['kvartal'])}).</p>")


def _charts(content: dict, below: int) -> str:
    data = content["diagram"]
    year = int(content["manad"][:4])
    weeks = data["inflode_per_vecka"]
    week_labels = [f"v{date.fromisoformat(w['vecka']).isocalendar()[1]}" for w in weeks]
    inflow = charts.bar_chart(
        "Inkomna orosanmälningar per vecka", week_labels, [("Orosanmälningar", [w["antal"] for w in weeks])],
        suppress_below=below, label_every=max(1, len(weeks) // 14), faded=[not w["hel_vecka"] for w in weeks],
        note="ljusare stapel: veckan pågår vid månadens slut")
    months = [MONTHS_SHORT[int(m["manad"][5:]) - 1] for m in data["balanser_per_manadsslut"]]
    backlog = charts.bar_chart(
        "Ärenden över lagstadgad tid vid varje månadsslut", months,
        [(label, [m[key] for m in data["balanser_per_manadsslut"]]) for key, label in CLOCK_SERIES],
        suppress_below=below, value_labels=True)
    groups = [k for k in data["placeringar_per_manadsslut"][0] if k != "manad"] if data["placeringar_per_manadsslut"] else []
    placements = charts.bar_chart(
        "Pågående placeringar vid varje månadsslut", months,
        [(g, [m[g] for m in data["placeringar_per_manadsslut"]]) for g in groups],
        suppress_below=below, value_labels=True)
    cost = data["kostnad_mot_budget"]
    cost_svg = charts.cost_chart(
        f"Nettokostnad mot budget {year}, ackumulerat", list(MONTHS_SHORT), [c["utfall_ack"] for c in cost],
        data["budget_ack_jan_dec"], data["budget_ack_jan_dec"][-1], cost[-1]["arsprognos"] if cost else 0.0)
    return inflow, backlog, placements, cost_svg


def _narrative(content: dict) -> str:
    out = []
    for section in narrative.SECTIONS:
        out.append(f"<h3>{section}</h3>{narrative.to_html(content['berattelse'].get(section))}")
    return "".join(out)


def _about(document: dict) -> str:
    content, meta = document["content"], document["meta"]
    events = meta.get("handelser", {})
    rules = content["regler"]
    marks = sorted({mark["kalla"] for a in content["malomraden"] for mark in a["manader"].values()})
    return (
        "<h2>Om underlaget</h2><p class='note'>"
        f"Uppgifterna avser läget vid månadens slut ({escape(_when(content['as_of']))}) och perioden "
        f"{period_text(content['period']['from'], content['period']['to'])}. De är beräknade med casewatch "
        "referensberäkning (casewatch replay) ur ärendehändelser. "
        f"Händelser: {number(events.get('accepterade'))} godkända, {number(events.get('dubbletter'))} dubbletter, "
        f"{number(events.get('avvisade'))} avvisade; senaste händelse {escape(_when(meta.get('data_till_och_med')))}. "
        f"Antal 1–{rules['undertryck_under'] - 1} visas som {escape(marker(rules['undertryck_under']))}; {SECONDARY} döljer en "
        "uppgift som annars skulle avslöja ett dolt antal (sekundär röjandekontroll). Medelvärden som bygger på "
        f"färre än {rules['undertryck_under']} ärenden visas inte. Ett målområdes färg väger samman indikatorerna "
        f"(grön 2, gul 1, röd 0 poäng; medel ≥ {number(rules['sammanvagning']['gron_fran'], 2)} grön, "
        f"≥ {number(rules['sammanvagning']['gul_fran'], 2)} gul, annars röd). Markeringar för tidigare månader: "
        f"{escape(', '.join(marks))} (”rev-n”: som nämnden fick se dem i den frysta rapporten).</p>"
    )


def render(document: dict) -> str:
    content, meta = document["content"], document["meta"]
    below = content["regler"]["undertryck_under"]
    year, month = int(content["manad"][:4]), int(content["manad"][5:])
    inflow, backlog, placements_svg, cost_svg = _charts(content, below)
    warning = ""
    if not content["underlag"]["komplett_manad"]:
        warning = (f"<div class='warning'><b>Preliminärt underlag.</b> Senaste händelse är "
                   f"{escape(_when(meta.get('data_till_och_med')))}, före månadens slut.</div>")
    title = f"Månadsuppföljning {month_name(month)} {year}"
    last_day = date.fromisoformat(content["period"]["to"]).toordinal() - 1
    return (
        "<!DOCTYPE html><html lang='sv'><head><meta charset='utf-8'/>"
        f"<title>{escape(title)} – {escape(content['namnd'])}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p class='sub'>{escape(content['namnd'])} · {escape(content['forvaltning'])} · kommun {escape(content['kommun'])}"
        f" · läget per {long_date(date.fromordinal(last_day))}</p>"
        f"<p class='meta'>Revision {meta.get('revision', 1)} · fryst {escape(_when(meta.get('skapad', '')))} · "
        f"casewatch snapshot {escape(content['manad'])}</p>"
        f"{_banner(meta, below, content)}{warning}"
        f"<h2>Måluppfyllelse januari – {month_name(month)} {year}</h2>{_grid(content)}{_legend(content)}"
        f"<h2>Nyckeltal mot mål</h2>{_indicator_table(content, below)}"
        f"<h2 class='pagebreak'>Verksamhetens kommentarer</h2>{_narrative(content)}"
        f"<h2>Ej verkställda beslut</h2>{_ivo(content, below)}"
        f"<h2 class='pagebreak'>Ekonomi</h2>{_economy(content)}{cost_svg}"
        f"<h2 class='pagebreak'>Inflöde och balanser</h2>{inflow}{backlog}"
        f"<h2 class='pagebreak'>Placeringar</h2>{placements_svg}{_placements(content, below)}"
        f"{_about(document)}"
        "</body></html>"
    )
