"""A separate process that writes to a store, for the concurrency and crash tests.

python store_worker.py write URL CONTRACT_ID PREFIX N BATCH GO_FILE
    print "ready", wait for GO_FILE, then append N invoices PREFIX-1..PREFIX-N in batches of BATCH,
    each batch also re-sending the shared events (identical in every worker);
    print "done" at the end.
python store_worker.py hang URL CONTRACT_ID PREFIX N
    append N invoices as ONE batch; after the first chunk is inserted (inside the
    open transaction) print "mid-batch" and sleep, waiting to be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from contractrules.store import open_store

SHARED = [
    {
        "id": f"shared-{n}",
        "type": "invoice_issued",
        "at": "2025-02-01",
        "by": "studio",
        "invoice": f"SHARED-{n}",
        "amount": "10.00",
    }
    for n in range(1, 4)
]


def invoices(prefix: str, first: int, last: int) -> list[dict]:
    return [
        {
            "id": f"{prefix}-{n}",
            "type": "invoice_issued",
            "at": f"2025-03-{1 + n % 28:02d}",
            "by": "studio",
            "invoice": f"{prefix}-{n}",
            "amount": f"{n}.00",
        }
        for n in range(first, last + 1)
    ]


def write(url: str, cid: str, prefix: str, n: int, size: int, go: str) -> None:
    with open_store(url) as store:
        print("ready", flush=True)
        while not Path(go).exists():
            time.sleep(0.005)
        for start in range(1, n + 1, size):
            store.append_events(
                cid, invoices(prefix, start, min(n, start + size - 1)) + SHARED, source=f"{prefix}:{start}"
            )
    print("done", flush=True)


def hang(url: str, cid: str, prefix: str, n: int) -> None:
    def progress(done: int) -> None:
        print("mid-batch", done, flush=True)
        time.sleep(600)

    with open_store(url) as store:
        store.append_events(cid, invoices(prefix, 1, n), progress=progress)
    print("committed", flush=True)  # never reached: the test kills us first


if __name__ == "__main__":
    mode, url, cid, prefix, *rest = sys.argv[1:]
    if mode == "write":
        write(url, cid, prefix, int(rest[0]), int(rest[1]), rest[2])
    else:
        hang(url, cid, prefix, int(rest[0]))
