"""What the board sees: the published report, built from the internal content of a month.

The published report is the only thing the renderers (HTML/PDF and Excel) read, so the two
agree cell for cell, and the only thing frozen next to them (``rapport.json``): every count in
it has passed the suppression of :mod:`.disclosure` across all its tables and charts and the
report of the month before. The internal content (raw figures, kept apart in the store's
internal folder) never reaches a published file.

Text here is for the board: no tool or file names, no formulas, abbreviations explained.
"""
from __future__ import annotations

from datetime import date, timedelta

from services.swedish import MONTHS_SHORT, long_date, month_name, number, percent

from .disclosure import Cell, Published, protect
from .economy_table import econ_rows, economy_table
from .figures import Month
from .labels import CLOCK_SERIES, INTERVENTIONS_SV, PLACEMENT_TYPES_SV
from streams.municipalities import municipality_name

PUBLISHED_SCHEMA = "casewatch.rapport/1"
COLOUR_WORD = {"grön": "Grön", "gul": "Gul", "röd": "Röd", None: "Ej bedömd"}
TREND_WORD = {"positiv": "Positiv", "oförändrad": "Oförändrad", "nedåtgående": "Nedåtgående", None: "–"}
PLACEMENT_GROUPS = (
    ("HVB och SiS", ("hvb", "sis")),
    ("Familjehem", ("familjehem", "familjehem_arvoderat", "jourhem")),
    ("Övriga", ("skyddat_boende", "stodboende")),
)
ABBREVIATIONS = (
    ("HVB", "hem för vård eller boende"), ("SiS", "Statens institutionsstyrelse"),
    ("IVO", "Inspektionen för vård och omsorg"), ("tkr", "tusental kronor"), ("mnkr", "miljoner kronor"),
)
# goal area indicators counted in persons or cases (their values are suppressed like table cells)
COUNTED = {"protection_assessments_overdue", "reports_screening_overdue", "investigations_overdue",
           "decisions_reportable"}


def _m(month: Month) -> str:
    return str(month)


def first_week(month: Month) -> date:
    return min(date(month.year, 1, 1), month.first_day - timedelta(weeks=12))


def _weeks(month: Month) -> list[date]:
    first = first_week(month)
    monday = first - timedelta(days=first.weekday())
    last = month.next_first_day - timedelta(days=1)
    out = []
    while monday <= last:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def clock_atoms(content: dict, key: str, month: str) -> tuple[int, list[str]]:
    data = content["per_manad"][month]
    if key == "decisions_reportable":
        atoms = [f"ivo|{month}|{i}|over_3_man" for i in data["ivo"]]
        return sum(r["over_3_man"] for r in data["ivo"].values()), atoms or [f"ivo|{month}|-|over_3_man"]
    return data["klockor"][key], [f"klocka|{month}|{key}"]


def report_cells(content: dict, month: Month) -> list[Cell]:
    """Every count the report of ``month`` publishes, with the atoms it sums."""
    cells: list[Cell] = []
    year_months = [Month(month.year, m) for m in range(1, month.month + 1)]
    key = _m(month)
    # placements table: type x activity of the month, with totals
    pl = placements_by_activity(content, key)
    units = sorted(u for u, row in pl.items() if any(row.values()))
    types = sorted({t for row in pl.values() for t in row})
    atom = {(t, u): f"pl|{key}|{t}|{u}" for t in types for u in units}  # u: the activity
    for t in types:
        for u in units:
            cells.append(Cell.of(f"placeringar/{t}/{u}", pl[u].get(t, 0), [atom[(t, u)]]))
        cells.append(Cell.of(f"placeringar/{t}/Totalt", sum(pl[u].get(t, 0) for u in units), [atom[(t, u)] for u in units]))
    for u in units:
        cells.append(Cell.of(f"placeringar/Totalt/{u}", sum(pl[u].values()), [atom[(t, u)] for t in types]))
    cells.append(Cell.of("placeringar/Totalt/Totalt", sum(sum(r.values()) for r in pl.values()), list(atom.values())))
    # placements per month end, by group
    for k in year_months:
        rows = placements_by_activity(content, _m(k))
        for name, group in PLACEMENT_GROUPS:
            parts = [(u, t) for u, row in rows.items() for t in row if t in group]
            cells.append(Cell.of(f"diagram_placeringar/{_m(k)}/{name}", sum(rows[u][t] for u, t in parts),
                                 [f"pl|{_m(k)}|{t}|{u}" for u, t in parts] or [f"pl|{_m(k)}|{name}|-"]))
    # decisions not enforced: intervention x (under, over) with totals
    ivo = content["per_manad"][key]["ivo"]
    cols = ("under_3_man", "over_3_man")
    for i, row in ivo.items():
        for c in cols:
            cells.append(Cell.of(f"ivo/{i}/{c}", row[c], [f"ivo|{key}|{i}|{c}"]))
        cells.append(Cell.of(f"ivo/{i}/Totalt", row[cols[0]] + row[cols[1]], [f"ivo|{key}|{i}|{c}" for c in cols]))
    for c in cols:
        cells.append(Cell.of(f"ivo/Totalt/{c}", sum(r[c] for r in ivo.values()), [f"ivo|{key}|{i}|{c}" for i in ivo]
                             or [f"ivo|{key}|-|{c}"]))
    cells.append(Cell.of("ivo/Totalt/Totalt", sum(r[c] for r in ivo.values() for c in cols),
                         [f"ivo|{key}|{i}|{c}" for i in ivo for c in cols] or [f"ivo|{key}|-|alla"]))
    # cases past their legal clocks at each month end (chart) and in the indicator table
    for k in year_months:
        for clock, _label in CLOCK_SERIES:
            value, atoms = clock_atoms(content, clock, _m(k))
            cells.append(Cell.of(f"diagram_klockor/{_m(k)}/{clock}", value, atoms))
    previous = _m(month.previous())
    for clock in COUNTED:
        for when in (key, previous):
            if when in content["per_manad"]:
                value, atoms = clock_atoms(content, clock, when)
                cells.append(Cell.of(f"nyckeltal/{clock}/{when}", value, atoms))
    # reports of concern per week: the sum of its days
    days = content["inflode_per_dag"]
    last = month.next_first_day - timedelta(days=1)
    for monday in _weeks(month):
        span = [monday + timedelta(days=d) for d in range(7) if monday + timedelta(days=d) <= last]
        cells.append(Cell.of(f"inflode/{monday.isoformat()}/{span[-1].isoformat()}",
                             sum(days.get(d.isoformat(), 0) for d in span), [f"dag|{d.isoformat()}" for d in span]))
    return cells


def placements_by_activity(content: dict, month: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    names = content.get("verksamhet_per_enhet", {})
    for unit, row in content["per_manad"][month]["placeringar"].items():
        bucket = out.setdefault(names.get(unit, unit), {})
        for t, n in row.items():
            bucket[t] = bucket.get(t, 0) + n
    return out


def suppressed(content: dict, month: Month, below: int) -> Published:
    """This month's cells protected together with last month's report as it was published.

    Last month's report was itself protected against the month before it, and so on back to
    January (a new year starts afresh), so the chain is followed from January: the context is
    then exactly what the board was shown last month, and a cell hidden there is judged by what
    that report really published."""
    published: Published | None = None
    before: list[Cell] = []
    for k in range(1, month.month + 1):
        cells = report_cells(content, Month(month.year, k))
        published = _protect_once(cells, below, before, published.hidden if published else {})
        before = cells
    return published


_PROTECTED: dict[tuple, Published] = {}


def _protect_once(cells: list[Cell], below: int, context: list[Cell], context_hidden: dict[str, str]) -> Published:
    """:func:`protect`, remembered: each month's report repeats the chain of the months before."""
    key = (tuple(cells), below, tuple(context), tuple(sorted(context_hidden.items())))
    if key not in _PROTECTED:
        if len(_PROTECTED) > 64:
            _PROTECTED.clear()
        _PROTECTED[key] = protect(cells, below, context, context_hidden)
    return _PROTECTED[key]


def _count(published: Published, key: str, below: int):
    return published.shown(key, below) if key in published.cells else 0


def placements_table(content: dict, published: Published, below: int) -> dict:
    key = content["manad"]
    pl = placements_by_activity(content, key)
    units = sorted(u for u, row in pl.items() if any(row.values()))
    types = sorted({t for row in pl.values() for t in row})
    rows = [[PLACEMENT_TYPES_SV.get(t, t), *(_count(published, f"placeringar/{t}/{u}", below) for u in units),
             _count(published, f"placeringar/{t}/Totalt", below)] for t in types]
    rows.append(["Totalt", *(_count(published, f"placeringar/Totalt/{u}", below) for u in units),
                 _count(published, "placeringar/Totalt/Totalt", below)])
    return {"id": "placeringar", "titel": f"Pågående placeringar per verksamhet den {long_date(_last_day(content))}",
            "kolumner": ["Placeringsform", *units, "Totalt"], "rader": rows, "summarad": True}


def ivo_table(content: dict, published: Published, below: int) -> dict:
    ivo = content["per_manad"][content["manad"]]["ivo"]
    cols = ("under_3_man", "over_3_man", "Totalt")
    rows = [[INTERVENTIONS_SV.get(i, i), *(_count(published, f"ivo/{i}/{c}", below) for c in cols)] for i in ivo]
    rows.append(["Totalt", *(_count(published, f"ivo/Totalt/{c}", below) for c in cols)])
    return {"id": "ivo", "titel": "Gynnande beslut som inte verkställts vid månadens slut",
            "kolumner": ["Insats", "Väntat högst 3 månader", "Väntat mer än 3 månader", "Totalt"],
            "rader": rows, "summarad": True}


def _last_day(content: dict) -> date:
    return date.fromisoformat(content["period"]["to"]) - timedelta(days=1)


def format_value(value, fmt: str, below: int, base=None) -> str:
    if value is None:
        return "–"
    if base is not None and 0 < base < below:
        return ".."  # a mean over fewer than `below` cases is not published
    if fmt == "procent":
        return percent(value, 0)
    if fmt == "decimal":
        return number(value, 1)
    if fmt == "dagar":
        return number(value, 0)
    return number(value)


def indicator_rows(content: dict, area: dict, published: Published, below: int) -> list[list]:
    month = content["manad"]
    previous = _m(Month.parse(month).previous())
    rows = []
    for ind in area["indikatorer"]:
        kpi = _kpi_of(ind)
        sign = "högst" if ind["riktning"] == "lagre" else "minst"
        target = f"{sign} {format_value(ind['mal'], ind['format'], 10**9)}"
        if kpi in COUNTED:
            now = _count(published, f"nyckeltal/{kpi}/{month}", below)
            before = _count(published, f"nyckeltal/{kpi}/{previous}", below) if ind["foregaende_manad"] is not None else "–"
        else:
            now = format_value(ind["varde"], ind["format"], below, ind["bas"])
            before = format_value(ind["foregaende_manad"], ind["format"], below)
        rows.append([ind["namn"], target, now, before, COLOUR_WORD[ind["farg"]]])
    if area["typ"] == "budget":
        econ = content["ekonomi"]["resultat"]
        # last month's deviation as that month's report showed it (none before January)
        before = next((m.get("avvikelse_procent") for m in content["diagram"].get("kostnad_mot_budget", ())
                       if m["manad"] == previous), None)
        rows.append(["Årsprognosens avvikelse mot årsbudget", "budget i balans",
                     f"{number(-(econ['avvikelse_procent'] or 0), 1)} %",
                     "–" if before is None else f"{number(-before, 1)} %", COLOUR_WORD[econ["farg"]]])
    return rows


def _kpi_of(ind: dict) -> str | None:
    return ind.get("kpi")


def _chart_series(content: dict, published: Published, below: int, month: Month) -> dict:
    year_months = [Month(month.year, m) for m in range(1, month.month + 1)]
    labels = [MONTHS_SHORT[k.month - 1] for k in year_months]
    weeks = _weeks(month)
    last = month.next_first_day - timedelta(days=1)
    week_keys = [f"inflode/{w.isoformat()}/{min(w + timedelta(days=6), last).isoformat()}" for w in weeks]
    econ = content["diagram"]["kostnad_mot_budget"]
    return {
        "inflode": {"titel": "Inkomna orosanmälningar per vecka",
                    "kategorier": [f"v{w.isocalendar()[1]}" for w in weeks],
                    "serier": [["Orosanmälningar", [published.shown(k, below) for k in week_keys]]],
                    "ofullstandig": [w + timedelta(days=6) > last for w in weeks]},
        "klockor": {"titel": "Ärenden över lagstadgad tid vid varje månadsslut", "kategorier": labels,
                    "serier": [[label, [published.shown(f"diagram_klockor/{_m(k)}/{key}", below) for k in year_months]]
                               for key, label in CLOCK_SERIES]},
        "placeringar": {"titel": "Pågående placeringar vid varje månadsslut", "kategorier": labels,
                        "serier": [[name, [published.shown(f"diagram_placeringar/{_m(k)}/{name}", below)
                                           for k in year_months]] for name, _g in PLACEMENT_GROUPS]},
        "kostnad": {"titel": f"{'Nettokostnad' if content['ekonomi']['huvudbok'] else 'Kostnader'} mot budget "
                             f"{month.year}, ackumulerat, mnkr",
                    # costs as the table shows them: negative
                    "utfall": [-c["utfall_ack"] if c["utfall_ack"] is not None else None for c in econ],
                    "budget": [-b for b in content["diagram"]["budget_ack_jan_dec"]],
                    "prognos": -econ[-1]["arsprognos"] if econ else 0.0},
    }


def _about(content: dict, below: int) -> list[str]:
    econ = content["ekonomi"]
    out = [
        f"Uppgifterna avser läget vid utgången av {month_name(int(content['manad'][5:]))} "
        f"{content['manad'][:4]} och bygger på verksamhetssystemens registreringar av orosanmälningar, "
        "utredningar, beslut, placeringar, ansökningar, utbetalningar och bemanning.",
        f"Antal mellan 1 och {below - 1} visas som <{below} för att ingen enskild ska kunna identifieras; "
        ".. betyder att uppgiften döljs för att en dold uppgift annars skulle kunna räknas fram ur andra uppgifter "
        "i rapporten eller i förra månadens rapport. Medelvärden som bygger på färre än "
        f"{below} ärenden visas inte.",
        "Färgen för målområde 1–3 är förvaltningens sammanvägda bedömning; där den skiljer sig från den färg "
        "nyckeltalen ger anges skälet. Målområde 4 bedöms efter årsprognosen mot årsbudgeten.",
        "Årsprognos: " + econ["metod"],
    ]
    if econ["utan_utfall"]:
        out.append(f"Utfall saknas för {', '.join(econ['utan_utfall'])} i månadens underlag: där antas "
                   "årsprognosen vara lika med årsbudgeten, och i resultatraden räknas utfallet hittills som lika "
                   "med budgeten.")
    if any(r[-1] == "–" for r in econ_rows(content)):
        out.append("Föregående års utfall visas när underlaget täcker hela det året.")
    out.append("Förkortningar: " + "; ".join(f"{a} = {b}" for a, b in ABBREVIATIONS) + ".")
    return out


def publish(content: dict, meta: dict, published: Published | None = None) -> dict:
    """The report as the board sees it (see the module docstring); ``published``: the
    suppression already computed by :func:`suppressed` for this content."""
    below = content["regler"]["undertryck_under"]
    month = Month.parse(content["manad"])
    published = published or suppressed(content, month, below)
    areas = []
    for area in content["malomraden"]:
        grid = [area["manader"].get(f"{month.year}-{m:02d}") for m in range(1, 13)]
        areas.append({
            "id": area["id"], "nummer": area["nummer"], "namn": area["namn"], "mal": area["mal"], "typ": area["typ"],
            "farg": area["farg"], "farg_nyckeltal": area["farg_beraknad"],
            "skal": area["skal"] if area["farg"] != area["farg_beraknad"] else None,
            "trend": area["trend"],
            "manader": [None if g is None else {"farg": g["farg"], "trend": g["trend"]} for g in grid],
            "nyckeltal": {"kolumner": ["Nyckeltal", "Mål", f"{month_name(month.month).capitalize()}",
                                       f"{month_name(month.previous().month).capitalize()}", "Nyckeltalens färg"],
                          "rader": indicator_rows(content, area, published, below)},
            "viktiga_handelser": area["viktiga_handelser"], "atgarder": area["atgarder"],
        })
    econ = content["ekonomi"]
    text = content["berattelse"]
    revision = meta.get("revision", 1)
    return {
        "schema": PUBLISHED_SCHEMA,
        "titel": f"Månadsuppföljning {month_name(month.month)} {month.year}",
        "kommun": municipality_name(content["kommun"]),
        "namnd": content["namnd"], "forvaltning": content["forvaltning"],
        "laget_per": long_date(_last_day(content)),
        "period": f"januari – {month_name(month.month)} {month.year}",
        "manad": content["manad"],
        "revision": revision,
        "preliminar": not content["underlag"]["komplett_manad"],
        "malomraden": areas,
        "overgripande": text.get("overgripande") or {},
        "ekonomi": {
            "avvikelse_ack": econ["avvikelse_ack_kanda"], "avvikelse_ar": econ["resultat"]["avvikelse_ar"],
            "farg": econ["farg"], "kommentar": text.get("avvikelse"),
            "tabell": economy_table(content),
        },
        "risker": text.get("risker"),
        "tabeller": [placements_table(content, published, below), ivo_table(content, published, below)],
        "diagram": _chart_series(content, published, below, month),
        "om_underlaget": _about(content, below),
        "undertryck_under": below,
        "budget_gul_procent": content["regler"]["budget_gul_procent"],
    }


def _table_leaves(prefix: str, header: list[str], rows: list[list]) -> dict[str, object]:
    return {f"{prefix} · {row[0]} · {header[i]}": value for row in rows for i, value in enumerate(row) if i}


def shown_leaves(report: dict) -> dict[str, object]:
    """Everything the board is shown, labelled in words (for the list of changes in a revision)."""
    out: dict[str, object] = {}
    for area in report["malomraden"]:
        name = f"{area['nummer']}. {area['namn']}"
        out[f"{name} · bedömning"] = COLOUR_WORD[area["farg"]]
        for m, mark in enumerate(area["manader"]):
            if mark is not None:
                out[f"{name} · {MONTHS_SHORT[m]}"] = COLOUR_WORD[mark["farg"]]
        out.update(_table_leaves(name, area["nyckeltal"]["kolumner"], area["nyckeltal"]["rader"]))
        for label, key in (("viktiga händelser", "viktiga_handelser"), ("åtgärder", "atgarder"), ("skäl", "skal")):
            out[f"{name} · {label}"] = _short(area[key])
    econ = report["ekonomi"]["tabell"]
    out.update(_table_leaves("Ekonomi", econ["kolumner"], econ["rader"]))
    out["Ekonomi · kommentar"] = _short(report["ekonomi"]["kommentar"])
    out["Risker"] = _short(report["risker"])
    for table in report["tabeller"]:
        out.update(_table_leaves(table["titel"], table["kolumner"], table["rader"]))
    for chart in report["diagram"].values():
        for series in chart.get("serier", ()):
            for category, value in zip(chart["kategorier"], series[1]):
                out[f"{chart['titel']} · {category} · {series[0]}"] = value
    return out


def _short(text: str | None) -> str:
    if not text:
        return "–"
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:59] + "…"


def report_changes(old: dict, new: dict) -> list[dict]:
    """What the board sees differently: ``{"uppgift", "fore", "efter"}`` in reading order."""
    a, b = shown_leaves(old), shown_leaves(new)
    return [{"uppgift": k, "fore": a.get(k), "efter": b.get(k)} for k in [*b, *(k for k in a if k not in b)]
            if a.get(k) != b.get(k)]
