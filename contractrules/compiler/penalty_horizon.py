"""terms.late_penalty: the day from which a late invoice's penalty no longer changes.

A billing system asks every day, so a live contract's ``as_of`` moves forward one day at a
time; a penalty unit keyed by the day asked (compiler/memo.py) would be computed again
every day for every late invoice ever issued. Yet the penalty of an invoice paid off long
ago is the same every day. :func:`horizon` gives, for one late invoice in a working
state, a day H (or None: "may change any day") such that everything its penalty unit
produces — the figure, the penalty obligation it adds, its warnings, the statutory rows
it uses, and its interest table up to the day asked — is the same for every day asked on
or after H (with no statutory rate day between: below), but for two things that name the
day asked and are re-dated instead (compiler/penalty.py ``_redate``): the interest table's last day (its last row, of
zero balance, runs to the day asked: :meth:`InterestTable.until`) and the text of a
penalty obligation still owed ("… interest to <day> …", written again by
``penalty._obligation``).

H is None while the principal has a balance and the penalty is not waived (interest
accrues daily), and while a dispute is open (a cautious choice: nothing found changes
then, but a suspended penalty is not worth the risk). Otherwise it is the latest of the days on
which something the penalty reads can still change with the day asked: the day after
the due date and after the grace end (grace reasons; interest from the grace end), every
move of the invoice and of its penalty, every reminder and the first one plus
``reminder_days``, every dispute's opening and resolution, the day after a waiver (on the
waiver's day the answer carries the table of the interest up to it), every day an
amendment of the clause takes effect (interest stretches, the terms a figure cites), the
first enforceable day and the first day of the current enforceable stretch. When the
statutory rate of each half-year is used, the later days the statutory table starts a
new rate still change it (the table's zero-balance rows take the new rate; the day after
the table adds the "beyond the table" warning): the horizon lists them, and the output is
the same only on days with none of them in between (:func:`same`).

A unit or block computed on day D is reused on any day D' with the same output and the
same other inputs: its key keeps the day D it was computed on (:func:`day_key`).

Which of those days can lie after the day asked: a state answered as of D holds no event
dated after D (a live answer is on or after the last event; an earlier one is answered
from a checkpoint with the events up to D), and a live contract replays every day before
the last amendment's (live.py), so moves, reminders, disputes and amendment days never
do, and the grace end, the reminder's end and the enforceable days only matter while the
principal is open and the penalty not waived (then H is None). The days that do are the
day after a waiver and the statutory table's days; the live tests pin both
(tests/unit/test_penalty_horizon.py: a horizon one day early is caught). The others are
kept so that H does not rest on that argument.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from typing import Any

from contractrules.compiler.penalty_facts import _facts
from contractrules.ledger import ZERO, Invoice

ONE_DAY = timedelta(days=1)


def _half_yearly(params: dict) -> bool:
    spec = params.get("interest")
    law = params.get("statutory")
    return (
        spec is not None
        and spec["annual_rate"] == "statutory"
        and law is not None
        and law["rate_mode"] != "fixed_at_start"
    )


#: A horizon: the first day H, and the later days on which the output still changes
#: (a statutory rate's new half-year); the output is the same on any two days asked on or
#: after H with no such day between them, inclusive of the later one.
Horizon = tuple[date, tuple[date, ...]]


def horizon(run, inv: Invoice) -> Horizon | None:
    """When ``inv``'s penalty is the same for every day asked (module docstring): H and the
    later days the statutory rate still changes, or None."""
    from contractrules.compiler import penalty
    from contractrules.compiler.penalty_rates import _rates

    facts = _facts(run, inv.id)
    waiver = facts.waiver
    if inv.balance > ZERO and waiver is None:
        return None  # interest accrues every day
    if any(d.resolved is None for d in facts.disputes):
        return None  # held back until an event says otherwise
    assert inv.due is not None, "a late invoice has a due date"
    params = penalty._params(run, inv)
    days = [inv.due + ONE_DAY, penalty.grace_end(params, inv, facts) + ONE_DAY]
    days += [m.on for moves in (inv.credits, inv.payments, inv.penalty_payments, inv.penalty_credits) for m in moves]
    days += [d for d, _ in facts.reminders]
    if params["reminder_days"] is not None and facts.reminders:
        days.append(min(facts.reminders)[0] + timedelta(days=params["reminder_days"]))
    for d in facts.disputes:
        days += [d.opened, d.resolved or d.opened]  # all resolved (above)
    if waiver is not None:
        days.append(waiver.local_date + ONE_DAY)
    dated = run.dated("late_penalty")
    days += dated.changes()
    last = max(days)
    first, start = penalty.enforceable_dates(run, inv, facts, last)
    found = max([last, *(d for d in (first, start) if d is not None)])
    stops: tuple[date, ...] = ()
    if any(_half_yearly(t.params) for t in dated.items):
        stops = tuple(d for d in _rates(run).starts() if d > found)
    return found, stops


def joint(horizons) -> Horizon | None:
    """The horizon of several units: the latest H and every later day one still changes on;
    None if any is None."""
    found: date | None = None
    stops: set[date] = set()
    for h in horizons:
        if h is None:
            return None
        if found is None or h[0] > found:
            found = h[0]
        stops.update(h[1])
    if found is None:
        return None
    return found, tuple(sorted(d for d in stops if d > found))


def same(h: Horizon | None, day: date, other: date) -> bool:
    """Whether the output is the same on ``day`` and ``other`` (``h``: its horizon)."""
    if h is None:
        return day == other
    first, stops = h
    return first <= day and first <= other and bisect_right(stops, day) == bisect_right(stops, other)


def day_key(run, key: tuple, rest: tuple) -> date:
    """The day to key a unit or block by (its inputs are ``(day, *rest)``, its result ends
    with its horizon): the day it was last computed on, when its other inputs are the same
    and its output is the same on that day and the day asked (:func:`same`); else the day
    asked."""
    memo: dict[Any, Any] | None = run.memo
    if memo is not None:
        hit = memo.get(key)
        if hit is not None and hit[0][1:] == rest and same(hit[3][-1], hit[0][0], run.as_of):
            return hit[0][0]
    return run.as_of
