"""What contractrules accepts at most: one home for every input limit (docs/cli.md).

Bad or hostile input is refused quickly, with a message, instead of taking minutes,
gigabytes or a traceback. Each limit is far above what an honest contract or event
needs; none limits how *many* events a history has (only the size of each one).

=========================  =====================  =========================================
limit                      value                  where
=========================  =====================  =========================================
contract file size         1 MiB                  ``check``, ``evaluate``, ``ingest``, batch
one event (a JSONL line,   256 KiB                every events reader
a JSON array element)
nesting depth              32 levels              contracts and events (``meta`` included)
YAML aliases               100 per document;      contracts (the fast batch path too)
                           20,000 nodes expanded
amount                     below 10^15, at most   every amount (events and contract);
                           the currency's minor   fraction digits as before (SPEC §3)
                           digits
rate, hours                at most 20 significant annual_rate, cap, hours ...
                           digits; rates below
                           1,000, hours below 10^15
day counts                 at most 36,500 days    terms_days, grace_days, notice_days,
                           (months: 1,200)        respond_within_days, ...
dates                      1900-01-01 to          every date and timestamp of a contract
                           2199-12-31             or event, ``--as-of``, ``--known-at``,
                                                  ``--effective-from``
time zone name             64 characters          ``timezone``
=========================  =====================  =========================================

Messages quote at most :data:`EXCERPT` characters of an offending value or line.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from contractrules.errors import DateError

MAX_CONTRACT_BYTES = 1024 * 1024
MAX_EVENT_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 20_000
AMOUNT_BOUND = Decimal(10) ** 15
RATE_BOUND = Decimal(1000)
MAX_SIGNIFICANT_DIGITS = 20
MAX_DAYS = 36_500
MAX_MONTHS = 1_200
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)
MAX_ZONE_NAME = 64
EXCERPT = 60

#: Decimal precision for money arithmetic: an amount below 10^15 with 4 fraction digits
#: (19 digits) times a rate of 20 digits times a day count is exact well inside it.
DECIMAL_PRECISION = 80


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """``text`` shortened to ``limit`` characters (``...`` marks the cut), as a repr."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def date_range_text() -> str:
    return f"{DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}"


def check_date(value: date, what: str = "date") -> date:
    """``value`` if inside the accepted range, else DateError naming the range."""
    day = value.date() if isinstance(value, datetime) else value  # as written: no conversion can overflow
    if not DATE_MIN <= day <= DATE_MAX:
        raise DateError(f"{what} {value.isoformat()} is outside the accepted range {date_range_text()}")
    return value


def in_range(value: date) -> bool:
    try:
        check_date(value)
    except DateError:
        return False
    return True


def depth_of(value: object, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of parsed data (a scalar is 0), counting at most to ``limit + 1``."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.keys()) + list(item.values())
        elif isinstance(item, (list, tuple)):
            children = list(item)
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        stack.extend((c, depth) for c in children if isinstance(c, (dict, list, tuple)))
    return deepest


def depth_message(limit: int = MAX_DEPTH) -> str:
    return f"nested more than {limit} levels deep (the limit)"
