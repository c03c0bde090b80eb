"""Hand-computed examples for contractrules.dates (SPEC §2, §6.1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from contractrules.dates import (
    BusinessCalendar,
    ScheduledDate,
    add_days,
    add_months,
    add_years,
    ambiguous_dates,
    business_calendar,
    cycle_bounds,
    cycle_index,
    cycle_start,
    days_in_month,
    local_date,
    month_overflows,
    months_period_end,
    period_end,
    schedule,
)
from contractrules.errors import AmbiguousDateError, DateError

D = date.fromisoformat


def starts(*args, **kwargs) -> list[str]:
    return [s.date.isoformat() for s in schedule(*args, **kwargs)]


# --------------------------------------------------------------------------- months


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [(2024, 2, 29), (2025, 2, 28), (1900, 2, 28), (2000, 2, 29), (2025, 4, 30), (2025, 12, 31)],
)
def test_days_in_month(year, month, days):
    assert days_in_month(year, month) == days


@pytest.mark.parametrize(
    ("start", "months", "clip", "forward"),
    [
        ("2025-01-31", 1, "2025-02-28", "2025-03-01"),
        ("2024-01-31", 1, "2024-02-29", "2024-03-01"),
        ("2025-03-31", -1, "2025-02-28", "2025-03-01"),
        ("2025-05-31", 1, "2025-06-30", "2025-07-01"),
        ("2025-01-15", -13, "2023-12-15", "2023-12-15"),
        ("2024-12-15", 2, "2025-02-15", "2025-02-15"),
        ("2025-08-31", 6, "2026-02-28", "2026-03-01"),
    ],
)
def test_add_months_overflow_modes(start, months, clip, forward):
    assert add_months(D(start), months) == D(clip)
    assert add_months(D(start), months, "clip") == D(clip)
    assert add_months(D(start), months, "roll_forward") == D(forward)
    if clip == forward:
        assert add_months(D(start), months, "error") == D(clip)
        assert not month_overflows(D(start), months)
    else:
        assert month_overflows(D(start), months)
        with pytest.raises(AmbiguousDateError, match="day 31 does not exist"):
            add_months(D(start), months, "error")


def test_month_overflows_depends_on_leap_years():
    assert month_overflows(D("2024-01-30"), 1)  # 2024-02 has 29 days
    assert not month_overflows(D("2024-01-29"), 1)
    assert month_overflows(D("2025-01-29"), 1)
    assert not month_overflows(D("2025-01-28"), 1)


def test_add_years_from_29_february():
    assert add_years(D("2024-02-29"), 1) == D("2025-02-28")
    assert add_years(D("2024-02-29"), 1, "roll_forward") == D("2025-03-01")
    assert add_years(D("2024-02-29"), 4, "error") == D("2028-02-29")
    with pytest.raises(AmbiguousDateError):
        add_years(D("2024-02-29"), 1, "error")


def test_bad_inputs_raise_date_errors():
    with pytest.raises(DateError, match="month_overflow"):
        add_months(D("2025-01-31"), 1, "nearest")
    with pytest.raises(DateError, match="outside years"):
        add_months(D("9999-12-01"), 1)
    with pytest.raises(DateError, match="outside years"):
        add_days(D("9999-12-31"), 1)


# --------------------------------------------------------------------------- periods


def test_period_of_days_excludes_the_event_day():
    """EU 1182/71 art. 3(1): 30 days from 2025-07-31 ends 2025-08-30."""
    assert period_end(D("2025-07-31"), 30) == D("2025-08-30")
    assert period_end(D("2024-02-15"), 15) == D("2024-03-01")
    assert period_end(D("2025-12-20"), 15) == D("2026-01-04")
    assert period_end(D("2025-07-31"), 0) == D("2025-07-31")
    with pytest.raises(DateError, match="negative"):
        period_end(D("2025-07-31"), -1)


def test_period_of_months_ends_on_the_same_date():
    assert months_period_end(D("2025-01-15"), 1) == D("2025-02-15")
    assert months_period_end(D("2025-01-31"), 1) == D("2025-02-28")
    assert months_period_end(D("2024-01-31"), 1) == D("2024-02-29")
    assert months_period_end(D("2025-01-31"), 1, "roll_forward") == D("2025-03-01")
    assert months_period_end(D("2025-11-30"), 3) == D("2026-02-28")
    with pytest.raises(AmbiguousDateError):
        months_period_end(D("2025-01-31"), 1, "error")
    with pytest.raises(DateError):
        months_period_end(D("2025-01-31"), -1)


# --------------------------------------------------------------------------- schedules


def test_anchor_31_monthly_2025_clips_and_recovers():
    assert starts(D("2025-01-31"), None, "monthly", 13) == [
        "2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30",
        "2025-07-31", "2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31",
        "2026-01-31",
    ]  # fmt: skip


def test_anchor_31_monthly_2024_leap_year():
    assert starts(D("2024-01-31"), 31, "monthly", 4) == ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]


def test_anchor_31_roll_forward_and_error():
    assert starts(D("2025-01-31"), None, "monthly", 6, "roll_forward") == [
        "2025-01-31", "2025-03-01", "2025-03-31", "2025-05-01", "2025-05-31", "2025-07-01",
    ]  # fmt: skip
    with pytest.raises(AmbiguousDateError, match="day 31 does not exist in 2025-02"):
        schedule(D("2025-01-31"), None, "monthly", 2, "error")
    assert starts(D("2025-01-31"), None, "monthly", 1, "error") == ["2025-01-31"]


def test_schedule_entries_say_when_the_day_was_adjusted():
    assert schedule(D("2025-01-31"), None, "monthly", 3) == [
        ScheduledDate(0, D("2025-01-31"), 31, False),
        ScheduledDate(1, D("2025-02-28"), 31, True),
        ScheduledDate(2, D("2025-03-31"), 31, False),
    ]


def test_quarterly_anchored():
    assert starts(D("2025-01-31"), None, "quarterly", 5) == [
        "2025-01-31", "2025-04-30", "2025-07-31", "2025-10-31", "2026-01-31",
    ]  # fmt: skip
    # 30 Nov: February clips to the 28th, May is back on the 30th.
    assert starts(D("2024-11-30"), None, "quarterly", 4) == ["2024-11-30", "2025-02-28", "2025-05-30", "2025-08-30"]


def test_yearly_anchored_on_29_february():
    assert starts(D("2024-02-29"), None, "yearly", 5) == [
        "2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29",
    ]  # fmt: skip
    assert starts(D("2024-02-29"), None, "yearly", 3, "roll_forward") == ["2024-02-29", "2025-03-01", "2026-03-01"]
    assert cycle_bounds(D("2024-02-29"), None, "yearly", 0) == (D("2024-02-29"), D("2025-02-27"))


def test_stub_first_cycle_with_anchor_day_1():
    start = D("2025-01-15")
    assert cycle_bounds(start, 1, "monthly", 0) == (D("2025-01-15"), D("2025-01-31"))
    assert cycle_bounds(start, 1, "monthly", 1) == (D("2025-02-01"), D("2025-02-28"))
    assert cycle_bounds(start, 1, "monthly", 2) == (D("2025-03-01"), D("2025-03-31"))


def test_stub_first_cycle_anchor_later_or_earlier_in_the_start_month():
    # Anchor 20 is after the 15th: a short stub up to the 19th.
    assert cycle_bounds(D("2025-01-15"), 20, "monthly", 0) == (D("2025-01-15"), D("2025-01-19"))
    assert cycle_start(D("2025-01-15"), 20, "monthly", 1) == D("2025-01-20")
    # Anchor 10 already passed: a long first cycle up to 9 Feb.
    assert cycle_bounds(D("2025-01-15"), 10, "monthly", 0) == (D("2025-01-15"), D("2025-02-09"))
    # Quarterly anchored on the 1st from 10 Feb: boundaries Feb 1 (passed), May 1, Aug 1.
    assert cycle_bounds(D("2025-02-10"), 1, "quarterly", 0) == (D("2025-02-10"), D("2025-04-30"))
    assert cycle_bounds(D("2025-02-10"), 1, "quarterly", 1) == (D("2025-05-01"), D("2025-07-31"))


def test_start_on_a_clipped_boundary():
    """Start 28 Feb, anchor 31: clip puts boundary b_0 on the start itself (flagged)."""
    start = D("2025-02-28")
    assert cycle_bounds(start, 31, "monthly", 0) == (D("2025-02-28"), D("2025-03-30"))
    assert cycle_bounds(start, 31, "monthly", 0, "roll_forward") == (D("2025-02-28"), D("2025-02-28"))
    assert cycle_start(start, 31, "monthly", 1, "roll_forward") == D("2025-03-01")
    assert schedule(start, 31, "monthly", 1) == [ScheduledDate(0, start, 31, True)]
    with pytest.raises(AmbiguousDateError):
        cycle_start(start, 31, "monthly", 1, "error")


def test_cycle_index():
    start = D("2025-01-15")
    assert cycle_index(start, 1, "monthly", D("2025-01-15")) == 0
    assert cycle_index(start, 1, "monthly", D("2025-01-31")) == 0
    assert cycle_index(start, 1, "monthly", D("2025-02-01")) == 1
    assert cycle_index(start, 1, "monthly", D("2025-12-31")) == 11
    assert cycle_index(start, 1, "monthly", D("2035-06-15")) == 125
    assert cycle_start(start, 1, "monthly", 125) == D("2035-06-01")
    assert cycle_index(D("2025-01-31"), None, "monthly", D("2025-03-01"), "roll_forward") == 1
    assert cycle_index(D("2025-01-31"), None, "monthly", D("2025-03-30"), "roll_forward") == 1
    assert cycle_index(D("2025-01-31"), None, "monthly", D("2025-03-31"), "roll_forward") == 2
    assert cycle_index(D("2024-02-29"), None, "yearly", D("2025-02-27")) == 0
    assert cycle_index(D("2024-02-29"), None, "yearly", D("2025-02-28")) == 1
    assert cycle_index(D("2025-01-01"), None, "quarterly", D("2999-12-31")) == 3899
    with pytest.raises(DateError, match="before the schedule start"):
        cycle_index(start, 1, "monthly", D("2025-01-14"))


def test_cycle_index_agrees_with_a_linear_scan_over_five_years():
    start = D("2024-01-31")
    bounds = [cycle_bounds(start, 30, "monthly", k) for k in range(61)]
    d = start
    while d <= bounds[-1][1]:
        k = cycle_index(start, 30, "monthly", d)
        assert bounds[k][0] <= d <= bounds[k][1]
        d += timedelta(days=1)


def test_schedule_arguments_are_validated():
    with pytest.raises(DateError, match="anchor_day must be 1..31"):
        schedule(D("2025-01-01"), 32, "monthly", 3)
    with pytest.raises(DateError, match="unknown cycle"):
        schedule(D("2025-01-01"), 1, "weekly", 3)
    with pytest.raises(DateError, match="cycle index"):
        cycle_start(D("2025-01-01"), 1, "monthly", -1)
    assert schedule(D("2025-01-01"), 1, "monthly", 0) == []


def test_ambiguous_dates_for_anchor_31():
    found = ambiguous_dates(D("2025-01-31"), None, "monthly", 12)
    assert [(s.index, s.date.isoformat()) for s in found] == [
        (1, "2025-02-28"), (3, "2025-04-30"), (5, "2025-06-30"), (8, "2025-09-30"), (10, "2025-11-30"),
    ]  # fmt: skip
    assert all(s.nominal_day == 31 and s.adjusted for s in found)
    # error mode lists the same dates instead of raising
    assert ambiguous_dates(D("2025-01-31"), None, "monthly", 12, "error") == found
    forward = ambiguous_dates(D("2025-01-31"), None, "monthly", 12, "roll_forward")
    assert [s.date.isoformat() for s in forward] == [
        "2025-03-01",
        "2025-05-01",
        "2025-07-01",
        "2025-10-01",
        "2025-12-01",
    ]


def test_ambiguous_dates_for_anchor_28_and_29():
    assert ambiguous_dates(D("2025-01-28"), None, "monthly", 48) == []
    assert ambiguous_dates(D("2025-01-01"), 28, "monthly", 48, "error") == []
    feb = ambiguous_dates(D("2025-01-29"), None, "monthly", 48)
    assert [s.date.isoformat() for s in feb] == ["2025-02-28", "2026-02-28", "2027-02-28"]  # 2028-02-29 exists


# --------------------------------------------------------------------------- business days


def test_spanish_national_holidays():
    es = BusinessCalendar("ES")
    assert not es.is_business_day(D("2025-01-06"))  # Epifanía, a Monday
    assert es.roll(D("2025-01-04"), "following") == D("2025-01-07")  # Sat, Sun, holiday
    assert es.roll(D("2025-01-06"), "preceding") == D("2025-01-03")
    assert not es.is_business_day(D("2025-12-25"))  # Thursday
    assert es.roll(D("2025-12-25"), "following") == D("2025-12-26")
    assert not es.is_business_day(D("2025-04-18"))  # Viernes Santo
    assert es.is_business_day(D("2025-04-17"))  # Jueves Santo is regional
    assert es.is_business_day(D("2025-05-02"))


def test_madrid_holidays_are_not_national():
    md = BusinessCalendar("ES-MD")
    assert not md.is_business_day(D("2025-05-02"))  # Fiesta de la Comunidad de Madrid
    assert not md.is_business_day(D("2025-04-17"))
    assert md.roll(D("2025-05-01"), "following") == D("2025-05-05")
    assert BusinessCalendar("ES").roll(D("2025-05-01"), "following") == D("2025-05-02")


def test_gb_boxing_day_and_aliases():
    gb = BusinessCalendar("GB")
    assert gb.roll(D("2025-12-25"), "following") == D("2025-12-29")
    assert BusinessCalendar("UK").country == "GB"
    assert BusinessCalendar("es-md").subdiv == "MD"


def test_weekends_only_calendar():
    cal = BusinessCalendar(None)
    assert cal.is_business_day(D("2025-01-06")) and cal.is_business_day(D("2025-12-25"))
    assert not cal.is_business_day(D("2025-01-04"))
    assert cal.roll(D("2025-01-04"), "following") == D("2025-01-06")


def test_modified_following_at_month_end():
    md = BusinessCalendar("ES-MD")
    assert md.roll(D("2025-05-31"), "following") == D("2025-06-02")
    assert md.roll(D("2025-05-31"), "modified_following") == D("2025-05-30")
    assert md.roll(D("2025-08-31"), "modified_following") == D("2025-08-29")
    assert md.roll(D("2025-05-03"), "modified_following") == D("2025-05-05")  # stays in May
    assert md.roll(D("2025-12-31"), "modified_following") == D("2025-12-31")
    assert md.roll(D("2025-05-31"), "none") == D("2025-05-31")
    with pytest.raises(DateError, match="unknown roll"):
        md.roll(D("2025-05-31"), "nearest")


def test_add_business_days_skips_holidays_and_excludes_the_event_day():
    assert BusinessCalendar("ES-MD").add_business_days(D("2025-04-30"), 3) == D("2025-05-07")
    assert BusinessCalendar("ES").add_business_days(D("2025-04-30"), 3) == D("2025-05-06")
    assert BusinessCalendar("ES").add_business_days(D("2025-01-04"), 1) == D("2025-01-07")
    assert BusinessCalendar("ES").add_business_days(D("2025-01-04"), 0) == D("2025-01-04")
    with pytest.raises(DateError):
        BusinessCalendar("ES").add_business_days(D("2025-01-04"), -1)


def test_unknown_calendars_are_clear_errors():
    with pytest.raises(DateError, match="no public holidays known for country 'QQ'"):
        BusinessCalendar("QQ")
    with pytest.raises(DateError, match="ES has no subdivision 'XX'.*MD"):
        BusinessCalendar("ES-XX")


def test_business_calendar_instances_are_shared():
    assert business_calendar("ES-MD") is business_calendar("ES-MD")
    assert business_calendar("ES") is not business_calendar("ES-MD")


# --------------------------------------------------------------------------- local dates


def test_utc_instant_is_the_next_day_in_paris():
    assert local_date(datetime.fromisoformat("2024-01-31T23:30:00Z"), "Europe/Paris") == D("2024-02-01")
    assert local_date(datetime.fromisoformat("2024-01-31T23:30:00Z"), "UTC") == D("2024-01-31")


def test_new_york_evening_payment_is_on_time_locally():
    paid = datetime.fromisoformat("2025-03-10T22:30:00-04:00")
    assert paid.astimezone(UTC).date() == D("2025-03-11")
    assert local_date(paid, "America/New_York") == D("2025-03-10")


def test_dst_changes_move_the_local_midnight():
    # Madrid: CET (+1) until 2025-03-30 01:00Z, then CEST (+2); back on 2025-10-26 01:00Z.
    assert local_date(datetime.fromisoformat("2025-03-29T22:30:00Z"), "Europe/Madrid") == D("2025-03-29")
    assert local_date(datetime.fromisoformat("2025-03-30T22:30:00Z"), "Europe/Madrid") == D("2025-03-31")
    assert local_date(datetime.fromisoformat("2025-10-25T22:30:00Z"), "Europe/Madrid") == D("2025-10-26")
    assert local_date(datetime.fromisoformat("2025-10-26T22:30:00Z"), "Europe/Madrid") == D("2025-10-26")
    # New York: EST (-5) until 2025-03-09 07:00Z, then EDT (-4).
    assert local_date(datetime.fromisoformat("2025-03-09T03:30:00Z"), "America/New_York") == D("2025-03-08")
    assert local_date(datetime.fromisoformat("2025-03-10T03:30:00Z"), "America/New_York") == D("2025-03-09")


def test_local_date_passes_dates_and_refuses_naive_timestamps():
    assert local_date(D("2025-07-30"), "Asia/Tokyo") == D("2025-07-30")
    with pytest.raises(DateError, match="no UTC offset"):
        local_date(datetime(2025, 7, 30, 23, 30), "Europe/Madrid")
    with pytest.raises(DateError, match="unknown time zone"):
        local_date(datetime.fromisoformat("2025-07-30T23:30:00Z"), "Mars/Olympus")


# --------------------------------------------------------------------------- Period


def test_period_of_days_does_not_count_the_event_day():
    from contractrules.dates import Period

    p = Period.of_days(date(2025, 7, 31), 30)
    assert p == (date(2025, 8, 1), date(2025, 8, 30)) and p.days == 30
    assert not p.contains(date(2025, 7, 31)) and p.contains(date(2025, 8, 1)) and p.contains(date(2025, 8, 30))
    assert not p.contains(date(2025, 8, 31))
    assert Period.of_days(date(2025, 7, 31), 0).days == 0  # no grace: an empty period


def test_an_open_period_contains_every_later_day_and_has_no_length():
    from contractrules.dates import Period
    from contractrules.errors import DateError

    p = Period(date(2025, 3, 1), None)
    assert p.contains(date(2099, 1, 1)) and not p.contains(date(2025, 2, 28))
    with pytest.raises(DateError):
        _ = p.days


def test_cycles_are_periods():
    from contractrules.dates import Period, cycle_bounds

    first, last = cycle_bounds(date(2025, 1, 31), None, "monthly", 1)
    assert (first, last) == (date(2025, 2, 28), date(2025, 3, 30))
    assert isinstance(cycle_bounds(date(2025, 1, 31), None, "monthly", 1), Period)
    assert cycle_bounds(date(2025, 1, 31), None, "monthly", 1).days == 31
