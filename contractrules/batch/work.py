"""The worker side of a batch: evaluate one chunk of contracts, never raise.

A chunk is plain data (contract file paths, event references, the as-of date), so it
travels to a local process or a Dask worker alike. Each worker process (each thread, for
a threaded Dask worker) keeps one :class:`~contractrules.engine.engine.Engine` for all
the chunks it runs: rulesets are registered once per contract shape and every
contract's session is deleted after its answer, so memory stays flat.

A contract that cannot be answered (invalid contract or events, an engine error, a bug)
becomes error records and a :class:`~contractrules.batch.summary.Failure`; the other
contracts of the chunk carry on.
"""

from __future__ import annotations

import gc
import os
import resource
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from contractrules.api import evaluate
from contractrules.batch.contracts import load_contract
from contractrules.batch.io import EventRef, read_events
from contractrules.batch.output import answer_line, answer_tables, error_record
from contractrules.batch.summary import BatchSummary
from contractrules.engine.engine import Engine
from contractrules.errors import ContractError, ContractRulesError, EventError, InputError, Issue


@dataclass(frozen=True)
class Job:
    """One contract to evaluate: where its file is, what id the plan expects, its events."""

    contract_id: str
    path: str  # absolute, for reading
    display: str  # as the user wrote it, for messages
    events: EventRef = None


@dataclass(frozen=True)
class Chunk:
    index: int
    jobs: tuple[Job, ...]
    as_of: date
    fmt: str  # "jsonl" | "parquet"
    skip_invalid: bool = False


@dataclass
class ChunkResult:
    index: int
    output: object  # bytes (JSON Lines) or {table name: pyarrow.Table}
    errors: list[dict] = field(default_factory=list)
    summary: BatchSummary = field(default_factory=BatchSummary)


_local = threading.local()

# Evaluating a contract allocates many small objects and almost no reference cycles
# (refcounting frees nearly everything), yet the cyclic collector would walk the
# chunk's live objects every 700 allocations: 10-15% of a batch for nothing. While a
# chunk runs the collector is paused; it resumes (and catches up once) when the last
# running chunk of the process ends. A chunk is at most MAX_CHUNK contracts, so the
# cyclic garbage it can hold back is bounded.
_gc_lock = threading.Lock()
_gc_state = {"running": 0, "was_enabled": True}


@contextmanager
def paused_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector while chunks run in this process."""
    with _gc_lock:
        if _gc_state["running"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["running"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["running"] -= 1
            if _gc_state["running"] == 0 and _gc_state["was_enabled"]:
                gc.enable()


def engine() -> Engine:
    """This thread's engine (one per worker process, or per thread of a threaded worker)."""
    eng = getattr(_local, "engine", None)
    if eng is None:
        eng = _local.engine = Engine()
    return eng


def _stage(exc: Exception) -> str:
    if isinstance(exc, ContractError):
        return "contract"
    if isinstance(exc, EventError):
        return "events"
    return "evaluate"


def _issues(exc: Exception, job: Job) -> list[Issue]:
    if isinstance(exc, InputError):
        return list(exc.issues)
    what = str(exc) if isinstance(exc, ContractRulesError) else f"internal error: {exc!r}"
    what = what if len(what) <= 300 else what[:297] + "..."
    return [Issue(job.display, None, "", what)]


def evaluate_job(job: Job, chunk: Chunk, result: ChunkResult, answers: list) -> None:
    """Evaluate one contract into ``answers``; record why if it cannot be answered."""
    try:
        contract = load_contract(job.path, job.display)
        if contract.id != job.contract_id:  # the file changed since the plan was made
            raise ContractError(
                [
                    Issue(
                        job.display,
                        None,
                        "id",
                        f"is {contract.id!r} now, was {job.contract_id!r} when the batch started",
                    )
                ]
            )
        load = read_events(job.events, contract, chunk.skip_invalid)
        answer = evaluate(contract, load, chunk.as_of, engine=engine())
    except Exception as exc:  # noqa: BLE001 - one contract never stops the batch
        issues = _issues(exc, job)
        stage = _stage(exc)
        result.errors.extend(error_record(i, job.contract_id, stage) for i in issues)
        result.summary.add_failure(job.contract_id, job.display, str(issues[0]) if issues else stage)
        return
    result.errors.extend(error_record(i, job.contract_id, "events") for i in load.skipped)
    result.summary.add_answer(answer, len(load.records), len({i.line for i in load.skipped}))
    answers.append(answer)


def evaluate_chunk(chunk: Chunk) -> ChunkResult:
    """Evaluate every contract of ``chunk``, in order. Never raises for a bad contract."""
    result = ChunkResult(chunk.index, None)
    with paused_collector():
        answers: list = []
        for job in chunk.jobs:
            evaluate_job(job, chunk, result, answers)
        result.output = b"".join(answer_line(a) for a in answers) if chunk.fmt == "jsonl" else answer_tables(answers)
        del answers  # freed before the collector resumes, so it has little left to walk
    result.summary.errors = len(result.errors)
    result.summary.workers[f"{socket.gethostname()}:{os.getpid()}"] = peak_rss_kib()
    return result


def peak_rss_kib() -> int:
    """This process's peak resident set size (KiB).

    Linux's ``VmHWM`` (``ru_maxrss`` would include the parent's peak for a spawned worker).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def lost_chunk(chunk: Chunk, reason: str) -> ChunkResult:
    """The result for contracts whose worker died (a crash in the engine, out of memory)."""
    result = ChunkResult(chunk.index, b"" if chunk.fmt == "jsonl" else answer_tables([]))
    for job in chunk.jobs:
        issue = Issue(job.display, None, "", f"the worker evaluating this contract was lost: {reason}")
        result.errors.append(error_record(issue, job.contract_id, "evaluate"))
        result.summary.add_failure(job.contract_id, job.display, issue.message)
    result.summary.errors = len(result.errors)
    return result
