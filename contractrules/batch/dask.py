"""Running chunks on a Dask cluster (``--dask SCHEDULER_ADDRESS``, or ``--dask local``).

Dask is optional (``pip install 'contractrules[dask]'``); it is imported only here, when
asked for. Each chunk is one task (``client.submit(evaluate_chunk, chunk)``); every
Dask worker process keeps its own engine between tasks (per thread, if the worker has
several). ``--dask local`` starts a ``LocalCluster`` of single-threaded worker processes
(``--workers`` of them, default one per CPU) and closes it at the end.

Contract files and per-contract event files are read by the workers, so on a remote
cluster they must be visible at the same paths on every worker (a shared filesystem);
events from a single JSON Lines or Parquet file travel inside the tasks.

A worker that dies is retried by Dask; a task that kills workers repeatedly ends with
``KilledWorker``, which the runner treats like a lost local worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from contractrules.batch.io import usage
from contractrules.batch.local import default_workers

INSTALL_HINT = "Dask is not installed: pip install 'contractrules[dask]' (dask[distributed])"


def _distributed():
    try:
        import distributed
    except ModuleNotFoundError:
        raise usage("--dask", INSTALL_HINT) from None
    return distributed


class DaskExecutor:
    """Chunks as Dask tasks on a cluster (an address, or ``local`` for a LocalCluster)."""

    def __init__(self, address: str, workers: int | None = None):
        distributed = _distributed()
        self._cluster = None
        if address == "local":
            self._cluster = distributed.LocalCluster(
                n_workers=workers or default_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            address = self._cluster.scheduler_address
        try:
            self._client = distributed.Client(address, set_as_default=False, timeout="30s")
        except OSError as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise usage("--dask", f"cannot reach the Dask scheduler at {address}: {exc}") from None
        threads = self._client.nthreads()
        self.slots = max(1, sum(threads.values()))
        self.description = f"Dask at {address} ({len(threads)} workers, {self.slots} threads)"

    def submit(self, fn: Callable, arg: object):
        return self._client.submit(fn, arg, pure=False)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
