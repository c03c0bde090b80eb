"""16 client threads against one server: disjoint and overlapping batches, same and
different contracts. Every accepted event is stored exactly once, and every answer
equals ``contractrules evaluate`` on files holding the same events."""

from __future__ import annotations

import json
import threading
import uuid

from contractrules.api import evaluate
from tests.integration.service_fixtures import contract_doc

THREADS, CONTRACTS, BATCHES = 16, 4, 5
AS_OF = "2025-10-01"


def _batch(t: int, b: int) -> list[dict]:
    """Thread t's batch b: two events shared by every thread of the contract, two its own."""
    own = f"T{t}-B{b}"
    return [
        {
            "id": "shared-inv",
            "type": "invoice_issued",
            "at": "2025-07-01",
            "by": "studio",
            "invoice": "S-1",
            "amount": "1000.00",
        },
        {
            "id": "shared-pay",
            "type": "payment_received",
            "at": "2025-08-20",
            "by": "acme",
            "invoice": "S-1",
            "amount": "400.00",
        },
        {
            "id": f"{own}-inv",
            "type": "invoice_issued",
            "at": f"2025-07-{b + 2:02d}",
            "by": "studio",
            "invoice": own,
            "amount": f"{100 + t}.00",
        },
        {
            "id": f"{own}-pay",
            "type": "payment_received",
            "at": f"2025-08-{b + 25:02d}",
            "by": "acme",
            "invoice": own,
            "amount": "50.00",
        },
    ]


def test_sixteen_clients_lose_nothing_and_count_nothing_twice(service, tmp_path):
    run = uuid.uuid4().hex[:6]
    cids = [f"conc-{run}-{c}" for c in range(CONTRACTS)]
    with service.client("alpha") as alpha:
        for cid in cids:
            assert alpha.put(f"/contracts/{cid}", json=contract_doc(cid)).status_code == 201
    results: dict[int, list] = {t: [] for t in range(THREADS)}
    failures: list[str] = []
    start = threading.Barrier(THREADS, timeout=60)

    def client(t: int) -> None:
        cid = cids[t % CONTRACTS]
        try:
            with service.client("alpha", timeout=120) as api:
                start.wait()
                for b in range(BATCHES):
                    r = api.post(f"/contracts/{cid}/events", json=_batch(t, b))
                    results[t].append((cid, b, r.status_code, r.json()))
                    pen = api.get(f"/contracts/{cid}/penalties/S-1", params={"as_of": AS_OF})
                    if pen.status_code != 200:
                        failures.append(f"thread {t}: penalty {pen.status_code} {pen.text}")
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(f"thread {t}: {exc!r}")

    threads = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=240)
    assert not any(th.is_alive() for th in threads), "a client thread did not finish in 240 s"
    assert not failures, failures
    posts = [r for rs in results.values() for r in rs]
    assert len(posts) == THREADS * BATCHES and all(status == 200 for _, _, status, _ in posts), posts
    with service.client("alpha") as alpha:
        for c, cid in enumerate(cids):
            mine = [t for t in range(THREADS) if t % CONTRACTS == c]
            expected = {e["id"]: e for t in mine for b in range(BATCHES) for e in _batch(t, b)}
            stored = alpha.get(f"/contracts/{cid}/events").json()["events"]
            ids = [e["id"] for e in stored]
            assert len(ids) == len(set(ids)) == len(expected) and set(ids) == set(expected)  # exactly once
            accepted = [body for rcid, _, _, body in posts if rcid == cid]
            assert sum(body["added"] for body in accepted) == len(expected)  # each one added by one request
            assert sum(body["added"] + body["duplicates"] for body in accepted) == 4 * len(accepted)
            folder = tmp_path / cid
            folder.mkdir()
            (folder / "contract.json").write_text(json.dumps(contract_doc(cid)))
            (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in expected.values()))
            for as_of in ("2025-08-15", AS_OF):
                served = alpha.get(f"/contracts/{cid}/answer", params={"as_of": as_of}).json()
                assert served == evaluate(folder / "contract.json", folder / "events.jsonl", as_of).to_dict()
