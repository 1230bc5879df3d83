"""Read Prometheus text exposition back into plain data, for equivalence tests and tools.

``parse_metrics(text)`` gives ``{(sample_name, frozenset(labels.items())): value}``;
``figures_from_metrics(samples)`` maps the KPI metrics back to the contract's keys in the shape
of ``casewatch replay --json``'s ``units``: ``{municipality: {unit: {kpi: value}}}``, with null
KPIs (absent series) as ``None`` and the objects keyed by type without their zero entries, so
a test can assert ``figures_from_metrics(scrape) == replay_json["units"]``.
"""
from __future__ import annotations

from typing import Mapping

from prometheus_client.parser import text_string_to_metric_families

from services.exporter.metrics import KPI_BY_NAME, KPI_METRICS

Samples = dict[tuple[str, frozenset], float]


def parse_metrics(text: str | bytes) -> Samples:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def labels_of(key: tuple[str, frozenset]) -> dict[str, str]:
    return dict(key[1])


def figures_from_metrics(samples: Mapping[tuple[str, frozenset], float]) -> dict[str, dict[str, dict]]:
    """The inverse of docs/METRICS.md for the KPI metrics (see the module doc)."""
    units: dict[tuple[str, str], dict] = {}
    for (name, labels), value in samples.items():
        metric = KPI_BY_NAME.get(name)
        if metric is None:
            continue
        labels = dict(labels)
        figures = units.setdefault((labels["municipality"], labels["unit"]), {})
        if metric.category:
            by_type = figures.setdefault(metric.key, {})
            if value:
                by_type[labels[metric.category]] = value
        else:
            figures[metric.key] = value
    out: dict[str, dict[str, dict]] = {}
    for (municipality, unit), figures in sorted(units.items()):
        row = {}
        for metric in KPI_METRICS:
            value = figures.get(metric.key, {} if metric.category else None)
            row[metric.key] = dict(sorted(value.items())) if metric.category else value
        out.setdefault(municipality, {})[unit] = row
    return out
