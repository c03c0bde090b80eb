"""The statement of account and scope findings of one contract as of a date (view model).

Built from the engine's answer and the working detail it carries
(:attr:`~contractrules.model.answers.Answer.detail`: the invoice ledger and each late
invoice's :class:`~contractrules.interest.InterestTable`), so every figure here is the
engine's own; nothing is recomputed. Text is localised by the caller's :class:`Lang`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from contractrules.compiler.scope import scope_gap
from contractrules.documents.i18n import Lang
from contractrules.interest import InterestTable

ZERO = Decimal("0")


@dataclass
class Line:
    """One line of an invoice's account: what happened, which event, debit or credit."""

    on: date
    kind: str  # invoice | credit | payment
    text: str
    event: str
    debit: Decimal | None = None
    credit: Decimal | None = None
    balance: Decimal = ZERO


@dataclass
class PenaltyView:
    invoice: str
    enforceable: bool
    enforceable_from: date | None
    interest: Decimal
    fixed_fee: Decimal
    total: Decimal
    reasons: list[str]
    clause: str
    table: InterestTable | None
    rate_clause: str
    fee_basis: str
    paid: Decimal  # paid towards the penalty (SPEC §6.4 v2)
    balance: Decimal  # what is left of it: total (rounded) − paid − credited
    obligation: object | None = None  # the penalty obligation, if it exists
    moves: list[Line] = field(default_factory=list)  # money and credit notes that went to the penalty

    @property
    def settled(self) -> Decimal:
        """Paid and credited towards the penalty."""
        return sum((m.credit or ZERO for m in self.moves), ZERO)


@dataclass
class InvoiceView:
    id: str
    issued_on: date
    event: str
    period: date | None
    amount: Decimal
    due: date | None
    balance: Decimal
    status: str
    clause: str
    caused_by: list[str]
    evidence: str
    lines: list[Line]
    penalty: PenaltyView | None = None
    late_from: date | None = None


@dataclass
class Finding:
    id: str
    kind: str  # out_of_scope_request | out_of_scope_work
    on: date
    party: str
    service: str
    asset: str
    description: str | None
    channel: str | None
    evidence: str
    why: str
    hours: Decimal | None
    value: Decimal | None
    caused_by: list[str]


@dataclass
class Scope:
    findings: list[Finding] = field(default_factory=list)
    change_orders: list[dict] = field(default_factory=list)
    rate: dict | None = None
    unbilled_value: Decimal = ZERO
    verbal: int = 0


def _d(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _status(L: Lang, status: str) -> str:
    _ = L.gettext
    return {
        "pending": _("pending"),
        "fulfilled": _("paid"),
        "violated": _("overdue"),
        "waived": _("waived"),
        "suspended": _("suspended"),
        "discharged": _("discharged"),
    }[status]


def invoices(L: Lang, contract, answer, params: dict) -> list[InvoiceView]:
    _ = L.gettext
    ledger = answer.detail.get("invoices", {})
    tables = answer.detail.get("interest", {})
    obligations = {o.id: o for o in answer.obligations}
    violations = {v.id: v for v in answer.violations}
    out = []
    for inv in sorted(ledger.values(), key=lambda i: (i.issued_on, i.id)):
        ob = obligations.get(f"payment:{inv.id}")
        if ob is None:
            continue
        lines = [Line(inv.issued_on, "invoice", _("Invoice issued"), inv.event_id, debit=inv.amount)]
        moves = [(c.on, 0, c, "credit", _("Credit note")) for c in inv.credits]
        for p in inv.payments:
            named = _named_invoice(answer, p.event_id)
            text = (
                _("Payment received")
                if named == inv.id
                else _("Payment received (no invoice named: applied to the oldest open invoice)")
            )
            if p.amount < ZERO:  # freed by a credit note: goes on as a payment naming no invoice
                text = _("Overpaid after a credit note: moved on as a payment naming no invoice")
            moves.append((p.on, 1, p, "payment", text))
        for on, _rank, m, kind, text in sorted(moves, key=lambda x: (x[0], x[1], x[2].event_id)):
            lines.append(Line(on, kind, text, m.event_id, credit=m.amount))
        running = ZERO
        for line in lines:
            running += (line.debit or ZERO) - (line.credit or ZERO)
            line.balance = max(running, ZERO)
        late = violations.get(f"late_payment:{inv.id}")
        view = InvoiceView(
            id=inv.id,
            issued_on=inv.issued_on,
            event=inv.event_id,
            period=inv.period,
            amount=inv.amount,
            due=ob.due,
            balance=Decimal(ob.balance),
            status=_status(L, ob.status),
            clause=ob.clause,
            caused_by=ob.caused_by,
            evidence=ob.evidence,
            lines=lines,
            late_from=late.on if late else None,
        )
        pen = answer.penalty(inv.id)
        if pen is not None:
            view.penalty = _penalty(
                L, pen, inv, tables.get(inv.id), answer, params, obligations.get(f"penalty:{inv.id}")
            )
        out.append(view)
    return out


def _named_invoice(answer, event_id: str) -> str | None:
    rec = answer.detail.get("records", {}).get(event_id)
    return getattr(rec.event, "invoice", None) if rec is not None else None


def _penalty(L: Lang, pen, ledger, table, answer, params: dict, obligation) -> PenaltyView:
    _ = L.gettext
    lp = params.get("late_penalty") or {}
    law = lp.get("statutory")
    clause = lp.get("clause", "terms.late_penalty")
    fee_basis = f"{clause}.fixed_fee"
    if lp.get("fixed_fee") == "statutory" and law:
        fee_basis = law["compensation_source"]
    rate_clause = f"{clause}.interest.annual_rate"
    if table is not None and table.last != answer.as_of:
        table = None  # computed for another day (a waiver): the answer's figure is not this table's
    return PenaltyView(
        invoice=pen.invoice,
        enforceable=pen.enforceable,
        enforceable_from=pen.enforceable_from,
        interest=Decimal(pen.interest),
        fixed_fee=Decimal(pen.fixed_fee),
        total=Decimal(pen.total),
        reasons=list(pen.reasons),
        clause=clause,
        table=table,
        rate_clause=rate_clause,
        fee_basis=fee_basis,
        paid=Decimal(pen.paid),
        balance=Decimal(pen.balance),
        obligation=obligation,
        moves=sorted(
            [
                *(
                    Line(m.on, "payment", _("Payment towards the penalty"), m.event_id, credit=m.amount)
                    for m in ledger.penalty_payments
                ),
                *(
                    Line(m.on, "credit", _("Credit note on the penalty"), m.event_id, credit=m.amount)
                    for m in ledger.penalty_credits
                ),
            ],
            key=lambda m: (m.on, m.event),
        ),
    )


def scope(L: Lang, contract, answer, params: dict) -> Scope:
    _ = L.gettext
    sp = params.get("scope")
    result = Scope()
    if sp is None:
        return result
    result.rate = sp.get("change_order_rate")
    rate = _d(result.rate["amount"]) if result.rate else None
    per_hour = bool(result.rate) and result.rate["per"] == "hour"
    records = answer.detail.get("records", {})
    for v in answer.violations:
        if v.kind not in ("out_of_scope_request", "out_of_scope_work"):
            continue
        rec = records.get(v.caused_by[0]) if v.caused_by else None
        e = rec.event if rec is not None else None
        if e is None:
            continue
        hours = getattr(e, "hours", None)
        value = None
        if rate is not None and v.kind == "out_of_scope_work":
            value = rate * hours if per_hour and hours is not None else (None if per_hour else rate)
        result.findings.append(
            Finding(
                id=v.id,
                kind=v.kind,
                on=v.on,
                party=v.party,
                service=e.service,
                asset=e.asset,
                description=getattr(e, "description", None),
                channel=e.channel,
                evidence=v.evidence,
                why=_why(L, _scope_on(answer, sp, v.on), e.service, e.asset),
                hours=hours,
                value=value,
                caused_by=v.caused_by,
            )
        )
        if value is not None:
            result.unbilled_value += value
    result.verbal = sum(1 for f in result.findings if f.evidence == "verbal")
    for rec in sorted(records.values(), key=lambda r: (r.local_date, r.event.id)):
        e = rec.event
        if e.type == "change_order_agreed" and rec.local_date <= answer.as_of:
            value = (
                e.amount
                if e.amount is not None
                else (rate * e.hours if rate is not None and per_hour and e.hours is not None else None)
            )
            result.change_orders.append(
                {
                    "id": e.id,
                    "on": rec.local_date,
                    "service": e.service,
                    "asset": e.asset,
                    "hours": e.hours,
                    "value": value,
                    "channel": e.channel,
                }
            )
    return result


def _scope_on(answer, sp: dict, day) -> dict:
    """The scope in force on ``day`` (amendments, SPEC §6.7), when the answer carries its terms."""
    terms = answer.detail.get("terms")
    return terms("scope", day).params if terms is not None else sp


def _why(L: Lang, sp: dict, service: str, asset: str) -> str:
    _ = L.gettext
    gap = scope_gap(sp, service, asset)
    if gap is None:
        return _("inside the signed scope")
    kind, x = gap
    if kind == "service":
        return _("the service “%(service)s” is not in the contract") % {"service": service}
    if kind == "excluded":
        text = _("“%(asset)s” is excluded by the pattern “%(pattern)s”") % {"asset": asset, "pattern": x["pattern"]}
        return text + (f" ({x['reason']})" if x.get("reason") else "")
    return _("“%(asset)s” is not one of the assets of the service “%(service)s”") % {"asset": asset, "service": service}
