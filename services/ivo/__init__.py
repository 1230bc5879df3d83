"""The IVO quarterly reporting (issue 15): the data of CONTRACT.md §6 (computed in
``streams/core/ivo.py``), the reporter's work list, the council's anonymised statistics, and the
frozen quarters with their revisions."""
