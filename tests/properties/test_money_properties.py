"""Hypothesis properties of contractrules.money: rounding bounds, idempotence, round trips,
and refusal of negative or over-precise input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from contractrules.errors import MoneyError
from contractrules.money import format_amount, minor_units, parse_amount, round_money
from tests import strategies as s


def unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


@given(s.currencies, st.lists(s.amounts(), min_size=1, max_size=30))
def test_sum_of_rounded_is_within_half_a_unit_per_line_of_rounded_sum(currency, xs):
    """|sum(round(x_i)) - round(sum(x_i))| <= n * u/2, and in fact <= floor(n/2) * u."""
    n, u = len(xs), unit(currency)
    diff = abs(sum(round_money(x, currency) for x in xs) - round_money(sum(xs), currency))
    assert diff <= n * u / 2
    assert diff <= (n // 2) * u
    assert diff % u == 0


@given(s.currencies, s.amounts())
def test_round_money_moves_at_most_half_a_unit_onto_the_grid(currency, x):
    """round_money(x) is a multiple of the minor unit u, within u/2 of x, ties rounded up."""
    u = unit(currency)
    r = round_money(x, currency)
    assert r % u == 0
    assert abs(r - x) <= u / 2
    if abs(r - x) == u / 2:
        assert r > x  # non-negative ties round half-up


@given(s.currencies, s.amounts())
def test_round_money_is_idempotent(currency, x):
    """round_money(round_money(x)) == round_money(x)."""
    once = round_money(x, currency)
    assert round_money(once, currency) == once
    assert str(round_money(once, currency)) == str(once)


@given(s.currencies, s.amounts())
def test_format_then_parse_is_round_money(currency, x):
    """parse_amount(format_amount(x)) == round_money(x), with exactly the minor digits shown."""
    text = format_amount(x, currency)
    assert parse_amount(text, currency) == round_money(x, currency)
    digits = minor_units(currency)
    assert (len(text.partition(".")[2]) if "." in text else 0) == digits


@given(s.currencies, st.data())
def test_valid_amounts_parse_to_themselves_in_every_form(currency, data):
    """An amount exact in the minor unit parses unchanged from str, Decimal and (small) float."""
    x = data.draw(s.money_amounts(currency))
    assert parse_amount(str(x), currency) == x
    assert parse_amount(x, currency) == x
    if x < 10**12:
        assert parse_amount(float(x), currency) == x


@given(s.currencies, s.negative_amounts)
def test_negative_amounts_are_refused(currency, x):
    """Negative amounts are refused as Decimal, str and float, naming the value."""
    assume(x != 0)
    for form in (x, str(x), float(x)):
        for cur in (None, currency):
            with pytest.raises(MoneyError, match="must not be negative, got -[0-9]"):
                parse_amount(form, cur)


@given(s.currencies, st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_over_precise_floats_are_refused(currency, f):
    """A float is accepted iff its shortest repr has at most the currency's minor digits
    (and is a short exact decimal); then it parses to exactly that decimal."""
    shown = Decimal(repr(f))
    fraction = max(0, -shown.normalize().as_tuple().exponent) if shown else 0
    exact = len(shown.normalize().as_tuple().digits) <= 15
    if fraction <= minor_units(currency) and exact:
        assert parse_amount(f, currency) == shown
    else:
        with pytest.raises(MoneyError):
            parse_amount(f, currency)


@given(s.currencies, st.integers(0, 10**9), st.integers(1, 4))
def test_strings_with_too_many_digits_are_refused(currency, n, extra):
    """A str amount with a non-zero digit past the minor unit is refused, never rounded."""
    places = minor_units(currency) + extra
    value = (Decimal(n * 10 + 1)).scaleb(-places)  # last digit 1: really that precise
    with pytest.raises(MoneyError, match="decimal places"):
        parse_amount(format(value, "f"), currency)  # plain notation: str() may give 1E-7
