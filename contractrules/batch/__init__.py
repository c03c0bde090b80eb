"""Batch evaluation: many contracts, years of events, one machine or a Dask cluster.

    >>> from datetime import date
    >>> from contractrules.batch import run_batch
    >>> summary = run_batch("contracts/", "events.jsonl", date(2025, 1, 1), "answers.jsonl")  # doctest: +SKIP
    >>> summary.violations["late_payment"], summary.ok                                      # doctest: +SKIP

Modules, in pipeline order:

- :mod:`~contractrules.batch.contracts` — contract files, their ids, fast validated loads;
- :mod:`~contractrules.batch.io` — events from one JSON Lines file, one Parquet file, or
  a directory of per-contract files;
- :mod:`~contractrules.batch.runner` — plan, chunk, submit, write in order
  (:func:`run_batch`);
- :mod:`~contractrules.batch.work` — what a worker does with a chunk (never raises);
- :mod:`~contractrules.batch.local` / :mod:`~contractrules.batch.dask` — executors:
  this process, local processes, or Dask (optional extra);
- :mod:`~contractrules.batch.output` — JSON Lines or Parquet tables, the errors file;
- :mod:`~contractrules.batch.summary` / :mod:`~contractrules.batch.progress` — the
  final summary and the progress bar;
- :mod:`~contractrules.batch.cli` — ``contractrules batch``.

See docs/batch.md.
"""

from contractrules.batch.runner import run_batch
from contractrules.batch.summary import BatchSummary, Failure, Total

__all__ = ["BatchSummary", "Failure", "Total", "run_batch"]
