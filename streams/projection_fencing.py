"""The fenced batch write of the Redis projection: one Lua script, so the checks and the writes
are one atomic step on the server (see docs/OPERATIONS.md, "A paused worker").

Three guards, each cheap and each enough for one way of going wrong:

- **Partition fence**: ``{p}:fence:{partition}`` holds the highest consumer-group generation
  that wrote the partition. A writer whose generation is lower (a worker paused past its session
  timeout while the group moved on) is refused as a whole: nothing of its batch is written, and
  it learns which partitions it lost. The generation comes from the broker, so it survives a
  Redis wipe or an older snapshot (a wiped fence is simply set again by the next writer).
- **Grow-only case**: a case is the set of its distinct events, and every writer's set is the
  set of a prefix of the same partition log, so sets are nested and the one with more events is
  the newer. ``{p}:count:{municipality}`` keeps each case's event count; a write holding fewer
  events than stored is skipped (an equal count is the same set and rewrites the same bytes).
- **Exact counters** (``casewatch_events_total``): ``{p}:accepted`` grows by exactly what the
  stored case counts grow by, so it always equals their sum: a redelivered event, a zombie's
  write or a skipped write adds nothing, and after a wipe the re-projection rebuilds it from the
  cases. Duplicates and rejections are counted per record, only for offsets above
  ``{p}:counted:{partition}`` (the highest offset already counted), so a batch redelivered after
  a kill -9 is not counted twice; a wipe restarts these two from 0 (a counter reset, which
  Prometheus' ``increase`` handles).
- **Write marks**: ``{p}:written:{partition}`` is set to the writer's ``generation:sequence``
  with every write, but only over the writer's previous mark (a chain); the worker compares it
  with what it last wrote and re-projects a partition whose mark is missing or different (Redis
  wiped, or back from an older snapshot or AOF), however many batches were written since.
"""
from __future__ import annotations

from typing import Iterable, Mapping, NamedTuple

import orjson


class CaseWrite(NamedTuple):
    municipality: str
    case_id: str
    facts_json: bytes
    events: int  # distinct events in the case: the grow-only guard's measure


FENCED_WRITE = """
local p = ARGV[1]
local h = cjson.decode(ARGV[2])
local lost = {}
for _, f in ipairs(h.fences) do
  local cur = tonumber(redis.call('GET', p .. ':fence:' .. f[1]) or '-1')
  if cur > tonumber(f[2]) then table.insert(lost, tonumber(f[1])) end
end
if #lost > 0 then return {0, lost} end
for _, f in ipairs(h.fences) do redis.call('SET', p .. ':fence:' .. f[1], f[2]) end
local touched, written, skipped, grown = {}, 0, 0, 0
for i = 3, #ARGV, 4 do
  local m, c, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local cur = tonumber(redis.call('HGET', p .. ':count:' .. m, c) or '-1')
  if n >= cur then
    redis.call('HSET', p .. ':facts:' .. m, c, ARGV[i + 3])
    redis.call('HSET', p .. ':count:' .. m, c, n)
    grown = grown + n - math.max(cur, 0)
    touched[m] = true
    written = written + 1
  else
    skipped = skipped + 1
  end
end
local ms = {}
for m, _ in pairs(touched) do
  redis.call('INCR', p .. ':version:' .. m)
  table.insert(ms, m)
end
if #ms > 0 then redis.call('SADD', p .. ':municipalities', unpack(ms)) end
for _, mark in ipairs(h.marks) do
  -- a chain: set only over the writer's previous mark, so a mark that vanished (a flush) or went
  -- back (an older snapshot) stays different from the writer's until it re-projects
  local k = p .. ':written:' .. mark[1]
  if mark[3] == '' or redis.call('GET', k) == mark[3] then redis.call('SET', k, mark[2]) end
end
if h.epoch then redis.call('SET', p .. ':epoch', h.epoch) end
if grown > 0 then redis.call('INCRBY', p .. ':accepted', grown) end
local key = p .. ':pipeline'
for _, kv in ipairs(h.incr) do redis.call('HINCRBY', key, kv[1], kv[2]) end
-- duplicates and rejections: once per record, only above the partition's counted offset
local counted = {}
for _, c in ipairs(h.offsets or {}) do
  counted[c[1]] = tonumber(redis.call('GET', p .. ':counted:' .. c[1]) or '-1')
end
for _, t in ipairs(h.tallies or {}) do
  if tonumber(t[2]) > counted[t[1]] then
    for j = 3, #t do redis.call('HINCRBY', key, t[j], 1) end
  end
end
for _, c in ipairs(h.offsets or {}) do
  if tonumber(c[2]) > counted[c[1]] then redis.call('SET', p .. ':counted:' .. c[1], c[2]) end
end
if h.newest then
  local cur = tonumber(redis.call('HGET', key, 'newest_event_ts') or '-1e308')
  if tonumber(h.newest) > cur then redis.call('HSET', key, 'newest_event_ts', h.newest) end
end
for _, kv in ipairs(h.set) do redis.call('HSET', key, kv[1], kv[2]) end
return {1, {written, skipped}}
"""


def fenced_args(prefix: str, cases: Iterable[CaseWrite], fences: Mapping[int, int], marks: Mapping[int, str],
                incr: Mapping[str, int], newest: float | None, fields: Mapping[str, str],
                epoch: str | None, previous: Mapping[int, str] | None = None,
                offsets: Mapping[int, int] | None = None,
                tallies: Iterable[tuple] = ()) -> list:
    """The script's ARGV: the prefix, a JSON header, then four values per case. ``offsets``:
    partition -> the batch's highest offset; ``tallies``: ``(partition, offset, field, ...)``
    per duplicate or rejected record, the pipeline fields it adds one to."""
    header = {"fences": [[str(p), str(g)] for p, g in sorted(fences.items())],
              "offsets": [[str(p), int(o)] for p, o in sorted((offsets or {}).items())],
              "tallies": [[str(t[0]), int(t[1]), *t[2:]] for t in tallies],
              "marks": [[str(p), m, (previous or {}).get(p) or ""] for p, m in sorted(marks.items())],
              "incr": [[k, int(n)] for k, n in incr.items() if n],
              "newest": None if newest is None else repr(newest),
              "set": [[k, v] for k, v in fields.items()],
              "epoch": epoch}
    if header["newest"] is None:
        del header["newest"]
    if epoch is None:
        del header["epoch"]
    args: list = [prefix, orjson.dumps(header)]
    for case in cases:
        args.extend((case.municipality, case.case_id, case.events, case.facts_json))
    return args
