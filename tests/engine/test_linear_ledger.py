"""The ledger's delivery is linear in the history (issue 12, item 3).

- A payment that the invoice it names absorbs looks at no other invoice.
- Open invoices are kept in FIFO order; invoices paid by name meanwhile are dropped
  from that queue the next time a payment naming no invoice walks it, all at once.
"""

from __future__ import annotations

from datetime import date, timedelta

from contractrules.compiler import compile_contract, payment
from tests.engine.conftest import invoice, make_contract, make_records
from tests.engine.conftest import payment as pay


def _run(engine, contract, records, as_of: date):
    run = engine.start(compile_contract(contract), records, as_of)
    engine.advance(run, sorted(records, key=engine.order_key), as_of)
    return run


def test_a_payment_absorbed_by_its_named_invoice_walks_no_queue(engine, monkeypatch):
    c = make_contract()
    records = make_records(c, [invoice("e1", "INV-1", "2025-01-31"), pay("e2", "2025-02-10", "600.00", "INV-1")])

    def walked(run):
        raise AssertionError("the open-invoice queue was walked")

    monkeypatch.setattr(payment, "open_invoices", walked)
    run = _run(engine, c, records, date(2025, 3, 1))
    assert run.invoices["INV-1"].balance == 0


def test_invoices_paid_by_name_leave_the_queue_at_the_next_fifo_payment(engine):
    c = make_contract()
    events, day = [], date(2025, 1, 2)
    for i in range(1, 401):  # 400 invoices, each paid by name the same day, but INV-7
        events.append(invoice(f"i{i}", f"INV-{i}", day.isoformat(), "10.00"))
        if i != 7:
            events.append(pay(f"p{i}", day.isoformat(), "10.00", f"INV-{i}"))
        day += timedelta(days=1)
    events.append(invoice("i401", "INV-401", day.isoformat(), "10.00"))
    events.append(pay("fifo", day.isoformat(), "15.00"))  # names no invoice: INV-7 first, then INV-401
    run = _run(engine, c, make_records(c, events), day)
    assert run.invoices["INV-7"].balance == 0
    assert run.invoices["INV-401"].balance == 5
    assert [p.event_id for p in run.invoices["INV-7"].payments] == ["fifo"]
    queue = run.state("payment")["open"]
    assert [entry[-1] for entry in queue] == ["INV-7", "INV-401"]  # the 399 paid ones dropped
    assert [inv.id for inv in payment.open_invoices(run)] == ["INV-401"]
    assert [entry[-1] for entry in queue] == ["INV-401"]
