"""Money: Decimal amounts, ISO 4217 currencies and their minor units, rounding.

Rules (SPEC §3):

- Amounts are :class:`~decimal.Decimal`, never float. Input amounts are strings
  (``"600.00"``, ``"600"``), integers or Decimals; a float (a JSON number with a point) is
  accepted only if its shortest repr has at most the currency's minor digits, so
  ``600.5`` is fine for EUR but ``0.1 + 0.2`` (``0.30000000000000004``) is not. An input
  amount is money: ``"10.005"`` EUR is refused, not rounded. Trailing zeros do not count
  (``"600.00"`` JPY is exactly 600 yen and is accepted). Negative amounts are refused.
- Minor units come from CLDR via ``babel`` (EUR 2, JPY 0, KWD 3); a code must be a known
  ISO 4217 code (current or historic, as CLDR lists them).
- Rounding is half-up (``ROUND_HALF_UP``: ties away from zero) to the minor unit, once,
  when an amount is reported (:func:`round_money`, :func:`format_amount`). Compute with
  full precision, round at the end.

Bounds (see :mod:`contractrules.limits`): an amount must be below 10^15 (a thousand
trillion) in its currency; a rate or a number of hours has at most 20 significant
digits; a rate is below 1,000 (100,000 %), hours below 10^15. Arithmetic on amounts runs in :func:`money_context`, a
local decimal context of 80 digits: far more than the largest product of an accepted
amount, rate and day count needs, so nothing is rounded before reporting (Python's
default context keeps 28 digits and would round a 30-digit balance silently).

Rounding bound. Let ``u`` be the minor unit (0.01 EUR). Rounding ``x`` half-up moves it by
at most ``u/2``, so for ``n >= 1`` amounts::

    |sum(round(x_i)) - round(sum(x_i))|  <=  n * u/2

Both sides are multiples of ``u`` and the error is strictly below ``(n+1)*u/2``, so the
difference is in fact at most ``floor(n/2) * u``: one cent for two or three invoice lines,
two cents for four or five. This is why we round once, at reporting, and never sum
rounded intermediate values.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from decimal import localcontext as _localcontext
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

from contractrules import limits
from contractrules.errors import MoneyError

__all__ = [
    "format_amount",
    "minor_units",
    "money_context",
    "parse_amount",
    "parse_rate",
    "round_money",
    "validate_currency",
]

#: A float is taken at its word only if its shortest repr has at most this many
#: significant digits: every such decimal survives a round trip through a double.
FLOAT_SIGNIFICANT_DIGITS = 15
#: Digits allowed in a float amount when no currency is given.
DEFAULT_FLOAT_DIGITS = 2

_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def validate_currency(code: str) -> str:
    """The upper-case ISO 4217 code, or MoneyError if ``code`` is not a known currency."""
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z]{3}", code.strip()):
        raise MoneyError(f"currency must be a 3-letter ISO 4217 code, got {limits.excerpt(str(code))}")
    upper = code.strip().upper()
    if upper not in _currencies():
        raise MoneyError(f"unknown currency {code!r}: not an ISO 4217 code")
    return upper


@lru_cache(maxsize=256)
def minor_units(currency: str) -> int:
    """Number of decimal digits of ``currency``'s minor unit: EUR 2, JPY 0, KWD 3 (cached)."""
    return get_currency_precision(validate_currency(currency))


def _fraction_digits(value: Decimal) -> int:
    """Decimal places ``value`` needs, trailing zeros not counted (``600.50`` -> 1)."""
    if value.is_zero():
        return 0
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN or infinity, refused before this is asked
        raise MoneyError(f"amount must be a finite number, got {value}")
    zeros = _trailing_zeros(digits)
    return max(0, -(exponent + min(zeros, max(0, -exponent))))


def _trailing_zeros(digits: tuple[int, ...]) -> int:
    n = 0
    for d in reversed(digits):
        if d:
            break
        n += 1
    return n


def _significant_digits(value: Decimal) -> int:
    """Significant digits, trailing zeros not counted, without rounding (no context)."""
    digits = value.as_tuple().digits
    return max(1, len(digits) - _trailing_zeros(digits)) if not value.is_zero() else 1


def _from_float(value: float, what: str) -> Decimal:
    if not math.isfinite(value):
        raise MoneyError(f"{what} must be a finite number, got {value!r}")
    exact = Decimal(repr(value))
    if len(exact.normalize().as_tuple().digits) > FLOAT_SIGNIFICANT_DIGITS:
        raise MoneyError(
            f'{what} {value!r} is not an exact decimal (a float rounding artefact); write it as a string, e.g. "600.00"'
        )
    return exact


def _to_decimal(value: object, what: str) -> tuple[Decimal, bool]:
    """``value`` as a Decimal, and whether it came from a float. Sign not checked."""
    if isinstance(value, bool):
        raise MoneyError(f"{what} must be a number or a decimal string, got a boolean ({value!r})")
    if isinstance(value, int):
        return Decimal(value), False
    if isinstance(value, float):
        return _from_float(value, what), True
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"{what} must be a finite number, got {value}")
        return value, False
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise MoneyError(f'{what} must be a plain decimal like "600.00", got {limits.excerpt(value)}')
        return Decimal(text), False
    raise MoneyError(f"{what} must be a number or a decimal string, got {type(value).__name__}")


#: The context money arithmetic runs in (see the module docstring).
MONEY_CONTEXT = Context(
    prec=limits.DECIMAL_PRECISION, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


def money_context():
    """A local decimal context with enough precision for every accepted amount:
    ``with money_context(): ...`` (thread-local, restored on exit)."""
    return _localcontext(MONEY_CONTEXT)


def check_magnitude(value: Decimal, what: str, digits: int | None = limits.MAX_SIGNIFICANT_DIGITS) -> Decimal:
    """``value`` if below :data:`~contractrules.limits.AMOUNT_BOUND` (and, for rates and
    hours, with at most ``digits`` significant digits), else MoneyError."""
    if abs(value) >= limits.AMOUNT_BOUND:
        raise MoneyError(f"{what} {_short(value)} is too large: the limit is below 10^15 (1,000,000,000,000,000)")
    if digits is not None and len(value.as_tuple().digits) > digits and _significant_digits(value) > digits:
        raise MoneyError(f"{what} {_short(value)} has more than {digits} significant digits")
    return value


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= limits.EXCERPT else text[: limits.EXCERPT - 3] + "..."


def _non_negative(amount: Decimal, what: str) -> Decimal:
    if amount < 0:
        raise MoneyError(f"{what} must not be negative, got {_short(amount)}")
    return amount.copy_abs()  # -0 -> 0


def parse_amount(value: object, currency: str | None = None) -> Decimal:
    """An input amount as a non-negative Decimal, refusing anything that is not plain money.

    Accepts ``str`` (``"600.00"``, ``"600"``), ``int``, ``Decimal`` and, with care,
    ``float`` (see the module docstring). Refuses booleans, NaN, infinities, exponents,
    negatives and more decimal places than ``currency`` has (trailing zeros aside). With
    ``currency=None`` only floats are limited, to 2 decimal places. The Decimal keeps the
    value as written; use :func:`format_amount` to display it.
    """
    amount, from_float = _to_decimal(value, "amount")
    amount = check_magnitude(_non_negative(amount, "amount"), "amount", digits=None)
    if currency is not None:
        limit = minor_units(currency)
    elif from_float:
        limit = DEFAULT_FLOAT_DIGITS
    else:
        return amount
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -limit:  # no more places than allowed, zeros or not
        return amount
    digits = _fraction_digits(amount)
    if digits > limit:
        where = (
            f"{validate_currency(currency)} has {limit}" if currency is not None else "at most 2 allowed for a number"
        )
        raise MoneyError(f"amount {_short(value)!r} has {digits} decimal places; {where}")
    return amount


def parse_rate(value: object) -> Decimal:
    """A non-negative decimal fraction such as ``"0.10"`` (10 %). No digit limit.

    A float is accepted only when its shortest repr is an exact short decimal (``0.1``
    yes, ``0.1 + 0.2`` no).
    """
    rate, _ = _to_decimal(value, "rate")
    rate = check_magnitude(_non_negative(rate, "rate"), "rate")
    if rate >= limits.RATE_BOUND:
        raise MoneyError(
            f"rate {_short(rate)} is too large: a rate is a fraction (0.10 is 10 %), below {limits.RATE_BOUND}"
        )
    return rate


_QUANTA: dict[int, Decimal] = {}
_CONTEXTS: dict[int, Context] = {}  # by precision, half-up: made once, not on every rounding
#: Per currency: (minor digits, quantum, a half-up context wide enough for any amount
#: whose rounded value has at most ``limits.DECIMAL_PRECISION`` digits). Quantizing is
#: exact whenever the result fits the context, so the width changes no result.
_ROUNDING: dict[str, tuple[int, Decimal, Context]] = {}


def _rounding(currency: str) -> tuple[int, Decimal, Context]:
    found = _ROUNDING.get(currency)
    if found is None:
        digits = minor_units(currency)
        quantum = Decimal(1).scaleb(-digits)
        found = _ROUNDING[currency] = (
            digits,
            quantum,
            Context(prec=limits.DECIMAL_PRECISION, rounding=ROUND_HALF_UP),
        )
    return found


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up (ties away from zero) to ``currency``'s minor unit."""
    if type(amount) is Decimal and amount.is_finite():  # the usual case: one cached context per currency
        digits, quantum, wide = _rounding(currency)
        if amount.adjusted() + digits + 2 <= limits.DECIMAL_PRECISION:
            rounded = amount.quantize(quantum, context=wide)
            return rounded.copy_abs() if rounded.is_zero() else rounded
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise MoneyError(f"round_money needs a Decimal, got {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite():
        raise MoneyError(f"cannot round {amount}")
    digits = minor_units(currency)
    quantum = _QUANTA.get(digits) or _QUANTA.setdefault(digits, Decimal(1).scaleb(-digits))
    precision = max(28, amount.adjusted() + digits + 2)
    context = _CONTEXTS.get(precision) or _CONTEXTS.setdefault(
        precision, Context(prec=precision, rounding=ROUND_HALF_UP)
    )
    try:
        rounded = amount.quantize(quantum, context=context)
    except InvalidOperation as exc:  # pragma: no cover - precision is sized above
        raise MoneyError(f"cannot round {amount} to {quantum}") from exc
    return rounded.copy_abs() if rounded.is_zero() else rounded


def format_amount(amount: Decimal, currency: str) -> str:
    """``amount`` rounded (:func:`round_money`) and written with the currency's digits.

    ``format_amount(Decimal("600"), "EUR") == "600.00"``; JPY gives ``"600"``.
    """
    return format(round_money(amount, currency), "f")
