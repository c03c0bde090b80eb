"""Finish a live working state for an answer, then put it back as it was.

The clauses' ``finish`` hooks complete a :class:`~contractrules.ledger.Run` for one
answer: they set the final status and explanation of obligations, add penalty and credit
obligations, late and unbilled violations, warnings, and working detail in the clauses'
scratch state. A live contract must answer again later, after more events, from the
state as it was before those writes. Copying the whole state for every answer (a pickle
round trip) costs as much as half a replay of a long history; instead :class:`Saved` keeps
the *contents* of what a finish can write — the Run's attributes, its containers and the
working objects in them, a few levels deep — and :meth:`Saved.restore` puts them back in
place (same objects, same identities), so every reference from elsewhere in the state
stays valid.

What is saved is what a finish may change: the Run's attributes, its containers
(obligations, violations, rights, warnings, unapplied credit, the clauses' scratch state
and the lists and dicts directly in it) and, as the finish goes, the fields of every
working object a finish unit is about to set (:meth:`Saved.keep`, called by
compiler/memo.py: a finish sets fields of existing objects only inside units). Ledger invoices and their payments, event records and agenda are
only read by the ``finish`` hooks and are not saved. The live tests
check, on every answer, that the frozen state (engine/checkpoint.py) is byte for byte
the same after :meth:`~Saved.restore` as before the finish (``live.VERIFY_RESTORE``).
"""

from __future__ import annotations

from typing import Any

from contractrules.ledger import Run

#: The Run's containers a finish writes: the Run's own (saved whole, one level) ...
CONTAINERS = ("obligations", "violations", "rights", "warnings", "warned", "unapplied", "scratch", "_dated")


class Saved:
    """The saved contents of a Run (see the module docstring)."""

    __slots__ = ("_attributes", "_run", "_dicts", "_lists", "_objects", "_kept")

    def __init__(self, run: Run) -> None:
        self._run = run
        self._attributes = dict(run.__dict__)
        attrs = run.__dict__
        self._dicts: list[tuple[dict, dict]] = []
        self._lists: list[tuple[list, list]] = []
        for name in CONTAINERS:
            self._container(attrs[name])
        for clause_state in run.scratch.values():  # a clause's working detail, and what is in it
            self._container(clause_state)
            for value in clause_state.values():
                if isinstance(value, dict | list):
                    self._container(value)
        self._objects: list[tuple[Any, dict, list]] = []
        self._kept: set[int] = set()

    def keep(self, obj: Any) -> None:
        """Save a working object's fields before a finish unit sets them (compiler/memo.py)."""
        if id(obj) not in self._kept:
            self._kept.add(id(obj))
            self._objects.append((obj, dict(obj.__dict__), list(obj.caused_by)))

    def _container(self, value: dict | list) -> None:
        if isinstance(value, dict):
            self._dicts.append((value, dict(value)))
        else:
            self._lists.append((value, list(value)))

    def restore(self) -> None:
        """Put every saved content back, in place."""
        run = self._run
        for obj, fields, caused_by in self._objects:
            obj.__dict__.clear()
            obj.__dict__.update(fields)
            fields["caused_by"][:] = caused_by
        for dct, entries in self._dicts:
            dct.clear()
            dct.update(entries)
        for lst, items in self._lists:
            lst[:] = items
        run.__dict__.clear()
        run.__dict__.update(self._attributes)
