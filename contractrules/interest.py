"""Simple interest on a daily balance, summed in constant stretches (pure, Decimal).

``accrue(first, last, balance_at, rate_at, breaks, basis)`` is
``Σ_{d=first..last} balance_at(d) × rate_at(d) / basis`` — unrounded: round once when
reporting. ``breaks`` are the days on which the balance or the rate may change; between
them both are constant, so the sum is computed one stretch at a time.
``segments(...)`` gives those stretches (adjacent ones with the same balance, rate and
source merged): the rows of a statement's interest table. ``accrue`` is their sum, so the
table and the engine's figure cannot disagree.

Laws (tested with Hypothesis): additive over adjacent ranges, monotone in the number of
days and in the balance, zero for a zero balance or an empty range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from contractrules.dates import Period

ZERO = Decimal("0")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Segment:
    """Days ``start``..``end`` (inclusive) of constant ``balance`` and annual ``rate``."""

    start: date
    end: date
    balance: Decimal
    rate: Decimal
    basis: int
    source: str = ""

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    @property
    def days(self) -> int:
        return self.period.days

    @property
    def product(self) -> Decimal:
        """``balance × rate × days`` (exact): the interest is this over ``basis``."""
        return self.balance * self.rate * self.days

    @property
    def interest(self) -> Decimal:
        return self.product / Decimal(self.basis)


def segments(
    first: date,
    last: date,
    balance_at: Callable[[date], Decimal],
    rate_at: Callable[[date], Decimal],
    breaks: Iterable[date] = (),
    basis: int = 365,
    source_at: Callable[[date], str] | None = None,
) -> list[Segment]:
    """The stretches of ``first``..``last`` with constant balance, rate (and rate source)."""
    if last < first:
        return []
    stops = sorted({b for b in breaks if first < b <= last} | {last + ONE_DAY})
    out: list[Segment] = []
    day = first
    for stop in stops:
        seg = Segment(day, stop - ONE_DAY, balance_at(day), rate_at(day), basis, source_at(day) if source_at else "")
        prev = out[-1] if out else None
        if prev and (prev.balance, prev.rate, prev.source) == (seg.balance, seg.rate, seg.source):
            out[-1] = Segment(prev.start, seg.end, seg.balance, seg.rate, basis, seg.source)
        else:
            out.append(seg)
        day = stop
    return out


def total(parts: list[Segment], basis: int) -> Decimal:
    """Σ interest of ``parts``, divided once (the unrounded figure the engine reports)."""
    return sum((s.product for s in parts), ZERO) / Decimal(basis)


def accrue(
    first: date,
    last: date,
    balance_at: Callable[[date], Decimal],
    rate_at: Callable[[date], Decimal],
    breaks: Iterable[date] = (),
    basis: int = 365,
) -> Decimal:
    return total(segments(first, last, balance_at, rate_at, breaks, basis), basis)


@dataclass(frozen=True)
class InterestTable:
    """How one invoice's interest was computed as of a date: what a statement shows.

    ``unrounded`` is :func:`total` of ``segments``; ``cap`` the cap's amount if the
    contract has one; the figure the answer reports is ``min(unrounded, cap)``, rounded
    once."""

    invoice: str
    first: date
    last: date
    basis: int
    segments: tuple[Segment, ...]
    unrounded: Decimal
    cap: Decimal | None = None

    @property
    def capped(self) -> bool:
        return self.cap is not None and self.unrounded > self.cap

    @property
    def figure(self) -> Decimal:
        if self.cap is not None and self.unrounded > self.cap:
            return self.cap
        return self.unrounded

    def until(self, day: date) -> InterestTable:
        """The same table as of another ``day`` on or after its last row's start, when
        nothing changes after that start (the invoice paid off, no new rate, no amendment:
        compiler/penalty_horizon.py): its last row, and the table, run to ``day``."""
        if day == self.last:
            return self
        last = self.segments[-1]
        assert last.end == self.last and last.start <= day, "the last row runs to the table's day"
        return replace(self, last=day, segments=(*self.segments[:-1], replace(last, end=day)))
