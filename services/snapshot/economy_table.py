"""The economy table as the board sees it: net cost per activity in thousands of kronor,
costs negative, the columns named in Swedish month words as the board's own follow-up."""
from __future__ import annotations

from services.swedish import MONTHS_SHORT, month_name


def _tkr(sek: float | None):
    return "–" if sek is None else round(sek / 1000)


def economy_table(content: dict) -> dict:
    econ = content["ekonomi"]
    month, year = int(content["manad"][5:]), int(content["manad"][:4])
    period = year_to_date(year, month)
    columns = ["Nettokostnad per verksamhet, tkr", f"Utfall {period}", f"Budget {period}", f"Avvikelse {period}",
               f"Årsprognos {year}", f"Årsbudget {year}", "Avvikelse mot årsbudget", f"Avvikelse mot {year - 1}",
               f"Utfall {year - 1}"]
    rows = []
    for row in [*econ["verksamheter"], econ["resultat"]]:
        complete_last = row["foregaende_ar_fullstandigt"] and row["foregaende_ar"] is not None
        rows.append([
            "Resultat" if row["id"] == "resultat" else row["namn"],
            _tkr(None if row["utfall_ack"] is None else -row["utfall_ack"]), _tkr(-row["budget_ack"]),
            _tkr(row["avvikelse_ack"]), _tkr(-row["arsprognos"]), _tkr(-row["arsbudget"]), _tkr(row["avvikelse_ar"]),
            _tkr(row["avvikelse_mot_foregaende_ar"]) if complete_last else "–",
            _tkr(-row["foregaende_ar"]) if complete_last else "–",
        ])
    return {"id": "ekonomi", "titel": economy_title(econ), "kolumner": columns, "rader": rows, "summarad": True}


def year_to_date(year: int, month: int) -> str:
    """The months from January, in words: "januari 2024", "jan–mar 2024" (the short forms the
    charts and the colour grid use too)."""
    if month == 1:
        return f"{month_name(1)} {year}"
    return f"{MONTHS_SHORT[0]}–{MONTHS_SHORT[month - 1]} {year}"


def economy_title(econ: dict) -> str:
    if econ["huvudbok"]:
        return "Nettokostnad per verksamhet, tkr (kostnader minus intäkter)"
    return ("Kostnader per verksamhet, tkr: placeringar, inhyrda konsulter och utbetalt ekonomiskt bistånd "
            "(personal, lokaler och intäkter ingår inte)")


def econ_rows(content: dict) -> list[list]:
    return economy_table(content)["rader"]
