"""Pure date arithmetic for contracts: months with an explicit overflow rule, periods of
days, anchored billing schedules, business-day rolls and local dates.

Everything here is a pure function of its arguments (no wall clock, no global state
except caches of immutable holiday tables). The laws these functions obey, and the ones
they do not, are listed in ``shared/notes/dates.md`` and tested in
``tests/properties/test_dates_properties.py``.

Month overflow (SPEC §2). Adding months to a day that does not exist in the target month
needs a rule:

- ``clip`` (default): the last day of that month (31 Jan + 1 month = 28/29 Feb), as
  ``dateutil.relativedelta`` does and as EU Regulation 1182/71 art. 3(2)(c) says;
- ``roll_forward``: the first day of the next month (31 Jan + 1 month = 1 Mar);
- ``error``: refuse with :class:`~contractrules.errors.AmbiguousDateError`.

Periods (SPEC §2). A period of *n* days "from" an event does not count the event's day
(EU 1182/71 art. 3(1)), so it ends at the end of ``start + n days``. A period of *n*
months from an event ends on the same date *n* months later (art. 3(2)(c)), the overflow
rule deciding when that date does not exist: "1 month from 2025-01-31" ends 2025-02-28
with ``clip``, 2025-03-01 with ``roll_forward``.

Schedules (SPEC §2, §6.1) are anchored, never chained. Boundary ``b_j`` is ``anchor_day``
in month ``start.month + j * CYCLE_MONTHS[cycle]`` of start's year, the overflow rule
applied. Cycle 0 starts at ``start``; cycle ``k > 0`` starts at the k-th boundary strictly
after ``start``. Every boundary is computed from the anchor, so a short month never drags
later cycles (anchor 31: Jan 31, Feb 28, Mar 31, Apr 30, ...).
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from contractrules.errors import AmbiguousDateError, DateError

Overflow = Literal["clip", "roll_forward", "error"]
Roll = Literal["none", "following", "modified_following", "preceding"]

OVERFLOW_MODES: tuple[str, ...] = ("clip", "roll_forward", "error")
ROLL_CONVENTIONS: tuple[str, ...] = ("none", "following", "modified_following", "preceding")
CYCLE_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "yearly": 12}

_ONE_DAY = timedelta(days=1)

# --------------------------------------------------------------------------- months


def days_in_month(year: int, month: int) -> int:
    """Number of days in ``month`` (1..12) of ``year`` (proleptic Gregorian)."""
    return _calendar.monthrange(year, month)[1]


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    """(year, month) moved by ``months``; raises DateError outside years 1..9999."""
    y, m0 = divmod(year * 12 + (month - 1) + months, 12)
    if not 1 <= y <= 9999:
        raise DateError(f"{year:04d}-{month:02d} + {months} month(s) is outside years 1..9999")
    return y, m0 + 1


def _check_mode(mode: str) -> None:
    if mode not in OVERFLOW_MODES:
        raise DateError(f"unknown month_overflow {mode!r}; expected one of {', '.join(OVERFLOW_MODES)}")


def _day_in_month(year: int, month: int, day: int, mode: str, on_error) -> date:
    """``day`` of (year, month), the overflow rule applied if the month is too short.

    ``on_error`` builds the exception raised in ``error`` mode.
    """
    last = days_in_month(year, month)
    if day <= last:
        return date(year, month, day)
    if mode == "clip":
        return date(year, month, last)
    if mode == "roll_forward":
        if (year, month) == (9999, 12):
            raise DateError("rolling forward past 9999-12-31")
        return date(year, month, last) + _ONE_DAY
    raise on_error()


def month_overflows(d: date, months: int) -> bool:
    """True iff ``d.day`` does not exist in the month ``months`` after ``d``'s month."""
    y, m = _shift_month(d.year, d.month, months)
    return d.day > days_in_month(y, m)


def add_months(d: date, months: int, mode: Overflow = "clip") -> date:
    """``d`` plus ``months`` calendar months (any sign), overflow handled by ``mode``.

    ``clip`` is exactly ``d + relativedelta(months=months)``.
    """
    _check_mode(mode)
    y, m = _shift_month(d.year, d.month, months)
    if mode == "clip":
        return d + relativedelta(months=months)
    return _day_in_month(y, m, d.day, mode, lambda: AmbiguousDateError(d, months))


def add_years(d: date, years: int, mode: Overflow = "clip") -> date:
    """``d`` plus ``years`` years, defined as ``12 * years`` months (29 Feb + 1y = 28 Feb)."""
    return add_months(d, 12 * years, mode)


def add_days(d: date, days: int) -> date:
    """``d`` plus ``days`` days (any sign)."""
    try:
        return d + timedelta(days=days)
    except OverflowError as exc:
        raise DateError(f"{d.isoformat()} + {days} day(s) is outside years 1..9999") from exc


class Period(NamedTuple):
    """An inclusive span of local days ``start..end`` (``end`` None: still open).

    The one value for every span of days: cycles, grace periods, disputes, notice periods,
    interest stretches. A tuple, so ``first, last = period`` still reads naturally."""

    start: date
    end: date | None

    @classmethod
    def of_days(cls, event_day: date, days: int) -> Period:
        """The period of ``days`` days from ``event_day`` (SPEC §2: the event day not counted)."""
        return cls(event_day + _ONE_DAY, period_end(event_day, days))

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    @property
    def days(self) -> int:
        """How many days it covers (0 when it ends before it starts); an open period has no count."""
        if self.end is None:
            raise DateError(f"the period from {self.start.isoformat()} is still open: it has no length")
        return max((self.end - self.start).days + 1, 0)


def period_end(start: date, days: int) -> date:
    """Last day of a period of ``days`` days from the event day ``start`` (EU 1182/71 art. 3(1)).

    The event day is not counted: the first day of the period is ``start + 1``, so
    "30 days from 2025-07-31" ends at the end of 2025-08-30. ``days`` must be >= 0.
    """
    if days < 0:
        raise DateError(f"a period of days must not be negative, got {days}")
    return add_days(start, days)


def months_period_end(start: date, months: int, mode: Overflow = "clip") -> date:
    """Last day of a period of ``months`` months from the event day ``start``.

    Reading (EU 1182/71 art. 3(2)(c)): the period ends with the day of the last month that
    falls on the same date as the event day; the event day itself is not counted, exactly
    as for :func:`period_end`. So "1 month from 2025-01-15" ends 2025-02-15. If that date
    does not exist, ``mode`` decides: ``clip`` gives the last day of that month, as the
    regulation says ("1 month from 2025-01-31" ends 2025-02-28), ``roll_forward`` gives
    2025-03-01, ``error`` refuses. ``months`` must be >= 0.
    """
    if months < 0:
        raise DateError(f"a period of months must not be negative, got {months}")
    return add_months(start, months, mode)


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True)
class ScheduledDate:
    """Start of cycle ``index`` of a schedule.

    ``nominal_day`` is the day the schedule asked for (``start.day`` for cycle 0, the
    anchor day after); ``adjusted`` is True when that day did not exist in its month and
    the overflow rule chose ``date``.
    """

    index: int
    date: date
    nominal_day: int
    adjusted: bool


@dataclass(frozen=True)
class _Anchor:
    """A validated schedule: start, anchor day, months per cycle, overflow mode."""

    start: date
    day: int
    step: int
    mode: str

    @classmethod
    def of(cls, start: date, anchor_day: int | None, cycle: str, mode: str) -> _Anchor:
        _check_mode(mode)
        if cycle not in CYCLE_MONTHS:
            raise DateError(f"unknown cycle {cycle!r}; expected one of {', '.join(CYCLE_MONTHS)}")
        day = start.day if anchor_day is None else anchor_day
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            raise DateError(f"anchor_day must be 1..31, got {anchor_day!r}")
        return cls(start, day, CYCLE_MONTHS[cycle], mode)

    def nominal_month(self, j: int) -> tuple[int, int]:
        return _shift_month(self.start.year, self.start.month, j * self.step)

    def overflows(self, j: int) -> bool:
        return self.day > days_in_month(*self.nominal_month(j))

    def boundary(self, j: int) -> date:
        """``b_j``: the anchor day in month ``start.month + j * step``, overflow applied."""
        y, m = self.nominal_month(j)

        def ambiguous() -> AmbiguousDateError:
            return AmbiguousDateError(
                self.start,
                j * self.step,
                f"schedule anchored on day {self.day} from {self.start.isoformat()}: "
                f"day {self.day} does not exist in {y:04d}-{m:02d} (month_overflow: error)",
            )

        return _day_in_month(y, m, self.day, self.mode, ambiguous)

    def first_j(self) -> int:
        """Index of the first boundary strictly after ``start`` (0 or 1)."""
        return 0 if self.boundary(0) > self.start else 1

    def start_of(self, k: int) -> date:
        if k < 0:
            raise DateError(f"cycle index must be >= 0, got {k}")
        if k == 0:
            return self.start
        return self.boundary(self.first_j() + k - 1)


def cycle_start(start: date, anchor_day: int | None, cycle: str, k: int, mode: Overflow = "clip") -> date:
    """First day of cycle ``k`` (0-based) of the anchored schedule."""
    return _Anchor.of(start, anchor_day, cycle, mode).start_of(k)


@lru_cache(maxsize=65536)
def cycle_bounds(start: date, anchor_day: int | None, cycle: str, k: int, mode: Overflow = "clip") -> Period:
    """Inclusive bounds ``[start_k, start_{k+1} - 1 day]`` of cycle ``k``."""
    a = _Anchor.of(start, anchor_day, cycle, mode)
    return Period(a.start_of(k), a.start_of(k + 1) - _ONE_DAY)


def cycle_index(start: date, anchor_day: int | None, cycle: str, d: date, mode: Overflow = "clip") -> int:
    """Index of the cycle containing ``d`` (``d >= start``), in O(1) boundary computations."""
    a = _Anchor.of(start, anchor_day, cycle, mode)
    if d < start:
        raise DateError(f"{d.isoformat()} is before the schedule start {start.isoformat()}")
    months = (d.year - start.year) * 12 + d.month - start.month
    # With j = months // step, b_{j+1} lies in a month after d's, so it is > d; b_j lies
    # in d's month or before (roll_forward: possibly the month after), so either it is
    # <= d or b_{j-1} (or start) is. Cycle k starts at b_{j0 + k - 1}.
    k = months // a.step - a.first_j() + 1
    if k > 0 and a.start_of(k) > d:
        k -= 1
    return k


def _scheduled(a: _Anchor, j0: int, k: int) -> ScheduledDate:
    if k == 0:
        # The boundary b_0 may fall exactly on start only because it was clipped
        # (start = 28 Feb, anchor 31): the overflow rule then decided the schedule.
        if j0 == 1 and a.overflows(0):
            return ScheduledDate(0, a.start, a.day, True)
        return ScheduledDate(0, a.start, a.start.day, False)
    j = j0 + k - 1
    return ScheduledDate(k, a.boundary(j), a.day, a.overflows(j))


def schedule(
    start: date, anchor_day: int | None, cycle: str, count: int, mode: Overflow = "clip"
) -> list[ScheduledDate]:
    """The first ``count`` cycle starts, each computed from the anchor (never chained)."""
    a = _Anchor.of(start, anchor_day, cycle, mode)
    if count <= 0:
        return []
    j0 = a.first_j()
    return [_scheduled(a, j0, k) for k in range(count)]


def ambiguous_dates(
    start: date, anchor_day: int | None, cycle: str, count: int = 24, mode: Overflow = "clip"
) -> list[ScheduledDate]:
    """Schedule dates within the first ``count`` cycles where the nominal day did not exist.

    Never raises for ambiguity: in ``error`` mode the dates are those ``clip`` would give
    (so each one names the month where the day is missing), and they are exactly the
    dates that make ``schedule(..., mode="error")`` raise. Stops early at year 9999.
    """
    a = _Anchor.of(start, anchor_day, cycle, "clip" if mode == "error" else mode)
    found: list[ScheduledDate] = []
    if count <= 0:
        return found
    j0 = a.first_j()
    for k in range(count):
        try:
            s = _scheduled(a, j0, k)
        except DateError:
            break
        if s.adjusted:
            found.append(s)
    return found


# --------------------------------------------------------------------------- business days


@cache
def _supported() -> dict[str, tuple[str, ...]]:
    import holidays  # ~40 ms: only for contracts with a business-day calendar

    return {c.upper(): tuple(s) for c, s in holidays.list_supported_countries().items()}


@lru_cache(maxsize=4096)
def _holiday_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """Public holidays of one country/subdivision in one year (cached, immutable)."""
    import holidays

    table = holidays.country_holidays(country, subdiv=subdiv, years=year)
    return frozenset(d for d in table if d.year == year)


def _parse_calendar(spec: str) -> tuple[str, str | None]:
    """``"ES"``, ``"es-md"``, ``"UK"`` -> (country, subdivision) as ``holidays`` spells them."""
    country, _, sub = spec.strip().partition("-")
    country = country.upper()
    if country == "UK":
        country = "GB"
    supported = _supported()
    if country not in supported:
        raise DateError(f"unknown calendar {spec!r}: no public holidays known for country {country!r}")
    if not sub:
        return country, None
    by_upper = {s.upper(): s for s in supported[country]}
    if sub.upper() not in by_upper:
        raise DateError(
            f"unknown calendar {spec!r}: {country} has no subdivision {sub!r} (known: {', '.join(supported[country])})"
        )
    return country, by_upper[sub.upper()]


class BusinessCalendar:
    """Business days: Monday to Friday, minus the public holidays of a country/subdivision.

    ``spec`` is an ISO country code with an optional subdivision (``"ES"``, ``"ES-MD"``,
    ``"GB"``; ``"UK"`` is an alias of ``"GB"``), or None for weekends only. Holiday
    tables come from the ``holidays`` package and are cached per year.
    """

    def __init__(self, spec: str | None):
        self.spec = spec
        if spec is None:
            self.country, self.subdiv = None, None
        else:
            self.country, self.subdiv = _parse_calendar(spec)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.spec!r})"

    def is_holiday(self, d: date) -> bool:
        """True iff ``d`` is a public holiday of this calendar."""
        return self.country is not None and d in _holiday_dates(self.country, self.subdiv, d.year)

    def is_business_day(self, d: date) -> bool:
        """True iff ``d`` is a weekday and not a public holiday."""
        return d.weekday() < 5 and not self.is_holiday(d)

    def following(self, d: date) -> date:
        """The first business day on or after ``d``."""
        while not self.is_business_day(d):
            d = add_days(d, 1)
        return d

    def preceding(self, d: date) -> date:
        """The last business day on or before ``d``."""
        while not self.is_business_day(d):
            d = add_days(d, -1)
        return d

    def roll(self, d: date, convention: Roll) -> date:
        """Move ``d`` to a business day per ISDA 2006 §4.12 (``none`` leaves it alone).

        ``modified_following`` is ``following`` unless that leaves ``d``'s month, then
        ``preceding``.
        """
        if convention == "none":
            return d
        if convention == "following":
            return self.following(d)
        if convention == "preceding":
            return self.preceding(d)
        if convention == "modified_following":
            f = self.following(d)
            return f if f.month == d.month else self.preceding(d)
        raise DateError(f"unknown roll {convention!r}; expected one of {', '.join(ROLL_CONVENTIONS)}")

    def add_business_days(self, d: date, n: int) -> date:
        """The n-th business day after ``d`` (``d`` itself is never counted; n=0 gives d)."""
        if n < 0:
            raise DateError(f"a number of business days must not be negative, got {n}")
        for _ in range(n):
            d = self.following(add_days(d, 1))
        return d


@lru_cache(maxsize=256)
def business_calendar(spec: str | None) -> BusinessCalendar:
    """A shared :class:`BusinessCalendar` for ``spec`` (instances are cached)."""
    return BusinessCalendar(spec)


# --------------------------------------------------------------------------- local dates


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """The IANA zone names a contract may use: every zone and link of the ``tzdata``
    package (host-independent), without ``Factory``. Never the host's ``localtime``,
    ``posixrules``, ``right/*`` (leap-second clocks), ``posix/*`` or a directory."""
    try:
        from importlib.resources import files

        names = set(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())
    except (ModuleNotFoundError, OSError):  # pragma: no cover - tzdata is a dependency
        from zoneinfo import available_timezones

        names = set(available_timezones())
    return frozenset(n for n in names if n not in _NOT_ZONES and not n.startswith(("right/", "posix/")))


_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


def validate_zone(name: object) -> str:
    """``name`` if it is an IANA time zone a contract may use (:func:`zone_names`), else DateError."""
    from contractrules import limits

    if not isinstance(name, str) or len(name) > limits.MAX_ZONE_NAME or name not in zone_names():
        shown = limits.excerpt(name) if isinstance(name, str) else type(name).__name__
        if isinstance(name, str) and (name in _NOT_ZONES or name.startswith(("right/", "posix/"))):
            raise DateError(
                f"time zone {shown} is not allowed: it depends on the host or counts leap "
                "seconds; use an IANA name such as 'Europe/Madrid' or 'UTC'"
            )
        raise DateError(f"unknown time zone {shown}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise DateError(f"time zone {name!r} cannot be loaded: {exc}") from None
    return name


@lru_cache(maxsize=256)
def _zone(tz: str) -> ZoneInfo:
    try:
        validate_zone(tz)
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DateError(f"unknown time zone {tz!r}") from exc


def local_date(at: date | datetime, tz: str) -> date:
    """The contract-local date of ``at``.

    A ``date`` is already local and passes through. An aware ``datetime`` is converted to
    ``tz`` first (2024-01-31T23:30Z is 2024-02-01 in Europe/Paris). A naive ``datetime``
    is refused: its instant is unknown.
    """
    if isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise DateError(f"timestamp {at.isoformat()} has no UTC offset; add one (e.g. 'Z' or '+02:00')")
        return at.astimezone(_zone(tz)).date()
    if isinstance(at, date):
        return at
    raise DateError(f"expected a date or datetime, got {type(at).__name__}")
