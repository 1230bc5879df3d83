"""The simulator's generative model: every rate, share, price and duration as a named constant.

Figures marked [DOMAIN] come from /work/shared/DOMAIN.md ("Orders of magnitude" and the board
indicators); the rest are stated assumptions, chosen so that the DOMAIN figures come out.
Volumes are given for a municipality of :data:`REFERENCE_POPULATION` and scale linearly.
Weights are relative (they need not sum to 1). Durations are in days unless named otherwise.
"""
from __future__ import annotations

REFERENCE_POPULATION = 50_000  # [DOMAIN] "a municipality of ~50,000"

SOURCE = "casewatch-simulator"

# --- organisation -----------------------------------------------------------------------------

# Units of each kind in the reference municipality; more population, more units (never fewer
# than one). Unit names are "<kind>-<n>": bou = barn och unga, vuxen = vuxna, eb = ekonomiskt
# bistånd. A unit whose name starts with none of these kinds only has staff.
UNITS_PER_REFERENCE = {"bou": 2, "vuxen": 1, "eb": 1}
# Units of contract v2's flows, present only when named (e.g. ``--units mottagning-1,bou-1,vald-1,
# behandling-1,vuxen-1,eb-1``): mottagning receives the children's reports and screens them, then
# moves a case on to investigation (vald takes violence in close relationships, bou the rest);
# after a decision on family treatment the case moves on to behandling. Staff like "other".
FLOW_KINDS = ("mottagning", "vald", "behandling")

# Staff positions per unit of a kind at reference scale: (role, permanent slots, consultant slots).
# Sized so that caseload lands around 12-18 open investigations per social worker.
STAFF_POSITIONS = {
    "bou": (("socialsekreterare", 7, 2), ("arbetsledare", 1, 0), ("behandlare", 2, 0)),
    "vuxen": (("socialsekreterare", 5, 1), ("arbetsledare", 1, 0), ("behandlare", 2, 0)),
    "eb": (("socialsekreterare", 7, 1), ("arbetsledare", 1, 0), ("annan", 1, 0)),
    "other": (("socialsekreterare", 3, 0), ("arbetsledare", 1, 0)),
    "mottagning": (("socialsekreterare", 5, 1), ("arbetsledare", 1, 0)),
    "vald": (("socialsekreterare", 3, 1), ("arbetsledare", 1, 0)),
    "behandling": (("behandlare", 5, 0), ("arbetsledare", 1, 0)),
}
STAFF_TURNOVER_PER_YEAR = 0.12  # [DOMAIN] staff turnover 12 % (target 10 %)
VACANCY_DAYS = (20, 120)  # a permanent post stays empty this long before the next hire
VACANCY_BRIDGED_BY_CONSULTANT = 0.5  # share of vacancies covered by a hired consultant
CONSULTANT_START_AFTER_VACANCY = (3, 21)
CONSULTANT_CONTRACT_DAYS = (60, 270)
CONSULTANT_GAP_DAYS = (0, 21)
# per contract end: the post is filled permanently. 0 keeps the hired slots, so the number of
# consultants is steady over the years (a share > 0 drained them: 18 -> 11 in two years).
CONSULTANT_SLOT_BECOMES_PERMANENT = 0.0
CONSULTANT_DAILY_COST_SEK = (6_000, 9_000)  # brief: consultants ~6,000-9,000 SEK a day
PERMANENT_FTE = ((1.0, 80), (0.8, 10), (0.75, 5), (0.5, 5))
CONSULTANT_FTE = ((1.0, 90), (0.8, 10))
# The initial staff's ages at the window start, as in a steady state: a permanent employee's
# tenure so far is exponential at the turnover rate; a consultant is uniformly far into a
# contract of up to CONSULTANT_CONTRACT_DAYS[1] days.

# --- children: reports of concern (orosanmälningar) --------------------------------------------

REPORTS_PER_YEAR = 2_300  # [DOMAIN] 2,000-2,500 a year (40-50 a week) at 50,000
# Monday..Sunday; mean 1. Reports follow the working week, fewer at weekends.
WEEKDAY_FACTOR = (1.25, 1.2, 1.15, 1.15, 1.05, 0.6, 0.6)
# January..December; mean 1. School terms: the summer holiday and Christmas are quieter.
MONTH_FACTOR = (1.075, 1.075, 1.075, 1.075, 1.075, 0.9, 0.7, 0.9, 1.075, 1.075, 1.075, 0.9)
REPORT_OFFICE_HOURS_SHARE = 0.8  # weekday reports inside 08-17; the rest any time of day
# Reporter mix (assumption, in line with national statistics: police and school dominate).
REPORTERS = (("polis", 30), ("skola", 20), ("socialtjanst", 15), ("halso_sjukvard", 12),
             ("anonym", 5), ("annan", 18))
REPORT_AGE_BANDS = (("0-12", 58), ("13-17", 39), ("18-20", 3))
REPORT_AGE_BAND_PRESENT = 0.9  # age_band is optional in the contract; sometimes left out

# Protection assessment (skyddsbedömning): "genast", 24 h clock [DOMAIN].
PROTECTION_DONE_SHARE = 0.95  # the rest go straight to screening without a separate assessment
PROTECTION_LATE_SHARE = 0.08  # assessed after more than 24 h
PROTECTION_MEDIAN_HOURS = 3.0
PROTECTION_LATE_HOURS = (25, 120)
IMMEDIATE_PROTECTION_SHARE = 0.025
EMERGENCY_PLACEMENT_SHARE = 0.25  # of immediate protection: the child is placed at once
EMERGENCY_PLACEMENT_TYPES = (("jourhem", 75), ("sis", 10), ("hvb", 15))

# Screening (förhandsbedömning), 14-day clock [DOMAIN]: compliance is often poor.
SCREENING_BREACH_SHARE = 0.30  # brief: 20-40 %; [DOMAIN] some districts over 60 %
SCREENING_ON_TIME_DAYS = (1, 12, 9)  # triangular (low, high, mode) in days
SCREENING_LATE_DAYS = (15, 75, 20)
SCREENING_INVESTIGATED_SHARE = 0.38  # [DOMAIN] about 38 % lead to an investigation

# --- investigations (utredningar) ----------------------------------------------------------------

CHILD_AREAS = (("barn_unga", 90), ("vald_i_nara_relation", 7), ("annan", 3))
# Triangular (low, high, mode) days; mean ~102 days ([DOMAIN] U33401: 102 days in 2019).
# About a quarter run past the 4-month limit.
CHILD_INVESTIGATION_DAYS = (30, 190, 85)
INVESTIGATION_LIMIT_DAYS = 122  # ~4 calendar months [DOMAIN]
EXTENDED_SHARE_OF_LONG = 0.45  # of investigations running past 4 months, share formally extended
EXTENSION_DECIDED_DAY = (95, 118)
EXTENSION_EXTRA_DAYS = (30, 75)  # new_due = opened + 4 months (approx.) + this
CHILD_DECISION_SHARE = 0.40  # brief: ~40 % of closed investigations lead to a decision

# Contract v2: an investigation closed without action is sometimes reopened (a new report about
# the same child): within the link window (same clock, JO) or later (a new clock).
REOPENED_SOON_SHARE = 0.06
REOPENED_SOON_DAYS = (2, 13)
REOPENED_LATER_SHARE = 0.02
REOPENED_LATER_DAYS = (16, 60)

ADULT_INVESTIGATIONS_PER_YEAR = 260  # assumption for a vuxen unit at reference scale
ADULT_AREAS = (("vuxna", 75), ("vald_i_nara_relation", 20), ("annan", 5))
ADULT_INVESTIGATION_DAYS = (20, 150, 60)
ADULT_DECISION_SHARE = 0.55

# --- decisions (beslut om insats) --------------------------------------------------------------

CHILD_INTERVENTIONS = (("familjebehandling", 40), ("kontaktfamilj", 12), ("kontaktperson", 16),
                       ("placement", 13), ("stodboende", 3), ("annan", 16))
ADULT_INTERVENTIONS = (("kontaktperson", 25), ("stodboende", 20), ("placement", 25),
                       ("familjebehandling", 10), ("annan", 20))
DECISION_AFTER_CLOSE_DAYS = (0, 3)
ENFORCEMENT_MEDIAN_DAYS = 12.0  # usually within weeks
ENFORCEMENT_MAX_ON_TIME_DAYS = 85
# Outcome shares: (enforced on time, enforced late > 3 months, ended unenforced, left pending for
# long and then ended). [DOMAIN] 8 decisions not enforced at year end, 6 of them family treatment.
DECISION_FATES = (0.89, 0.04, 0.05, 0.02)
DECISION_FATES_FAMILY_TREATMENT = (0.83, 0.08, 0.05, 0.04)
LONG_PENDING_DAYS = (180, 400)
LATE_ENFORCEMENT_DAYS = (95, 220)
ENDED_UNENFORCED_DAYS = (20, 150)
DECISION_END_REASONS = ("tackar_nej", "flyttat", "behov_upphort", "annan")
SEX = (("kvinna", 48), ("man", 48), (None, 4))  # sex on decision.made (optional in the contract)
# Legal basis of placements: a share of children's are LVU (always for SiS youth homes and most
# emergency placements, LVU 6 §); some adults' SiS placements are LVM.
CHILD_PLACEMENT_LVU_SHARE = 0.30
EMERGENCY_PLACEMENT_LVU_SHARE = 0.8
ADULT_SIS_LVM_SHARE = 0.85
# Enforcement interrupted (verkställighet avbruten), then resumed, ended or left open.
INTERRUPTED_SHARE = 0.08
INTERRUPTED_AFTER_DAYS = (14, 120)
INTERRUPTION_FATES = (0.55, 0.30, 0.15)  # resumed, ended, left open
INTERRUPTION_DAYS = (7, 160)
DELAY_REASON_SHARE_OF_LATE = 0.6
DELAY_REASONS = ("ingen_resurs", "tackat_nej_till_erbjudande", "enskild_vill_vanta", "annan")

# --- placements ---------------------------------------------------------------------------------

# [DOMAIN] ~125 children in out-of-home care a year at 50,000: ~90 foster homes, ~30 HVB.
# Inflow mix of new child placements, by decision:
CHILD_PLACEMENT_TYPES = (("familjehem_arvoderat", 42), ("familjehem", 8), ("hvb", 39), ("sis", 4),
                         ("skyddat_boende", 3), ("stodboende", 4))
# Adults: HVB (mostly addiction care), SiS's LVM homes (compulsory care of adults with addiction,
# LVM; ADULT_SIS_LVM_SHARE of them, the rest voluntary under SoL), protected housing after
# violence, supported housing. The SiS weight gives ~4 adult SiS placements a year at 50,000,
# Sweden's ~1,000 people a year in LVM care per 10.5 million inhabitants.
ADULT_PLACEMENT_TYPES = (("hvb", 60), ("sis", 12), ("skyddat_boende", 30), ("stodboende", 10))
# Mean length of stay (exponential, so a running placement's remaining stay has the same law).
# Foster care often lasts years: 1,200 days keep ~60 foster homes running in a steady flow.
PLACEMENT_MEAN_DAYS = {"familjehem": 1200, "familjehem_arvoderat": 1200, "hvb": 180, "sis": 120,
                       "jourhem": 60, "skyddat_boende": 75, "stodboende": 240}
# Adults at SiS: ~110 days as a mean, and care under LVM ends at the latest when it has lasted
# LVM_MAX_MONTHS (LVM 20 §), so about a fifth of LVM stays run the full six months.
ADULT_PLACEMENT_MEAN_DAYS = {"hvb": 120, "sis": 110, "skyddat_boende": 60, "stodboende": 240}
LVM_MAX_MONTHS = 6
PLACEMENT_MIN_DAYS = 3
# Placements running at the window start that began before the warm-up, per reference
# municipality, in a steady state: starts a year x mean days / 365 x exp(-WARMUP_DAYS / mean
# days), the placements of before the warm-up still running at its end (the warm-up's own
# inflow adds the rest). Starts a year measured on the simulated flow: children familjehem 2.7,
# arvoderat 15.7, hvb 17, sis 4.3, jourhem 12.7, skyddat boende 2, stödboende 1; adults hvb 21,
# skyddat boende 8.7, stödboende 2 (measured before adults went to SiS, which took 11 % of
# adults' placements: hvb ~19 now, whose steady stock would be 0.51, not 0.57; 0.06 of a
# placement, left as it is). That gives ~60 foster homes and ~9 HVB running at any time
# ([DOMAIN] mean of 9 young people in HVB; ~125 children in care in a year), the same at the
# window's start and end. Their
# start dates lie before the warm-up by an exponential age (memoryless, so the running ones'
# age has the law of a duration), not in a burst just before the window.
CHILD_PLACEMENT_STOCK = {"familjehem_arvoderat": 40.2, "familjehem": 6.9, "hvb": 1.6, "sis": 0.12,
                         "jourhem": 0.01, "skyddat_boende": 0.01, "stodboende": 0.19}
# No adult SiS: an LVM stay begun before the warm-up ended long before the window (six months at
# most); a voluntary one still running is ~0.01.
ADULT_PLACEMENT_STOCK = {"hvb": 0.57, "skyddat_boende": 0.01, "stodboende": 0.38}
# Cases of the warm-up that are over before the window are dropped, except those that touch its
# last weeks: the first reports' 12-week inflow charts see every report, not only open cases'.
KEEP_BEFORE_WINDOW_DAYS = 13 * 7 + 7
# Daily prices in SEK. [DOMAIN] HVB 1,100-8,400 (mean 4,458 for ages 13-18): a triangular law
# (low, high, mode) with that mean; SiS 4,900-7,500, special units over 13,000. Others: brief.
HVB_COST = (1_100, 8_400, 3_875)
SIS_COST = (4_900, 7_500)
SIS_SPECIAL_SHARE = 0.05
SIS_SPECIAL_COST = (13_000, 16_000)
UNIFORM_COSTS = {"familjehem": (600, 1_100), "familjehem_arvoderat": (900, 1_500),
                 "jourhem": (1_500, 2_500), "skyddat_boende": (2_000, 4_000),
                 "stodboende": (1_000, 2_500)}
COST_CHANGES_PER_YEAR = 0.6  # renegotiated prices / indexation while a placement runs
COST_CHANGE_FACTOR = (0.95, 1.15)
# The contract's age bands (0-12, 13-17, 18-20) are children's and young adults'. A child's
# placement carries one by type; an adult's carries "18-20" when the adult is that young (the
# share below, by type) and none otherwise: no band of the contract covers 21 and over, and the
# field is optional.
CHILD_PLACEMENT_AGE_BANDS = {
    "hvb": (("13-17", 90), ("18-20", 10)), "sis": (("13-17", 95), ("18-20", 5)),
    "familjehem": (("0-12", 65), ("13-17", 35)), "familjehem_arvoderat": (("0-12", 65), ("13-17", 35)),
    "jourhem": (("0-12", 80), ("13-17", 20)), "skyddat_boende": (("0-12", 70), ("13-17", 30)),
    "stodboende": (("13-17", 30), ("18-20", 70)),
}
ADULT_PLACEMENT_YOUNG_SHARE = {"hvb": 0.10, "sis": 0.08, "skyddat_boende": 0.12, "stodboende": 0.25}

# --- economic assistance (ekonomiskt bistånd) ---------------------------------------------------

NEW_APPLICANT_SHARE = 0.35  # nybesök (Kolada U31402)
APPLICATIONS_PER_YEAR = 1_020  # new spells (first contact) at reference scale (assumption)
# Days from first contact to decision, triangular (low, high, mode): mean ~12
# ([DOMAIN] U31402, target 10 days).
APPLICATION_DECISION_DAYS = (3, 25, 9)
APPLICATION_GRANTED_SHARE = 0.88
ASSISTANCE_MEAN_MONTHS = 6.0  # geometric spell length in months
ASSISTANCE_MAX_MONTHS = 36
# Households receiving assistance since before the warm-up, at reference scale, in a steady
# state: spells a year (APPLICATIONS_PER_YEAR x granted share) x mean months / 12, of which the
# share still running after the warm-up's months. With the warm-up's inflow about 450
# households are paid each month, at the window's start and end alike (220 made payments fall
# by a quarter over the first year).
ASSISTANCE_STOCK = round(APPLICATIONS_PER_YEAR * APPLICATION_GRANTED_SHARE * ASSISTANCE_MEAN_MONTHS / 12
                         * (1 - 1 / ASSISTANCE_MEAN_MONTHS) ** (300 / 30.44))  # 300: WARMUP_DAYS, in months
PAYMENT_SEK = (4_000, 15_000)  # brief: monthly payments 4,000-15,000 SEK
PAYMENT_MONTHLY_VARIATION = (0.9, 1.1)
PAYDAY = (20, 27)  # day of month a household is paid

# --- time ---------------------------------------------------------------------------------------

# The case flow starts this long before the window, so backlogs (open and overdue investigations,
# decisions past 3 months) are at their usual level on day one. Cases still running at the window
# start keep their earlier events, so a stream starts up to this long before its window.
WARMUP_DAYS = 300
OFFICE_START_SECONDS = 8 * 3600
OFFICE_LENGTH_SECONDS = 8 * 3600 + 1800  # 08:00-16:30

# --- stream perturbations -----------------------------------------------------------------------

LATE_DELAY_DAYS = (1.0, 10.0)  # a late event arrives this long after it occurred
DUPLICATE_DELAY_SECONDS = (60, 3 * 86400)  # a re-sent copy follows the original by this much
