"""HTTP service benchmark: a live ``contractrules serve`` on loopback, real HTTP clients.

    python benchmarks/service_bench.py                 # both backends -> benchmarks/results/service-<backend>.json
    python benchmarks/service_bench.py --smoke         # a quick run: prints JSON, writes nothing
    python benchmarks/service_bench.py --backend postgres --pg postgresql://user@host/db

The server runs as a subprocess on 127.0.0.1 (one uvicorn worker, as ``contractrules
serve`` starts it); clients are httpx connections in threads of this process, so server
and clients share the machine's cores, as they would on one host. Measured:

- ``ingest``: 16 clients, each feeding its own contract five years of history
  (store_bench.history: ~150 events) in batches of ``--batch`` events: events/s
  accepted (every response checked: 200, nothing lost);
- ``answers``: 16 clients asking ``GET .../penalties/{invoice}`` of 16 five-year
  contracts: answers/s;
- ``penalty_idle``: one client, ``GET /contracts/five-years/penalties/{invoice}`` as of
  the end of the history, one request after the other: p50/p99;
- ``penalty_under_ingest``: the same while 8 clients ingest as fast as they can;
- ``penalty_idle_cold`` / ``penalty_under_ingest_cold``: the same with a different
  ``as_of`` each time, so no kept answer serves it (contractrules/service/answers.py):
  every request is a full replay of the five years.

Every loop is bounded in count and in time. The goal (issue 13): idle p99 <= 10 ms,
under ingest <= 3 x idle.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.store_bench import AS_OF, _ms, _pg_url, _server_version, contract_doc, history  # noqa: E402
from tests.integration.service_fixtures import Server  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CLIENTS = 16
GOAL_IDLE_P99_MS, GOAL_RATIO = 10.0, 3.0
TIME_CAP = 120.0  # seconds, per phase
COLD_DAYS = 365  # > answers.KEPT: a cold question is never a kept one


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60.0)


def _prefixed(events: list[dict], prefix: str) -> list[dict]:
    return [{**e, "id": f"{prefix}{e['id']}"} for e in events]


def _parallel(n: int, work) -> float:
    """Run ``work(i)`` in n threads; the wall time. A thread's exception is raised here."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    start = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=TIME_CAP * 2)
    wall = time.perf_counter() - start
    if errors:
        raise errors[0]
    if any(th.is_alive() for th in threads):
        raise RuntimeError("a client did not finish in time")
    return wall


def _put(api: httpx.Client, cid: str, events: list[dict], batch: int) -> int:
    r = api.put(f"/contracts/{cid}", json=contract_doc(cid))
    assert r.status_code in (200, 201), r.text
    added = 0
    for start in range(0, len(events), batch):
        r = api.post(f"/contracts/{cid}/events", json=events[start : start + batch])
        assert r.status_code == 200, r.text
        added += r.json()["added"]
    return added


def bench_ingest(url: str, key: str, seed: int, batch: int, tag: str) -> dict:
    events, _ = history(seed)
    added = [0] * CLIENTS

    def work(i: int) -> None:
        with _client(url, key) as api:
            added[i] = _put(api, f"ingest-{tag}-{i}", events, batch)

    wall = _parallel(CLIENTS, work)
    total = sum(added)
    assert total == CLIENTS * len(events), (total, CLIENTS * len(events))
    return {
        "clients": CLIENTS,
        "events": total,
        "batch": batch,
        "requests": CLIENTS * -(-len(events) // batch),
        "seconds": round(wall, 3),
        "events_per_s": round(total / wall),
    }


def bench_answers(url: str, key: str, cids: list[str], invoice: str, per_client: int) -> dict:
    def work(i: int) -> None:
        deadline = time.monotonic() + TIME_CAP
        with _client(url, key) as api:
            for _ in range(per_client):
                r = api.get(f"/contracts/{cids[i % len(cids)]}/penalties/{invoice}", params={"as_of": str(AS_OF)})
                assert r.status_code == 200, r.text
                if time.monotonic() > deadline:
                    raise RuntimeError("answers phase over its time cap")

    wall = _parallel(CLIENTS, work)
    n = CLIENTS * per_client
    return {"clients": CLIENTS, "answers": n, "seconds": round(wall, 3), "answers_per_s": round(n / wall)}


def _latency(url: str, key: str, cid: str, invoice: str, queries: int, cold: bool = False) -> dict:
    """p50/p99 of one client's sequential penalty questions; ``cold``: as_of walks back one
    day at a time over the last year of the history (more days than the service keeps
    answers), so no kept answer can serve it: every one is a replay."""
    samples = []
    deadline = time.monotonic() + TIME_CAP
    with _client(url, key) as api:
        for _ in range(10):  # warm the connection
            api.get(f"/contracts/{cid}/penalties/{invoice}", params={"as_of": str(AS_OF)})
        for n in range(queries):
            as_of = AS_OF - timedelta(days=n % COLD_DAYS) if cold else AS_OF
            t = time.perf_counter()
            r = api.get(f"/contracts/{cid}/penalties/{invoice}", params={"as_of": str(as_of)})
            samples.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
            if time.monotonic() > deadline:
                break
    return _ms(samples)


def bench_under_ingest(
    url: str, key: str, cid: str, invoice: str, queries: int, seed: int, writers: int, cold: bool
) -> dict:
    events, _ = history(seed)
    stop = threading.Event()
    written = [0] * writers

    def writer(i: int) -> None:
        with _client(url, key) as api:
            round_ = 0
            while not stop.is_set() and round_ < 1000:
                written[i] += _put(api, f"load-{i}-{round_}", events, 10)
                round_ += 1

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(writers)]
    for th in threads:
        th.start()
    time.sleep(1.0)  # the writers are running
    start = time.perf_counter()
    try:
        latency = _latency(url, key, cid, invoice, queries, cold)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=TIME_CAP)
    wall = time.perf_counter() - start
    return {**latency, "writers": writers, "events_ingested_meanwhile_per_s": round(sum(written) / max(wall, 1e-9))}


def _commit() -> str:
    import subprocess

    done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False)
    return done.stdout.strip() or "unknown"


def run_backend(backend: str, db: str, args, storage: str, tmp: Path) -> dict:
    from contractrules.store import open_store, tenants

    with open_store(db, migrate=True) as store:
        key = tenants.create_tenant(store, "bench")
    server = Server(db, tmp / "server.log").start()
    try:
        events, late = history(args.seed)
        invoice = late[-1]
        with _client(server.url, key) as api:
            _put(api, "five-years", events, 200)
            five = [f"five-{i}" for i in range(CLIENTS)]
            for cid in [*five, "five-cold", "five-cold2"]:
                _put(api, cid, events, 200)
        ingest = bench_ingest(server.url, key, args.seed, args.batch, backend)
        answers = bench_answers(server.url, key, five, invoice, args.answers)
        idle = _latency(server.url, key, "five-years", invoice, args.queries)
        loaded = bench_under_ingest(server.url, key, "five-years", invoice, args.queries, args.seed, 8, False)
        early = late[0]  # issued in the first year: a penalty exists on every as_of of the cold walk
        idle_cold = _latency(server.url, key, "five-cold", early, args.queries, cold=True)
        loaded_cold = bench_under_ingest(server.url, key, "five-cold2", early, args.queries, args.seed, 8, True)
    finally:
        server.stop()
    ratio = round(loaded["p99_ms"] / idle["p99_ms"], 2)
    return {
        "benchmark": "service",
        "backend": backend,
        "smoke": args.smoke,
        "seed": args.seed,
        "commit": _commit(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "server": _server_version(backend, db),
            "storage": storage,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "contract": {
            "history_events": len(events),
            "invoice": invoice,
            "as_of": str(AS_OF),
            "cold_invoice": late[0],
            "cold_as_of": f"{AS_OF - timedelta(days=COLD_DAYS - 1)}..{AS_OF}",
        },
        "ingest": ingest,
        "answers": answers,
        "penalty_idle": idle,
        "penalty_under_ingest": loaded,
        "penalty_idle_cold": idle_cold,
        "penalty_under_ingest_cold": loaded_cold,
        "goal": {
            "idle_p99_ms": GOAL_IDLE_P99_MS,
            "measured_idle_p99_ms": idle["p99_ms"],
            "under_ingest_ratio": GOAL_RATIO,
            "measured_ratio": ratio,
            "met": idle["p99_ms"] <= GOAL_IDLE_P99_MS and ratio <= GOAL_RATIO,
            "cold_idle_p99_ms": idle_cold["p99_ms"],
            "cold_ratio": round(loaded_cold["p99_ms"] / idle_cold["p99_ms"], 2),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg", help="PostgreSQL server URL (default: $CONTRACTRULES_TEST_PG or a throwaway server)")
    parser.add_argument("--smoke", action="store_true", help="a quick run; prints the results, writes nothing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=10, help="events per POST in the ingest phase")
    parser.add_argument("--out", type=Path, help="directory for service-<backend>.json (default: benchmarks/results)")
    args = parser.parse_args(argv)
    args.answers, args.queries = (3, 30) if args.smoke else (30, 1000)
    out = args.out or (None if args.smoke else RESULTS)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            if backend == "sqlite":
                db = f"sqlite:///{tmp / 'bench.db'}"
                storage = "a file in a temporary directory (WAL, synchronous=FULL)"
            else:
                db, storage = _pg_url(stack, args.pg)
            result = run_backend(backend, db, args, storage, tmp)
        text = json.dumps(result, indent=2)
        if out is None:
            print(text)
            continue
        out.mkdir(parents=True, exist_ok=True)
        (out / f"service-{backend}.json").write_text(text + "\n")
        idle, loaded = result["penalty_idle"], result["penalty_under_ingest"]
        print(
            f"{backend}: ingest {result['ingest']['events_per_s']} events/s, {result['answers']['answers_per_s']} "
            f"answers/s (16 clients); penalty idle p50 {idle['p50_ms']} / p99 {idle['p99_ms']} ms, under ingest "
            f"p50 {loaded['p50_ms']} / p99 {loaded['p99_ms']} ms; cold (every answer a replay) idle p99 "
            f"{result['penalty_idle_cold']['p99_ms']}, under ingest p99 {result['penalty_under_ingest_cold']['p99_ms']}"
            f" ms -> {out / f'service-{backend}.json'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
