"""`casewatch exporter`: the KPIs of the Redis projection as Prometheus metrics (docs/METRICS.md).

- :mod:`.metrics`: the metric catalogue and the per-scrape families, in one place;
- :mod:`.collector`: the custom collector over a facts source (Redis or in-memory), with a
  per-municipality cache of parsed facts keyed by the projection's version counters;
- :mod:`.text`: the exposition text kept per unit, municipality and family, handed out in parts;
- :mod:`.gzip_parts`: those parts gzipped one by one into one stream;
- :mod:`.server`: ``/metrics`` and ``/healthz`` on a fresh registry.
"""
from .collector import FactsSource, KpiCollector, ThresholdsFile
from .server import build_registry, serve, serve_source

__all__ = ["FactsSource", "KpiCollector", "ThresholdsFile", "build_registry", "serve", "serve_source"]
