"""Ingest on both backends: idempotent, atomic per batch, validated, recorded by the store."""

from __future__ import annotations

import json
from datetime import UTC, date

import pytest

from contractrules.errors import ConflictError, ContractError, EventError, InputError, UnknownContractError
from contractrules.store import SCHEMA_VERSION
from tests.integration.store_events import CID, INVOICE, invoice, payment, reminder, write_jsonl

NOTHING = {"contracts": 0, "versions": 0, "events": 0, "batches": 0}


def test_a_new_store_is_empty_at_the_current_schema(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.counts() == NOTHING
    assert store.contract_ids() == []


def test_contract_and_events_answer_like_the_golden_scenario(store, contract_doc):
    first = store.add_contract(contract_doc)
    assert (first.contract_id, first.version, first.new_version, first.added) == (CID, 1, True, 0)
    second = store.append_events(CID, [INVOICE])
    assert (second.version, second.new_version, second.added, second.duplicates) == (1, False, 1, 0)
    # 32 days (2025-08-31 .. 2025-10-01) × 0.164384 = 5.26; + 40.00 fixed fee
    pen = store.penalty(CID, "INV-07", date(2025, 10, 1))
    assert (pen.enforceable, pen.enforceable_from, pen.interest, pen.total, pen.invoice_balance) == (
        True, date(2025, 9, 15), "5.26", "45.26", "600.00")
    assert store.evaluate(CID, "2025-10-01").penalty("INV-07").total == "45.26"
    assert store.contract_ids() == [CID]


def test_the_same_events_again_are_a_no_op(store, contract_doc):
    first = store.ingest(contract_doc, [INVOICE, payment("p1", "2025-09-20")])
    assert (first.added, first.duplicates, first.new_version) == (2, 0, True)
    # the same content, written differently: "600.0" is 600.00, "provider" is studio
    same = [{**INVOICE, "amount": "600.0", "by": "provider"}, payment("p1", "2025-09-20", amount="600")]
    again = store.ingest(contract_doc, same)
    assert (again.added, again.duplicates, again.new_version, again.batch, again.recorded_at) == (
        0, 2, False, None, None)
    assert store.counts() == {"contracts": 1, "versions": 1, "events": 2, "batches": 1}


def test_an_id_reused_with_other_content_is_refused_and_nothing_is_written(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    before = store.counts()
    with pytest.raises(ConflictError) as caught:
        store.append_events(CID, [reminder("r1", "2025-09-01"), {**INVOICE, "amount": "650.00"}])
    (issue,) = caught.value.issues
    assert (issue.line, issue.field, issue.event_id) == (2, "id", "e1")
    assert 'amount: stored "600.00", given "650.00"' in issue.message
    assert store.counts() == before
    assert [e.event_id for e in store.log(CID)] == ["e1"]


def test_a_batch_with_one_bad_line_writes_nothing_and_names_it(store, contract_doc, tmp_path):
    store.add_contract(contract_doc)
    path = write_jsonl(tmp_path / "batch.jsonl", [INVOICE, payment("p1", "2025-09-01", amount="-5.00"),
                                                   reminder("r1", "2025-09-02")])
    with pytest.raises(EventError) as caught:
        store.append_events(CID, path)
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.field, issue.event_id) == (path, 2, "amount", "p1")
    assert store.counts()["events"] == 0
    # malformed JSON is named by its line too, together with every other problem
    (tmp_path / "broken.jsonl").write_text(json.dumps(INVOICE) + "\n{not json\n" + json.dumps(
        {**INVOICE, "id": "e2", "at": "2025-08-01T10:00:00"}) + "\n")
    with pytest.raises(EventError) as caught:
        store.append_events(CID, tmp_path / "broken.jsonl")
    assert [(i.line, i.field) for i in caught.value.issues] == [(2, ""), (3, "at")]
    assert "timestamp without offset" in caught.value.issues[1].message
    assert store.counts()["events"] == 0


def test_a_payment_may_refer_to_an_invoice_of_an_earlier_batch_or_of_a_later_one(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    assert store.append_events(CID, [payment("p1", "2025-09-10")]).added == 1
    # an invoice not issued (yet) is not bad input (SPEC §5 v2): the payment is held for it
    assert store.append_events(CID, [payment("p2", "2025-09-11", invoice="INV-99")]).added == 1
    credit = store.evaluate(CID, "2025-10-01").unapplied_credit
    assert (credit.amount, credit.caused_by) == ("600.00", ["p2"])


def test_an_invoice_already_stored_cannot_be_issued_again(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    with pytest.raises(EventError) as caught:
        store.append_events(CID, [invoice("e9", "INV-07")])
    (issue,) = caught.value.issues
    assert (issue.line, issue.field) == (1, "invoice")
    assert "already issued by stored event 'e1'" in issue.message


def test_events_for_an_unknown_contract_are_refused(store):
    with pytest.raises(UnknownContractError):
        store.append_events("no-such-contract", [INVOICE])
    with pytest.raises(UnknownContractError):
        store.evaluate("no-such-contract", date(2025, 10, 1))
    assert store.counts() == NOTHING


def test_a_contract_id_change_is_refused(store, contract_doc):
    store.add_contract(contract_doc)
    renamed = {**contract_doc, "id": "another-id"}
    with pytest.raises(ConflictError) as caught:
        store.add_contract(renamed, contract_id=CID)
    assert caught.value.issues[0].field == "id"
    assert "contract id change" in caught.value.issues[0].message
    with pytest.raises(ConflictError):
        store.ingest(renamed, [INVOICE], contract_id=CID)
    assert store.contract_ids() == [CID]
    assert store.counts() == {"contracts": 1, "versions": 1, "events": 0, "batches": 1}


def test_input_that_fails_validation_is_refused(store, contract_doc):
    with pytest.raises(ContractError):
        store.add_contract({**contract_doc, "currency": "EURO"})
    assert store.counts() == NOTHING
    store.add_contract(contract_doc)
    with pytest.raises(EventError) as caught:
        store.append_events(CID, [{**INVOICE, "by": "mallory"},
                                  {"id": "x", "type": "invoice_sent", "at": "2025-08-01"}])
    assert [(i.line, i.field) for i in caught.value.issues] == [(1, "by"), (2, "type")]
    with pytest.raises(InputError):
        store.append_events(CID, [{**INVOICE, "amount": "600.001"}])
    assert store.counts()["events"] == 0


def test_recorded_at_is_the_stores_clock_and_increases_batch_by_batch(store, contract_doc):
    results = [store.ingest(contract_doc, [INVOICE])]
    results += [store.append_events(CID, [reminder(f"r{n}", f"2025-09-0{n}")]) for n in range(1, 4)]
    stamps = [r.recorded_at for r in results]
    assert all(s.tzinfo is not None and s.utcoffset().total_seconds() == 0 for s in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    log = store.log(CID)
    assert [(e.event_id, e.recorded_at, e.batch) for e in log] == [
        ("e1", stamps[0], results[0].batch), ("r1", stamps[1], results[1].batch),
        ("r2", stamps[2], results[2].batch), ("r3", stamps[3], results[3].batch)]
    assert [e.seq for e in log] == sorted(e.seq for e in log)
    assert log[0].recorded_at.tzinfo == UTC and log[0].local_date == date(2025, 7, 31) and log[0].line == 1


def test_the_log_is_append_only_in_the_database(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    from contractrules.errors import StoreError

    with pytest.raises(StoreError, match="append-only"):
        with store._write(CID) as tx:  # what a careless migration or script might try
            tx.run("DELETE FROM cr_events")
    assert store.counts()["events"] == 1


def test_issue15_14_ingest_streams_its_file(tmp_path):
    """Ingest reads the file line by line and validates as it reads: no line text and no
    parsed dict is held for the whole batch, only the validated events; the stored
    invoices a batch refers to are re-read lazily."""
    import tracemalloc

    from contractrules.store import open_store
    from tests.integration.batch_fixtures import contract

    n = 5000
    path = tmp_path / "many.jsonl"
    with path.open("w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"w{i}", "type": "invoice_issued", "at": "2025-02-01", "by": "studio",
                                "invoice": f"INV-{i}", "amount": "10.00", "channel": "email"}) + "\n")
    peaks = []
    with open_store(f"sqlite:///{tmp_path / 's.db'}", migrate=True) as s:
        s.add_contract(contract("acme-x"))
        for _ in range(2):  # new, then again (every event already stored)
            tracemalloc.start()
            try:
                result = s.ingest(None, path, contract_id="acme-x")
                peaks.append(tracemalloc.get_traced_memory()[1] / n)
            finally:
                tracemalloc.stop()
    assert (result.added, result.duplicates) == (0, n)
    # measured 1.7 KB and 2.2 KB an event (were 2.8 KB and 4.2 KB)
    assert peaks[0] < 2200 and peaks[1] < 2700, peaks
