"""Builders for engine tests: small contracts and events as plain data."""

from __future__ import annotations

import copy

import pytest

from contractrules.model import parse_contract, parse_events

BASE = {
    "id": "acme-web",
    "parties": {"provider": {"id": "studio", "name": "Studio S.L."}, "client": {"id": "acme", "name": "ACME S.A."}},
    "timezone": "Europe/Madrid",
    "currency": "EUR",
    "start": "2025-01-01",
    "terms": {
        "billing": {"cycle": "monthly", "anchor_day": 1, "fee": "600.00"},
        "payment": {"terms_days": 30},
        "late_penalty": {
            "grace_days": 15,
            "interest": {"annual_rate": "0.10", "day_count": "act/365", "accrues_from": "due"},
            "fixed_fee": "40.00",
        },
        "termination": {"notice_days": 30, "effective": "end_of_cycle"},
    },
}


def make_contract(contract_id: str = "acme-web", **overrides):
    data = copy.deepcopy(BASE)
    data["id"] = contract_id
    data.update(overrides)
    return parse_contract(data)


def make_records(contract, events: list[dict]):
    return parse_events(((i + 1, e) for i, e in enumerate(events)), contract).records


def invoice(eid: str, inv: str, at: str, amount: str = "600.00", period: str | None = None) -> dict:
    e = {
        "id": eid,
        "type": "invoice_issued",
        "at": at,
        "invoice": inv,
        "amount": amount,
        "by": "studio",
        "channel": "email",
    }
    if period:
        e["period"] = period
    return e


def payment(eid: str, at: str, amount: str, inv: str | None = None) -> dict:
    e = {"id": eid, "type": "payment_received", "at": at, "amount": amount, "by": "acme"}
    if inv:
        e["invoice"] = inv
    return e


@pytest.fixture(scope="module")
def engine():
    from contractrules.engine.engine import Engine

    with Engine() as e:
        yield e
