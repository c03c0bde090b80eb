"""Stamps: what changed in a live contract's working state (compiler/memo.py).

Every change of a working obligation or violation, or of an invoice's moves
(ledger.py), takes the next number of one counter (``_stamp``; ``Moves.stamp``): two
equal stamps are the same content — the same change, or a copy of it (pickled, or
re-applied by a finish unit). A live contract's finish units compare stamps instead of
contents. Saved checkpoints carry the counter's value and loading one moves the counter
past it (engine/checkpoint.py), so a stamp from another process is never issued again
here. Working obligations and violations are stamped while a live contract's state is
delivered or finished (:func:`stamping`, used by the engine for a live run): a batch
evaluation does not pay for it, unless it runs at the same time in another thread.

Watching: while a live answer delivers clock ticks it will undo (engine/journal.py), the
first change of every working obligation or violation, or of an invoice's moves, made
by that thread saves what the object was (:func:`watching`, :func:`unwatch`).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

_COUNTER = itertools.count(1)
#: Whether working obligations and violations are stamped now (:func:`stamping`).
STAMPING = False
_STAMPED: tuple[type, ...] = ()  # the classes whose instances are stamped (ledger.py)
_USERS = 0  # the live runs being delivered or finished now, in any thread
_USERS_LOCK = threading.Lock()
#: What the watching thread's changes replace: id -> (object, its fields, its list's items).
WATCH: dict[int, tuple[Any, dict, list | None]] | None = None
_WATCH_THREAD = 0
_WATCH_LOCK = threading.Lock()


def next_stamp() -> int:
    return next(_COUNTER)


def stamps_issued() -> int:
    """A number above every stamp issued so far (the counter is not consumed)."""
    global _COUNTER
    value = next(_COUNTER)
    _COUNTER = itertools.count(value)
    return value


def skip_stamps(past: int) -> None:
    """Issue no stamp up to ``past`` from now on (a saved state's counter, loaded)."""
    global _COUNTER
    value = next(_COUNTER)
    _COUNTER = itertools.count(max(value, past + 1))


def stamp(obj: Any) -> int:
    """The stamp of a working object's content."""
    return obj.__dict__["_stamp"]


def register(classes: Iterable[type]) -> None:
    """The classes whose instances' changes are stamped while :func:`stamping`."""
    global _STAMPED
    _STAMPED = tuple(classes)


@contextmanager
def stamping() -> Iterator[None]:
    """Stamp every change of the registered classes' instances, made by any thread, until
    the last of the calls in progress ends (a live run's delivery or finish: each of its
    objects is made and changed inside one)."""
    global STAMPING, _USERS
    with _USERS_LOCK:
        _USERS += 1
        if _USERS == 1:
            for cls in _STAMPED:
                cls.__setattr__ = _stamped_setattr  # type: ignore[method-assign,assignment]
            STAMPING = True
    try:
        yield
    finally:
        with _USERS_LOCK:
            _USERS -= 1
            if _USERS == 0:
                STAMPING = False
                for cls in _STAMPED:
                    del cls.__setattr__  # the plain one again


def _stamped_setattr(self: Any, name: str, value: Any) -> None:
    d = self.__dict__
    if WATCH is not None:
        watched(self)
    d[name] = value
    d["_stamp"] = next(_COUNTER)


def watched(obj: Any) -> None:
    """Save what ``obj`` is before the watching thread changes it (once)."""
    if threading.get_ident() == _WATCH_THREAD and WATCH is not None and id(obj) not in WATCH:
        if isinstance(obj, list):  # an invoice's moves
            WATCH[id(obj)] = (obj, dict(obj.__dict__), list(obj))
        else:
            d = obj.__dict__
            cb = d.get("caused_by")  # absent while the object is being made
            WATCH[id(obj)] = (obj, dict(d), None if cb is None else list(cb))


@contextmanager
def watching() -> Iterator[dict[int, tuple[Any, dict, list | None]]]:
    """Record, in the dict yielded, what working objects were before this thread changes
    them (one thread at a time watches)."""
    global WATCH, _WATCH_THREAD
    with _WATCH_LOCK:
        WATCH, _WATCH_THREAD = {}, threading.get_ident()
        try:
            yield WATCH
        finally:
            WATCH, _WATCH_THREAD = None, 0


def unwatch(saved: dict[int, tuple[Any, dict, list | None]]) -> None:
    """Put back what :func:`watching` saved, in place."""
    for obj, state, items in saved.values():
        if isinstance(obj, list):
            list.__setitem__(obj, slice(None), items or [])
            obj.__dict__.clear()
            obj.__dict__.update(state)
            continue
        d = obj.__dict__
        d.clear()
        d.update(state)
        if items is not None:
            state["caused_by"][:] = items
