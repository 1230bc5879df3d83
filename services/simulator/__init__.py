"""`casewatch simulate`: seeded, realistic event streams per CONTRACT.md (see generate.py)."""
from .generate import SimulationSpec, SimulationStats, simulate, simulate_chunks, simulate_labelled

__all__ = ["SimulationSpec", "SimulationStats", "simulate", "simulate_chunks", "simulate_labelled"]
