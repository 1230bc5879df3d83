"""The unit families' exposition text, kept in parts so that a scrape re-joins only what changed.

At national scale the unit families are ~22 MB of text; joining them again whenever any unit's
samples changed (nearly every scrape) cost more than the rest of a warm scrape. So the text is
kept at three levels, each rebuilt only when something under it changed:

- per unit and family, its lines (``units.Computed.lines``);
- per municipality and family, its units' lines joined (``Municipality.chunks``); a rebuilt
  municipality keeps the previous bytes object of every family whose lines came out equal, so
  that only the families really changed look changed above;
- per family, its header and every municipality's chunk joined.

A scrape where one unit changed thus re-joins one municipality's families and the few families
whose lines changed, and hands the server the families' parts (a list of bytes, written one by
one) instead of one joined body. The parts joined are what ``generate_latest`` writes for the
same samples: each family once, its HELP and TYPE first, its lines contiguous.
"""
from __future__ import annotations

from typing import Collection, Iterable, Iterator

from prometheus_client.core import Metric

from .metrics import UNIT_FAMILIES, family_header
from .units import Municipality, Unit, same

HEADERS = {name: family_header(name).encode() for name in UNIT_FAMILIES}


def municipality_chunks(units: list[Unit], previous: dict[str, bytes] | None) -> dict[str, bytes]:
    """Family name -> the exposition lines of ``units`` of that family, in their order (families
    without lines left out); a family's bytes object from ``previous`` when its lines are equal."""
    lines = [entry.now.lines() for entry in units]
    previous = previous or {}
    out = {}
    for name in UNIT_FAMILIES:
        text = b"".join(t[name] for t in lines if name in t)
        if text:
            kept = previous.get(name)
            out[name] = kept if kept == text else text
    return out


class UnitText:
    """The unit families' text of the last scrape, per family and per municipality (see the
    module doc)."""

    def __init__(self) -> None:
        self._chunks: dict[str, dict[str, bytes]] = {}  # municipality -> its chunks at the last scrape
        self._order: list[str] | None = None  # the municipalities of the last scrape, in order
        self._families: dict[str, tuple[list[bytes], bytes]] = {}  # family -> (its chunks, its text)
        self._dirty: set[str] = set(UNIT_FAMILIES)  # families whose chunks may have changed since joined

    def parts(self, active: list[tuple[str, Municipality]], names: Collection[str] | None = None) -> list[bytes]:
        """The text of every unit family (only those in ``names`` when given), one bytes object
        per family, in exposition order, of the exposed units of ``active`` (in their order).
        Only the families that a rebuilt municipality's chunks changed are looked at again:
        at national scale, looking at every family's 290 chunks costs more than the rest."""
        order = [municipality for municipality, _ in active]
        dirty = set(UNIT_FAMILIES) if order != self._order else set(self._dirty)
        chunks = {}
        for municipality, cached in active:
            if cached.chunks is None:
                cached.chunks = municipality_chunks(cached.exposed, self._chunks.get(municipality))
            before = self._chunks.get(municipality)
            if cached.chunks is not before and before is not None:
                now = cached.chunks
                dirty.update(name for name in now.keys() | before.keys() if now.get(name) is not before.get(name))
            chunks[municipality] = cached.chunks
        self._chunks, self._order = chunks, order
        families = UNIT_FAMILIES if names is None else [n for n in UNIT_FAMILIES if n in names]
        out = []
        for name in families:
            last = self._families.get(name)
            if last is None or name in dirty:
                pieces = [chunk for _m, cached in active if (chunk := cached.chunks.get(name)) is not None]
                if last is None or not same(pieces, last[0]):
                    last = self._families[name] = (pieces, b"".join([HEADERS[name], *pieces]))
            out.append(last[1])
        self._dirty = dirty - set(families)  # those left out by ``names`` stay to be looked at
        return out


def only(families: Iterable[Metric], names: Collection[str] | None) -> Iterator[Metric]:
    """The families named in ``names`` (by family or sample name), all when None."""
    for family in families:
        if names is None or family.name in names or any(s.name in names for s in family.samples):
            yield family


class Families:
    """What ``generate_latest`` needs of a registry: ``collect()``."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)
