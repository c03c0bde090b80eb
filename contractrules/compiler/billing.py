"""terms.billing — anchored billing cycles and unbilled fees.

SPEC §6.1. Cycle k covers ``[start_k, start_{k+1} - 1]`` with ``start_k`` anchored
(dates.cycle_bounds). Each cycle that starts on or before the effective end (the fixed
``end`` or the termination's E) creates ``billing:<cycle start>`` when it starts: the
provider is to invoice the client the fee. It is fulfilled by an ``invoice_issued``
whose ``period`` is that cycle start, and stays pending (``due: null``) until then, so
unbilled fees are visible. With ``proration: daily`` the cycle containing the end is
owed ``fee × days active / days in cycle``; with ``none`` in full. A cycle created before
a notice moved the end before it is ``discharged``.
"""

from __future__ import annotations

from decimal import Decimal

from contractrules.compiler import cycles, termination
from contractrules.compiler.common import ev, iso, money, on_clock, rule
from contractrules.engine.runtime import ZERO, WorkingObligation

CLAUSE = "terms.billing"


def compile(contract) -> dict:
    b = contract.terms.billing
    return {
        "rules": {"billing.cycle": rule(on_clock("billing.cycle"), "billing.cycle")},
        "params": {"fee": str(b.fee), "timing": b.timing, "proration": b.proration},
    }


def start(run) -> None:
    run.schedule(run.start, "billing.cycle", k=0)


def cycle(run, tick) -> None:
    span = cycles.begin(run, tick, "billing.cycle", termination.effective_end(run))
    if span is None:
        return
    first, last = span
    run.oblige(WorkingObligation(
        id=f"billing:{first.isoformat()}", kind="billing", debtor=run.provider, creditor=run.client,
        clause=CLAUSE, arose_on=first, amount=Decimal(run.params["billing"]["fee"]),
    ))
    run.state("billing").setdefault("cycles", {})[first] = last


def _amount(run, first, last, end) -> tuple[Decimal, str]:
    params = run.params["billing"]
    fee = Decimal(params["fee"])
    if end is None or not (first <= end < last):
        return fee, ""
    if params["proration"] == "none":
        return fee, f"; the contract ends {iso(end)} within this cycle, owed in full (proration: none)"
    active, length = (end - first).days + 1, (last - first).days + 1
    return fee * active / length, (
        f"; the contract ends {iso(end)}: {active} of {length} days, prorated from {money(fee, run.currency)}"
    )


def finish(run) -> None:
    params = run.params["billing"]
    end = termination.effective_end(run)
    by_period = {i.period: i for i in sorted(run.invoices.values(), key=lambda i: i.issued_on) if i.period}
    known = run.state("billing").get("cycles", {})
    for first, last in known.items():
        ob = run.obligations[f"billing:{first.isoformat()}"]
        head = (f"{run.name(run.provider)} is to invoice {run.name(run.client)} the {params['timing']} fee for the cycle "
                f"{iso(first)} to {iso(last)} ({CLAUSE})")
        if end is not None and first > end:
            ob.status, ob.balance = "discharged", ZERO
            ob.explanation = head + f"; not owed: the contract ended {iso(end)} before the cycle began."
            continue
        ob.amount, note = _amount(run, first, last, end)
        inv = by_period.get(first)
        if inv is not None:
            ob.status, ob.fulfilled_on, ob.balance = "fulfilled", inv.issued_on, ZERO
            ob.cite(inv.event_id)
            ob.explanation = head + f"{note}; invoiced as {inv.id} on {iso(inv.issued_on)}{ev(inv.event_id)}."
        else:
            ob.balance = ob.amount
            ob.explanation = head + f"{note}; {money(ob.amount, run.currency)} not invoiced yet as of {iso(run.as_of)}."
    starts = set(known)
    for inv in run.invoices.values():
        if inv.period is not None and inv.period not in starts and inv.period <= run.as_of:
            run.warn(f"invoice {inv.id}{ev(inv.event_id)} names period {iso(inv.period)}, which is not the start of a billing cycle")


ACTIONS = {"billing.cycle": cycle}
