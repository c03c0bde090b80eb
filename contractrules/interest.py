"""Simple interest on a daily balance, summed in constant stretches (pure, Decimal).

``accrue(first, last, balance_at, rate_at, breaks, basis)`` is
``Σ_{d=first..last} balance_at(d) × rate_at(d) / basis`` — unrounded: round once when
reporting. ``breaks`` are the days on which the balance or the rate may change; between
them both are constant, so the sum is computed one stretch at a time.

Laws (tested with Hypothesis): additive over adjacent ranges, monotone in the number of
days and in the balance, zero for a zero balance or an empty range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal

ZERO = Decimal("0")
ONE_DAY = timedelta(days=1)


def accrue(
    first: date,
    last: date,
    balance_at: Callable[[date], Decimal],
    rate_at: Callable[[date], Decimal],
    breaks: Iterable[date] = (),
    basis: int = 365,
) -> Decimal:
    if last < first:
        return ZERO
    stops = sorted({b for b in breaks if first < b <= last} | {last + ONE_DAY})
    total, day = ZERO, first
    for stop in stops:
        total += balance_at(day) * rate_at(day) * (stop - day).days
        day = stop
    return total / Decimal(basis)


class DatedRates:
    """A dated rate table from a compiled document (rows of ``{from, to, rate, source}``,
    and ``file`` for a row that came from a user rate file)."""

    def __init__(self, rows: list[dict], name: str):
        self.name = name
        self.rows = [(date.fromisoformat(r["from"]), date.fromisoformat(r["to"]), Decimal(r["rate"]), r["source"])
                     for r in rows]
        self.files: list[str | None] = [r.get("file") for r in rows]
        self.beyond: set[date] = set()  # days asked for after the last row
        self.user_rows: set[int] = set()  # indexes of rows from user rate files that were used

    def rate_on(self, day: date) -> Decimal:
        for k in range(len(self.rows) - 1, -1, -1):
            start, end, rate, _source = self.rows[k]
            if start <= day:
                if day > end:
                    self.beyond.add(day)
                if self.files[k] is not None:
                    self.user_rows.add(k)
                return rate
        raise ValueError(f"{self.name}: no rate before {self.rows[0][0]} (asked for {day})")

    def starts(self) -> list[date]:
        """Days on which a new row begins, and the day after the last row (where the rate may change)."""
        return [start for start, *_ in self.rows] + [self.rows[-1][1] + ONE_DAY]

    def last_row(self) -> tuple[date, date, Decimal, str]:
        return self.rows[-1]
