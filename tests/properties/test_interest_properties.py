"""Interest laws (Hypothesis): additive, monotone in days and balance, zero for zero balance."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from contractrules.interest import accrue
from contractrules.statutory import table

RATES = table("ES").rates


class _ES:
    """The ES rate of each day, from the one statutory lookup (``Rates.at``)."""

    @staticmethod
    def rate(day: date) -> Decimal:
        return RATES.at(day).rate

    @staticmethod
    def starts() -> list[date]:
        return RATES.starts()


ES = _ES
days = st.dates(min_value=date(2013, 1, 1), max_value=date(2026, 6, 30))
spans = st.integers(min_value=0, max_value=900)
balances = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
step_balances = st.lists(st.tuples(st.integers(0, 900), balances), max_size=5)


def _balance(start: date, base: Decimal, steps):
    changes = sorted((start + timedelta(days=o), b) for o, b in steps)

    def at(d: date) -> Decimal:
        value = base
        for when, b in changes:
            if when <= d:
                value = b
        return value

    return at, [c for c, _ in changes]


@given(first=days, a=spans, b=spans, base=balances, steps=step_balances)
def test_interest_is_additive_over_adjacent_ranges(first, a, b, base, steps):
    """accrue(first, m) + accrue(m + 1, last) == accrue(first, last), before rounding."""
    bal, breaks = _balance(first, base, steps)
    mid, last = first + timedelta(days=a), first + timedelta(days=a + b)
    whole = accrue(first, last, bal, ES.rate, [*breaks, *ES.starts()])
    parts = accrue(first, mid, bal, ES.rate, [*breaks, *ES.starts()]) + accrue(
        mid + timedelta(days=1), last, bal, ES.rate, [*breaks, *ES.starts()]
    )
    assert abs(whole - parts) <= Decimal("1e-20")


@given(first=days, a=spans, extra=spans, base=balances, steps=step_balances)
def test_interest_is_monotone_in_days(first, a, extra, base, steps):
    bal, breaks = _balance(first, base, steps)
    short = accrue(first, first + timedelta(days=a), bal, ES.rate, [*breaks, *ES.starts()])
    longer = accrue(first, first + timedelta(days=a + extra), bal, ES.rate, [*breaks, *ES.starts()])
    assert longer >= short


@given(first=days, a=spans, low=balances, more=balances)
def test_interest_is_monotone_in_the_balance(first, a, low, more):
    last = first + timedelta(days=a)
    assert accrue(first, last, lambda d: low + more, ES.rate, ES.starts()) >= accrue(
        first, last, lambda d: low, ES.rate, ES.starts()
    )


@given(first=days, a=spans)
def test_zero_balance_accrues_nothing(first, a):
    assert accrue(first, first + timedelta(days=a), lambda d: Decimal(0), ES.rate, ES.starts()) == 0


@given(first=days, a=spans, base=balances)
def test_per_day_sum_matches_the_stretch_sum(first, a, base):
    """The stretch computation equals the literal Σ over days of balance × rate_d / 365."""
    last = first + timedelta(days=min(a, 400))
    literal = sum((base * ES.rate(first + timedelta(days=i)) for i in range((last - first).days + 1)), Decimal(0)) / 365
    assert accrue(first, last, lambda d: base, ES.rate, ES.starts()) == literal
