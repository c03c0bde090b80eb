"""Running chunks on this machine: in this process (``--workers 1``) or in a process pool.

durable_rules holds the GIL in C, so parallelism means processes. Workers start from a
``forkserver`` (on Linux; ``spawn`` elsewhere) that has already imported the engine,
which is quick and safe while the parent runs threads (the progress bar, a Dask client).

Both executors offer what the runner needs: ``slots`` (chunks that can run at once),
``submit(fn, arg)`` returning a future-like object with ``result()``, ``description``
and ``close()``. A pool whose worker died is replaced on the next ``submit`` (the
runner retries the lost chunks).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

PRELOAD = ["contractrules.batch.work"]


def default_workers() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _Deferred:
    """A chunk run in this process when its result is asked for (so work interleaves
    with writing, and progress moves chunk by chunk)."""

    def __init__(self, fn: Callable, arg: object):
        self._fn, self._arg = fn, arg

    def result(self):
        fn, self._fn = self._fn, None
        if fn is not None:
            self._value = fn(self._arg)
        return self._value


class InProcess:
    """``--workers 1``: everything in this process, one engine, no pickling."""

    slots = 1
    description = "1 worker (this process)"

    def submit(self, fn: Callable, arg: object) -> _Deferred:
        return _Deferred(fn, arg)

    def close(self) -> None:
        from contractrules.batch import work

        eng = getattr(work._local, "engine", None)
        if eng is not None:
            eng.close()
            work._local.engine = None


def ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it stops the batch and cleans up);
    a worker that also saw it would die with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl-C back until the block is done, then raise it (main thread only):
    a KeyboardInterrupt in the middle of starting a worker process would leave that
    worker to die noisily after the parent has gone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt
    elif caught and previous == signal.SIG_DFL:
        raise KeyboardInterrupt


def _start_server(ctx) -> None:
    """Start the forkserver with Ctrl-C ignored (the disposition survives its exec), so a
    Ctrl-C while it imports the engine does not kill it with a traceback; the workers it
    forks inherit that, and the parent alone handles the interruption."""
    if ctx.get_start_method() != "forkserver" or threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import forkserver

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _context():
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - not Linux


class ProcessPool:
    """``--workers N``: N local worker processes, each with its own engine."""

    def __init__(self, workers: int):
        self.slots = workers
        self.description = f"{workers} local worker processes"
        self._ctx = _context()
        _start_server(self._ctx)
        self._pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.slots, mp_context=self._ctx, initializer=ignore_interrupts)

    def submit(self, fn: Callable, arg: object):
        with interrupts_deferred():  # a submit may start a worker: never leave one half-started
            try:
                return self._pool.submit(fn, arg)
            except BrokenProcessPool:  # a worker died earlier: start a fresh pool
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new()
                return self._pool.submit(fn, arg)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def local_executor(workers: int | None):
    """In this process for 1 worker, else a process pool (default: one per CPU)."""
    n = default_workers() if workers is None else workers
    return InProcess() if n <= 1 else ProcessPool(n)
