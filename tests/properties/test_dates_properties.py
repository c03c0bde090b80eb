"""The laws of contractrules.dates (shared/notes/dates.md): P1–P10, B1–B3 as Hypothesis
properties, and the non-properties N1–N5 as pinned counterexamples that Hypothesis
also finds on its own."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import assume, find, given, settings
from hypothesis import strategies as st

from contractrules.dates import (
    CYCLE_MONTHS,
    ROLL_CONVENTIONS,
    add_days,
    add_months,
    add_years,
    business_calendar,
    cycle_bounds,
    cycle_index,
    cycle_start,
    days_in_month,
    month_overflows,
    period_end,
    schedule,
)
from contractrules.errors import AmbiguousDateError
from tests import strategies as s

ONE_DAY = timedelta(days=1)
FIND = settings(database=None, max_examples=2000, derandomize=True)


def _maybe(d: date, n: int, mode: str) -> date | None:
    """add_months, or None where ``error`` mode refuses."""
    try:
        return add_months(d, n, mode)
    except AmbiguousDateError:
        return None


# --------------------------------------------------------------------------- P1–P10


def _maybe_years(d: date, y: int, mode: str) -> date | None:
    try:
        return add_years(d, y, mode)
    except AmbiguousDateError:
        return None


@given(s.dates, s.day_offsets, s.day_offsets)
def test_p1_day_addition_is_associative(d, a, b):
    """P1: (d + a days) + b days == d + (a+b) days."""
    assert add_days(add_days(d, a), b) == add_days(d, a + b)


@given(s.dates, s.dates)
def test_p2_difference_is_in_days_and_inverts_addition(d1, d2):
    """P2: d2 + (d1 - d2) == d1; a date difference is a whole number of days."""
    diff = d1 - d2
    assert (diff.seconds, diff.microseconds) == (0, 0)
    assert add_days(d2, diff.days) == d1


@given(s.interesting_dates, s.interesting_dates, s.month_offsets, s.overflow_modes)
def test_p3_month_addition_is_monotone(d1, d2, n, mode):
    """P3: d1 <= d2 implies add_months(d1, n) <= add_months(d2, n), every mode, any sign."""
    d1, d2 = min(d1, d2), max(d1, d2)
    r1, r2 = _maybe(d1, n, mode), _maybe(d2, n, mode)
    assume(r1 is not None and r2 is not None)
    assert r1 <= r2


@given(s.interesting_dates, s.month_offsets)
def test_p4_roll_forward_is_clip_or_the_day_after(d, n):
    """P4: 0 <= roll_forward(d, n) - clip(d, n) <= 1 day."""
    gap = add_months(d, n, "roll_forward") - add_months(d, n, "clip")
    assert timedelta(0) <= gap <= ONE_DAY


@given(s.interesting_dates, s.month_offsets)
def test_p5_error_raises_iff_day_missing_iff_modes_differ(d, n):
    """P5: error raises <=> d.day > days_in(target) <=> clip != roll_forward; else all agree."""
    target = d + relativedelta(day=1, months=n)
    missing = d.day > days_in_month(target.year, target.month)
    clip, forward = add_months(d, n, "clip"), add_months(d, n, "roll_forward")
    assert month_overflows(d, n) is missing
    assert (clip != forward) is missing
    if missing:
        with pytest.raises(AmbiguousDateError):
            add_months(d, n, "error")
    else:
        assert add_months(d, n, "error") == clip == forward


@given(s.interesting_dates, s.year_offsets, s.small_month_offsets, s.overflow_modes)
def test_p6_years_are_twelve_months(d, y, m, mode):
    """P6: a period of y years + m months is (12y + m) months.

    (Applied as one period. Applied one after the other it is not a law: 2000-02-29 +1y
    +1m is 2001-03-28, +13m is 2001-03-29; see N1.)"""
    assert d + relativedelta(years=y, months=m) == add_months(d, 12 * y + m)
    assert _maybe(d, 12 * y, mode) == (_maybe_years(d, y, mode))


@given(s.interesting_dates, s.month_offsets)
def test_p7_clip_is_relativedelta(d, n):
    """P7: clip is the same day n months later, or that month's last day — computed here
    independently with calendar.monthrange, not with relativedelta (which implements it);
    roll_forward is the day after that last day instead."""
    year, month0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    assume(1 <= year <= 9999)
    month = month0 + 1
    last = calendar.monthrange(year, month)[1]
    expected = date(year, month, min(d.day, last))
    assert add_months(d, n, "clip") == expected
    if d.day <= last:
        assert add_months(d, n, "roll_forward") == expected
    elif (year, month) != (9999, 12):
        assert add_months(d, n, "roll_forward") == date(year, month, last) + timedelta(days=1)
    assert add_months(d, n, "clip") == d + relativedelta(months=n)  # the documented equivalence


@given(s.interesting_dates, s.month_offsets)
def test_p8_there_and_back_loses_at_most_three_days(d, n):
    """P8: with clip, add_months(add_months(d, n), -n) <= d, equal iff no clipping, gap <= 3."""
    back = add_months(add_months(d, n), -n)
    assert back <= d
    assert (back == d) is (not month_overflows(d, n))
    assert d - back <= timedelta(days=3)


@given(s.interesting_dates, st.integers(0, 240), st.sampled_from(sorted(CYCLE_MONTHS)))
def test_p9_anchored_schedule_keeps_the_anchor_day(anchor, k, cycle):
    """P9: (anchor + k months).day == min(anchor.day, days_in(month)), also via schedule()."""
    months = k * CYCLE_MONTHS[cycle]
    d = add_months(anchor, months)
    assert d.day == min(anchor.day, days_in_month(d.year, d.month))
    assert cycle_start(anchor, None, cycle, k) == d


@given(s.interesting_dates, st.integers(1, 31), s.cycles, st.integers(1, 120))
def test_p9_explicit_anchor_day_kept_after_the_stub(start, anchor_day, cycle, k):
    """P9 for an explicit anchor_day: every cycle k > 0 starts on min(anchor_day, days_in)."""
    d = cycle_start(start, anchor_day, cycle, k)
    assert d > start
    assert d.day == min(anchor_day, days_in_month(d.year, d.month))


@given(s.interesting_dates, st.integers(0, 36))
def test_p10_chained_months_never_overtake_one_addition(d, k):
    """P10: adding +1 month k times <= adding +k months once, differing by <= 3 days."""
    chained = d
    for _ in range(k):
        chained = add_months(chained, 1)
    once = add_months(d, k)
    assert chained <= once
    assert once - chained <= timedelta(days=3)


# --------------------------------------------------------------------------- schedules


@given(s.interesting_dates, s.anchor_days, s.cycles, st.integers(0, 40), st.sampled_from(["clip", "roll_forward"]))
def test_schedule_cycles_tile_time_and_cycle_index_finds_them(start, anchor_day, cycle, k, mode):
    """Cycles are contiguous and non-empty, and cycle_index inverts cycle_bounds."""
    lo, hi = cycle_bounds(start, anchor_day, cycle, k, mode)
    nxt, _ = cycle_bounds(start, anchor_day, cycle, k + 1, mode)
    assert lo <= hi and nxt == hi + ONE_DAY
    assert cycle_index(start, anchor_day, cycle, lo, mode) == k
    assert cycle_index(start, anchor_day, cycle, hi, mode) == k
    assert [x.date for x in schedule(start, anchor_day, cycle, k + 2, mode)][k:] == [lo, nxt]


# --------------------------------------------------------------------------- B1–B3


@given(s.calendar_specs, s.business_dates)
def test_b1_rolls_land_on_business_days(spec, d):
    """B1: preceding(d) <= d <= following(d), both business days, idempotent, equal to d iff d
    is a business day; modified_following stays in d's month and is one of the two."""
    cal = business_calendar(spec)
    p, f = cal.roll(d, "preceding"), cal.roll(d, "following")
    assert p <= d <= f
    assert cal.is_business_day(p) and cal.is_business_day(f)
    assert cal.roll(p, "preceding") == p and cal.roll(f, "following") == f
    assert (p == d) is (f == d) is cal.is_business_day(d)
    mf = cal.roll(d, "modified_following")
    assert mf.month == d.month and mf in (p, f)
    assert cal.roll(mf, "modified_following") == mf
    assert cal.roll(d, "none") == d


@given(s.calendar_specs, s.business_dates, st.integers(0, 400), st.sampled_from(ROLL_CONVENTIONS))
def test_b2_rolls_are_weakly_monotone(spec, d1, gap, convention):
    """B2: d1 <= d2 implies roll(d1) <= roll(d2), for every convention."""
    cal = business_calendar(spec)
    d2 = d1 + timedelta(days=gap)
    assert cal.roll(d1, convention) <= cal.roll(d2, convention)


@given(s.calendar_specs, s.business_dates, s.period_days)
def test_b3_rolled_period_end_is_a_business_day_not_before_the_nominal_end(spec, start, days):
    """B3: a period end rolled `following` is a business day >= the nominal end."""
    cal = business_calendar(spec)
    nominal = period_end(start, days)
    rolled = cal.roll(nominal, "following")
    assert cal.is_business_day(rolled) and rolled >= nominal


@given(s.calendar_specs, s.business_dates, st.integers(0, 60))
def test_business_days_counted_from_the_day_after(spec, d, n):
    """add_business_days(d, n) counts n business days strictly after d (d not counted)."""
    cal = business_calendar(spec)
    end = cal.add_business_days(d, n)
    counted = sum(cal.is_business_day(d + timedelta(days=i)) for i in range(1, (end - d).days + 1))
    assert counted == n
    assert n == 0 and end == d or cal.is_business_day(end)


# --------------------------------------------------------------------------- N1–N5


def test_n1_month_steps_do_not_add_up():
    """N1: (d + 1m) + 1m != d + 2m, at 2000-01-30 (clip: 03-29 vs 03-30); Hypothesis finds one."""
    d = date(2000, 1, 30)
    assert add_months(add_months(d, 1), 1) == date(2000, 3, 29)
    assert add_months(d, 2) == date(2000, 3, 30)
    found = find(s.dates, lambda x: add_months(add_months(x, 1), 1) != add_months(x, 2), settings=FIND)
    assert found.day >= 29  # only a day that a month lacks can be clipped


def test_n2_adding_then_subtracting_a_month_is_not_identity():
    """N2: (d + 1m) - 1m != d, at 2000-01-30; Hypothesis finds one."""
    assert add_months(add_months(date(2000, 1, 30), 1), -1) == date(2000, 1, 29)
    found = find(s.dates, lambda x: add_months(add_months(x, 1), -1) != x, settings=FIND)
    assert found.day >= 29 and month_overflows(found, 1)


def test_n3_days_and_months_do_not_commute():
    """N3: clip, 2000-01-29: +1m+1d = 03-01 but +1d+1m = 02-29; Hypothesis finds one."""
    d = date(2000, 1, 29)
    assert add_days(add_months(d, 1), 1) == date(2000, 3, 1)
    assert add_months(add_days(d, 1), 1) == date(2000, 2, 29)
    found = find(s.dates, lambda x: add_days(add_months(x, 1), 1) != add_months(add_days(x, 1), 1), settings=FIND)
    assert found.day >= 28


def test_n4_month_addition_is_not_strictly_monotone():
    """N4: 2000-01-29 < 2000-01-30 but both + 1m give 2000-02-29; Hypothesis finds one."""
    assert add_months(date(2000, 1, 29), 1) == add_months(date(2000, 1, 30), 1) == date(2000, 2, 29)
    found = find(s.dates, lambda x: add_months(x, 1) == add_months(x + ONE_DAY, 1), settings=FIND)
    assert month_overflows(found + ONE_DAY, 1)


def _chained(anchor: date, k: int, spec: str | None) -> date:
    cal = business_calendar(spec)
    d = cal.roll(anchor, "following")
    for _ in range(k):
        d = cal.roll(add_months(d, 1), "following")
    return d


def _anchored(anchor: date, k: int, spec: str | None) -> date:
    return business_calendar(spec).roll(add_months(anchor, k), "following")


def test_n5_chained_schedule_drifts_from_the_anchored_one():
    """N5: a chained schedule roll(prev + 1m) differs from the anchored roll(anchor + k m).

    Anchor 2025-05-31 is a Saturday, rolled `following` to Monday 2 June. Chained, the
    next date is 2 July; anchored it is 30 June (a Monday), and by cycle 2 chained is
    4 August (2 August is a Saturday) against 31 July. Clipping alone drifts too: from
    2025-01-31, chained gives 28 March, anchored 31 March. Hypothesis finds such drift
    on the ES calendar, and it always comes from a roll or a clip."""
    assert [_chained(date(2025, 5, 31), k, None) for k in range(3)] == [
        date(2025, 6, 2),
        date(2025, 7, 2),
        date(2025, 8, 4),
    ]
    assert [_anchored(date(2025, 5, 31), k, None) for k in range(3)] == [
        date(2025, 6, 2),
        date(2025, 6, 30),
        date(2025, 7, 31),
    ]
    assert _chained(date(2025, 1, 31), 2, None) == date(2025, 3, 28)
    assert _anchored(date(2025, 1, 31), 2, None) == date(2025, 3, 31)

    cal = business_calendar("ES")
    anchor, k = find(
        st.tuples(s.business_dates, st.integers(1, 12)),
        lambda t: _chained(t[0], t[1], "ES") != _anchored(t[0], t[1], "ES"),
        settings=FIND,
    )
    rolled = any(not cal.is_business_day(add_months(anchor, j)) for j in range(k + 1))
    assert rolled or anchor.day >= 29
