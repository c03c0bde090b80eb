"""The late penalty as a debt: what it asks on a day, and the money and credit notes towards it.

SPEC §6.4 (new in v2). A penalty obligation exists on day P once the penalty became
enforceable (on or before P), unless it was waived or the invoice was paid in full
before that. Money towards it is counted in cents: at a payment on P the penalty asks
the interest accrued through P − 1, rounded half-up, plus the fixed fee, minus what was
already paid or credited to it.

- ``payment_received`` naming ``penalty: INV`` pays it; what it does not need (or all of
  it, when no penalty obligation exists) goes on as a payment naming no invoice, with a
  warning.
- ``credit_note`` naming ``penalty: INV`` reduces it; a credit note for a penalty that
  does not exist, or the part above what it asks, reduces nothing, with a warning.
- ``allocation: interest_first`` (Código Civil art. 1173): money for an invoice, named
  or FIFO, pays that invoice's penalty first while a penalty obligation exists and is not
  suspended. ``principal_first`` (the default): only payments naming the penalty pay it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from contractrules.compiler import penalty
from contractrules.compiler.common import ev, iso, money
from contractrules.ledger import ZERO, Invoice, Payment
from contractrules.money import round_money


class Standing(NamedTuple):
    """The penalty on one invoice on a day, before that day's payments."""

    owed: Decimal | None  # None: no penalty obligation exists that day
    status: str  # pending | suspended, or why none exists


def standing(run, inv: Invoice | None, day: date, invoice_id: str = "") -> Standing:
    params = run.params.get("late_penalty")
    if inv is None:
        return Standing(None, f"invoice {invoice_id} is not issued")
    if params is None:
        return Standing(None, "the contract has no late_penalty clause")
    if f"late_payment:{inv.id}" not in run.violations:
        return Standing(None, f"invoice {inv.id} is not late")
    facts = penalty.facts_of(run, inv.id)
    first, start = penalty.enforceable_dates(run, inv, facts, day)
    settled = inv.settled_on() if inv.balance == ZERO else None
    if settled is not None and (first is None or settled < first):
        return Standing(
            None, f"invoice {inv.id} was paid in full on {iso(settled)}, before the penalty became enforceable"
        )
    if facts.waiver is not None and facts.waiver.local_date <= day:
        return Standing(None, f"the penalty was waived{ev(facts.waiver.event.id)}")
    if first is None or first > day:
        return Standing(None, "the penalty is not enforceable yet")
    accrued = round_money(penalty.interest(run, inv, facts, day - timedelta(days=1)), run.currency)
    owed = accrued + penalty.fixed_fee(run, inv) - inv.penalty_payments.total - inv.penalty_credits.total
    return Standing(max(owed, ZERO), "pending" if start is not None and start <= day else "suspended")


def interest_first(run, inv: Invoice) -> bool:
    """``allocation`` as in force on the invoice date (SPEC §6.7)."""
    if run.params.get("late_penalty") is None:
        return False
    return run.terms("late_penalty", inv.issued_on).params.get("allocation") == "interest_first"


def _take(run, inv: Invoice, pay: Payment, owed: Decimal) -> Decimal:
    used = min(pay.amount, owed)
    if used > ZERO:
        inv.penalty_payments.append(Payment(pay.on, used, pay.event_id))
        ob = run.obligations.get(f"penalty:{inv.id}")
        if ob is not None:
            ob.cite(pay.event_id)
    return pay.amount - used


def pay_first(run, inv: Invoice, pay: Payment) -> Decimal:
    """Under ``interest_first``, pay ``inv``'s penalty from ``pay``; return what is left."""
    if not interest_first(run, inv) or f"late_payment:{inv.id}" not in run.violations:
        return pay.amount
    now = standing(run, inv, pay.on)
    if now.owed is None or now.status != "pending" or now.owed <= ZERO:
        return pay.amount
    return _take(run, inv, pay, now.owed)


def pay_named(run, rec) -> Decimal:
    """A payment naming ``penalty: INV``; returns what goes on as a payment naming no invoice."""
    e = rec.event
    inv = run.invoices.get(e.penalty)
    now = standing(run, inv, rec.local_date, e.penalty)
    amount = money(e.amount, run.currency)
    if now.owed is None or now.owed <= ZERO:
        why = now.status if now.owed is None else "nothing is owed on it"
        run.warn(
            f"payment {e.id} of {amount} names the penalty on invoice {e.penalty}, which does not exist on "
            f"{iso(rec.local_date)} ({why}): it goes on as a payment naming no invoice"
        )
        return e.amount
    left = _take(run, inv, Payment(rec.local_date, e.amount, e.id), now.owed)
    if left > ZERO:
        run.warn(
            f"payment {e.id} of {amount} exceeds the {money(now.owed, run.currency)} the penalty on invoice "
            f"{inv.id} asked on {iso(rec.local_date)}: the other {money(left, run.currency)} goes on as a "
            "payment naming no invoice"
        )
    return left


def credit(run, rec) -> None:
    """A credit note naming ``penalty: INV``: gives up part of the penalty, in money."""
    e = rec.event
    inv = run.invoices.get(e.penalty)
    now = standing(run, inv, rec.local_date, e.penalty)
    amount = money(e.amount, run.currency)
    if now.owed is None:
        run.warn(
            f"credit note {e.id} of {amount} names the penalty on invoice {e.penalty}, which does not exist on "
            f"{iso(rec.local_date)} ({now.status}): it reduces nothing"
        )
        return
    used = min(e.amount, now.owed)
    if used > ZERO:
        inv.penalty_credits.append(Payment(rec.local_date, used, e.id))
    if e.amount > used:
        run.warn(
            f"credit note {e.id} of {amount} exceeds the {money(now.owed, run.currency)} the penalty on invoice "
            f"{inv.id} asked on {iso(rec.local_date)}: the excess {money(e.amount - used, run.currency)} "
            "reduces nothing"
        )
