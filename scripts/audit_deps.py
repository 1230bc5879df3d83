#!/usr/bin/env python3
"""Fail when requirements.lock pins a version with a known vulnerability.

Two sources, the first one this machine can reach:

1. ``pip-audit`` against PyPI's per-version vulnerability data (OSV), when installed and that
   API answers (``--online``; CI machines of this project cannot reach it);
2. always: ``security/known-fixes.toml``, the fixes the project tracks by hand (see its header
   and docs/SECURITY.md for how it is kept current).

Also checks that every lock line carries a hash (``pip install --require-hashes`` relies on it).
Exit 0 when clean, 1 on a finding, 2 when a file is missing or malformed.

    python scripts/audit_deps.py [--lock requirements.lock] [--fixes security/known-fixes.toml] [--online]
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")
PROBE_URL = "https://pypi.org/pypi/pip/24.0/json"


def read_lock(path: Path) -> tuple[dict[str, str], list[str]]:
    """``{canonical name: version}`` and the names whose pin has no ``--hash``."""
    pins: dict[str, str] = {}
    unhashed: list[str] = []
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = match.group(2)
            if "--hash=" not in line:
                unhashed.append(current)
        elif line.startswith("--hash=") and current in unhashed:
            unhashed.remove(current)
    return pins, unhashed


def read_fixes(path: Path) -> list[dict]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    fixes = data.get("fix", [])
    for fix in fixes:
        if not {"package", "fixed", "advisories"} <= set(fix):
            raise ValueError(f"{path}: every [[fix]] needs package, fixed and advisories: {fix}")
        Version(fix["fixed"])
    return fixes


def findings(pins: dict[str, str], fixes: list[dict]) -> list[str]:
    out = []
    for fix in fixes:
        name = canonicalize_name(fix["package"])
        pinned = pins.get(name)
        if pinned is None:
            continue
        try:
            vulnerable = Version(pinned) < Version(fix["fixed"])
        except InvalidVersion:
            vulnerable = True  # an unreadable pin is not a safe pin
        if vulnerable:
            out.append(f"{name}=={pinned}: {', '.join(fix['advisories'])} fixed in {fix['fixed']}"
                       f" ({fix.get('summary', 'see the advisory')})")
    return out


def online_available(timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(PROBE_URL, timeout=timeout) as response:  # noqa: S310 - fixed https URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def run_pip_audit(lock: Path) -> int:
    tool = shutil.which("pip-audit")
    if tool is None:
        print("audit: pip-audit is not installed; skipping the online source", file=sys.stderr)
        return 0
    return subprocess.call([tool, "--requirement", str(lock), "--require-hashes", "--disable-pip",
                            "--progress-spinner", "off"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--fixes", type=Path, default=ROOT / "security" / "known-fixes.toml")
    parser.add_argument("--online", action="store_true", help="also run pip-audit when PyPI's vulnerability API answers")
    args = parser.parse_args(argv)
    try:
        pins, unhashed = read_lock(args.lock)
        fixes = read_fixes(args.fixes)
    except (OSError, ValueError, tomllib.TOMLDecodeError, InvalidVersion) as exc:
        print(f"audit: {exc}", file=sys.stderr)
        return 2
    problems = findings(pins, fixes)
    problems += [f"{name}: pinned without a hash" for name in unhashed]
    for problem in problems:
        print(f"audit: VULNERABLE {problem}" if "hash" not in problem else f"audit: {problem}", file=sys.stderr)
    status = 1 if problems else 0
    if args.online:
        if online_available():
            status = max(status, 1 if run_pip_audit(args.lock) else 0)
        else:
            print("audit: PyPI's per-version vulnerability API is not reachable from here; only "
                  f"{args.fixes.name} was checked (run `pip-audit -r requirements.lock` where it is)", file=sys.stderr)
    if not problems:
        print(f"audit: {len(pins)} locked packages, {len(fixes)} tracked fixes: none missing")
    return status


if __name__ == "__main__":
    sys.exit(main())
