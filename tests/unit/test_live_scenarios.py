"""Every golden scenario through a live contract, one event at a time (SPEC §9).

A billing system posts each event as it happens and asks as of that day; an answer as of
a later day (the scenario's check dates) delivers the clock ticks in between to the live
state. Every answer must equal a full replay (``Engine.evaluate``) of the events posted so
far, and every finish must leave the live state byte for byte as it found it
(``live.VERIFY_RESTORE``): the goldens cover every clause, which the random contracts of
``tests/properties/test_live_stateful.py`` do not (scope, service levels).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from unittest import mock

import pytest

import contractrules as cr
from contractrules import live as live_module
from contractrules.engine.engine import Engine
from contractrules.model import load_contract, load_events

SCENARIOS = Path(__file__).parent.parent / "scenarios"
NAMES = sorted(p.parent.name for p in SCENARIOS.glob("*/expected.json"))


@pytest.fixture(scope="module")
def engines():
    with Engine() as live_engine, Engine() as fresh:
        yield live_engine, fresh


@pytest.mark.parametrize("name", NAMES)
def test_live_answers_equal_full_replays_event_by_event(name: str, engines) -> None:
    live_engine, fresh = engines
    folder = SCENARIOS / name
    contract = load_contract(folder / "contract.yaml")
    records = sorted(load_events(folder / "events.jsonl", contract).records, key=fresh.order_key)
    checks = [date.fromisoformat(c["as_of"]) for c in json.loads((folder / "expected.json").read_text())["checks"]]
    with mock.patch.object(live_module, "VERIFY_RESTORE", True), cr.open_contract(contract, engine=live_engine) as live:
        for i, rec in enumerate(records):
            live.post([rec])
            day = rec.local_date
            if day >= contract.start:
                assert live.answer(day) == fresh.evaluate(contract, records[: i + 1], day), (name, rec.event.id)
        invoices = sorted({r.event.invoice for r in records if r.event.type == "invoice_issued"})
        for day in sorted(checks):
            assert live.answer(day) == fresh.evaluate(contract, records, day), (name, day)
            live._answers.clear()  # penalty answers built on their own, not from the cached answer
            for invoice in [*invoices, "NOT-ISSUED"]:
                assert _outcome(live.penalty, invoice, day) == _outcome(
                    cr.penalty, contract, records, invoice, day, engine=fresh
                ), (name, day, invoice)


def _outcome(call, *args, **kwargs) -> object:
    """The answer, or the error's type and text."""
    try:
        return call(*args, **kwargs)
    except cr.ContractRulesError as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize("seed", [3, 8])
def test_a_workload_history_posted_in_random_chunks_answers_like_replays(seed: int, engines) -> None:
    """Three years of the benchmark workload (monthly cycles, payments on time, late and
    partial, FIFO, recurring scope work): posted mostly in order in chunks of 1 to 30
    events, some shuffled (backdated), asked as of the newest day, a later day (deadlines
    delivered for good) and an earlier one (from a checkpoint) — every answer a replay's."""
    import random
    from datetime import timedelta

    from benchmarks.workload import generate

    live_engine, fresh = engines
    w = generate(1, 36, seed=seed)
    contract = cr.parse_contract(w.contracts[0])
    events = w.events[contract.id]
    days = [r.local_date for r in cr.parse_events([(None, e) for e in events], contract).records]
    order = sorted(range(len(events)), key=lambda i: days[i])
    rnd = random.Random(seed)
    posted: list[dict] = []
    asked = 0
    with mock.patch.object(live_module, "VERIFY_RESTORE", True), cr.open_contract(contract, engine=live_engine) as live:
        i = 0
        while i < len(order):
            n = rnd.choice([1, 1, 1, 3, 8, 30])
            chunk = [events[j] for j in order[i : i + n]]
            if posted and rnd.random() < 0.15:
                rnd.shuffle(chunk)
            live.post(chunk)
            posted += chunk
            i += n
            last = max(days[j] for j in order[:i])
            for day in (last, last + timedelta(days=rnd.randint(1, 40)), last - timedelta(days=rnd.randint(1, 200))):
                if rnd.random() < 0.3:
                    assert live.answer(day) == fresh.evaluate(
                        contract, cr.parse_events([(None, e) for e in posted], contract).records, day
                    ), day
                    asked += 1
    assert asked > 10


DAILY = [
    "scope_recurring_scan_missed_cycle",
    "scope_discharged_cycle_never_missed",
    "scope_recurring_due_moved_by_termination_late_work",
    "billing_arrears_due_never_before_notice",
    "billing_monthly_arrears_unbilled_cycles",
    "payment_fifo_without_invoice",
    "late_penalty_answers_over_time",
]


@pytest.mark.parametrize("block", [None, 1])
@pytest.mark.parametrize("name", DAILY)
def test_live_answers_day_after_day_equal_full_replays(name: str, block: int | None, engines, monkeypatch) -> None:
    """Asked every day with nothing new posted (a billing system's daily question): what a
    live answer reuses from the day before (a clause's finish, a block of invoices or
    cycles, one invoice) must follow the day — a cycle that becomes missed, an invoice that
    falls due, an open invoice's text — exactly as a full replay does. With blocks of one
    invoice or cycle, every block boundary is exercised (a block whose last cycle just
    ended is reused while the next cycle's block is new)."""
    if block is not None:
        from contractrules.compiler import billing, payment, penalty, scope

        for module in (billing, payment, penalty, scope):
            monkeypatch.setattr(module, "BLOCK", block)
    live_engine, fresh = engines
    folder = SCENARIOS / name
    contract = load_contract(folder / "contract.yaml")
    records = sorted(load_events(folder / "events.jsonl", contract).records, key=fresh.order_key)
    with mock.patch.object(live_module, "VERIFY_RESTORE", True), cr.open_contract(contract, engine=live_engine) as live:
        for i, rec in enumerate(records):
            live.post([rec])
            start = max(rec.local_date, contract.start).toordinal()
            until = records[i + 1].local_date.toordinal() if i + 1 < len(records) else start + 75
            for ordinal in range(start, max(start + 1, min(until, start + 75))):
                day = date.fromordinal(ordinal)
                assert live.answer(day) == fresh.evaluate(contract, records[: i + 1], day), (name, day)
