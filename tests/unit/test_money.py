"""Hand-computed examples for contractrules.money (SPEC §3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contractrules.errors import MoneyError
from contractrules.money import format_amount, minor_units, parse_amount, parse_rate, round_money, validate_currency


@pytest.mark.parametrize(("code", "digits"), [("EUR", 2), ("USD", 2), ("GBP", 2), ("JPY", 0), ("KWD", 3), ("eur", 2)])
def test_minor_units(code, digits):
    assert minor_units(code) == digits


@pytest.mark.parametrize("code", ["ZZZ", "EURO", "E", "", "€", 978, None])
def test_unknown_currencies_are_refused(code):
    with pytest.raises(MoneyError):
        minor_units(code)
    with pytest.raises(MoneyError):
        validate_currency(code)


def test_validate_currency_upper_cases():
    assert validate_currency("usd") == "USD"
    assert validate_currency("KWD") == "KWD"


def test_money_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_amount("-1")


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("600.00", "EUR", Decimal("600.00")),
        ("600", "EUR", Decimal("600")),
        (" 600.5 ", "EUR", Decimal("600.5")),
        (600, "EUR", Decimal("600")),
        (Decimal("600.10"), "EUR", Decimal("600.10")),
        (600.5, "EUR", Decimal("600.5")),
        (19.99, "EUR", Decimal("19.99")),
        (600.0, "JPY", Decimal("600")),
        ("600.00", "JPY", Decimal("600")),  # trailing zeros: still exactly 600 yen
        ("10.005", "KWD", Decimal("10.005")),
        ("10.12345", None, Decimal("10.12345")),
        (0.25, None, Decimal("0.25")),
        ("0", "EUR", Decimal("0")),
        ("-0.00", "EUR", Decimal("0.00")),
    ],
)
def test_parse_amount_accepts_plain_money(value, currency, expected):
    parsed = parse_amount(value, currency)
    assert parsed == expected and isinstance(parsed, Decimal)
    assert not parsed.is_signed()


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        ("-5.00", "EUR", "must not be negative, got -5.00"),
        (-5, "EUR", "must not be negative, got -5"),
        (Decimal("-0.01"), None, "must not be negative, got -0.01"),
        ("10.005", "EUR", "3 decimal places; EUR has 2"),
        ("10.5", "JPY", "1 decimal places; JPY has 0"),
        (1.005, "EUR", "3 decimal places"),
        (0.125, None, "3 decimal places"),
        (0.1 + 0.2, "EUR", "not an exact decimal"),
        (0.1 + 0.2, None, "not an exact decimal"),
        (True, "EUR", "boolean"),
        (False, None, "boolean"),
        ("NaN", "EUR", "plain decimal"),
        ("inf", "EUR", "plain decimal"),
        ("Infinity", None, "plain decimal"),
        ("1e3", "EUR", "plain decimal"),
        ("1_000", "EUR", "plain decimal"),
        ("1,000.00", "EUR", "plain decimal"),
        ("", "EUR", "plain decimal"),
        ("abc", "EUR", "plain decimal"),
        ("12.", "EUR", "plain decimal"),
        (float("nan"), "EUR", "finite"),
        (float("inf"), None, "finite"),
        (Decimal("NaN"), "EUR", "finite"),
        (Decimal("Infinity"), "EUR", "finite"),
        (None, "EUR", "NoneType"),
        (["600"], "EUR", "list"),
        ("600", "ZZZ", "unknown currency"),
    ],
)
def test_parse_amount_refuses(value, currency, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount(value, currency)


def test_parse_rate():
    assert parse_rate("0.10") == Decimal("0.10")
    assert parse_rate("0.0825") == Decimal("0.0825")
    assert parse_rate(0.1) == Decimal("0.1")
    assert parse_rate(1) == Decimal(1)
    assert parse_rate(Decimal("0.123456789")) == Decimal("0.123456789")
    for bad in ["-0.01", 0.1 + 0.2, True, "1e-2", "ten percent", float("nan"), None]:
        with pytest.raises(MoneyError):
            parse_rate(bad)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.675", "EUR", "2.68"),  # binary float would give 2.67
        ("2.665", "EUR", "2.67"),  # half-up, not banker's rounding (2.66)
        ("2.6649", "EUR", "2.66"),
        ("600.5", "JPY", "601"),
        ("599.49", "JPY", "599"),
        ("1.0005", "KWD", "1.001"),
        ("-2.675", "EUR", "-2.68"),  # ties away from zero
        ("600", "EUR", "600.00"),
        ("-0.001", "EUR", "0.00"),
    ],
)
def test_round_money_half_up(amount, currency, expected):
    rounded = round_money(Decimal(amount), currency)
    assert rounded == Decimal(expected)
    assert str(rounded) == expected


def test_round_money_refuses_floats():
    with pytest.raises(MoneyError):
        round_money(2.675, "EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("600", "EUR", "600.00"),
        ("600", "JPY", "600"),
        ("1.5", "KWD", "1.500"),
        ("1E+3", "EUR", "1000.00"),
        ("0.005", "EUR", "0.01"),
        ("-0.001", "EUR", "0.00"),
        ("123456789012345678901234567.891", "EUR", "123456789012345678901234567.89"),
    ],
)
def test_format_amount(amount, currency, text):
    assert format_amount(Decimal(amount), currency) == text


def test_rounding_each_line_can_differ_from_rounding_the_sum():
    """Three lines of 0.005 EUR: rounded each is 0.03, the sum 0.015 rounds to 0.02."""
    lines = [Decimal("0.005")] * 3
    assert sum(round_money(x, "EUR") for x in lines) == Decimal("0.03")
    assert round_money(sum(lines), "EUR") == Decimal("0.02")
