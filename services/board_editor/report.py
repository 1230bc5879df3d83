"""The month's report as the editor sees it: the computed draft, the preview, the freeze.

Everything is computed by the snapshot package (figures, colours, economy, IVO summary,
rendering, the revision store), so the editor shows and freezes exactly what ``casewatch
snapshot`` would for the same events and text. The office's text reaches the snapshot as the
narrative the report reads.
"""
from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from services.snapshot.build import build_content, run_meta
from services.snapshot.config import BoardConfig, load_config
from services.snapshot.ledger import read_ledger
from services.snapshot.figures import Month, first_event_day, load_replay, municipalities
from services.snapshot import freeze as freezing
from services.snapshot.revisions import Outcome, Store
from streams.core.timeutil import STOCKHOLM

from .drafts import Draft, DraftStore
from .settings import EditorSettings

KAFKA_CACHE_SECONDS = 60.0


class ReportError(RuntimeError):
    """The events, configuration or ledger cannot be read; the message is for the office."""


def narrative_yaml(draft: Draft) -> str:
    """The draft in the snapshot's narrative format (``narrative/<YYYY-MM>.yaml``, see
    :mod:`services.snapshot.narrative`), which ``casewatch snapshot --narrative-dir`` reads too."""
    areas = {}
    for area_id, text in sorted(draft.areas.items()):
        fields = {"viktiga_handelser": text.events, "atgarder": text.actions, "bedomning": text.assessed_colour,
                  "skal": text.reason}
        fields = {k: v for k, v in fields.items() if v}
        if fields:
            areas[area_id] = fields
    raw = {"malomraden": areas, "avvikelse": draft.deviation or None, "risker": draft.risks or None}
    return yaml.safe_dump({k: v for k, v in raw.items() if v}, allow_unicode=True, sort_keys=False)


@dataclass
class _Cached:
    key: tuple
    replay: object


class ReportSource:
    """Reads the events (cached while the file is unchanged), builds content, previews, freezes."""

    def __init__(self, settings: EditorSettings, drafts: DraftStore) -> None:
        self.settings = settings
        self.drafts = drafts
        self.store = Store(settings.snapshots_dir)
        self._cache: _Cached | None = None
        self._computed: dict[str, tuple[tuple, dict]] = {}
        self._lock = threading.Lock()

    def _replay(self):
        s = self.settings
        with self._lock:
            if s.events_file is not None:
                try:
                    st = s.events_file.stat()
                except OSError as exc:
                    raise ReportError(f"kan inte läsa händelsefilen {s.events_file}: {exc.strerror}") from None
                key = ("file", st.st_mtime_ns, st.st_size)
                if self._cache is None or self._cache.key != key:
                    from streams.settings import load_settings

                    pipeline = load_settings()
                    self._cache = _Cached(key, load_replay(s.events_file, pipeline.unit_registry_pairs(),
                                                           pipeline.clocks()))
            else:
                key = ("kafka", int(time.monotonic() // KAFKA_CACHE_SECONDS))
                if self._cache is None or self._cache.key != key:
                    from streams.kafka_log import KafkaLogError, read_case_log
                    from streams.settings import load_settings

                    pipeline = load_settings()
                    try:
                        log_lines = read_case_log(pipeline.kafka_bootstrap, pipeline.case_topic,
                                                  security=pipeline.kafka_security())
                        self._cache = _Cached(key, load_replay(log_lines, pipeline.unit_registry_pairs(),
                                                               pipeline.clocks()))
                    except KafkaLogError as exc:
                        raise ReportError(f"kan inte läsa händelseloggen: {exc}") from None
            return self._cache.replay

    def _municipality(self, replay) -> str:
        found = municipalities(replay)
        wanted = self.settings.municipality
        if wanted:
            if wanted not in found:
                raise ReportError(f"kommun {wanted} finns inte bland händelserna")
            return wanted
        if len(found) != 1:
            raise ReportError("händelserna har " + ("inga kommuner" if not found else "flera kommuner")
                              + ": ange CASEWATCH_BOARD_MUNICIPALITY")
        return found[0]

    def config(self, municipality: str) -> BoardConfig:
        from streams.settings import load_settings

        return load_config(self.settings.config_file, municipality, load_settings().thresholds_file)

    def build(self, month: str, draft: Draft) -> tuple[dict, dict]:
        """``(content, meta)`` for ``month`` with the draft's text, as ``casewatch snapshot`` builds them."""
        chosen = Month.parse(month)
        replay = self._replay()
        mun = self._municipality(replay)
        try:
            config = self.config(mun)
            ledger = (read_ledger(self.settings.ledger_file, config.ledger_dimension, config.ledger_exclude_accounts)
                      if self.settings.ledger_file else None)
        except (ValueError, OSError) as exc:
            raise ReportError(str(exc)) from None
        history = self.store.history([str(m) for m in chosen.months_of_year()[:-1]])
        with tempfile.TemporaryDirectory(prefix="casewatch-board-") as tmp:
            # earlier months' texts too: their assessed colours mark the year's grid until frozen
            for earlier in chosen.months_of_year()[:-1]:
                text = self.drafts.load(str(earlier))
                if text.version:
                    (Path(tmp) / f"{earlier}.yaml").write_text(narrative_yaml(text), encoding="utf-8")
            (Path(tmp) / f"{month}.yaml").write_text(narrative_yaml(draft), encoding="utf-8")
            content = build_content(replay, chosen, config, mun, Path(tmp), ledger, history)
        events = str(self.settings.events_file) if self.settings.events_file else "kafka"
        meta = run_meta(replay, config, f"board-editor:{month}", str(self.settings.ledger_file or "") or None, events)
        return content, meta

    def computed(self, month: str) -> dict:
        """The month's computed content without the office's text, for the editing page and
        for checking a draft (its colours do not depend on the text). Cached until the events
        or an earlier month's frozen revision change; preview and freeze always build afresh."""
        self._replay()
        earlier = tuple(self.store.latest(str(m)) for m in Month.parse(month).months_of_year()[:-1])
        key = (self._cache.key, earlier)
        hit = self._computed.get(month)
        if hit is None or hit[0] != key:
            hit = self._computed[month] = (key, self.build(month, Draft(month=month))[0])
        return hit[1]

    def computed_colours(self, content: dict) -> dict[str, str | None]:
        return {area["id"]: area["farg_beraknad"] for area in content["malomraden"]}

    def published(self, month: str) -> dict:
        """The computed draft as the board would see it (suppressed counts, tables in words)."""
        return freezing.publisher(self.computed(month), 0)

    def preview(self, month: str, draft: Draft) -> tuple[str, bool]:
        """The page the PDF would be made from if frozen now, and whether freezing would make
        a new revision (False: the content equals the latest revision, which is shown)."""
        content, _ = self.build(month, draft)
        return freezing.preview(self.store, month, content)

    def freeze(self, month: str, draft: Draft) -> Outcome:
        content, meta = self.build(month, draft)
        return freezing.freeze(self.store, month, content, meta, pdf=True)

    def revisions(self, month: str) -> list[dict]:
        """Newest first: number, created, files, number of changes."""
        out = []
        for revision in reversed(self.store.revisions(month)):
            meta = self.store.load(month, revision)["meta"]
            folder = self.store.rev_dir(month, revision)
            out.append({"revision": revision, "skapad": meta.get("skapad"), "andringar": meta.get("andringar", []),
                        "filer": sorted(p.name for p in folder.iterdir() if p.name.startswith("rapport."))})
        return out

    def months(self) -> list[str]:
        """Months with any data, newest first."""
        replay = self._replay()
        first = first_event_day(replay, self._municipality(replay)) if replay.latest is not None else None
        if first is None:
            return []
        end = datetime.fromtimestamp(replay.latest, STOCKHOLM)
        month, out = Month(end.year, end.month), []
        while len(out) < 36 and (month.year, month.month) >= (first.year, first.month):
            out.append(str(month))
            month = month.previous()
        return out
