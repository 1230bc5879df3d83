"""Swedish-facing text: every code has a Swedish label, no runbook or label reads as English, and
dates are written the Swedish way in Stockholm time."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from streams import swedish, vocabulary
from streams.contract import catalogue
from streams.contract.validate import REASONS
from streams.core.kpis import KPI_KEYS
from streams.projection import OUTCOMES
from tests.swedish_text import problems

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = sorted((ROOT / "dashboards" / "runbooks").glob("*.md"))


# --------------------------------------------------------------------------- the text check itself

def test_the_check_catches_english_and_raw_codes_but_not_code_spans():
    assert problems("The exporter is down since 5m") == ["English 'The'", "English 'is'"]
    assert problems("Placering på hvb i familjehem_arvoderat") == ["code 'hvb'", "code 'familjehem_arvoderat'"]
    assert problems("Kör `amtool silence add alertname=X` och be IT-drift om hjälp på HVB") == []


# --------------------------------------------------------------------------- every code has a label

CONTRACT_CODES = {
    "reporter": catalogue.REPORTERS, "age_band": catalogue.AGE_BANDS,
    "screening_outcome": catalogue.SCREENING_OUTCOMES, "area": catalogue.AREAS,
    "investigation_outcome": catalogue.INVESTIGATION_OUTCOMES, "intervention": catalogue.INTERVENTIONS,
    "placement_type": catalogue.PLACEMENT_TYPES, "role": catalogue.ROLES, "employment": catalogue.EMPLOYMENTS,
    "reason": REASONS, "outcome": OUTCOMES, "kpi": KPI_KEYS,
    # CONTRACT.md v2 codes, whether or not the catalogue has them yet
    "legal_basis": ("sol", "lvu", "lvm", "annan"), "sex": ("kvinna", "man"),
    "delay_reason": ("ingen_resurs", "tackat_nej_till_erbjudande", "enskild_vill_vanta", "annan"),
    "ivo_status": ("ej_verkstallt", "verkstallt", "avslutat"), "ivo_kind": ("new", "follow_up"),
}


@pytest.mark.parametrize("family, codes", sorted(CONTRACT_CODES.items()))
def test_every_contract_code_has_a_swedish_label(family, codes):
    missing = set(codes) - set(vocabulary.CODE_LABELS[family])
    assert not missing, f"{family}: no Swedish label for {sorted(missing)}"


def test_every_threshold_kind_and_budget_category_has_a_label():
    config = yaml.safe_load((ROOT / "dashboards" / "thresholds.yaml").read_text(encoding="utf-8"))
    assert set(config["defaults"]) <= set(vocabulary.THRESHOLD_KINDS_SV)
    assert set(config["budgets_month_sek"]) <= set(vocabulary.BUDGET_CATEGORIES_SV)


@pytest.mark.parametrize("family", sorted(vocabulary.CODE_LABELS))
def test_labels_read_as_swedish(family):
    for code, text in vocabulary.CODE_LABELS[family].items():
        assert text and text[0].isupper() or text[0].isdigit(), (family, code, text)
        assert not problems(text), (family, code, text, problems(text))


def test_label_falls_back_to_the_code_for_an_unnamed_value():
    assert vocabulary.label("placement_type", "familjehem_arvoderat") == "Arvoderat familjehem"
    assert vocabulary.label("placement_type", "nytt_boende") == "nytt_boende"
    assert vocabulary.event_type_sv("report.received") == "Orosanmälan inkommen"


def test_older_imports_still_work():
    from services.snapshot.labels import INTERVENTIONS_SV, KPI_SV
    from services.swedish import number

    assert KPI_SV is vocabulary.KPI_SV and INTERVENTIONS_SV is vocabulary.INTERVENTIONS_SV
    assert number(4458) == "4\u00a0458"


# --------------------------------------------------------------------------- runbooks

@pytest.mark.parametrize("path", RUNBOOKS, ids=lambda p: p.stem)
def test_runbook_is_swedish_for_the_people_who_act(path):
    text = path.read_text(encoding="utf-8")
    assert not problems(text), problems(text)
    for heading in ("## Vad larmet betyder", "## Regeln bakom", "## Vem gör vad", "## Första åtgärder",
                    "## För IT-drift", "### Tysta larmet"):
        assert heading in text, heading
    # the operator's technical steps stay in their own section, after the steps for people
    assert text.index("## Första åtgärder") < text.index("## För IT-drift") < text.index("amtool")
    assert "amtool" not in text[:text.index("## För IT-drift")]


def test_there_are_twenty_two_runbooks_at_least():
    assert len(RUNBOOKS) >= 22


# --------------------------------------------------------------------------- dates

WINTER = datetime(2026, 11, 28, 21, 47, 32, tzinfo=timezone.utc)  # 22.47 in Stockholm (CET)
SUMMER = datetime(2026, 3, 30, 7, 0, tzinfo=timezone.utc)  # 09.00 in Stockholm (CEST since 29 March)


def test_date_time_is_stockholm_wall_clock_the_swedish_way():
    assert swedish.date_time(WINTER) == "28 november 2026 kl. 22.47"
    assert swedish.date_time(SUMMER) == "30 mars 2026 kl. 09.00"
    assert swedish.date_time(WINTER.timestamp()) == "28 november 2026 kl. 22.47"


def test_the_year_is_left_out_only_within_the_readers_year():
    assert swedish.date_time(SUMMER, now=WINTER) == "30 mars kl. 09.00"
    assert swedish.date_time(SUMMER, now=datetime(2027, 1, 2, tzinfo=timezone.utc)) == "30 mars 2026 kl. 09.00"
    # 31 December 23.30 UTC is already New Year's Day in Stockholm
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)
    assert swedish.date_time(new_year, now=datetime(2027, 1, 1, 12, tzinfo=timezone.utc)) == "1 januari kl. 00.30"


def test_headings_and_since():
    assert swedish.as_of_line(WINTER) == "Läget per 28 november 2026 kl. 22.47"
    assert swedish.since(SUMMER, now=WINTER) == "sedan 30 mars kl. 09.00"
    assert swedish.long_date(date(2024, 3, 31)) == "31 mars 2024"
    assert swedish.long_date(WINTER) == "28 november 2026"


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        swedish.date_time(datetime(2026, 11, 28, 22, 47))


# --------------------------------------------------------------------------- the terminal summary

def test_summary_heads_with_a_human_date_and_the_period_in_words():
    from services.summary import period_text, render_summary

    result = {"as_of": "2026-11-28T22:47:32+01:00", "period": {"from": "2026-11-01", "to": "2026-11-29"},
              "events": {"accepted": 4458, "duplicates": 0, "rejected": 1}, "units": {}}
    assert render_summary(result).splitlines()[0] == "Läget per 28 november 2026 kl. 22.47, perioden 1–28 november 2026"
    assert period_text("2026-10-01", "2026-11-29") == "1 oktober – 28 november 2026"
    assert period_text("2025-12-01", "2026-01-01") == "1–31 december 2025"
    assert period_text("2025-12-15", "2026-01-10") == "15 december 2025 – 9 januari 2026"


def test_summary_uses_the_display_name_when_the_registry_has_one():
    from services.summary import unit_heading

    assert unit_heading("0138", "bou-1") == "Enhet bou-1, Tyresö kommun"
    names = {("0138", "bou-1"): "Barn och unga, mottagning"}
    assert unit_heading("0138", "bou-1", lambda m, u: names.get((m, u), u)) == \
        "Enhet Barn och unga, mottagning (bou-1), Tyresö kommun"


def test_summary_names_the_municipality_as_the_alert_texts_do():
    from services.summary import unit_heading

    assert unit_heading("0980", "ifo") == "Enhet ifo, Region Gotland"
    assert unit_heading("0127", "bou-2") == "Enhet bou-2, Botkyrka kommun"
    # A code SCB's table does not know: the code, with the word the alerts use.
    assert unit_heading("0999", "e2e-1") == "Enhet e2e-1, kommunkod 0999"


def test_municipality_names_take_the_genitive_as_the_municipalities_write_them():
    from streams.municipalities import municipalities, municipality_name

    codes = {name: code for code, name in municipalities().items()}
    written = {"Österåker": "Österåkers kommun", "Stockholm": "Stockholms kommun", "Dals-Ed": "Dals-Eds kommun",
               "Tyresö": "Tyresö kommun", "Upplands-Bro": "Upplands-Bro kommun",  # after a vowel
               "Borås": "Borås kommun", "Grums": "Grums kommun", "Kalix": "Kalix kommun",  # after s and x
               "Falun": "Falu kommun", "Kalmar": "Kalmar kommun", "Orust": "Orust kommun"}  # their own forms
    assert {name: municipality_name(codes[name]) for name in written} == written
    assert not any(municipality_name(c).endswith(("ss kommun", "xs kommun")) for c in municipalities())


# --------------------------------------------------------------------------- dashboards

def _dashboard_texts(node, path=""):
    """Every text a Grafana user reads: titles, descriptions, legends, display names, mappings."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("title", "description", "legendFormat", "displayName", "text", "label") \
                    and isinstance(value, str):
                yield f"{path}/{key}", value
            elif key == "value" and isinstance(value, str) and path.endswith("properties"):
                yield path, value
            else:
                yield from _dashboard_texts(value, f"{path}/{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _dashboard_texts(item, path)


def test_dashboards_read_as_swedish_with_named_codes_and_units():
    import json

    from dashboards.grafana import build_all
    from dashboards.grafana.common import threshold_defaults

    for uid, board in build_all(threshold_defaults()).items():
        for where, text in _dashboard_texts(board):
            assert not problems(text), (uid, where, text, problems(text))
        exprs = json.dumps(board)
        # a legend that names a placement type, employment or reason gets the Swedish name in PromQL
        for label in ("placement_type", "employment", "reason"):
            if "{{" + label + "}}" in exprs:
                assert f'label_replace(' in exprs and f'\\"{label}\\"' in exprs, (uid, label)
        # unit legends show the registry's display name (or the code), never "bou-1 (0138)"
        assert "{{unit}} ({{municipality}})" not in exprs, uid


def test_every_runbook_names_panels_that_exist():
    """An alert, its runbook and the panel it points to read as one text: the panel and
    dashboard names a runbook gives (in *italics*) are the dashboards' own titles."""
    import re

    from dashboards.grafana import build_all
    from dashboards.grafana.common import threshold_defaults

    titles = set()
    for board in build_all(threshold_defaults()).values():
        titles.add(board["title"])
        titles |= {p["title"] for p in board.get("panels", [])}
    for path in RUNBOOKS:
        shown = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("- Visas på:"))
        named = re.findall(r"\*([^*]+)\*", shown)
        assert named, path.name
        assert set(named) <= titles, (path.name, set(named) - titles)
