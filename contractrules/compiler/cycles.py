"""The contract's cycle calendar, shared by billing, termination and recurring services.

Cycles come from ``terms.billing`` (cycle, anchor_day, month_overflow); a contract with
no billing clause uses monthly cycles anchored on its start date.
"""

from __future__ import annotations

from datetime import date, timedelta

from contractrules import dates


def cycle_params(contract) -> dict:
    b = contract.terms.billing
    if b is None:
        return {"cycle": "monthly", "anchor_day": None, "month_overflow": "clip"}
    return {"cycle": b.cycle, "anchor_day": b.anchor_day, "month_overflow": b.month_overflow}


def bounds(run, k: int) -> tuple[date, date]:
    """Inclusive bounds of cycle ``k`` (cached for the run: clauses ask for the same cycles)."""
    cache = run.state("cycles")
    if k not in cache:
        c = run.doc["cycles"]
        cache[k] = dates.cycle_bounds(run.start, c["anchor_day"], c["cycle"], k, c["month_overflow"])
    return cache[k]


def containing(run, day: date) -> tuple[int, date, date]:
    c = run.doc["cycles"]
    k = dates.cycle_index(run.start, c["anchor_day"], c["cycle"], max(day, run.start), c["month_overflow"])
    return (k, *bounds(run, k))


def begin(run, tick: dict, kind: str, end: date | None) -> tuple[date, date] | None:
    """Start cycle ``tick['k']``: its bounds, with the next cycle's clock scheduled.

    None (and nothing scheduled) when the cycle starts after the contract's end ``end``."""
    k = tick["k"]
    first, last = bounds(run, k)
    if end is not None and first > end:
        return None
    run.schedule(last + timedelta(days=1), kind, k=k + 1)
    return first, last
