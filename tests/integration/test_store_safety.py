"""Processes, on both backends: concurrent writers lose nothing and never interleave a
batch; a writer killed (SIGKILL) mid-batch leaves the store as it was before the batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.integration.store_events import CID, INVOICE

WORKER = str(Path(__file__).with_name("store_worker.py"))


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_writers_lose_nothing_and_never_interleave_a_batch(store, contract_doc, tmp_path):
    n, size = 200, 5
    store.ingest(contract_doc, [INVOICE])
    go = tmp_path / "go"
    workers = [_spawn("write", store.url, CID, prefix, str(n), str(size), str(go)) for prefix in ("A", "B")]
    for w in workers:  # both have the store open and wait: then they start together
        assert w.stdout.readline().strip() == "ready", w.stderr.read() if w.poll() is not None else ""
    go.touch()
    for w in workers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
        assert out.strip() == "done"
    log = store.log(CID)
    ids = [e.event_id for e in log]
    expected = {"e1"} | {f"{p}-{k}" for p in "AB" for k in range(1, n + 1)} | {f"shared-{k}" for k in (1, 2, 3)}
    assert len(ids) == len(set(ids)) == len(expected)  # each event exactly once
    assert set(ids) == expected
    by_batch = defaultdict(list)
    for position, entry in enumerate(log):
        by_batch[entry.batch].append((position, entry))
    batches = [by_batch[b] for b in sorted(by_batch)]
    assert len(batches) == 1 + 2 * (n // size)  # the contract's + one per batch of each writer
    for entries in batches:
        positions = [p for p, _ in entries]
        assert positions == list(range(positions[0], positions[0] + len(positions)))  # contiguous in the log
        assert len({e.recorded_at for _, e in entries}) == 1  # one recorded_at per batch
        assert len({e.event_id.split("-")[0] for _, e in entries} - {"shared"}) == 1  # one writer per batch
    stamps = [entries[0][1].recorded_at for entries in batches]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert store.counts()["events"] == len(expected)


def test_a_writer_killed_mid_batch_leaves_the_store_as_before(store, contract_doc):
    store.ingest(contract_doc, [INVOICE])
    before, log_before = store.counts(), store.log(CID)
    worker = _spawn("hang", store.url, CID, "K", "3000")
    line = worker.stdout.readline()
    assert line.startswith("mid-batch 500"), (line, worker.stderr.read() if worker.poll() is not None else "")
    os.kill(worker.pid, signal.SIGKILL)  # kill -9 with 500 rows inserted, transaction open
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    assert store.counts() == before
    assert store.log(CID) == log_before
    # the store is usable at once: the lock went with the process; the same batch now commits
    from tests.integration.store_worker import invoices

    result = store.append_events(CID, invoices("K", 1, 3000))
    assert (result.added, result.duplicates) == (3000, 0)
    assert store.counts()["events"] == before["events"] + 3000
    assert store.penalty(CID, "INV-07", "2025-10-01").total == "45.26"
