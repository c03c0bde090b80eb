"""Field types shared by the contract and event models.

Each type is an ``Annotated`` with a plain validator that speaks the user's language
("must be a date (YYYY-MM-DD), got '2025-13-01'") instead of pydantic's defaults, and
accepts exactly what SPEC §2/§3 allow:

- :data:`LocalDate` -- a ``date`` (YAML gives one) or a ``"YYYY-MM-DD"`` string; never a
  datetime or a number.
- :data:`At` -- an event time: a local date, or a timestamp *with* an offset. A naive
  timestamp is refused ("timestamp without offset").
- :data:`Amount` -- money via :func:`contractrules.money.parse_amount`. The currency comes
  from the validation context (``context["currency"]``), which the :class:`Contract`
  model fills from its own ``currency`` field and the event loader from the contract;
  without a context only the sign and the float rules are checked.
- :data:`Rate` -- a non-negative decimal fraction (``"0.10"``).
- :data:`Hours` -- a non-negative decimal number of hours.
- ``... | "statutory"`` variants for ``annual_rate`` and ``fixed_fee``; "statutory" needs a
  contract ``jurisdiction`` (``context["jurisdiction"]``, checked when known).

:class:`FieldProblems` lets a model validator report problems *below* the model (e.g. a
duplicate service id at ``services[1].id``) so every message names its exact field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BeforeValidator, PlainSerializer, PlainValidator, ValidationInfo

from contractrules import limits, money
from contractrules.errors import DateError, MoneyError

Path = tuple[str | int, ...]

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
STATUTORY = "statutory"


class FieldProblems(ValueError):
    """Problems found by a model validator, each at a path relative to that model."""

    def __init__(self, problems: Sequence[tuple[Path, str]]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{format_path(p) or '.'}: {m}" for p, m in self.problems))


def format_path(path: Path) -> str:
    """``("terms", "scope", "services", 1, "id")`` -> ``"terms.scope.services[1].id"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_value(value: Any) -> str:
    """A short rendering of an input value for error messages, in YAML/JSON terms."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return type(value).__name__


def _context(info: ValidationInfo) -> dict:
    return info.context if isinstance(info.context, dict) else {}


# --------------------------------------------------------------------------- dates


def parse_local_date(value: Any) -> date:
    """A calendar date: a ``date`` object or ``"YYYY-MM-DD"``."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return _in_range(value)
    if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return _in_range(day)
    raise ValueError(f"must be a date (YYYY-MM-DD), got {describe_value(value)}")


def _in_range(value: date) -> date:
    """Dates outside :data:`contractrules.limits.DATE_MIN`..``DATE_MAX`` are refused."""
    try:
        return limits.check_date(value, "the date")
    except DateError as exc:
        raise ValueError(str(exc)) from None


def parse_at(value: Any) -> date | datetime:
    """An event time: a local date, or a timestamp with an offset (``Z`` or ``+02:00``)."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, date):
        return _in_range(value)
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.fullmatch(text):
            try:
                day = date.fromisoformat(text)
            except ValueError:
                return parse_local_date(text)  # says why
            return day if limits.DATE_MIN <= day <= limits.DATE_MAX else _in_range(day)
        if len(text) > 64:
            raise ValueError(f"must be a timestamp with offset (2025-07-30T23:30:00Z), got {describe_value(value)}")
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                "must be a date (2025-07-30) or a timestamp with offset "
                f"(2025-07-30T23:30:00Z), got {describe_value(value)}"
            ) from None
    else:
        raise ValueError(f"must be a date or a timestamp string, got {describe_value(value)}")
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        shown = describe_value(value if isinstance(value, str) else stamp.isoformat())
        raise ValueError(
            f"timestamp without offset: {shown} (add 'Z' or an offset like '+02:00', or give a plain date)"
        )
    return _in_range(stamp)


def _iso(value: date | datetime) -> str:
    return value.isoformat()


LocalDate = Annotated[date, BeforeValidator(parse_local_date)]
At = Annotated[date | AwareDatetime, PlainValidator(parse_at), PlainSerializer(_iso, when_used="json")]


# --------------------------------------------------------------------------- numbers


def _money_error(exc: MoneyError) -> ValueError:
    return ValueError(str(exc))


def parse_contract_amount(value: Any, info: ValidationInfo) -> Decimal:
    """Money in the contract's currency (from the validation context, if known)."""
    try:
        return money.parse_amount(value, _context(info).get("currency"))
    except MoneyError as exc:
        raise _money_error(exc) from None


def parse_rate_value(value: Any) -> Decimal:
    """A non-negative decimal fraction, e.g. ``"0.10"`` for 10 %."""
    try:
        return money.parse_rate(value)
    except MoneyError as exc:
        raise _money_error(exc) from None


def _check_statutory(info: ValidationInfo) -> str:
    ctx = _context(info)
    if "jurisdiction" in ctx and ctx["jurisdiction"] is None:
        raise ValueError("'statutory' needs a jurisdiction: set jurisdiction to ES, UK or EU")
    return STATUTORY


def parse_rate_or_statutory(value: Any, info: ValidationInfo) -> Decimal | str:
    """``annual_rate``: a rate or ``"statutory"``."""
    if value == STATUTORY:
        return _check_statutory(info)
    return parse_rate_value(value)


def parse_amount_or_statutory(value: Any, info: ValidationInfo) -> Decimal | str:
    """``fixed_fee``: an amount or ``"statutory"``."""
    if value == STATUTORY:
        return _check_statutory(info)
    return parse_contract_amount(value, info)


def parse_hours(value: Any) -> Decimal:
    """A non-negative number of hours (``1.5``, ``"1.5"``, ``2``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(f"must be a number of hours, got {describe_value(value)}")
    try:
        hours = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError(f"must be a number of hours, got {describe_value(value)}") from None
    if not hours.is_finite() or hours < 0:
        raise ValueError(f"must be a non-negative number of hours, got {describe_value(value)}")
    try:
        money.check_magnitude(hours, "hours")
    except MoneyError as exc:
        raise _money_error(exc) from None
    return hours


# A before-validator does the checking and returns the final value, which the declared
# type then accepts unchanged (and serializes natively: Decimals as strings in JSON).
Amount = Annotated[Decimal, BeforeValidator(parse_contract_amount)]
Rate = Annotated[Decimal, BeforeValidator(parse_rate_value)]
Hours = Annotated[Decimal, BeforeValidator(parse_hours)]
RateOrStatutory = Annotated[Decimal | Literal["statutory"], BeforeValidator(parse_rate_or_statutory)]
AmountOrStatutory = Annotated[Decimal | Literal["statutory"], BeforeValidator(parse_amount_or_statutory)]
