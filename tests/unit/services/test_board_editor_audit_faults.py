"""The month's audit trail after a fault: a line cut short (a crash or a full disk mid-write) or
edited by hand neither swallows the next entry nor makes the trail unreadable; it shows as a
damaged line."""
from __future__ import annotations

from starlette.testclient import TestClient

from services.board_editor.audit import UNREADABLE, AuditEntry, AuditLog
from tests.unit.services.test_board_editor import _app


def _entry(n: int, actor: str = "anna") -> AuditEntry:
    return AuditEntry(at=f"2024-04-02T10:0{n}:00+02:00", actor=actor, action="draft.save", outcome="saved",
                      client="10.1.2.3", request_id=f"r{n}", month="2024-03", version=n)


def test_a_torn_line_neither_swallows_the_next_entry_nor_hides_the_trail(tmp_path):
    log = AuditLog(tmp_path / "data")
    log.append(_entry(1))
    log.append(_entry(2))
    path = log.path("2024-03")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 25])  # the second write was cut short
    log.append(_entry(3, actor="bertil"))
    entries = log.entries("2024-03")
    assert [e.action for e in entries] == ["draft.save", UNREADABLE, "draft.save"]
    assert entries[0] == _entry(1) and entries[2] == _entry(3, actor="bertil")

    with path.open("ab") as stream:  # edited by hand: not an entry any more
        stream.write(b'{"at": "yesterday", "actor": "x", "action": "draft.save", "outcome": "saved", "client": "", '
                     b'"request_id": "r", "month": "2024-03"}\n[1, 2]\n')
    assert [e.action for e in log.entries("2024-03")][3:] == [UNREADABLE, UNREADABLE]


def test_the_log_page_shows_the_damage_and_the_entries_after_it(tmp_path):
    app = _app(tmp_path)
    log = AuditLog(tmp_path / "data")
    log.append(_entry(1))
    path = log.path("2024-03")
    path.write_bytes(path.read_bytes()[:-10])
    log.append(_entry(2, actor="bertil"))
    client = TestClient(app, base_url="https://testserver")
    token = client.get("/logga-in").text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/logga-in", data={"csrf_token": token, "anvandare": "rut", "losenord": "rut-lösen"})
    page = client.get("/manad/2024-03/logg")
    assert page.status_code == 200
    assert "kan inte läsas" in page.text and "bertil" in page.text
