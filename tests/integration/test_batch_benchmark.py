"""The benchmark's --smoke mode runs end to end and records what the issue asks for."""

from __future__ import annotations

import json

import pytest

from benchmarks.run import main
from benchmarks.workload import generate


def test_the_workload_is_seeded_and_realistic():
    a, b = generate(30, 12, seed=5), generate(30, 12, seed=5)
    assert a.contracts == b.contracts and a.events == b.events
    assert generate(30, 12, seed=6).events != a.events
    kinds = {e["type"] for evs in a.events.values() for e in evs}
    assert {
        "invoice_issued",
        "payment_received",
        "credit_note",
        "reminder_sent",
        "dispute_opened",
        "dispute_resolved",
        "work_requested",
        "work_performed",
    } <= kinds
    payments = [e for evs in a.events.values() for e in evs if e["type"] == "payment_received"]
    assert any("invoice" not in p for p in payments)  # FIFO payments
    assert any(e["type"] == "waiver" for evs in generate(300, 24, seed=1).events.values() for e in evs)


@pytest.mark.slow
def test_smoke_benchmark_records_rates_ratios_scaling_and_machine(tmp_path):
    out = tmp_path / "smoke.json"
    main(["--smoke", "--out", str(out)])
    r = json.loads(out.read_text())
    sp = r["single_process"]
    assert sp["end_to_end"]["events"] == r["workload"]["events"] > 0
    for key in ("end_to_end_over_raw_durable_rules", "engine_over_raw_durable_rules", "end_to_end_over_parse_floor"):
        assert 0 < sp["ratios"][key] < 10
    assert sp["raw_durable_rules"]["messages"] == sp["parse_floor"]["events"] == r["workload"]["events"]
    assert r["scaling"]["identical_output"] is True
    dk = r["scaling"]["dask_local_2_workers"]
    assert dk["identical_output"] is True and len(dk["peak_rss_mb_per_worker"]) == 2
    assert len(r["scaling"]["workers_2"]["peak_rss_mb_per_worker"]) == 2
    assert len(r["commit"]) == 40 and r["machine"]["cpus"] >= 1
    assert set(r["goals"]) >= {
        "end_to_end_at_least_20000_events_per_s",
        "end_to_end_at_least_a_third_of_raw_durable_rules",
    }
