"""Random penalty histories asked on later and later days (compiler/penalty_horizon.py).

Invoices paid, partly paid, credited, disputed, reminded, their grace extended or their
penalty waived, under the contract's own rate or the Spanish statutory one (its table
ends 2026-06-30): posted to a live contract, then asked on increasing days up to two
years later, with the half-year boundaries among them. Every answer — interest tables
included (``Answer.detail``) — must be a full replay's.
"""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

import contractrules as cr
from contractrules import live as live_module
from contractrules.compiler import penalty
from contractrules.engine.engine import Engine
from tests.strategies import STREAM_START, event_streams, stream_contract_data

LIVE_ENGINE = Engine()
FRESH = Engine()
BOUNDARIES = [date(2025, 7, 1), date(2026, 1, 1), date(2026, 7, 1)]


@st.composite
def contracts(draw) -> dict:
    data = stream_contract_data("horizon")
    terms = data["terms"]
    lp = terms["late_penalty"]
    lp["grace_days"] = draw(st.sampled_from([0, 5, 15]))
    lp["interest"]["accrues_from"] = draw(st.sampled_from(["due", "grace_end"]))
    lp["allocation"] = draw(st.sampled_from(["principal_first", "interest_first"]))
    if draw(st.booleans()):
        lp["reminder_days"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        lp["disputes_suspend"] = False
    if draw(st.booleans()):
        lp["cap"] = "0.01"
    if draw(st.booleans()):
        data["jurisdiction"] = "ES"
        if draw(st.booleans()):
            del terms["late_penalty"]  # the statutory regime: the half-year rate
    return data


@st.composite
def histories(draw) -> list[dict]:
    """An event stream, with a waiver of the penalty on one invoice at times."""
    events = draw(event_streams())
    invoices = sorted({e["invoice"] for e in events if e["type"] == "invoice_issued"})
    if draw(st.booleans()):
        day = STREAM_START + timedelta(days=draw(st.integers(0, 240)))
        invoice = draw(st.sampled_from(invoices))
        events.append(
            {
                "id": "w-pen",
                "type": "waiver",
                "at": day.isoformat(),
                "by": "studio",
                "clause": "late_penalty",
                "invoice": invoice,
            }
        )
    return events


@settings(max_examples=40, deadline=None)
@given(
    data=contracts(),
    events=histories(),
    offsets=st.lists(st.integers(0, 730), min_size=3, max_size=10),
    block=st.sampled_from([None, 1]),
)
def test_answers_on_later_and_later_days_equal_full_replays(data, events, offsets, block) -> None:
    contract = cr.parse_contract(data)
    records = cr.parse_events([(None, e) for e in events], contract).records
    last = max(r.local_date for r in records)
    days = sorted(
        {last + timedelta(days=k) for k in offsets} | {d + timedelta(days=k) for d in BOUNDARIES for k in (-1, 0)}
    )
    patches = [mock.patch.object(live_module, "VERIFY_RESTORE", True)]
    if block is not None:
        patches.append(mock.patch.object(penalty, "BLOCK", block))
    for p in patches:
        p.start()
    try:
        with cr.open_contract(contract, engine=LIVE_ENGINE) as live:
            live.post(events)
            for day in days:
                if day < contract.start:
                    continue
                got, want = live.answer(day), FRESH.evaluate(contract, records, day)
                assert got == want, day
                assert got.detail["interest"] == want.detail["interest"], day
    finally:
        for p in patches:
            p.stop()
