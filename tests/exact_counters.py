"""One scenario for casewatch_events_total's exact counting, run on the in-memory projection
(tests/unit) and on the real Redis's Lua script (tests/integration): redelivery after a kill -9,
a zombie's batch, a wipe and the re-projection after it."""
from __future__ import annotations

import orjson

from streams.projection import PipelineHealth, tally_fields
from streams.projection_fencing import CaseWrite


def case(case_id: str, events: int) -> CaseWrite:
    return CaseWrite("0138", case_id, orjson.dumps([case_id, events]), events)


def health(offsets, tallies=(), accepted=0, duplicate=0, rejected=None) -> PipelineHealth:
    rejected = rejected or {}
    return PipelineHealth("w1", {"accepted": accepted, "duplicate": duplicate, "rejected": sum(rejected.values())},
                          rejected, None, 0, offsets, tuple(tallies))


def counted(store) -> tuple[dict, dict]:
    stats = store.pipeline_stats()
    return dict(stats.events), dict(stats.rejected)


def run_scenario(store, flush) -> None:
    # offsets 0..5 of partition 0: c1 gets 3 events, c2 2, offset 5 repeats an event id of c1
    first = health({0: 5}, [(0, 5, *tally_fields("duplicate"))], accepted=5, duplicate=1)
    store.write_fenced([case("c1", 3), case("c2", 2)], first, {0: 7}, {0: "7:w1:1"})
    assert counted(store) == ({"accepted": 5, "duplicate": 1}, {})

    # kill -9 before the offsets were committed: the same records come again, all duplicates now
    again = health({0: 5}, [(0, o, *tally_fields("duplicate")) for o in range(6)], duplicate=6)
    store.write_fenced([case("c1", 3), case("c2", 2)], again, {0: 7}, {0: "7:w1:2"}, previous={0: "7:w1:1"})
    assert counted(store) == ({"accepted": 5, "duplicate": 1}, {})

    # a rejected record at offset 6, a new event of c1 at 7; the batch redelivered from offset 4
    more = health({0: 7}, [(0, 4, *tally_fields("duplicate")), (0, 5, *tally_fields("duplicate")),
                           (0, 6, *tally_fields("rejected", "bad_value"))],
                  accepted=1, duplicate=2, rejected={"bad_value": 1})
    store.write_fenced([case("c1", 4)], more, {0: 7}, {0: "7:w1:3"}, previous={0: "7:w1:2"})
    assert counted(store) == ({"accepted": 6, "duplicate": 1, "rejected": 1}, {"bad_value": 1})

    # a zombie of an older generation: refused, counts nothing
    zombie = health({0: 9}, [(0, 8, *tally_fields("rejected", "bad_value"))], accepted=3, rejected={"bad_value": 1})
    assert store.write_fenced([case("c1", 5), case("c3", 2)], zombie, {0: 6}, {0: "6:w0:9"}).lost == (0,)
    assert counted(store) == ({"accepted": 6, "duplicate": 1, "rejected": 1}, {"bad_value": 1})

    # Redis wiped: the re-projection writes every case again and accepted is exact at once;
    # duplicates and rejections restart from zero (a counter reset)
    flush()
    store.write_fenced([case("c1", 4), case("c2", 2)], None, {0: 7}, {0: "7:w1:4"})
    assert counted(store) == ({"accepted": 6}, {})
    store.write_fenced([case("c1", 4), case("c2", 2)], None, {0: 7}, {0: "7:w1:5"}, previous={0: "7:w1:4"})
    assert counted(store) == ({"accepted": 6}, {})  # re-projecting again adds nothing
