"""Store benchmark: ingest rate and ``penalty`` latency for five years of monthly history.

    python benchmarks/store_bench.py                  # both backends -> benchmarks/results/store-<backend>.json
    python benchmarks/store_bench.py --smoke          # a quick run: prints JSON, writes nothing
    python benchmarks/store_bench.py --backend postgres --pg postgresql://user@host/db

The workload is seeded (no wall clock in it): a monthly service contract started
2020-01-01, billed in arrears for 60 cycles (five years), 30 payment days, a 15-day
grace, 10 % interest and a 40.00 fee; every invoice is paid on time, late, in two parts,
or (the last two) not yet; late ones get a reminder, one is disputed, a few get a credit
note -- about 150 events a contract. Measured, on a fresh store per backend:

- ``ingest.bulk``: whole histories of several contracts, one batch each (events/s);
- ``ingest.incremental``: one contract fed one event per batch, as a billing system
  records them (batches/s = events/s);
- ``penalty``: ``store.penalty(contract, invoice, as_of)`` for the five-year contract as
  of the end of its history (a full replay each time; the store object, its
  connection and its engine are reused, as in a service): p50/p99/max in ms, and the
  same with ``known_at`` (a bitemporal question) and as of dates spread over the five
  years. ``snapshot_only`` is the store's share (one read + the events' models), the
  rest is the engine. ``as_of_end_gc_frozen`` repeats the first series after
  ``gc.collect(); gc.freeze()``: most of the p99 is Python's full garbage collections
  scanning every object the process imported (see docs/store.md, "Latency").

PostgreSQL: ``--pg URL``, else ``$CONTRACTRULES_TEST_PG``, else a throwaway server
(tests/integration/pgserver.py). The goal: a penalty answer in under 20 ms p99.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contractrules.store import open_store  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
START, CYCLES = date(2020, 1, 1), 60
AS_OF = date(2025, 1, 15)
GOAL_P99_MS = 20.0


# --------------------------------------------------------------------------- workload


def contract_doc(cid: str) -> dict:
    return {
        "id": cid,
        "title": "Five years of monthly maintenance",
        "parties": {"provider": {"id": "studio", "name": "Studio S.L."}, "client": {"id": "acme", "name": "ACME S.A."}},
        "timezone": "Europe/Madrid",
        "currency": "EUR",
        "start": START.isoformat(),
        "terms": {
            "billing": {"cycle": "monthly", "fee": "600.00", "timing": "arrears"},
            "payment": {"terms_days": 30},
            "late_penalty": {
                "grace_days": 15,
                "interest": {"annual_rate": "0.10"},
                "fixed_fee": "40.00",
                "disputes_suspend": True,
            },
            "termination": {"notice_days": 30},
        },
    }


def _month(k: int) -> date:
    y, m = divmod(START.month - 1 + k, 12)
    return date(START.year + y, m + 1, 1)


def history(seed: int) -> tuple[list[dict], list[str]]:
    """~150 events over 60 monthly cycles, and the invoices that were paid late."""
    rng = random.Random(seed)
    events: list[dict] = []
    late: list[str] = []
    for k in range(CYCLES):
        period, issued = _month(k), _month(k + 1)
        inv = f"INV-{period:%Y-%m}"
        events.append(
            {
                "id": f"i{k}",
                "type": "invoice_issued",
                "at": issued.isoformat(),
                "by": "studio",
                "channel": "email",
                "invoice": inv,
                "amount": "600.00",
                "period": period.isoformat(),
            }
        )
        if k >= CYCLES - 2:
            continue  # the last two are still open
        roll = rng.random()
        if roll < 0.65:
            pays = [(rng.randint(5, 29), "600.00")]
        elif roll < 0.87:
            pays = [(rng.randint(35, 80), "600.00")]
        else:
            pays = [(20, "300.00"), (rng.randint(50, 90), "300.00")]
        if k % 17 == 5:
            events.append(
                {
                    "id": f"c{k}",
                    "type": "credit_note",
                    "at": (issued + timedelta(days=3)).isoformat(),
                    "invoice": inv,
                    "amount": "50.00",
                }
            )
            pays[-1] = (pays[-1][0], f"{float(pays[-1][1]) - 50:.2f}")
        if pays[-1][0] > 30:
            late.append(inv)
            events.append(
                {
                    "id": f"r{k}",
                    "type": "reminder_sent",
                    "at": (issued + timedelta(days=35)).isoformat(),
                    "by": "studio",
                    "channel": "email",
                    "invoice": inv,
                }
            )
        if k == 30:
            events.append(
                {
                    "id": "d1",
                    "type": "dispute_opened",
                    "at": (issued + timedelta(days=10)).isoformat(),
                    "by": "acme",
                    "invoice": inv,
                }
            )
            events.append(
                {
                    "id": "d2",
                    "type": "dispute_resolved",
                    "at": (issued + timedelta(days=40)).isoformat(),
                    "by": "acme",
                    "invoice": inv,
                }
            )
        for n, (days, amount) in enumerate(pays):
            events.append(
                {
                    "id": f"p{k}-{n}",
                    "type": "payment_received",
                    "at": f"{(issued + timedelta(days=days)).isoformat()}T10:00:00+01:00",
                    "channel": "portal",
                    "invoice": inv,
                    "amount": amount,
                }
            )
    return events, late


# --------------------------------------------------------------------------- measuring


def _ms(samples: list[float]) -> dict:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000, 3)

    return {
        "n": len(ordered),
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_ingest(store, contracts: int, incremental: int, seed: int) -> dict:
    events, _ = history(seed)
    spent = 0.0
    for n in range(contracts):
        cid = f"bulk-{n:03d}"
        store.add_contract(contract_doc(cid))
        spent += _timed(lambda cid=cid: store.append_events(cid, events))
    bulk = {
        "contracts": contracts,
        "events": contracts * len(events),
        "seconds": round(spent, 3),
        "events_per_s": round(contracts * len(events) / spent, 1),
    }
    store.add_contract(contract_doc("incremental"))
    feed = events[:incremental]
    spent = sum(_timed(lambda e=e: store.append_events("incremental", [e])) for e in feed)
    inc = {
        "events": len(feed),
        "batches": len(feed),
        "seconds": round(spent, 3),
        "events_per_s": round(len(feed) / spent, 1),
    }
    return {"bulk": bulk, "incremental": inc}


def bench_penalty(store, queries: int, seed: int) -> dict:
    events, late = history(seed)
    cid = "five-years"
    store.add_contract(contract_doc(cid))
    half = store.append_events(cid, events[: len(events) // 2])
    store.append_events(cid, events[len(events) // 2 :])
    first = _timed(lambda: store.penalty(cid, late[-1], AS_OF))
    for n in range(20):  # warm-up: rulesets registered, caches filled
        store.penalty(cid, late[n % len(late)], AS_OF)
    rng = random.Random(seed)
    at_end = [_timed(lambda n=n: store.penalty(cid, late[n % len(late)], AS_OF)) for n in range(queries)]
    known_then = {e["invoice"] for e in events[: len(events) // 2] if e["type"] == "invoice_issued"}
    early = [i for i in late if i in known_then]
    known = [
        _timed(lambda n=n: store.penalty(cid, early[n % len(early)], AS_OF, known_at=half.recorded_at))
        for n in range(queries)
    ]
    days = [START + timedelta(days=rng.randint(400, (AS_OF - START).days)) for _ in range(queries)]
    spread = []
    for day in days:
        invoice = next(
            (i for i in reversed(late) if date.fromisoformat(i[4:] + "-01") < day - timedelta(days=35)), late[0]
        )
        spread.append(_timed(lambda d=day, i=invoice: store.penalty(cid, i, d)))
    snapshot = [_timed(lambda: store.snapshot(cid, AS_OF)) for _ in range(queries)]
    gc.collect()
    gc.freeze()  # what a long-running service does after warm-up: full collections stop scanning startup objects
    try:
        frozen = [_timed(lambda n=n: store.penalty(cid, late[n % len(late)], AS_OF)) for n in range(queries)]
    finally:
        gc.unfreeze()
    answer = store.penalty(cid, late[-1], AS_OF)
    return {
        "contract": {"events": len(events), "cycles": CYCLES, "late_invoices": len(late), "as_of": AS_OF.isoformat()},
        "first_query_ms": round(first * 1000, 3),
        "as_of_end": _ms(at_end),
        "as_of_end_gc_frozen": _ms(frozen),
        "as_of_end_known_at": _ms(known),
        "as_of_spread": _ms(spread),
        "snapshot_only": _ms(snapshot),
        "sample_answer": answer.model_dump(mode="json"),
    }


def run_backend(backend: str, url: str, args, storage: str) -> dict:
    with open_store(url, migrate=True) as store:
        ingest = bench_ingest(store, args.contracts, args.incremental, args.seed)
        penalty = bench_penalty(store, args.queries, args.seed)
        counts = store.counts()
    p99 = penalty["as_of_end"]["p99_ms"]
    return {
        "benchmark": "store",
        "backend": backend,
        "smoke": args.smoke,
        "seed": args.seed,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "server": _server_version(backend, url),
            "storage": storage,
        },
        "ingest": ingest,
        "penalty": penalty,
        "store_counts": counts,
        "goal": {"penalty_p99_ms": GOAL_P99_MS, "measured_p99_ms": p99, "met": p99 < GOAL_P99_MS},
    }


def _server_version(backend: str, url: str) -> str:
    if backend == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def _pg_url(stack: ExitStack, given: str | None) -> tuple[str, str]:
    """A fresh schema on the server, as a store URL, and how the server stores data."""
    url = given or os.environ.get("CONTRACTRULES_TEST_PG")
    storage = "the server given, as configured"
    if url is None:
        storage = "a throwaway local server with fsync=off (commits are not flushed to disk)"
        from tests.integration.pgserver import ThrowawayServer, find_bindir

        bindir = find_bindir()
        if bindir is None:
            raise SystemExit("no PostgreSQL: give --pg URL or install the server binaries")
        url = stack.enter_context(ThrowawayServer(bindir))
    import psycopg

    schema = f"cr_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    stack.callback(drop)
    from tests.integration.conftest import with_search_path

    return with_search_path(url, schema), storage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg", help="PostgreSQL server URL (default: $CONTRACTRULES_TEST_PG or a throwaway server)")
    parser.add_argument("--smoke", action="store_true", help="a quick run; prints the results, writes nothing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="directory for store-<backend>.json (default: benchmarks/results)")
    args = parser.parse_args(argv)
    args.contracts, args.incremental, args.queries = (2, 20, 30) if args.smoke else (20, 139, 1000)
    out = args.out or (None if args.smoke else RESULTS)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with ExitStack() as stack:
            if backend == "sqlite":
                folder = stack.enter_context(tempfile.TemporaryDirectory())
                url = f"sqlite:///{Path(folder) / 'bench.db'}"
                storage = f"a file in {folder} (WAL, synchronous=FULL: every commit is flushed to disk)"
            else:
                url, storage = _pg_url(stack, args.pg)
            result = run_backend(backend, url, args, storage)
        text = json.dumps(result, indent=2)
        if out is None:
            print(text)
        else:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"store-{backend}.json").write_text(text + "\n")
            pen, frozen = result["penalty"]["as_of_end"], result["penalty"]["as_of_end_gc_frozen"]
            print(
                f"{backend}: bulk {result['ingest']['bulk']['events_per_s']} events/s, incremental "
                f"{result['ingest']['incremental']['events_per_s']} events/s; penalty p50 {pen['p50_ms']} ms, "
                f"p99 {pen['p99_ms']} ms (gc frozen: p99 {frozen['p99_ms']} ms) -> {out / f'store-{backend}.json'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
