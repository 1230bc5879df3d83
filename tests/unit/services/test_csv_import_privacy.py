"""The CSV importer as a faulty source's export reaches it: a file named after the person it is
about never puts that number in the summary, the summary file, the logs or an error."""
from __future__ import annotations

import logging
import shutil

import orjson
import pytest

from services.csv_import.importer import ImportError_, import_csv
from services.csv_import.mapping import load_mapping
from services.csv_import.pseudonymise import Pseudonymiser
from streams.contract.personal_id import contains_personal_id
from tests.unit.services.test_csv_mapping import EXAMPLES, KEY, RecordingSink

NAME = "utdrag 19811218-9876.csv"  # a fake, valid personnummer in the export's file name


def test_a_personal_id_in_the_file_name_never_reaches_summary_logs_or_errors(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "in" / NAME
    path.parent.mkdir()
    shutil.copy(EXAMPLES / "orosanmalningar.csv", path)
    mapping = load_mapping(EXAMPLES / "orosanmalningar.yaml")
    sink = RecordingSink()
    summary = import_csv(path, mapping, Pseudonymiser(KEY), sink, state_dir=tmp_path / "state", progress=False)
    again = import_csv(path, mapping, Pseudonymiser(KEY), sink, state_dir=tmp_path / "state", progress=False)
    assert summary["complete"] and summary["events_sent"] == 70 and again["already_complete"]
    assert summary["file"] == "utdrag [personnummer].csv"
    with pytest.raises(ImportError_) as missing:
        import_csv(tmp_path / NAME, mapping, Pseudonymiser(KEY), sink, state_dir=tmp_path / "state", progress=False)
    texts = [orjson.dumps(s).decode() for s in (summary, again)] + [str(missing.value)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [p.read_text(encoding="utf-8") for p in (tmp_path / "state").rglob("*.json")]
    assert any("utdrag [personnummer].csv" in t for t in texts[2:])
    for text in texts:
        assert not contains_personal_id(text), text
