"""`casewatch demo`: the embedded default a new user runs first, with no servers."""
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.prom_parse import figures_from_metrics, parse_metrics

pytestmark = pytest.mark.slow  # every test here runs the CLI in a subprocess


def test_demo_once_prints_a_swedish_summary_per_unit():
    out = subprocess.run([sys.executable, "-m", "services.commands", "demo", "--once", "--months", "3"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert re.search(r"Händelser: [\d\u00a0]+ godkända", out.stdout)
    assert "Enhet bou-1, Tyresö kommun" in out.stdout
    assert "Väntar på förhandsbedömning" in out.stdout


def test_demo_serves_the_kpis_as_prometheus_gauges_on_loopback():
    proc = subprocess.Popen([sys.executable, "-m", "services.commands", "demo", "--port", "0", "--months", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+/metrics", line)
            url = match.group(0) if match else None
            assert proc.poll() is None or url, "demo exited early"
        assert url, "the demo never printed its /metrics address"
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        figures = figures_from_metrics(parse_metrics(body))
        units = figures["0138"]
        assert {"bou-1", "bou-2"} <= set(units)
        assert units["bou-1"]["investigations_open"] > 0
        assert 'unit="bou-1"' in body and "case_id" not in body
    finally:
        proc.terminate()
        proc.wait(timeout=10)
