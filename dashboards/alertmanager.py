"""Alertmanager configuration and notification templates.

Routing: pipeline alerts (label ``pipeline="true"``) go to the IT operators; everything else by
``severity`` (page / ticket / info). ``group_by: [alertname, municipality, unit]``: each unit
metric is already one series per unit (forty overdue reports are one series with value 40), so a
group is one alert in one unit and pages once; the grouping keeps units apart.

Quiet hours: ticket and info notifications are muted outside office hours (weekdays 08-17
Europe/Stockholm, fixed-date Swedish public holidays off); pages never are.

Inhibition: a firing ``stale_data="true"`` pipeline alert (exporter, worker or Redis down, lag
growing, no events) inhibits every unit alert (backlogs, legal clocks, budget) of the same
municipality, or of all municipalities when the pipeline alert has no municipality label: stale
figures must not page as if real.
"""
from __future__ import annotations

from .config import DEFAULT_CONFIG, MixinConfig
from .rules import dump

TEMPLATE_FILE = "casewatch.tmpl"
OFFICE_HOURS = "office-hours"
OUTSIDE_OFFICE_HOURS = "outside-office-hours"
RECEIVERS = ("casewatch-page", "casewatch-ticket", "casewatch-info", "casewatch-pipeline")

# Fixed-date public holidays (helgdagar) and de facto days off; Easter, Ascension, Midsummer
# Eve and All Saints' Day move and are not listed (DESIGN.md).
FIXED_HOLIDAYS = (
    ("january", 1), ("january", 6), ("may", 1), ("june", 6),
    ("december", 24), ("december", 25), ("december", 26), ("december", 31),
)


def _time_intervals(cfg: MixinConfig) -> list[dict]:
    loc = cfg.timezone
    start, end = f"{cfg.office_hours_start:02d}:00", f"{cfg.office_hours_end:02d}:00"
    holidays = [{"months": [m], "days_of_month": [str(d)], "location": loc} for m, d in FIXED_HOLIDAYS]
    return [
        {
            "name": OFFICE_HOURS,
            "time_intervals": [
                {"weekdays": ["monday:friday"], "times": [{"start_time": start, "end_time": end}], "location": loc}
            ],
        },
        {
            "name": OUTSIDE_OFFICE_HOURS,
            "time_intervals": [
                {"weekdays": ["saturday", "sunday"], "location": loc},
                {
                    "weekdays": ["monday:friday"],
                    "times": [{"start_time": "00:00", "end_time": start}, {"start_time": end, "end_time": "24:00"}],
                    "location": loc,
                },
                *holidays,
            ],
        },
    ]


def _receivers(cfg: MixinConfig, webhook_url: str, email: bool) -> list[dict]:
    def receiver(name: str, to: str | None, send_resolved: bool = True) -> dict:
        r: dict = {"name": name, "webhook_configs": [{"url": webhook_url, "send_resolved": send_resolved}]}
        if email and to:
            r["email_configs"] = [{
                "to": to,
                "send_resolved": send_resolved,
                "headers": {"Subject": '{{ template "casewatch.email.subject" . }}'},
                "html": '{{ template "casewatch.email.html" . }}',
                "text": '{{ template "casewatch.email.text" . }}',
            }]
        return r

    return [
        receiver("casewatch-page", cfg.email_page_to),
        receiver("casewatch-ticket", cfg.email_ticket_to),
        receiver("casewatch-info", None, send_resolved=False),
        receiver("casewatch-pipeline", cfg.email_pipeline_to),
    ]


def _inhibit_rules() -> list[dict]:
    unit_alerts = ['pipeline!="true"']
    return [
        # a global pipeline problem (no municipality label) makes every unit's figures stale
        {"source_matchers": ['stale_data="true"', 'municipality=""'], "target_matchers": unit_alerts},
        # a pipeline problem scoped to one municipality (e.g. its adapter) inhibits only that one
        {"source_matchers": ['stale_data="true"', 'municipality=~".+"'], "target_matchers": unit_alerts,
         "equal": ["municipality"]},
        # within the pipeline, report the cause, not its consequences
        {"source_matchers": ['alertname="CasewatchExporterDown"'],
         "target_matchers": ['pipeline="true"', 'alertname!="CasewatchExporterDown"']},
        {"source_matchers": ['alertname="CasewatchRedisDown"'],
         "target_matchers": ['alertname=~"CasewatchWorkerDown|CasewatchConsumerLagGrowing|'
                             'CasewatchNoEventsDuringOfficeHours|CasewatchThresholdMissing"']},
        {"source_matchers": ['alertname="CasewatchWorkerDown"'],
         "target_matchers": ['alertname=~"CasewatchConsumerLagGrowing|CasewatchNoEventsDuringOfficeHours"']},
    ]


def alertmanager_config(
    cfg: MixinConfig = DEFAULT_CONFIG,
    *,
    webhook_url: str | None = None,
    group_wait: str | None = None,
    group_interval: str | None = None,
    repeat_interval: str | None = None,
    email: bool = True,
) -> dict:
    """The config as a mapping. ``group_wait``/``group_interval``/``repeat_interval`` given here
    replace every route's value (tests use short ones); otherwise each severity has its own."""
    webhook_url = webhook_url or cfg.webhook_url

    def timing(wait: str, interval: str, repeat: str) -> dict:
        return {
            "group_wait": group_wait or wait,
            "group_interval": group_interval or interval,
            "repeat_interval": repeat_interval or repeat,
        }

    muted = [OUTSIDE_OFFICE_HOURS]
    route = {
        "receiver": "casewatch-ticket",
        "group_by": ["alertname", "municipality", "unit"],
        **timing(cfg.group_wait, cfg.group_interval, cfg.repeat_interval),
        "routes": [
            {
                "receiver": "casewatch-pipeline",
                "matchers": ['pipeline="true"'],
                **timing(cfg.group_wait_page, cfg.group_interval_page, cfg.repeat_interval_page),
                "routes": [
                    {"receiver": "casewatch-pipeline", "matchers": ['severity=~"ticket|info"'],
                     "mute_time_intervals": muted,
                     **timing(cfg.group_wait, cfg.group_interval, cfg.repeat_interval)},
                ],
            },
            {"receiver": "casewatch-page", "matchers": ['severity="page"'],
             **timing(cfg.group_wait_page, cfg.group_interval_page, cfg.repeat_interval_page)},
            {"receiver": "casewatch-ticket", "matchers": ['severity="ticket"'], "mute_time_intervals": muted,
             **timing(cfg.group_wait, cfg.group_interval, cfg.repeat_interval)},
            {"receiver": "casewatch-info", "matchers": ['severity="info"'], "mute_time_intervals": muted,
             **timing(cfg.group_wait, cfg.group_interval, cfg.repeat_interval)},
        ],
    }
    config: dict = {}
    if email:
        config["global"] = {
            "smtp_smarthost": cfg.smtp_smarthost,
            "smtp_from": cfg.smtp_from,
            "smtp_require_tls": True,
        }
    config.update({
        "templates": [f"templates/{TEMPLATE_FILE}"],
        "route": route,
        "receivers": _receivers(cfg, webhook_url, email),
        "inhibit_rules": _inhibit_rules(),
        "time_intervals": _time_intervals(cfg),
    })
    return config


HEADER = "# Generated by `casewatch generate` from dashboards/alertmanager.py. Do not edit.\n"


def render_alertmanager(
    webhook_url: str | None = None,
    group_wait: str | None = None,
    group_interval: str | None = None,
    repeat_interval: str | None = None,
    *,
    email: bool = True,
    cfg: MixinConfig = DEFAULT_CONFIG,
) -> str:
    """alertmanager.yml text. Templates are referenced as ``templates/casewatch.tmpl`` relative to
    the config file; write :func:`render_template` next to it (``build.write_alertmanager`` does)."""
    return HEADER + dump(alertmanager_config(
        cfg, webhook_url=webhook_url, group_wait=group_wait, group_interval=group_interval,
        repeat_interval=repeat_interval, email=email,
    ))


def render_template() -> str:
    """Notification templates: Swedish subject line, readable text and HTML bodies."""
    return TEMPLATE


TEMPLATE = r'''{{/* Generated by `casewatch generate` from dashboards/alertmanager.py. Do not edit. */}}

{{ define "casewatch.severity.sv" }}{{ if eq . "page" }}LARM{{ else if eq . "ticket" }}ÄRENDE{{ else }}INFO{{ end }}{{ end }}

{{ define "casewatch.email.subject" -}}
[{{ if eq .Status "firing" }}{{ template "casewatch.severity.sv" .CommonLabels.severity }}{{ else }}ÅTGÄRDAT{{ end }}]
{{- if .CommonLabels.unit }} Enhet {{ .CommonLabels.unit }} ({{ .CommonLabels.municipality }}):{{ else }} casewatch:{{ end }}
{{- with index .Alerts 0 }} {{ .Annotations.summary }}{{ end }}
{{- if gt (len .Alerts) 1 }} ({{ len .Alerts }} larm){{ end }}
{{- end }}

{{ define "casewatch.alert.text" -}}
{{ .Labels.alertname }} [{{ .Labels.severity }}{{ if .Labels.colour }}, {{ .Labels.colour }}{{ end }}]
{{ .Annotations.description }}
Startade / Started: {{ .StartsAt.Format "2006-01-02 15:04:05 MST" }}
{{- if eq .Status "resolved" }}
Åtgärdat / Resolved: {{ .EndsAt.Format "2006-01-02 15:04:05 MST" }}{{ end }}
Åtgärdslista / Runbook: {{ .Annotations.runbook_url }}
{{ end }}

{{ define "casewatch.email.text" -}}
{{ if eq .Status "firing" }}Aktiva larm{{ else }}Åtgärdade larm{{ end }} / {{ if eq .Status "firing" }}Firing{{ else }}Resolved{{ end }}: {{ len .Alerts }}
{{ range .Alerts }}
{{ template "casewatch.alert.text" . }}{{ end }}
Tysta larm / Silence: {{ .ExternalURL }}
{{ end }}

{{ define "casewatch.email.html" -}}
<html><body style="font-family: sans-serif">
<h2>{{ template "casewatch.email.subject" . }}</h2>
{{ range .Alerts }}
<div style="border-left: 4px solid {{ if eq .Status "resolved" }}#2e7d32{{ else if eq .Labels.severity "page" }}#c62828{{ else if eq .Labels.severity "ticket" }}#f9a825{{ else }}#1565c0{{ end }}; padding-left: 8px; margin-bottom: 12px">
<p><b>{{ .Labels.alertname }}</b> ({{ .Labels.severity }}{{ if .Labels.colour }}, {{ .Labels.colour }}{{ end }})</p>
<p style="white-space: pre-line">{{ .Annotations.description }}</p>
<p>Startade / Started: {{ .StartsAt.Format "2006-01-02 15:04:05 MST" }}
{{- if eq .Status "resolved" }}<br>Åtgärdat / Resolved: {{ .EndsAt.Format "2006-01-02 15:04:05 MST" }}{{ end }}</p>
<p><a href="{{ .Annotations.runbook_url }}">Åtgärdslista / Runbook</a></p>
</div>
{{ end }}
<p><a href="{{ .ExternalURL }}">Alertmanager</a> (tysta larm / silence)</p>
</body></html>
{{ end }}
'''
