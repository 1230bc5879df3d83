"""Floors only point down: every import of every module, read with ``ast`` (function-level ones too).

* ``streams/`` (contract, core, the worker and its projection) imports neither ``services/`` nor
  ``dashboards/``;
* ``services/`` (the runtime adapters) never imports ``dashboards/`` (the build-time mixin and its
  generators); ``dashboards/`` never imports ``services/``;
* only the command line (``services/commands/``) may import everything.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("streams", "services", "dashboards")
TOP_FLOOR = ("services.commands",)

# importer prefix -> forbidden imported prefixes
RULES = {
    "streams": ("services", "dashboards"),
    "services": ("dashboards",),
    "dashboards": ("services",),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute module name ``path`` imports, with its line."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            # `from . import x` / `from pkg import submodule`
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def upward_imports() -> list[str]:
    problems = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            importer = _module_name(path)
            if any(_within(importer, top) for top in TOP_FLOOR):
                continue
            forbidden = RULES[package]
            for line, name in _imports(path):
                if any(_within(name, f) for f in forbidden):
                    problems.append(f"{path.relative_to(ROOT)}:{line}: {importer} imports {name}")
    return problems


def test_no_module_imports_a_floor_above_it():
    assert upward_imports() == []


def test_the_rule_catches_an_upward_import(tmp_path, monkeypatch):
    """The checker itself can fail: a streams module importing services is reported."""
    fake_root = tmp_path
    for package in PACKAGES:
        (fake_root / package).mkdir()
        (fake_root / package / "__init__.py").write_text("")
    (fake_root / "streams" / "bad.py").write_text("def f():\n    from services.settings import Settings\n")
    (fake_root / "services" / "worse.py").write_text("from dashboards import rules\n")
    (fake_root / "services" / "sub").mkdir()
    (fake_root / "services" / "sub" / "rel.py").write_text("from ...dashboards.config import X\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", fake_root)
    found = upward_imports()
    assert any("streams/bad.py:2" in p and "services.settings" in p for p in found)
    assert any("services/worse.py:1" in p for p in found)
    assert any("services/sub/rel.py:1" in p and "dashboards.config" in p for p in found)


@pytest.mark.parametrize("runtime", ["streams", "services.exporter", "services.ingest", "services.ingest_api",
                                     "services.snapshot", "services.csv_import"])
def test_runtime_never_imports_a_generator(runtime):
    """The worker, exporter, ingest and snapshot never import the build-time mixin/generators."""
    folder = ROOT.joinpath(*runtime.split("."))
    offenders = [f"{path.relative_to(ROOT)}:{line}: {name}"
                 for path in sorted(folder.rglob("*.py"))
                 for line, name in _imports(path) if _within(name, "dashboards")]
    assert offenders == []
