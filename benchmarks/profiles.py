"""Where the time goes, for the result files: cProfile summaries of the batch and growth runs.

    python -m benchmarks.live --only batch --only growth --profile   # adds "profile" to each part

A profile slows Python code (not C) by ~2x, so shares are indicative; the figures that
count are the unprofiled ones next to them.
Each function's figures are those of its least-disturbed run among a few. Each summary gives the share of the profiled
time under a few stages (cumulative, so a stage includes what it calls) and the
functions with the most time of their own.
"""

from __future__ import annotations

import cProfile
import pstats
import tempfile
from collections.abc import Callable
from pathlib import Path

#: (label, [(file suffix, function name), ...]): the summed cumulative time of those functions.
_C = "~"  # where cProfile files built-in (C) functions
BATCH_STAGES = (
    ("index the events file (parent)", [("batch/io.py", "__init__")]),
    ("load + validate contracts", [("batch/contracts.py", "load_contract")]),
    ("read + validate events", [("batch/io.py", "read_events")]),
    ("compile", [("compiler/__init__.py", "compile_contract")]),
    ("deliver (engine loop, durable_rules, clause actions)", [("engine/engine.py", "advance")]),
    (
        "of which durable_rules (C calls)",
        [
            (_C, "<built-in method durable_rules_engine.assert_event>"),
            (_C, "<built-in method durable_rules_engine.start_action_for_state>"),
            (_C, "<built-in method durable_rules_engine.complete_and_start_action>"),
        ],
    ),
    ("finish hooks + answer", [("engine/engine.py", "finish")]),
    ("of which answer building (build_answer)", [("engine/answer.py", "build_answer")]),
    ("write answers (answer_line)", [("batch/output.py", "answer_line")]),
)
REPLAY_STAGES = (
    ("start + sort", [("engine/engine.py", "start"), ("engine/engine.py", "<lambda>")]),
    ("deliver (engine loop, durable_rules, clause actions)", [("engine/engine.py", "advance")]),
    (
        "of which durable_rules (C calls)",
        [
            (_C, "<built-in method durable_rules_engine.assert_event>"),
            (_C, "<built-in method durable_rules_engine.start_action_for_state>"),
            (_C, "<built-in method durable_rules_engine.complete_and_start_action>"),
        ],
    ),
    ("finish hooks + answer", [("engine/engine.py", "finish")]),
    ("of which answer building (build_answer)", [("engine/answer.py", "build_answer")]),
)


class _Stats:
    """Per function, the run with the least time of its own among ``repeat`` profiled runs
    (a busy machine's pauses land on whatever runs then; the least is the program's)."""

    def __init__(self, runs: list[pstats.Stats]):
        self.runs = [run.stats for run in runs]  # type: ignore[attr-defined]
        self.stats: dict = {}
        for run in runs:
            for key, value in run.stats.items():  # type: ignore[attr-defined]
                if key not in self.stats or value[2] < self.stats[key][2]:
                    self.stats[key] = value


def _profile(fn: Callable[[], object], repeat: int) -> _Stats:
    runs = []
    for _ in range(repeat):
        prof = cProfile.Profile()
        prof.enable()
        try:
            fn()
        finally:
            prof.disable()
        runs.append(pstats.Stats(prof))
    return _Stats(runs)


def _cumulative(stats: _Stats, functions: list[tuple[str, str]]) -> float:
    """The least, over the runs, of the cumulative time under ``functions``."""
    return min(
        sum(
            v[3]
            for (file, _line, func), v in run.items()
            if any(func == name and (file == suffix or file.endswith(suffix)) for suffix, name in functions)
        )
        for run in stats.runs
    )


def _top(stats: _Stats, n: int, per: int) -> list[dict]:
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:n]
    return [
        {
            "function": f"{'/'.join(Path(file).parts[-2:])}:{line}({func})",
            "calls_per_event": round(v[0] / per, 3),
            "own_us_per_event": round(v[2] / per * 1e6, 2),
            "cumulative_us_per_event": round(v[3] / per * 1e6, 2),
        }
        for (file, line, func), v in rows
    ]


def summary(fn: Callable[[], object], events: int, stages, top: int = 15, repeat: int = 1) -> dict:
    stats = _profile(fn, repeat)
    total = min(sum(v[2] for v in run.values()) for run in stats.runs)
    return {
        "profiled_us_per_event": round(total / events * 1e6, 1),
        "stages_us_per_event": {label: round(_cumulative(stats, fs) / events * 1e6, 1) for label, fs in stages},
        "stages_share": {label: round(_cumulative(stats, fs) / total, 3) for label, fs in stages},
        "top_own_time": _top(stats, top, events),
    }


def batch_profile(contracts: int = 300, months: int = 24) -> dict:
    """One ``run_batch`` (one worker) on the batch benchmark's workload, profiled."""
    from benchmarks.run import make_workload
    from contractrules.batch import run_batch

    with tempfile.TemporaryDirectory() as tmp:
        w = make_workload(Path(tmp) / "w", contracts, months, seed=11)
        out = Path(tmp) / "out.jsonl"
        events = run_batch(w["contracts"], w["events"], w["as_of"], out, workers=1).events  # warm
        return summary(
            lambda: run_batch(w["contracts"], w["events"], w["as_of"], out, workers=1), events, BATCH_STAGES, repeat=3
        )


def growth_profile(years: tuple[int, ...] = (5, 50)) -> dict:
    """A full replay (``Engine.evaluate``) at each history length, profiled: per-event figures side by side."""
    from benchmarks.live import _history
    from contractrules.engine.engine import Engine

    out = {}
    with Engine() as engine:
        for y in years:
            c, records, as_of = _history(y)
            engine.evaluate(c, records, as_of)  # warm the caches
            out[f"{y}y"] = summary(
                lambda c=c, r=records, a=as_of: engine.evaluate(c, r, a),
                len(records),
                REPLAY_STAGES,
                top=12,
                repeat=5,
            )
    return out
