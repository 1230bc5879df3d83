"""`casewatch board serve`: the office writes, previews and freezes the monthly board report.

A small server-rendered Starlette app (Jinja2 templates, plain forms, no script build). The
month's draft text lives in ``<data_dir>/<YYYY-MM>/draft.json`` with a version number that
every save must name (optimistic locking); every save and freeze is appended to the month's
``audit.jsonl``. Freezing goes through the snapshot package exactly as ``casewatch snapshot``.
"""
