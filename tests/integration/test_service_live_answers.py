"""The service answers from live sessions (contractrules/service/answers.py), and a live
answer equals a full replay of the same stored events, on both backends."""

from __future__ import annotations

import json
from datetime import date

from contractrules import evaluate
from contractrules.service import answers

EXAMPLE = "rulesets/examples/website-care"


def _events() -> list[dict]:
    with open(f"{EXAMPLE}/events.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_service_answers_come_from_one_live_session_and_equal_a_replay(store) -> None:
    events = _events()
    first, rest = events[: len(events) // 2], events[len(events) // 2 :]
    store.ingest(f"{EXAMPLE}/contract.yaml", first)
    cid = store.contract_ids()[0]
    try:
        early = answers.answer(store, cid, date(2025, 10, 1))
        assert early == evaluate(f"{EXAMPLE}/contract.yaml", first, as_of=date(2025, 10, 1))
        sessions = answers._LIVE[store.url]
        assert len(sessions) == 1  # the contract's live session is kept

        store.append_events(cid, rest)
        late = answers.answer(store, cid, date(2025, 10, 1))
        assert len(sessions) == 1  # the same session took the new events
        full = evaluate(f"{EXAMPLE}/contract.yaml", events, as_of=date(2025, 10, 1))
        assert late == full
        assert late.penalty("INV-2025-07").total == full.penalty("INV-2025-07").total
        # a past as_of after the live point moved on: from a checkpoint, still a replay's answer
        assert answers.answer(store, cid, date(2025, 6, 15)) == evaluate(
            f"{EXAMPLE}/contract.yaml", events, as_of=date(2025, 6, 15)
        )
    finally:
        answers.close()
    # the shutdown saved the session's checkpoint: a restarted service resumes from it
    with store._read() as tx:
        assert tx.all("SELECT slot, position FROM cr_checkpoints WHERE contract_id = ?", (cid,))[0] == (0, len(events))
    try:
        later = date(2025, 10, 2)  # not a kept answer
        assert answers.answer(store, cid, later) == evaluate(f"{EXAMPLE}/contract.yaml", events, as_of=later)
        (resumed,) = answers._LIVE[store.url]._sessions.values()
        assert resumed.resumed_from == len(events)
    finally:
        answers.close()


def test_service_and_store_penalties_of_new_questions_equal_a_replay(store) -> None:
    """A penalty question not kept is answered by the live session building only what the
    penalty answer reads: the same answer as contractrules.penalty, the same error for an
    invoice not issued (the service's 404), through the service and through the store."""
    import contractrules as cr
    from contractrules.errors import InputError

    events = _events()
    store.ingest(f"{EXAMPLE}/contract.yaml", events)
    cid = store.contract_ids()[0]
    invoices = sorted({e["invoice"] for e in events if e["type"] == "invoice_issued"})
    try:
        for day in (date(2025, 10, 1), date(2025, 10, 9), date(2025, 12, 31)):
            for invoice in [*invoices[-3:], "INV-NONE"]:
                for ask in (answers.penalty, lambda s, c, i, d: s.penalty(c, i, d)):
                    try:
                        got: object = ask(store, cid, invoice, day)
                    except InputError as exc:
                        got = str(exc)
                    try:
                        want: object = cr.penalty(f"{EXAMPLE}/contract.yaml", events, invoice, day)
                    except InputError as exc:
                        want = str(exc)
                    assert got == want, (day, invoice)
    finally:
        answers.close()
