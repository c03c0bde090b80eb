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
        True,
        date(2025, 9, 15),
        "5.26",
        "45.26",
        "600.00",
    )
    assert store.evaluate(CID, "2025-10-01").penalty("INV-07").total == "45.26"
    assert store.contract_ids() == [CID]


def test_the_same_events_again_are_a_no_op(store, contract_doc):
    first = store.ingest(contract_doc, [INVOICE, payment("p1", "2025-09-20")])
    assert (first.added, first.duplicates, first.new_version) == (2, 0, True)
    # the same content, written differently: "600.0" is 600.00, "provider" is studio
    same = [{**INVOICE, "amount": "600.0", "by": "provider"}, payment("p1", "2025-09-20", amount="600")]
    again = store.ingest(contract_doc, same)
    assert (again.added, again.duplicates, again.new_version, again.batch, again.recorded_at) == (
        0,
        2,
        False,
        None,
        None,
    )
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
    path = write_jsonl(
        tmp_path / "batch.jsonl", [INVOICE, payment("p1", "2025-09-01", amount="-5.00"), reminder("r1", "2025-09-02")]
    )
    with pytest.raises(EventError) as caught:
        store.append_events(CID, path)
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.field, issue.event_id) == (path, 2, "amount", "p1")
    assert store.counts()["events"] == 0
    # malformed JSON is named by its line too, together with every other problem
    (tmp_path / "broken.jsonl").write_text(
        json.dumps(INVOICE) + "\n{not json\n" + json.dumps({**INVOICE, "id": "e2", "at": "2025-08-01T10:00:00"}) + "\n"
    )
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
        store.append_events(
            CID, [{**INVOICE, "by": "mallory"}, {"id": "x", "type": "invoice_sent", "at": "2025-08-01"}]
        )
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
        ("e1", stamps[0], results[0].batch),
        ("r1", stamps[1], results[1].batch),
        ("r2", stamps[2], results[2].batch),
        ("r3", stamps[3], results[3].batch),
    ]
    assert [e.seq for e in log] == sorted(e.seq for e in log)
    assert log[0].recorded_at.tzinfo == UTC and log[0].local_date == date(2025, 7, 31) and log[0].line == 1


def test_the_log_is_append_only_in_the_database(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    from contractrules.errors import StoreError

    with pytest.raises(StoreError, match="append-only"):
        with store._write(CID) as tx:  # what a careless migration or script might try
            tx.run("DELETE FROM cr_events")
    assert store.counts()["events"] == 1


def _invoices(path, n: int):
    with path.open("w") as f:
        for i in range(n):
            f.write(
                json.dumps(
                    {
                        "id": f"w{i}",
                        "type": "invoice_issued",
                        "at": "2025-02-01",
                        "by": "studio",
                        "invoice": f"INV-{i}",
                        "amount": "10.00",
                        "channel": "email",
                    }
                )
                + "\n"
            )
    return path


def test_issue15_14_ingest_memory_does_not_grow_with_the_batch(store, tmp_path):
    """Ingest reads, checks and stages a batch chunk by chunk inside its transaction: its
    peak memory is the same for 2,000 events and for 8,000, new or ingested again (the
    whole batch used to be held: ~1.7 KB an event new, ~2.2 KB again). Invoices only,
    the worst case: each one is also looked up among the issued invoices."""
    import tracemalloc

    from tests.integration.batch_fixtures import contract

    peaks: dict[tuple[int, str], float] = {}
    for n in (2000, 8000):
        cid = f"acme-{n}"
        store.add_contract(contract(cid))
        path = _invoices(tmp_path / f"{n}.jsonl", n)
        for attempt in ("new", "again"):
            tracemalloc.start()
            try:
                result = store.ingest(None, path, contract_id=cid)
                peaks[(n, attempt)] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        assert (result.added, result.duplicates) == (0, n)
        assert store.counts()["events"] == {2000: 2000, 8000: 10000}[n]
    for attempt in ("new", "again"):
        grown = peaks[(8000, attempt)] - peaks[(2000, attempt)]
        # measured: ~1.3 MB new and ~1.1 MB again for both sizes (a chunk of 500 objects);
        # holding the batch, 6,000 more events would add ~10 MB
        assert grown < 256 * 1024, (attempt, peaks)
        assert peaks[(8000, attempt)] < 4 * 1024 * 1024, (attempt, peaks)


def test_a_batch_across_chunks_is_judged_whole_and_says_what_the_file_loader_says(
    store, contract_doc, tmp_path, monkeypatch
):
    """Chunks of 2 events: repeats, reused ids and invoices issued twice are found across
    chunks, with the loader's own issues for the same file, and nothing is written."""
    from contractrules.model import load_events
    from contractrules.store import checks

    monkeypatch.setattr(checks, "CHUNK", 2)
    store.add_contract(contract_doc)
    events = [
        INVOICE,
        reminder("r1", "2025-09-01"),
        payment("p1", "2025-09-10"),
        reminder("r1", "2025-09-01"),  # line 4: an identical repeat (dropped)
        invoice("e2", "INV-08"),
        {**INVOICE, "amount": "650.00"},  # line 6: e1 reused, other content
        invoice("e3", "INV-08"),  # line 7: INV-08 issued again (line 5)
        payment("p2", "2025-09-11", amount="-1.00"),
    ]  # line 8: a bad amount
    path = write_jsonl(tmp_path / "batch.jsonl", events)
    with pytest.raises(EventError) as caught:
        store.append_events(CID, path)
    got = [(i.line, i.field, i.message) for i in caught.value.issues]
    with pytest.raises(EventError) as loaded:
        load_events(path, store.versions(CID)[-1].contract)
    assert got == [(i.line, i.field, i.message) for i in loaded.value.issues]
    assert [(line, field) for line, field, _ in got] == [(1, "id"), (6, "id"), (7, "invoice"), (8, "amount")]
    assert "reused with different content on line 6" in got[0][2]
    assert "already issued by event 'e2' (line 5)" in got[2][2]
    assert store.counts()["events"] == 0 and store.counts()["batches"] == 1
    # without the bad lines: written whole, in input order, the repeat counted once
    good = write_jsonl(tmp_path / "good.jsonl", events[:5] + [payment("p2", "2025-09-11")])
    result = store.append_events(CID, good)
    assert (result.added, result.duplicates) == (5, 1)
    assert [(e.event_id, e.line) for e in store.log(CID)] == [("e1", 1), ("r1", 2), ("p1", 3), ("e2", 5), ("p2", 6)]
    # again, in another order: every event is a repeat, nothing is written
    again = store.append_events(CID, list(reversed(events[:5])))
    assert (again.added, again.duplicates, again.batch) == (0, 5, None)


def test_a_conflict_in_the_last_chunk_writes_nothing_of_the_earlier_ones(store, contract_doc, monkeypatch):
    from contractrules.store import checks

    monkeypatch.setattr(checks, "CHUNK", 3)
    store.ingest(contract_doc, [INVOICE])
    before = store.counts()
    batch = [reminder(f"r{n}", "2025-09-01") for n in range(1, 8)] + [
        invoice("e9", "INV-07"),
        {**INVOICE, "channel": "letter"},
    ]
    with pytest.raises(ConflictError) as caught:
        store.append_events(CID, batch)
    assert [(i.line, i.field) for i in caught.value.issues] == [(8, "invoice"), (9, "id")]
    assert "already issued by stored event 'e1'" in caught.value.issues[0].message
    assert 'channel: stored "email", given "letter"' in caught.value.issues[1].message
    assert store.counts() == before
    seen = []
    result = store.append_events(CID, batch[:7], progress=seen.append)
    assert (result.added, seen) == (7, [3, 6, 7])


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)  # planner statistics: PostgreSQL only
def test_a_large_batch_refreshes_the_logs_statistics_on_postgres(store, contract_doc, monkeypatch):
    """Stale statistics made PostgreSQL look ids up through the wrong index (a re-ingest
    of 200,000 events scanned the whole log per chunk): a large batch runs ANALYZE."""
    assert store.backend == "postgres"
    from contractrules.store import staging

    def tuples() -> float:
        with store._read() as tx:
            return tx.one("SELECT reltuples FROM pg_class WHERE oid = 'cr_events'::regclass")[0]

    monkeypatch.setattr(staging, "ANALYZE_AFTER", 3)
    store.ingest(contract_doc, [INVOICE, reminder("r1", "2025-09-01")])
    assert tuples() < 0  # two events: below the threshold, never analysed
    store.append_events(CID, [reminder(f"r{n}", "2025-09-02") for n in range(2, 5)])
    assert tuples() == 5


def test_ids_and_invoices_are_looked_up_in_the_batchs_tenant_only(store, contract_doc):
    """Two tenants holding the same contract id: one's stored ids and invoices are neither
    repeats nor conflicts for the other's batches."""
    store.ingest(contract_doc, [INVOICE, reminder("r1", "2025-09-01"), invoice("e8", "INV-08")])
    store.tenant = "beta"
    other = store.ingest(
        contract_doc, [{**INVOICE, "amount": "650.00"}, reminder("r1", "2025-09-01"), invoice("e9", "INV-08")]
    )
    assert (other.added, other.duplicates) == (3, 0)
    with pytest.raises(EventError) as caught:
        store.append_events(CID, [invoice("e5", "INV-07")])
    assert "already issued by stored event 'e1'" in caught.value.issues[0].message
    assert [(e.event_id, e.batch) for e in store.log(CID)] == [(e, other.batch) for e in ("e1", "r1", "e9")]
    assert store.penalty(CID, "INV-07", date(2025, 10, 1)).invoice_balance == "650.00"
    store.tenant = "default"
    assert [e.event_id for e in store.log(CID)] == ["e1", "r1", "e8"]
    assert store.penalty(CID, "INV-07", date(2025, 10, 1)).invoice_balance == "600.00"
