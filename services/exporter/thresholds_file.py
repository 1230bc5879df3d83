"""The thresholds file as the exporter reads it: again whenever it changes on disk."""
from __future__ import annotations

import logging
from pathlib import Path

from streams.thresholds import Thresholds, ThresholdsError, load_thresholds

log = logging.getLogger("casewatch.exporter")

__all__ = ["ThresholdsFile"]


class ThresholdsFile:
    """The thresholds file, re-read when it changes on disk. A change that does not validate is
    logged and the last good thresholds stay in force (the exporter must keep answering)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._stamp = self._stat()
        self._current = load_thresholds(self.path)  # a bad file at start fails loudly

    def _stat(self) -> tuple[float, int] | None:
        from streams.thresholds import DEFAULT_THRESHOLDS_FILE

        try:
            st = (self.path or DEFAULT_THRESHOLDS_FILE).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def __call__(self) -> Thresholds:
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._current = load_thresholds(self.path)
                log.info("thresholds reloaded from %s", self._current.source)
            except ThresholdsError as exc:
                log.error("thresholds not reloaded, keeping the previous ones: %s", exc)
        return self._current
