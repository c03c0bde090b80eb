"""Issue 15 item 5: one Engine shared by several threads gives every thread the answer a
private engine gives (runs take turns on the engine's lock); never a wrong answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from contractrules.engine.engine import Engine
from tests.engine.conftest import invoice, make_contract, make_records, payment

AS_OF = date(2025, 6, 1)


def _cases():
    """Eight contracts with different payment histories (and so different answers)."""
    cases = []
    for n in range(8):
        c = make_contract(f"acme-{n}")
        events = [invoice("e1", "INV-1", "2025-01-31"), invoice("e2", "INV-2", "2025-02-28")]
        if n % 2:
            events.append(payment("p1", "2025-02-10", "600.00", "INV-1"))
        if n % 3 == 0:
            events.append(payment("p2", f"2025-04-{10 + n:02d}", "300.00"))
        cases.append((c, make_records(c, events)))
    return cases


def test_a_shared_engine_answers_like_a_private_one_under_threads():
    cases = _cases()
    with Engine() as private:
        expected = [private.evaluate(c, r, AS_OF).to_json() for c, r in cases]
    assert len(set(expected)) > 2  # the cases really differ
    shared = Engine()
    start = threading.Barrier(8)

    def work(k: int) -> list[tuple[int, str]]:
        start.wait()
        out = []
        for i in range(40):
            j = (k + i) % len(cases)
            c, r = cases[j]
            out.append((j, shared.evaluate(c, r, AS_OF).to_json()))
        return out

    try:
        with ThreadPoolExecutor(8) as pool:
            results = [x for part in pool.map(work, range(8)) for x in part]
    finally:
        shared.close()
    assert len(results) == 320
    wrong = [j for j, answer in results if answer != expected[j]]
    assert wrong == []
    assert shared.live_sessions() == 0


def test_runs_on_one_engine_take_turns():
    """While one thread runs, another thread's run waits for the lock (not interleaved)."""
    engine = Engine()
    c = make_contract("acme-x")
    records = make_records(c, [invoice("e1", "INV-1", "2025-01-31")])
    inside = threading.Event()
    release = threading.Event()
    real = engine._run_document
    active = []

    def slow(doc, recs, as_of):
        active.append(1)
        assert len(active) == 1, "two runs on one engine at once"
        inside.set()
        release.wait(5)
        try:
            return real(doc, recs, as_of)
        finally:
            active.pop()

    engine._run_document = slow
    t = threading.Thread(target=engine.evaluate, args=(c, records, AS_OF))
    t.start()
    assert inside.wait(5)
    second = threading.Thread(target=engine.evaluate, args=(c, records, AS_OF))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting for the first run
    release.set()
    t.join(5)
    second.join(5)
    assert not t.is_alive() and not second.is_alive()
    engine.close()
