"""Live-session benchmarks (issue 12), measured side by side in one run.

    python -m benchmarks.live                  # growth, embedding, cli, batch; saves benchmarks/results/live.json
    python -m benchmarks.live --only growth    # one part
    python -m benchmarks.live --size 1000000   # by hand only: one contract, many events a day

- **growth**: one contract (benchmarks/workload.py) with 1, 5, 10, 20, 50 years of history:
  full replay µs/event (``Engine.evaluate``), and on a live contract holding all but the
  last event: ``post`` of the last one, then ``answer`` and ``penalty`` as of the end;
  also a backdated payment a month before the end (rewind and replay); and the 5- and
  50-year replays again, alternating (``replay_interleaved``). Goals: replay
  µs/event at 50 years ≤ 1.2 × at 5 years; ``penalty`` after one new event ≤ 1 ms;
  ``answer`` after one new event ≤ 1/10 of a full replay of 50 years.
- **embedding**: 1,000 events posted one at a time in event order with an answer as of
  each event's day after each. Goal: median step of the last 50 ≤ 1.5 × the first 50.
- **cli**: ``import contractrules.cli`` vs ``import pydantic`` (each a fresh interpreter,
  less a bare one), and ``contractrules penalty`` wall time on a 5-year contract. Goal: the
  CLI import costs at most 2 × pydantic's. Measured with bytecode cached (as a wheel
  installs it) and, for comparison, compiled at each start (PYTHONDONTWRITEBYTECODE, as
  this environment sets it); with the modules whose own import time is largest.
- **batch**: end to end (``run_batch``, one worker) vs a plain loop that only parses the
  same events (json, date, Decimal, dict update) and vs raw durable_rules posts
  (benchmarks/run.py), in interleaved rounds (best of each). Goals: ≥ 1/4 of the plain
  loop, ≥ 1/2 of raw posts.
- **size** (by hand): N events for one contract, posted to a live contract in one call
  and answered; seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # python benchmarks/live.py
    sys.path.insert(0, str(ROOT))

from benchmarks.run import RESULTS, _git, machine, timed  # noqa: E402

YEARS = (1, 5, 10, 20, 50)


def _history(years: int, seed: int = 3):
    import contractrules as cr
    from benchmarks.workload import generate
    from contractrules.engine.engine import Engine

    w = generate(1, 12 * years, seed=seed)
    c = cr.parse_contract(w.contracts[0])
    records = sorted(cr.parse_events([(None, e) for e in w.events[c.id]], c).records, key=Engine().order_key)
    return c, records, w.as_of


def _once(fn, *args):
    """(seconds, result) of one call."""
    t = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t, result


def _growth_row(engine, years: int) -> dict:
    import contractrules as cr

    c, records, as_of = _history(years)
    # a billing system asks as of today: on or after the newest event's day
    as_of = max(as_of, records[-1].local_date)
    repeat = 3 if years <= 10 else 2
    gc.collect()  # the previous rows' live contracts: not this replay's garbage
    full, expected = timed(lambda: engine.evaluate(c, records, as_of), repeat)
    invoice = next(r.event.invoice for r in records if r.event.type == "invoice_issued")
    late = {
        "id": "late-payment",
        "type": "payment_received",
        "by": "acme",
        "amount": "1.00",
        "at": (records[-1].local_date - timedelta(days=30)).isoformat(),
    }
    # each live figure is the best of ``repeat`` fresh live contracts (a step happens once
    # per contract), like the replay: the machine's noise only ever adds time
    post = answer = other_post = penalty = backdated = float("inf")
    for _ in range(repeat):
        live = cr.open_contract(c, engine=engine)
        live.post(records[:-1])
        live.answer(as_of)
        took, _ = _once(live.post, records[-1:])
        post = min(post, took)
        took, got = _once(live.answer, as_of)
        answer = min(answer, took)
        assert got == expected, "live answer differs from the full replay"
        other = cr.open_contract(c, engine=engine)
        other.post(records[:-1])
        other.penalty(invoice, as_of)
        took, _ = _once(other.post, records[-1:])
        took_penalty, _ = _once(other.penalty, invoice, as_of)
        if took + took_penalty < other_post + penalty:
            other_post, penalty = took, took_penalty
        took, result = _once(live.post, [late])
        backdated = min(backdated, took)
        checkpoints = live.checkpoints
        live.close()
        other.close()
    row = {
        "years": years,
        "events": len(records),
        "full_replay_ms": round(full * 1e3, 2),
        "full_replay_us_per_event": round(full / len(records) * 1e6, 1),
        "live_post_ms": round(post * 1e3, 3),
        "live_answer_ms": round(answer * 1e3, 2),
        "live_post_then_penalty_ms": round((other_post + penalty) * 1e3, 2),
        "live_penalty_ms": round(penalty * 1e3, 2),
        "backdated_post_ms": round(backdated * 1e3, 2),
        "backdated_replayed_from": str(result.replayed_from),
        "checkpoints": checkpoints,
        "best_of": repeat,
    }
    return row


def growth() -> dict:
    from contractrules.engine.engine import Engine

    with Engine() as engine:
        rows = [_growth_row(engine, years) for years in YEARS]
        gc.collect()  # the live contracts' garbage, not the replays', whose collector is paused
        interleaved = _replay_interleaved(engine)
    by = {r["years"]: r for r in rows}
    return {
        "profile_50y_answer": _answer_profile(50),
        "rows": rows,
        "replay_interleaved": interleaved,
        "goals": {
            "replay_50y_over_5y": _goal(by[50]["full_replay_us_per_event"] / by[5]["full_replay_us_per_event"], 1.2),
            "replay_50y_over_5y_interleaved": _goal(interleaved["ratio"], 1.2),
            "penalty_ms_max": _goal(max(r["live_post_then_penalty_ms"] for r in rows), 1.0),
            "answer_over_full_replay_50y": _goal(by[50]["live_answer_ms"] / by[50]["full_replay_ms"], 0.1),
        },
    }


def _answer_profile(years: int, top: int = 14) -> list[dict]:
    """Where a live answer after one new event spends its time (cProfile, cumulative)."""
    import cProfile
    import pstats

    import contractrules as cr

    c, records, as_of = _history(years)
    as_of = max(as_of, records[-1].local_date)
    live = cr.open_contract(c)
    live.post(records[:-1])
    live.answer(as_of)
    live.post(records[-1:])
    prof = cProfile.Profile()
    prof.runcall(live.answer, as_of)
    live.close()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = sorted(
        ((f"{Path(file).name}:{line}({fn})", ct, tt, nc) for (file, line, fn), (_cc, nc, tt, ct, _) in stats.items()),
        key=lambda r: -r[1],
    )
    return [
        {"function": name, "cumulative_ms": round(ct * 1e3, 2), "own_ms": round(tt * 1e3, 2), "calls": nc}
        for name, ct, tt, nc in rows[:top]
    ]


def _replay_interleaved(engine, rounds: int = 7) -> dict:
    """Full replay µs/event at 5 and 50 years, runs alternating (best of ``rounds`` each):
    the ratio of two figures taken at the same moments, less exposed to the machine's load."""
    histories = {years: _history(years) for years in (5, 50)}
    best = {years: float("inf") for years in histories}
    for _ in range(rounds):
        for years, (c, records, as_of) in histories.items():
            t = time.perf_counter()
            engine.evaluate(c, records, as_of)
            best[years] = min(best[years], (time.perf_counter() - t) / len(records))
    return {
        "rounds": rounds,
        "us_per_event_5y": round(best[5] * 1e6, 1),
        "us_per_event_50y": round(best[50] * 1e6, 1),
        "ratio": round(best[50] / best[5], 3),
    }


def _goal(value: float, limit: float) -> dict:
    return {
        "value": round(value, 3),
        "limit": limit,
        "met": value <= limit,
        "missed_by": None if value <= limit else f"{value / limit:.1f}x",
    }


def embedding(n: int = 1000) -> dict:
    import contractrules as cr
    from contractrules.engine.engine import Engine

    c, records, _ = _history(16)
    records = records[:n]
    steps = []
    with Engine() as engine:
        live = cr.open_contract(c, engine=engine)
        for rec in records:
            t = time.perf_counter()
            live.post([rec])
            live.answer(rec.local_date)
            steps.append(time.perf_counter() - t)
        last = live.answer(records[-1].local_date)
        assert last == engine.evaluate(c, records, records[-1].local_date)
    first50, last50 = statistics.median(steps[:50]), statistics.median(steps[-50:])
    return {
        "events": len(records),
        "total_s": round(sum(steps), 2),
        "median_first_50_ms": round(first50 * 1e3, 2),
        "median_last_50_ms": round(last50 * 1e3, 2),
        "goal": _goal(last50 / first50, 1.5),
    }


def _bytecode_env(cache: Path | None) -> dict[str, str]:
    """The environment of a measured interpreter: with ``cache``, bytecode compiled once into
    it and read back, as from an installed wheel (pip compiles it at install); without it,
    this environment as it is (here PYTHONDONTWRITEBYTECODE=1: every contractrules module is
    compiled from source at each start, while the site-packages have their bytecode)."""
    env = dict(os.environ)
    if cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def _side_by_side(cases: dict[str, tuple[list[str], dict[str, str]]], repeat: int = 7) -> dict[str, tuple]:
    """Fresh interpreters, ``python ARGS`` each case once per round (interleaved, so that a
    change of load on this shared machine hits every case alike): best wall and best CPU
    (user + system) seconds of each case."""
    wall = dict.fromkeys(cases, float("inf"))
    cpu = dict.fromkeys(cases, float("inf"))
    for _ in range(repeat):
        for key, (args, env) in cases.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([sys.executable, *args], cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL)
            wall[key] = min(wall[key], time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpu[key] = min(cpu[key], used)
    return {key: (wall[key], cpu[key]) for key in cases}


def _importtime(args: list[str], env: dict[str, str], top: int, runs: int = 3) -> list[list]:
    """The modules with the largest own import time (``-X importtime``, best of ``runs``):
    ``[module, self ms, cumulative ms]``, largest first."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        ).stderr
        for line in err.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            us_self, us_total, name = line[len("import time:") :].split("|")
            key = name.strip()
            own[key] = min(own.get(key, 1 << 60), int(us_self))
            total[key] = min(total.get(key, 1 << 60), int(us_total))
    return [[k, round(own[k] / 1e3, 1), round(total[k] / 1e3, 1)] for k in sorted(own, key=lambda k: -own[k])[:top]]


def cli() -> dict:
    """Start-up: imports and ``penalty`` in fresh interpreters, bytecode cached (as installed)
    and, for comparison with earlier runs, compiled at each start (this environment)."""
    import yaml

    c, records, as_of = _history(5)
    from benchmarks.workload import generate

    w = generate(1, 60, seed=3)
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cpath, epath = Path(tmp) / "c.yaml", Path(tmp) / "e.jsonl"
        cpath.write_text(yaml.safe_dump(w.contracts[0]))
        epath.write_text("".join(json.dumps(e) + "\n" for e in w.events[c.id]))
        invoice = next(r.event.invoice for r in records if r.event.type == "invoice_issued")
        penalty = ["-m", "contractrules", "penalty", str(cpath), str(epath), "--invoice", invoice]
        penalty += ["--as-of", as_of.isoformat(), "--format", "json"]
        codes = {
            "bare": ["-c", "pass"],
            "pydantic": ["-c", "import pydantic"],
            "cli": ["-c", "import contractrules.cli"],
            # what penalty imports to answer: the CLI and the API (models, compiler, engine)
            "cli_and_api": ["-c", "import contractrules.cli, contractrules.api"],
            "penalty": penalty,
        }
        modes = {"bytecode_cached": _bytecode_env(Path(tmp) / "pyc"), "no_bytecode": _bytecode_env(None)}
        for args in (penalty, ["-c", "import pydantic"]):  # compile once, as pip does at install
            subprocess.run(
                [sys.executable, *args], cwd=ROOT, env=modes["bytecode_cached"], check=True, stdout=subprocess.DEVNULL
            )
        best = _side_by_side(
            {f"{mode} {code}": (args, env) for mode, env in modes.items() for code, args in codes.items()}
        )
        for mode in modes:
            wall = {code: best[f"{mode} {code}"][0] for code in codes}
            cpu = {code: best[f"{mode} {code}"][1] for code in codes}
            figures[mode] = {
                "python_bare_s": round(wall["bare"], 3),
                "import_pydantic_s": round(wall["pydantic"] - wall["bare"], 3),
                "import_cli_s": round(wall["cli"] - wall["bare"], 3),
                "import_cli_and_api_s": round(wall["cli_and_api"] - wall["bare"], 3),
                "penalty_5y_wall_s": round(wall["penalty"], 3),
                "cpu_s": {  # user + system, less sensitive to the machine's load than wall time
                    "python_bare": round(cpu["bare"], 3),
                    "import_pydantic": round(cpu["pydantic"] - cpu["bare"], 3),
                    "import_cli": round(cpu["cli"] - cpu["bare"], 3),
                    "import_cli_and_api": round(cpu["cli_and_api"] - cpu["bare"], 3),
                    "penalty_5y": round(cpu["penalty"], 3),
                },
            }
            figures[mode]["cli_over_pydantic"] = round(
                figures[mode]["import_cli_s"] / figures[mode]["import_pydantic_s"], 2
            )
        env = _bytecode_env(Path(tmp) / "pyc")
        where = {
            "import_cli": _importtime(["-c", "import contractrules.cli"], env, top=8),
            "penalty_5y": _importtime(penalty, env, top=15),
        }
    cached = figures["bytecode_cached"]
    return {
        **cached,
        "events_5y": len(records),
        "goal": _goal(cached["import_cli_s"] / cached["import_pydantic_s"], 2.0),
        "no_bytecode": figures["no_bytecode"],
        "importtime_top_ms": where,
    }


def plain_loop(path: Path) -> dict:
    """What a loop that only parses the events costs: json, date, Decimal, dict update."""

    def run() -> int:
        state: dict[str, dict] = {}
        n = 0
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                e = json.loads(line)
                e["at"] = date.fromisoformat(e["at"][:10])
                if "amount" in e:
                    e["amount"] = Decimal(e["amount"])
                state.setdefault(e["contract"], {})[e["id"]] = e
                n += 1
        return n

    seconds, n = timed(run, 3)
    return {"seconds": round(seconds, 3), "events": n, "events_per_s": round(n / seconds)}


BATCH_ROUNDS = 3


def _best(best: dict, new: dict, rate: str) -> dict:
    return new if not best or new[rate] > best[rate] else best


def batch(contracts: int = 300, months: int = 24) -> dict:
    from benchmarks.run import end_to_end, make_workload, preload, raw_durable_rules

    with tempfile.TemporaryDirectory() as tmp:
        w = make_workload(Path(tmp) / "w", contracts, months, seed=11)
        e2e: dict = {}
        raw: dict = {}
        plain: dict = {}
        for _ in range(BATCH_ROUNDS):  # interleaved, the best of each: a busy machine slows all three alike
            e2e = _best(e2e, end_to_end(w, Path(tmp) / "out.jsonl", 1, workers=1), "events_per_s")
            raw = _best(raw, raw_durable_rules(preload(w), 1), "posts_per_s")  # after end_to_end: its heap stays small
            plain = _best(plain, plain_loop(Path(w["events"])), "events_per_s")
    return {
        "contracts": contracts,
        "months": months,
        "end_to_end": e2e,
        "raw_durable_rules": raw,
        "plain_loop": plain,
        "goals": {
            "of_plain_loop": _goal(plain["events_per_s"] / e2e["events_per_s"], 4.0),
            "of_raw_posts": _goal(raw["posts_per_s"] / e2e["events_per_s"], 2.0),
        },
    }


def size(n: int) -> dict:
    """One contract, ``n`` events: each day 50 invoices, each paid (most on time) and some reminded."""
    import contractrules as cr
    from tests.strategies import stream_contract_data

    data = stream_contract_data("size")
    del data["terms"]["scope"]
    contract = cr.parse_contract(data)
    events: list[dict] = []
    day, k = date(2025, 1, 1), 0
    while len(events) < n:
        for _ in range(50):
            k += 1
            events.append(
                {
                    "id": f"i{k}",
                    "type": "invoice_issued",
                    "at": day.isoformat(),
                    "invoice": f"INV-{k}",
                    "amount": "100.00",
                    "by": "studio",
                }
            )
            late = 45 if k % 10 == 0 else 20
            events.append(
                {
                    "id": f"p{k}",
                    "type": "payment_received",
                    "at": (day + timedelta(days=late)).isoformat(),
                    "amount": "100.00",
                    "by": "acme",
                    "invoice": f"INV-{k}",
                }
            )
        day += timedelta(days=1)
    events = events[:n]
    as_of = day + timedelta(days=60)
    t = time.perf_counter()
    live = cr.open_contract(contract)
    live.post(events)
    posted = time.perf_counter() - t
    answer = live.answer(as_of)
    total = time.perf_counter() - t
    return {
        "events": len(events),
        "post_s": round(posted, 1),
        "post_and_answer_s": round(total, 1),
        "obligations": len(answer.obligations),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


PARTS = {"growth": growth, "embedding": embedding, "cli": cli, "batch": batch}


PROFILED = ("batch", "growth")


def _profile(name: str) -> dict:
    """Where the time goes (benchmarks/profiles.py), for a part that misses a goal."""
    from benchmarks.profiles import batch_profile, growth_profile

    return {"batch": batch_profile, "growth": growth_profile}[name]()


def _missed(part: dict) -> bool:
    goals = part.get("goals") or {"goal": part.get("goal", {})}
    return any(g.get("met") is False for g in goals.values())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=sorted(PARTS), action="append")
    ap.add_argument("--size", type=int, help="by hand: one contract with this many events")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--profile", action="store_true", help="add a cProfile summary to parts that miss a goal")
    args = ap.parse_args(argv)
    report: dict = {"commit": _git("rev-parse", "HEAD"), "machine": machine()}
    default = RESULTS / "live.json"
    if args.only and not args.out and default.exists():  # one part again: keep the others' figures
        report = {**json.loads(default.read_text()), **report}
    if args.size:
        report["size"] = size(args.size)
        out = args.out or RESULTS / f"live-size-{args.size}.json"
    else:
        for name in args.only or list(PARTS):
            t = time.perf_counter()
            report[name] = PARTS[name]()
            report[name]["bench_seconds"] = round(time.perf_counter() - t, 1)
            report[name]["commit"] = report["commit"]
            print(name, json.dumps(report[name], indent=1), flush=True)
            if args.profile and name in PROFILED and _missed(report[name]):
                report[name]["profile"] = _profile(name)
        out = args.out or default
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"saved {out}")
    return report


if __name__ == "__main__":
    main()
