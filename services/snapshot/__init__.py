"""The board's frozen monthly snapshot and the quarterly IVO list (issue 6).

`casewatch snapshot --month YYYY-MM --events FILE` and `casewatch ivo-report --quarter YYYY-Qn
--events FILE`; see :mod:`services.commands.snapshot`.
"""
