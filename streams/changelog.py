"""Writing the worker's case table past Faust's per-key changelog path.

Faust writes a table key by buffering one changelog produce and one callback per key. The worker
instead writes its local store directly and sends the batch's changelog records in bulk, then
records, per changelog partition, how far its store's recovery may start (what Faust's callback
does per record). Both helpers here are that bookkeeping.
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Iterator, Optional

from faust.streams import _current_event  # the context variable behind faust.current_event()
from faust.types import EventT


def contiguous_end(persisted: Optional[int], offsets: list[int]) -> Optional[int]:
    """The offset to record as the store's persisted changelog offset after this worker wrote
    ``offsets``, or None to leave it. It moves only over records this worker wrote right after
    the last one it knows: when another writer's records lie in between (this worker was cut off
    and someone else owned the partition meanwhile), recovery must still read them."""
    if not offsets:
        return None
    expected = None if persisted is None else persisted + 1
    end = None
    for offset in sorted(offsets):
        if expected is not None and offset != expected:
            break
        end, expected = offset, offset + 1
    return end


@contextlib.contextmanager
def as_current(event: EventT) -> Iterator[None]:
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
