"""terms.payment — the ledger: invoices, credit notes, payments, due dates, lateness.

SPEC §6.2. ``invoice_issued`` on I opens a ``payment`` obligation for the amount less
credit notes, due ``I + terms_days`` (business days if set, then ``roll``). A payment
without ``invoice`` goes to the oldest open invoice first (FIFO: invoice date, then
number in natural order); anything left over is kept as unapplied credit and applied to
the next invoices. An event naming an invoice not issued yet is held until it is (a
payment as unapplied credit reserved for it), then applied on the invoice's day; what a
held payment does not need goes on as a payment naming no invoice. Payments and credit
notes naming ``penalty`` are the penalty's (``penalty_debt``). If the balance is above zero
at the end of the due date, the obligation is violated and ``late_payment`` is recorded
the day after. The ledger is always compiled: without a payment clause the defaults
(30 calendar days, no roll) apply and a warning says so.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from contractrules import dates, statutory
from contractrules.compiler import penalty_debt
from contractrules.compiler.common import ev, iso, money, on_clock, on_event, rule
from contractrules.compiler.memo import invoice_inputs, live, reuse, section, unit
from contractrules.ledger import ZERO, Invoice, Payment, WorkingObligation, WorkingViolation, natural_key
from contractrules.model.events import INVOICE_REFERENCES
from contractrules.stamps import stamp

CLAUSE = "terms.payment"
DEFAULTS = {"terms_days": 30, "business_days": False, "calendar": None, "roll": "none"}


# same-instant order (SPEC §5): what creates a thing before what acts on it
EVENT_RANKS = {"invoice_issued": 0, "credit_note": 1, "payment_received": 5}


def compile(contract) -> dict:
    p = contract.terms.payment
    params: dict[str, Any] = (
        dict(DEFAULTS)
        if p is None
        else {
            "terms_days": p.terms_days,
            "business_days": p.business_days,
            "calendar": p.calendar,
            "roll": p.roll,
        }
    )
    params["defaulted"] = p is None
    params["statutory"] = _statutory_terms(contract, params)
    return {
        "rules": {
            "payment.invoice": rule(on_event("invoice_issued"), "payment.invoice"),
            "payment.credit": rule(on_event("credit_note", route="ledger"), "payment.credit"),
            "payment.receive": rule(on_event("payment_received"), "payment.receive"),
            "payment.due": rule(on_clock("payment.due"), "payment.due"),
        },
        "params": params,
    }


def _statutory_terms(contract, params: dict) -> dict | None:
    """The law's limits on payment terms (SPEC §7), as data: a cap in days and/or a warning."""
    if not contract.jurisdiction:
        return None
    law = statutory.table(contract.jurisdiction).data
    terms = law.payment_terms
    return {
        "jurisdiction": law.jurisdiction,
        "name": law.name,
        "source": terms.source,
        "max_days": terms.max_days,
        "warn_above_days": terms.warn_above_days,
    }


def contractual_due(issued: date, params: dict) -> date:
    cal = dates.business_calendar(params["calendar"])
    if params["business_days"]:
        due = cal.add_business_days(issued, params["terms_days"])
    else:
        due = dates.period_end(issued, params["terms_days"])
    if params["roll"] == "none":
        return due
    return max(cal.roll(due, params["roll"]), issued)  # never before the invoice (SPEC §6.2)


def due_date(issued: date, params: dict) -> tuple[date, bool]:
    """(due date, whether the statutory cap shortened it)."""
    due = contractual_due(issued, params)
    law = params.get("statutory")
    if law and law["max_days"] is not None:
        cap = dates.period_end(issued, law["max_days"])
        if due > cap:
            return cap, True
    return due, False


def start(run) -> None:
    dated = run.dated("payment")
    for since, terms in zip([run.start, *dated.changes()], dated.items, strict=True):
        params = terms.params
        law = params.get("statutory")
        if not law:
            return
        days = params["terms_days"]
        found = statutory.terms_findings(law["max_days"], law.get("warn_above_days"), days, params["business_days"])
        if "over_max" in found and since <= run.as_of:
            _statutory_limit(run, since, None)
        elif "over_warn" in found and not params["business_days"]:
            run.warn(
                f"{terms.clause}: {days} days is over {law['warn_above_days']}; under {law['name']} such terms "
                f"must not be grossly unfair to the creditor ({law['source']})"
            )


def _statutory_limit(run, on: date, inv: Invoice | None) -> None:
    key = f"statutory_limit:{CLAUSE}"
    if key in run.violations:
        return
    terms = run.terms("payment", on)
    params = terms.params
    law = params["statutory"]
    first = f" (first capped: invoice {inv.id}{ev(inv.event_id)})" if inv else ""
    run.violate(
        WorkingViolation(
            id=key,
            kind="statutory_limit",
            party=run.client,
            on=on,
            severity="advisory",
            clause=terms.clause,
            caused_by=[*terms.cites, *([inv.event_id] if inv else [])],
            explanation=(
                f"{terms.clause} ({_rule_text(params)}) exceeds the {law['max_days']}-day maximum of {law['name']} "
                f"({law['source']}): the excess is void, so every due date is capped at {law['max_days']} days "
                f"after the invoice{first}."
            ),
        )
    )


def _rule_text(params: dict) -> str:
    unit = "business days" if params["business_days"] else "days"
    text = f"{params['terms_days']} {unit} after the invoice"
    if params["roll"] != "none":
        text += f", rolled {params['roll'].replace('_', ' ')}"
    return text


def _due_text(run, inv: Invoice) -> str:
    params = run.terms("payment", inv.issued_on).params
    text = _rule_text(params)
    if params.get("statutory") and contractual_due(inv.issued_on, params) != inv.due:
        text += f", capped at {params['statutory']['max_days']} days by {params['statutory']['name']}"
    return text


def invoice(run, rec) -> None:
    e = rec.event
    if e.invoice in run.invoices:
        run.warn(
            f"invoice {e.invoice} issued twice (events {run.invoices[e.invoice].event_id}, {e.id}): the second is ignored"
        )
        return
    terms = run.terms("payment", rec.local_date)  # the terms in force on the issue date (SPEC §6.7)
    inv = Invoice(e.invoice, rec.local_date, e.amount, e.id, e.period)
    inv.due, capped = due_date(inv.issued_on, terms.params)
    if capped:
        _statutory_limit(run, inv.issued_on, inv)
    _enqueue(run, inv)
    run.invoices[inv.id] = inv
    run.oblige(
        WorkingObligation(
            id=f"payment:{inv.id}",
            kind="payment",
            debtor=run.client,
            creditor=run.provider,
            clause=terms.clause,
            arose_on=inv.issued_on,
            due=inv.due,
            caused_by=[e.id, *terms.cites],
        )
    )
    held = run.release(inv.id) if inv.id in run.held else []
    # what was held for this invoice first (credit notes, then payments, in event order),
    # then money that matched no open invoice, then the other held events (SPEC §5, §6.2)
    for action, held_rec in sorted(held, key=lambda ar: ar[1].event.type != "credit_note"):
        if held_rec.event.type in ("credit_note", "payment_received"):
            action(run, held_rec)
    if run.unapplied:
        _apply_unapplied(run, inv)
    for action, held_rec in held:
        if held_rec.event.type not in ("credit_note", "payment_received"):
            action(run, held_rec)
    run.schedule(inv.due + timedelta(days=1), "payment.due", invoice=inv.id)


def credit(run, rec) -> None:
    e = rec.event
    if e.penalty is not None:
        penalty_debt.credit(run, rec)
        return
    inv = run.invoices.get(e.invoice)
    if inv is None:
        run.hold(e.invoice, credit, rec)
        return
    used = min(e.amount, inv.asked)
    if e.amount > used:
        run.warn(
            f"credit note {e.id} of {money(e.amount, run.currency)} exceeds the {money(inv.asked, run.currency)} "
            f"invoice {inv.id} still asked on {iso(rec.local_date)}: the excess "
            f"{money(e.amount - used, run.currency)} reduces nothing"
        )
    if used > ZERO:
        inv.credits.append(Payment(rec.local_date, used, e.id))
    run.obligations[f"payment:{inv.id}"].cite(e.id)
    _release_overpayment(run, inv, rec)


def _release_overpayment(run, inv: Invoice, rec) -> None:
    """Money paid beyond what a credit note leaves the invoice asking matches no open debt
    any more: it goes on as a payment naming no invoice (FIFO, then unapplied credit; SPEC
    §6.2 v2, Decision 14). The latest payments are the ones given back."""
    excess = inv.paid - inv.asked
    if excess <= ZERO:
        return
    run.warn(
        f"credit note {rec.event.id} leaves invoice {inv.id} overpaid by {money(excess, run.currency)}: "
        f"the excess goes on as a payment naming no invoice"
    )
    net: dict[str, Decimal] = {}
    for pay in inv.payments:
        net[pay.event_id] = net.get(pay.event_id, ZERO) + pay.amount
    freed: list[Payment] = []
    for event_id in reversed(list(net)):
        take = min(net[event_id], excess)
        if take > ZERO:
            inv.payments.append(Payment(rec.local_date, -take, event_id))  # the past stays as it was
            freed.insert(0, Payment(rec.local_date, take, event_id))
            excess -= take
    for piece in freed:
        left = piece.amount
        for other in open_invoices(run):
            if left <= ZERO:
                break
            left = _pay_invoice(run, other, piece if left == piece.amount else Payment(piece.on, left, piece.event_id))
        if left > ZERO:
            run.unapplied.append(Payment(piece.on, left, piece.event_id))


def receive(run, rec) -> None:
    e = rec.event
    left = e.amount
    if e.penalty is not None:
        left = penalty_debt.pay_named(run, rec)
    elif e.invoice is not None:
        inv = run.invoices.get(e.invoice)
        if inv is None:
            run.hold(e.invoice, receive, rec)
            return
        left = _pay_invoice(run, inv, Payment(rec.local_date, left, e.id))
    if left <= ZERO:
        return
    for inv in open_invoices(run):
        left = _pay_invoice(run, inv, Payment(rec.local_date, left, e.id))
        if left <= ZERO:
            return
    if left > ZERO:
        run.unapplied.append(Payment(rec.local_date, left, e.id))


def open_invoices(run) -> Iterator[Invoice]:
    """Invoices with principal still owed, oldest first: invoice date, then number in
    natural order (``INV-9`` before ``INV-10``; SPEC §6.2), then issue order.

    A queue kept in that order as invoices are issued (``_enqueue``); a balance never
    grows back, so an invoice found paid is dropped from it for good. Lazy: a caller that
    stops at the first invoice looks at nothing more."""
    queue = run.state("payment").get("open", [])
    invoices = run.invoices
    i = 0
    while i < len(queue):
        j = i
        while j < len(queue) and invoices[queue[j][-1]].balance <= ZERO:
            j += 1
        if j > i:  # paid ones (often many, paid by name meanwhile): dropped in one move, not one by one
            del queue[i:j]
            continue
        yield invoices[queue[i][-1]]
        i += 1


def _enqueue(run, inv: Invoice) -> None:
    queue = run.state("payment").setdefault("open", [])
    bisect.insort(queue, (inv.issued_on, natural_key(inv.id), len(run.invoices), inv.id))


def _pay_invoice(run, inv: Invoice, pay: Payment) -> Decimal:
    """Money for ``inv``: its penalty first under ``interest_first``, then the principal."""
    left = penalty_debt.pay_first(run, inv, pay)
    if left <= ZERO:
        return left
    return _pay(run, inv, Payment(pay.on, left, pay.event_id))


def _pay(run, inv: Invoice, pay: Payment) -> Decimal:
    """Apply up to ``pay.amount`` to ``inv``'s principal; return what is left over."""
    used = min(pay.amount, inv.balance)
    if used > ZERO:
        inv.payments.append(Payment(pay.on, used, pay.event_id))
        run.obligations[f"payment:{inv.id}"].cite(pay.event_id)
    return pay.amount - used


def _apply_unapplied(run, inv: Invoice) -> None:
    remaining: list[Payment] = []
    for credit_ in run.unapplied:
        left = _pay(run, inv, Payment(run.today, credit_.amount, credit_.event_id))
        if left > ZERO:
            remaining.append(Payment(credit_.on, left, credit_.event_id))
    run.unapplied = remaining


def due(run, tick) -> None:
    inv = run.invoices[tick["invoice"]]
    ob = run.obligations[f"payment:{inv.id}"]
    if inv.balance_at_end_of(inv.due) <= ZERO:
        return
    ob.status = "violated"
    terms = run.terms("payment", inv.issued_on)
    run.violate(
        WorkingViolation(
            id=f"late_payment:{inv.id}",
            kind="late_payment",
            party=run.client,
            on=run.today,
            severity="breach",
            clause=terms.clause,
            obligation=ob.id,
            caused_by=[inv.event_id, *terms.cites],
            explanation=(
                f"{run.name(run.client)} had not paid invoice {inv.id}{ev(inv.event_id)} in full by its due date "
                f"{iso(inv.due)} ({terms.clause}: {_due_text(run, inv)}); "
                f"{money(inv.balance_at_end_of(inv.due), run.currency)} was outstanding at the end of that day."
            ),
        )
    )


#: The actions whose writes this finish reads (compiler/memo.py): the ledger's, and the
#: penalty's (an event naming an invoice not issued yet is held: ``run.held_log``).
FINISH_READS = ("payment", "late_penalty")


def finish(run) -> None:
    section(run, "payment", FINISH_READS, _finish_all, run)


def _finish_all(run) -> None:
    params = run.params["payment"]
    if params.get("defaulted") and run.invoices:
        run.warn("the contract has no terms.payment clause: invoices are due 30 days after issue (default)")
    invoices = list(run.invoices.values())
    obligations = run.obligations
    # the invoices still open (the FIFO queue holds each, and perhaps some paid since):
    # their texts name the day asked, so they are left out of their blocks and finished on
    # every answer, each a unit of its own
    unpaid = {entry[3] for entry in run.state("payment").get("open", []) if run.invoices[entry[3]].balance > ZERO}
    for k in range(0, len(invoices), BLOCK):
        pairs = [(inv, obligations[f"payment:{inv.id}"]) for inv in invoices[k : k + BLOCK]]
        block = [pair for pair in pairs if pair[0].id not in unpaid]
        inputs = live(run) and tuple(
            [(inv.id, inv.credits.stamp, inv.payments.stamp, ob.__dict__["_stamp"]) for inv, ob in block]
        )
        reuse(run, ("payment.block", k // BLOCK), inputs, _finish_block, run, block)
        if len(block) < len(pairs):
            _finish_block(run, [pair for pair in pairs if pair[0].id in unpaid])
    for credit_ in run.unapplied:
        run.warn(
            f"{money(credit_.amount, run.currency)} of payment {credit_.event_id} matched no open invoice: "
            "kept as unapplied credit for the next invoice"
        )
    _warn_held(run)


#: Invoices per block: a live answer reuses a block whole when its invoices' obligations
#: and moves are the same, and the day asked too if one of them is open (compiler/memo.py).
BLOCK = 32


def _finish_block(run, block: list[tuple[Invoice, WorkingObligation]]) -> None:
    for inv, ob in block:
        inputs = live(run) and (
            stamp(ob),
            *invoice_inputs(inv),
            run.as_of if inv.balance > ZERO else None,  # an open invoice's text names the day
        )
        unit(run, ("payment", inv.id), inputs, (ob,), _finish_invoice, run, inv, ob)


def _finish_invoice(run, inv: Invoice, ob) -> None:
    """One invoice's payment obligation, final as of ``run.as_of``."""
    ob.amount, ob.balance = inv.asked, inv.balance
    settled = inv.settled_on() if inv.balance == ZERO else None
    head = (
        f"{run.name(run.client)} owes {run.name(run.provider)} {money(inv.asked, run.currency)} for invoice "
        f"{inv.id} issued {iso(inv.issued_on)}{ev(inv.event_id)}"
    )
    if inv.credited:
        head += f" ({money(inv.amount, run.currency)} less {money(inv.credited, run.currency)} of credit notes)"
    head += f", due {iso(inv.due)} ({ob.clause}: {_due_text(run, inv)})"
    if inv.asked == ZERO and not any(p.amount > ZERO for p in inv.payments):  # nothing ever paid
        ob.status = "discharged"
        ob.explanation = head + "; credit notes cancel it entirely."
    elif settled is not None:
        late = "late, after the due date" if ob.status == "violated" else "on time"
        ob.status, ob.fulfilled_on = "fulfilled", settled
        ob.explanation = head + f"; paid in full on {iso(settled)}, {late}."
    else:
        paid = f"; {money(inv.paid, run.currency)} paid" if inv.paid else ""
        ob.explanation = head + f"{paid}; {money(inv.balance, run.currency)} unpaid as of {iso(run.as_of)}."


def _warn_held(run) -> None:
    """One warning per event that named an invoice before it was issued (SPEC §5, v2)."""
    for invoice_id, rec in run.held_log:
        e, noun = rec.event, INVOICE_REFERENCES.get(rec.event.type, rec.event.type)
        what = f"{noun} {e.id} of {iso(rec.local_date)}" + (
            f" ({money(e.amount, run.currency)})" if e.type == "payment_received" else ""
        )
        inv = run.invoices.get(invoice_id)
        if inv is not None:
            run.warn(
                f"{what} names invoice {invoice_id} before it was issued ({iso(inv.issued_on)}"
                f"{ev(inv.event_id)}): held until then and applied on that day"
            )
            continue
        held = "held as unapplied credit reserved for it" if e.type == "payment_received" else "held until it is issued"
        run.warn(
            f"{what} names invoice {invoice_id}, not issued by {iso(run.as_of)}: {held}"
            f"{nearest_invoice(invoice_id, run.invoices)}"
        )


def nearest_invoice(name: str, issued) -> str:
    """`` (nearest issued invoice: INV-8)``: the issued number most like ``name`` (ties: the
    latest in natural order, the likeliest neighbour of a number not issued yet)."""
    if not issued:
        return " (no invoice is issued yet)"
    latest_first = sorted(issued, key=natural_key, reverse=True)
    best = max(latest_first, key=lambda i: difflib.SequenceMatcher(None, name, i).ratio())
    return f" (nearest issued invoice: {best})"


ACTIONS = {"payment.invoice": invoice, "payment.credit": credit, "payment.receive": receive, "payment.due": due}
