"""CONTRACT.md §7: the registry file, its checks, display names and source bindings."""
import pytest

from streams.settings import load_settings
from streams.contract.unit_registry import RegistryError, load_registry, parse_registry

FILE = """
units:
  - municipality: "0138"
    unit: bou-1
    name: Barn och unga, mottagning
    sources: [treserva-bou]
  - municipality: "0138"
    unit: eb-1
    name: Ekonomiskt bistånd
"""


def test_a_registry_file_gives_pairs_names_and_who_may_write(tmp_path):
    path = tmp_path / "units.yaml"
    path.write_text(FILE, encoding="utf-8")
    registry = load_registry(path)
    assert registry.pairs == {("0138", "bou-1"), ("0138", "eb-1")}
    assert registry.display_name("0138", "eb-1") == "Ekonomiskt bistånd"
    assert registry.display_name("0138", "okand") == "okand"
    assert registry.may_write("treserva-bou", "0138", "bou-1")
    assert not registry.may_write("lifecare", "0138", "bou-1")
    assert registry.may_write("lifecare", "0138", "eb-1")
    assert not registry.may_write("treserva-bou", "0180", "bou-1")
    assert registry.municipalities() == {"0138"}


@pytest.mark.parametrize("document, says", [
    ({"units": [{"municipality": 138, "unit": "a", "name": "A"}]}, "units.0.municipality"),
    ({"units": [{"municipality": "0138", "unit": "Bou 1", "name": "A"}]}, "units.0.unit"),
    ({"units": [{"municipality": "0138", "unit": "a"}]}, "units.0.name"),
    ({"units": [{"municipality": "0138", "unit": "a", "name": "A", "colour": "red"}]}, "units.0.colour"),
    ({"units": []}, "units"),
    ({"units": [{"municipality": "0138", "unit": "a", "name": "A"}] * 2}, "listed twice"),
])
def test_a_wrong_registry_names_the_entry_and_key(document, says):
    with pytest.raises(RegistryError, match=says.replace(".", r"\.")):
        parse_registry(document)


def test_settings_check_the_registry_at_start(tmp_path, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("units: [{municipality: '0138'}]\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="unit_registry_file"):
        load_settings(unit_registry_file=bad)
    good = tmp_path / "good.yaml"
    good.write_text(FILE, encoding="utf-8")
    assert len(load_settings(unit_registry_file=good).unit_registry()) == 2
    assert load_settings().unit_registry() is None


def test_the_example_registry_loads():
    from pathlib import Path

    registry = load_registry(Path(__file__).resolve().parents[3] / "examples" / "registry" / "units.yaml")
    assert registry.display_name("0138", "bou-1") == "Barn och unga, mottagning"
