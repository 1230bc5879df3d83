"""The size limit at the doors: one event's canonical form may be at most ``max_event_bytes``.

Why a limit, and why here: the broker refuses messages over ``message.max.bytes`` (1,048,588 by
default) and Faust's producer refuses over 1,000,000 bytes, so one oversized event accepted at a
door would crash the worker on its way on (to the changelog, or to the dead-letter topic) and
stall it. Ordinary events are a few hundred bytes; the default of 64 KiB leaves room for any real
one and keeps every record the pipeline writes about an event far below both limits. The check is
on the canonical serialisation (what is put on Kafka), after validation, so two spellings of the
same event are judged alike. ``casewatch ingest``, the ingest API and the CSV importer refuse an
event over the limit with the reason ``too_large`` (dead-lettered, marker only when the bytes
themselves are too big for a dead letter); the ingest API answers 413 to a request that is one
such event.
"""
from __future__ import annotations

from streams.contract.validate import Rejection

TOO_LARGE = "too_large"
DEFAULT_MAX_EVENT_BYTES = 64 * 1024
MIN_MAX_EVENT_BYTES = 1024  # smaller would refuse real events
# Half of Faust's producer limit (1,000,000): an event's dead letter (envelope around the bytes)
# and the case state it grows must both stay under it.
MAX_MAX_EVENT_BYTES = 500_000
REFUSED = Rejection(TOO_LARGE)


def too_large(canonical: bytes, limit: int) -> bool:
    """Whether an accepted event's canonical bytes exceed the limit."""
    return len(canonical) > limit
