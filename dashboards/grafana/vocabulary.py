"""Swedish names in Grafana queries: codes and units are renamed in PromQL, so every legend,
tooltip and table shows the glossary's words (docs/GLOSSARY.md) whatever panel type draws them.

- :func:`swedish_codes` rewrites a category label's values (``familjehem_arvoderat`` becomes
  ``Arvoderat familjehem``) with one ``label_replace`` per code from :mod:`streams.vocabulary`;
  a value nobody has named yet passes unchanged.
- :func:`with_unit_name` adds the label ``enhet``: the unit registry's display name, which the
  exporter publishes as ``casewatch_unit_info{municipality, unit, name}``, else the unit code, so
  a legend ``{{enhet}}`` never goes blank when no registry is configured.
"""
from __future__ import annotations

import re

from streams.vocabulary import CODE_LABELS

UNIT_INFO = "casewatch_unit_info"
UNIT_NAME_LABEL = "enhet"
UNIT_LEGEND = "{{" + UNIT_NAME_LABEL + "}}"


def _promql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def swedish_codes(expr: str, label: str, family: str | None = None) -> str:
    """``expr`` with the values of ``label`` replaced by their Swedish names (``family`` is the
    key of ``streams.vocabulary.CODE_LABELS``, by default the label's own name)."""
    names = CODE_LABELS[family or label]
    for code, name in names.items():
        expr = (f"label_replace({expr}, {_promql_string(label)}, {_promql_string(name)}, "
                f"{_promql_string(label)}, {_promql_string(re.escape(code))})")
    return expr


def with_unit_name(expr: str, info: str = UNIT_INFO) -> str:
    """``expr`` plus a label ``enhet``: the display name where the registry has one, else the unit code.

    ``expr`` must keep the ``municipality`` and ``unit`` labels; ``info`` is the selector of
    ``casewatch_unit_info`` (dashboards pass it filtered by their variables)."""
    named = (f"({expr}) * on (municipality, unit) group_left ({UNIT_NAME_LABEL}) "
             f'label_replace(max by (municipality, unit, name) ({info}), "{UNIT_NAME_LABEL}", "$1", "name", "(.+)")')
    fallback = f'label_replace({expr}, "{UNIT_NAME_LABEL}", "$1", "unit", "(.+)")'
    return f"{named} or on (municipality, unit) {fallback}"
