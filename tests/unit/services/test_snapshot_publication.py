"""What the board is shown: suppression that holds (audited by an independent LP), the
workbook equal to the PDF, the ledger read from SIE 4, municipality names."""
from __future__ import annotations

import re
import subprocess
from datetime import date, datetime

import numpy as np
import pytest
from openpyxl import load_workbook
from scipy.optimize import linprog

from services.simulator import SimulationSpec, simulate
from services.snapshot.build import build_content
from services.snapshot.config import load_config
from services.snapshot.disclosure import PRIMARY, SECONDARY, protection_width
from services.snapshot.figures import Month, load_replay
from services.snapshot.ledger import LedgerLine, parse_sie, read_ledger, sie_lines, write_sie
from streams.municipalities import municipalities, municipality_name
from services.snapshot.publish import publish, report_cells, suppressed
from services.snapshot.render_html import cell_text, render
from services.snapshot.render_pdf import render_pdf
from services.snapshot.render_xlsx import render_xlsx, sheets
from streams.core.timeutil import STOCKHOLM

BELOW = 5


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """A simulated 2024 (with three months of history) and the content of each month's report."""
    path = tmp_path_factory.mktemp("year") / "events.jsonl"
    spec = SimulationSpec(months=15, municipalities=1, seed=5, end=datetime(2025, 1, 1, tzinfo=STOCKHOLM))
    path.write_bytes(b"".join(simulate(spec)))
    replay = load_replay(path)
    config, cache = load_config(), {}
    contents = {m: build_content(replay, Month(2024, m), config, "0138", cache=cache) for m in range(1, 13)}
    published = {m: suppressed(contents[m], Month(2024, m), BELOW) for m in contents}
    return contents, published


def lp_interval(cells, shown, key):
    """min and max of cell ``key`` given the published values (scipy's linprog, independent of
    the product's own solver): shown numbers exactly, "<5" as 1..4, ".." unknown, atoms >= 0."""
    atoms = sorted({a for c in cells for a in c.atoms})
    index = {a: i for i, a in enumerate(atoms)}
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for c in cells:
        row = np.zeros(len(atoms))
        row[[index[a] for a in c.atoms]] = 1
        value = shown[c.key]
        if isinstance(value, int):
            a_eq.append(row)
            b_eq.append(value)
        elif value == f"<{BELOW}":
            a_ub += [row, -row]
            b_ub += [BELOW - 1, -1]
    target = next(c for c in cells if c.key == key)
    objective = np.zeros(len(atoms))
    objective[[index[a] for a in target.atoms]] = 1
    out = []
    for sense in (1, -1):
        res = linprog(sense * objective, A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None,
                      A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None, bounds=(0, None), method="highs")
        assert res.status in (0, 3), res.message
        out.append(float("inf") if res.status == 3 else sense * res.fun)
    return out


def shown_values(cells, hidden, prefix=""):
    return {prefix + c.key: (f"<{BELOW}" if hidden.get(c.key) == PRIMARY else ".." if hidden.get(c.key) == SECONDARY
                             else c.value) for c in cells}


def published_counts(report):
    """Every count cell of the published report's tables and charts (the text is the report's)."""
    values = []
    for table in report["tabeller"]:
        values += [v for row in table["rader"] for v in row[1:]]
    for name in ("inflode", "klockor", "placeringar"):
        values += [v for series in report["diagram"][name]["serier"] for v in series[1]]
    return values


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_suppression_holds_on_twelve_reports_and_the_month_before(year):
    year_contents, year_published = year
    year_hidden = {m: p.hidden for m, p in year_published.items()}
    audited = exposed = 0
    width = protection_width(BELOW)
    for m in range(1, 13):
        content = year_contents[m]
        month = Month(2024, m)
        cells = report_cells(content, month)
        hidden = year_hidden[m]
        report = publish(content, {"revision": 1}, year_published[m])
        # nothing published holds a raw small count
        assert not [v for v in published_counts(report) if isinstance(v, int) and 0 < v < BELOW]
        shown = shown_values(cells, hidden)
        everything = list(cells)
        if m > 1:
            # last month's report as it was published (its own content, its own suppression)
            before = report_cells(year_contents[m - 1], month.previous())
            before_hidden = year_hidden[m - 1]
            shown.update(shown_values(before, before_hidden, "fore:"))
            everything += [type(c)("fore:" + c.key, c.value, c.atoms) for c in before]
        for key in hidden:
            low, high = lp_interval(everything, shown, key)
            audited += 1
            if high - low < width - 1e-6:
                exposed += 1
                pytest.fail(f"{month}: {key} = {dict((c.key, c.value) for c in cells)[key]} is confined to "
                            f"[{low}, {high}]")
    assert audited > 12 and exposed == 0


@pytest.mark.timeout(1800)
def test_the_chart_minus_the_table_gives_nothing_away(year):
    # the case the old report failed: a group bar ("HVB och SiS") minus a shown cell
    content = year[0][3]
    report = publish(content, {"revision": 1}, year[1][3])
    table = next(t for t in report["tabeller"] if t["id"] == "placeringar")
    rows = {r[0]: r[-1] for r in table["rader"]}
    bar = report["diagram"]["placeringar"]["serier"][0][1][-1]
    if isinstance(rows.get("SiS"), str) and isinstance(bar, int) and isinstance(rows.get("HVB"), int):
        pytest.fail("HVB och SiS minus HVB gives SiS")


@pytest.mark.timeout(1800)
def test_xlsx_equals_the_pdf_cell_for_cell(year, tmp_path):
    report = publish(year[0][3], {"revision": 1}, year[1][3])
    pdf, xlsx = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    render_pdf(render(report), pdf)
    render_xlsx(report, xlsx)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\u00a0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    wb = load_workbook(xlsx)
    compared = 0
    for name, (header, rows) in sheets(report).items():
        ws = wb[name[:31]]
        got = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=len(rows) + 1)]
        assert [[("–" if v is None else v) for v in r][:len(header)] for r in got] == rows  # the workbook holds the report
        for row in rows:
            cells = [cell_text(v).replace("\u00a0", " ") for v in row[1:]]
            pattern = re.escape(" ".join(cells))
            assert any(re.search(pattern + r"(\s|$)", line) for line in lines), (name, row[0], cells)
            compared += 1
    assert compared >= 10


@pytest.mark.timeout(1800)
def test_the_document_reads_like_the_seed(year, tmp_path):
    report = publish(year[0][3], {"revision": 1}, year[1][3])
    pdf = tmp_path / "r.pdf"
    render_pdf(render(report), pdf)
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.replace("\u00a0", " ").split())
    assert "Tyresö kommun" in text and "Läget per 31 mars 2024" in text
    for goal in load_config().goal_areas:
        assert " ".join(goal.goal.split())[:40] in text
    for heading in ("Nämnd och förvaltningsmål", "Viktiga händelser", "Måluppfyllelse/månad", "Åtgärder", "Risker",
                    "Förvaltningens sammanvägda bedömning", "Förvaltningsövergripande"):
        assert heading in text, heading
    for technical in ("casewatch", "board.yaml", "replay", "(R + 1)", "0138", "+01:00", "+02:00", "Bed.", ".json"):
        assert technical not in text, technical
    assert "HVB = hem för vård eller boende" in text


@pytest.mark.timeout(1800)
def test_economy_columns_name_the_months_in_swedish_words(year):
    # the seed's columns in one form: months in Swedish words, the year written out once
    january = publish(year[0][1], {"revision": 1}, year[1][1])["ekonomi"]["tabell"]["kolumner"]
    march = publish(year[0][3], {"revision": 1}, year[1][3])["ekonomi"]["tabell"]["kolumner"]
    december = publish(year[0][12], {"revision": 1}, year[1][12])["ekonomi"]["tabell"]["kolumner"]
    assert january[1:4] == ["Utfall januari 2024", "Budget januari 2024", "Avvikelse januari 2024"]
    assert march[1:4] == ["Utfall jan–mar 2024", "Budget jan–mar 2024", "Avvikelse jan–mar 2024"]
    assert december[1] == "Utfall jan–dec 2024"
    assert march[4:] == ["Årsprognos 2024", "Årsbudget 2024", "Avvikelse mot årsbudget", "Avvikelse mot 2023",
                         "Utfall 2023"]
    for heading in [*january, *march, *december]:
        assert not re.search(r"\b(Jan|Feb|Mars|Dec) \d\d\b|ack\.", heading), heading


@pytest.mark.timeout(1800)
def test_caseload_counts_only_units_that_investigate(year):
    content = year[0][3]
    figures = content["figures"]
    idle = [u for u, f in figures.items() if not f["investigations_open"] and not f["investigations_closed"]]
    assert idle  # economic assistance units: staff, no investigations
    caseload = content["kommun_totalt"]["caseload_per_social_worker"]
    # the municipality's caseload is the investigating units' open investigations per their social workers
    per_unit = [f["caseload_per_social_worker"] for u, f in figures.items() if u not in idle
                and f["caseload_per_social_worker"]]
    assert min(per_unit) <= caseload <= max(per_unit)


# --- ledger -------------------------------------------------------------------------------------

SIE = """#FLAGGA 0
#FORMAT PC8
#SIETYP 4
#FNAMN "Tyresö kommun"
#RAR 0 20240101 20241231
#RAR -1 20230101 20231231
#DIM 1 "Kostnadsställe"
#OBJEKT 1 "100" "Förvaltningsövergripande"
#KONTO 5010 "Lokalhyra"
#KONTO 3010 "Intäkter"
#KONTO 4610 "Köp av placeringar"
#PSALDO -1 202306 5010 {1 "100"} 120000.00
#RES 0 5010 250000.00
#VER A 1 20240115 "Hyra januari"
{
   #TRANS 5010 {1 "100"} 250000.00 20240115 "Hyra"
   #TRANS 1930 {} -250000.00
}
#VER A 2 20240220 "Intäkt"
{
   #RTRANS 3010 {1 "100"} -40000.00
   #TRANS 3010 {1 "100"} -40000.00
   #BTRANS 3010 {1 "100"} -1.00
   #TRANS 4610 {1 "100"} 99000.00
   #TRANS 1930 {} -59000.00
}
"""


def test_sie4_reader_reads_transactions_period_balances_and_skips_what_events_carry(tmp_path):
    path = tmp_path / "huvudbok.se"
    path.write_bytes(SIE.replace("\n", "\r\n").encode("cp437"))
    lines = read_ledger(path, exclude_accounts=("46*",))
    assert sorted((line.day, line.account, line.amount_sek) for line in lines) == [
        (date(2023, 6, 1), "5010", 120000.0),  # the year without transactions: its period balance
        (date(2024, 1, 15), "5010", 250000.0),
        (date(2024, 2, 20), "3010", -40000.0),  # RTRANS and BTRANS skipped, balance accounts left out
    ]
    assert {line.activity for line in lines} == {"100"}
    sie = parse_sie(SIE)
    assert sie.company == "Tyresö kommun" and sie.accounts["5010"] == "Lokalhyra"
    assert sie.years[0] == (date(2024, 1, 1), date(2024, 12, 31)) and sie.results[(0, "5010")] == 250000.0


def test_sie_written_and_read_back(tmp_path):
    lines = [LedgerLine(date(2024, 3, 5), "100", 12345.5, "Lön", "7010"),
             LedgerLine(date(2024, 3, 6), "100", -500.0, "Avgift", "3010")]
    path = write_sie(tmp_path / "x.se", "Tyresö kommun", 2024, lines, {"7010": "Löner", "3010": "Avgifter"},
                     {"100": "Förvaltningsövergripande"})
    assert path.read_bytes().decode("cp437").startswith("#FLAGGA 0")
    back = sorted((x.day, x.account, x.amount_sek) for x in sie_lines(parse_sie(path.read_bytes().decode("cp437"))))
    assert back == [(date(2024, 3, 5), "7010", 12345.5), (date(2024, 3, 6), "3010", -500.0)]


def test_municipality_names():
    names = municipalities()
    assert len(names) == 290 and all(re.fullmatch(r"\d{4}", code) for code in names)
    assert municipality_name("0138") == "Tyresö kommun" and municipality_name("0180") == "Stockholms kommun"
    assert municipality_name("0980") == "Region Gotland" and municipality_name("2584") == "Kiruna kommun"
    assert municipality_name("9999") == "9999"
