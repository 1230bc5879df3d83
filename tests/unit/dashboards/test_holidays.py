"""Swedish public holidays in Alertmanager's quiet hours: tickets and infos wait for an open
office, also at Easter and Midsummer; pages never wait.

The time intervals are evaluated by Alertmanager's own code (``dashboards/tests/amtime``, built
against Alertmanager 0.25.0, Debian's version): amtool's routing test cannot evaluate time.
Needs Go (Debian ``golang-go``; ``casewatch stack install`` installs it) and the Go module proxy
on the first run; a missing ``go`` fails the test, it never skips.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml

from dashboards.holidays import HOLIDAY_YEARS, holiday_time_intervals, swedish_holidays

ROOT = Path(__file__).resolve().parents[3]
GEN = ROOT / "dashboards" / "generated"
AMTIME = ROOT / "dashboards" / "tests" / "amtime"

# 10.00 local time on a weekday that is a Swedish holiday (or an eve treated as one) ...
HOLIDAYS = {
    "Långfredagen": "2027-03-26T10:00:00+01:00",
    "Annandag påsk": "2026-04-06T10:00:00+02:00",
    "Kristi himmelsfärdsdag": "2026-05-14T10:00:00+02:00",
    "Nationaldagen": "2029-06-06T10:00:00+02:00",
    "Midsommarafton": "2026-06-19T10:00:00+02:00",
    "Trettondedag jul": "2027-01-06T10:00:00+01:00",
    "Julafton": "2026-12-24T10:00:00+01:00",
    "Nyårsafton": "2027-12-31T10:00:00+01:00",
}
# ... and ordinary working days next to them, which must not be muted.
WORKDAYS = {
    "Skärtorsdagen": "2027-03-25T10:00:00+01:00",
    "Dagen efter Kristi himmelsfärdsdag": "2026-05-15T10:00:00+02:00",
    "Dagen före midsommarafton": "2026-06-18T10:00:00+02:00",
    "Dagen före julafton": "2026-12-23T10:00:00+01:00",
    "Annandag pingst (ingen helgdag sedan 2005)": "2026-05-25T10:00:00+02:00",
}


def test_the_calendar_knows_the_moving_holidays():
    days = swedish_holidays([2026, 2027])
    assert days[date(2027, 3, 26)] == "Långfredagen"
    assert days[date(2026, 6, 19)] == "Midsommarafton"
    assert days[date(2026, 10, 31)] == "Alla helgons dag"
    assert days[date(2026, 5, 14)] == "Kristi himmelsfärdsdag"
    assert date(2026, 5, 25) not in days and date(2027, 3, 25) not in days


def test_the_calendar_covers_the_coming_years():
    assert max(HOLIDAY_YEARS) >= date.today().year + 2, "extend HOLIDAY_YEARS in dashboards/holidays.py"
    assert min(HOLIDAY_YEARS) <= date.today().year


def test_generated_quiet_hours_hold_every_holiday_of_every_year():
    cfg = yaml.safe_load((GEN / "alertmanager.yml").read_text(encoding="utf-8"))
    intervals = {t["name"]: t["time_intervals"] for t in cfg["time_intervals"]}
    dated = [i for i in intervals["outside-office-hours"] if "years" in i]
    assert dated == holiday_time_intervals(HOLIDAY_YEARS, "Europe/Stockholm")
    covered = {(int(i["years"][0]), i["months"][0], int(d)) for i in dated for d in i["days_of_month"]}
    assert len(covered) == len(swedish_holidays(HOLIDAY_YEARS))


@pytest.fixture(scope="session")
def amtime(tmp_path_factory) -> Path:
    go = shutil.which("go")
    assert go, "go is not on PATH (Debian golang-go; `casewatch stack install` installs it)"
    binary = tmp_path_factory.mktemp("amtime") / "amtime"
    proc = subprocess.run([go, "build", "-mod=readonly", "-o", str(binary), "."], cwd=AMTIME,
                          capture_output=True, text=True, timeout=600, env={**os.environ, "CGO_ENABLED": "0"})
    assert proc.returncode == 0, proc.stderr
    return binary


def muted(amtime: Path, instants: dict[str, str]) -> dict[str, bool]:
    proc = subprocess.run([str(amtime), str(GEN / "alertmanager.yml"), "outside-office-hours", *instants.values()],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    answers = dict(line.split() for line in proc.stdout.splitlines())
    return {name: answers[instant] == "true" for name, instant in instants.items()}


def test_alertmanager_mutes_tickets_on_swedish_holidays_and_not_on_workdays(amtime):
    assert muted(amtime, HOLIDAYS) == dict.fromkeys(HOLIDAYS, True)
    assert muted(amtime, WORKDAYS) == dict.fromkeys(WORKDAYS, False)
    # the holiday is a whole Stockholm day: 00.30 and 23.30 local, not the UTC day
    edges = {"julafton 00.30": "2026-12-24T00:30:00+01:00", "julafton 23.30": "2026-12-24T23:30:00+01:00",
             "dagen före 16.30": "2026-12-23T16:30:00+01:00"}
    assert muted(amtime, edges) == {"julafton 00.30": True, "julafton 23.30": True, "dagen före 16.30": False}


def amtool_route(*labels: str) -> str:
    amtool = shutil.which("amtool")
    assert amtool, "amtool is not on PATH (Debian prometheus-alertmanager)"
    proc = subprocess.run([amtool, "config", "routes", "test", f"--config.file={GEN / 'alertmanager.yml'}",
                           "--verify.receivers", "", *labels], capture_output=True, text=True, timeout=60)
    return proc.stdout.strip()


@pytest.mark.parametrize("labels, receiver, muted_on_holidays", [
    (["alertname=CasewatchScreeningOverdue", "severity=page", "municipality=0138", "unit=bou-1"],
     "casewatch-page", False),
    (["alertname=CasewatchInvestigationOverdue", "severity=ticket", "municipality=0138", "unit=bou-1"],
     "casewatch-ticket", True),
    (["alertname=CasewatchScreeningDueSoon", "severity=info", "municipality=0138", "unit=bou-1"],
     "casewatch-info", True),
    (["alertname=CasewatchExporterDown", "severity=page", "pipeline=true", "stale_data=true"],
     "casewatch-pipeline", False),
    (["alertname=CasewatchEventsRejected", "severity=ticket", "pipeline=true", "reason=bad_type"],
     "casewatch-pipeline", True),
])
def test_routing_on_midsummer_eve(labels, receiver, muted_on_holidays, amtime):
    """On midsommarafton at 10.00 a page reaches socialjouren at once; a ticket waits for Monday."""
    assert amtool_route(*labels) == receiver
    cfg = yaml.safe_load((GEN / "alertmanager.yml").read_text(encoding="utf-8"))

    def matching(route, labels_):
        """The route amtool picked, with Alertmanager's first-match descent (no 'continue' here)."""
        for child in route.get("routes", []):
            wanted = dict(m.replace('"', "").replace("=~", "=").split("=", 1) for m in child.get("matchers", []))
            given = dict(label.split("=", 1) for label in labels_)
            if all(k in given and re.fullmatch(v, given[k]) for k, v in wanted.items()):
                return matching(child, labels_)
        return route

    route = matching(cfg["route"], labels)
    assert route["receiver"] == receiver
    mutes = route.get("mute_time_intervals", [])
    midsummer_eve = muted(amtime, {"midsommarafton": HOLIDAYS["Midsommarafton"]})["midsommarafton"]
    assert midsummer_eve
    assert (bool(mutes) and "outside-office-hours" in mutes) == muted_on_holidays
