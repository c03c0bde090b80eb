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
compiler/memo.py: a finish sets fields of existing objects only inside units) — the
object writes to a copy of its fields while the answer is built, and gets its own back.
Ledger invoices and their payments, event records and the agenda are only read by the
``finish`` hooks.

An answer after the last event first delivers the clock ticks due by its day; those are
undone too (``Saved(run, ticks=True)``): the agenda, the action chains, invoices and held
events are saved as well, the scratch state one level deeper, and the working objects a
tick changes are saved before its first change (``ledger.watching``). The live tests
check, on every answer, that the frozen state (engine/checkpoint.py) is byte for byte
the same after :meth:`~Saved.restore` as before the ticks and the finish
(``live.VERIFY_RESTORE``).
"""

from __future__ import annotations

from typing import Any

from contractrules.ledger import Run
from contractrules.stamps import unwatch

#: The Run's containers a finish writes: the Run's own (saved whole, one level) ...
CONTAINERS = ("obligations", "violations", "rights", "warnings", "warned", "unapplied", "scratch", "_dated")
#: ... and those clock ticks may write besides (with the agenda, the lists of events held
#: for an invoice, and the clauses' scratch state one level deeper)
TICK_CONTAINERS = ("acted", "invoices", "held", "held_log")


def _set_fields(obj: Any, fields: dict) -> None:
    object.__setattr__(obj, "__dict__", fields)  # not the stamping __setattr__ (ledger.py)


class Saved:
    """The saved contents of a Run (see the module docstring)."""

    __slots__ = ("_attributes", "_run", "_dicts", "_lists", "_sets", "_kept", "touched", "watched")

    def __init__(self, run: Run, *, ticks: bool = False) -> None:
        self._run = run
        self._attributes = dict(run.__dict__)
        attrs = run.__dict__
        self._dicts: list[tuple[dict, dict]] = []
        self._lists: list[tuple[list, list]] = []
        self._sets: list[tuple[set, set]] = []
        for name in CONTAINERS + (TICK_CONTAINERS if ticks else ()):
            self._container(attrs[name])
        if ticks:
            agenda = run.agenda
            self._dicts.append((agenda.__dict__, dict(agenda.__dict__)))
            self._container(agenda._heap)
            for lst in run.held.values():
                self._container(lst)
        for clause_state in run.scratch.values():  # a clause's working detail, and what is in it
            self._container(clause_state)
            for value in clause_state.values():
                if isinstance(value, dict | list | set):
                    self._container(value)
                    if ticks and isinstance(value, dict):  # and one level more
                        for inner in value.values():
                            if isinstance(inner, dict | list | set):
                                self._container(inner)
        self._kept: dict[int, tuple[Any, dict]] = {}  # id -> (object, its own fields)
        self.touched: list[Any] = []  # every object a finish unit wrote, in order (memo.section)
        #: working objects as they were before clock ticks changed them (ledger.watching)
        self.watched: dict[int, tuple[Any, dict, list | None]] = {}

    def keep(self, obj: Any) -> None:
        """Before a finish unit sets a working object's fields (compiler/memo.py): the object
        gets a copy of its fields to write to, its own are put back by :meth:`restore`."""
        finished = self._run.finished
        assert not finished or obj.id not in finished, "a reused finish's obligation is not written"
        self.touched.append(obj)
        if id(obj) not in self._kept:
            fields = obj.__dict__
            self._kept[id(obj)] = (obj, fields)
            new = dict(fields)
            new["caused_by"] = list(fields["caused_by"])
            _set_fields(obj, new)

    def swap(self, obj: Any, fields: dict) -> bool:
        """:meth:`keep` with ``fields`` (a finish unit's writes, all of them) as the copy; False
        if the object was kept already (the caller then writes them)."""
        finished = self._run.finished
        assert not finished or obj.id not in finished, "a reused finish's obligation is not written"
        self.touched.append(obj)
        if id(obj) in self._kept:
            return False
        self._kept[id(obj)] = (obj, obj.__dict__)
        new = dict(fields)
        new["caused_by"] = list(fields["caused_by"])
        _set_fields(obj, new)
        return True

    def _container(self, value: dict | list | set) -> None:
        if isinstance(value, dict):
            self._dicts.append((value, dict(value)))
        elif isinstance(value, list):
            self._lists.append((value, list(value)))
        else:
            self._sets.append((value, set(value)))

    def restore(self) -> None:
        """Put every saved content back, in place."""
        run = self._run
        for obj, fields in self._kept.values():
            _set_fields(obj, fields)
        unwatch(self.watched)
        for dct, entries in self._dicts:
            dct.clear()
            dct.update(entries)
        for lst, items in self._lists:
            list.__setitem__(lst, slice(None), items)  # a list subclass's own setitem not called
        for st, members in self._sets:
            st.clear()
            st.update(members)
        run.__dict__.clear()
        run.__dict__.update(self._attributes)
