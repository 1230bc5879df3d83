"""Reports of concern, investigations, decisions and placements: each arrival's whole life."""
from __future__ import annotations

from datetime import date
from math import log

from streams.core.timeutil import add_months

from . import model as M
from .draws import (ADULT_AREA, ADULT_INTERVENTION, ADULT_PLACEMENT, AREA_DATA, CHILD_AREA,
                    CHILD_INTERVENTION, CHILD_PLACEMENT, CLOSED_DATA, DAY, EMERGENCY_PLACEMENT,
                    CHILD_PLACEMENT_AGE, PROTECTED_DATA, REPORT_AGE, REPORT_DATA, REPORTER, SCREENED_DATA,
                    SEX, Choice, poisson, workday)
from .spec import (DEC_DELAY_REASON, DEC_ENDED, DEC_ENFORCED, DEC_INTERRUPTED, DEC_MADE, DEC_RESUMED, INV_CLOSED, INV_EXTENDED, INV_OPENED, PL_COST,
                   PL_ENDED, PL_STARTED, PROTECTED, REPORT, SCREENED)
from .world import Unit


class CareLives:
    """Mixin of :class:`services.simulator.municipality.Municipality` (uses its rng, ids, commit)."""

    def child_report(self, unit: Unit, day: int, weekday: int) -> None:
        """A report about a child to ``unit``'s area: received and screened by an intake unit
        (mottagning) when there is one, investigated in ``unit`` (or the violence unit)."""
        rng = self.rng
        random = rng.random
        intake = self.mottagning[int(random() * len(self.mottagning))] if self.mottagning else unit
        self.owner, self.moves = intake, []
        midnight = self.clock.midnight(day)
        if weekday < 5 and random() < M.REPORT_OFFICE_HOURS_SHARE:
            received = midnight + 8 * 3600 + int(random() * 9 * 3600)
        else:
            received = midnight + int(random() * 86400)
        age = REPORT_AGE(random) if random() < M.REPORT_AGE_BAND_PRESENT else None
        events = [(received, REPORT, REPORT_DATA[REPORTER(random), age])]
        immediate = random() < M.IMMEDIATE_PROTECTION_SHARE
        latest = received
        if immediate or random() < M.PROTECTION_DONE_SHARE:
            if random() < M.PROTECTION_LATE_SHARE:
                low, high = M.PROTECTION_LATE_HOURS
                hours = low + random() * (high - low)
            else:
                hours = min(23.5, rng.lognormvariate(log(M.PROTECTION_MEDIAN_HOURS), 0.9))
            latest = received + 300 + int(hours * 3600)
            events.append((latest, PROTECTED, PROTECTED_DATA[immediate]))
        if immediate and random() < M.EMERGENCY_PLACEMENT_SHARE:
            self.emergency_placement(events, latest + 1800 + int(random() * 3 * 3600))
        if random() < M.SCREENING_BREACH_SHARE:
            days = int(rng.triangular(*M.SCREENING_LATE_DAYS[:2], M.SCREENING_LATE_DAYS[2]))
        else:
            days = int(rng.triangular(*M.SCREENING_ON_TIME_DAYS[:2], M.SCREENING_ON_TIME_DAYS[2]))
        screen_day = workday(day + days)
        screened = max(self.office(screen_day), latest + 3600)
        investigate = immediate or random() < M.SCREENING_INVESTIGATED_SHARE
        events.append((screened, SCREENED, SCREENED_DATA[investigate]))
        if investigate:
            area = CHILD_AREA(random)
            investigator = unit
            if area == "vald_i_nara_relation" and self.vald:
                investigator = self.vald[int(random() * len(self.vald))]
            opened = screened + 300 + int(random() * 7200)
            self.move(events, opened - 60, investigator)
            self.investigation(
                events, screen_day, opened, area, M.CHILD_INVESTIGATION_DAYS, M.CHILD_DECISION_SHARE,
                CHILD_INTERVENTION, CHILD_PLACEMENT, M.PLACEMENT_MEAN_DAYS, child=True)
        self.commit(intake, self.new_id("c"), events, moves=self.moves)

    def adult_case(self, unit: Unit, day: int) -> None:
        self.owner, self.moves = unit, []
        events: list = []
        random = self.rng.random
        self.investigation(
            events, day, self.office(day), ADULT_AREA(random), M.ADULT_INVESTIGATION_DAYS,
            M.ADULT_DECISION_SHARE, ADULT_INTERVENTION, ADULT_PLACEMENT, M.ADULT_PLACEMENT_MEAN_DAYS)
        self.commit(unit, self.new_id("c"), events, moves=self.moves)

    def investigation(self, events: list, day: int, opened: int, area: str, duration, decision_share,
                      interventions: Choice, placements: Choice, mean_days: dict, child: bool = False,
                      reopened: bool = False) -> None:
        """Open, maybe extend, close, maybe decide; a child investigation closed without action
        is sometimes reopened, within the link window or later (never twice)."""
        rng = self.rng
        if child and area != "barn_unga":
            events.append((opened, INV_OPENED, f'{{"area":"{area}","child":true}}'))
        else:
            events.append((opened, INV_OPENED, AREA_DATA[area]))
        length = int(rng.triangular(duration[0], duration[1], duration[2]))
        if length > M.INVESTIGATION_LIMIT_DAYS and rng.random() < M.EXTENDED_SHARE_OF_LONG:
            decided_on = rng.randint(M.EXTENSION_DECIDED_DAY[0], min(M.EXTENSION_DECIDED_DAY[1], length - 3))
            new_due = opened + (M.INVESTIGATION_LIMIT_DAYS + rng.randint(*M.EXTENSION_EXTRA_DAYS)) * DAY
            events.append((max(self.office(day + decided_on), opened + 3600), INV_EXTENDED,
                           f'{{"new_due":"{self.clock.fmt(new_due)}"}}'))
        close_day = workday(day + length)
        closed = max(self.office(close_day), opened + 3600)
        decide = rng.random() < decision_share
        events.append((closed, INV_CLOSED, CLOSED_DATA[decide]))
        if not decide:
            if child and not reopened:
                u = rng.random()
                gap = None
                if u < M.REOPENED_SOON_SHARE:
                    gap = rng.randint(*M.REOPENED_SOON_DAYS)
                elif u < M.REOPENED_SOON_SHARE + M.REOPENED_LATER_SHARE:
                    gap = rng.randint(*M.REOPENED_LATER_DAYS)
                if gap is not None:
                    again = close_day + gap
                    self.investigation(events, again, max(self.office(again), closed + 3600), area, duration,
                                       decision_share, interventions, placements, mean_days, True, True)
            return
        made_day = close_day + rng.randint(*M.DECISION_AFTER_CLOSE_DAYS)
        made = max(self.office(made_day), closed + 600)
        self.decision(events, made_day, made, interventions(rng.random), placements, mean_days, child)

    def decision(self, events: list, day: int, made: int, intervention: str, placements: Choice,
                 mean_days: dict, child: bool = False) -> None:
        rng = self.rng
        random = rng.random
        decision_id = self.new_id("d")
        ptype = placements(random) if intervention == "placement" else None
        basis = "sol"
        if ptype is not None:
            if child and (ptype == "sis" or random() < M.CHILD_PLACEMENT_LVU_SHARE):
                basis = "lvu"
            elif not child and ptype == "sis" and random() < M.ADULT_SIS_LVM_SHARE:
                basis = "lvm"
        sex = SEX(random)
        events.append((made, DEC_MADE, f'{{"decision_id":"{decision_id}","intervention":"{intervention}"'
                       + (f',"legal_basis":"{basis}"' if basis != "sol" else "")
                       + (f',"sex":"{sex}"}}' if sex != "-" else "}")))
        if intervention == "familjebehandling" and self.behandling:
            self.move(events, made + 300, self.behandling[int(random() * len(self.behandling))])
        fates = M.DECISION_FATES_FAMILY_TREATMENT if intervention == "familjebehandling" else M.DECISION_FATES
        u = random()
        if u < fates[0]:
            days = int(min(M.ENFORCEMENT_MAX_ON_TIME_DAYS, rng.lognormvariate(log(M.ENFORCEMENT_MEDIAN_DAYS), 0.8)))
        elif u < fates[0] + fates[1]:
            days = rng.randint(*M.LATE_ENFORCEMENT_DAYS)
            if random() < M.DELAY_REASON_SHARE_OF_LATE:
                reason = M.DELAY_REASONS[int(random() * len(M.DELAY_REASONS))]
                at = max(self.office(day + rng.randint(30, 80)), made + 600)
                events.append((at, DEC_DELAY_REASON, f'{{"decision_id":"{decision_id}","reason":"{reason}"}}'))
        else:
            low, high = M.ENDED_UNENFORCED_DAYS if u < fates[0] + fates[1] + fates[2] else M.LONG_PENDING_DAYS
            ended_day = day + rng.randint(low, high)
            reason = M.DECISION_END_REASONS[int(random() * len(M.DECISION_END_REASONS))]
            events.append((max(self.office(ended_day), made + 600), DEC_ENDED,
                           f'{{"decision_id":"{decision_id}","reason":"{reason}"}}'))
            return
        enforced_day = workday(day + days)
        enforced = max(self.office(enforced_day), made + 600)
        events.append((enforced, DEC_ENFORCED, f'{{"decision_id":"{decision_id}"}}'))
        if ptype is not None:
            length = max(M.PLACEMENT_MIN_DAYS, int(rng.expovariate(1.0 / mean_days[ptype])))
            self.placement(events, enforced_day, enforced + 60, ptype, length, enforced_day, basis, child)
        elif random() < M.INTERRUPTED_SHARE:
            self.interruption(events, enforced_day, enforced, decision_id)

    def interruption(self, events: list, enforced_day: int, enforced: int, decision_id: str) -> None:
        """Enforcement interrupted, then resumed, ended or (for now) left open."""
        rng = self.rng
        stop_day = enforced_day + rng.randint(*M.INTERRUPTED_AFTER_DAYS)
        stopped = max(self.office(stop_day), enforced + 3600)
        events.append((stopped, DEC_INTERRUPTED, f'{{"decision_id":"{decision_id}"}}'))
        u = rng.random()
        fates = M.INTERRUPTION_FATES
        if u >= fates[0] + fates[1]:
            return
        then = max(self.office(stop_day + rng.randint(*M.INTERRUPTION_DAYS)), stopped + 3600)
        if u < fates[0]:
            events.append((then, DEC_RESUMED, f'{{"decision_id":"{decision_id}"}}'))
        else:
            events.append((then, DEC_ENDED, f'{{"decision_id":"{decision_id}","reason":"behov_upphort"}}'))

    def emergency_placement(self, events: list, at: int) -> None:
        """An immediate placement after a protection assessment (e.g. LVU 6 §)."""
        rng = self.rng
        decision_id = self.new_id("d")
        ptype = EMERGENCY_PLACEMENT(rng.random)
        basis = "lvu" if ptype == "sis" or rng.random() < M.EMERGENCY_PLACEMENT_LVU_SHARE else "sol"
        events.append((at, DEC_MADE, f'{{"decision_id":"{decision_id}","intervention":"placement",'
                                     f'"legal_basis":"{basis}"}}'))
        events.append((at + 60, DEC_ENFORCED, f'{{"decision_id":"{decision_id}"}}'))
        length = max(M.PLACEMENT_MIN_DAYS, int(rng.expovariate(1.0 / M.PLACEMENT_MEAN_DAYS[ptype])))
        self.placement(events, self.clock.day(at), at + 120, ptype, length, self.clock.day(at), basis)

    def placement_cost(self, ptype: str) -> int:
        rng = self.rng
        if ptype == "hvb":
            return int(rng.triangular(M.HVB_COST[0], M.HVB_COST[1], M.HVB_COST[2]))
        if ptype == "sis":
            if rng.random() < M.SIS_SPECIAL_SHARE:
                return rng.randint(*M.SIS_SPECIAL_COST)
            return rng.randint(*M.SIS_COST)
        return rng.randint(*M.UNIFORM_COSTS[ptype])

    def placement(self, events: list, day: int, started: int, ptype: str, length: int,
                  changes_from: int, basis: str = "sol", child: bool = True) -> None:
        """placement.started at ``started`` (on ``day``), ended ``length`` days later; price
        changes only on days from ``changes_from`` on. Care under LVM ends at the latest when
        it has lasted six months (LVM 20 §), on that day even at a weekend. An adult's placement
        carries the age band "18-20" or none (model.CHILD_PLACEMENT_AGE_BANDS)."""
        rng = self.rng
        last_day = lvm_last_day(day) if basis == "lvm" else None
        if last_day is not None:
            length = min(length, last_day - day)
        placement_id = self.new_id("p")
        cost = self.placement_cost(ptype)
        if child:
            age = CHILD_PLACEMENT_AGE[ptype](rng.random)
        else:
            age = "18-20" if rng.random() < M.ADULT_PLACEMENT_YOUNG_SHARE[ptype] else None
        events.append((started, PL_STARTED,
                       f'{{"placement_id":"{placement_id}","placement_type":"{ptype}",'
                       f'"daily_cost_sek":{cost}' + (f',"age_band":"{age}"' if age else "")
                       + (f',"legal_basis":"{basis}"}}' if basis != "sol" else "}")))
        end_day = day + length
        ended = max(self.office(end_day), started + 3600)
        if last_day is not None and self.clock.day(ended) > last_day:
            ended = self.clock.midnight(last_day) + M.OFFICE_START_SECONDS
        span = end_day - changes_from
        if span > 2:
            n = poisson(rng, span / 365.25 * M.COST_CHANGES_PER_YEAR)
            for change_day in sorted(rng.randint(changes_from + 1, end_day - 1) for _ in range(n)):
                cost = int(cost * rng.uniform(*M.COST_CHANGE_FACTOR))
                at = max(self.office(change_day), started + 600)
                if at < ended:
                    events.append((at, PL_COST, f'{{"placement_id":"{placement_id}","daily_cost_sek":{cost}}}'))
        events.append((ended, PL_ENDED, f'{{"placement_id":"{placement_id}"}}'))


def lvm_last_day(day: int) -> int:
    """The day (ordinal) care under LVM begun on ``day`` has ended by: LVM_MAX_MONTHS later."""
    return add_months(date.fromordinal(day), M.LVM_MAX_MONTHS).toordinal()
