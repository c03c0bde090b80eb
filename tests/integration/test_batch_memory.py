"""Memory stays flat over 5,000 contracts in one process, and colliding ids stay apart.

One engine evaluates every contract (``--workers 1``); each contract's durable_rules
session is deleted after its answer. The resident set size after 5,000 contracts must
be within 30 MB of the size after the first 1,000 (rulesets registered, caches warm).
Among them are ``acme-139599`` and ``acme-322382``, whose durable_rules session hashes
collide: their answers are the hand-computed ones (tests/integration/batch_fixtures.py).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from benchmarks.workload import generate, write
from contractrules.batch import run_batch
from tests.integration.batch_fixtures import AS_OF, GOOD_EVENTS, A, B, contract, rss_kib, write_contract

N = 5000
GROWTH_LIMIT_KIB = 30 * 1024


class RssProbe:
    """A progress reporter that samples RSS after 1,000 contracts and at the end."""

    def __init__(self):
        self.done, self.samples = 0, {}

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, contracts: int, events: int) -> None:
        self.done += contracts
        if self.done >= 1000 and 1000 not in self.samples:
            self.samples[1000] = rss_kib()
        if self.done == self.total:
            self.samples[self.total] = rss_kib()

    def close(self) -> None:
        pass


@pytest.mark.slow
def test_memory_is_flat_over_5000_contracts_and_colliding_ids_stay_apart(tmp_path):
    wl = generate(N - 2, months=3, seed=11, prefix="m", begin=date(2025, 1, 1))  # evaluated as of 2025-04-01
    paths = write(wl, tmp_path, layout="file")
    for cid in (A, B):
        write_contract(paths["contracts"], f"{cid}.yaml", contract(cid))
    with paths["events"].open("a", encoding="utf-8") as f:
        for cid in (A, B):
            for e in GOOD_EVENTS[cid]:
                f.write(json.dumps({"contract": cid, **e}) + "\n")

    probe = RssProbe()
    summary = run_batch(
        paths["contracts"], paths["events"], AS_OF, tmp_path / "out.jsonl", workers=1, chunk_size=50, progress=probe
    )

    assert summary.contracts == N and summary.evaluated == N, summary.failed[:3]
    assert summary.ok, (tmp_path / "out.errors.jsonl").read_text()[:2000]
    growth = probe.samples[N] - probe.samples[1000]
    assert growth < GROWTH_LIMIT_KIB, f"RSS grew {growth / 1024:.1f} MB from 1,000 to {N} contracts"

    answers = {}
    with (tmp_path / "out.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if line.startswith(f'{{"contract":"{A}"') or line.startswith(f'{{"contract":"{B}"'):
                a = json.loads(line)
                answers[a["contract"]] = a
    a, b = answers[A], answers[B]
    assert [v["id"] for v in a["violations"]] == ["late_payment:INV-1", "unbilled:2025-02-01"]
    assert a["penalties"][0]["total"] == "44.93" and a["penalties"][0]["enforceable_from"] == "2025-03-18"
    pay_b = next(o for o in b["obligations"] if o["id"] == "payment:INV-1")
    assert (pay_b["status"], pay_b["fulfilled_on"]) == ("fulfilled", "2025-02-15")
    assert [v["id"] for v in b["violations"]] == ["unbilled:2025-02-01"] and b["penalties"] == []
