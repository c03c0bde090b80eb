"""Live sessions for the store's recently used contracts (a bounded LRU).

A long-running process holding a :class:`~contractrules.store.base.Store` (a server, a
dunning job) asks about the same contracts again and again. Each question still reads the
events from the store (one consistent read: the store is the truth), but instead of a
full replay they are posted to the contract's :class:`~contractrules.live.LiveContract`:
events it holds already are duplicates (the store hands back the same parsed objects, so
the check is cheap), new ones are delivered, a backdated one rewinds to a checkpoint.
Answers equal a full replay (the live contract's invariant).

Sessions are keyed by tenant, contract id and stored contract version: another tenant's
contract of the same id is another session, and a new version (an amendment) starts a
new one. Questions ``known_at`` a past instant are plain replays of the events known then.

Checkpoints are saved in the store (``cr_checkpoints``, store/checkpoints.py) so that a
restarted process does not replay years of history: a session's state is saved when it
is evicted or the store closed (if it holds at least :data:`SAVE_MIN` events and moved
since its last save), and after a question that delivered :data:`SAVE_EVERY` events or
more since then (a first question that replayed a long history, a large import). A new
session (a miss) resumes from the newest saved checkpoint taken from exactly the events
it reads now; a backdated event ingested since makes it fall back to the older one or to
a full replay. Saving and loading never change an answer: a failure is logged and
ignored, and a checkpoint that does not match is not used.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from contractrules.errors import InputError

log = logging.getLogger(__name__)

#: Live contracts kept per store; the least recently used is closed first.
CAPACITY = 256
#: Save a session's checkpoint after a question once this many events were delivered
#: since its last save (or load).
SAVE_EVERY = 1000
#: A session holding fewer events is not saved when evicted or closed (a replay is as cheap).
SAVE_MIN = 64

SessionKey = tuple[str, str, int]  # tenant, contract id, contract version


class LiveSessions:
    def __init__(self, capacity: int = CAPACITY, *, save_every: int = SAVE_EVERY, save_min: int = SAVE_MIN) -> None:
        self.capacity = capacity
        self.save_every = save_every
        self.save_min = save_min
        from contractrules.store import checkpoints

        #: Whether checkpoints are saved to and loaded from the store (``CONTRACTRULES_CHECKPOINTS``).
        self.persist = checkpoints.enabled()
        self._sessions: OrderedDict[SessionKey, Any] = OrderedDict()
        self._saved: dict[SessionKey, int] = {}  # position of each session's last save or load

    def __len__(self) -> int:
        return len(self._sessions)

    def answer(self, snap: Any, engine: Any, tenant: str, *, store: Any = None) -> Any:
        """The answer for a snapshot read without ``known_at`` (see the module docstring);
        ``store``: where checkpoints are loaded from and saved to (None: nowhere)."""
        return self._ask(snap, engine, tenant, store, None)

    def penalty(self, snap: Any, engine: Any, tenant: str, invoice: str, *, store: Any = None) -> Any:
        """The ``penalty`` answer for one invoice of a snapshot read without ``known_at``
        (``LiveContract.penalty``: only what it reads is built)."""
        return self._ask(snap, engine, tenant, store, invoice)

    def _ask(self, snap: Any, engine: Any, tenant: str, store: Any, invoice: str | None) -> Any:
        key = (tenant, snap.contract_id, snap.version.version)
        live = self._sessions.pop(key, None)
        if live is not None and live.contract is not snap.contract and live.contract != snap.contract:
            # other versions were recorded since: the contract that answers changed
            self._retire(key, live, None)
            live = None
        try:
            if live is None:
                live = self._open(key, snap, engine, store)
            else:
                live.post(snap.load)
        except InputError:
            # the store accepted what a live contract refuses: never guess, replay
            if live is not None:
                live.close()
            self._saved.pop(key, None)
            from contractrules.api import evaluate, penalty_of

            replayed = evaluate(snap.contract, snap.load, snap.as_of, engine=engine)
            return replayed if invoice is None else penalty_of(replayed, invoice)
        try:
            result = live.answer(snap.as_of) if invoice is None else live.penalty(invoice, snap.as_of)
        finally:
            self._sessions[key] = live
            while len(self._sessions) > self.capacity:
                old_key, old = self._sessions.popitem(last=False)
                self._retire(old_key, old, store)
        if key in self._sessions and abs(live.position - self._saved.get(key, 0)) >= self.save_every:
            self._save(key, live, store)
        return result

    def close(self, store: Any = None) -> None:
        """Close every session, saving their checkpoints in ``store`` first (if given)."""
        for key, live in self._sessions.items():
            self._retire(key, live, store)
        self._sessions.clear()

    # -- saved checkpoints ------------------------------------------------------------
    def _open(self, key: SessionKey, snap: Any, engine: Any, store: Any) -> Any:
        from contractrules.live import LiveContract
        from contractrules.store import checkpoints

        saved = []
        if store is not None and self.persist:
            try:
                saved = checkpoints.load(store, *key)
            except Exception as exc:  # a cache: without it the contract is replayed
                log.warning("cannot read the saved checkpoints of %s/%s v%s: %s", *key, exc)
                log.debug("reading checkpoints failed", exc_info=True)
        live = LiveContract.resume(snap.contract, snap.load, saved, engine=engine, key=checkpoints.key())
        self._saved[key] = live.resumed_from
        return live

    def _save(self, key: SessionKey, live: Any, store: Any) -> None:
        if store is None or not self.persist:
            return
        from contractrules.store import checkpoints

        try:
            checkpoints.save(store, *key, live.export_checkpoints(checkpoints.key()))
        except Exception as exc:  # a cache: the answers never depend on it
            log.warning("cannot save the checkpoint of %s/%s v%s: %s", *key, exc)
            log.debug("saving a checkpoint failed", exc_info=True)
            return
        self._saved[key] = live.position

    def _retire(self, key: SessionKey, live: Any, store: Any) -> None:
        """Save a session leaving the LRU (if worth it), then close it."""
        if live.position >= self.save_min and live.position != self._saved.get(key, 0):
            self._save(key, live, store)
        self._saved.pop(key, None)
        live.close()
