"""terms.late_penalty — interest, fixed fee, grace, waivers, disputes, reminders, caps.

SPEC §6.4, for each invoice whose payment obligation was violated, as of D:
- interest accrues for each day d > due (or > grace end with ``accrues_from: grace_end``)
  and d ≤ D on the balance at the end of d: Σ balance × rate / 365 (or 360), simple,
  rounded once; ``cap`` bounds it at a fraction of the invoice amount. Interest keeps
  accruing during a dispute (only enforceability is suspended).
- enforceable on D when D ≥ due + grace + 1 (a ``late_penalty.grace`` waiver with
  ``until: U`` moves this to U + 1, and the grace end with it), no dispute is open (if
  ``disputes_suspend``), a reminder was sent at least ``reminder_days`` before D (if
  set), and the creditor has not waived ``late_penalty`` for the invoice.
- paid in full before the first enforceable day: no penalty (all amounts 0.00).
  Waived: nothing is owed (amounts 0.00). Otherwise the amounts are shown even while not
  yet enforceable, and ``reasons`` says what holds it back.
- ``enforceable_from`` is the first day of the current enforceable stretch, or the day it
  will become enforceable if nothing else happens; None when something (an open dispute,
  a missing reminder, a waiver) blocks it indefinitely.

A live contract asked day after day reuses each late invoice's penalty (compiler/memo.py)
from the day its horizon H says it can no longer change — paid off or waived, disputes
resolved, grace, waiver and statutory rate days passed (compiler/penalty_horizon.py) —
instead of computing it again for every new day; what names the day asked (the interest
table's last day, "interest to <day>" in an obligation still owed) is re-dated
(``_redate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from contractrules import statutory
from contractrules.compiler.common import ev, iso, money, on_event, rule
from contractrules.compiler.memo import invoice_inputs, live, moves_of, reuse, section, unit
from contractrules.compiler.penalty_facts import (
    InvoiceFacts,
    _facts,
    dispute_opened,
    dispute_resolved,
    extend_grace,
    facts_of,  # noqa: F401  (penalty_debt asks penalty.facts_of)
    reminder,
    waive,
)
from contractrules.compiler.penalty_horizon import day_key, horizon, joint
from contractrules.compiler.penalty_rates import (
    add_rates_used,
    dated_stretches,
    rate_function,
    rate_source,
    rates_used,
    terms_used,
    warn_beyond_table,
    warn_user_rows,
)
from contractrules.dates import Period
from contractrules.interest import InterestTable, segments, total
from contractrules.ledger import ZERO, Invoice, WorkingObligation, natural_key
from contractrules.money import round_money

CLAUSE = "terms.late_penalty"


def _statutory_regime(contract) -> dict:
    """The law's penalty when the contract has none (SPEC §7): grace 0, statutory rate and fee.

    Interest runs automatically by law, so a dispute does not suspend it here."""
    return {
        "clause": f"statutory.{contract.jurisdiction}",
        "grace_days": 0,
        "interest": {"annual_rate": "statutory", "day_count": "act/365", "accrues_from": "due"},
        "fixed_fee": "statutory",
        "cap": None,
        "reminder_days": None,
        "disputes_suspend": False,
        "allocation": "principal_first",
    }


EVENT_RANKS = {"reminder_sent": 6, "dispute_opened": 7, "dispute_resolved": 8}


def applies(contract) -> bool:
    """The clause, or the statutory regime of a jurisdiction without one (SPEC §7)."""
    return contract.terms.late_penalty is not None or contract.jurisdiction is not None


def compile(contract) -> dict:
    lp = contract.terms.late_penalty
    if lp is None:
        params = _statutory_regime(contract)
    else:
        interest = None
        if lp.interest is not None:
            interest = {
                "annual_rate": str(lp.interest.annual_rate),
                "day_count": lp.interest.day_count,
                "accrues_from": lp.interest.accrues_from,
            }
        params = {
            "clause": CLAUSE,
            "grace_days": lp.grace_days,
            "interest": interest,
            "fixed_fee": None if lp.fixed_fee is None else str(lp.fixed_fee),
            "cap": None if lp.cap is None else str(lp.cap),
            "reminder_days": lp.reminder_days,
            "disputes_suspend": lp.disputes_suspend,
            "allocation": lp.allocation,
        }
    params["statutory"] = statutory.table(contract.jurisdiction).to_params() if contract.jurisdiction else None
    return {
        "rules": {
            "late_penalty.waive": rule(on_event("waiver", clause="late_penalty"), "late_penalty.waive"),
            "late_penalty.grace": rule(on_event("waiver", clause="late_penalty.grace"), "late_penalty.extend_grace"),
            "late_penalty.dispute_opened": rule(on_event("dispute_opened"), "late_penalty.dispute_opened"),
            "late_penalty.dispute_resolved": rule(on_event("dispute_resolved"), "late_penalty.dispute_resolved"),
            "late_penalty.reminder": rule(on_event("reminder_sent"), "late_penalty.reminder"),
        },
        "params": params,
    }


# --------------------------------------------------------------------------- answers


@dataclass
class PenaltyFigure:
    invoice: str
    enforceable: bool
    enforceable_from: date | None
    interest: Decimal
    fixed_fee: Decimal
    reasons: list[str]
    caused_by: list[str]
    # the penalty obligation, if the penalty ever became enforceable by as_of:
    obligation_status: str | None = None  # pending | suspended | waived
    obligation_due: date | None = None  # the first day it was enforceable
    obligation_amount: Decimal = ZERO
    paid: Decimal = ZERO  # money paid towards the penalty (SPEC §6.4, v2)
    credited: Decimal = ZERO  # credit notes naming the penalty

    @property
    def total(self) -> Decimal:
        return self.interest + self.fixed_fee

    def balance(self, currency: str) -> Decimal:
        """What is still owed: the rounded total less what was paid and credited (never below 0)."""
        return max(round_money(self.total, currency) - self.paid - self.credited, ZERO)


def grace(params: dict, inv: Invoice, facts: InvoiceFacts) -> Period:
    """The grace period: ``grace_days`` from the due date (SPEC §2), to a later ``until`` if extended."""
    assert inv.due is not None, "a late invoice has a due date"
    period = Period.of_days(inv.due, params["grace_days"])
    extended = facts.grace_until is not None and period.end is not None and facts.grace_until > period.end
    return period._replace(end=facts.grace_until) if extended else period


def grace_end(params: dict, inv: Invoice, facts: InvoiceFacts) -> date:
    end = grace(params, inv, facts).end
    assert end is not None, "a grace period is closed"
    return end


def interest(run, inv: Invoice, facts: InvoiceFacts, as_of: date) -> Decimal:
    """Σ over accrual days d ≤ as_of of balance(end of d) × rate_d / basis_d, unrounded, capped.

    Every term is the one in force on the invoice date, except ``annual_rate`` and
    ``day_count``: those of each interest day, so interest is split at an amendment's
    date (SPEC §6.7)."""
    params = _params(run, inv)
    spec = params["interest"]
    if spec is None:
        return ZERO
    assert inv.due is not None, "a late invoice has a due date"
    first = inv.due if spec["accrues_from"] == "due" else grace_end(params, inv, facts)
    first += timedelta(days=1)
    if as_of < first:
        return ZERO
    moves = [m.on for m in [*inv.credits, *inv.payments]]
    basis = 360 if spec["day_count"] == "act/360" else 365
    parts: list = []
    bases = set()
    for stretch, terms in dated_stretches(run, first, as_of):
        seg_first, seg_last = stretch
        assert seg_last is not None, "an interest stretch is closed"
        seg = terms.params["interest"]
        if seg is None:
            continue
        seg_params = {**terms.params, "clause": terms.clause} if terms.cites else terms.params
        rate_at, rate_breaks, _text = rate_function(run, inv, first, seg_params, seg_first)
        seg_basis = 360 if seg["day_count"] == "act/360" else 365
        bases.add(seg_basis)
        parts += segments(
            seg_first,
            seg_last,
            inv.balance_at_end_of,
            rate_at,
            [*moves, *rate_breaks],
            seg_basis,
            rate_source(run, first, seg_params),
        )
    # one day count: divided once, as always; mixed (an amended day_count): each stretch by its own
    unrounded = total(parts, basis) if bases <= {basis} else sum((p.interest for p in parts), ZERO)
    cap = None if params["cap"] is None else inv.amount * Decimal(params["cap"])
    table = InterestTable(inv.id, first, as_of, basis, tuple(parts), unrounded, cap)
    if as_of == run.as_of:  # the answer's figure, as rows, for statements (contractrules.documents)
        run.state("late_penalty").setdefault("tables", {})[inv.id] = table
    return table.figure


def _params(run, inv: Invoice) -> dict:
    """The terms in force on the invoice date, ``clause`` naming the amendment if any (SPEC §6.7)."""
    terms = run.terms("late_penalty", inv.issued_on)
    return terms.params if not terms.cites else {**terms.params, "clause": terms.clause}


def fixed_fee(run, inv: Invoice) -> Decimal:
    params = _params(run, inv)
    fee = params["fixed_fee"]
    if fee is None:
        return ZERO
    if fee != "statutory":
        return Decimal(fee)
    law = params["statutory"]
    if law["currency"] != run.currency:
        run.warn(
            f"the statutory fixed compensation ({law['compensation_source']}) is in {law['currency']}, "
            f"the contract in {run.currency}: not applied"
        )
        return ZERO
    tiers = [(None if t["below"] is None else Decimal(t["below"]), Decimal(t["amount"])) for t in law["compensation"]]
    return statutory.compensation(tiers, inv.asked)


def _suspended_days(params, facts, as_of) -> list[tuple[Period, str]]:
    """The days each dispute known by ``as_of`` holds the penalty back (``end`` None: still open)."""
    if not params["disputes_suspend"]:
        return []
    return [(d.held(as_of), d.opened_by) for d in sorted(facts.disputes, key=lambda d: d.opened) if d.opened <= as_of]


def _enforceable_from(params, inv, facts, as_of, reasons, run) -> tuple[date | None, date | None]:
    """(first day it ever was or will be enforceable, first day of the current stretch)."""
    period = grace(params, inv, facts)
    assert period.end is not None, "a grace period is closed"
    base = period.end + timedelta(days=1)
    if as_of < base:
        if facts.grace_until and facts.grace_until >= Period.of_days(inv.due, params["grace_days"]).end:
            reasons.append(
                f"grace extended until {iso(facts.grace_until)} by {run.name(run.provider)}{ev(facts.grace_event)}"
            )
        else:
            reasons.append(
                f"grace period runs until {iso(base - timedelta(days=1))} ({params['clause']}.grace_days: {params['grace_days']})"
            )
    start = base
    if params["reminder_days"] is not None:
        n = params["reminder_days"]
        sent = [(d, e) for d, e in facts.reminders if d <= as_of]
        if not sent:
            reasons.append(
                f"no reminder sent yet; enforceable {n} days after one ({params['clause']}.reminder_days: {n})"
            )
            return None, None
        first_day, eid = min(sent)
        start = max(start, first_day + timedelta(days=n))
        if as_of < first_day + timedelta(days=n):
            reasons.append(
                f"reminder sent {iso(first_day)}{ev(eid)}: enforceable {n} days later ({params['clause']}.reminder_days)"
            )
    first = since = start
    for held, oid in _suspended_days(params, facts, as_of):
        if held.end is None:
            reasons.append(
                f"dispute opened {iso(held.start)}{ev(oid)} is still open ({params['clause']}.disputes_suspend)"
            )
            return (first if first < held.start else None), None
        if held.days == 0:
            continue  # opened and resolved the same day: it holds back no day
        after = held.end + timedelta(days=1)  # the day it was resolved
        if held.contains(first):
            first = after
        if held.start <= max(since, as_of) and held.end >= since:
            since = after
    return first, since


def enforceable_dates(run, inv: Invoice, facts: InvoiceFacts, day: date) -> tuple[date | None, date | None]:
    """(first day it ever was or will be enforceable, first day of the stretch current on ``day``)."""
    return _enforceable_from(_params(run, inv), inv, facts, day, [], run)


def figure(run, inv: Invoice) -> PenaltyFigure:
    fig = _figure(run, inv)
    fig.paid, fig.credited = inv.penalty_payments.total, inv.penalty_credits.total
    return fig


def _figure(run, inv: Invoice) -> PenaltyFigure:
    params = _params(run, inv)
    facts = _facts(run, inv.id)
    as_of = run.as_of
    reasons: list[str] = []
    cited = [
        inv.event_id,
        *(d.opened_by for d in facts.disputes),
        *(d.resolved_by for d in facts.disputes if d.resolved_by),
        *(e for _, e in facts.reminders),
        facts.grace_event,
        *(c for t in terms_used(run, inv, as_of) for c in t.cites),
    ]
    fixed = fixed_fee(run, inv)
    first, start = _enforceable_from(params, inv, facts, as_of, reasons, run)
    paid = inv.settled_on() if inv.balance == ZERO else None
    if paid is not None and (first is None or paid < first):
        reasons = [f"paid in full on {iso(paid)}, before the penalty became enforceable: no penalty is owed"]
        return PenaltyFigure(inv.id, False, None, ZERO, ZERO, reasons, [*cited, *inv.movement_events()])
    if facts.waiver is not None and facts.waiver.local_date <= as_of:
        w = facts.waiver
        fig = PenaltyFigure(
            inv.id,
            False,
            None,
            ZERO,
            ZERO,
            [f"waived by {run.name(w.event.by)} on {iso(w.local_date)}{ev(w.event.id)}"],
            [*cited, w.event.id],
        )
        # it was owed, then given up; a waiver dated the first enforceable day itself means it
        # never was (SPEC §6.4: no waiver on D; Decision 27: "waived after that day")
        if first is not None and first < w.local_date:
            fig.obligation_status, fig.obligation_due = "waived", first
            fig.obligation_amount = interest(run, inv, facts, w.local_date) + fixed
        return fig
    due_interest = interest(run, inv, facts, as_of)
    enforceable = start is not None and start <= as_of
    fig = PenaltyFigure(inv.id, enforceable, start, due_interest, fixed, reasons, [*cited, *inv.movement_events()])
    if first is not None and first <= as_of:
        fig.obligation_status = "pending" if enforceable else "suspended"
        fig.obligation_due, fig.obligation_amount = first, due_interest + fixed
    return fig


def _obligation(run, inv: Invoice, fig: PenaltyFigure) -> bool:
    """Add the penalty obligation; True if its explanation names the day asked (interest
    "to" it: the principal or the penalty still open)."""
    assert fig.obligation_due is not None and fig.obligation_status is not None, "only for an owed penalty"
    amended = [t.clause for t in terms_used(run, inv, run.as_of) if t.cites]
    ob = run.oblige(
        WorkingObligation(
            id=f"penalty:{inv.id}",
            kind="penalty",
            debtor=run.client,
            creditor=run.provider,
            clause=amended[-1] if amended else run.params["late_penalty"]["clause"],
            arose_on=fig.obligation_due,
            amount=fig.obligation_amount,
            balance=fig.balance(run.currency),
            due=fig.obligation_due,
            status=fig.obligation_status,
        )
    )
    ob.cite(*fig.caused_by)
    head = (
        f"{run.name(run.client)} owes {run.name(run.provider)} a late-payment penalty on invoice {inv.id}, "
        f"enforceable from {iso(fig.obligation_due)} ({ob.clause if amended else _basis(run)}): "
    )
    settled = _settled(run, inv, fig)
    dated = False
    waiver = _facts(run, inv.id).waiver
    settled_first = settled is not None and waiver is not None and settled <= waiver.local_date
    if fig.obligation_status == "waived" and not settled_first:
        ob.balance = ZERO
        ob.explanation = head + f"{money(fig.obligation_amount, run.currency)} when {'; '.join(fig.reasons)}"
    elif settled is not None and fig.obligation_status == "waived":  # settled, then waived (Decision 53)
        ob.status, ob.fulfilled_on = ("fulfilled" if fig.paid else "discharged"), settled
        ob.explanation = head.replace(" owes ", " owed ", 1) + (
            f"{money(fig.obligation_amount, run.currency)} (interest to the waiver plus the fixed fee); settled on "
            f"{iso(settled)}, before it was {'; '.join(fig.reasons)}"
        )
    elif settled is not None:
        ob.status, ob.fulfilled_on = ("fulfilled" if fig.paid else "discharged"), settled
        ob.explanation = head.replace(" owes ", " owed ", 1) + (
            f"{money(fig.interest, run.currency)} interest, which stopped when the invoice was paid, plus a fixed "
            f"{money(fig.fixed_fee, run.currency)}; settled on {iso(settled)}"
        )
    else:
        dated = True
        ob.explanation = head + (
            f"{money(fig.interest, run.currency)} interest to {iso(run.as_of)} plus a fixed "
            f"{money(fig.fixed_fee, run.currency)}"
            + ("" if fig.enforceable else f"; suspended now: {'; '.join(fig.reasons)}")
        )
    if fig.paid or fig.credited:
        ob.explanation += (
            f"; {money(fig.paid, run.currency)} paid and {money(fig.credited, run.currency)} "
            f"credited towards it, {money(ob.balance, run.currency)} left"
        )
    ob.explanation += "."
    return dated


def _settled(run, inv: Invoice, fig: PenaltyFigure) -> date | None:
    """The day the penalty was settled: nothing left and interest stopped (the principal paid)."""
    owed = round_money(fig.obligation_amount, run.currency) - fig.paid - fig.credited
    if inv.balance > ZERO or owed > ZERO:
        return None
    moves = [m.on for m in (*inv.penalty_payments, *inv.penalty_credits)]
    return max([inv.settled_on() or inv.issued_on, *moves])


#: The actions whose writes this finish reads (compiler/memo.py): its own, and the
#: ledger's (invoices, their moves, late payments).
FINISH_READS = ("late_penalty", "payment")


def finish(run) -> None:
    figures, tables = section(run, CLAUSE, FINISH_READS, _finish_all, run)
    st = run.state("late_penalty")
    if tables:
        st.setdefault("tables", {}).update(tables)
    st["figures"] = list(figures)


#: Late invoices per block: a live answer reuses a block's penalties whole when nothing
#: they depend on changed (compiler/memo.py: reuse).
BLOCK = 32


def _finish_all(run) -> tuple[list[PenaltyFigure], dict[str, object]]:
    violations = run.violations
    late = [
        inv
        for inv in sorted(run.invoices.values(), key=lambda i: (i.issued_on, natural_key(i.id)))
        if f"late_payment:{inv.id}" in violations
    ]
    figures: list[PenaltyFigure] = []
    tables: dict[str, object] = {}
    # what a block's penalties depend on besides the day asked and their invoices' moves:
    # the facts the penalty's events told (its own actions, and events held until their
    # invoice was issued, released by the ledger's issuing)
    facts = (run.acted.get("late_penalty"), run.acted.get("payment.invoice"))
    for k in range(0, len(late), BLOCK):
        block = late[k : k + BLOCK]
        moves = live(run) and tuple(
            [
                (inv.id, inv.credits.stamp, inv.payments.stamp, inv.penalty_payments.stamp, inv.penalty_credits.stamp)
                for inv in block
            ]
        )
        key = ("late_penalty.block", k // BLOCK)
        rest = (facts, moves)
        inputs = moves and (day_key(run, key, rest), *rest)
        figs, tabs, used, dated, _h = reuse(run, key, inputs, _finish_block, run, block)
        add_rates_used(run, used)
        figures.extend(figs)
        tables.update(tabs)
        if inputs:
            _redate(run, block, figs, dated, tables)
    warn_beyond_table(run)
    warn_user_rows(run)
    return figures, tables


def _redate(run, block: list[Invoice], figs: list[PenaltyFigure], dated: tuple, tables: dict) -> None:
    """What a penalty reused from another day (penalty_horizon.py) says of the day asked:
    its interest table runs to it, and an obligation still owed says "interest to" it."""
    as_of = run.as_of
    for inv, fig, day in zip(block, figs, dated, strict=True):
        table = tables.get(inv.id)
        if table is not None and table.last != as_of:
            tables[inv.id] = table.until(as_of)
        if day is not None and day != as_of:
            _obligation(run, inv, fig)


def _finish_block(run, block: list[Invoice]) -> tuple:
    """The block's figures, tables, statutory rows used, the days its obligations' texts
    name (None: none), and its horizon (penalty_horizon.py)."""
    figures: list[PenaltyFigure] = []
    tables: dict[str, object] = {}
    beyond: set[date] = set()
    rows: set[int] = set()
    dated: list[date | None] = []
    horizons: list[date | None] = []
    for inv in block:
        key = ("late_penalty", inv.id)
        inputs = None
        if live(run):
            rest = _inputs(run, inv)
            inputs = (day_key(run, key, rest), *rest)
        fig, table, used, day, h = unit(run, key, inputs, (), _finish_invoice, run, inv)
        beyond |= used[0]
        rows |= used[1]
        figures.append(fig)
        dated.append(day)
        horizons.append(h)
        if table is not None:
            tables[inv.id] = table
    return figures, tables, (frozenset(beyond), frozenset(rows)), tuple(dated), joint(horizons)


def _inputs(run, inv: Invoice) -> tuple:
    """Everything one invoice's penalty depends on (compiler/memo.py) besides the day asked
    (penalty_horizon.day_key): the invoice and its moves, and what the events told about
    its penalty."""
    f = _facts(run, inv.id)
    w = f.waiver
    return (
        *invoice_inputs(inv),
        moves_of(inv.penalty_payments),
        moves_of(inv.penalty_credits),
        None if w is None else (w.event.id, w.event.by, w.local_date),
        f.grace_until,
        f.grace_event,
        tuple((d.opened, d.opened_by, d.resolved, d.resolved_by) for d in f.disputes),
        tuple(f.reminders),
    )


def _finish_invoice(run, inv: Invoice) -> tuple:
    """One late invoice's penalty as of ``run.as_of``: its figure, interest table, the
    statutory rows it used (penalty_rates.rates_used), the day its obligation's text names
    (None: none) and its horizon (penalty_horizon.py)."""
    (fig, table, dated), used = rates_used(run, _penalty_of, run, inv)
    return fig, table, used, run.as_of if dated else None, horizon(run, inv) if live(run) else None


def _penalty_of(run, inv: Invoice) -> tuple[PenaltyFigure, object, bool]:
    fig = figure(run, inv)
    dated = False
    if fig.obligation_status is not None and fig.obligation_amount > ZERO:
        dated = _obligation(run, inv, fig)
    over = fig.paid + fig.credited - round_money(fig.total, run.currency)
    if fig.paid and over > ZERO:
        run.warn(
            f"the penalty on invoice {inv.id} was paid {money(over, run.currency)} more than it now asks "
            f"(a later waiver, grace extension or payment before enforceability removed it): "
            f"{run.name(run.provider)} owes that back"
        )
    return fig, run.state("late_penalty").get("tables", {}).get(inv.id), dated


def _basis(run) -> str:
    params = run.params["late_penalty"]
    if params["clause"] == CLAUSE:
        return CLAUSE
    return f"{params['clause']}: no late_penalty clause, so the law applies — {params['statutory']['name']}"


ACTIONS = {
    "late_penalty.waive": waive,
    "late_penalty.extend_grace": extend_grace,
    "late_penalty.dispute_opened": dispute_opened,
    "late_penalty.dispute_resolved": dispute_resolved,
    "late_penalty.reminder": reminder,
}


def answer(run) -> dict:
    """The answer's ``penalties`` section (SPEC §8), and the interest tables as working detail."""
    from contractrules.model.answers import Penalty
    from contractrules.money import format_amount

    cur = run.currency

    def item(f: PenaltyFigure) -> Penalty:
        return Penalty(
            invoice=f.invoice,
            enforceable=f.enforceable,
            enforceable_from=f.enforceable_from,
            interest=format_amount(f.interest, cur),
            fixed_fee=format_amount(f.fixed_fee, cur),
            total=format_amount(f.total, cur),
            paid=format_amount(f.paid, cur),
            balance=format_amount(f.balance(cur), cur),
            reasons=f.reasons,
        )

    # a figure a live contract reused (compiler/memo.py) is the same object: its item too
    penalties = [
        unit(run, ("late_penalty.item", f.invoice), (f,), (), item, f)
        for f in run.state("late_penalty").get("figures", [])
    ]
    return {"penalties": penalties, "detail": {"interest": dict(run.state("late_penalty").get("tables", {}))}}
