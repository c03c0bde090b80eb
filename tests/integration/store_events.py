"""Events for the store tests, on the golden late-penalty contract.

Contract ``golden-penalty-over-time`` (tests/scenarios/late_penalty_answers_over_time):
30 payment days, 15 grace days, 10 % a year act/365, fixed fee 40.00. Invoice INV-07
of 600.00 issued 2025-07-31 is due 2025-08-30 (the issue day is not counted); its
penalty is enforceable from 2025-09-15 (due + 15 + 1). Interest runs from 2025-08-31 on
the balance at the end of each day: 600.00 × 0.10 / 365 = 0.164384 a day.
"""

from __future__ import annotations

CID = "golden-penalty-over-time"

INVOICE = {
    "id": "e1",
    "type": "invoice_issued",
    "at": "2025-07-31",
    "by": "studio",
    "channel": "email",
    "invoice": "INV-07",
    "amount": "600.00",
}


def payment(event_id: str, at: str, amount: str = "600.00", invoice: str | None = "INV-07") -> dict:
    event = {"id": event_id, "type": "payment_received", "at": at, "amount": amount}
    if invoice is not None:
        event["invoice"] = invoice
    return event


def invoice(event_id: str, number: str, at: str = "2025-07-31", amount: str = "600.00") -> dict:
    return {"id": event_id, "type": "invoice_issued", "at": at, "by": "studio", "invoice": number, "amount": amount}


def reminder(event_id: str, at: str, number: str = "INV-07") -> dict:
    return {"id": event_id, "type": "reminder_sent", "at": at, "by": "studio", "invoice": number}


def write_jsonl(path, events) -> str:
    import json

    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return str(path)
