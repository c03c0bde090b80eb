"""Peak memory of ``contractrules ingest`` against the number of events in the batch.

    python benchmarks/ingest_memory.py                        # 20k, 80k, 200k on SQLite -> results/ingest-memory.json
    python benchmarks/ingest_memory.py --sizes 1000 --smoke   # quick: prints JSON, writes nothing
    python benchmarks/ingest_memory.py --pg postgresql://...  # PostgreSQL too (the server's memory is not counted)

Each size is one JSON Lines file of a seeded, realistic mix for the bundled
``website-care-2025`` contract: per cycle an invoice, its payment and a reminder (so a
third of the events issue an invoice, each looked up among the issued ones). Every run
is a fresh ``contractrules ingest`` process (``python -m contractrules``) on a fresh
store: ``new`` ingests the file into a store holding only the contract, ``again``
ingests the same file a second time (every event already stored: all duplicates). The
peak is the process's maximum resident set size (``ru_maxrss`` from ``wait4``), which
includes the interpreter and the imported libraries (``baseline``: a batch of one
event); ``per_event_bytes`` is (peak − baseline) / events.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "rulesets" / "examples" / "website-care" / "contract.yaml"
CID = "website-care-2025"


def write_events(path: Path, n: int) -> Path:
    """``n`` events: invoice, payment, reminder per cycle (dates within the date range)."""
    start = date(2025, 1, 31)
    with path.open("w") as f:
        for i in range(n):
            cycle, kind = divmod(i, 3)
            day = (start + timedelta(days=cycle % 3000)).isoformat()
            number = f"INV-{cycle:07d}"
            if kind == 0:
                event = {
                    "id": f"inv-{cycle}",
                    "type": "invoice_issued",
                    "at": day,
                    "by": "studio",
                    "channel": "email",
                    "invoice": number,
                    "amount": "450.00",
                }
            elif kind == 1:
                event = {
                    "id": f"pay-{cycle}",
                    "type": "payment_received",
                    "at": day,
                    "by": "acme",
                    "invoice": number,
                    "amount": "450.00",
                }
            else:
                event = {
                    "id": f"rem-{cycle}",
                    "type": "reminder_sent",
                    "at": day,
                    "by": "studio",
                    "channel": "email",
                    "invoice": number,
                }
            f.write(json.dumps(event) + "\n")
    return path


def _peak(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Seconds, peak RSS (bytes, the child's own ``ru_maxrss``) and stdout of one ``contractrules`` process."""
    code = (
        "import resource, runpy, sys\n"
        "sys.argv = ['contractrules', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('contractrules', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "else:\n"
        "    code = 0\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"contractrules {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    peak = next(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK "))
    return seconds, peak * 1024, proc.stdout


def measure(url_for, sizes: list[int], work: Path, env: dict[str, str]) -> dict:
    out: dict = {}
    base_file = write_events(work / "one.jsonl", 1)
    url = url_for("baseline")
    _peak(["db", "init", "--db", url], env)
    _, baseline, _ = _peak(["ingest", "--db", url, str(CONTRACT), str(base_file)], env)
    out["baseline_rss_mb"] = round(baseline / 2**20, 1)
    for n in sizes:
        path = write_events(work / f"events-{n}.jsonl", n)
        url = url_for(f"n{n}")
        _peak(["db", "init", "--db", url], env)
        _peak(["ingest", "--db", url, str(CONTRACT)], env)
        row = {}
        for attempt in ("new", "again"):
            seconds, peak, stdout = _peak(
                ["ingest", "--db", url, "--contract", CID, "--format", "json", str(path)], env
            )
            done = json.loads(stdout)
            row[attempt] = {
                "seconds": round(seconds, 1),
                "peak_rss_mb": round(peak / 2**20, 1),
                "per_event_bytes": round(max(peak - baseline, 0) / n),
                "added": done.get("added"),
                "duplicates": done.get("duplicates"),
            }
        out[str(n)] = row
        print(n, row, file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 80_000, 200_000])
    parser.add_argument("--pg", help="also measure on this PostgreSQL database (a schema per run)")
    parser.add_argument("--smoke", action="store_true", help="print the JSON, write nothing")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ingest-memory.json"))
    ns = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    result: dict = {
        "benchmark": "ingest-memory",
        "commit": commit,
        "events": "invoice, payment, reminder per cycle",
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result["sqlite"] = measure(lambda name: f"sqlite:///{work / name}.db", ns.sizes, work, env)
        if ns.pg:
            import psycopg

            def pg_url(name: str) -> str:
                schema = f"ingest_memory_{name}_{os.getpid()}"
                with psycopg.connect(ns.pg, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                    conn.execute(f'CREATE SCHEMA "{schema}"')
                sep = "&" if "?" in ns.pg else "?"
                return f"{ns.pg}{sep}options=-csearch_path%3D{schema}"

            result["postgres"] = measure(pg_url, ns.sizes, work, env)
    text = json.dumps(result, indent=2) + "\n"
    if ns.smoke:
        print(text)
    else:
        Path(ns.out).write_text(text)
        print(f"wrote {ns.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
