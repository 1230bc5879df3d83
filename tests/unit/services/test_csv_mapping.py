"""CSV mapping, pseudonymisation and the importer's bookkeeping (no Kafka: a recording sink)."""
from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import orjson
import pytest

from services.csv_import.importer import import_csv
from services.csv_import.mapping import Mapping, RowError, load_mapping, parse_number, slugify
from services.csv_import.rows import RowMapper
from services.csv_import.pseudonymise import (PseudonymKeyError, Pseudonymiser, key_from_settings,
                                              normalise_personal_id)
from streams.settings import Settings
from streams.contract.personal_id import contains_personal_id
from streams.contract.validate import Event, validate_object

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "csv"
KEY = b"unit-test-key-0123456789abcdef"


class RecordingSink:
    def __init__(self, fail_after: int | None = None) -> None:
        self.accepted: list[tuple[bytes, bytes]] = []
        self.rejected: list[tuple] = []
        self.fail_after = fail_after

    def submit(self, accepted, rejected, source):
        if self.fail_after is not None and len(self.accepted) + len(accepted) > self.fail_after:
            raise RuntimeError("simulated Kafka outage")
        self.accepted.extend(accepted)
        self.rejected.extend(rejected)

    def ready(self, timeout_s=2.0):
        return True


def _mapping(**over) -> Mapping:
    raw = {"name": "t", "envelope": {"municipality": "0138", "unit": "bou-1",
                                     "case_id": {"column": "pnr", "pseudonymise": "personal_id"}},
           "events": [{"type": "report.received", "occurred_at": {"column": "at", "format": "%Y-%m-%d %H:%M"},
                       "data": {"reporter": {"column": "who", "map": {"Skola": "skola"}}}}]}
    raw.update(over)
    return Mapping.model_validate(raw)


def test_personal_id_forms_normalise_to_one_pseudonym():
    p = Pseudonymiser(KEY)
    forms = ["20150412-1326", "201504121326", "150412-1326", "1504121326", " 20150412 - 1326 "]
    assert {normalise_personal_id(f.replace(" ", "")) for f in forms} == {"201504121326"}
    pseudonyms = {p.personal_id(f) for f in forms}
    assert len(pseudonyms) == 1
    (pseudo,) = pseudonyms
    assert pseudo.startswith("p-") and len(pseudo) == 26 and not contains_personal_id(pseudo)
    assert normalise_personal_id("120412+1326") is None or normalise_personal_id("120412+1326").startswith("18")
    with pytest.raises(ValueError) as info:
        p.personal_id("20150412-1327")  # Luhn fails
    assert "1327" not in str(info.value)
    assert Pseudonymiser(b"another-key-0123456789abcdef").personal_id(forms[0]) != pseudo


def test_pseudonyms_and_event_ids_never_look_like_personal_ids():
    p = Pseudonymiser(KEY)
    for i in range(20_000):
        assert not contains_personal_id(p.case_number(f"IFO-{i}"))
        assert not contains_personal_id(p.event_id("m", "t", [("a", str(i))]))


def test_missing_or_short_key_is_a_clear_error():
    with pytest.raises(PseudonymKeyError, match="CASEWATCH_PSEUDONYM_KEY"):
        key_from_settings(Settings(pseudonym_key=None))
    with pytest.raises(PseudonymKeyError, match="too short") as info:
        key_from_settings(Settings(pseudonym_key="short"))
    assert "short" not in str(info.value).replace("too short", "")
    assert key_from_settings(Settings(pseudonym_key="a-long-enough-secret-key")) == b"a-long-enough-secret-key"


@pytest.mark.parametrize("text,fmt,expected", [
    ("2024-03-02 09:15", "%Y-%m-%d %H:%M", "2024-03-02T09:15:00+01:00"),       # winter: CET
    ("2024-07-02 09:15", "%Y-%m-%d %H:%M", "2024-07-02T09:15:00+02:00"),       # summer: CEST
    ("2024-03-31 03:30", "%Y-%m-%d %H:%M", "2024-03-31T03:30:00+02:00"),       # just after the spring change
    ("2024-10-27 02:30", "%Y-%m-%d %H:%M", "2024-10-27T02:30:00+02:00"),       # ambiguous hour: the first one
    ("02.03.2024", "%d.%m.%Y", "2024-03-02T00:00:00+01:00"),                     # a date: local midnight
    ("2024-03-02T09:15:00Z", "%Y-%m-%dT%H:%M:%S%z", "2024-03-02T09:15:00+00:00"),  # an explicit offset is kept
])
def test_dates_become_rfc3339_with_the_stockholm_offset(text, fmt, expected):
    m = _mapping()
    mapper = RowMapper(m, Pseudonymiser(KEY))
    spec = m.events[0].occurred_at.model_copy(update={"format": fmt})
    assert mapper._timestamp(spec, text) == expected


def test_swedish_numbers_and_slugs():
    assert parse_number("4 458,50") == 4458.5
    assert parse_number("1\u00a0100 kr") == 1100
    assert parse_number("1.100,25") == 1100.25
    assert parse_number("4458.5") == 4458.5
    assert parse_number("-12") == -12
    with pytest.raises(ValueError):
        parse_number("fyra")
    assert slugify("BoU Öst") == "bou-ost"
    assert slugify("Försörjningsstöd / Vuxen") == "forsorjningsstod-vuxen"


def test_row_errors_name_the_column_never_the_value():
    mapper = RowMapper(_mapping(), Pseudonymiser(KEY))
    good = {"at": "2024-03-02 09:15", "pnr": "20150412-1326", "who": "skola"}  # map keys: case-insensitive
    (built,) = mapper.events(good)
    assert type(validate_object(built.event)) is Event
    assert built.event["occurred_at"] == "2024-03-02T09:15:00+01:00"
    for row, reason, column in [({**good, "who": "Grannen"}, "unmapped_value", "who"),
                                ({**good, "at": "2 mars"}, "bad_timestamp", "at"),
                                ({**good, "at": ""}, "missing_value", "at"),
                                ({**good, "pnr": "20150412-1327"}, "bad_personal_id", "pnr")]:
        with pytest.raises(RowError) as info:
            mapper.events(row)
        assert (info.value.reason, info.value.column) == (reason, column)
        assert "1327" not in str(info.value) and "Grannen" not in str(info.value)


def test_event_ids_are_stable_and_depend_on_content_not_column_order():
    mapper = RowMapper(_mapping(), Pseudonymiser(KEY))
    row = {"at": "2024-03-02 09:15", "pnr": "20150412-1326", "who": "Skola"}
    reordered = {"who": "Skola ", "pnr": "20150412-1326", "at": "2024-03-02 09:15"}
    assert mapper.events(row)[0].event["event_id"] == mapper.events(reordered)[0].event["event_id"]
    assert mapper.events(row)[0].event["event_id"] != mapper.events({**row, "at": "2024-03-02 09:16"})[0].event["event_id"]
    other = RowMapper(_mapping(name="t2"), Pseudonymiser(KEY))
    assert other.events(row)[0].event["event_id"] != mapper.events(row)[0].event["event_id"]


def test_mapping_errors_are_readable(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("name: x\nevents:\n  - type: report.opened\n    occurred_at: {column: a}\n")
    with pytest.raises(ValueError, match="no municipality"):
        load_mapping(bad)
    bad.write_text("name: x\nenvelope: {municipality: '0138', unit: u, case_id: {column: c}}\n"
                   "events:\n  - type: report.opened\n    occurred_at: {column: a}\n")
    with pytest.raises(ValueError, match="not in the catalogue"):
        load_mapping(bad)


@pytest.mark.parametrize("name,rows,events,errors", [("orosanmalningar", 73, 70, 3), ("placeringar", 30, 42, 0)])
def test_example_files_map_and_hold_only_synthetic_but_valid_personal_ids(name, rows, events, errors):
    mapping = load_mapping(EXAMPLES / f"{name}.yaml")
    raw = (EXAMPLES / f"{name}.csv").read_bytes()
    assert contains_personal_id(raw.decode(mapping.file.encoding))  # the sample does hold valid-looking ids
    mapper = RowMapper(mapping, Pseudonymiser(KEY))
    reader = csv.DictReader(io.StringIO(raw.decode(mapping.file.encoding)), delimiter=mapping.file.delimiter)
    built, failed = [], 0
    for row in reader:
        try:
            built.extend(mapper.events(row))
        except RowError:
            failed += 1
    assert (reader.line_num - 1, len(built), failed) == (rows, events, errors)
    for item in built:
        assert type(validate_object(item.event)) is Event
        assert not contains_personal_id(orjson.dumps(item.event).decode())


def test_import_twice_resume_and_summary(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    mapping = load_mapping(EXAMPLES / "orosanmalningar.yaml")
    path = EXAMPLES / "orosanmalningar.csv"
    full_sink = RecordingSink()
    full = import_csv(path, mapping, Pseudonymiser(KEY), full_sink, state_dir=tmp_path / "a", batch_size=7, progress=False)
    assert full["complete"] and full["events_sent"] == 70 and full["row_errors"] == 3
    assert full["row_errors_by_reason"] == {"bad_personal_id:Personnummer": 1, "missing_value:Inkom": 1,
                                            "unmapped_value:Anmälare": 1}
    again = import_csv(path, mapping, Pseudonymiser(KEY), RecordingSink(), state_dir=tmp_path / "a", progress=False)
    assert again["already_complete"] and again["events_sent_this_run"] == 0
    forced_sink = RecordingSink()
    import_csv(path, mapping, Pseudonymiser(KEY), forced_sink, state_dir=tmp_path / "a", force=True, progress=False)
    assert forced_sink.accepted == full_sink.accepted  # same ids, same bytes

    # stop after 25 rows, then resume: together exactly one full import
    part_sink = RecordingSink()
    first = import_csv(path, mapping, Pseudonymiser(KEY), part_sink, state_dir=tmp_path / "b", max_rows=25,
                       batch_size=5, progress=False)
    assert not first["complete"] and first["rows_this_run"] == 25
    second = import_csv(path, mapping, Pseudonymiser(KEY), part_sink, state_dir=tmp_path / "b", batch_size=5,
                        progress=False)
    assert second["complete"] and second["resumed_from_row"] == 25
    assert part_sink.accepted == full_sink.accepted
    assert {k: second[k] for k in ("rows", "events_sent", "row_errors")} == {k: full[k] for k in ("rows", "events_sent", "row_errors")}

    # a crash mid-way (Kafka fails): the restart resends from the last commit, same ids
    crash_sink = RecordingSink(fail_after=30)
    with pytest.raises(RuntimeError):
        import_csv(path, mapping, Pseudonymiser(KEY), crash_sink, state_dir=tmp_path / "c", batch_size=10, progress=False)
    crash_sink.fail_after = None
    import_csv(path, mapping, Pseudonymiser(KEY), crash_sink, state_dir=tmp_path / "c", batch_size=10, progress=False)
    assert {v for _k, v in crash_sink.accepted} == {v for _k, v in full_sink.accepted}

    pnrs = {row.split(";")[1] for row in path.read_bytes().decode("cp1252").splitlines()[1:]}
    texts = [orjson.dumps(s).decode() for s in (full, again, first, second)]
    texts += [r.getMessage() for r in caplog.records]
    texts += [p.read_text() for p in tmp_path.rglob("*.json")]
    for text in texts:
        assert not contains_personal_id(text)
        assert not any(p and p in text for p in pnrs)
