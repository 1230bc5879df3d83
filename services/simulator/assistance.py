"""Economic assistance: applications, decisions and monthly payments."""
from __future__ import annotations

from datetime import date
from math import log

from . import model as M
from .draws import DECIDED_DATA, workday
from .spec import APP_DECIDED, APP_RECEIVED, PAYMENT
from .world import Unit


class AssistanceLives:
    """Mixin of :class:`services.simulator.municipality.Municipality` (uses its rng, ids, commit)."""

    # economic assistance ------------------------------------------------------------------------

    def spell_months(self) -> int:
        p = 1.0 / M.ASSISTANCE_MEAN_MONTHS
        months = 1 + int(log(1.0 - self.rng.random()) / log(1.0 - p))
        return min(months, M.ASSISTANCE_MAX_MONTHS)

    def payments(self, events: list, year: int, month: int, count: int, payday: int) -> None:
        rng = self.rng
        low, high = M.PAYMENT_SEK
        base = rng.randint(low // 10, high // 10) * 10
        vlow, vhigh = M.PAYMENT_MONTHLY_VARIATION
        for _ in range(count):
            year += (month - 1) // 12
            month = (month - 1) % 12 + 1
            amount = min(high, max(low, int(base * rng.uniform(vlow, vhigh) / 10) * 10))
            events.append((self.office(date(year, month, payday).toordinal()), PAYMENT,
                           f'{{"amount_sek":{amount}}}'))
            month += 1

    def application(self, unit: Unit, day: int) -> None:
        rng = self.rng
        received = self.office(day)
        new = rng.random() < M.NEW_APPLICANT_SHARE
        events = [(received, APP_RECEIVED, '{"new_applicant":true}' if new else "{}")]
        d = M.APPLICATION_DECISION_DAYS
        decided_day = workday(day + int(rng.triangular(d[0], d[1], d[2])))
        decided = max(self.office(decided_day), received + 3600)
        granted = rng.random() < M.APPLICATION_GRANTED_SHARE
        events.append((decided, APP_DECIDED, DECIDED_DATA[granted]))
        if granted:
            first_day = workday(decided_day + rng.randint(1, 3))
            events.append((max(self.office(first_day), decided + 600), PAYMENT,
                           f'{{"amount_sek":{rng.randint(M.PAYMENT_SEK[0] // 10, M.PAYMENT_SEK[1] // 10) * 10}}}'))
            months = self.spell_months() - 1
            if months:
                first = date.fromordinal(first_day)
                payday = rng.randint(*M.PAYDAY)
                self.payments(events, first.year, first.month + 1, months, payday)
        self.commit(unit, self.new_id("c"), events)
