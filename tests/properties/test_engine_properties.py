"""Engine invariants (Hypothesis): answers depend on what happened and when, nothing else."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contractrules.engine.engine import Engine
from contractrules.model import parse_contract, parse_events
from tests.strategies import as_of_dates, event_streams, stream_contract_data

CONTRACT = parse_contract(stream_contract_data())


@pytest.fixture(scope="module")
def engine():
    with Engine() as e:
        yield e


def answer(engine, events: list[dict], as_of: date, contract=CONTRACT) -> dict:
    records = parse_events(((i + 1, e) for i, e in enumerate(events)), contract).records
    return engine.evaluate(contract, records, as_of).to_dict()


@given(events=event_streams(), as_of=as_of_dates, data=st.data())
def test_shuffling_the_input_never_changes_the_answer(engine, events, as_of, data):
    """Event order independence: the engine sorts by event time, not input order."""
    shuffled = data.draw(st.permutations(events))
    assert answer(engine, shuffled, as_of) == answer(engine, events, as_of)


@given(events=event_streams(), as_of=as_of_dates, data=st.data())
def test_an_identical_duplicate_never_changes_the_answer(engine, events, as_of, data):
    """Idempotent replay: an event repeated with the same id and content is dropped."""
    again = data.draw(st.sampled_from(events))
    position = data.draw(st.integers(0, len(events)))
    replayed = [*events[:position], dict(again), *events[position:]]
    assert answer(engine, replayed, as_of) == answer(engine, events, as_of)


@given(events=event_streams(), as_of=as_of_dates)
def test_answers_as_of_d_ignore_events_after_d(engine, events, as_of):
    """No look-ahead: events dated after D cannot change the answer as of D."""
    records = parse_events(((i + 1, e) for i, e in enumerate(events)), CONTRACT).records
    known = [r for r in records if r.local_date <= as_of]
    full = engine.evaluate(CONTRACT, records, as_of).to_dict()
    assert engine.evaluate(CONTRACT, known, as_of).to_dict() == full


@given(events=event_streams(), d1=as_of_dates, gap=st.integers(1, 200))
def test_a_fulfilled_obligation_stays_fulfilled(engine, events, d1, gap):
    """Monotone fulfilment: what is fulfilled as of D is fulfilled at every later date."""
    early = answer(engine, events, d1)
    late = {o["id"]: o for o in answer(engine, events, d1 + timedelta(days=gap))["obligations"]}
    for ob in early["obligations"]:
        if ob["status"] == "fulfilled":
            assert late[ob["id"]]["status"] == "fulfilled", ob["id"]
            assert late[ob["id"]]["fulfilled_on"] == ob["fulfilled_on"]


@given(events=event_streams(), d1=as_of_dates, gap=st.integers(1, 200))
def test_interest_never_decreases_while_the_balance_is_unchanged(engine, events, d1, gap):
    """Interest accrues: when nothing happens after D1 but time passing, it can only grow."""
    records = parse_events(((i + 1, e) for i, e in enumerate(events)), CONTRACT).records
    known = [r for r in records if r.local_date <= d1]
    a1 = engine.evaluate(CONTRACT, known, d1).to_dict()
    a2 = engine.evaluate(CONTRACT, known, d1 + timedelta(days=gap)).to_dict()
    later = {p["invoice"]: p for p in a2["penalties"]}
    for pen in a1["penalties"]:
        assert Decimal(later[pen["invoice"]]["interest"]) >= Decimal(pen["interest"]), pen["invoice"]


@given(a=event_streams(), b=event_streams(), as_of=as_of_dates)
def test_no_cross_contract_leakage(a, b, as_of):
    """A contract's answer is the same alone or evaluated among others (colliding ids too)."""
    contract_a = parse_contract(stream_contract_data("acme-139599"))
    contract_b = parse_contract(stream_contract_data("acme-322382"))  # same FNV-1a hash as A
    with Engine() as alone:
        expected = answer(alone, a, as_of, contract_a)
    with Engine() as shared:
        answer(shared, b, as_of, contract_b)
        got = answer(shared, a, as_of, contract_a)
        answer(shared, b, as_of, contract_b)
        again = answer(shared, a, as_of, contract_a)
    assert got == expected == again
