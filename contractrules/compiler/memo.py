"""Finish units a live contract does not redo: same inputs, same writes (SPEC §9).

A clause's ``finish`` hook is a loop over units (an invoice, a billing cycle, a service
obligation). A live contract answers again and again as events arrive, and most units
have not changed since the last answer (an invoice paid ten years ago). :func:`unit` runs
a unit's ``compute`` once, records what it wrote, and on a later finish with the same
``inputs`` writes the same again without computing:

- the fields of the working objects it names in ``writes`` (obligations it sets);
- the obligations and violations it added (``run.oblige``/``run.violate``), as copies;
- the warnings it gave (``run.warn``), in order;
- its return value (read-only for the caller).

``inputs`` is a tuple of plain values (dates, amounts, strings, tuples of them) that
decides everything the unit writes — ``run.as_of`` included whenever the output depends
on it (open items). A batch run has no memo (``run.memo`` is None) and computes every
unit: both paths run the same code, and the live tests compare every live answer with a
full replay.

``run.memo`` is a pair of dicts: the units of the last finish (read) and those of this
one (written), so a live contract keeps only what its last answer used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from contractrules.ledger import WorkingViolation


def _copy(obj: Any) -> Any:
    """A fresh working object with its own ``caused_by`` list."""
    return replace(obj, caused_by=list(obj.caused_by))


def _fields(obj: Any) -> dict:
    fields = dict(obj.__dict__)
    fields["caused_by"] = tuple(fields["caused_by"])
    return fields


def unit(run: Any, key: tuple, inputs: tuple, compute: Callable[[], Any], writes: Iterable[Any] = ()) -> Any:
    """``compute()``, or what it wrote and returned the last time ``inputs`` were the same."""
    memo: tuple[dict, dict] | None = run.memo
    if memo is None:
        return compute()
    last, now = memo
    writes = tuple(writes)
    journal = run.journal
    if journal is not None:
        for obj in writes:
            journal.keep(obj)
    hit = last.get(key)
    if hit is not None and hit[0] == inputs:
        now[key] = hit
        _, fields, added, result = hit
        for obj, f in zip(writes, fields, strict=True):
            obj.__dict__.update(f)
            obj.caused_by = list(f["caused_by"])
        for item in added:
            if isinstance(item, str):
                run.warn(item)
            elif isinstance(item, WorkingViolation):
                run.violate(_copy(item))
            else:
                run.oblige(_copy(item))
        return result
    outer, run.capture = run.capture, []
    try:
        result = compute()
        added = tuple(item if isinstance(item, str) else _copy(item) for item in run.capture)
    finally:
        run.capture = outer
    now[key] = (inputs, tuple(_fields(obj) for obj in writes), added, result)
    if outer is not None:
        outer.extend(added)
    return result


def moves_of(moves: Iterable[Any]) -> tuple:
    """An invoice's payments or credit notes as plain values (for ``inputs``)."""
    return tuple((m.on, m.amount, m.event_id) for m in moves)
