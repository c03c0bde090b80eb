"""kill -9 of the server while clients post: after a restart every request that got a
2xx is in the store, and every other one is either wholly there or not at all."""

from __future__ import annotations

import threading
import time

import httpx

from tests.integration.service_fixtures import contract_doc, start_service

CLIENTS, PER_BATCH, MAX_BATCHES = 4, 400, 60
CID = "crash"


def _batch(c: int, b: int) -> list[dict]:
    inv = f"C{c}-B{b}"
    events = [
        {
            "id": f"{inv}-inv",
            "type": "invoice_issued",
            "at": "2025-07-01",
            "by": "studio",
            "invoice": inv,
            "amount": "100.00",
        }
    ]
    events += [
        {"id": f"{inv}-r{k}", "type": "reminder_sent", "at": "2025-09-01", "by": "studio", "invoice": inv}
        for k in range(PER_BATCH - 1)
    ]
    return events


def test_a_killed_server_leaves_only_whole_requests(store_url, tmp_path):
    svc = start_service(store_url, tmp_path)
    try:
        with svc.client("alpha") as api:
            assert api.put(f"/contracts/{CID}", json=contract_doc(CID)).status_code == 201
        outcome: dict[tuple[int, int], int | None] = {}  # (client, batch) -> status, None: no answer
        ok = threading.Semaphore(0)

        def client(c: int) -> None:
            with svc.client("alpha", timeout=60) as api:
                for b in range(MAX_BATCHES):
                    try:
                        status = api.post(f"/contracts/{CID}/events", json=_batch(c, b)).status_code
                    except httpx.HTTPError:
                        outcome[(c, b)] = None
                        return  # the server is gone
                    outcome[(c, b)] = status
                    if status == 200:
                        ok.release()

        threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
        for th in threads:
            th.start()
        for _ in range(6):  # some requests have been answered, others are in flight
            assert ok.acquire(timeout=120), outcome
        time.sleep(0.05)
        svc.server.kill()
        for th in threads:
            th.join(timeout=120)
        assert not any(th.is_alive() for th in threads)
        svc.server.start()  # the same store, after the crash
        with svc.client("alpha") as api:
            stored = [e["id"] for e in api.get(f"/contracts/{CID}/events").json()["events"]]
        assert len(stored) == len(set(stored))
        present = set(stored)
        unanswered = 0
        for (c, b), status in outcome.items():
            ids = {e["id"] for e in _batch(c, b)}
            if status == 200:
                assert ids <= present, f"acknowledged batch {(c, b)} lost"
            else:
                assert status is None, status
                unanswered += 1
                assert ids <= present or not ids & present, f"batch {(c, b)} half-written"
        assert unanswered >= 1  # the kill did hit requests in flight
        acknowledged = {(c, b) for (c, b), s in outcome.items() if s == 200}
        assert len(acknowledged) >= 6
        expected_max = {e["id"] for c, b in outcome for e in _batch(c, b)}
        assert present <= expected_max
    finally:
        svc.server.stop()
