"""All real, end to end: events → Kafka → worker → Redis → exporter → Prometheus (shipped rules)
→ Alertmanager (shipped routing) → a webhook; and every dashboard panel against that Prometheus."""
from __future__ import annotations

import json
import os
import threading
import time
import urllib.parse
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from dashboards.build import write_alertmanager
from dashboards.grafana import all_panel_queries, concrete_expr
from dashboards.prometheus_config import render_prometheus_config
from services.simulator import SimulationSpec, simulate
from streams.core.timeutil import STOCKHOLM, format_ts
from tests.events import ev

from tests.integration.pipeline import Service, free_port, http_get, pipeline_env, produce, wait_for

# bench/alert_delay.py sets this to measure with the shipped intervals instead of 1-second ones.
SHIPPED = os.environ.get("CASEWATCH_E2E_SHIPPED_INTERVALS") == "1"
RULES = [str(p) for p in sorted((Path(__file__).resolve().parents[2] / "dashboards/generated/rules").glob("*.yaml"))]


class Webhook:
    """An Alertmanager webhook receiver on loopback that keeps every notification."""

    def __init__(self) -> None:
        self.notifications: list[tuple[float, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.notifications.append((time.time(), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alert"

    def find(self, alertname: str, status: str, **labels) -> tuple[float, dict] | None:
        for received, note in self.notifications:
            for alert in note["alerts"]:
                if (alert["labels"].get("alertname") == alertname and alert["status"] == status
                        and all(alert["labels"].get(k) == v for k, v in labels.items())):
                    return received, alert
        return None

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def live(kafka_bootstrap, redis_url, topic_factory, tmp_path):
    """Start worker and exporter on fresh topics and Redis DB; yield a small control object."""
    topics = topic_factory(partitions=2, prefix="e2e")
    env = pipeline_env(kafka_bootstrap, redis_url, topics, tmp_path / "worker", f"e2e-{uuid.uuid4().hex[:8]}")
    port = free_port()
    worker = Service("worker", ["worker", "--loglevel", "warning"], env, tmp_path / "worker.log").start()
    exporter = Service("exporter", ["exporter", "--port", str(port)], env, tmp_path / "exporter.log").start()

    class Live:
        services = (worker, exporter)
        metrics_url = f"http://127.0.0.1:{port}/metrics"
        exporter_target = f"127.0.0.1:{port}"

        def send(self, events: list[bytes]) -> None:
            produce(kafka_bootstrap, topics.case_topic, events)

        def metric(self, name: str, **labels) -> float | None:
            from tests.prom_parse import parse_metrics

            for (metric, label_set), value in parse_metrics(http_get(self.metrics_url)).items():
                if metric == name and all((k, v) in label_set for k, v in labels.items()):
                    return value
            return None

    wait_for(lambda: _answers(Live.metrics_url), 60, "the exporter's /metrics", Live.services)
    yield Live()
    for service in (exporter, worker):
        service.stop()


def _answers(url: str) -> bool:
    try:
        http_get(url, timeout=2)
        return True
    except OSError:
        return False


def prometheus_query(base: str, expr: str) -> list:
    body = orjson.loads(http_get(f"{base}/api/v1/query?query={urllib.parse.quote(expr)}"))
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_a_screening_past_14_days_pages_on_call_and_resolves_when_screened(live, prometheus_factory,
                                                                         alertmanager_factory, tmp_path):
    hook = Webhook()
    try:
        am_dir = tmp_path / "am"
        am_dir.mkdir()
        short = {} if SHIPPED else {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"}
        write_alertmanager(am_dir, webhook_url=hook.url, email=False, **short)
        am_url = alertmanager_factory(am_dir / "alertmanager.yml")
        intervals = {} if SHIPPED else {"scrape_interval": "1s", "evaluation_interval": "1s"}
        prom_url = prometheus_factory(render_prometheus_config(
            exporter_targets=[live.exporter_target], alertmanager_targets=[am_url.split("//", 1)[1]],
            rule_files=RULES, **intervals))

        # A report whose 14-day screening deadline passes 20 seconds from now, in a unit of its own.
        received = time.time() - 14 * 86400 + 20
        deadline = _deadline(int(received))
        report = ev("report.received", format_ts(int(received)), case="e2e-c1", unit="e2e-1", mun="0999",
                    reporter="skola")
        assessed = ev("report.protection_assessed", format_ts(int(received) + 60), case="e2e-c1", unit="e2e-1",
                      mun="0999", immediate_protection=False)
        live.send([orjson.dumps(report), orjson.dumps(assessed)])
        wait_for(lambda: live.metric("casewatch_reports_awaiting_screening", unit="e2e-1") == 1, 60,
                 "the report to reach the exporter", live.services)
        assert live.metric("casewatch_reports_screening_overdue", unit="e2e-1") == 0

        wait_for(lambda: hook.find("CasewatchScreeningOverdue", "firing", unit="e2e-1"), 120,
                 "the page to reach the webhook", live.services, interval=0.2)
        delivered, alert = hook.find("CasewatchScreeningOverdue", "firing", unit="e2e-1")
        assert alert["labels"]["severity"] == "page"
        assert alert["labels"]["municipality"] == "0999"
        # Swedish only: what, how many, which unit and since when, in Stockholm time
        from streams.swedish import date_time

        summary = alert["annotations"]["summary"]
        assert summary.startswith("Förhandsbedömning över 14 dagar: 1 orosanmälan i e2e-1, äldsta sedan "), summary
        assert summary.endswith(date_time(deadline, now=time.time())), (summary, deadline)
        assert "1 orosanmälan har väntat mer än 14 dagar" in alert["annotations"]["description"]
        # 0999 is no SCB code: the municipality is named by its code (a real one by its name, below)
        assert "Enhet e2e-1, kommunkod 0999." in alert["annotations"]["description"]
        assert alert["annotations"]["runbook_url"].endswith("/dashboards/runbooks/CasewatchScreeningOverdue.md")
        print(f"\nbreach → webhook: {delivered - deadline:.1f} s "
              f"({'shipped intervals' if SHIPPED else '1 s scrape and evaluation, shipped for and routing'})")
        assert prometheus_query(prom_url, 'ALERTS{alertname="CasewatchScreeningOverdue",unit="e2e-1"}')

        screened = ev("report.screened", format_ts(int(time.time())), case="e2e-c1", unit="e2e-1", mun="0999",
                      outcome="no_investigation")
        live.send([orjson.dumps(screened)])
        wait_for(lambda: hook.find("CasewatchScreeningOverdue", "resolved", unit="e2e-1"), 120,
                 "the resolved notification", live.services, interval=0.2)
        assert live.metric("casewatch_reports_awaiting_screening", unit="e2e-1") == 0
    finally:
        hook.close()


def _deadline(received: float) -> float:
    from streams.core.clocks import DEFAULT_CLOCKS

    return DEFAULT_CLOCKS.screening.deadline(received)


def test_every_dashboard_panel_returns_data_from_the_real_pipeline(live, prometheus_factory):
    end = datetime.fromtimestamp(time.time() - 3600, STOCKHOLM)
    # The flow units of contract v2, so that the transfer, legal-basis, linked and compliance panels have data.
    units = ("mottagning-1", "bou-1", "bou-2", "vald-1", "behandling-1", "vuxen-1", "eb-1")
    lines = list(simulate(SimulationSpec(municipalities=1, population=20_000, months=2, end=end, seed=5,
                                         units_per_municipality=units)))
    live.send(lines)
    prom_url = prometheus_factory(render_prometheus_config(
        exporter_targets=[live.exporter_target], alertmanager_targets=[], rule_files=RULES,
        scrape_interval="1s", evaluation_interval="1s"))
    wait_for(lambda: (live.metric("casewatch_consumer_lag_messages") == 0
                      and (live.metric("casewatch_events_total", outcome="accepted") or 0) > 0.9 * len(lines)),
             180, "the worker to consume the simulated months", live.services, interval=1)
    # rate() and increase() need a few samples of the stable figures
    wait_for(lambda: prometheus_query(prom_url, 'count_over_time(casewatch_redis_up[1m]) >= 8'), 60,
             "eight scrapes", live.services)
    empty = []
    for uid, title, expr in all_panel_queries():
        if not prometheus_query(prom_url, concrete_expr(expr)):
            empty.append(f"{uid} / {title}: {expr}")
    assert not empty, "panels without data:\n" + "\n".join(empty)
    # The municipality drop-down over the same Prometheus: the simulated municipality by its name,
    # from the generated reference rules; any code outside SCB's table by "kommunkod".
    from dashboards.grafana.common import MUNICIPALITY_CHOICES

    choices = {r["metric"]["municipality"]: r["metric"]["name"]
               for r in prometheus_query(prom_url, concrete_expr(MUNICIPALITY_CHOICES))}
    assert choices["0138"] == "Tyresö kommun", choices
    assert choices.get("0999", "kommunkod 0999") == "kommunkod 0999", choices  # the alert test's municipality


def test_an_event_posted_to_the_ingest_api_moves_the_exporters_figure(kafka_bootstrap, redis_url, topic_factory,
                                                                     tmp_path):
    """Issue 7's end to end: POST → Kafka → worker → Redis → exporter figure."""
    import httpx

    from tests.integration.ingest_support import TOKEN_ALL, auth, running_service

    topics = topic_factory(partitions=2, prefix="e2e-api")
    env = pipeline_env(kafka_bootstrap, redis_url, topics, tmp_path / "worker", f"e2e-api-{uuid.uuid4().hex[:8]}")
    port = free_port()
    worker = Service("worker", ["worker", "--loglevel", "warning"], env, tmp_path / "worker.log").start()
    exporter = Service("exporter", ["exporter", "--port", str(port)], env, tmp_path / "exporter.log").start()
    metrics_url = f"http://127.0.0.1:{port}/metrics"

    def placements() -> float | None:
        from tests.prom_parse import parse_metrics

        for (name, labels), value in parse_metrics(http_get(metrics_url)).items():
            if name == "casewatch_placements_active" and ("unit", "api-1") in labels \
                    and ("placement_type", "hvb") in labels:
                return value
        return None

    try:
        with running_service(kafka_bootstrap, topics) as (api_url, _app):
            started = ev("placement.started", format_ts(int(time.time()) - 3600), case="api-c1", unit="api-1",
                         mun="0999", placement_id="api-p1", placement_type="hvb", daily_cost_sek=4458)
            response = httpx.post(f"{api_url}/v1/events", content=orjson.dumps([started]),
                                  headers={**auth(TOKEN_ALL), "Content-Type": "application/json"}, timeout=30)
            assert response.status_code == 200, response.text
            assert [r["status"] for r in response.json()["results"]] == ["accepted"]
            wait_for(lambda: _answers(metrics_url) and placements() == 1, 90,
                     "the posted placement at /metrics", (worker, exporter))
    finally:
        exporter.stop()
        worker.stop()
