"""Dated terms (SPEC §6.7), against an independent oracle: a fee amended at any date.

For a monthly contract with a random anchor and a fee amended from a random day, every
billing obligation asks the fee in force on its cycle's start (old before the amendment
date, new from it), and cites the amendment exactly when it uses the new fee.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contractrules.engine.engine import Engine
from contractrules.model import parse_contract

ENGINE = Engine()


@settings(max_examples=40, deadline=None)
@given(
    anchor=st.integers(1, 31),
    offset=st.integers(0, 400),
    horizon=st.integers(30, 500),
    timing=st.sampled_from(["advance", "arrears"]),
)
def test_each_cycle_asks_the_fee_in_force_on_its_start(anchor, offset, horizon, timing):
    start = date(2024, 1, 1)
    effective = start + timedelta(days=offset)
    c = parse_contract(
        {
            "id": "p",
            "parties": {"provider": {"id": "s"}, "client": {"id": "c"}},
            "timezone": "UTC",
            "currency": "EUR",
            "start": start.isoformat(),
            "terms": {"billing": {"fee": "100.00", "anchor_day": anchor, "timing": timing}},
            "amendments": [
                {
                    "id": "up",
                    "effective": effective.isoformat(),
                    "agreed_by": ["s", "c"],
                    "terms": {"billing": {"fee": "130.00"}},
                }
            ],
        }
    )
    answer = ENGINE.evaluate(c, [], start + timedelta(days=horizon))
    billing = [o for o in answer.obligations if o.kind == "billing"]
    assert billing
    for ob in billing:
        first = date.fromisoformat(ob.id.split(":", 1)[1])
        new = first >= effective
        assert ob.amount == ("130.00" if new else "100.00"), (ob.id, effective)
        assert (ob.clause == "amendments[up].terms.billing") == new
        assert ("amendment:up" in ob.caused_by) == new


@settings(max_examples=40, deadline=None)
@given(
    issued=st.integers(0, 60),
    eff=st.integers(0, 200),
    asked=st.integers(1, 200),
    basis2=st.sampled_from(["act/365", "act/360"]),
)
def test_interest_is_split_at_the_amendment_date(issued, eff, asked, basis2):
    from decimal import ROUND_HALF_UP, Decimal

    from contractrules.model import parse_events

    start = date(2025, 1, 1)
    c = parse_contract(
        {
            "id": "q",
            "parties": {"provider": {"id": "s"}, "client": {"id": "c"}},
            "timezone": "UTC",
            "currency": "EUR",
            "start": start.isoformat(),
            "terms": {"payment": {"terms_days": 30}, "late_penalty": {"interest": {"annual_rate": "0.08"}}},
            "amendments": [
                {
                    "id": "r",
                    "effective": (start + timedelta(days=eff)).isoformat(),
                    "agreed_by": ["s", "c"],
                    "terms": {"late_penalty": {"interest": {"annual_rate": "0.12", "day_count": basis2}}},
                }
            ],
        }
    )
    inv_day = start + timedelta(days=issued)
    records = parse_events(
        [
            (
                1,
                {
                    "id": "i",
                    "type": "invoice_issued",
                    "at": inv_day.isoformat(),
                    "by": "s",
                    "invoice": "I",
                    "amount": "1000.00",
                },
            )
        ],
        c,
    ).records
    due = inv_day + timedelta(days=30)
    as_of = due + timedelta(days=asked)
    answer = ENGINE.evaluate(c, records, as_of)
    effective = start + timedelta(days=eff)
    # oracle: day by day, each day's rate and basis; invoice-date terms only decide accrual start (due)
    total = Decimal(0)
    day = due + timedelta(days=1)
    while day <= as_of:
        rate, basis = (
            (Decimal("0.12"), 360 if basis2 == "act/360" else 365) if day >= effective else (Decimal("0.08"), 365)
        )
        total += Decimal("1000.00") * rate / basis
        day += timedelta(days=1)
    assert answer.penalties[0].interest == str(total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
