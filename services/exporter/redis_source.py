"""The Redis projection as the collector's facts source, with per-case raw reads.

:class:`services.store.ProjectionStore` already is a facts source; this subclass adds
``read_facts_raw`` (the stored bytes per case, unparsed), with which the collector re-parses
only the cases whose bytes changed when a municipality's version moves. Under a steadily
writing worker that turns a re-read of ~20k cases from ~0.45 s into ~0.15 s (HGETALL and
re-grouping remain).

The store could offer ``read_facts_raw`` itself; the collector picks it up wherever it is.
"""
from __future__ import annotations

from services.store import ProjectionStore


class RedisFactsSource(ProjectionStore):
    def read_facts_raw(self, municipality: str) -> dict[bytes, bytes]:
        """``case_id`` -> the stored facts JSON of every case of ``municipality``."""
        return self.r.hgetall(f"{self.p}:facts:{municipality}")
