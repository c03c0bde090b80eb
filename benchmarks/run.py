"""Batch benchmark: events/s through the full engine, against durable_rules and the parser.

    python -m benchmarks.run                 # default workload; saves benchmarks/results/batch-default.json
    python -m benchmarks.run --smoke         # seconds, for CI; saves benchmarks/results/batch-smoke.json

Measured in one run, on one seeded workload (benchmarks/workload.py), written to disk
as a real batch input (YAML contracts, one events.jsonl):

1. **end_to_end** — ``run_batch(workers=1)``: read the contract files, index the events
   file, validate, compile, evaluate, write JSON Lines; events/s in this one process.
2. **engine** — compile + evaluate + answer, from events already validated.
3. **raw_durable_rules** — the same compiled rulesets on a plain ``durable.engine.Host``
   (no-op actions), one ``Host.post`` per event with the message the engine would post,
   one session per contract deleted after it: what durable_rules alone costs.
4. **parse_floor** — just parsing and validating the events (json + the event models),
   the floor any evaluation pays.
   Ratios: end_to_end / raw_durable_rules, end_to_end / parse_floor.
5. **scaling** — the same batch with 1 and 2 local worker processes and on a 2-worker
   Dask LocalCluster: seconds, events/s, speed-up, peak RSS of each worker.
6. **scale goal** — N contracts × 24 months (default 10,000) on 2 local workers.

Goals (SPEC issue 6): end_to_end ≥ 20,000 events/s; ≥ 1/3 of the raw durable_rules rate;
the scale run under 60 s. Results carry the commit id, the machine and its load.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # python benchmarks/run.py
    sys.path.insert(0, str(ROOT))

from contractrules.batch.work import paused_collector  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
GOALS = {"end_to_end_events_per_s": 20_000, "raw_ratio": 1 / 3, "scale_seconds": 60}
SIZES = {  # contracts, months, scale contracts, scale months
    "default": (2000, 24, 10_000, 24),
    "smoke": (40, 6, 200, 6),
}


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def dirty_files() -> list[str]:
    """Uncommitted changes under contractrules/ and benchmarks/ (results aside) at run time."""
    status = _git("status", "--porcelain", "--", "contractrules", "benchmarks")
    paths = [line.split(None, 1)[1] for line in status.splitlines() if line.strip() and status != "unknown"]
    return [p for p in paths if not p.startswith("benchmarks/results")]


def machine() -> dict:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    mem = (
        next(
            (
                int(line.split()[1]) // 1024
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            ),
            None,
        )
        if Path("/proc/meminfo").exists()
        else None
    )
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_mb": mem,
        "hostname": platform.node(),
    }


def make_workload(root: Path, contracts: int, months: int, seed: int) -> dict:
    """Generate in a subprocess, so this process's memory stays that of a batch worker."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.workload",
            "--contracts",
            str(contracts),
            "--months",
            str(months),
            "--seed",
            str(seed),
            "--out",
            str(root),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    from datetime import timedelta

    from benchmarks.workload import FIRST_START, add_months

    as_of = add_months(FIRST_START, months) + timedelta(days=28)
    return {"contracts": root / "contracts", "events": root / "events.jsonl", "as_of": as_of}


def timed(fn, repeat: int = 1):
    """(best seconds, last result) over ``repeat`` runs."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def end_to_end(w: dict, out: Path, repeat: int, **kw) -> dict:
    from contractrules.batch import run_batch

    seconds, summary = timed(lambda: run_batch(w["contracts"], w["events"], w["as_of"], out, **kw), repeat)
    assert summary.ok, f"benchmark workload produced errors: {out}"
    return {
        "seconds": round(seconds, 3),
        "contracts": summary.evaluated,
        "events": summary.events,
        "events_per_s": round(summary.events / seconds),
        "contracts_per_s": round(summary.evaluated / seconds, 1),
        "peak_rss_mb_per_worker": sorted(round(v / 1024, 1) for v in summary.workers.values()),
    }


def preload(w: dict, records: bool = True) -> list:
    """(contract, event reference, validated records or None) per contract, as a worker sees them."""
    from contractrules.batch.contracts import load_contract
    from contractrules.batch.io import open_events, read_events

    source = open_events(w["events"])
    items = []
    for path in sorted(Path(w["contracts"]).iterdir()):
        c = load_contract(path)
        ref = source.ref(c.id)
        items.append((c, ref, read_events(ref, c, False).records if records else None))
    source.close()
    return items


def engine_only(items: list, as_of: date, repeat: int) -> dict:
    from contractrules.engine.engine import Engine

    n = sum(len(r) for _, _, r in items)
    with Engine() as eng:
        seconds, _ = timed(lambda: [eng.evaluate(c, r, as_of).model_dump_json() for c, _, r in items], repeat)
    return {"seconds": round(seconds, 3), "events": n, "events_per_s": round(n / seconds)}


def parse_floor(items: list, repeat: int) -> dict:
    from contractrules.batch.io import read_events

    def run() -> int:
        return sum(len(read_events(ref, c, False).records) for c, ref, _ in items)

    seconds, n = timed(run, repeat)
    return {"seconds": round(seconds, 3), "events": n, "events_per_s": round(n / seconds)}


def raw_durable_rules(items: list, repeat: int) -> dict:
    """One durable_rules ``Host.post`` per event, the engine's message shape, one session per contract."""
    import copy

    from durable.engine import Host, MessageNotHandledException

    from contractrules.compiler import compile_contract

    class Plain(Host):
        def _run(self):  # no wall-clock timer threads, like the engine's host
            return None

        def get_action(self, name):
            return lambda c: None

    host = Plain()
    plan, registered = [], set()
    for c, _, records in items:
        doc = compile_contract(c)
        if doc["ruleset"] not in registered:
            host.register_rulesets({doc["ruleset"]: copy.deepcopy(doc["rules"])})
            registered.add(doc["ruleset"])
        messages = []
        for r in records:
            m = {"type": r.event.type}
            if r.event.__dict__.get("clause") is not None:
                m["clause"] = r.event.clause
            messages.append(m)
        plan.append((doc["ruleset"], messages))

    def run():
        for ruleset, messages in plan:
            for i, m in enumerate(messages, 1):
                try:
                    host.post(ruleset, {**m, "sid": "0", "id": i})
                except MessageNotHandledException:
                    pass
            if messages:
                host.delete_state(ruleset, "0")

    n = sum(len(m) for _, m in plan)
    seconds, _ = timed(run, repeat)
    return {"seconds": round(seconds, 3), "messages": n, "posts_per_s": round(n / seconds)}


def dask_run(w: dict, out: Path, repeat: int) -> dict:
    import logging

    import distributed

    t = time.perf_counter()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        with distributed.Client(cluster) as client:  # workers import the engine before the clock starts
            client.run(__import__, "contractrules.batch.work")
        startup = time.perf_counter() - t
        result = end_to_end(w, out, repeat, dask=cluster.scheduler_address)
    result["cluster_startup_seconds"] = round(startup, 2)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Batch benchmark (see the module docstring).")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--contracts", type=int)
    parser.add_argument("--months", type=int)
    parser.add_argument("--scale-contracts", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, help="best of N for the in-process rates (default 1; smoke 3)")
    parser.add_argument("--no-scale", action="store_true", help="skip the N×24 scale run")
    parser.add_argument("--out", type=Path, help="results file (default benchmarks/results/batch-<mode>.json)")
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "default"
    n, months, scale_n, scale_months = SIZES[mode]
    n, months, scale_n = args.contracts or n, args.months or months, args.scale_contracts or scale_n
    repeat = args.repeat or (3 if args.smoke else 1)
    report: dict = {
        "benchmark": "batch",
        "mode": mode,
        "commit": _git("rev-parse", "HEAD"),
        "dirty_files": dirty_files(),
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "workload": {"contracts": n, "months": months, "seed": args.seed, "layout": "events.jsonl + YAML"},
    }
    with tempfile.TemporaryDirectory(prefix="contractrules-bench-") as tmp:
        tmp = Path(tmp)
        w = make_workload(tmp / "w", n, months, args.seed)
        report["workload"]["as_of"] = w["as_of"].isoformat()
        # batch runs first, while this process is as small as a worker
        e2e = end_to_end(w, tmp / "one.jsonl", repeat, workers=1)
        report["workload"]["events"] = e2e["events"]
        two = end_to_end(w, tmp / "two.jsonl", 1, workers=2)
        same = (tmp / "one.jsonl").read_bytes() == (tmp / "two.jsonl").read_bytes()
        scaling = {
            "workers_1": {k: e2e[k] for k in ("seconds", "events_per_s", "peak_rss_mb_per_worker")},
            "workers_2": two,
            "speedup_2_over_1": round(e2e["seconds"] / two["seconds"], 2),
            "identical_output": same,
        }
        try:
            dk = dask_run(w, tmp / "dask.jsonl", 1)
            dk["identical_output"] = (tmp / "one.jsonl").read_bytes() == (tmp / "dask.jsonl").read_bytes()
            dk["speedup_over_1"] = round(e2e["seconds"] / dk["seconds"], 2)
            scaling["dask_local_2_workers"] = dk
        except ModuleNotFoundError as exc:
            scaling["dask_local_2_workers"] = {"skipped": f"{exc} (pip install 'contractrules[dask]')"}
        if not args.no_scale:
            sw = make_workload(tmp / "scale", scale_n, scale_months, args.seed + 1)
            report["scale"] = {
                "contracts": scale_n,
                "months": scale_months,
                **end_to_end(sw, tmp / "scale.jsonl", 1, workers=2),
            }
        # then the single-process breakdown: the parse floor first, while the heap is small,
        # then the engine and durable_rules on events validated once (frozen out of the collector)
        with paused_collector():  # as in a batch worker
            floor = parse_floor(preload(w, records=False), repeat)
        items = preload(w)
        gc.collect()
        gc.freeze()
        with paused_collector():
            engine = engine_only(items, w["as_of"], repeat)
        raw = raw_durable_rules(items, repeat)  # durable's Host.post makes reference cycles: collector on
        report["single_process"] = {
            "end_to_end": e2e,
            "engine": engine,
            "raw_durable_rules": raw,
            "parse_floor": floor,
            "ratios": {
                "end_to_end_over_raw_durable_rules": round(e2e["events_per_s"] / raw["posts_per_s"], 3),
                "engine_over_raw_durable_rules": round(engine["events_per_s"] / raw["posts_per_s"], 3),
                "end_to_end_over_parse_floor": round(e2e["events_per_s"] / floor["events_per_s"], 3),
            },
        }
        report["scaling"] = scaling
    report["load_average_after"] = os.getloadavg()
    report["goals"] = goals(report)
    out = args.out or RESULTS / f"batch-{mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report, out)
    return report


def goals(report: dict) -> dict:
    sp = report["single_process"]
    g = {
        "end_to_end_at_least_20000_events_per_s": sp["end_to_end"]["events_per_s"] >= GOALS["end_to_end_events_per_s"],
        "end_to_end_at_least_a_third_of_raw_durable_rules": sp["ratios"]["end_to_end_over_raw_durable_rules"]
        >= GOALS["raw_ratio"],
    }
    if "scale" in report:
        g[f"scale_{report['scale']['contracts']}x{report['scale']['months']}_under_60_s_on_2_workers"] = (
            report["scale"]["seconds"] < GOALS["scale_seconds"]
        )
    return g


def print_report(r: dict, out: Path) -> None:
    sp = r["single_process"]
    wl = r["workload"]
    print(
        f"workload: {wl['contracts']} contracts x {wl['months']} months = {wl['events']} events "
        f"(seed {wl['seed']}), commit {r['commit'][:12]}, {r['machine']['cpu']} x{r['machine']['cpus']}"
    )
    print(
        f"  end to end, 1 process : {sp['end_to_end']['events_per_s']:>9,} events/s  ({sp['end_to_end']['seconds']} s, "
        f"peak RSS {sp['end_to_end']['peak_rss_mb_per_worker']} MB)"
    )
    print(
        f"  engine only           : {sp['engine']['events_per_s']:>9,} events/s  "
        f"ratio to raw {sp['ratios']['engine_over_raw_durable_rules']}"
    )
    print(
        f"  raw durable_rules post: {sp['raw_durable_rules']['posts_per_s']:>9,} posts/s   "
        f"ratio {sp['ratios']['end_to_end_over_raw_durable_rules']}"
    )
    print(
        f"  parse + validate floor: {sp['parse_floor']['events_per_s']:>9,} events/s  "
        f"ratio {sp['ratios']['end_to_end_over_parse_floor']}"
    )
    sc = r["scaling"]
    print(
        f"  2 local workers       : {sc['workers_2']['events_per_s']:>9,} events/s  x{sc['speedup_2_over_1']}  "
        f"peak RSS {sc['workers_2']['peak_rss_mb_per_worker']} MB  identical={sc['identical_output']}"
    )
    dk = sc["dask_local_2_workers"]
    if "skipped" not in dk:
        print(
            f"  Dask LocalCluster x2  : {dk['events_per_s']:>9,} events/s  x{dk['speedup_over_1']}  "
            f"peak RSS {dk['peak_rss_mb_per_worker']} MB  identical={dk['identical_output']}"
        )
    if "scale" in r:
        s = r["scale"]
        print(
            f"  scale {s['contracts']}x{s['months']} on 2 workers: {s['seconds']} s ({s['events']:,} events, "
            f"{s['events_per_s']:,} events/s)"
        )
    for goal, met in r["goals"].items():
        print(f"  goal {goal}: {'met' if met else 'NOT met'}")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
