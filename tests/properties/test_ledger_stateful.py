"""The ledger as a state machine (Hypothesis ``RuleBasedStateMachine``), SPEC §6.2, §6.4.

Days pass; invoices, credit notes (for invoices and penalties), payments (naming an
invoice, one not issued yet, a penalty, or nothing), disputes and penalty waivers happen
on the current day. After every step, the answer as of that day must keep the ledger's
invariants:

- no balance, paid amount or unapplied credit is ever negative; no obligation's balance
  exceeds its amount, no penalty's balance its total;
- money is conserved: every payment received is applied to an invoice's principal, to a
  penalty, or is unapplied credit (held for an invoice not issued yet, or matching no
  open debt) — to the cent, and ``unapplied_credit`` says the same;
- what is fulfilled at the end of a day stays fulfilled, on the same day, as days pass
  and events come (a later event of the same day may still come first in event time);
- the answer equals a fresh replay: another engine, the events in reverse input order.

Budget: 60 machines of up to 30 steps (a few seconds on one core); derandomized under
the ``ci`` profile.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from contractrules.engine import engine as engine_module
from contractrules.engine.engine import Engine
from contractrules.model import parse_contract, parse_events

ZERO = Decimal("0")
cents = st.integers(min_value=1, max_value=900_00).map(lambda c: f"{c // 100}.{c % 100:02d}")


def contract_data(allocation: str) -> dict:
    return {
        "id": "ledger",
        "timezone": "Europe/Madrid",
        "currency": "EUR",
        "start": "2025-01-01",
        "parties": {"provider": {"id": "studio"}, "client": {"id": "acme"}},
        "terms": {
            "payment": {"terms_days": 10},
            "late_penalty": {
                "grace_days": 2,
                "interest": {"annual_rate": "0.12"},
                "fixed_fee": "15.00",
                "allocation": allocation,
            },
        },
    }


ENGINE = Engine()  # shared by every machine: answers must not depend on what ran before
FRESH = Engine()  # the replay


class Ledger(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.today = date(2025, 1, 5)
        self.events: list[dict] = []
        self.issued = 0
        self.fulfilled: dict[str, object] = {}
        self.contract = None

    @initialize(allocation=st.sampled_from(["principal_first", "interest_first"]))
    def choose_terms(self, allocation):
        self.contract = parse_contract(contract_data(allocation))

    # ------------------------------------------------------------------ events
    def _add(self, kind: str, **fields) -> None:
        self.events.append({"id": f"e{len(self.events) + 1}", "type": kind, "at": self.today.isoformat(), **fields})

    def _invoice(self, n: int) -> str:
        return f"INV-{n}"

    @rule(amount=cents)
    def issue_invoice(self, amount):
        self.issued += 1
        self._add("invoice_issued", by="studio", invoice=self._invoice(self.issued), amount=amount)

    @rule(amount=cents, kind=st.sampled_from(["none", "invoice", "penalty"]), pick=st.integers(0, 12))
    def pay(self, amount, kind, pick):
        fields = {"by": "acme", "amount": amount}
        if kind != "none":  # pick may name an invoice not issued yet: held for it
            fields[kind] = self._invoice(1 + pick % (self.issued + 2))
        self._add("payment_received", **fields)

    @precondition(lambda self: self.issued)
    @rule(amount=cents, kind=st.sampled_from(["invoice", "penalty"]), pick=st.integers(0, 12))
    def credit(self, amount, kind, pick):
        self._add("credit_note", by="studio", amount=amount, **{kind: self._invoice(1 + pick % (self.issued + 1))})

    @precondition(lambda self: self.issued)
    @rule(pick=st.integers(0, 12), opened=st.booleans())
    def dispute(self, pick, opened):
        kind = "dispute_opened" if opened else "dispute_resolved"
        self._add(kind, by="acme", invoice=self._invoice(1 + pick % self.issued))

    @precondition(lambda self: self.issued)
    @rule(pick=st.integers(0, 12))
    def waive_penalty(self, pick):
        self._add("waiver", by="studio", clause="late_penalty", invoice=self._invoice(1 + pick % self.issued))

    @rule(days=st.integers(1, 25))
    def days_pass(self, days):
        # what is fulfilled at the end of today, with all of today's events, must stay so
        # (an event later the same day may still come first in event time: SPEC §5)
        if self.contract is not None:
            answer, _run, _records = self._evaluate()
            self.fulfilled.update({o.id: o.fulfilled_on for o in answer.obligations if o.status == "fulfilled"})
        self.today += timedelta(days=days)

    # ------------------------------------------------------------------ invariants
    def _evaluate(self):
        records = parse_events(((i + 1, e) for i, e in enumerate(self.events)), self.contract).records
        runs = []
        original = engine_module.build_answer

        def keep(run, *hooks):
            runs.append(run)
            return original(run, *hooks)

        with mock.patch.object(engine_module, "build_answer", keep):
            answer = ENGINE.evaluate(self.contract, records, self.today)
        return answer, runs[0], records

    @invariant()
    def ledger_invariants(self):
        if self.contract is None:
            return
        answer, run, records = self._evaluate()
        doc = answer.to_dict()

        # balances never negative, never above what is asked
        for o in doc["obligations"]:
            if o["balance"] is not None:
                assert Decimal(o["balance"]) >= ZERO, o
                assert Decimal(o["balance"]) <= Decimal(o["amount"]), o
        for p in doc["penalties"]:
            total, paid, balance = (Decimal(p[k]) for k in ("total", "paid", "balance"))
            assert min(total, paid, balance) >= ZERO and balance <= total, p
        unapplied = Decimal(doc["unapplied_credit"]["amount"])
        assert unapplied >= ZERO

        # money conserved: received = applied to principals + to penalties + unapplied
        received = sum((Decimal(r.event.amount) for r in records if r.event.type == "payment_received"), ZERO)
        principal = sum((inv.paid for inv in run.invoices.values()), ZERO)
        penalties = sum((inv.penalty_payments.total for inv in run.invoices.values()), ZERO)
        held = sum((p.amount for p in run.unapplied_credit()), ZERO)
        assert received == principal + penalties + held, (received, principal, penalties, held)
        assert unapplied == held
        assert sum((Decimal(p["paid"]) for p in doc["penalties"]), ZERO) == penalties

        # what was fulfilled at the end of an earlier day stays fulfilled, on the same day
        now = {o["id"]: o for o in doc["obligations"]}
        for ob_id, day in self.fulfilled.items():
            assert now[ob_id]["status"] == "fulfilled", (ob_id, now.get(ob_id))
            assert now[ob_id]["fulfilled_on"] == day.isoformat(), (ob_id, now.get(ob_id))

        # identical to a fresh replay (another engine, the input reversed)
        replay = FRESH.evaluate(self.contract, list(reversed(records)), self.today)
        assert replay.to_dict() == doc


Ledger.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestLedger = Ledger.TestCase
