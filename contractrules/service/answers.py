"""Where the service's answers come from: the one place that computes them.

An answer starts from one consistent read of the contract's version and events
(:meth:`Store.snapshot`). Without ``known_at`` the events are posted to the contract's
live session (:class:`contractrules.store.live.LiveSessions`, a bounded LRU shared by
all request threads): events it holds already are duplicates, new ones are delivered,
a backdated one rewinds to a checkpoint, and the answer equals a full replay. With
``known_at`` it is a plain replay of the events known then. The engine's C module
never releases the GIL, so engine work is serialised by a lock (threads would gain
nothing); store reads run in the request threads.

Answers are kept (an LRU of :data:`KEPT` answers) under (store URL, tenant, contract,
as_of, known_at, the contract's last batch id), read *before* the snapshot: stored rows
never change and every write to a contract adds a batch with a larger id, so a kept
answer is exactly what a replay would give until the contract is written again (a
write between the two reads only makes the key stale, never the answer wrong).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from contractrules.api import evaluate, penalty_of  # noqa: F401 - penalty_of: used by the app
from contractrules.model.answers import Answer, PenaltyAnswer
from contractrules.store import Store
from contractrules.store.live import LiveSessions

_LOCK = threading.Lock()
_ENGINE = None
KEPT = 256  # answers of a five-year contract are ~100 KB each: bounded memory
_KEPT: OrderedDict[tuple, Answer] = OrderedDict()
_KEPT_PENALTIES: OrderedDict[tuple, PenaltyAnswer] = OrderedDict()  # built on their own, kept the same way
_LIVE: dict[str, LiveSessions] = {}  # per store URL; each keyed by (tenant, contract id, version)


def _engine():
    global _ENGINE
    if _ENGINE is None:
        from contractrules.engine.engine import Engine

        _ENGINE = Engine()
    return _ENGINE


def answer(store: Store, contract_id: str, as_of: date, known_at: datetime | date | str | None = None) -> Answer:
    """The full answer (SPEC §8) for the store's tenant's contract."""
    key = (store.url, store.tenant, contract_id, str(as_of), str(known_at), store.last_batch(contract_id))
    with _LOCK:
        kept = _KEPT.get(key)
        if kept is not None:
            _KEPT.move_to_end(key)
            return kept
    snap = store.snapshot(contract_id, as_of, known_at=known_at)
    with _LOCK, _collector_paused():
        if known_at is None:
            result = _LIVE.setdefault(store.url, LiveSessions()).answer(snap, _engine(), store.tenant, store=store)
        else:
            result = evaluate(snap.contract, snap.load, snap.as_of, engine=_engine())
        _keep(_KEPT, key, result)
    return result


def penalty(
    store: Store, contract_id: str, invoice: str, as_of: date, known_at: datetime | date | str | None = None
) -> PenaltyAnswer:
    """One invoice's penalty answer (InputError with field ``invoice`` if it was not issued):
    kept like full answers; from a full answer kept for the same question, else from the
    contract's live session, which builds only what a penalty answer reads."""
    key = (store.url, store.tenant, contract_id, str(as_of), str(known_at), store.last_batch(contract_id))
    mine = (*key, "penalty", invoice)
    with _LOCK:
        kept = _KEPT_PENALTIES.get(mine)
        if kept is not None:
            _KEPT_PENALTIES.move_to_end(mine)
            return kept
        full = _KEPT.get(key)
    if full is not None or known_at is not None:
        return penalty_of(full if full is not None else answer(store, contract_id, as_of, known_at), invoice)
    snap = store.snapshot(contract_id, as_of)
    with _LOCK, _collector_paused():
        live = _LIVE.setdefault(store.url, LiveSessions())
        result = live.penalty(snap, _engine(), store.tenant, invoice, store=store)
        _keep(_KEPT_PENALTIES, mine, result)
    return result


def _collector_paused():
    """engine.collector_paused: a replay's objects die by reference counting."""
    from contractrules.engine.engine import collector_paused

    return collector_paused()


def _keep(kept: OrderedDict, key: tuple, value: Any) -> None:
    """Keep ``value`` among the :data:`KEPT` most recent (the caller holds ``_LOCK``)."""
    kept[key] = value
    while len(kept) > KEPT:
        kept.popitem(last=False)


def warm_up() -> None:
    """Import and build the engine now, not on the first request."""
    with _LOCK:
        _engine()


def close() -> None:
    """Save the live sessions' checkpoints and release the engine (at shutdown)."""
    global _ENGINE
    with _LOCK:
        for url, live in _LIVE.items():
            _close_saving(url, live)
        _LIVE.clear()
        if _ENGINE is not None:
            _ENGINE.close()
            _ENGINE = None


def _close_saving(url: str, live: LiveSessions) -> None:
    """Close ``live``, saving its checkpoints through a store opened for it in this thread
    (the request threads' stores belong to their threads); without one, close only."""
    from contractrules.store import open_store

    store = None
    try:
        store = open_store(url)
    except Exception as exc:  # the checkpoints are a cache: shut down anyway
        logging.getLogger(__name__).warning("cannot save the live sessions' checkpoints: %s", exc)
    try:
        live.close(store)
    finally:
        if store is not None:
            store.close()
