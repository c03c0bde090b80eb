"""The statement's interest table is the engine's interest (Hypothesis, random histories).

For random invoices, payments and credit notes under a contract rate (act/365, or
act/360 with a cap) or the Spanish statutory rate (no late_penalty clause, rate per
half-year), as of a random day after the due date:
- the segments cover exactly the days SPEC §6.4 counts (d > due, d <= as_of), contiguous,
  in order, each of constant balance and rate, neighbours different;
- their unrounded rows sum exactly (as rationals) to a day-by-day oracle computed here from
  the events, and to the table's unrounded figure;
- rounding once half-up, after the cap, gives the answer's ``interest``;
- the report renders them (one row per segment).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from contractrules.api import evaluate
from contractrules.documents import report_from_answer
from contractrules.engine.engine import Engine
from contractrules.model import parse_contract
from contractrules.money import money_context
from contractrules.statutory import table as law_table

ES_RATES = law_table("ES").rates
START = date(2024, 1, 1)

REGIMES = {
    "rate365": {
        "grace_days": 5,
        "interest": {"annual_rate": "0.10", "day_count": "act/365", "accrues_from": "due"},
        "fixed_fee": "40.00",
    },
    "rate360cap": {
        "grace_days": 0,
        "interest": {"annual_rate": "0.35", "day_count": "act/360", "accrues_from": "due"},
        "cap": "0.02",
    },
    "grace_end": {
        "grace_days": 12,
        "interest": {"annual_rate": "0.08", "day_count": "act/365", "accrues_from": "grace_end"},
    },
    "statutory": None,
}


def _contract(regime: str):
    terms = {"payment": {"terms_days": 30}}
    data = {
        "id": "t",
        "parties": {"provider": {"id": "p"}, "client": {"id": "c"}},
        "timezone": "Europe/Madrid",
        "currency": "EUR",
        "start": START.isoformat(),
        "terms": terms,
    }
    if REGIMES[regime] is None:
        data["jurisdiction"] = "ES"
    else:
        terms["late_penalty"] = REGIMES[regime]
    return parse_contract(data)


CONTRACTS = {name: _contract(name) for name in REGIMES}
cents = st.integers(min_value=1, max_value=500_000_00)
moves = st.lists(
    st.tuples(st.integers(0, 500), st.integers(1, 300_000_00), st.sampled_from(["pay", "credit"])), max_size=6
)


def _money(c: int) -> Decimal:
    return Decimal(c) / 100


@pytest.fixture(scope="module")
def engine():
    with Engine() as e:
        yield e


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    regime=st.sampled_from(sorted(REGIMES)),
    issued=st.integers(0, 700),
    amount=cents,
    history=moves,
    later=st.integers(1, 700),
)
def test_interest_table_is_the_engines_interest(engine, regime, issued, amount, history, later):
    contract = CONTRACTS[regime]
    day = START + timedelta(days=issued)
    events = [
        {
            "id": "i1",
            "type": "invoice_issued",
            "at": day.isoformat(),
            "invoice": "INV-1",
            "amount": str(_money(amount)),
            "by": "p",
            "channel": "email",
        }
    ]
    for n, (offset, c, kind) in enumerate(history):
        e = {
            "id": f"m{n}",
            "at": (day + timedelta(days=offset)).isoformat(),
            "invoice": "INV-1",
            "amount": str(_money(c)),
            "by": "p" if kind == "credit" else "c",
            "channel": "email",
        }
        e["type"] = "credit_note" if kind == "credit" else "payment_received"
        events.append(e)
    due = day + timedelta(days=30)
    as_of = due + timedelta(days=later)
    answer = evaluate(contract, events, as_of, engine=engine)
    pen = answer.penalty("INV-1")
    assume(pen is not None)  # paid on time: no late payment, no table
    spec = REGIMES[regime]
    first = due + timedelta(days=1)
    if spec is not None and spec["interest"]["accrues_from"] == "grace_end":
        first = due + timedelta(days=spec["grace_days"] + 1)
    tab = answer.detail["interest"].get("INV-1")
    if tab is None:  # no interest day yet: no table, no interest
        assert as_of < first and pen.interest == "0.00"
        return
    basis = 360 if spec is not None and spec["interest"]["day_count"] == "act/360" else 365
    segs = tab.segments
    event(f"{regime}: {min(len(segs), 3)}+ segments" + (", capped" if tab.capped else ""))
    # coverage: exactly the days d with first <= d <= as_of, contiguous, in order
    assert (tab.first, tab.last, tab.basis) == (first, as_of, basis)
    assert segs, "a table has at least one segment"
    if segs:
        assert segs[0].start == first and segs[-1].end == as_of
        assert all(b.start == a.end + timedelta(days=1) for a, b in zip(segs, segs[1:], strict=False))
        assert sum(s.days for s in segs) == (as_of - first).days + 1
        assert all(
            (a.balance, a.rate, a.source) != (b.balance, b.rate, b.source) for a, b in zip(segs, segs[1:], strict=False)
        )
    # the oracle: day by day, from the events, as exact rationals
    credits = [(date.fromisoformat(e["at"]), Decimal(e["amount"])) for e in events[1:] if e["type"] == "credit_note"]
    paid = [(date.fromisoformat(e["at"]), Decimal(e["amount"])) for e in events[1:] if e["type"] == "payment_received"]
    oracle = Fraction(0)
    d = first
    while d <= as_of:
        left = max(
            _money(amount) - sum(a for w, a in credits if w <= d) - sum(a for w, a in paid if w <= d), Decimal(0)
        )
        rate = ES_RATES.at(d).rate if spec is None else Decimal(spec["interest"]["annual_rate"])
        oracle += Fraction(left) * Fraction(rate) / basis
        d += timedelta(days=1)
    rows = sum((Fraction(s.product) / basis for s in segs), Fraction(0))
    assert rows == oracle
    with money_context():  # the engine's precision (issue 15: 80 digits, not Python's 28)
        assert sum((s.product for s in segs), Decimal(0)) / basis == tab.unrounded
        assert all(s.interest == s.product / basis for s in segs)
    # rounding and cap give the answer's figure (unless no penalty is owed at all)
    capped = min(tab.unrounded, tab.cap) if tab.cap is not None else tab.unrounded
    if pen.reasons and pen.reasons[0].startswith("paid in full"):
        assert pen.interest == "0.00"
    else:
        assert Decimal(pen.interest) == capped.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert tab.capped == (tab.cap is not None and tab.unrounded > tab.cap)
        html = report_from_answer(contract, answer, lang="es")
        assert html.count('<td class="nw">') >= 2 * len(segs)
