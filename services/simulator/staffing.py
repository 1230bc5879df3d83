"""Staff posts: permanent staff with exponential tenure, vacancies, consultants bridging them."""
from __future__ import annotations

from . import model as M
from .draws import CONSULTANT_FTE, PERMANENT_FTE
from .spec import STAFF_JOINED, STAFF_LEFT
from .world import Unit


class StaffPosts:
    """Mixin of :class:`services.simulator.municipality.Municipality` (uses its rng, ids, commit)."""

    # staff --------------------------------------------------------------------------------------

    def staff(self, unit: Unit, ws_day: int) -> None:
        rng = self.rng
        scale = unit.staff_scale
        for role, permanent, consultants in M.STAFF_POSITIONS[unit.kind]:
            n_perm = int(permanent * scale + 0.5)
            if n_perm == 0 and permanent and role in ("socialsekreterare", "arbetsledare"):
                n_perm = 1
            for _ in range(n_perm):
                # Tenure is exponential, so the tenure so far and the remaining one at the
                # window start are too (a steady state, not everyone hired last month).
                join = ws_day - 1 - int(rng.expovariate(M.STAFF_TURNOVER_PER_YEAR) * 365.25)
                self.permanent_post(unit, role, join, ws_day)
            for _ in range(int(consultants * scale + 0.5)):
                # the post's chain of contracts began up to one contract before the window, so
                # the one running at its start is part-way through an ordinary contract
                join = ws_day - rng.randint(1, M.CONSULTANT_CONTRACT_DAYS[1])
                self.consultant_post(unit, role, join, join)

    def tenure_days(self) -> int:
        return max(30, int(self.rng.expovariate(M.STAFF_TURNOVER_PER_YEAR) * 365.25))

    def permanent_post(self, unit: Unit, role: str, join: int, tenure_from: int) -> None:
        rng = self.rng
        last = self.world.last_day
        while join <= last:
            leave = tenure_from + self.tenure_days()
            self.person(unit, role, False, join, leave)
            next_join = leave + rng.randint(*M.VACANCY_DAYS)
            if rng.random() < M.VACANCY_BRIDGED_BY_CONSULTANT:
                c_join = leave + rng.randint(*M.CONSULTANT_START_AFTER_VACANCY)
                if c_join < next_join - 5:
                    self.person(unit, role, True, c_join, next_join)
            join = tenure_from = next_join

    def consultant_post(self, unit: Unit, role: str, join: int, contract_from: int) -> None:
        rng = self.rng
        last = self.world.last_day
        while join <= last:
            leave = contract_from + rng.randint(*M.CONSULTANT_CONTRACT_DAYS)
            self.person(unit, role, True, join, leave)
            if rng.random() < M.CONSULTANT_SLOT_BECOMES_PERMANENT:
                hire = leave + rng.randint(30, 90)
                self.permanent_post(unit, role, hire, hire)
                return
            join = contract_from = leave + rng.randint(*M.CONSULTANT_GAP_DAYS)

    def person(self, unit: Unit, role: str, consultant: bool, join: int, leave: int) -> None:
        rng = self.rng
        staff_id = self.new_id("s")
        if consultant:
            fte = CONSULTANT_FTE(rng.random)
            low, high = M.CONSULTANT_DAILY_COST_SEK
            cost = rng.randint(low // 50, high // 50) * 50
            data = (f'{{"staff_id":"{staff_id}","role":"{role}","employment":"consultant",'
                    f'"fte":{fte},"daily_cost_sek":{cost}}}')
        else:
            fte = PERMANENT_FTE(rng.random)
            data = f'{{"staff_id":"{staff_id}","role":"{role}","employment":"permanent","fte":{fte}}}'
        join_ts = self.office(join)
        leave_ts = max(self.office(leave), join_ts + 3600)
        # the ledger's own staff (services/simulator/ledger.py): permanent posts, by day
        self.staff_log.append((unit.name, role, consultant, fte, join, self.clock.day(leave_ts)))
        self.commit(unit, staff_id, [(join_ts, STAFF_JOINED, data),
                                     (leave_ts, STAFF_LEFT, f'{{"staff_id":"{staff_id}"}}')], True)
