"""Swedish labels for the contract's keys: moved to :mod:`streams.vocabulary`, the one vocabulary
of dashboards, alerts, the board and the demo (docs/GLOSSARY.md)."""
from streams.vocabulary import (  # noqa: F401  (re-exported for older imports)
    CLOCK_SERIES, COST_SOURCES_SV, COUNT_KPIS, ECONOMY_OTHER_SV, ECONOMY_SV, INTERVENTIONS_SV, KPI_SV,
    PLACEMENT_TYPES_SV,
)
