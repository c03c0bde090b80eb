"""The oracle's billing cycles (SPEC §6.1) and the end a termination notice sets (§6.3):
cycles monthly from the contract's start, due dates with ``invoice_within_days``, moved to
``max(E, N)`` in the cycle a notice ends, discharged cycles, ``unbilled`` violations.
Functions of an :class:`tests.oracle.model.Oracle` (its sorted events and terms)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.oracle.model import DAY, add_months


# ------------------------------------------------------------------ termination (§6.3)
def cycle_of(o, d: date) -> tuple[date, date]:
    k = (d.year - o.t.start.year) * 12 + d.month - o.t.start.month
    while add_months(o.t.start, k) > d:
        k -= 1
    return add_months(o.t.start, k), add_months(o.t.start, k + 1) - DAY


def termination(o, before: date | None = None) -> tuple[date, date] | None:
    """(notice day N, effective end E) of the first notice known by as_of (or dated before
    ``before``), or None."""
    events = [e for e in o.events if before is None or e["at"][:10] < before.isoformat()]
    notices = [e for e in events if e["type"] == "termination_notice"]
    if not notices:
        return None
    notice = notices[0]
    n = date.fromisoformat(notice["at"][:10])
    e0 = n + timedelta(days=o.t.notice_days)
    end = e0 if o.t.effective == "notice_end" else cycle_of(o, e0)[1]
    asked = date.fromisoformat(notice["effective"]) if "effective" in notice else None
    # a waiver by the other party counts whenever given by as_of, even before the notice
    waived = any(e["type"] == "waiver" and e["clause"] == "termination.notice" and e["by"] == "studio" for e in events)
    if asked is not None and asked > end:
        return n, asked
    if waived:
        return n, asked if asked is not None else n
    return n, end


# ------------------------------------------------------------------ billing (§6.1)
def billing(o) -> tuple[dict, dict]:
    obligations, violations = {}, {}
    term = termination(o)
    fixed = o.t.end
    k = 0
    while (s := add_months(o.t.start, k)) <= o.as_of:
        last = add_months(o.t.start, k + 1) - DAY
        known = termination(o, before=s)  # a cycle starts before that day's events
        if (known is not None and s > known[1]) or (fixed is not None and s > fixed):
            break  # starts after the end known then: never owed (§6.3); else discharged (Decision 7)
        base = s if o.t.timing == "advance" else last
        discharged = term is not None and s > term[1]
        if term is not None and o.t.timing == "arrears" and s <= term[1] < last and (fixed is None or term[1] < fixed):
            base = min(last, max(term))  # max(E, N), never after the cycle's last day (Decision 40)
        elif fixed is not None and o.t.timing == "arrears" and s <= fixed < last:
            base = fixed  # the contract's fixed end, if earlier than the last day
        due = base + timedelta(days=o.t.invoice_within_days)
        invoiced = o.periods.get(s.isoformat())
        if discharged:
            status = "discharged"
        elif invoiced is not None:
            status = "fulfilled"
        elif o.as_of > due:
            status = "violated"
        else:
            status = "pending"
        obligations[f"billing:{s.isoformat()}"] = {
            "due": due,
            "status": status,
            "fulfilled_on": invoiced if status == "fulfilled" else None,
        }
        if not discharged and o.as_of > due and (invoiced is None or invoiced > due):
            violations[f"unbilled:{s.isoformat()}"] = due + DAY
        k += 1
    return obligations, violations


def effective_end(o) -> date | None:
    term = termination(o)
    if o.t.end is not None:
        return o.t.end if term is None else min(o.t.end, term[1])
    return None if term is None else term[1]
