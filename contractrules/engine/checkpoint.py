"""Copies of a contract's working state (:class:`~contractrules.ledger.Run`).

A checkpoint is the working state at a point in event time. Copies share what never
changes during an evaluation — the compiled document, the event index and the event
records (immutable) — and copy everything else, so that delivering more messages to a
copy, or finishing it for an answer, leaves the original untouched.

The copy is a pickle round trip (pickle copies dates, decimals and dataclasses in C,
several times faster than ``copy.deepcopy``, and keeps the object graph: an obligation
listed in two places stays one object). The shared attributes of the Run are detached
while pickling and put back after; event records go by reference through the pickler's
dispatch table (a call for records only, not one per object). :func:`freeze` gives the
bytes (a checkpoint at rest, smaller than live objects); :func:`thaw` a working Run.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import weakref
from typing import Any

from contractrules.ledger import Run
from contractrules.model import EventRecord

#: Run attributes that are the same objects in every copy.
SHARED_ATTRIBUTES = ("doc", "params", "by_id", "records")

# Records posted to live contracts, by id(), while alive: a frozen checkpoint names them.
_RECORDS: weakref.WeakValueDictionary[int, EventRecord] = weakref.WeakValueDictionary()


def _record(key: int) -> EventRecord:
    return _RECORDS[key]


def _reduce_record(rec: EventRecord) -> tuple[Any, tuple[Any, ...]]:
    key = id(rec)
    if _RECORDS.get(key) is rec:
        return _record, (key,)
    return EventRecord, (rec.event, rec.file, rec.line, rec.seq, rec.local_date)  # a held copy: by value


_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[EventRecord] = _reduce_record


class Shared:
    """What copies share: the Run's shared attributes (:data:`SHARED_ATTRIBUTES`) and the
    event records registered with :meth:`add` (they must outlive every frozen state)."""

    def __init__(self, run: Run | None = None) -> None:
        self.attributes: dict[str, Any] = {}
        self.records: list[EventRecord] = []
        if run is not None:
            self.attributes = {name: getattr(run, name) for name in SHARED_ATTRIBUTES}

    def add(self, rec: EventRecord) -> None:
        self.records.append(rec)
        _RECORDS[id(rec)] = rec


def freeze(run: Run, shared: Shared) -> bytes:
    """``run``'s working state as bytes (shared objects by reference)."""
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    for name in shared.attributes:
        setattr(run, name, None)
    try:
        pickler.dump(run)
    finally:
        for name, value in shared.attributes.items():
            setattr(run, name, value)
    return buf.getvalue()


def thaw(data: bytes, shared: Shared) -> Run:
    """A new, independent Run from :func:`freeze`'s bytes."""
    run: Run = pickle.loads(data)
    for name, value in shared.attributes.items():
        setattr(run, name, value)
    return run


def copy_run(run: Run, shared: Shared) -> Run:
    """An independent copy of ``run`` (shared objects shared)."""
    return thaw(freeze(run, shared), shared)
