"""Benchmark: time from a legal-clock breach to the page at the webhook, with the SHIPPED
Prometheus and Alertmanager intervals (scrape 15 s, evaluation 15 s, for 15 s, group_wait).

It runs the end-to-end test (real Kafka, worker, Redis, exporter, Prometheus, Alertmanager) with
the shipped intervals and prints the measured delay. Run: python bench/alert_delay.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    delays = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
             "tests/integration/test_end_to_end.py", "-k", "screening"],
            cwd=REPO, env={**os.environ, "CASEWATCH_E2E_SHIPPED_INTERVALS": "1"},
            capture_output=True, text=True, check=False)
        match = re.search(r"breach → webhook: ([\d.]+) s", out.stdout)
        if out.returncode != 0 or not match:
            sys.exit(f"end-to-end run failed:\n{out.stdout[-3000:]}\n{out.stderr[-2000:]}")
        delays.append(float(match.group(1)))
        print(f"breach → webhook: {delays[-1]:.1f} s")
    print(f"shipped intervals: min {min(delays):.1f} s, max {max(delays):.1f} s over {len(delays)} run(s); target 60 s")


if __name__ == "__main__":
    main()
