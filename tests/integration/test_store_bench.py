"""The store benchmark runs (smoke size) on both backends and reports what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "store_bench.py"


def _smoke(*args: str) -> dict:
    done = subprocess.run([sys.executable, str(BENCH), "--smoke", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _check(result: dict, backend: str) -> None:
    assert (result["backend"], result["smoke"]) == (backend, True)
    events = result["penalty"]["contract"]["events"]
    # 2 bulk contracts + 20 incremental events + the five-year contract
    assert result["store_counts"] == {
        "contracts": 4,
        "versions": 4,
        "events": 2 * events + 20 + events,
        "batches": 4 + 2 + 20 + 2,
    }
    assert result["ingest"]["bulk"]["events"] == 2 * events and result["ingest"]["bulk"]["events_per_s"] > 0
    for series in ("as_of_end", "as_of_end_gc_frozen", "as_of_end_known_at", "as_of_spread", "snapshot_only"):
        stats = result["penalty"][series]
        assert stats["n"] == 30 and 0 < stats["p50_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    assert result["goal"]["met"] == (result["goal"]["measured_p99_ms"] < 20.0)
    answer = result["penalty"]["sample_answer"]
    assert answer["total"] == f"{float(answer['interest']) + float(answer['fixed_fee']):.2f}"


def test_benchmark_smoke_sqlite():
    _check(_smoke("--backend", "sqlite"), "sqlite")


@pytest.mark.postgres
def test_benchmark_smoke_postgres(pg_server):
    _check(_smoke("--backend", "postgres", "--pg", pg_server), "postgres")
