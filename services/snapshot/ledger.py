"""The ledger (huvudbok): what the events do not carry (own staff, premises, income).

Two inputs, one result (a list of :class:`LedgerLine`, cost positive, income negative):

* **SIE 4** (``.se``/``.si``/``.sie``, or any file starting with ``#FLAGGA``): the standard
  export of Swedish accounting systems, encoded in IBM PC 8-bit (CP437) as the format
  specifies. Read: ``#RAR`` (financial years), ``#KONTO`` (account names), ``#DIM`` and
  ``#OBJEKT`` (cost centres), ``#VER`` with its ``#TRANS`` rows (dated transactions), and
  ``#PSALDO`` (period balances, used for a year that has no transactions in the file), and
  ``#RES`` (kept for reference). ``#RTRANS`` repeats the ``#TRANS`` that follows it and
  ``#BTRANS`` is a removed row, so both are skipped. Only result accounts (3000–8999) count;
  an account matching one of ``exclude_accounts`` (events already carry those costs) is left
  out. The line's ``activity`` is the cost centre (object of dimension ``dimension``), or the
  empty string when the row has none.
* **CSV** (``datum;verksamhet;belopp_sek[;text]``, UTF-8, decimal comma allowed).
"""
from __future__ import annotations

import csv
import io
import shlex
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

SIE_SUFFIXES = (".se", ".si", ".sie")
RESULT_ACCOUNTS = (3000, 8999)


@dataclass(frozen=True)
class LedgerLine:
    day: date
    activity: str
    amount_sek: float  # cost positive, income negative
    text: str = ""
    account: str = ""


class LedgerError(ValueError):
    pass


def _amount(text: str) -> float:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("−", "-")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "")
    return float(cleaned.replace(",", "."))


def read_csv_ledger(path: Path) -> list[LedgerLine]:
    """A ledger CSV (``;`` or ``,`` separated, UTF-8) with a header naming the columns
    ``datum`` (YYYY-MM-DD), ``verksamhet`` (an activity id or name), ``belopp_sek`` (cost
    positive, income negative; decimal comma allowed) and optionally ``text``."""
    raw = Path(path).read_text(encoding="utf-8-sig")
    header = raw.splitlines()[0] if raw else ""
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.DictReader(io.StringIO(raw), delimiter=delimiter)
    fields = {(f or "").strip().lower() for f in reader.fieldnames or ()}
    amount_key = "belopp_sek" if "belopp_sek" in fields else "belopp"
    missing = {"datum", "verksamhet", amount_key} - fields
    if missing:
        raise LedgerError(f"{path}: kolumner saknas: {', '.join(sorted(missing))}")
    lines = []
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not any(row.values()):
            continue
        try:
            lines.append(LedgerLine(date.fromisoformat(row["datum"]), row["verksamhet"], _amount(row[amount_key]),
                                    row.get("text", "")))
        except ValueError:
            raise LedgerError(f"{path}: rad {n}: ogiltigt datum eller belopp") from None
    return lines


@dataclass
class SieFile:
    """What a SIE 4 file says, as far as the board needs it."""

    company: str = ""
    years: dict[int, tuple[date, date]] = field(default_factory=dict)  # #RAR index -> (first, last day)
    accounts: dict[str, str] = field(default_factory=dict)
    objects: dict[tuple[str, str], str] = field(default_factory=dict)  # (dimension, code) -> name
    transactions: list[tuple[date, str, dict[str, str], float, str]] = field(default_factory=list)
    period_balances: list[tuple[int, date, str, dict[str, str], float]] = field(default_factory=list)
    results: dict[tuple[int, str], float] = field(default_factory=dict)


def _sie_date(text: str, where: str) -> date:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except (ValueError, IndexError):
        raise LedgerError(f"{where}: ogiltigt datum '{text}'") from None


def _tokens(line: str) -> list[str]:
    """Fields of one SIE line; an object list ``{1 "100"}`` stays one token (braces kept)."""
    out, i = [], 0
    while i < len(line):
        c = line[i]
        if c in " \t":
            i += 1
        elif c == "{":
            j = line.index("}", i) if "}" in line[i:] else len(line)
            out.append(line[i:j + 1])
            i = j + 1
        elif c == '"':
            j, buf = i + 1, []
            while j < len(line) and line[j] != '"':
                if line[j] == "\\" and j + 1 < len(line):
                    j += 1
                buf.append(line[j])
                j += 1
            out.append("".join(buf))
            i = j + 1
        else:
            j = i
            while j < len(line) and line[j] not in " \t":
                j += 1
            out.append(line[i:j])
            i = j
    return out


def _objects(token: str) -> dict[str, str]:
    inner = token.strip().lstrip("{").rstrip("}")
    parts = shlex.split(inner) if inner.strip() else []
    return {parts[k]: parts[k + 1] for k in range(0, len(parts) - 1, 2)}


def parse_sie(text: str, where: str = "SIE") -> SieFile:
    sie = SieFile()
    voucher_day: date | None = None
    in_voucher = False
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        at = f"{where}: rad {n}"
        if line == "{":
            in_voucher = True
            continue
        if line == "}":
            in_voucher, voucher_day = False, None
            continue
        if not line.startswith("#"):
            continue
        tok = _tokens(line)
        label, args = tok[0].upper(), tok[1:]
        try:
            if label == "#FNAMN" and args:
                sie.company = args[0]
            elif label == "#RAR":
                sie.years[int(args[0])] = (_sie_date(args[1], at), _sie_date(args[2], at))
            elif label == "#KONTO":
                sie.accounts[args[0]] = args[1] if len(args) > 1 else ""
            elif label == "#OBJEKT":
                sie.objects[(args[0], args[1])] = args[2] if len(args) > 2 else ""
            elif label == "#VER":
                voucher_day = _sie_date(args[2], at)
            elif label == "#TRANS":
                if not in_voucher or voucher_day is None:
                    raise LedgerError(f"{at}: #TRANS utanför en verifikation")
                day = _sie_date(args[3], at) if len(args) > 3 and args[3] else voucher_day
                text_ = args[4] if len(args) > 4 else ""
                sie.transactions.append((day, args[0], _objects(args[1]), _amount(args[2]), text_))
            elif label == "#PSALDO":
                period = args[1]
                first = date(int(period[:4]), int(period[4:6]), 1)
                sie.period_balances.append((int(args[0]), first, args[2], _objects(args[3]), _amount(args[4])))
            elif label == "#RES":
                sie.results[(int(args[0]), args[1])] = _amount(args[2])
        except (IndexError, ValueError) as exc:
            if isinstance(exc, LedgerError):
                raise
            raise LedgerError(f"{at}: ogiltig post {label}") from None
    return sie


def _is_result_account(account: str) -> bool:
    return account.isdigit() and RESULT_ACCOUNTS[0] <= int(account[:4].ljust(4, "0")) <= RESULT_ACCOUNTS[1]


def sie_lines(sie: SieFile, dimension: str = "1", exclude_accounts: tuple[str, ...] = ()) -> list[LedgerLine]:
    """Ledger lines of the result accounts; a year without transactions uses its period balances."""

    def wanted(account: str) -> bool:
        return _is_result_account(account) and not any(fnmatchcase(account, p) for p in exclude_accounts)

    out = [LedgerLine(day, objs.get(dimension, ""), amount, text, account)
           for day, account, objs, amount, text in sie.transactions if wanted(account)]
    covered = {index for index, (first, last) in sie.years.items()
               if any(first <= line.day <= last for line in out)}
    for index, first, account, objs, amount in sie.period_balances:
        if index in covered or not wanted(account) or (objs and dimension not in objs):
            continue
        # a balance without objects is the account's total: only used when no object lines exist
        if not objs and any(i == index and a == account and o for i, _f, a, o, _x in sie.period_balances):
            continue
        out.append(LedgerLine(first, objs.get(dimension, ""), amount, "periodsaldo", account))
    return out


def read_sie(path: Path, dimension: str = "1", exclude_accounts: tuple[str, ...] = ()) -> list[LedgerLine]:
    return sie_lines(parse_sie(Path(path).read_bytes().decode("cp437"), str(path)), dimension, exclude_accounts)


def is_sie(path: Path) -> bool:
    if Path(path).suffix.lower() in SIE_SUFFIXES:
        return True
    with open(path, "rb") as stream:
        return stream.read(7) == b"#FLAGGA"


def read_ledger(path: Path, dimension: str = "1", exclude_accounts: tuple[str, ...] = ()) -> list[LedgerLine]:
    """A SIE 4 file or a ledger CSV (see the module's docstring)."""
    path = Path(path)
    return read_sie(path, dimension, exclude_accounts) if is_sie(path) else read_csv_ledger(path)


def write_sie(path: Path, company: str, year: int, lines: list[LedgerLine], accounts: dict[str, str],
              objects: dict[str, str]) -> Path:
    """A minimal SIE 4 file of ``lines`` (one voucher per line), CP437 as the format says."""
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = ["#FLAGGA 0", "#FORMAT PC8", "#SIETYP 4", '#PROGRAM "casewatch" "1"', f"#FNAMN {q(company)}",
           f"#RAR 0 {year}0101 {year}1231", f"#RAR -1 {year - 1}0101 {year - 1}1231", '#DIM 1 "Kostnadsställe"']
    out += [f"#KONTO {a} {q(name)}" for a, name in sorted(accounts.items())]
    out += [f"#OBJEKT 1 {q(code)} {q(name)}" for code, name in sorted(objects.items())]
    for n, line in enumerate(sorted(lines, key=lambda x: (x.day, x.account, x.activity)), start=1):
        day = line.day.strftime("%Y%m%d")
        out += [f"#VER A {n} {day} {q(line.text)}", "{",
                f'   #TRANS {line.account} {{1 {q(line.activity)}}} {line.amount_sek:.2f} {day} {q(line.text)}',
                f'   #TRANS 1930 {{}} {-line.amount_sek:.2f} {day}', "}"]
    Path(path).write_bytes(("\r\n".join(out) + "\r\n").encode("cp437", errors="replace"))
    return Path(path)
