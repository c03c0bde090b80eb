"""Orchestrating a batch: plan, evaluate chunks in parallel, write in order.

1. **Plan** (this process): list the contract files and read each one's ``id``
   (:func:`~contractrules.batch.contracts.quick_id`, falling back to a full load); index
   the events (:func:`~contractrules.batch.io.open_events`). Two files with one id, a
   contract that cannot be read, events for an unknown contract: errors, not stops.
2. **Evaluate**: contracts sorted by id, cut into chunks, submitted to the executor with
   at most a few chunks per slot in flight (so memory stays bounded whatever the size
   of the batch); each chunk's events are read only when it is submitted.
3. **Write** results in chunk order (answers, errors, summary), so the output is the
   same bytes for any number of workers, local or on Dask.

A chunk whose worker was lost (or which failed outside any one contract) is retried
contract by contract; a contract that fails again is recorded as failed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from contractrules.batch import contracts as contract_io
from contractrules.batch import io
from contractrules.batch.output import (
    ErrorLog,
    default_errors_path,
    error_record,
    open_sink,
    output_files,
    output_format,
    refuse_overlap,
)
from contractrules.batch.progress import Reporter, reporter
from contractrules.batch.summary import BatchSummary
from contractrules.batch.work import Chunk, ChunkResult, Job, evaluate_chunk, lost_chunk
from contractrules.errors import ContractError, Issue

MAX_CHUNK = 32  # contracts per task, at most
IN_FLIGHT = 3  # chunks submitted per slot ahead of the one being written


@dataclass(frozen=True)
class Planned:
    """A readable contract file and the id it declares."""

    path: Path
    display: str
    contract_id: str


def plan_contracts(directory: str | Path, summary: BatchSummary, errors: list[dict]) -> list[Planned]:
    """Every contract file with its id; unreadable files and duplicate ids become errors."""
    planned = []
    outside: list[Path] = []
    paths = contract_io.contract_files(directory, outside)
    for path in outside:
        display = str(Path(directory) / path.name)
        issue = Issue(display, None, "", f"a symbolic link leading outside {directory}: not followed")
        errors.append(error_record(issue, None, "contract"))
        summary.add_failure(None, display, str(issue))
    found = len(outside)
    for path in paths:
        found += 1
        display = str(Path(directory) / path.name)
        cid = contract_io.quick_id(path)
        if cid is None:
            try:
                cid = contract_io.load_contract(path, display).id
            except ContractError as exc:  # unreadable: an error record, not planned
                errors.extend(error_record(i, None, "contract") for i in exc.issues)
                summary.add_failure(None, display, str(exc.issues[0]))
                continue
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
                issue = Issue(display, None, "", f"cannot be read: {type(exc).__name__}: {str(exc)[:200]}")
                errors.append(error_record(issue, None, "contract"))
                summary.add_failure(None, display, str(issue))
                continue
        planned.append(Planned(path, display, cid))
    summary.contracts = found
    by_id: dict[str, list[Planned]] = {}
    for p in planned:
        by_id.setdefault(p.contract_id, []).append(p)
    for cid, same in by_id.items():
        if len(same) > 1:
            files = ", ".join(p.display for p in same)
            for p in same:
                issue = Issue(p.display, None, "id", f"contract id {cid!r} is declared by {len(same)} files ({files})")
                errors.append(error_record(issue, cid, "contract"))
                summary.add_failure(cid, p.display, issue.message)
    return [p for p in planned if len(by_id[p.contract_id]) == 1]


def _orphans(source, known: set[str], directory: str) -> list[dict]:
    """Events whose contract is not among the contract files (one record per contract id)."""
    records = []
    ids = source.ids()
    for cid in sorted(set(ids) - known, key=lambda c: (ids[c] or 0, c)):
        issue = Issue(
            source.file_of(cid),
            ids[cid],
            "contract",
            f"events for contract {cid!r}, which has no contract file in {directory}",
        )
        records.append(error_record(issue, cid, "input"))
    return records


def _chunks(jobs: list[Planned], source, as_of: date, fmt: str, skip_invalid: bool, size: int) -> Iterator[Chunk]:
    for index, start in enumerate(range(0, len(jobs), size)):
        part = jobs[start : start + size]
        yield Chunk(
            index,
            tuple(
                Job(p.contract_id, str(p.path.resolve()), p.display, source.ref(p.contract_id) if source else None)
                for p in part
            ),
            as_of,
            fmt,
            skip_invalid,
        )


def _retry(executor, chunk: Chunk, first: BaseException) -> ChunkResult:
    """Run a failed chunk again one contract at a time; a contract failing again is lost."""
    merged = ChunkResult(chunk.index, None)
    parts = []
    for job in chunk.jobs:
        single = Chunk(chunk.index, (job,), chunk.as_of, chunk.fmt, chunk.skip_invalid)
        try:
            part = executor.submit(evaluate_chunk, single).result()
        except Exception as exc:  # noqa: BLE001 - this contract kills its worker
            part = lost_chunk(single, f"{type(exc).__name__}: {exc} (first: {type(first).__name__}: {first})")
        parts.append(part)
        merged.errors.extend(part.errors)
        merged.summary.merge(part.summary)
    if chunk.fmt == "jsonl":
        merged.output = b"".join(p.output for p in parts)
    else:
        import pyarrow as pa

        merged.output = {n: pa.concat_tables([p.output[n] for p in parts]) for n in parts[0].output}
    return merged


def _ordered(executor, chunks: Iterator[Chunk]) -> Iterator[ChunkResult]:
    """Results in chunk order, keeping ``IN_FLIGHT`` chunks per slot submitted ahead."""
    window = max(2, executor.slots * IN_FLIGHT)
    pending: deque = deque()
    for chunk in chunks:
        pending.append((chunk, executor.submit(evaluate_chunk, chunk)))
        if len(pending) >= window:
            yield _result(executor, *pending.popleft())
    while pending:
        yield _result(executor, *pending.popleft())


def _result(executor, chunk: Chunk, future) -> ChunkResult:
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a lost worker, or a failure outside any contract
        return _retry(executor, chunk, exc)


def make_executor(workers: int | None, dask: str | None):
    if dask:
        from contractrules.batch.dask import DaskExecutor

        return DaskExecutor(dask, workers)
    from contractrules.batch.local import local_executor

    return local_executor(workers)


def run_batch(
    contracts: str | Path,
    events: str | Path | None,
    as_of: date,
    out: str | Path,
    *,
    fmt: str | None = None,
    errors: str | Path | None = None,
    workers: int | None = None,
    dask: str | None = None,
    skip_invalid: bool = False,
    chunk_size: int | None = None,
    progress: Reporter | bool | None = False,
) -> BatchSummary:
    """Evaluate every contract in ``contracts`` against its events as of ``as_of``.

    Writes the answers to ``out`` (JSON Lines file or Parquet directory, see
    :mod:`contractrules.batch.output`) and every problem to the errors file; returns the
    summary. ``summary.ok`` is False when the errors file is not empty ("completed with
    errors"). Raises :class:`~contractrules.errors.InputError` only for a bad invocation
    (missing directory, unknown format, Dask or pyarrow not installed).
    """
    fmt = output_format(out, fmt)
    refuse_overlap(output_files(out, fmt, errors), {"--contracts": contracts, "--events": events})
    summary = BatchSummary()
    early: list[dict] = []  # problems found while planning, written first
    planned = plan_contracts(contracts, summary, early)
    with ExitStack() as stack:
        source = io.open_events(events)
        if source is not None:
            stack.callback(source.close)
            early.extend(error_record(i, None, "input") for i in source.issues)
            failed_ids = {f.contract for f in summary.failed if f.contract}
            early.extend(_orphans(source, {p.contract_id for p in planned} | failed_ids, str(contracts)))
        planned.sort(key=lambda p: p.contract_id)
        executor = make_executor(workers, dask)
        stack.callback(executor.close)
        sink = open_sink(out, fmt)
        stack.push(_abort_unless_done(sink))
        log = ErrorLog(errors or default_errors_path(out, fmt))
        stack.push(_abort_unless_done(log))
        log.write(early)
        show = progress if not isinstance(progress, bool) and progress is not None else reporter(progress)
        stack.callback(show.close)
        size = chunk_size or max(1, min(MAX_CHUNK, -(-len(planned) // (executor.slots * 4))))
        show.start(len(planned))
        for result in _ordered(executor, _chunks(planned, source, as_of, fmt, skip_invalid, size)):
            sink.write(result.output)
            log.write(result.errors)
            summary.merge(result.summary)
            show.advance(result.summary.evaluated + len(result.summary.failed), result.summary.events)
        summary.errors = log.count
        sink.commit()  # only a complete batch reaches the final paths
        log.commit()
    return summary


def _abort_unless_done(output):
    """An ExitStack exit callback: remove ``output``'s temporary files if the run failed
    or was interrupted (an earlier output at the final path stays untouched)."""

    def exit_(exc_type, exc, tb) -> bool:
        if exc_type is not None:
            output.abort()
        return False

    return exit_
