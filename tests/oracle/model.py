"""An independent reference model (oracle) of the ledger, penalties and billing due dates.

Written from SPEC v2 (§5, §6.1, §6.2, §6.4) and the documented Decisions of
docs/semantics.md alone — not from the engine's compiler — so that a disagreement with
the engine is a question to settle, not a copy of the same mistake. It covers one
contract shape (see ``tests/oracle/test_oracle.py``): calendar-day payment terms, no
roll, no jurisdiction, monthly billing from the 1st, a termination clause in days, and
events dated by local date or by a UTC time (``Z``, hours that stay on the same local
date in Madrid).

It simulates day by day: the events of a day in event-time order (local date, rank by
type, id), then the end-of-day balances that interest accrues on. Amounts are Decimals
at full precision; only reported amounts are rounded (half-up, cents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")
DAY = timedelta(days=1)
RANK = [
    "invoice_issued",
    "credit_note",
    "change_order_agreed",
    "work_requested",
    "work_performed",
    "payment_received",
    "reminder_sent",
    "dispute_opened",
    "dispute_resolved",
    "termination_notice",
    "waiver",
]


def money(x: Decimal) -> str:
    return str(x.quantize(CENT, rounding=ROUND_HALF_UP))


def r2(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def natural(text: str) -> tuple:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", text))


def add_months(d: date, n: int) -> date:
    import calendar

    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


@dataclass
class Terms:
    terms_days: int = 30
    grace_days: int = 15
    rate: Decimal = Decimal("0.10")
    basis: int = 365
    accrues_from: str = "due"
    fixed_fee: Decimal = Decimal("40.00")
    cap: Decimal | None = None
    reminder_days: int | None = None
    disputes_suspend: bool = True
    allocation: str = "principal_first"
    timing: str = "arrears"
    invoice_within_days: int = 7
    notice_days: int = 30
    effective: str = "end_of_cycle"
    end: date | None = None
    start: date = date(2025, 1, 1)


@dataclass
class Inv:
    id: str
    issued: date
    amount: Decimal
    due: date
    event: str
    credited: Decimal = ZERO  # credit notes counted against the principal
    paid: Decimal = ZERO  # money applied to the principal
    ever_paid: bool = False
    paid_by: dict = field(default_factory=dict)  # payment event id -> money on the principal
    eod: dict = field(default_factory=dict)  # day -> end-of-day principal balance
    zero_on: date | None = None  # day the principal balance reached zero
    pen_paid: Decimal = ZERO
    pen_credited: Decimal = ZERO
    pen_moves: list = field(default_factory=list)  # days money or credit went to the penalty
    grace_until: list = field(default_factory=list)  # (waiver day, until)
    waived_on: date | None = None
    disputes: list = field(default_factory=list)  # [opened, resolved | None]
    reminder: date | None = None

    @property
    def balance(self) -> Decimal:
        return max(self.amount - self.credited - self.paid, ZERO)


class Oracle:
    def __init__(self, terms: Terms, events: list[dict], as_of: date):
        self.t = terms
        self.as_of = as_of
        self.inv: dict[str, Inv] = {}
        self.free: list[list] = []  # [event id, amount] unapplied credit, FIFO
        self.held: dict[str, list] = {}  # invoice -> held events (dicts, event order)
        self.events = sorted(
            (e for e in events if date.fromisoformat(e["at"][:10]) <= as_of),
            key=lambda e: (e["at"][:10], e["at"][10:], RANK.index(e["type"]), e["id"]),
        )
        self.periods: dict[str, date] = {}  # cycle start iso -> earliest invoice date naming it
        self.run()

    # ------------------------------------------------------------------ replay
    def run(self) -> None:
        by_day: dict[date, list] = {}
        for e in self.events:
            by_day.setdefault(date.fromisoformat(e["at"][:10]), []).append(e)
        if not by_day:
            return
        d = min(by_day)
        while d <= self.as_of:
            for e in by_day.get(d, []):
                self.apply(e, d)
            for i in self.inv.values():
                i.eod[d] = i.balance
                if i.balance == ZERO and i.zero_on is None:
                    i.zero_on = d
            d += DAY

    def apply(self, e: dict, d: date) -> None:
        kind = e["type"]
        if kind == "invoice_issued":
            self.issue(e, d)
            return
        name = e.get("invoice")
        if name is not None and name not in self.inv:
            self.held.setdefault(name, []).append(e)
            return
        self.act(e, d)

    def issue(self, e: dict, d: date) -> None:
        amount = Decimal(e["amount"])
        inv = Inv(e["invoice"], d, amount, d + timedelta(days=self.t.terms_days), e["id"])
        self.inv[inv.id] = inv
        if e.get("period"):
            self.periods.setdefault(e["period"], d)
        held = self.held.pop(inv.id, [])
        for h in held:
            if h["type"] == "credit_note":
                self.act(h, d)
        for h in held:
            if h["type"] == "payment_received":
                self.act(h, d)
        # free unapplied credit goes to the new invoice (FIFO of the credit's payments)
        self.spend_free(d)
        for h in held:
            if h["type"] not in ("credit_note", "payment_received"):
                self.act(h, d)
        if inv.balance == ZERO and inv.zero_on is None:
            pass  # recorded at the end of the day

    def act(self, e: dict, d: date) -> None:
        kind = e["type"]
        amount = Decimal(e["amount"]) if "amount" in e else ZERO
        if kind == "payment_received":
            if "penalty" in e:
                rest = self.pay_penalty(e["penalty"], amount, d, e["id"])
            elif "invoice" in e:
                rest = self.pay_invoice(self.inv[e["invoice"]], amount, d, e["id"])
            else:
                rest = amount
            self.fifo(rest, d, e["id"])
        elif kind == "credit_note":
            if "penalty" in e:
                inv = self.inv.get(e["penalty"])
                if inv is not None and self.penalty_exists(inv, d):
                    owed = self.penalty_owed(inv, d)
                    inv.pen_credited += min(amount, max(owed, ZERO))
                    inv.pen_moves.append(d)
            else:
                # counts up to what the invoice still asks: its amount less earlier credit notes
                # (Decision 51); money paid beyond that matches no open debt any more and goes
                # on as a payment naming no invoice (SPEC §6.2 v2, Decision 14)
                inv = self.inv[e["invoice"]]
                inv.credited += min(amount, inv.amount - inv.credited)
                excess = inv.paid - (inv.amount - inv.credited)
                freed = []
                for source in reversed(list(inv.paid_by)):  # the latest payments are freed first
                    take = min(inv.paid_by[source], excess)
                    if take > ZERO:
                        inv.paid_by[source] -= take
                        inv.paid -= take
                        excess -= take
                        freed.insert(0, (source, take))
                for source, take in freed:
                    self.fifo(take, d, source)
        elif kind == "dispute_opened":
            inv = self.inv[e["invoice"]]
            if not (inv.disputes and inv.disputes[-1][1] is None):
                inv.disputes.append([d, None])
        elif kind == "dispute_resolved":
            inv = self.inv[e["invoice"]]
            if inv.disputes and inv.disputes[-1][1] is None:
                inv.disputes[-1][1] = d
        elif kind == "reminder_sent":
            inv = self.inv[e["invoice"]]
            if inv.reminder is None:
                inv.reminder = d
        elif kind == "waiver" and e.get("by") == "studio" and e["clause"].startswith("late_penalty"):
            inv = self.inv[e["invoice"]]
            if e["clause"] == "late_penalty":
                if inv.waived_on is None:
                    inv.waived_on = d
            elif e["clause"] == "late_penalty.grace":
                inv.grace_until.append((d, date.fromisoformat(e["until"])))

    # ------------------------------------------------------------------ money
    def pay_invoice(self, inv: Inv, amount: Decimal, d: date, source: str) -> Decimal:
        """Apply to one invoice (penalty first under interest_first); return the excess."""
        if self.t.allocation == "interest_first" and self.penalty_exists(inv, d) and not self.disputed(inv, d):
            owed = max(self.penalty_owed(inv, d), ZERO)
            take = min(amount, owed)
            inv.pen_paid += take
            amount -= take
            if take:
                inv.pen_moves.append(d)
        take = min(amount, inv.balance)
        inv.paid += take
        inv.ever_paid = inv.ever_paid or take > ZERO
        if take > ZERO:
            inv.paid_by[source] = inv.paid_by.get(source, ZERO) + take
        return amount - take

    def fifo(self, amount: Decimal, d: date, source: str) -> None:
        if amount <= ZERO:
            return
        for inv in sorted(self.inv.values(), key=lambda i: (i.issued, natural(i.id))):
            if inv.balance > ZERO and amount > ZERO:
                amount = self.pay_invoice(inv, amount, d, source)
        if amount > ZERO:
            self.free.append([source, amount])

    def spend_free(self, d: date) -> None:
        credits, self.free = self.free, []
        for source, amount in credits:
            self.fifo(amount, d, source)

    def pay_penalty(self, name: str, amount: Decimal, d: date, source: str) -> Decimal:
        inv = self.inv.get(name)
        if inv is None or not self.penalty_exists(inv, d):
            return amount
        owed = max(self.penalty_owed(inv, d), ZERO)
        take = min(amount, owed)
        inv.pen_paid += take
        if take:
            inv.pen_moves.append(d)
        return amount - take

    # ------------------------------------------------------------------ penalty
    def violated(self, inv: Inv) -> bool:
        return inv.due < self.as_of and inv.eod.get(inv.due, inv.balance) > ZERO

    def grace_end(self, inv: Inv, known: date) -> date:
        end = inv.due + timedelta(days=self.t.grace_days)
        for day, until in inv.grace_until:
            if day <= known and until > end:
                end = until
        return end

    def disputed(self, inv: Inv, d: date) -> bool:
        if not self.t.disputes_suspend:
            return False
        return any(o <= d and (r is None or d < r) for o, r in inv.disputes)

    def conditions(self, inv: Inv, d: date, known: date) -> bool:
        """Enforceable on day d by the clause's conditions, as known on day ``known``."""
        if d <= inv.due or inv.eod.get(inv.due, inv.balance) == ZERO:
            return False
        if d < self.grace_end(inv, known) + DAY:
            return False
        if self.disputed(inv, d):
            return False
        if self.t.reminder_days is not None:
            if inv.reminder is None or inv.reminder > d or (d - inv.reminder).days < self.t.reminder_days:
                return False
        if inv.waived_on is not None and inv.waived_on <= min(d, known):
            return False
        return True

    def first_enforceable(self, inv: Inv, known: date) -> date | None:
        d = inv.due + DAY
        while d <= known:
            if self.conditions(inv, d, known):
                return d
            d += DAY
        return None

    def paid_before(self, inv: Inv, known: date) -> bool:
        first = self.first_enforceable(inv, known)
        return inv.zero_on is not None and inv.zero_on <= known and (first is None or inv.zero_on < first)

    def penalty_exists(self, inv: Inv, d: date) -> bool:
        if inv.due >= d or inv.eod.get(inv.due, None) in (None, ZERO):
            return False
        if inv.waived_on is not None and inv.waived_on <= d:
            return False
        first = self.first_enforceable(inv, d)
        if first is None:
            return False
        return not (inv.zero_on is not None and inv.zero_on < first)

    def interest(self, inv: Inv, through: date, known: date) -> Decimal:
        start = inv.due if self.t.accrues_from == "due" else self.grace_end(inv, known)
        total = ZERO
        d = start + DAY
        while d <= through:
            total += inv.eod.get(d, ZERO) * self.t.rate
            d += DAY
        total /= self.t.basis  # divided once: the sum is exact (0.025 stays 0.025 → 0.03)
        if self.t.cap is not None:
            total = min(total, self.t.cap * inv.amount)
        return total

    def penalty_owed(self, inv: Inv, d: date) -> Decimal:
        return r2(self.interest(inv, d - DAY, d)) + self.t.fixed_fee - inv.pen_paid - inv.pen_credited

    # ------------------------------------------------------------------ answers
    def payments(self) -> dict:
        out = {}
        for inv in self.inv.values():
            if inv.balance == ZERO and not inv.ever_paid:
                status = "discharged"
            elif inv.balance == ZERO:
                status = "fulfilled"
            elif inv.due < self.as_of:
                status = "violated"
            else:
                status = "pending"
            out[f"payment:{inv.id}"] = {
                "amount": money(inv.amount - inv.credited),
                "balance": money(inv.balance),
                "due": inv.due,
                "status": status,
                "fulfilled_on": inv.zero_on if status == "fulfilled" else None,
            }
        return out

    def late_payments(self) -> dict:
        return {f"late_payment:{i.id}": i.due + DAY for i in self.inv.values() if self.violated(i)}

    def penalties(self) -> dict:
        out = {}
        for inv in self.inv.values():
            if not self.violated(inv):
                continue
            D = self.as_of
            interest = r2(self.interest(inv, D, D))
            fee = self.t.fixed_fee
            gone = self.paid_before(inv, D) or (inv.waived_on is not None and inv.waived_on <= D)
            if gone:
                interest, fee = ZERO, ZERO
            total = interest + fee
            enforceable = not gone and self.conditions(inv, D, D)
            if gone:
                frm = None
            elif enforceable:
                frm = D
                while frm - DAY > inv.due and self.conditions(inv, frm - DAY, D):
                    frm -= DAY
            elif self.disputed(inv, D) or (self.t.reminder_days is not None and inv.reminder is None):
                frm = None
            else:
                frm = self.grace_end(inv, D) + DAY
                if self.t.reminder_days is not None:
                    frm = max(frm, inv.reminder + timedelta(days=self.t.reminder_days))
            entry = {
                "enforceable": enforceable,
                "enforceable_from": frm,
                "interest": money(interest),
                "fixed_fee": money(fee),
                "total": money(total),
                "paid": money(inv.pen_paid),
                "balance": money(max(total - inv.pen_paid - inv.pen_credited, ZERO)),
            }
            out[inv.id] = entry
        return out

    def penalty_obligations(self) -> dict:
        out = {}
        D = self.as_of
        for inv in self.inv.values():
            if not self.violated(inv) or self.paid_before(inv, D):
                continue
            first = self.first_enforceable(inv, D)
            if first is None:
                continue
            amount = r2(self.interest(inv, D, D)) + self.t.fixed_fee
            balance = max(amount - inv.pen_paid - inv.pen_credited, ZERO)
            if inv.waived_on is not None and inv.waived_on <= D:
                status, balance = "waived", ZERO
                amount = r2(self.interest(inv, inv.waived_on, D)) + self.t.fixed_fee
                settled = self.settled_on(inv, amount)
                if settled is not None and settled <= inv.waived_on:
                    # settled before the waiver: stays fulfilled (Decision 53), the money is owed back
                    status = "fulfilled" if inv.pen_paid else "discharged"
            elif balance == ZERO and inv.balance == ZERO:
                status = "discharged" if inv.pen_paid == ZERO else "fulfilled"
            elif self.disputed(inv, D):
                status = "suspended"
            else:
                status = "pending"
            out[f"penalty:{inv.id}"] = {
                "amount": money(amount),
                "balance": money(balance),
                "status": status,
                "due": first,
            }
        return out

    def settled_on(self, inv: Inv, amount: Decimal) -> date | None:
        """The day the penalty's balance reached 0.00 with the principal paid (None if not)."""
        if inv.balance > ZERO or inv.pen_paid + inv.pen_credited < amount:
            return None
        return max([inv.zero_on, *inv.pen_moves])

    def unapplied_sources(self) -> list[str]:
        ids = {e["id"] for hs in self.held.values() for e in hs if e["type"] == "payment_received"}
        return sorted(ids | {source for source, amount in self.free if amount > ZERO})

    def unapplied(self) -> Decimal:
        held = sum(
            (Decimal(e["amount"]) for hs in self.held.values() for e in hs if e["type"] == "payment_received"), ZERO
        )
        return held + sum((a for _, a in self.free), ZERO)
