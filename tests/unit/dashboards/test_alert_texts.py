"""What a notification says, rendered by Alertmanager's own amtool: Swedish only, with Swedish
dates in Stockholm time (Alertmanager 0.25 has no time-zone function, so the template converts)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.swedish_text import problems

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "dashboards" / "generated" / "templates"


def render(tmp_path: Path, text: str, starts_at: str, status: str = "firing", ends_at: str = "0001-01-01T00:00:00Z",
           labels: dict | None = None, summary: str | None = None, description: str = "Beskrivning.") -> str:
    amtool = shutil.which("amtool")
    assert amtool, "amtool is not on PATH (Debian prometheus-alertmanager)"
    labels = {"alertname": "CasewatchScreeningOverdue", "severity": "page", "municipality": "0138", "unit": "bou-1",
              **(labels or {})}
    alert = {"status": status, "labels": labels, "startsAt": starts_at, "endsAt": ends_at,
             "annotations": {"summary": summary or "Förhandsbedömning över 14 dagar: 3 i bou-1, äldsta sedan 12 mars "
                                                   "kl. 09.00",
                             "description": description, "runbook_url": "https://exempel.invalid/rb.md"}}
    data = {"receiver": "casewatch-page", "status": status, "alerts": [alert], "groupLabels": {},
            "commonLabels": labels, "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093"}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    proc = subprocess.run([amtool, "template", "render", f"--template.glob={TEMPLATES / '*.tmpl'}",
                           f"--template.data={path}", f"--template.text={text}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("utc, stockholm", [
    ("2026-11-28T21:47:32Z", "28 november 2026 kl. 22.47"),
    ("2026-03-29T00:59:00Z", "29 mars 2026 kl. 01.59"),   # the last minute of winter time
    ("2026-03-29T01:00:00Z", "29 mars 2026 kl. 03.00"),   # summer time from 01:00 UTC
    ("2026-10-25T00:59:00Z", "25 oktober 2026 kl. 02.59"),
    ("2026-10-25T01:00:00Z", "25 oktober 2026 kl. 02.00"),  # back to winter time
    ("2026-12-31T23:30:00Z", "1 januari 2027 kl. 00.30"),
    ("2027-07-01T06:05:00Z", "1 juli 2027 kl. 08.05"),
])
def test_template_writes_stockholm_time_in_swedish(tmp_path, utc, stockholm):
    out = render(tmp_path, '{{ template "casewatch.sv.datetime" (index .Alerts 0).StartsAt }}', utc)
    assert out == stockholm


def test_notification_is_swedish_only_and_says_since_when(tmp_path):
    subject = render(tmp_path, '{{ template "casewatch.email.subject" . }}', "2026-11-28T21:47:32Z")
    assert subject == "[LARM] Förhandsbedömning över 14 dagar: 3 i bou-1, äldsta sedan 12 mars kl. 09.00"
    body = render(tmp_path, '{{ template "casewatch.email.text" . }}', "2026-11-28T21:47:32Z")
    assert "Larmet gäller sedan 28 november 2026 kl. 22.47." in body
    assert not problems(body), problems(body)
    html = render(tmp_path, '{{ template "casewatch.email.html" . }}', "2026-11-28T21:47:32Z",
                  labels={"severity": "ticket", "colour": "red"})
    assert "(ÄRENDE, röd)" in html and "Åtgärdslista" in html
    resolved = render(tmp_path, '{{ template "casewatch.email.text" . }}', "2026-11-28T21:47:32Z",
                      status="resolved", ends_at="2026-11-29T07:15:00Z")
    assert "Åtgärdat 29 november 2026 kl. 08.15." in resolved


def test_template_file_has_no_english():
    text = (TEMPLATES / "casewatch.tmpl").read_text(encoding="utf-8")
    assert not problems(text.replace("<", " <").replace(">", "> ")), problems(text)


def test_alert_rules_are_swedish_only_and_short_enough_for_a_lock_screen():
    import yaml

    rules = yaml.safe_load((ROOT / "dashboards" / "generated" / "rules" / "alerts.yaml").read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            ann = rule["annotations"]
            for key in ("summary", "description"):
                assert not problems(ann[key]), (rule["alert"], key, problems(ann[key]))
            # the words around the template actions: what, how many, which unit, since when
            words = " ".join(ann["summary"].split("{{")[0].split())
            assert len(words) <= 80, (rule["alert"], words)
            assert " / " not in ann["summary"] and "Gäller sedan minst" not in ann["description"], rule["alert"]


def test_the_legal_clocks_say_since_when_from_the_exporter():
    import yaml

    rules = yaml.safe_load((ROOT / "dashboards" / "generated" / "rules" / "alerts.yaml").read_text(encoding="utf-8"))
    since = {r["alert"]: r["annotations"]["summary"] for g in rules["groups"] for r in g["rules"]}
    for alert, clock in [("CasewatchProtectionAssessmentOverdue", "protection"),
                         ("CasewatchScreeningOverdue", "screening"),
                         ("CasewatchInvestigationOverdue", "investigation"),
                         ("CasewatchDecisionReportableToIVO", "enforcement")]:
        assert f'casewatch_oldest_overdue_timestamp_seconds{{job="casewatch-exporter",' in since[alert]
        assert f'clock="{clock}"' in since[alert] and "äldsta sedan" in since[alert], alert


FIGURES = [  # (value, count, decimal, number)
    (0, "0", "0,0", "0"),
    (7, "7", "7,0", "7"),
    (999, "999", "999,0", "999"),
    (1000, "1\u00a0000", "1\u00a0000,0", "1\u00a0000"),
    (39866, "39\u00a0866", "39\u00a0866,0", "39\u00a0866"),
    (1234567.25, "1\u00a0234\u00a0567", "1\u00a0234\u00a0567,2", "1\u00a0234\u00a0567,25"),
    (14.5, "14", "14,5", "14,5"),
    (0.255, "0", "0,3", "0,255"),
    (-2345.5, "-2\u00a0346", "-2\u00a0345,5", "-2\u00a0345,5"),
]
SHARES = [(0, "0\u00a0%"), (0.2, "20\u00a0%"), (0.255, "25,5\u00a0%"), (1.5, "150\u00a0%")]


def test_alert_figures_are_written_the_swedish_way_by_prometheus_itself(tmp_path):
    """The template fragments every alert uses, evaluated by Prometheus' own template engine
    (promtool): digit groups and a per cent sign after a no-break space, a decimal comma, never
    Prometheus' English ``humanize`` (``39.87k``). Go's ``%.0f`` rounds half to even."""
    import yaml

    from dashboards import alert_text

    numbers = {"count": alert_text.count(), "decimal": alert_text.decimal(), "number": alert_text.number()}
    rules = {"groups": [{"name": "figures", "rules": [
        {"alert": "Figure", "expr": "swedish_figure", "annotations": numbers},
        {"alert": "Share", "expr": "swedish_share", "annotations": {"percent": alert_text.percent()}}]}]}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    series = [{"series": f'swedish_figure{{n="{i}"}}', "values": f"{value}x3"} for i, (value, *_) in enumerate(FIGURES)]
    series += [{"series": f'swedish_share{{n="{i}"}}', "values": f"{value}x3"} for i, (value, _) in enumerate(SHARES)]
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": series,
        "alert_rule_test": [
            {"eval_time": "1m", "alertname": "Figure", "exp_alerts": [
                {"exp_labels": {"n": str(i)}, "exp_annotations": {"count": count, "decimal": decimal, "number": number}}
                for i, (_value, count, decimal, number) in enumerate(FIGURES)]},
            {"eval_time": "1m", "alertname": "Share", "exp_alerts": [
                {"exp_labels": {"n": str(i)}, "exp_annotations": {"percent": percent}}
                for i, (_value, percent) in enumerate(SHARES)]}]}]}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, allow_unicode=True), encoding="utf-8")
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (Debian package 'prometheus')"
    result = subprocess.run([promtool, "test", "rules", "tests.yaml"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_notification_carries_the_municipality_name_and_swedish_figures(tmp_path):
    """What promtool proves the rules write reaches the e-mail unchanged (amtool's own render):
    the no-break spaces survive, and the municipality is named."""
    import yaml

    rules = yaml.safe_load((ROOT / "dashboards" / "generated" / "rules" / "alerts.yaml").read_text(encoding="utf-8"))
    stalled = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == "CasewatchConsumerStalled")
    assert "humanize " not in stalled["annotations"]["summary"]
    text = render(tmp_path, '{{ template "casewatch.email.text" . }}', "2026-11-28T21:47:32Z",
                  summary="casewatch har stannat: 39\u00a0866 händelser väntar",
                  description="3 orosanmälningar har väntat.\nEnhet Barn och unga, mottagning, Tyresö kommun.")
    assert "casewatch har stannat: 39\u00a0866 händelser väntar" in text
    assert "Enhet Barn och unga, mottagning, Tyresö kommun." in text
    html = render(tmp_path, '{{ template "casewatch.email.html" . }}', "2026-11-28T21:47:32Z",
                  summary="casewatch har stannat: 39\u00a0866 händelser väntar")
    assert "39\u00a0866 händelser väntar" in html
