"""The monitoring mixin: generated files are valid, tested, up to date, and every alert has a runbook.

Needs Debian's promtool and amtool on PATH (the stack script installs them); a missing binary
fails the test, it never skips.
"""
from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dashboards import build
from dashboards.alertmanager import RECEIVERS, render_alertmanager
from dashboards.config import DEFAULT_CONFIG
from streams.thresholds import ThresholdsError, budget_status, load_thresholds
from dashboards.prometheus_config import render_prometheus_config
from dashboards.rules import alerts

ROOT = Path(__file__).resolve().parents[3]
DASH = ROOT / "dashboards"
GEN = DASH / "generated"


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} not on PATH (apt-get install prometheus prometheus-alertmanager, or scripts/stack)"
    return path


def run(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


# ------------------------------------------------------------------ generated files


def test_committed_files_are_up_to_date(tmp_path):
    build.build(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert generated, "build wrote nothing"
    stale = [str(p) for p in generated if not (GEN / p).is_file() or not filecmp.cmp(tmp_path / p, GEN / p, shallow=False)]
    assert not stale, f"run `casewatch generate`: out of date: {stale}"


@pytest.mark.slow
def test_promtool_check_rules():
    run(tool("promtool"), "check", "rules", str(GEN / "rules" / "recording.yaml"), str(GEN / "rules" / "alerts.yaml"),
        str(GEN / "rules" / "reference.yaml"))


@pytest.mark.slow
def test_promtool_unit_tests():
    files = sorted(str(p.name) for p in (DASH / "tests").glob("*.yaml"))
    assert files
    run(tool("promtool"), "test", "rules", *files, cwd=DASH / "tests")


def test_every_alert_has_a_promtool_test():
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in (DASH / "tests").glob("*.yaml")]
    tested = {t["alertname"] for doc in docs for case in doc.get("tests", []) for t in case.get("alert_rule_test", [])
              if t.get("exp_alerts")}
    missing = {a.name for a in alerts()} - tested
    assert not missing, f"alerts without promtool test: {sorted(missing)}"


def test_every_alert_has_labels_annotations_and_a_runbook():
    doc = yaml.safe_load((GEN / "rules" / "alerts.yaml").read_text(encoding="utf-8"))
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert len(rules) == len(alerts())
    for rule in rules:
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket", "info"), name
        ann = rule["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(ann), name
        assert ann["runbook_url"].endswith(f"dashboards/runbooks/{name}.md"), name
        assert (DASH / "runbooks" / f"{name}.md").is_file(), f"missing runbook for {name}"
        runbook = (DASH / "runbooks" / f"{name}.md").read_text(encoding="utf-8")
        assert runbook.startswith(f"# {name}\n") and "amtool" in runbook and "## Första åtgärder" in runbook, name
        if "municipality" not in rule["labels"] and "pipeline" not in rule["labels"]:
            assert "$labels.unit" in ann["description"], f"{name}: description must name the unit"
    extra = {p.stem for p in (DASH / "runbooks").glob("*.md")} - {r["alert"] for r in rules}
    assert not extra, f"runbooks for alerts that do not exist: {extra}"


def test_pipeline_alerts_are_labelled_and_unit_alerts_keep_their_labels():
    for a in alerts():
        if a.pipeline:
            assert not a.unit_scoped or a.name == "CasewatchThresholdMissing"
        else:
            assert "by (municipality, unit)" in a.expr, a.name


# ------------------------------------------------------------------ Prometheus


@pytest.mark.slow
def test_promtool_check_config(tmp_path):
    run(tool("promtool"), "check", "config", str(GEN / "prometheus.yml"))
    (tmp_path / "rules").mkdir()
    for f in ("recording.yaml", "alerts.yaml", "reference.yaml"):
        shutil.copy(GEN / "rules" / f, tmp_path / "rules" / f)
    text = render_prometheus_config(["127.0.0.1:19464"], ["127.0.0.1:19093"], ["rules/recording.yaml", "rules/alerts.yaml"],
                                    scrape_interval="1s", evaluation_interval="1s")
    (tmp_path / "prometheus.yml").write_text(text)
    run(tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml"))
    cfg = yaml.safe_load(text)
    job = cfg["scrape_configs"][0]
    assert job["job_name"] == "casewatch-exporter" and job["scrape_timeout"] == "1s"
    assert job["sample_limit"] == 200_000 and job["label_value_length_limit"] == 200
    for generated in (GEN / "prometheus.yml", GEN.parent.parent / "deploy" / "prometheus" / "prometheus.compose.yml"):
        assert all(j["sample_limit"] > 0 for j in yaml.safe_load(generated.read_text())["scrape_configs"])
    assert cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:19093"]


# ------------------------------------------------------------------ Alertmanager


def amtool_route(config: Path, *labels: str) -> str:
    out = run(tool("amtool"), "config", "routes", "test", f"--config.file={config}", *labels)
    return out.strip()


@pytest.mark.slow
def test_amtool_check_config():
    run(tool("amtool"), "check-config", str(GEN / "alertmanager.yml"))


@pytest.mark.parametrize("labels, receiver", [
    (["alertname=CasewatchScreeningOverdue", "severity=page", "municipality=0138", "unit=bou-1"], "casewatch-page"),
    (["alertname=CasewatchProtectionAssessmentOverdue", "severity=page", "municipality=0180", "unit=x"], "casewatch-page"),
    (["alertname=CasewatchInvestigationOverdue", "severity=ticket", "municipality=0138", "unit=bou-1"], "casewatch-ticket"),
    (["alertname=CasewatchScreeningDueSoon", "severity=info", "municipality=0138", "unit=bou-1"], "casewatch-info"),
    (["alertname=CasewatchExporterDown", "severity=page", "pipeline=true", "stale_data=true"], "casewatch-pipeline"),
    (["alertname=CasewatchEventsRejected", "severity=ticket", "pipeline=true", "reason=bad_type"], "casewatch-pipeline"),
])
@pytest.mark.slow
def test_amtool_routes(labels, receiver):
    assert amtool_route(GEN / "alertmanager.yml", *labels) == receiver


def test_routing_structure_grouping_muting_and_inhibition():
    cfg = yaml.safe_load((GEN / "alertmanager.yml").read_text(encoding="utf-8"))
    route = cfg["route"]
    assert route["group_by"] == ["alertname", "municipality", "unit"]
    by_receiver = {r["receiver"]: r for r in route["routes"]}
    page = by_receiver["casewatch-page"]
    assert "mute_time_intervals" not in page, "pages are never muted"
    assert page["group_wait"] == DEFAULT_CONFIG.group_wait_page
    for name in ("casewatch-ticket", "casewatch-info"):
        assert by_receiver[name]["mute_time_intervals"] == ["outside-office-hours"]
    pipeline_ticket = by_receiver["casewatch-pipeline"]["routes"][0]
    assert pipeline_ticket["mute_time_intervals"] == ["outside-office-hours"]
    intervals = {t["name"]: t["time_intervals"] for t in cfg["time_intervals"]}
    assert all(i["location"] == "Europe/Stockholm" for i in intervals["outside-office-hours"])
    assert intervals["office-hours"][0]["times"] == [{"start_time": "08:00", "end_time": "17:00"}]
    # stale data inhibits every unit alert, globally or per municipality
    sources = [r for r in cfg["inhibit_rules"] if 'stale_data="true"' in r["source_matchers"]]
    assert len(sources) == 2 and all(r["target_matchers"] == ['pipeline!="true"'] for r in sources)
    assert [r.get("equal") for r in sources] == [None, ["municipality"]]
    assert {r["name"] for r in cfg["receivers"]} == set(RECEIVERS)


@pytest.mark.slow
def test_render_alertmanager_test_variant(tmp_path):
    text = render_alertmanager(webhook_url="http://127.0.0.1:18080/hook", group_wait="1s", group_interval="2s",
                               repeat_interval="1m", email=False)
    build.write_alertmanager(tmp_path, webhook_url="http://127.0.0.1:18080/hook", group_wait="1s",
                             group_interval="2s", repeat_interval="1m", email=False)
    assert (tmp_path / "alertmanager.yml").read_text() == text
    run(tool("amtool"), "check-config", str(tmp_path / "alertmanager.yml"))
    cfg = yaml.safe_load(text)
    hooks = {w["url"] for r in cfg["receivers"] for w in r["webhook_configs"]}
    assert hooks == {"http://127.0.0.1:18080/hook"}
    assert not any("email_configs" in r for r in cfg["receivers"])

    def walk(route):
        yield route
        for child in route.get("routes", []):
            yield from walk(child)
    for r in walk(cfg["route"]):
        assert (r["group_wait"], r["group_interval"], r["repeat_interval"]) == ("1s", "2s", "1m")


@pytest.mark.slow
def test_email_template_renders_swedish_subject(tmp_path):
    out = run(tool("amtool"), "template", "render", f"--template.glob={GEN / 'templates' / '*.tmpl'}",
              '--template.text={{ template "casewatch.email.subject" . }}')
    assert out.startswith("[ÅTGÄRDAT]")  # amtool's sample data is resolved alerts
    cfg = yaml.safe_load((GEN / "alertmanager.yml").read_text(encoding="utf-8"))
    assert cfg["global"]["smtp_require_tls"] is True


# ------------------------------------------------------------------ thresholds API


def test_thresholds_defaults_and_most_specific_override(tmp_path):
    th = load_thresholds()
    assert th.for_unit("0138", "bou-1")["reports_awaiting_screening_max"] == 30
    assert th.for_unit("0138", "bou-2")["reports_awaiting_screening_max"] == 40
    assert "inflow_spike_min_reports" in th.kinds
    f = tmp_path / "t.yaml"
    f.write_text(
        "defaults: {" + ", ".join(f"{k}: 1" for k in th.kinds) + "}\n"
        "budgets_month_sek: {placements: 100, consultants: 10, economic_assistance: 5}\n"
        "overrides:\n"
        "  - {municipality: '0138', unit: bou-1, values: {investigations_open_max: 3}}\n"
        "  - {municipality: '0138', values: {investigations_open_max: 2}, budgets_month_sek: {placements: 50}}\n"
    )
    th = load_thresholds(f)
    assert th.for_unit("0138", "bou-1")["investigations_open_max"] == 3  # unit beats municipality
    assert th.for_unit("0138", "bou-9")["investigations_open_max"] == 2
    assert th.for_unit("0180", "bou-1")["investigations_open_max"] == 1
    assert th.budget_month_sek("0138", "bou-1") == {"placements": 50, "consultants": 10, "economic_assistance": 5}


@pytest.mark.parametrize("edit, message", [
    (lambda base: base.replace("  investigations_open_max: 120", "  investigations_open_max: 120\n  nonsense_max: 1"),
     "defaults.nonsense_max: unknown kind"),
    (lambda base: base + "  - [\n", "invalid YAML"),
    (lambda base: base + "  - {municipality: '0180', values: {investigations_open_max: -1}}\n",
     "overrides[1].values.investigations_open_max: must not be negative"),
    (lambda base: base + "  - {municipality: 180, values: {investigations_open_max: 1}}\n", "overrides[1].municipality"),
    (lambda base: base.replace("  consultant_share_max: 0.20", "  consultant_share_max: 1.5"), "consultant_share_max: must be at most 1"),
    (lambda base: base.replace("  budget_deviation_pct: 2.0\n", ""), "defaults: missing default for kind(s) budget_deviation_pct"),
    (lambda base: "colour: red\n" + base, "colour: unknown key"),
])
def test_thresholds_errors_name_file_and_key(tmp_path, edit, message):
    base = (DASH / "thresholds.yaml").read_text(encoding="utf-8")
    assert base.rstrip().endswith("reports_awaiting_screening_max: 30"), "test edits assume overrides come last"
    f = tmp_path / "bad.yaml"
    f.write_text(edit(base.rstrip() + "\n"))
    with pytest.raises(ThresholdsError) as err:
        load_thresholds(f)
    assert str(f) in str(err.value) and message in str(err.value), str(err.value)


@pytest.mark.parametrize("cost, budget, colour", [
    (100, 100, "green"), (99, 100, "green"), (102, 100, "yellow"), (102.5, 100, "red"), (1, 0, "red"),
])
def test_budget_status_follows_the_board_rule(cost, budget, colour):
    assert budget_status(cost, budget, 2.0) == colour
