"""Saved checkpoints: the first question after a restart, with and without them (issue 12).

    python benchmarks/checkpoint_bench.py                  # both backends -> benchmarks/results/checkpoints.json
    python benchmarks/checkpoint_bench.py --backend sqlite --years 20
    python benchmarks/checkpoint_bench.py --smoke          # 2 years, prints JSON, writes nothing

One workload contract (benchmarks/workload.py, seed 3) with 20 and 50 years of history is
ingested into a fresh store; a first process answers once and closes the store (which
saves the contract's checkpoint in ``cr_checkpoints``). Then each measurement is a new
process (a real restart: nothing cached, a new connection, a new engine) that opens the
store and times its first ``store.evaluate(contract, as_of)`` — the store's read of the
contract and its events, then either a resume from the saved checkpoint (``with``) or
a replay of the whole history (``without``: ``store._live.persist = False``). Best and
median of ``--repeat`` processes, wall and CPU time (the machine is shared: CPU time
moves less with its load), and where the median run's CPU time went (``snapshot``:
the store's read and parse of the events; ``resume_or_replay``; ``load_checkpoints``;
``answer_and_rest``: building the answer, the engine's start); the answers of both are
checked equal to ``contractrules.evaluate`` of the same events. Also: the saved rows'
size and the time the close took to save them.

PostgreSQL: ``--pg URL``, else ``$CONTRACTRULES_TEST_PG``, else a throwaway server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.run import RESULTS, _git, machine  # noqa: E402

YEARS = (20, 50)

# The restarted process: open the store, time the first question, print JSON.
_FIRST = """
import json, sys, time
from datetime import date
from contractrules.live import LiveContract
from contractrules.store import checkpoints, open_store
url, cid, as_of, persist = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), sys.argv[4] == "1"
parts = {}

def timing(name, fn):
    def timed(*args, **kwargs):
        t = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[name] = time.process_time() - t
    return timed

store = open_store(url)
store._live.persist = persist
store.snapshot = timing("snapshot", store.snapshot)
checkpoints.load = timing("load_checkpoints", checkpoints.load)
LiveContract.resume = classmethod(timing("resume_or_replay", LiveContract.resume.__func__))
t, cpu = time.perf_counter(), time.process_time()
answer = store.evaluate(cid, as_of)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
parts["answer_and_rest"] = cpu - sum(parts.values())
live = next(iter(store._live._sessions.values()))
store._live.persist = False  # the close saves nothing: every run starts from the same rows
store.close()
print(json.dumps({"seconds": seconds, "cpu": cpu, "parts": parts, "resumed_from": live.resumed_from, "answer": answer.to_json()}))
"""


def _history(years: int):
    from benchmarks.workload import generate

    w = generate(1, 12 * years, seed=3)
    doc = w.contracts[0]
    return doc, w.events[doc["id"]], w.as_of


def _first_question(url: str, cid: str, as_of, persist: bool) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _FIRST, url, cid, as_of.isoformat(), "1" if persist else "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _ms(values: list[float]) -> dict:
    return {"best_ms": round(min(values) * 1000, 1), "median_ms": round(statistics.median(values) * 1000, 1)}


def row(url: str, years: int, repeat: int) -> dict:
    import contractrules as cr
    from contractrules.store import open_store

    doc, events, as_of = _history(years)
    cid = doc["id"]
    expected = cr.evaluate(doc, events, as_of).to_json()
    store = open_store(url, migrate=True)
    store.ingest(doc, events)
    store._live.save_every = 10**9  # saved by the close below, timed
    store.evaluate(cid, as_of)
    t = time.perf_counter()
    store.close()
    close_s = time.perf_counter() - t
    with open_store(url) as store, store._read() as tx:
        rows = tx.all(
            "SELECT slot, position, length(state) FROM cr_checkpoints WHERE contract_id = ? ORDER BY slot", (cid,)
        )
    result: dict = {
        "years": years,
        "events": len(events),
        "saved": [{"slot": s, "position": p, "bytes": n} for s, p, n in rows],
        "close_with_save_ms": round(close_s * 1000, 1),
    }
    for name, persist in (("with_checkpoint", True), ("without_checkpoint", False)):
        runs = [_first_question(url, cid, as_of, persist) for _ in range(repeat)]
        assert all(r["answer"] == expected for r in runs), f"{name}: the answer differs from a full replay"
        mid = sorted(runs, key=lambda r: r["cpu"])[len(runs) // 2]
        result[name] = {
            **_ms([r["seconds"] for r in runs]),
            "cpu": _ms([r["cpu"] for r in runs]),
            "median_run_cpu_parts_ms": {k: round(v * 1000, 1) for k, v in mid["parts"].items()},
            "resumed_from": runs[0]["resumed_from"],
        }
    without, with_ = result["without_checkpoint"], result["with_checkpoint"]
    result["speedup_median"] = round(without["median_ms"] / with_["median_ms"], 1)
    result["speedup_median_cpu"] = round(without["cpu"]["median_ms"] / with_["cpu"]["median_ms"], 1)
    return result


def main(argv: list[str] | None = None) -> dict:
    from benchmarks.store_bench import _pg_url

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--pg", help="PostgreSQL server URL (default: $CONTRACTRULES_TEST_PG or a throwaway server)")
    ap.add_argument("--years", type=int, action="append", help=f"history lengths (default: {YEARS})")
    ap.add_argument("--repeat", type=int, default=5, help="restarted processes per measurement")
    ap.add_argument("--smoke", action="store_true", help="2 years, 2 runs; prints JSON, writes nothing")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    years = [2] if args.smoke else args.years or list(YEARS)
    repeat = 2 if args.smoke else args.repeat
    report: dict = {"commit": _git("rev-parse", "HEAD"), "machine": machine(), "method": __doc__.split("\n\n")[2]}
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        report[backend] = []
        for y in years:
            with ExitStack() as stack:
                if backend == "sqlite":
                    folder = stack.enter_context(tempfile.TemporaryDirectory())
                    url = f"sqlite:///{Path(folder) / 'bench.db'}"
                else:
                    url, _ = _pg_url(stack, args.pg)
                r = row(url, y, repeat)
            report[backend].append(r)
            print(backend, json.dumps(r), flush=True)
    if not args.smoke:
        out = args.out or RESULTS / "checkpoints.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"saved {out}")
    return report


if __name__ == "__main__":
    main()
