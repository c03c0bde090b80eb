"""Live contracts: post events as they happen, ask as of any date (SPEC §9).

    >>> import contractrules as cr
    >>> live = cr.open_contract("contract.yaml")                     # doctest: +SKIP
    >>> live.post([{"id": "e1", "type": "invoice_issued", ...}])     # doctest: +SKIP
    >>> live.answer("2025-10-01")                                    # doctest: +SKIP

A :class:`LiveContract` keeps the contract's working state in event time: every posted
event is delivered once, in event order, and the state is saved at checkpoints along the
way. An answer as of a date on or after the last event delivers the clock ticks due by
then to the live state, finishes it for the answer, and undoes both (engine/journal.py),
reusing the finish work of what has not changed (compiler/memo.py); an earlier date
starts from a copy of the latest checkpoint before it. An event dated before events
already delivered (a backdated payment, a late import) rewinds the live state to the
latest checkpoint before it and replays from there, so every answer equals a full replay
of the same events (:func:`contractrules.evaluate`) — a tested invariant.

Posting is idempotent: an event id posted again with the same content is reported in
``duplicates`` and changes nothing; the same id with different content is bad input
(:class:`~contractrules.errors.EventError`) and nothing of that post is applied. A post
that fails while its events are delivered (an error raised inside a clause) is undone the
same way: its events are forgotten and the state is what it was before it.

The state can outlive the process: :meth:`LiveContract.export_checkpoints` gives it as
:class:`~contractrules.engine.checkpoint.SavedCheckpoint` (event records by id, with the
digest of the events it was taken from), and :meth:`LiveContract.resume` starts another
live contract from the newest one taken from exactly the same first events — else from
the start (the store keeps them in ``cr_checkpoints``: store/live.py).

No durable_rules session is held between calls (one is taken from the engine's pool only
while delivering), so any number of live contracts fit in one process. Answers
``known_at`` a past instant (the store's bitemporal queries) are replays of the events
known then, not live sessions.
"""

from __future__ import annotations

import bisect
import heapq
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, overload

from contractrules import limits
from contractrules.api import ContractLike, _as_date, as_contract, as_records, penalty_items, penalty_of
from contractrules.compiler import compile_contract
from contractrules.engine.checkpoint import (
    Header,
    SavedCheckpoint,
    Shared,
    contract_digest,
    copy_run,
    event_digests,
    format_tag,
    freeze,
    persist,
    restore,
    thaw,
)
from contractrules.engine.engine import Engine, collector_paused
from contractrules.engine.journal import Saved
from contractrules.errors import EngineError, EventError, Issue
from contractrules.ledger import Run
from contractrules.model import EventLoad, EventRecord
from contractrules.model.answers import Answer, PenaltyAnswer
from contractrules.stamps import watching

__all__ = ["LiveContract", "PostResult", "open_contract"]

LiveEvents = str | Path | EventLoad | Iterable[EventRecord] | Iterable[dict[str, Any]]
EventKey = tuple[int, float, int, str]

#: A checkpoint every ``MIN_GAP`` events, or ~1/``DENSITY`` of the history when longer
#: (a copy of the state costs about as much as replaying half of it).
MIN_GAP = 64
DENSITY = 8
#: At most this many checkpoints per contract; the closest pair is thinned first.
MAX_CHECKPOINTS = 24
#: At most this many checkpoints taken by one delivery (its last ones).
PER_DELIVERY = 4
#: Tests: check after every live answer that the state is byte for byte what it was before
#: its finish (engine/journal.py).
VERIFY_RESTORE = False

# One shared engine for live contracts that are not given one: its rulesets are registered
# once per contract shape, its sessions taken only while delivering (an engine's runs take
# turns on its own lock, so live contracts of several threads may share it).
_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.RLock()


def _shared_engine() -> Engine:
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = Engine()
        return _ENGINE


@dataclass(frozen=True)
class PostResult:
    """What a :meth:`LiveContract.post` did.

    ``accepted``: ids of the new events, in the order given; ``duplicates``: ids already
    known with the same content (ignored); ``replayed_from``: when an event was dated
    before events already delivered, the event-time point the state rewound to (the date
    of the checkpoint replayed from), else None.
    """

    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]
    replayed_from: date | None


class _Checkpoint(NamedTuple):
    position: int  # how many events (in event order) were delivered
    key: EventKey | None  # the last delivered event's order key (None: none yet)
    day: date  # its local date (the contract's start when none)
    state: bytes  # the frozen working state, zlib-compressed (~1/6 of the size)


class LiveContract:
    """One contract's working state, kept live between calls (see the module docstring)."""

    def __init__(self, contract: ContractLike, *, engine: Engine | None = None):
        self.contract = as_contract(contract)
        self._doc = compile_contract(self.contract)
        self._engine = engine if engine is not None else _shared_engine()
        self._lock = threading.RLock()
        self._records: list[EventRecord] = []  # every known event, in event order
        self._keys: list[EventKey] = []
        self._by_id: dict[str, EventRecord] = {}
        self._issued: dict[str, str] = {}  # invoice -> id of the event issuing it
        self._answers: dict[date, Answer] = {}  # answers since the last post
        self._items: dict[str, dict[Any, Any]] = {}  # answer items of the last answer, by stamp (engine/answer.py)
        self._memo: dict[tuple[Any, ...], Any] = {}  # finish units already computed (compiler/memo.py)
        self._closed = False
        # its objects are stamped and its actions chain what they are given (compiler/memo.py)
        run = self._engine.start(self._doc, (), date.max, tracking=True)
        run.by_id = self._by_id
        self._shared = Shared(run)
        # Clauses' start hooks look at as_of only to tell dates before the contract's start
        # and before each amendment's: answers before the last of them are plain replays.
        changes = [date.fromisoformat(v["from"]) for dated in self._doc.get("dated", {}).values() for v in dated]
        self._horizon = max([run.start, *changes])
        self._run: Run = run
        self._position = 0
        self._delivered_last: EventKey | None = None
        self._checkpoints = [_Checkpoint(0, None, run.start, self._frozen(run))]
        self._digests: dict[str, tuple[EventRecord, bytes]] = {}  # saved checkpoints: each event's digest
        self.resumed_from = 0  # the saved checkpoint's position this state started from (0: none)

    # -- public ---------------------------------------------------------------------
    @property
    def events(self) -> tuple[EventRecord, ...]:
        """Every accepted event, in event order."""
        return tuple(self._records)

    @property
    def checkpoints(self) -> int:
        return len(self._checkpoints)

    def post(self, events: LiveEvents) -> PostResult:
        """Add events (any order, idempotent); the state follows at once."""
        with self._lock:
            self._check_open()
            new, duplicates = self._admit(as_records(events, self.contract).records)
            if not new:
                return PostResult((), tuple(duplicates), None)
            self._answers.clear()
            before = (list(self._checkpoints), self._position)
            self._insert(new)
            try:
                with collector_paused():
                    replayed_from = self._rewind(min(self._engine.order_key(r) for r in new))
                    self._deliver()
            except BaseException:
                self._undo(new, *before)
                raise
            return PostResult(tuple(r.event.id for r in new), tuple(duplicates), replayed_from)

    def answer(self, as_of: date | str) -> Answer:
        """The same answer as :func:`contractrules.evaluate` of every posted event as of ``as_of``."""
        day = _as_date(as_of)
        limits.check_date(day, "as_of")  # the accepted date range, as evaluate checks it
        with self._lock:
            self._check_open()
            cached = self._answers.get(day)
            if cached is None:
                with collector_paused():
                    cached = self._answers[day] = self._answer(day)
            return cached

    def penalty(self, invoice: str, as_of: date | str) -> PenaltyAnswer:
        """The same answer as :func:`contractrules.penalty` for ``invoice`` as of ``as_of``.

        It builds only what that answer reads (the invoice's items, the penalties, the
        warnings), not every obligation of the contract."""
        day = _as_date(as_of)
        limits.check_date(day, "as_of")
        with self._lock:
            self._check_open()
            cached = self._answers.get(day)
            if cached is None and day >= self._horizon:
                with collector_paused():
                    context = self._context(day, penalty_items(invoice))
                if context is not None:
                    return penalty_of(context, invoice)
            return penalty_of(self.answer(day), invoice)

    def close(self) -> None:
        """Drop the working state and checkpoints; the object answers nothing afterwards."""
        with self._lock:
            self._closed = True
            self._checkpoints.clear()
            self._answers.clear()
            self._memo.clear()  # what answers reused: a copy of every finished obligation
            self._items.clear()

    def __enter__(self) -> LiveContract:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- saved checkpoints: the state outside the process (store/live.py) ----------------
    @property
    def position(self) -> int:
        """How many of the events (in event order) the live state has delivered."""
        return self._position

    def export_checkpoints(self, key: bytes = b"") -> list[SavedCheckpoint]:
        """The state at the live point, the latest checkpoint before it and the latest at
        least ``MIN_GAP`` events before it, newest first, as
        :class:`~contractrules.engine.checkpoint.SavedCheckpoint` (none before any
        event); :meth:`resume` takes them back in another process. ``key``: the HMAC key
        they are sealed with (empty: a fixed public one, which only detects damage).
        Like every checkpoint they hold the clock up to their last event only."""
        with self._lock, collector_paused():
            self._check_open()
            p, cps = self._position, self._checkpoints
            states: list[tuple[int, Run]] = []
            if p:
                states.append((p, self._run))
            # older ones for events backdated after the save: the latest, and one a gap back
            latest = next((c for c in reversed(cps) if 0 < c.position < p), None)
            back = next((c for c in reversed(cps) if 0 < c.position <= p - MIN_GAP), None)
            for older in dict.fromkeys(c for c in (latest, back) if c is not None):
                states.append((older.position, self._thawed(older)))
            digests = event_digests(self._records, [q for q, _ in states], self._digests)
            contract = contract_digest(self.contract)
            return [persist(run, self._shared, self._by_id, Header(q, digests[q], contract), key) for q, run in states]

    @classmethod
    def resume(
        cls,
        contract: ContractLike,
        events: LiveEvents,
        saved: Iterable[SavedCheckpoint],
        *,
        engine: Engine | None = None,
        key: bytes = b"",
    ) -> LiveContract:
        """A live contract holding ``events``, started from the latest of the ``saved``
        checkpoints taken from exactly the same first events (same ids and content, same
        event order) of the same contract, in this format and package version; the events
        after it are delivered. With none usable (a backdated event, another version, a
        bad seal) it replays from the start: the answers are the same either way.
        ``resumed_from``: the position started from (0: none)."""
        live = cls(contract, engine=engine)
        live._resume(events, saved, key)
        return live

    def _resume(self, events: LiveEvents, saved: Iterable[SavedCheckpoint], key: bytes) -> None:
        with self._lock, collector_paused():
            self._insert(self._admit(as_records(events, self.contract).records)[0])
            tag, n = format_tag(), len(self._records)
            found = sorted((s for s in saved if s.format == tag and 0 < s.position <= n), key=lambda s: -s.position)
            digests = event_digests(self._records, [s.position for s in found], self._digests)
            contract = contract_digest(self.contract) if found else ""
            for s in found:
                if s.digest != digests[s.position]:
                    continue  # taken from other events: a backdated one came since
                run = restore(s, self._shared, self._by_id, Header(s.position, digests[s.position], contract), key)
                if run is None:
                    continue
                at = s.position - 1
                self._run, self._position, self._delivered_last = run, s.position, self._keys[at]
                self._checkpoints.append(
                    _Checkpoint(s.position, self._keys[at], self._records[at].local_date, self._frozen(run))
                )
                self.resumed_from = s.position
                break
            self._deliver()

    # -- posting --------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise EngineError(f"live contract {self.contract.id} is closed")

    def _admit(self, records: Iterable[EventRecord]) -> tuple[list[EventRecord], list[str]]:
        """(new records, ids of duplicates); bad input raises and changes nothing."""
        new: list[EventRecord] = []
        duplicates: list[str] = []
        issues: list[Issue] = []
        batch: dict[str, EventRecord] = {}
        issued = dict(self._issued)
        for rec in records:
            e = rec.event
            known = self._by_id.get(e.id) or batch.get(e.id)
            if known is not None:
                if known.event is e or known.event == e:
                    duplicates.append(e.id)
                else:
                    issues.append(
                        Issue(
                            rec.file,
                            rec.line,
                            "id",
                            f"event id {e.id!r} was already posted with "
                            "different content: an event cannot be changed, post a correcting event",
                            e.id,
                        )
                    )
                continue
            if e.type == "invoice_issued":
                prior = issued.get(e.invoice)
                if prior is not None:
                    issues.append(
                        Issue(
                            rec.file,
                            rec.line,
                            "invoice",
                            f"invoice {e.invoice!r} is already issued by event {prior!r}",
                            e.id,
                        )
                    )
                    continue
                issued[e.invoice] = e.id
            batch[e.id] = rec
            new.append(rec)
        if issues:
            raise EventError(issues)
        return new, duplicates

    def _insert(self, new: list[EventRecord]) -> None:
        """Add new records to the known events, keeping event order."""
        keys = [self._engine.order_key(rec) for rec in new]
        if len(new) <= 16:  # a few: each in its place
            for key, rec in zip(keys, new, strict=True):
                at = bisect.bisect_left(self._keys, key)
                self._keys.insert(at, key)
                self._records.insert(at, rec)
        else:  # many (a late import, a whole history): one merge, not an insert each (quadratic)
            pairs = sorted(zip(keys, new, strict=True), key=itemgetter(0))
            merged = list(heapq.merge(zip(self._keys, self._records, strict=True), pairs, key=itemgetter(0)))
            self._keys = [k for k, _ in merged]
            self._records = [r for _, r in merged]
        for rec in new:
            self._by_id[rec.event.id] = rec
            self._shared.add(rec)
            if rec.event.type == "invoice_issued":
                self._issued[rec.event.invoice] = rec.event.id

    def _undo(self, new: list[EventRecord], checkpoints: list[_Checkpoint], position: int) -> None:
        """A post failed while delivering (an error inside a clause): forget its events and
        bring the state back to what it was, from the last checkpoint it had."""
        gone = {id(r) for r in new}
        kept = [(k, r) for k, r in zip(self._keys, self._records, strict=True) if id(r) not in gone]
        self._keys, self._records = [k for k, _ in kept], [r for _, r in kept]
        for rec in new:
            del self._by_id[rec.event.id]
            if rec.event.type == "invoice_issued":
                del self._issued[rec.event.invoice]
        self._checkpoints = checkpoints
        self._restart(checkpoints[-1])
        with collector_paused():
            self._deliver()  # the events it had delivered before, in the same order: no error
        assert self._position == position, "the state is back where it was"

    def _rewind(self, first: EventKey) -> date | None:
        """Before delivering events from ``first`` on: back to the latest checkpoint before
        it if events after it were delivered already; the checkpoint's date, or None."""
        last = self._delivered_last
        if last is None or first > last:
            return None
        while len(self._checkpoints) > 1 and not _before(self._checkpoints[-1], first):
            self._checkpoints.pop()
        cp = self._checkpoints[-1]
        self._restart(cp)
        return cp.day

    def _restart(self, cp: _Checkpoint) -> None:
        """The live state back to checkpoint ``cp`` (events after it are delivered again)."""
        self._run = self._thawed(cp)
        self._position, self._delivered_last = cp.position, cp.key

    def _deliver(self) -> None:
        """Deliver every known event not delivered yet, taking checkpoints on the way: at the
        usual spacing, but only the last :data:`PER_DELIVERY` of one delivery (a large post
        — a whole history imported at once — would freeze a growing state dozens of times)."""
        end = len(self._records)
        stops: list[tuple[int, bool]] = []  # (position, a checkpoint due there)
        last, at = self._checkpoints[-1].position, self._position
        while at < end:
            gap = max(MIN_GAP, at // DENSITY)
            stop = min(end, last + gap)
            if stop <= at:
                stop = min(end, at + gap)
            due = stop - last >= gap
            stops.append((stop, due))
            at, last = stop, stop if due else last
        kept = {stop for stop, due in stops if due}
        kept = set(sorted(kept)[-PER_DELIVERY:])
        for stop, _ in stops:
            if stop in kept or stop == end:
                self._engine.advance(self._run, self._records[self._position : stop], None)
                self._position = stop
                if stop in kept:
                    self._checkpoint()
        self._delivered_last = self._keys[self._position - 1] if self._position else None

    def _frozen(self, run: Run) -> bytes:
        return zlib.compress(freeze(run, self._shared), 1)

    def _thawed(self, cp: _Checkpoint) -> Run:
        return thaw(zlib.decompress(cp.state), self._shared)

    def _checkpoint(self) -> None:
        last = self._records[self._position - 1]
        self._checkpoints.append(
            _Checkpoint(self._position, self._keys[self._position - 1], last.local_date, self._frozen(self._run))
        )
        if len(self._checkpoints) > MAX_CHECKPOINTS:
            cps = self._checkpoints
            thin = min(range(1, len(cps) - 1), key=lambda i: cps[i + 1].position - cps[i - 1].position)
            del cps[thin]

    # -- answering ------------------------------------------------------------------
    def _answer(self, day: date) -> Answer:
        if day < self._horizon:
            return self._engine.run_document(self._doc, self._records, day)
        if day.toordinal() >= self._last_day():
            return self._answer_live(day)
        return self._finish(self._copy_at(day), day)

    def _context(self, day: date, items: tuple[str, str]) -> Answer | None:
        """Only what the penalty answer reads (engine/answer.py: build_context), or None."""
        if day.toordinal() >= self._last_day():
            return self._answer_live(day, items)
        return self._engine.finish_context(self._copy_at(day), day, *items, self._items)

    def _copy_at(self, day: date) -> Run:
        """A copy of the state as of ``day`` (before the live point), ready to finish: its
        journal, never restored (the copy is thrown away), lets the finish reuse whole blocks."""
        run = self._state_at(day)
        run.memo, run.journal = self._memo, Saved(run)
        return run

    def _last_day(self) -> int:
        """The ordinal day of the last delivered event (0: none)."""
        return self._keys[self._position - 1][0] if self._position else 0

    def _finish(self, run: Run, day: date) -> Answer:
        """The answer from a state delivered up to ``day``; what its finish computed is kept
        for the next answer (compiler/memo.py)."""
        return self._engine.finish(run, day, self._items)

    @overload
    def _answer_live(self, day: date) -> Answer: ...
    @overload
    def _answer_live(self, day: date, context: tuple[str, str]) -> Answer | None: ...

    def _answer_live(self, day: date, context: tuple[str, str] | None = None) -> Answer | None:
        """As of the live point or later: the clock ticks due by ``day`` are delivered to the
        live state, which is then finished for the answer; then all of it is undone — the
        ticks' changes and the finish's (engine/journal.py) — so the live state holds the
        clock up to its last event only, and an event posted later, dated before ``day``,
        follows it without a rewind (Decision 105). With ``context`` (an obligation's and a
        violation's ids): only what a penalty answer reads (engine/answer.py)."""
        run = self._run
        before = self._frozen(run) if VERIFY_RESTORE else b""
        tick = run.agenda.peek()
        ticks = tick is not None and tick.on <= day.toordinal()
        keep = Saved(run, ticks=ticks)
        try:
            if ticks:
                with watching() as keep.watched:
                    self._engine.advance(run, [], day)
            run.memo, run.journal = self._memo, keep  # set after saving: the restore drops them
            if context is not None:
                return self._engine.finish_context(run, day, *context, self._items)
            return self._finish(run, day)
        except BaseException:
            keep.restore()  # and, an action having failed half way, from the last checkpoint:
            self._restart(self._checkpoints[-1])
            with collector_paused():
                self._deliver()
            raise
        finally:
            if self._run is run:
                keep.restore()
                if VERIFY_RESTORE:
                    assert self._frozen(run) == before, "an answer changed the live state"

    def _state_at(self, day: date) -> Run:
        """A copy of the working state with every event and tick up to ``day`` delivered."""
        upto = bisect.bisect_left(self._keys, (day.toordinal() + 1,))
        if upto >= self._position:
            run, start = copy_run(self._run, self._shared), self._position
        else:
            cp = next(c for c in reversed(self._checkpoints) if c.position <= upto)
            run, start = self._thawed(cp), cp.position
        self._engine.advance(run, self._records[start:upto], day)
        return run


def _before(cp: _Checkpoint, key: EventKey) -> bool:
    return cp.key is None or cp.key < key


def open_contract(contract: ContractLike, *, engine: Engine | None = None) -> LiveContract:
    """A :class:`LiveContract` for ``contract`` (a path, a mapping or a loaded Contract)."""
    return LiveContract(contract, engine=engine)
