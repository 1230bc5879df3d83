"""The dependency check of CI: a known-vulnerable pinned version fails it, the real lock passes."""
from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
audit_deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_deps)

HASH = "--hash=sha256:" + "0" * 64


def test_a_vulnerable_pin_fails_and_names_the_advisory(tmp_path, capsys):
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"starlette==0.49.0 \\\n    {HASH}\nh11==0.16.0 \\\n    {HASH}\n")
    assert audit_deps.main(["--lock", str(lock)]) == 1
    err = capsys.readouterr().err
    assert "starlette==0.49.0: CVE-2025-62727 fixed in 0.49.1" in err
    assert "h11" not in err


def test_a_pin_without_hash_fails(tmp_path, capsys):
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"starlette==1.10.0\nh11==0.16.0 \\\n    {HASH}\n")
    assert audit_deps.main(["--lock", str(lock)]) == 1
    assert "starlette: pinned without a hash" in capsys.readouterr().err


def test_the_committed_lock_is_hashed_and_has_every_tracked_fix():
    pins, unhashed = audit_deps.read_lock(ROOT / "requirements.lock")
    assert unhashed == []
    assert {"starlette", "weasyprint", "kafka-python", "uvicorn", "faust-streaming"} <= set(pins)
    assert audit_deps.findings(pins, audit_deps.read_fixes(ROOT / "security" / "known-fixes.toml")) == []


def test_pyproject_floors_are_above_the_tracked_fixes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    floors = {r.name.lower(): r.specifier for r in requirements}
    fixes = audit_deps.read_fixes(ROOT / "security" / "known-fixes.toml")
    for fix in fixes:
        specifier = floors.get(fix["package"])
        if specifier is None:
            continue  # a transitive dependency: the lock pins it (checked above)
        assert not specifier.contains(str(_just_below(fix["fixed"])), prereleases=True), (fix["package"], str(specifier))


def _just_below(version: str) -> Version:
    """A version just under ``version`` (1.2.3 -> 1.2.2.999), to ask whether a range allows it."""
    parts = list(Version(version).release)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] > 0:
            parts[i] -= 1
            return Version(".".join(map(str, parts[: i + 1] + [999])))
    return Version("0")
