"""Progress of a batch: a rich progress bar on a terminal, nothing otherwise.

The runner reports through a small protocol (:class:`Reporter`): ``start(total)`` once
the contracts are planned, ``advance(contracts, events)`` per finished chunk,
``close()``. :class:`BarReporter` draws contracts done / total, events and contracts per
second, elapsed time and ETA on stderr (in 80 columns); :func:`reporter` picks it only when stderr is a
terminal (or when asked), so logs and pipes stay clean. Tests pass their own reporter.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class Reporter(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, contracts: int, events: int) -> None: ...

    def close(self) -> None: ...


class Quiet:
    """Reports nothing (not a terminal)."""

    def start(self, total: int) -> None:
        pass

    def advance(self, contracts: int, events: int) -> None:
        pass

    def close(self) -> None:
        pass


class _Rate(ProgressColumn):
    """``45,678 events/s · 123/s`` (events, then contracts) from the task's own clock."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0
        if elapsed <= 0 or not task.completed:
            return Text("-- events/s", style="progress.data.speed")
        events = task.fields.get("events", 0)
        return Text(
            f"{events / elapsed:,.0f} events/s · {task.completed / elapsed:,.0f}/s", style="progress.data.speed"
        )


class BarReporter:
    """A rich progress bar on stderr: count, rate, elapsed, ETA."""

    def __init__(self, console: Console | None = None):
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(bar_width=16),
            MofNCompleteColumn(),
            _Rate(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task: TaskID | None = None
        self._events = 0

    def start(self, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task("contracts", total=total, events=0)

    def advance(self, contracts: int, events: int) -> None:
        self._events += events
        assert self._task is not None, "start() comes first"
        self._progress.update(self._task, advance=contracts, events=self._events)

    def close(self) -> None:
        self._progress.stop()


def reporter(show: bool | None = None) -> Reporter:
    """A bar when ``show`` (default: when stderr is a terminal), else quiet."""
    if show is None:
        show = Console(stderr=True).is_terminal
    return BarReporter() if show else Quiet()
