"""Run compiled rulesets over events in event time, on durable_rules.

One :class:`Engine` owns one durable_rules host (no threads, no globals), registers
each distinct ruleset once (contracts of the same shape share it), gives every contract
its own session (sid) from a hash-checked pool, and deletes that session afterwards, so
any number of contracts can be evaluated in one process and none sees another's facts.

Event time: real events are delivered in order of local date, then timestamp (date-only
events first), then a fixed rank by type, then event id. SPEC §5 says "then input order";
we use the id instead so that the answer never depends on how a file happens to be
ordered (shuffling the input is a tested invariant): two events of the same type at the
same instant are taken in id order. Deadlines are synthetic ``clock`` messages
scheduled by the clause actions and delivered at the start of their day, before that
day's events. Nothing after ``as_of`` is delivered. There is no wall clock.
"""

from __future__ import annotations

import gc
import json
import math
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from typing import Any

from contractrules import compiler, limits
from contractrules.engine.answer import build_answer, build_context
from contractrules.engine.host import RuleHost, SidPool
from contractrules.errors import EngineError
from contractrules.ledger import Run
from contractrules.model import BaseEvent, Contract, EventRecord
from contractrules.model.answers import Answer
from contractrules.money import money_context
from contractrules.stamps import stamping


def event_key(rec: EventRecord, ranks: dict[str, int]) -> tuple[int, float, int, str]:
    """Event time (SPEC §5): local date, timestamp (dates first), the clauses' rank by type, id."""
    at = rec.event.at
    ts = at.timestamp() if isinstance(at, datetime) else -math.inf  # aware: the instant, whatever the offset
    return (rec.local_date.toordinal(), ts, ranks.get(rec.event.type, 99), rec.event.id)


_FRAGMENTS: dict[tuple[tuple[str, str], ...], str] = {}


def _fragment(*fields: tuple[str, str]) -> str:
    """The JSON text of a message without its closing brace, e.g. ``{"type":"waiver","clause":"x"``."""
    frag = _FRAGMENTS.get(fields)
    if frag is None:
        frag = _FRAGMENTS[fields] = json.dumps(dict(fields), separators=(",", ":"))[:-1]
    return frag


_CLOCK: dict[str, str] = {}


def _clock_message(kind: str) -> str:
    frag = _CLOCK.get(kind)
    if frag is None:
        frag = _CLOCK[kind] = _fragment(("type", "clock"), ("kind", kind))
    return frag


# Event types whose message is their type alone (no ``clause`` field, no ``route``).
_PLAIN: dict[str, str | None] = {}


def _plain_message(e: BaseEvent) -> str | None:
    cls = type(e)
    plain = "clause" not in cls.model_fields and cls.route is BaseEvent.route
    return _fragment(("type", e.type)) if plain else None  # type: ignore[attr-defined]


def _message(rec: EventRecord) -> str:
    """What the rules see of an event: its type, ``clause`` (waivers) and ``route`` if it has them."""
    e = rec.event
    kind = e.type
    plain = _PLAIN[kind] if kind in _PLAIN else _PLAIN.setdefault(kind, _plain_message(e))
    if plain is not None:
        return plain
    clause = e.__dict__.get("clause")  # a pydantic field, if this event type has one
    route = e.route
    fields: tuple[tuple[str, str], ...] = (("type", e.type),)
    if clause is not None:
        fields += (("clause", clause),)
    if route is not None:
        fields += (("route", route),)
    return _fragment(*fields)


def _stamped(tracking: bool) -> AbstractContextManager[None]:
    """Working objects stamped while a live run is delivered or finished (contractrules/stamps.py)."""
    return stamping() if tracking else nullcontext()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a run delivers and answers: the working state
    is many small objects that live until the answer is built, and every collection walks
    them all (a cost that grows with the history). Left as found if already off; the
    garbage of the run (few cycles) is collected once it is back on."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Engine:
    """Evaluates contracts; reuse one engine for many contracts, ``close()`` at the end.

    Thread-safe: one engine may be shared by several threads. Its durable_rules host and
    its current run are one piece of state, so runs on one engine take turns (a lock
    around each run); for parallel work give each thread (or process) its own engine.
    Money arithmetic runs in :func:`contractrules.money.money_context`.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._actions = compiler.actions()
        self._ranks = compiler.event_ranks()
        self._host = RuleHost(self._actions)
        self._pools: dict[str, SidPool] = {}

    # -- rulesets and sessions ------------------------------------------------------
    def _ensure(self, doc: dict[str, Any]) -> str:
        name = doc["ruleset"]
        if name not in self._pools:
            self._host.register(name, doc["rules"])
            self._pools[name] = SidPool()
        return name

    def live_sessions(self) -> int:
        return sum(p.live for p in self._pools.values())

    def close(self) -> None:
        with self._lock:
            self._host.close()
            self._pools.clear()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- evaluation -----------------------------------------------------------------
    def run_document(self, doc: dict[str, Any], records: Iterable[EventRecord], as_of: date) -> Answer:
        """Evaluate events against a compiled ruleset document; returns an :class:`Answer`.

        Runs on one engine take turns (see the class docstring)."""
        limits.check_date(as_of, "as_of")
        with self._lock, money_context(), collector_paused():
            return self._run_document(doc, records, as_of)

    def _run_document(self, doc: dict[str, Any], records: Iterable[EventRecord], as_of: date) -> Answer:
        run = self.start(doc, records, as_of)
        ranks = self._ranks
        self.advance(
            run, sorted((r for r in run.records if r.local_date <= as_of), key=lambda r: event_key(r, ranks)), as_of
        )
        return self.finish(run, as_of)

    def order_key(self, rec: EventRecord) -> tuple[int, float, int, str]:
        """The order in which this engine delivers events (:func:`event_key`)."""
        return event_key(rec, self._ranks)

    # -- the three steps of an evaluation (live sessions call them one by one) ---------
    def start(self, doc: dict[str, Any], records: Iterable[EventRecord], as_of: date, *, tracking: bool = False) -> Run:
        """A new :class:`Run` with the clauses' ``start`` hooks applied (nothing delivered yet);
        ``tracking``: a live contract's run (its objects stamped, its actions' messages
        chained: compiler/memo.py), through every later call."""
        with self._lock, money_context(), _stamped(tracking):
            self._ensure(doc)
            run = Run(doc, records, as_of)
            run.tracking = tracking
            for hook in compiler.hooks(doc, "start"):
                hook(run)
            return run

    def advance(self, run: Run, events: list[EventRecord], until: date | None) -> None:
        """Deliver ``events`` (in :func:`event_key` order, all after what ``run`` has seen),
        each after the clock ticks due by its day; then the ticks due by ``until`` (if given).

        A durable_rules session is held only while delivering: every rule matches one
        message, so nothing waits in a session between two calls.
        """
        with self._lock, money_context(), _stamped(run.tracking):
            self._advance(run, events, until)

    def _advance(self, run: Run, events: list[EventRecord], until: date | None) -> None:
        name = self._ensure(run.doc)
        pool = self._pools[name]
        sid = pool.acquire()
        posted = 0
        try:
            host = self._host
            actions, deliver, due = host.actions_of(name, self._actions), host.deliver, run.agenda.pop_due
            tail = f',"sid":"{sid}","id":'
            fromordinal = date.fromordinal
            for rec in events:
                day = rec.local_date.toordinal()
                tick = due(day)
                while tick is not None:  # the clock ticks due by the event's day come first
                    run.today = fromordinal(tick.on)
                    run.current = data = {**tick.data, "kind": tick.kind}
                    posted += 1
                    deliver(name, f"{_clock_message(tick.kind)}{tail}{posted}}}", actions, run, data)
                    tick = due(day)
                run.current = rec
                run.today = rec.local_date
                posted += 1
                if not deliver(name, f"{_message(rec)}{tail}{posted}}}", actions, run, rec):
                    run.warn(
                        f"event {rec.event.id} ({rec.event.type}) has no clause in this contract to apply to: ignored"
                    )
            last = -1 if until is None else until.toordinal()  # None: no tick after the last event
            tick = due(last)
            while tick is not None:
                run.today = fromordinal(tick.on)
                run.current = data = {**tick.data, "kind": tick.kind}
                posted += 1
                deliver(name, f"{_clock_message(tick.kind)}{tail}{posted}}}", actions, run, data)
                tick = due(last)
        finally:
            if posted:
                self._host.drop_session(name, sid)
            pool.release(sid)

    def finish(self, run: Run, as_of: date, reuse: dict[str, dict] | None = None) -> Answer:
        """Apply the clauses' ``finish`` hooks as of ``as_of`` and build the answer (changes ``run``);
        ``reuse``: answer items built before, kept by a live contract (engine/answer.py)."""
        with self._lock, money_context(), _stamped(run.tracking):
            self._finish_hooks(run, as_of)
            return build_answer(run, compiler.hooks(run.doc, "answer"), reuse)

    def finish_context(
        self, run: Run, as_of: date, obligation: str, violation: str, reuse: dict[str, dict] | None = None
    ) -> Answer | None:
        """:meth:`finish`, building only one obligation and one violation of the answer
        (:func:`~contractrules.engine.answer.build_context`)."""
        with self._lock, money_context(), _stamped(run.tracking):
            self._finish_hooks(run, as_of)
            return build_context(run, obligation, violation, compiler.hooks(run.doc, "answer"), reuse)

    @staticmethod
    def _finish_hooks(run: Run, as_of: date) -> None:
        run.as_of = run.today = as_of
        for hook in compiler.hooks(run.doc, "finish"):
            hook(run)

    def evaluate(self, contract: Contract, records: Iterable[EventRecord], as_of: date) -> Answer:
        """Compile ``contract`` and evaluate its event records as of ``as_of``."""
        if not isinstance(as_of, date) or isinstance(as_of, datetime):
            raise EngineError("as_of must be a datetime.date (a local date of the contract)")
        return self.run_document(compiler.compile_contract(contract), records, as_of)
