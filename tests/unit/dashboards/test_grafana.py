"""The Grafana dashboards (dashboards/grafana): valid PromQL, documented metrics only, thresholds
from the shared config, committed JSON up to date, stable uids, and the push command against a
recorded Grafana API."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from streams.thresholds import load_thresholds
from dashboards.grafana import all_panel_queries, build_all, concrete_expr, file_name
from dashboards.grafana.build import COMPOSE_PROMETHEUS_FILE, GENERATED_DIR, write_all
from services.commands.dashboards import app as dashboards_app
from dashboards.grafana.common import (DATASOURCE_UID, FOLDER_TITLE, FOLDER_UID, MUNICIPALITY_CHOICE_REGEX,
                                      MUNICIPALITY_CHOICES, UNIT_CHOICE_REGEX, UNIT_CHOICES)
from dashboards.grafana.push import PushError, push_dashboards

REPO = Path(__file__).resolve().parents[3]
METRICS_DOC = REPO / "docs" / "METRICS.md"

EXPECTED_DASHBOARDS = {
    "casewatch-unit-overview": "Enhetsöversikt",
    "casewatch-legal-deadlines": "Lagstadgade tidsgränser",
    "casewatch-placements": "Placeringar och kostnad",
    "casewatch-staffing": "Bemanning",
    "casewatch-pipeline": "Driftstatus",
}


@pytest.fixture(scope="module")
def defaults() -> dict[str, float]:
    return dict(load_thresholds().defaults)


@pytest.fixture(scope="module")
def dashboards() -> dict[str, dict]:
    return build_all()


@pytest.fixture(scope="module")
def queries() -> list[tuple[str, str, str]]:
    return all_panel_queries()


def _panels(dashboard: dict):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels") or []


# ----------------------------------------------------------------- identity and freshness


def test_uids_are_stable_and_unique(dashboards):
    assert {uid: d["title"] for uid, d in dashboards.items()} == EXPECTED_DASHBOARDS
    names = [file_name(uid) for uid in dashboards]
    assert len(set(names)) == len(names)
    for dashboard in dashboards.values():
        ids = [p["id"] for p in _panels(dashboard)]
        assert len(ids) == len(set(ids)) and 0 not in ids, dashboard["uid"]
        titles = [p["title"] for p in _panels(dashboard) if p["type"] != "row"]
        assert len(titles) == len(set(titles)), f"{dashboard['uid']}: panel titles repeat"


def test_committed_files_equal_a_fresh_build(tmp_path):
    fresh_prometheus = tmp_path / "prometheus.compose.yml"
    write_all(tmp_path / "dashboards", fresh_prometheus)
    fresh = {p.name: p.read_bytes() for p in (tmp_path / "dashboards").glob("*.json")}
    committed = {p.name: p.read_bytes() for p in GENERATED_DIR.glob("*.json")}
    assert sorted(committed) == sorted(fresh), "run: casewatch generate"
    for name, data in fresh.items():
        assert committed[name] == data, f"{name} is stale; run: casewatch generate"
        assert data.endswith(b"}\n")
        parsed = json.loads(data)
        assert data.decode("utf-8") == json.dumps(parsed, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert COMPOSE_PROMETHEUS_FILE.read_bytes() == fresh_prometheus.read_bytes(), \
        "deploy/prometheus/prometheus.compose.yml is stale; run: casewatch generate"


def test_every_panel_uses_the_datasource_variable(dashboards):
    for dashboard in dashboards.values():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["current"]["value"] == DATASOURCE_UID
        for panel in _panels(dashboard):
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], f"{dashboard['uid']}: {panel['title']} has no query"
            assert panel.get("description"), f"{dashboard['uid']}: {panel['title']} has no description"


def test_unit_dashboards_have_municipality_and_unit_variables(dashboards):
    for uid, dashboard in dashboards.items():
        names = [v["name"] for v in dashboard["templating"]["list"]]
        if uid == "casewatch-pipeline":
            assert names == ["datasource"]
            continue
        assert names == ["datasource", "municipality", "unit"]
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        # The municipality drop-down names municipalities (SCB's table), selecting by code, over the
        # municipalities with figures (it was label_values(casewatch_investigations_open, municipality)).
        assert variables["municipality"]["query"] == f"query_result({MUNICIPALITY_CHOICES})"
        assert "casewatch_investigations_open" in variables["municipality"]["query"]
        assert variables["municipality"]["regex"] == MUNICIPALITY_CHOICE_REGEX
        # The unit drop-down names units as the registry does (issue 19), selecting by code.
        assert variables["unit"]["query"] == f"query_result({UNIT_CHOICES})"
        assert "casewatch_investigations_open{" in variables["unit"]["query"]
        assert variables["unit"]["regex"] == UNIT_CHOICE_REGEX


# ----------------------------------------------------------------- queries


def test_every_unit_metric_is_filtered_by_the_variables(queries):
    for uid, title, expr in queries:
        if uid == "casewatch-pipeline":
            assert "$municipality" not in expr and "$unit" not in expr
            continue
        selectors = re.findall(r"(casewatch_[a-z0-9_]+)(\{[^}]*\})?", expr)
        assert selectors, (uid, title, expr)
        for metric, matchers in selectors:
            assert matchers.startswith('{municipality=~"$municipality", unit=~"$unit"'), (uid, title, metric)


@pytest.mark.slow
def test_every_expr_is_valid_promql(queries, tmp_path):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (Debian package 'prometheus'; `casewatch stack install` installs it)"
    rules = [{"record": f"casewatch_dashboard_query_{i}", "expr": concrete_expr(expr, "0138", "bou-1")}
             for i, (_, _, expr) in enumerate(queries)]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, allow_unicode=True))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout + result.stderr


def test_concrete_expr_leaves_no_grafana_variable(queries):
    for _, _, expr in queries:
        # "$1" in label_replace is PromQL's capture reference, which Grafana leaves alone
        assert "$" not in concrete_expr(expr).replace('"$1"', "")


_PROMQL_WORDS = {
    # aggregations, keywords and modifiers that look like identifiers
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values",
    "group", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
    "offset", "inf", "nan",
}


def metric_names(expr: str) -> set[str]:
    """The metric names an expr reads: identifiers that are not functions, keywords or labels."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                        # string literals
    text = re.sub(r"\{[^}]*\}", "", text)                                    # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)                                   # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word, rest = match.group(0), text[match.end():].lstrip()
        if word.lower() in _PROMQL_WORDS or rest.startswith("("):
            continue
        names.add(word)
    return names


def documented_metrics() -> set[str]:
    found = set()
    for line in METRICS_DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*`(casewatch_[a-z0-9_]+)", line)
        if match:
            found.add(match.group(1))
    assert len(found) > 20, "could not parse the metric tables of docs/METRICS.md"
    return found


def recording_rule_names() -> set[str]:
    try:
        from dashboards.rules import recording_rules
    except ImportError:
        return set()
    return {rule.record for _, group in recording_rules() for rule in group}


def test_metric_name_extraction():
    assert metric_names('sum by (unit) (rate(casewatch_events_total{unit="a"}[5m])) / (max(x_y) > 0)') == \
        {"casewatch_events_total", "x_y"}


def test_every_metric_is_documented_or_a_recording_rule(queries):
    allowed = documented_metrics() | recording_rule_names()
    used = set()
    for uid, title, expr in queries:
        names = metric_names(expr)
        assert names, (uid, title, expr)
        unknown = names - allowed
        assert not unknown, f"{uid} / {title}: {sorted(unknown)} not in docs/METRICS.md nor a recording rule"
        used |= names
    # the dashboards cover the KPIs a unit head needs (a metric dropped by mistake shows here)
    assert {"casewatch_reports_received_last_7d", "casewatch_reports_received_weekly_mean_12w",
            "casewatch_caseload_per_social_worker", "casewatch_decisions_reportable",
            "casewatch_budget_month_to_date_sek", "casewatch_consultant_share_ratio",
            "casewatch_events_total", "casewatch_redis_up"} <= used


def test_label_values_in_selectors_exist(queries):
    thresholds = load_thresholds()
    for uid, title, expr in queries:
        for kind in re.findall(r'kind="([^"]+)"', expr):
            assert kind in thresholds.kinds, (uid, title, kind)
        for category in re.findall(r'category="([^"]+)"', expr):
            assert category in thresholds.budget_categories, (uid, title, category)
        for employment in re.findall(r'employment="([^"]+)"', expr):
            assert employment in ("permanent", "consultant"), (uid, title, employment)


# ----------------------------------------------------------------- thresholds and units

# (dashboard uid, panel title) -> the threshold kinds whose values are its colour steps
THRESHOLD_PANELS = {
    ("casewatch-unit-overview", "Inflöde i förhållande till normal"): ["inflow_spike_ratio"],
    ("casewatch-unit-overview", "Orosanmälningar som väntar på förhandsbedömning"): ["reports_awaiting_screening_max"],
    ("casewatch-unit-overview", "Pågående utredningar"): ["investigations_open_max"],
    ("casewatch-unit-overview", "Ej verkställda beslut"): ["decisions_not_enforced_max"],
    ("casewatch-unit-overview", "Pågående utredningar per socialsekreterare just nu"): ["caseload_per_social_worker_max"],
    ("casewatch-unit-overview", "Pågående utredningar per socialsekreterare över tid"): ["caseload_per_social_worker_max"],
    ("casewatch-staffing", "Andel inhyrda konsulter"): ["consultant_share_max"],
    ("casewatch-staffing", "Andel inhyrda konsulter per enhet"): ["consultant_share_max"],
}
BUDGET_PANELS = [
    ("casewatch-placements", "Placeringskostnad i procent av budgettakt"),
    ("casewatch-staffing", "Konsultkostnad i procent av budgettakt"),
]


def _steps(dashboards, uid: str, title: str) -> list:
    panel = next(p for p in _panels(dashboards[uid]) if p.get("title") == title)
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[0]["value"] is None
    return [step["value"] for step in steps[1:]]


def _check_thresholds(dashboards, values: dict[str, float]) -> None:
    for (uid, title), kinds in THRESHOLD_PANELS.items():
        assert _steps(dashboards, uid, title) == [values[k] for k in kinds], (uid, title)
    for uid, title in BUDGET_PANELS:
        assert _steps(dashboards, uid, title) == [1.0, 1.0 + values["budget_deviation_pct"] / 100], (uid, title)


def test_threshold_steps_equal_the_shared_defaults(dashboards, defaults):
    _check_thresholds(dashboards, defaults)
    committed = {uid: json.loads((GENERATED_DIR / file_name(uid)).read_text(encoding="utf-8")) for uid in dashboards}
    _check_thresholds(committed, defaults)


def test_threshold_steps_follow_the_config_not_copies(defaults):
    changed = {kind: value * 3 + 7 for kind, value in defaults.items()}
    _check_thresholds(build_all(changed), changed)


def test_threshold_series_and_dashed_lines(dashboards):
    for (uid, title), kinds in THRESHOLD_PANELS.items():
        panel = next(p for p in _panels(dashboards[uid]) if p.get("title") == title)
        if panel["type"] == "timeseries":
            assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "dashed"
            exprs = [t["expr"] for t in panel["targets"]]
            if kinds[0] != "inflow_spike_ratio":
                assert any(f'kind="{kinds[0]}"' in e for e in exprs), (uid, title)


def test_units(dashboards):
    allowed = {"short", "suffix: kr", "suffix: tkr", "percentunit", "s", "none", "ops"}
    units_by_title = {}
    for dashboard in dashboards.values():
        for panel in _panels(dashboard):
            if panel["type"] != "row":
                unit = panel["fieldConfig"]["defaults"]["unit"]
                assert unit in allowed, (dashboard["uid"], panel["title"], unit)
                units_by_title[panel["title"]] = unit
    assert units_by_title["Genomsnittligt dygnspris i månaden"] == "suffix: kr"
    # a plain count: Grafana's "d" rescaled 545 vårddygn to "1 year"
    assert units_by_title["Vårddygn hittills i månaden"] == "none"
    assert units_by_title["Andel inhyrda konsulter"] == "percentunit"
    assert units_by_title["Placeringskostnad hittills i månaden mot budgettakt"] == "suffix: tkr"


# ----------------------------------------------------------------- push against a recorded Grafana API

TOKEN = "glsa_test_token_0123456789"

FOLDER = {  # GET /api/folders/:uid, as Grafana 11 answers it
    "id": 7, "uid": FOLDER_UID, "orgId": 1, "title": FOLDER_TITLE, "url": f"/dashboards/f/{FOLDER_UID}/casewatch",
    "hasAcl": False, "canSave": True, "canEdit": True, "canAdmin": True, "canDelete": True,
    "createdBy": "admin", "created": "2025-01-01T10:00:00+01:00", "updatedBy": "admin",
    "updated": "2025-01-01T10:00:00+01:00", "version": 1,
}
NOT_FOUND = {"message": "folder not found", "messageId": "folder.notFound", "statusCode": 404, "traceID": ""}
UNAUTHORIZED = {"message": "invalid API key", "messageId": "api-key.invalid", "statusCode": 401, "traceID": ""}


class RecordedGrafana:
    """A loopback HTTP server answering like Grafana's HTTP API and recording every request."""

    def __init__(self, folder_exists: bool = False, folder_title: str = FOLDER_TITLE, unauthorized: bool = False):
        self.requests: list[dict] = []
        self.folder_exists, self.folder_title, self.unauthorized = folder_exists, folder_title, unauthorized
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                recorder.requests.append({
                    "method": self.command, "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "body": json.loads(raw) if raw else None,
                })
                status, body = recorder.route(self.command, self.path, json.loads(raw) if raw else None)
                self._answer(status, body)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method: str, path: str, body):
        if self.unauthorized:
            return 401, UNAUTHORIZED
        if method == "GET" and path == f"/api/folders/{FOLDER_UID}":
            return (200, dict(FOLDER, title=self.folder_title)) if self.folder_exists else (404, NOT_FOUND)
        if method == "POST" and path == "/api/folders":
            self.folder_exists = True
            return 200, dict(FOLDER, title=body["title"], uid=body["uid"])
        if method == "PUT" and path == f"/api/folders/{FOLDER_UID}":
            return 200, dict(FOLDER, title=body["title"], version=2)
        if method == "POST" and path == "/api/dashboards/db":
            uid = body["dashboard"]["uid"]
            return 200, {"id": 100, "uid": uid, "url": f"/d/{uid}/slug", "status": "success", "version": 3,
                         "slug": "slug", "folderUid": body["folderUid"]}
        return 404, {"message": "Not found"}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def test_push_creates_the_folder_and_overwrites_every_dashboard(dashboards):
    with RecordedGrafana() as grafana:
        pushed = push_dashboards(grafana.url, TOKEN, dashboards)
    requests = grafana.requests
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in requests)
    assert [(r["method"], r["path"]) for r in requests] == (
        [("GET", f"/api/folders/{FOLDER_UID}"), ("POST", "/api/folders")]
        + [("POST", "/api/dashboards/db")] * len(dashboards))
    assert requests[1]["body"] == {"title": FOLDER_TITLE, "uid": FOLDER_UID}
    saved = [r["body"] for r in requests[2:]]
    assert [b["dashboard"]["uid"] for b in saved] == sorted(dashboards)
    for body in saved:
        assert body["overwrite"] is True
        assert body["folderUid"] == FOLDER_UID
        assert body["dashboard"] == dashboards[body["dashboard"]["uid"]]
        assert "id" not in body["dashboard"]
    assert [p.uid for p in pushed] == sorted(dashboards)
    assert all(p.status == "success" and p.version == 3 for p in pushed)
    assert pushed[0].url == f"{grafana.url}/d/{pushed[0].uid}/slug"


def test_push_reuses_an_existing_folder_and_restores_its_title(dashboards):
    some = {uid: dashboards[uid] for uid in ["casewatch-pipeline"]}
    with RecordedGrafana(folder_exists=True) as grafana:
        push_dashboards(grafana.url, TOKEN, some)
    assert [(r["method"], r["path"]) for r in grafana.requests] == [
        ("GET", f"/api/folders/{FOLDER_UID}"), ("POST", "/api/dashboards/db")]
    with RecordedGrafana(folder_exists=True, folder_title="renamed") as grafana:
        push_dashboards(grafana.url, TOKEN, some)
    assert [(r["method"], r["path"]) for r in grafana.requests] == [
        ("GET", f"/api/folders/{FOLDER_UID}"), ("PUT", f"/api/folders/{FOLDER_UID}"), ("POST", "/api/dashboards/db")]
    assert grafana.requests[1]["body"] == {"title": FOLDER_TITLE, "version": 1, "overwrite": True}


def test_push_401_gives_a_clear_error(dashboards):
    with RecordedGrafana(unauthorized=True) as grafana:
        with pytest.raises(PushError) as caught:
            push_dashboards(grafana.url, TOKEN, dashboards)
    message = str(caught.value)
    assert "401" in message and "token" in message and grafana.url in message
    assert TOKEN not in message
    assert len(grafana.requests) == 1


def test_push_unreachable_grafana_is_a_clear_error(dashboards):
    with RecordedGrafana() as grafana:
        url = grafana.url
    with pytest.raises(PushError, match="cannot reach Grafana"):
        push_dashboards(url, TOKEN, dashboards, timeout=2)


def test_cli_push_reads_the_token_from_the_named_variable(monkeypatch):
    monkeypatch.setenv("MY_GRAFANA_TOKEN", TOKEN)
    with RecordedGrafana() as grafana:
        result = CliRunner().invoke(dashboards_app, ["push", "--url", grafana.url, "--token-env", "MY_GRAFANA_TOKEN"])
    assert result.exit_code == 0, result.output
    assert len(grafana.requests) == 2 + len(EXPECTED_DASHBOARDS)
    assert all(r["authorization"] == f"Bearer {TOKEN}" for r in grafana.requests)
    assert "casewatch-unit-overview" in result.output


def test_cli_push_401_exits_1_with_the_reason(monkeypatch):
    monkeypatch.setenv("CASEWATCH_GRAFANA_TOKEN", TOKEN)
    with RecordedGrafana(unauthorized=True) as grafana:
        result = CliRunner().invoke(dashboards_app, ["push", "--url", grafana.url])
    assert result.exit_code == 1
    assert "401 Unauthorized" in result.output and TOKEN not in result.output


def test_cli_push_without_a_token_exits_2(monkeypatch):
    monkeypatch.delenv("CASEWATCH_GRAFANA_TOKEN", raising=False)
    result = CliRunner().invoke(dashboards_app, ["push", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "CASEWATCH_GRAFANA_TOKEN" in result.output


def test_cli_build_writes_the_files(tmp_path):
    result = CliRunner().invoke(dashboards_app, ["build", "--out", str(tmp_path), "--no-compose-prometheus"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(file_name(uid) for uid in EXPECTED_DASHBOARDS)


def _promtool_passes(promtool: str, path: Path, tests: dict) -> None:
    path.write_text(yaml.safe_dump(tests, allow_unicode=True), encoding="utf-8")
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _grafana_option(line: str, regex: str = UNIT_CHOICE_REGEX) -> tuple[str, str]:
    """(text, value) Grafana takes from a query_result line with the variable's regex."""
    pattern = re.compile(regex.strip("/").replace("(?<", "(?P<"))
    found = pattern.search(line)
    assert found, line
    return found["text"], found["value"]


def test_the_unit_drop_down_shows_display_names_and_selects_by_code(tmp_path):
    """Prometheus' own engine (promtool) evaluates the drop-down's query over a unit the registry
    names and one it does not; the regex turns each result line, as Grafana writes it (labels in
    Prometheus' sorted order), into the option shown and the code selected."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (Debian package 'prometheus')"
    info = 'casewatch_unit_info{job="casewatch-exporter",municipality="0138",unit="bou-1",name="Barn och unga, mottagning"}'
    tests = {"rule_files": [], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [
            {"series": info, "values": "1x5"},
            {"series": 'casewatch_investigations_open{job="casewatch-exporter",municipality="0138",unit="bou-1"}',
             "values": "4x5"},
            {"series": 'casewatch_investigations_open{job="casewatch-exporter",municipality="0138",unit="bou-2"}',
             "values": "7x5"},
            {"series": 'casewatch_investigations_open{job="casewatch-exporter",municipality="0180",unit="bou-9"}',
             "values": "2x5"}],
        "promql_expr_test": [{
            "expr": concrete_expr(UNIT_CHOICES, municipality="0138"), "eval_time": "3m",
            "exp_samples": [
                {"labels": '{municipality="0138",unit="bou-1",name="Barn och unga, mottagning"}', "value": 1},
                {"labels": '{municipality="0138",unit="bou-2",name="bou-2"}', "value": 7}]}]}]}
    _promtool_passes(promtool, tmp_path / "unit-choices.yaml", tests)
    assert _grafana_option('{municipality="0138",name="Barn och unga, mottagning",unit="bou-1"} 1 1700000000000') \
        == ("Barn och unga, mottagning", "bou-1")
    assert _grafana_option('{municipality="0138",name="bou-2",unit="bou-2"} 7 1700000000000') == ("bou-2", "bou-2")


def test_the_municipality_drop_down_shows_names_and_selects_by_code(tmp_path):
    """Prometheus' own engine (promtool) evaluates the drop-down's query over the generated
    reference rules (rules/reference.yaml): a municipality with figures is listed by its name, one
    outside SCB's table by "kommunkod", one without figures not at all; the regex turns each
    result line into the option shown and the code selected."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (Debian package 'prometheus')"
    tests = {"rule_files": [str(REPO / "dashboards" / "generated" / "rules" / "reference.yaml")],
             "evaluation_interval": "1m", "tests": [{
                 "interval": "1m",
                 "input_series": [
                     {"series": 'casewatch_investigations_open{job="casewatch-exporter",municipality="0138",unit="bou-1"}',
                      "values": "4x5"},
                     {"series": 'casewatch_investigations_open{job="casewatch-exporter",municipality="0980",unit="bou-1"}',
                      "values": "2x5"},
                     {"series": 'casewatch_investigations_open{job="casewatch-exporter",municipality="9999",unit="x-1"}',
                      "values": "1x5"}],
                 "promql_expr_test": [{
                     "expr": concrete_expr(MUNICIPALITY_CHOICES), "eval_time": "3m",
                     "exp_samples": [
                         {"labels": '{municipality="0138",name="Tyresö kommun"}', "value": 1},
                         {"labels": '{municipality="0980",name="Region Gotland"}', "value": 1},
                         {"labels": '{municipality="9999",name="kommunkod 9999"}', "value": 1}]}]}]}
    _promtool_passes(promtool, tmp_path / "municipality-choices.yaml", tests)
    line = '{municipality="0138", name="Tyresö kommun"} 1 1700000000000'
    assert _grafana_option(line, MUNICIPALITY_CHOICE_REGEX) == ("Tyresö kommun", "0138")
