"""The audit trail takes counts and short identifiers only: never free text or a personal id."""
from __future__ import annotations

import logging

import orjson
import pytest

from services.audit import AuditLog, audit_to_file, request_id_from


def test_a_record_is_one_json_line_with_who_when_where(caplog):
    audit = AuditLog(clock=lambda: 1_795_909_631.204)
    with caplog.at_level(logging.INFO, logger="casewatch.audit"):
        line = audit.record(actor="board-editor:anna", action="board.threshold.change", outcome="ok",
                            client="10.1.2.3", request_id="r1", target="bou-1")
    assert orjson.loads(caplog.records[-1].getMessage()) == line
    assert line == {"at": "2026-11-28T23:47:11.204Z", "actor": "board-editor:anna", "action": "board.threshold.change",
                    "outcome": "ok", "client": "10.1.2.3", "request_id": "r1", "target": "bou-1"}


@pytest.mark.parametrize("details", [
    {"note": "barnet bor hos mormor"},  # free text
    {"target": "19121212-1212"},  # a personal identity number
    {"target": "191212121212"},
    {"payload": {"case_id": "c1"}},
    {"at": "yesterday"},  # a reserved name
])
def test_free_text_payloads_and_personal_ids_are_refused(details):
    with pytest.raises((ValueError, TypeError)):
        AuditLog().record(**{"actor": "a", "action": "b", "outcome": "c", "client": None, "request_id": "r", **details})


def test_request_ids_are_kept_only_when_plain():
    assert request_id_from("abc-123_x.y") == "abc-123_x.y"
    for bad in (None, "", "a b", "x" * 65, "19121212-1212\n"):
        assert len(request_id_from(bad)) == 32


def test_audit_to_file_writes_only_there(tmp_path):
    path = tmp_path / "audit.log"
    handler = audit_to_file(path)
    try:
        AuditLog().record(actor="a", action="b", outcome="c", client="::1", request_id="r", accepted=3)
    finally:
        logging.getLogger("casewatch.audit").removeHandler(handler)
        logging.getLogger("casewatch.audit").propagate = True
        handler.close()
    assert orjson.loads(path.read_text().strip())["accepted"] == 3
