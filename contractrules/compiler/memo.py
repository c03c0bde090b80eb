"""Finish work a live contract does not redo: same inputs, same writes (SPEC §9).

A clause's ``finish`` hook is a loop over units (an invoice, a billing cycle, a service
obligation). A live contract answers again and again as events arrive, and most units
have not changed since the last answer (an invoice paid ten years ago). :func:`unit` runs
a unit's ``compute`` once, records what it wrote, and on a later finish with the same
``inputs`` writes the same again without computing:

- the fields of the working objects it names in ``writes`` (obligations it sets);
- the obligations and violations it added (``run.oblige``/``run.violate``), as copies;
- the warnings it gave (``run.warn``), in order;
- its return value (read-only for the caller).

``inputs`` is a tuple of plain values (dates, amounts, strings, tuples of them, the
stamps of working objects: ledger.py) that decides everything the unit writes —
``run.as_of`` included whenever the output depends on it (open items).

:func:`section` does the same for a clause's whole finish, without visiting its units:
when it is the same, the working obligations it wrote are not written again: their
finished fields go to ``run.finished`` (id -> fields), which the answer reads instead of
the object (engine/answer.py) — only the answer reads a finish's writes of another
clause. Its inputs are the day asked and, for every clause whose actions write what the finish
reads, a hash chain of the messages (events, clock ticks) those actions were given, in
order (``run.acted``, kept by compiler.actions()). The same chains mean the same
messages, so the same state to finish — also in a state replayed from a checkpoint after
a backdated event, when none of those clauses was given anything new. A clause names
those clauses in ``FINISH_READS``; one it forgets is a stale answer, which the live tests
(every golden scenario posted event by event, random workloads) compare with a full
replay.

A batch run has no memo (``run.memo`` is None) and computes everything: both paths run
the same code. ``run.memo`` is a live contract's dict of what was computed (unit or
section key -> inputs and writes), kept between answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from contractrules.ledger import WorkingViolation


def _copy(obj: Any) -> Any:
    """What a unit added, kept: a copy with its own ``caused_by`` list and the same stamp
    (the same content), marked ``_kept`` — added again as it is, read only, when the unit
    is reused, and not copied again by an enclosing block."""
    if obj.__dict__.get("_kept"):
        return obj
    new = object.__new__(type(obj))
    fields = new.__dict__
    fields.update(obj.__dict__)
    fields["caused_by"] = list(obj.caused_by)
    fields["_kept"] = True
    return new


def _fields(obj: Any) -> dict:
    fields = dict(obj.__dict__)
    fields["caused_by"] = tuple(fields["caused_by"])
    return fields


def _add(run: Any, added: tuple) -> None:
    """Add again what a unit added: its own stored copies, read only (a finish writes only
    the obligations a unit names in ``writes``, and those through the journal's copy)."""
    for item in added:
        if isinstance(item, str):
            run.warn(item)
        elif isinstance(item, WorkingViolation):
            run.violate(item)
        else:
            run.oblige(item)


def _captured(run: Any, compute: Callable[..., Any], args: tuple) -> tuple[Any, tuple]:
    """``compute(*args)`` and what it added (copies), passed on to an enclosing capture."""
    outer, run.capture = run.capture, []
    try:
        result = compute(*args)
        added = tuple(item if isinstance(item, str) else _copy(item) for item in run.capture)
    finally:
        run.capture = outer
    if outer is not None:
        outer.extend(added)
    return result, added


def live(run: Any) -> bool:
    """Whether finish work is reused (a live contract's answer): only then are ``inputs``
    computed (a batch evaluation passes None)."""
    return run.memo is not None


def unit(
    run: Any, key: tuple, inputs: tuple | bool | None, writes: tuple, compute: Callable[..., Any], *args: Any
) -> Any:
    """``compute(*args)``, or what it wrote and returned the last time ``inputs`` were the same."""
    memo: dict | None = run.memo
    if memo is None:
        return compute(*args)
    journal = run.journal
    hit = memo.get(key)
    if hit is not None and hit[0] == inputs:
        for obj, f in zip(writes, hit[1], strict=True):
            if journal is None or not journal.swap(obj, f):
                d = obj.__dict__
                d.update(f)  # the stamp too: the same content as when computed
                d["caused_by"] = list(f["caused_by"])
        _add(run, hit[2])
        return hit[3]
    if journal is not None:
        for obj in writes:
            journal.keep(obj)
    result, added = _captured(run, compute, args)
    memo[key] = (inputs, tuple(_fields(obj) for obj in writes), added, result)
    return result


def reuse(run: Any, key: tuple, inputs: tuple | bool | None, compute: Callable[..., Any], *args: Any) -> Any:
    """``compute(*args)`` — a part of a finish made of units — or, when ``inputs`` are the
    same as the last time, what it wrote, added and returned then, without visiting its
    units: the working obligations it wrote are not written again, their finished fields
    go to ``run.finished`` (id -> fields), which the answer reads instead of the object
    (engine/answer.py); no other finish reads them. Only on a live state being answered
    (with a journal)."""
    memo: dict | None = run.memo
    journal = run.journal
    if memo is None or journal is None or not run.tracking or not inputs:
        return compute(*args)
    finished = run.finished
    if finished is None:
        finished = run.finished = {}
    hit = memo.get(key)
    if hit is not None and hit[0] == inputs:
        finished.update(hit[1])
        _add(run, hit[2])
        return hit[3]
    start, mark = len(journal.touched), len(finished)
    result, added = _captured(run, compute, args)
    objects = {id(obj): obj for obj in journal.touched[start:]}.values()
    assert all(run.obligations.get(ob.id) is ob for ob in objects), "a finish writes working obligations only"
    wrote = {ob.id: _fields(ob) for ob in objects}
    if len(finished) > mark:  # what parts inside it reused
        wrote.update(itertools.islice(finished.items(), mark, None))
    memo[key] = (inputs, wrote, added, result)
    return result


def section(run: Any, clause: str, reads: tuple[str, ...], compute: Callable[..., Any], *args: Any) -> Any:
    """A clause's whole ``finish`` (``compute(*args)``) through :func:`reuse`: the same
    when the day asked is the same and the clauses (actions) in ``reads`` were given the
    same messages since the start (module docstring)."""
    if run.memo is None:
        return compute(*args)
    acted = run.acted
    return reuse(run, ("section", clause), (run.as_of, *[acted.get(name) for name in reads]), compute, *args)


def invoice_inputs(inv: Any) -> tuple:
    """An invoice for ``inputs``: what it asks, when, and its credit notes' and payments'
    stamps."""
    return (inv.amount, inv.issued_on, inv.due, inv.event_id, inv.credits.stamp, inv.payments.stamp)


def moves_of(moves: Any) -> int:
    """An invoice's payments or credit notes, for ``inputs``: their stamp, which changes
    whenever they change (ledger.py)."""
    return moves.stamp
