"""Bitemporal answers on both backends: as_of (event time) x known_at (recording time),
contract versions, and late-arriving events."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from contractrules.api import evaluate as evaluate_files
from contractrules.errors import ConflictError, UnknownContractError
from contractrules.model import load_contract, load_events
from contractrules.store.values import TICK
from tests.integration.store_events import CID, INVOICE, invoice, payment

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DAYS = [date(2025, 9, 1), date(2025, 9, 15), date(2025, 9, 19), date(2025, 10, 1)]


def _penalties(store, **known):
    return {d: store.penalty(CID, "INV-07", d, **known) for d in DAYS}


def test_a_late_arriving_payment_changes_only_answers_after_its_date(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    before = _penalties(store)
    # paid 2025-09-20, recorded afterwards: after enforceability (2025-09-15), so the penalty stays
    store.append_events(CID, [payment("p1", "2025-09-20")])
    after = _penalties(store)
    for day in DAYS[:-1]:  # dates before the payment: exactly the same answers
        assert after[day] == before[day]
        assert store.evaluate(CID, day).to_json() == store.evaluate(CID, day, known_at=None).to_json()
    old, new = before[date(2025, 10, 1)], after[date(2025, 10, 1)]
    assert (old.invoice_balance, old.interest, old.total, old.balance) == ("600.00", "5.26", "45.26", "45.26")
    # interest on the balance at the end of 2025-08-31 .. 2025-09-19 (20 days): 3.29; + 40.00
    assert (new.invoice_balance, new.interest, new.total, new.enforceable) == ("0.00", "3.29", "43.29", True)
    assert (new.paid, new.balance) == ("0.00", "43.29")  # the payment named the invoice: principal_first


def test_known_at_answers_with_what_was_recorded_then(store, contract_doc):
    first = store.ingest(contract_doc, [INVOICE])
    second = store.append_events(CID, [payment("p1", "2025-09-10")])  # paid before enforceable
    now = store.penalty(CID, "INV-07", date(2025, 10, 1))
    assert (now.enforceable, now.total) == (False, "0.00")
    assert now.reasons == ["paid in full on 2025-09-10, before the penalty became enforceable: no penalty is owed"]
    for known in (first.recorded_at, second.recorded_at - TICK):
        then = store.penalty(CID, "INV-07", date(2025, 10, 1), known_at=known)
        assert (then.enforceable, then.enforceable_from, then.total) == (True, date(2025, 9, 15), "45.26")
    assert store.penalty(CID, "INV-07", date(2025, 10, 1), known_at=second.recorded_at) == now
    # a plain date means "by the end of that day, UTC"
    assert store.penalty(CID, "INV-07", date(2025, 10, 1), known_at=second.recorded_at.date()) == now
    with pytest.raises(UnknownContractError, match="not recorded yet"):
        store.evaluate(CID, date(2025, 10, 1), known_at=first.recorded_at.date() - timedelta(days=1))
    with pytest.raises(UnknownContractError, match="not recorded yet"):
        store.evaluate(CID, date(2025, 10, 1), known_at=first.recorded_at - TICK)


def test_known_at_must_carry_an_offset(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    from contractrules.errors import InputError

    with pytest.raises(InputError, match="offset"):
        store.evaluate(CID, date(2025, 10, 1), known_at="2025-10-01T09:00:00")
    later = store.evaluate(CID, date(2025, 10, 1), known_at="2199-01-01T00:00:00+02:00")
    assert later.penalty("INV-07").total == "45.26"


def _amended(doc: dict, grace: int) -> dict:
    terms = {**doc["terms"], "late_penalty": {**doc["terms"]["late_penalty"], "grace_days": grace}}
    return {**doc, "terms": terms}


LATER = invoice("e9", "INV-09", "2025-09-05")  # due 2025-10-05


def test_an_amendment_is_a_new_version_and_old_answers_stay_reproducible(store, contract_doc):
    v1 = store.ingest(contract_doc, [INVOICE, LATER])
    old = store.penalty(CID, "INV-07", date(2025, 10, 1))
    with pytest.raises(ConflictError, match="effective_from"):
        store.add_contract(_amended(contract_doc, 30))  # a changed document needs its date
    v2 = store.add_contract(_amended(contract_doc, 30), effective_from=date(2025, 9, 1))
    assert (v2.version, v2.new_version, v2.added) == (2, True, 0)
    assert [(v.version, v.effective_from) for v in store.versions(CID)] == [
        (1, date(2025, 7, 1)),
        (2, date(2025, 9, 1)),
    ]
    assert store.snapshot(CID, date(2025, 8, 31)).version.version == 1
    assert store.snapshot(CID, date(2025, 9, 1)).version.version == 2
    # SPEC v2 §6.7: the grace of an invoice is the one in force on its issue date. INV-07
    # (2025-07-31) keeps 15 days -> enforceable from 2025-09-15, as before the amendment;
    # INV-09 (2025-09-05, due 2025-10-05) has 30 -> enforceable from 2025-11-05 (15 would give 10-21).
    assert store.penalty(CID, "INV-07", date(2025, 10, 1)) == old
    assert old.enforceable_from == date(2025, 9, 15)
    new = store.penalty(CID, "INV-09", date(2025, 11, 5))
    assert (new.enforceable, new.enforceable_from) == (True, date(2025, 11, 5))
    assert store.penalty(CID, "INV-09", date(2025, 11, 4)).enforceable is False
    cited = {o.id: o for o in store.evaluate(CID, date(2025, 11, 5)).obligations}["penalty:INV-09"]
    assert (cited.clause, cited.caused_by[-1]) == ("amendments[version-2].terms.late_penalty", "amendment:version-2")
    # what we answered before the amendment was recorded, we can still answer
    before = store.penalty(CID, "INV-09", date(2025, 11, 5), known_at=v1.recorded_at)
    assert before.enforceable_from == date(2025, 10, 21)
    assert store.snapshot(CID, date(2025, 10, 1), known_at=v2.recorded_at - TICK).version.version == 1
    # the same amendment again is a no-op; the current document again is a no-op
    assert store.add_contract(_amended(contract_doc, 30), effective_from="2025-09-01").new_version is False
    assert store.add_contract(_amended(contract_doc, 30)).new_version is False
    assert store.counts()["versions"] == 2


def test_a_correction_with_the_same_date_supersedes_the_amendment(store, contract_doc):
    store.ingest(contract_doc, [INVOICE, LATER])
    store.add_contract(_amended(contract_doc, 30), effective_from=date(2025, 9, 1))
    v3 = store.add_contract(_amended(contract_doc, 20), effective_from=date(2025, 9, 1))
    assert v3.version == 3
    # grace 20 for INV-09: 2025-10-05 + 21 = 2025-10-26
    assert store.penalty(CID, "INV-09", date(2025, 11, 1)).enforceable_from == date(2025, 10, 26)
    assert store.penalty(CID, "INV-09", date(2025, 11, 1), known_at=v3.recorded_at - TICK).enforceable_from == (
        date(2025, 11, 5)
    )


def test_a_version_cannot_change_the_schedule_or_add_a_clause(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    added = {**contract_doc, "terms": {**contract_doc["terms"], "termination": {"notice_days": 10}}}
    if "termination" in contract_doc["terms"]:
        added = {**contract_doc, "terms": {k: v for k, v in contract_doc["terms"].items() if k != "termination"}}
    with pytest.raises(ConflictError) as caught:
        store.add_contract(added, effective_from=date(2025, 9, 1))
    assert [i.field for i in caught.value.issues] == ["terms.termination"]
    moved = {**contract_doc, "start": "2025-07-02"}
    with pytest.raises(ConflictError) as caught:
        store.add_contract(moved, effective_from=date(2025, 9, 1))
    assert [i.field for i in caught.value.issues] == ["start"]
    assert store.counts()["versions"] == 1


def test_an_amendment_cannot_change_what_stored_events_were_checked_against(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    moved = {**contract_doc, "currency": "USD", "timezone": "America/New_York"}
    with pytest.raises(ConflictError) as caught:
        store.add_contract(moved, effective_from=date(2025, 9, 1))
    assert [i.field for i in caught.value.issues] == ["currency", "timezone"]
    assert store.counts()["versions"] == 1


def _scenario_folders():
    return sorted(p.parent for p in SCENARIOS.glob("*/expected.json"))


@pytest.mark.parametrize("seed", [1, 2])
def test_events_in_any_order_and_batching_answer_like_the_files(store, seed):
    """Every golden scenario, its events shuffled into random batches: store answers == file answers."""
    rng = random.Random(seed)
    for folder in _scenario_folders():
        contract = load_contract(folder / "contract.yaml")
        events_file = next(folder / n for n in ("events.jsonl", "events.json") if (folder / n).exists())
        load = load_events(events_file, contract)
        raw = [r.event.model_dump(mode="json", exclude_none=True) for r in load.records]
        # invoices first (a payment must find its invoice in the store), otherwise any order
        invoices = [e for e in raw if e["type"] == "invoice_issued"]
        rest = [e for e in raw if e["type"] != "invoice_issued"]
        rng.shuffle(invoices)
        rng.shuffle(rest)
        ordered = invoices + rest
        store.add_contract(contract)
        while ordered:
            size = rng.randint(1, 3)
            store.append_events(contract.id, ordered[:size])
            ordered = ordered[size:]
        checks = json.loads((folder / "expected.json").read_text())["checks"]
        for check in checks:
            day = date.fromisoformat(check["as_of"])
            want = evaluate_files(contract, load, day).to_json()
            assert store.evaluate(contract.id, day).to_json() == want, (folder.name, day)


def test_questions_between_batches_answer_from_live_sessions_like_the_files(store):
    """A long-running process: questions after every batch (backdated ones included) come
    from the contract's live session (an LRU of 2 here) and equal a replay of the files."""
    rng = random.Random(5)
    store._live.capacity = 2
    folders = _scenario_folders()[:6]
    for folder in folders:
        contract = load_contract(folder / "contract.yaml")
        events_file = next(folder / n for n in ("events.jsonl", "events.json") if (folder / n).exists())
        load = load_events(events_file, contract)
        raw = [r.event.model_dump(mode="json", exclude_none=True) for r in load.records]
        ordered = [e for e in raw if e["type"] == "invoice_issued"] + [e for e in raw if e["type"] != "invoice_issued"]
        days = [date.fromisoformat(c["as_of"]) for c in json.loads((folder / "expected.json").read_text())["checks"]]
        store.add_contract(contract)
        sent: list[dict] = []
        while ordered:
            size = rng.randint(1, 3)
            store.append_events(contract.id, ordered[:size])
            sent, ordered = sent + ordered[:size], ordered[size:]
            day = rng.choice(days)
            want = evaluate_files(contract, sent, day).to_json()
            assert store.evaluate(contract.id, day).to_json() == want, (folder.name, day, len(sent))
        assert len(store._live) <= 2
    assert len(store._live) == 2


def test_live_sessions_of_two_tenants_never_mix(store, contract_doc):
    """The same contract id under two tenants: two live sessions, each with its own events."""
    store.ingest(contract_doc, [INVOICE])
    day = date(2025, 10, 1)
    unpaid = store.penalty(CID, "INV-07", day)
    store.tenant = "other"
    store.ingest(contract_doc, [INVOICE, payment("p1", "2025-09-20")])
    paid = store.penalty(CID, "INV-07", day)
    store.tenant = "default"
    assert store.penalty(CID, "INV-07", day) == unpaid
    assert (unpaid.invoice_balance, paid.invoice_balance) == ("600.00", "0.00")
    assert len(store._live) == 2
