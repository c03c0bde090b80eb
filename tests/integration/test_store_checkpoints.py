"""Saved checkpoints in the store (cr_checkpoints, store/live.py), on both backends: a
restarted process resumes a long history from its saved state, delivers only the events
after it, and answers exactly as a full replay; a backdated event, another format or key,
or another tenant's checkpoint is never used."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

import contractrules as cr
from benchmarks.workload import generate
from contractrules.engine import checkpoint
from contractrules.engine.engine import Engine
from contractrules.store import checkpoints, open_store

YEARS = 10


@pytest.fixture(scope="module")
def history():
    """Ten years of one workload contract: (document, events in event order, their records, as_of)."""
    w = generate(1, 12 * YEARS, seed=3)
    doc = w.contracts[0]
    contract = cr.parse_contract(doc)
    by_id = {e["id"]: e for e in w.events[doc["id"]]}
    records = sorted(cr.parse_events([(None, e) for e in by_id.values()], contract).records, key=Engine().order_key)
    return doc, [by_id[r.event.id] for r in records], records, w.as_of


@pytest.fixture
def delivered(monkeypatch):
    """How many events Engine.advance delivers (every engine), reset by the test."""
    count = [0]
    advance = Engine.advance

    def counting(self, run, events, until):
        count[0] += len(events)
        return advance(self, run, events, until)

    monkeypatch.setattr(Engine, "advance", counting)
    return count


def _rows(store, contract_id):
    with store._read() as tx:
        return tx.all(
            "SELECT tenant, contract_version, slot, position, format FROM cr_checkpoints "
            "WHERE contract_id = ? ORDER BY tenant, slot",
            (contract_id,),
        )


def _session(store, contract_id, tenant="default"):
    return next(live for (t, cid, _), live in store._live._sessions.items() if (t, cid) == (tenant, contract_id))


def _replay(doc, events, as_of):
    return cr.evaluate(doc, events, as_of).to_json()


def _first_store(url, doc, events, as_of, **kw):
    """A process that ingests ``events``, answers once and closes (saving its checkpoint)."""
    with open_store(url, migrate=True, **kw) as store:
        store.ingest(doc, events)
        first = store.evaluate(doc["id"], as_of).to_json()
    return first


def test_a_restart_resumes_from_the_saved_checkpoint_and_delivers_only_the_new_events(store_url, history, delivered):
    doc, events, _, as_of = history
    cid, n = doc["id"], len(events) - 12
    assert _first_store(store_url, doc, events[:n], as_of) == _replay(doc, events[:n], as_of)
    with open_store(store_url) as store:
        rows = _rows(store, cid)
        assert [(t, v, slot) for t, v, slot, _, _ in rows] == [("default", 1, 0), ("default", 1, 1), ("default", 1, 2)]
        positions = [r[3] for r in rows]  # the live point, the checkpoint before, one at least 64 events before
        assert positions[0] == n and n > positions[1] > positions[2] and positions[2] <= n - 64
        assert {r[4] for r in rows} == {checkpoint.format_tag()}
        store.append_events(cid, events[n:])  # twelve more, after the checkpoint in event order
        delivered[0] = 0
        got = store.evaluate(cid, as_of).to_json()
        assert (delivered[0], _session(store, cid).resumed_from) == (12, n)
    assert got == _replay(doc, events, as_of)
    # a second restart: the close saved the new live point, nothing left to deliver
    with open_store(store_url) as store:
        delivered[0] = 0
        assert store.evaluate(cid, as_of).to_json() == got
        assert delivered[0] == 0
        assert _rows(store, cid)[0][3] == len(events)


def _ordered(store, cid, as_of):
    """The stored events up to ``as_of`` in event order (as a live contract holds them)."""
    return sorted(store.snapshot(cid, as_of).load.records, key=Engine().order_key)


def _payment_between(records, after: int, before: int, ident: str) -> dict:
    """A payment dated after the first ``after`` events and before the first ``before``."""
    day = next(r.local_date for r in records[after:] if r.local_date > records[after - 1].local_date)
    assert day < records[before - 1].local_date
    return {"id": ident, "type": "payment_received", "at": day.isoformat(), "by": "acme", "amount": "75.00"}


@pytest.mark.parametrize("slot", [1, 2])
def test_a_backdated_event_ingested_after_the_save_falls_back_to_an_older_checkpoint(
    store_url, history, delivered, slot
):
    doc, events, records, as_of = history
    cid = doc["id"]
    _first_store(store_url, doc, events, as_of)
    with open_store(store_url) as store:  # after slot's checkpoint, before the newer one's: resumed from slot's
        positions = [r[3] for r in _rows(store, cid)]
        late = _payment_between(_ordered(store, cid, as_of), positions[slot], positions[slot - 1], "late-pay")
        store.append_events(cid, [late])
        want = _replay(doc, [*events, late], as_of)
        assert want != _replay(doc, events, as_of)
        delivered[0] = 0
        assert store.evaluate(cid, as_of).to_json() == want
        assert (_session(store, cid).resumed_from, delivered[0]) == (positions[slot], len(events) + 1 - positions[slot])
    # dated before every saved checkpoint: the first question replays from the start
    with open_store(store_url) as store:
        early = {**late, "id": "early-pay", "at": records[10].local_date.isoformat()}
        store.append_events(cid, [early])
        want = _replay(doc, [*events, late, early], as_of)
        delivered[0] = 0
        assert store.evaluate(cid, as_of).to_json() == want
        assert (_session(store, cid).resumed_from, delivered[0]) == (0, len(events) + 2)


def test_a_checkpoint_of_another_format_or_key_is_ignored(store_url, history, delivered, monkeypatch):
    doc, events, _, as_of = history
    cid = doc["id"]
    monkeypatch.setattr(checkpoint, "FORMAT", checkpoint.FORMAT + 1)  # saved by another layout
    _first_store(store_url, doc, events, as_of)
    monkeypatch.setattr(checkpoint, "FORMAT", checkpoint.FORMAT - 1)
    with open_store(store_url) as store:
        assert {r[4] for r in _rows(store, cid)} == {f"{checkpoint.FORMAT + 1}/{cr.__version__}"}
        want = _replay(doc, events, as_of)
        delivered[0] = 0
        assert store.evaluate(cid, as_of).to_json() == want
        assert (_session(store, cid).resumed_from, delivered[0]) == (0, len(events))
    # the close saved this format's checkpoint (same slots); sealed with another key it is refused too
    monkeypatch.setenv(checkpoints.KEY_ENV, "a secret")
    with open_store(store_url) as store:
        assert store.evaluate(cid, as_of).to_json() == _replay(doc, events, as_of)
        assert _session(store, cid).resumed_from == 0
        store._live._saved.clear()  # make the close save again, sealed with the key
    with open_store(store_url) as store:
        store.evaluate(cid, as_of)
        assert _session(store, cid).resumed_from == len(events)
    monkeypatch.setenv(checkpoints.KEY_ENV, "another secret")
    with open_store(store_url) as store:
        want = _replay(doc, events, as_of)
        delivered[0] = 0
        assert store.evaluate(cid, as_of).to_json() == want
        assert (_session(store, cid).resumed_from, delivered[0]) == (0, len(events))


def test_a_checkpoint_is_never_used_for_another_tenant(store_url, history, delivered):
    doc, events, _, as_of = history
    cid = doc["id"]
    _first_store(store_url, doc, events, as_of, tenant="alpha")
    with open_store(store_url, tenant="beta") as store:
        store.ingest(doc, events)  # the same contract id and the same events under another tenant
        want = _replay(doc, events, as_of)
        delivered[0] = 0
        assert store.evaluate(cid, as_of).to_json() == want
        assert (_session(store, cid, "beta").resumed_from, delivered[0]) == (0, len(events))
        store.tenant = "alpha"
        delivered[0] = 0
        store.evaluate(cid, as_of)
        assert (_session(store, cid, "alpha").resumed_from, delivered[0]) == (len(events), 0)
    with open_store(store_url) as store:
        assert [(t, pos) for t, _, _, pos, _ in _rows(store, cid) if pos == len(events)] == [
            ("alpha", len(events)),
            ("beta", len(events)),
        ]


def test_a_long_first_replay_is_saved_at_once_and_a_failed_save_changes_no_answer(
    store_url, history, monkeypatch, caplog
):
    doc, events, _, as_of = history
    cid = doc["id"]
    with open_store(store_url, migrate=True) as store:
        store._live.save_every = 200
        store.ingest(doc, events[:150])
        store.evaluate(cid, as_of)
        assert _rows(store, cid) == []  # 150 events: not yet
        store.append_events(cid, events[150:])
        store.evaluate(cid, as_of)
        assert _rows(store, cid)[0][3] == len(events)  # saved after the question, before any close

        def broken(*args, **kwargs):
            raise cr.StoreError("disk full")

        monkeypatch.setattr(checkpoints, "save", broken)
        store._live.capacity = 0  # every session is evicted (and saved) at once
        day = (as_of - timedelta(days=1)).isoformat()
        extra = [{"id": "last-pay", "type": "payment_received", "at": day, "by": "acme", "amount": "75.00"}]
        store.append_events(cid, extra)
        with caplog.at_level(logging.WARNING, logger="contractrules.store.live"):
            got = store.evaluate(cid, as_of).to_json()
        assert "cannot save the checkpoint" in caplog.text
        assert got == _replay(doc, [*events, *extra], as_of)


def test_checkpoint_rows_are_a_cache_anyone_may_delete(store_url, history):
    doc, events, _, as_of = history
    cid = doc["id"]
    _first_store(store_url, doc, events, as_of)
    with open_store(store_url) as store:
        with store._cache_write() as tx:
            tx.run("DELETE FROM cr_checkpoints")
        assert store.evaluate(cid, as_of).to_json() == _replay(doc, events, as_of)
        assert _session(store, cid).resumed_from == 0


def test_checkpoints_can_be_turned_off(store_url, history, monkeypatch):
    doc, events, _, as_of = history
    cid = doc["id"]
    monkeypatch.setenv(checkpoints.SWITCH_ENV, "off")
    _first_store(store_url, doc, events, as_of)
    with open_store(store_url) as store:
        assert _rows(store, cid) == []
    monkeypatch.setenv(checkpoints.SWITCH_ENV, "on")
    with open_store(store_url) as store:
        store.evaluate(cid, as_of)
    with open_store(store_url) as store:
        assert [r[3] for r in _rows(store, cid)][:1] == [len(events)]


def test_a_new_contract_version_is_never_answered_from_the_old_ones_state(store_url, history):
    """A version recorded later changes the contract that answers, even as of dates its
    version 1 still decides (the new terms become dated terms): neither the live session
    nor the checkpoint saved for the old document is used for it."""
    doc, events, _, as_of = history
    cid = doc["id"]
    _first_store(store_url, doc, events, as_of)
    with open_store(store_url) as store:
        store.evaluate(cid, as_of)
        old = _session(store, cid)
        assert old.resumed_from == len(events)  # the control: valid until the new version
        fee = {**doc["terms"]["billing"], "fee": "999.00"}
        amended = {**doc, "terms": {**doc["terms"], "billing": fee}}
        store.add_contract(amended, effective_from=as_of + timedelta(days=30))  # version 1 still answers
        want = cr.evaluate(store.snapshot(cid, as_of).contract, events, as_of).to_json()
        assert store.evaluate(cid, as_of).to_json() == want
        new = _session(store, cid)
        assert new is not old and new.contract != old.contract and new.resumed_from == 0


def test_two_processes_saving_at_once_lose_nothing(store_url, history):
    """Two store objects (as two processes) close at the same time: each saves in its own
    short transaction; whichever wins, the rows are valid and the next start resumes."""
    import threading

    doc, events, _, as_of = history
    cid = doc["id"]
    with open_store(store_url, migrate=True) as store:
        store.ingest(doc, events)
    ready = threading.Barrier(2)
    errors: list[BaseException] = []

    def process() -> None:
        try:
            store = open_store(store_url)
            store.evaluate(cid, as_of)
            ready.wait()
            store.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=process) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(store_url) as store:
        assert store.evaluate(cid, as_of).to_json() == _replay(doc, events, as_of)
        assert _session(store, cid).resumed_from == len(events)


def test_restarts_between_batches_answer_like_the_files(store_url):
    """Every golden scenario fed in random batches (most of them backdated), with the
    process restarted at random between them (every session saved, whatever its size):
    each answer equals a replay of the files, whether it resumed or replayed."""
    import json
    import random
    from pathlib import Path

    from contractrules.model import load_contract, load_events

    def start():
        store = open_store(store_url)
        store._live.save_min = 1
        return store

    rng = random.Random(12)
    resumed: list[int] = []
    scenarios = Path(__file__).resolve().parents[1] / "scenarios"
    with open_store(store_url, migrate=True):
        pass
    store = start()
    try:
        for folder in sorted(p.parent for p in scenarios.glob("*/expected.json")):
            contract = load_contract(folder / "contract.yaml")
            events_file = next(folder / n for n in ("events.jsonl", "events.json") if (folder / n).exists())
            raw = [
                r.event.model_dump(mode="json", exclude_none=True) for r in load_events(events_file, contract).records
            ]
            ordered = [e for e in raw if e["type"] == "invoice_issued"] + [
                e for e in raw if e["type"] != "invoice_issued"
            ]
            days = [
                date.fromisoformat(c["as_of"]) for c in json.loads((folder / "expected.json").read_text())["checks"]
            ]
            store.add_contract(contract)
            sent: list[dict] = []
            while ordered:
                size = rng.randint(1, 4)
                store.append_events(contract.id, ordered[:size])
                sent, ordered = sent + ordered[:size], ordered[size:]
                restart = rng.random() < 0.5
                if restart:  # the close saves, the next question resumes
                    store.close()
                    store = start()
                day = rng.choice(days)
                want = cr.evaluate(contract, sent, day).to_json()
                assert store.evaluate(contract.id, day).to_json() == want, (folder.name, day, len(sent))
                if restart:
                    resumed.append(_session(store, contract.id).resumed_from)
    finally:
        store.close()
    assert sum(1 for r in resumed if r) > len(resumed) // 3  # the resumes were exercised, not only replays
