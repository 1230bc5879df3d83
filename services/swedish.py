"""Swedish figures and dates: moved to :mod:`streams.swedish` so every floor can use them."""
from streams.swedish import (  # noqa: F401  (re-exported for older imports)
    MONTHS, MONTHS_SHORT, SPACE, as_of_line, clock_time, date_time, long_date, mnkr, month_name, number,
    percent, sek, since, tkr,
)
