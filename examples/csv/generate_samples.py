"""Writes the two sample exports in this folder from a fixed seed.

The personal identity numbers are SYNTHETIC: random birth dates and serial numbers with a
correct Luhn check digit, so that they pass the contract's personal-id test and prove the
adapter pseudonymises them. They were not taken from, or checked against, any register.
Run: python examples/csv/generate_samples.py
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent


def luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 - i % 2)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def fake_personnummer(rng: random.Random, born_from: int, born_to: int) -> str:
    born = date(born_from, 1, 1) + timedelta(days=rng.randrange((date(born_to, 12, 31) - date(born_from, 1, 1)).days))
    serial = f"{rng.randrange(1000):03d}"
    nine = born.strftime("%y%m%d") + serial
    return born.strftime("%Y%m%d") + "-" + serial + luhn_digit(nine)


def written(pnr: str, rng: random.Random) -> str:
    """The ways exports write one number: 12 digits with or without '-', or 10 digits."""
    style = rng.random()
    if style < 0.6:
        return pnr
    if style < 0.8:
        return pnr.replace("-", "")
    return pnr[2:]


def orosanmalningar(rng: random.Random) -> None:
    reporters = ["Skola", "Polis", "Hälso- och sjukvård", "Socialtjänst", "Anonym", "Övrig"]
    units = ["Mottagningen barn och unga", "BoU Öst", "BoU Väst"]
    ages = ["0-12 år", "13-17 år", "18-20 år"]
    children = [fake_personnummer(rng, 2006, 2022) for _ in range(40)]
    start = datetime(2024, 1, 8, 8, 0)
    rows = []
    for n in range(70):
        at = start + timedelta(days=rng.randrange(110), minutes=rng.randrange(9 * 60))
        child = rng.choice(children)
        age = at.year - int(child[:4])
        band = "" if rng.random() < 0.25 else ages[0] if age <= 12 else ages[1] if age <= 17 else ages[2]
        rows.append([at.strftime("%Y-%m-%d %H:%M"), written(child, rng), rng.choice(reporters), rng.choice(units),
                     band, f"HL{rng.randrange(1, 9)}"])
    rows.sort(key=lambda r: r[0])
    # three rows the mapping cannot use, as real exports have them (kept, counted, never shown)
    bad_luhn = children[0][:-1] + str((int(children[0][-1]) + 1) % 10)
    rows.insert(20, ["2024-02-14 10:20", bad_luhn, "Skola", units[0], "", "HL3"])
    rows.insert(35, ["", children[1], "Polis", units[1], "13-17 år", "HL2"])
    rows.insert(50, ["2024-03-20 13:05", children[2], "Grannar", units[2], "", "HL1"])
    header = ["Inkom", "Personnummer", "Anmälare", "Enhet", "Åldersgrupp", "Handläggare"]
    text = "\r\n".join(";".join(r) for r in [header, *rows]) + "\r\n"
    (HERE / "orosanmalningar.csv").write_bytes(text.encode("cp1252"))


def placeringar(rng: random.Random) -> None:
    forms = [("HVB", 1100, 8400), ("SiS", 4900, 7500), ("Familjehem", 600, 1100),
             ("Konsulentstött familjehem", 1800, 3200), ("Jourhem", 900, 1500), ("Stödboende", 1200, 2500)]
    rows = []
    for n in range(30):
        form, low, high = rng.choice(forms)
        start = date(2023, 9, 1) + timedelta(days=rng.randrange(200))
        end = start + timedelta(days=rng.randrange(20, 240)) if rng.random() < 0.45 else None
        cost = rng.randrange(low, high) + rng.choice([0, 0.5])
        cost_text = f"{cost:,.2f}".replace(",", " ").replace(".", ",")
        # Lagrum (contract v2 legal_basis), drawn without the generator so the other columns stay as
        # they were: SiS youth homes are LVU; some others too; some rows leave it empty (SoL).
        basis = "LVU" if form == "SiS" or n % 4 == 0 else ("" if n % 7 == 3 else "SoL")
        rows.append([written(fake_personnummer(rng, 2005, 2020), rng), f"PL-{2023 + (n > 15)}-{n + 1:04d}", form,
                     start.isoformat(), end.isoformat() if end else "", cost_text, "Placeringsenheten", basis])
    header = ["Personnummer", "Placeringsnr", "Placeringsform", "Startdatum", "Slutdatum", "Dygnskostnad (kr)", "Enhet",
              "Lagrum"]
    text = "\n".join(";".join(r) for r in [header, *rows]) + "\n"
    (HERE / "placeringar.csv").write_bytes(text.encode("utf-8-sig"))


if __name__ == "__main__":
    rng = random.Random(20240401)
    orosanmalningar(rng)
    placeringar(rng)
