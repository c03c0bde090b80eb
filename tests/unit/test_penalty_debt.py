"""Paying and crediting a late penalty (SPEC §6.4 v2): the edges the golden scenarios leave open."""

from __future__ import annotations

from datetime import date

import pytest

from contractrules.api import evaluate
from contractrules.errors import EventError

# Due 2025-03-02 (30 days after 2025-01-31); grace 15: enforceable from 2025-03-18.
CONTRACT = {
    "id": "late",
    "timezone": "Europe/Madrid",
    "currency": "EUR",
    "start": "2025-01-01",
    "parties": {"provider": {"id": "studio"}, "client": {"id": "acme"}},
    "terms": {
        "payment": {"terms_days": 30},
        "late_penalty": {"grace_days": 15, "interest": {"annual_rate": "0.10"}, "fixed_fee": "40.00"},
    },
}
INVOICE = {
    "id": "i1",
    "type": "invoice_issued",
    "at": "2025-01-31",
    "by": "studio",
    "invoice": "INV-1",
    "amount": "600.00",
}


def pay(event_id: str, at: str, amount: str, **target) -> dict:
    return {"id": event_id, "type": "payment_received", "at": at, "by": "acme", "amount": amount, **target}


def test_a_penalty_can_be_paid_from_its_first_enforceable_day_not_before():
    # 17 March: not enforceable yet, so the 10.00 pays the invoice (FIFO) instead
    answer = evaluate(CONTRACT, [INVOICE, pay("p1", "2025-03-17", "10.00", penalty="INV-1")], date(2025, 3, 20))
    assert answer.penalty("INV-1").paid == "0.00"
    assert {o.id: o.balance for o in answer.obligations}["payment:INV-1"] == "590.00"
    assert (
        "payment p1 of 10.00 EUR names the penalty on invoice INV-1, which does not exist on 2025-03-17 "
        "(the penalty is not enforceable yet): it goes on as a payment naming no invoice"
    ) in answer.warnings
    # 18 March: it asks 3..17 March = 15 days × 600 × 0.10 / 365 = 2.4658 → 2.47, + 40.00 = 42.47
    answer = evaluate(CONTRACT, [INVOICE, pay("p1", "2025-03-18", "50.00", penalty="INV-1")], date(2025, 3, 18))
    assert (answer.penalty("INV-1").paid, answer.penalty("INV-1").interest) == ("42.47", "2.63")
    assert {o.id: o.balance for o in answer.obligations}["payment:INV-1"] == "592.47"  # the other 7.53
    assert answer.warnings == [
        "payment p1 of 50.00 EUR exceeds the 42.47 EUR the penalty on invoice INV-1 asked "
        "on 2025-03-18: the other 7.53 EUR goes on as a payment naming no invoice"
    ]


def test_without_a_penalty_clause_a_payment_naming_a_penalty_pays_the_invoices():
    contract = {**CONTRACT, "terms": {"payment": {"terms_days": 30}}}
    answer = evaluate(contract, [INVOICE, pay("p1", "2025-04-01", "100.00", penalty="INV-1")], date(2025, 4, 1))
    assert {o.id: o.balance for o in answer.obligations} == {"payment:INV-1": "500.00"}
    assert "(the contract has no late_penalty clause)" in answer.warnings[0]


def test_a_credit_note_for_a_penalty_that_does_not_exist_reduces_nothing():
    credit = {
        "id": "c1",
        "type": "credit_note",
        "at": "2025-03-10",
        "by": "studio",
        "penalty": "INV-1",
        "amount": "5.00",
    }
    answer = evaluate(CONTRACT, [INVOICE, credit], date(2025, 3, 20))
    # 3..20 March = 18 days × 600 × 0.10 / 365 = 2.9589 → 2.96, + 40.00: nothing credited
    assert answer.penalty("INV-1").balance == answer.penalty("INV-1").total == "42.96"
    assert (
        "credit note c1 of 5.00 EUR names the penalty on invoice INV-1, which does not exist on 2025-03-10 "
        "(the penalty is not enforceable yet): it reduces nothing"
    ) in answer.warnings


@pytest.mark.parametrize(
    "event, field",
    [
        (pay("p1", "2025-03-18", "5.00", invoice="INV-1", penalty="INV-1"), "penalty"),
        ({"id": "c1", "type": "credit_note", "at": "2025-03-10", "by": "studio", "amount": "5.00"}, "invoice"),
        (
            {
                "id": "c1",
                "type": "credit_note",
                "at": "2025-03-10",
                "by": "studio",
                "amount": "5.00",
                "invoice": "INV-1",
                "penalty": "INV-1",
            },
            "penalty",
        ),
    ],
)
def test_naming_both_or_neither_is_bad_input(event, field):
    with pytest.raises(EventError) as caught:
        evaluate(CONTRACT, [INVOICE, event], date(2025, 3, 20))
    (issue,) = caught.value.issues
    assert (issue.field, issue.event_id) == (field, event["id"])
