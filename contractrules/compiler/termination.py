"""terms.termination — notice, waivers of notice, the effective end, ``short_notice``.

SPEC §6.3. A notice given on local date N has the earliest effective date
``E0 = N + notice period`` (days: event day not counted; months: same day of the later
month, the contract's ``month_overflow`` deciding a day that does not exist — ``error``
clips: a notice is an event, not a place to refuse). ``notice_end`` → E = E0;
``end_of_cycle`` → the last day of the cycle containing E0. A later requested ``effective`` date wins. An earlier requested date
is a ``short_notice`` breach by the notifying party, unless the other party waived
``termination.notice`` — then the requested date (or N) stands. Without a waiver the
contract still ends at E: a short notice does not shorten it.

The first notice counts; a later one is reported as a warning and ignored. Without a
termination clause a notice takes effect the day it is given (0 days, notice_end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contractrules import dates
from contractrules.compiler import cycles
from contractrules.compiler.common import ev, iso, on_clock, on_event, rule
from contractrules.ledger import WorkingViolation

CLAUSE = "terms.termination"


# same-instant order (SPEC §5): what creates a thing before what acts on it
EVENT_RANKS = {"termination_notice": 9, "waiver": 10}


def compile(contract) -> dict:
    t = contract.terms.termination
    params = {"notice_days": 0, "notice_months": None, "effective": "notice_end", "defaulted": t is None}
    if t is not None:
        params.update(
            notice_days=t.notice_days if t.notice_months is None else None,
            notice_months=t.notice_months,
            effective=t.effective,
        )
        if params["notice_days"] is None and params["notice_months"] is None:
            params["notice_days"] = 0
    return {
        "rules": {
            "termination.notice": rule(on_event("termination_notice"), "termination.notice"),
            "termination.waive": rule(on_event("waiver", clause="termination.notice"), "termination.waive"),
            "termination.effective": rule(on_clock("termination.effective"), "termination.effective"),
        },
        "params": params,
    }


@dataclass(frozen=True)
class Resolution:
    given_on: date
    by: str
    notice_id: str
    earliest: date  # E0 adjusted to the cycle end if end_of_cycle: the lawful end
    requested: date | None
    effective: date  # E
    short: bool  # requested earlier than the lawful end
    waived: bool
    waiver_id: str | None


def _period_text(params: dict) -> str:
    if params["notice_months"] is not None:
        return f"{params['notice_months']} month(s) notice"
    return f"{params['notice_days']} days notice"


def notice_overflow(mode: str) -> dates.Overflow:
    """The overflow rule for ``notice_months`` (SPEC §6.3): the contract's, but ``error`` clips."""
    if mode == "roll_forward":
        return "roll_forward"
    return "clip"  # clip, and error: a notice is an event, not a place to refuse


def resolve(run) -> Resolution | None:
    st = run.state("termination")
    rec = st.get("notice")
    if rec is None:
        return None
    n = rec.local_date
    params = run.terms("termination", n).params  # the terms in force on the notice date (SPEC §6.7)
    if params["notice_months"] is not None:
        e0 = dates.months_period_end(n, params["notice_months"], notice_overflow(run.doc["cycles"]["month_overflow"]))
    else:
        notice_period = dates.Period.of_days(n, params["notice_days"])  # SPEC §2: the notice day not counted
        assert notice_period.end is not None, "a period of days is closed"
        e0 = notice_period.end
    lawful = cycles.containing(run, e0)[2] if params["effective"] == "end_of_cycle" else e0
    requested = rec.event.effective
    waiver = st.get("waiver")
    if waiver is not None and waiver.event.by == rec.event.by:
        waiver = None  # only the other party, the notice's beneficiary, can waive it
    # a right to terminate (SPEC §6.8: a service level's termination_right) means the
    # other party cannot claim the notice period, as if it had waived it
    right = run.holds_right(rec.event.by, "termination", n)
    effective, short = lawful, False
    if requested is not None and requested >= lawful:
        effective = requested
    elif waiver is not None or right is not None:
        effective = requested if requested is not None else n
    elif requested is not None:
        short = True
    return Resolution(
        n,
        rec.event.by,
        rec.event.id,
        lawful,
        requested,
        effective,
        short,
        waiver is not None,
        waiver.event.id if waiver else None,
    )


def effective_end(run) -> date | None:
    """The day the contract ends, as known now: the notice's E or the fixed ``end``."""
    r = resolve(run)
    if r is None:
        return run.end
    return r.effective if run.end is None else min(run.end, r.effective)


def due_at_cycle_end(run, first: date, last: date, end: Any = ...) -> tuple[date, list[str]]:
    """When an obligation due at the end of cycle ``[first, last]`` falls due (SPEC §6.3).

    The cycle's last day; the contract's end if that comes first — but never before the
    notice that moved the end there (``max(E, N)``), and never after the cycle's last day
    (a notice given after the cycle ended does not postpone it). Also returns the notice
    (and waiver) events that moved it, for ``caused_by``. ``end``: the contract's
    :func:`effective_end` when the caller has it already (a loop over many cycles).
    """
    if end is ...:
        end = effective_end(run)
    if end is None or end >= last or end < first:
        return last, []
    r = resolve(run)
    if r is None or r.effective != end or (run.end is not None and run.end <= end):
        return end, []  # the fixed end of the contract, known from the start
    moved = [r.notice_id, *([r.waiver_id] if r.waiver_id and r.effective < r.earliest else [])]
    return min(max(end, r.given_on), last), moved


def notice(run, rec) -> None:
    st = run.state("termination")
    if "notice" in st:
        run.warn(f"termination notice {rec.event.id} ignored: notice was already given{ev(st['notice'].event.id)}")
        return
    st["notice"] = rec
    r = resolve(run)
    assert r is not None, "resolved from the notice just recorded"
    run.schedule(r.effective + timedelta(days=1), "termination.effective")


def waive(run, rec) -> None:
    st = run.state("termination")
    first = st.get("notice")
    if first is not None and rec.event.by == first.event.by:
        run.warn(
            f"waiver {rec.event.id} ignored: only the other party may waive the notice period given by {run.name(rec.event.by)}"
        )
        return
    st.setdefault("waiver", rec)


def effective(run, tick) -> None:
    run.state("termination")["ended"] = True


def finish(run) -> None:
    r = resolve(run)
    if r is None or not r.short:
        return
    terms = run.terms("termination", r.given_on)
    params = terms.params
    run.violate(
        WorkingViolation(
            id=f"short_notice:{r.notice_id}",
            kind="short_notice",
            party=r.by,
            on=r.given_on,
            severity="breach",
            clause=terms.clause,
            caused_by=[r.notice_id, *terms.cites],
            explanation=(
                f"{run.name(r.by)} gave notice on {iso(r.given_on)}{ev(r.notice_id)} asking to end on "
                f"{iso(r.requested)}, but {terms.clause} ({_period_text(params)}, effective {params['effective'].replace('_', ' ')}) "
                f"sets the earliest end at {iso(r.earliest)}, and {run.name(run.other(r.by))} has not waived it; "
                f"the contract runs until {iso(r.effective)}."
            ),
        )
    )


ACTIONS = {"termination.notice": notice, "termination.waive": waive, "termination.effective": effective}


def answer(run) -> dict:
    """The answer's ``state`` section (SPEC §8): active, terminating or terminated."""
    from contractrules.model.answers import ContractState, Notice

    r = resolve(run)
    end = effective_end(run)
    if end is not None and run.as_of > end:
        state = "terminated"
    elif r is not None:
        state = "terminating"
    else:
        state = "active"
    notice = None if r is None else Notice(given_on=r.given_on, by=r.by, waived=r.waived)
    return {"state": ContractState(state=state, effective_end=end, notice=notice)}
