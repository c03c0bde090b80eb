"""terms.billing — anchored billing cycles, and fees nobody invoiced in time.

SPEC §6.1. Cycle k covers ``[start_k, start_{k+1} - 1]`` with ``start_k`` anchored
(dates.cycle_bounds). Each cycle that starts on or before the effective end (the fixed
``end`` or the termination's E) creates ``billing:<cycle start>`` when it starts: the
provider is to invoice the client the fee. It is fulfilled by an ``invoice_issued``
whose ``period`` is that cycle start (an invoice without ``period`` fulfils no cycle: a
warning says so). It is due ``invoice_within_days`` (default 7, calendar days, no roll)
after the cycle's start (``advance``) or its last day (``arrears``) — the contract's end
if earlier, but never before the notice that moved the end there (``max(E, N)``,
termination.due_at_cycle_end). Not invoiced by then → ``violated`` and an advisory
``unbilled`` violation by the provider the day after; invoiced later → ``fulfilled``,
the violation stays. With ``proration: daily`` the cycle containing the end is owed
``fee × days active / days in cycle``; with ``none`` in full. A cycle created before a
notice moved the end before it is ``discharged``.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from contractrules.compiler import cycles, termination
from contractrules.compiler.common import ev, iso, money, on_clock, rule
from contractrules.compiler.memo import live, reuse, section, unit
from contractrules.ledger import ZERO, Invoice, WorkingObligation, WorkingViolation
from contractrules.stamps import stamp

CLAUSE = "terms.billing"


def compile(contract) -> dict:
    b = contract.terms.billing
    return {
        "rules": {"billing.cycle": rule(on_clock("billing.cycle"), "billing.cycle")},
        "params": {
            "fee": str(b.fee),
            "timing": b.timing,
            "proration": b.proration,
            "invoice_within_days": b.invoice_within_days,
        },
    }


def start(run) -> None:
    run.schedule(run.start, "billing.cycle", k=0)


def due(run, first: date, last: date) -> tuple[date, list[str]]:
    """The day the cycle ``[first, last]`` must be invoiced by, and the notice events that moved it.

    Every billing term is the one in force on the cycle's start (SPEC §6.7)."""
    params = run.terms("billing", first).params
    within = timedelta(days=params["invoice_within_days"])
    if params["timing"] == "advance":
        return first + within, []
    expected, moved = termination.due_at_cycle_end(run, first, last)
    return expected + within, moved


def cycle(run, tick) -> None:
    span = cycles.begin(run, tick, "billing.cycle", termination.effective_end(run))
    if span is None:
        return
    first, last = span
    terms = run.terms("billing", first)
    run.oblige(
        WorkingObligation(
            id=f"billing:{first.isoformat()}",
            kind="billing",
            debtor=run.provider,
            creditor=run.client,
            clause=terms.clause,
            arose_on=first,
            amount=Decimal(terms.params["fee"]),
            due=due(run, first, last)[0],
            caused_by=list(terms.cites),
        )
    )
    run.state("billing").setdefault("cycles", {})[first] = last


def _amount(run, first, last, end) -> tuple[Decimal, str]:
    params = run.terms("billing", first).params
    fee = Decimal(params["fee"])
    if end is None or not (first <= end < last):
        return fee, ""
    if params["proration"] == "none":
        return fee, f"; the contract ends {iso(end)} within this cycle, owed in full (proration: none)"
    active, length = (end - first).days + 1, (last - first).days + 1
    return fee * active / length, (
        f"; the contract ends {iso(end)}: {active} of {length} days, prorated from {money(fee, run.currency)}"
    )


def _due_text(run, first: date, moved: list[str]) -> str:
    params = run.terms("billing", first).params
    within = params["invoice_within_days"]
    if params["timing"] == "advance":
        return f"{within} days after the cycle's start (timing: advance)"
    if moved:
        return f"{within} days after the contract's end, or the notice{ev(moved[0])} if later (timing: arrears)"
    return f"{within} days after the cycle's last day, or the contract's end if earlier (timing: arrears)"


def _unbilled(run, ob: WorkingObligation, due: date, first: date, moved: list[str]) -> None:
    late = f"; invoiced late, on {iso(ob.fulfilled_on)}" if ob.fulfilled_on is not None else ""
    terms = run.terms("billing", first)
    run.violate(
        WorkingViolation(
            id=f"unbilled:{first.isoformat()}",
            kind="unbilled",
            party=run.provider,
            on=due + timedelta(days=1),
            severity="advisory",
            clause=terms.clause,
            obligation=ob.id,
            caused_by=[*terms.cites, *moved],
            explanation=(
                f"{run.name(run.provider)} had not invoiced the cycle starting {iso(first)} "
                f"({money(ob.amount, run.currency)}) by {iso(due)} ({terms.clause}: {_due_text(run, first, moved)}){late}."
            ),
        )
    )


def _head(run, first: date, last: date) -> str:
    terms = run.terms("billing", first)
    return (
        f"{run.name(run.provider)} is to invoice {run.name(run.client)} the {terms.params['timing']} fee for "
        f"the cycle {iso(first)} to {iso(last)} ({terms.clause})"
    )


def _discharged(run, ob: WorkingObligation, first: date, last: date, end: date) -> None:
    ob.status, ob.balance = "discharged", ZERO
    ob.explanation = _head(run, first, last) + f"; not owed: the contract ended {iso(end)} before the cycle began."


def _cycle(run, ob, first: date, last: date, end: date | None, limit: date, moved: list[str], inv) -> None:
    """One billing cycle's obligation as of ``run.as_of``."""
    head = _head(run, first, last)
    ob.due = limit
    ob.amount, note = _amount(run, first, last, end)
    head += note + f", by {iso(limit)}"
    if inv is not None:
        ob.status, ob.fulfilled_on, ob.balance = "fulfilled", inv.issued_on, ZERO
        ob.cite(inv.event_id)
        late = ", late" if inv.issued_on > limit else ""
        ob.explanation = head + f"; invoiced as {inv.id} on {iso(inv.issued_on)}{ev(inv.event_id)}{late}."
    else:
        ob.balance = ob.amount
        if limit < run.as_of:
            ob.status = "violated"
        ob.explanation = head + f"; {money(ob.amount, run.currency)} not invoiced yet as of {iso(run.as_of)}."
    ob.cite(*moved)
    if limit < run.as_of and (ob.fulfilled_on is None or ob.fulfilled_on > limit):
        _unbilled(run, ob, limit, first, moved)


#: What this finish reads is written by (compiler/memo.py): its own actions, the ledger's
#: issuing of invoices (their number, date and period: nothing a payment changes), and
#: what moves the contract's end (a notice, a waiver, a termination right).
FINISH_READS = ("billing", "payment.invoice", "termination", "service_levels")


#: Billing cycles per block: a live answer reuses a block whole when nothing it depends
#: on changed (compiler/memo.py).
BLOCK = 12


def finish(run) -> None:
    section(run, CLAUSE, FINISH_READS, _finish_all, run)


def _finish_block(run, block: list, invoiced: list, end: date | None) -> None:
    for (first, last, ob), inv in zip(block, invoiced, strict=True):
        if end is not None and first > end:
            unit(
                run,
                ("billing", first),
                (stamp(ob), end) if live(run) else None,
                (ob,),
                _discharged,
                run,
                ob,
                first,
                last,
                end,
            )
            continue
        limit, moved = due(run, first, last)
        inputs = live(run) and (
            stamp(ob),
            end,
            limit,
            tuple(moved),
            None if inv is None else (inv.id, inv.issued_on, inv.event_id),
            # not invoiced yet: the text names the day asked; invoiced: late or not is decided
            # by the invoice's date, whatever the day asked
            None if inv is not None else run.as_of,
        )
        unit(run, ("billing", first), inputs, (ob,), _cycle, run, ob, first, last, end, limit, moved, inv)


def _finish_all(run) -> None:
    end = termination.effective_end(run)
    by_period: dict[date, Invoice] = {}
    for inv in sorted(run.invoices.values(), key=lambda i: (i.issued_on, i.id)):
        if inv.period is None:
            run.warn(
                f"invoice {inv.id}{ev(inv.event_id)} names no period: it fulfils no billing cycle "
                f"({CLAUSE} obligations are matched by period only)"
            )
        else:
            by_period.setdefault(inv.period, inv)
    known = run.state("billing").get("cycles", {})
    # what a block's cycles depend on besides their obligations and invoices: the
    # contract's end and what moved it (due dates, proration). A cycle not invoiced yet
    # (not after the end) is left out of its block: its text names the day asked, so it
    # is finished on every answer, as a unit of its own.
    moved_by = (end, run.acted.get("termination"), run.acted.get("service_levels"))
    cycles = list(known.items())
    obligations = run.obligations
    for k in range(0, len(cycles), BLOCK):
        block, invoiced, waiting = [], [], []
        for first, last in cycles[k : k + BLOCK]:
            cycle = (first, last, obligations[f"billing:{first.isoformat()}"])
            inv = by_period.get(first)
            if inv is None and (end is None or first <= end):
                waiting.append(cycle)
            else:
                block.append(cycle)
                invoiced.append(inv)
        inputs = live(run) and (
            moved_by,
            tuple(
                [
                    (first, stamp(ob), None if inv is None else (inv.id, inv.issued_on, inv.event_id))
                    for (first, _, ob), inv in zip(block, invoiced, strict=True)
                ]
            ),
        )
        reuse(run, ("billing.block", k // BLOCK), inputs, _finish_block, run, block, invoiced, end)
        _finish_block(run, waiting, [None] * len(waiting), end)
    starts = set(known)
    for inv in run.invoices.values():
        if inv.period is not None and inv.period not in starts and inv.period <= run.as_of:
            run.warn(
                f"invoice {inv.id}{ev(inv.event_id)} names period {iso(inv.period)}, which is not the start of a billing cycle"
            )


ACTIONS = {"billing.cycle": cycle}
