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
new one. Questions ``known_at`` a past instant are plain
replays of the events known then. Checkpoints live in memory only: a restarted process
replays each contract once, on its first question.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from contractrules.errors import InputError

#: Live contracts kept per store; the least recently used is closed first.
CAPACITY = 256


class LiveSessions:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._sessions: OrderedDict[tuple[str, str, int], Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def answer(self, snap: Any, engine: Any, tenant: str) -> Any:
        """The answer for a snapshot read without ``known_at`` (see the module docstring)."""
        from contractrules.live import LiveContract

        key = (tenant, snap.contract_id, snap.version.version)
        live = self._sessions.pop(key, None)
        if live is None:
            live = LiveContract(snap.contract, engine=engine)
        try:
            live.post(snap.load)
        except InputError:
            # the store accepted what a live contract refuses: never guess, replay
            live.close()
            from contractrules.api import evaluate

            return evaluate(snap.contract, snap.load, snap.as_of, engine=engine)
        self._sessions[key] = live
        while len(self._sessions) > self.capacity:
            _, old = self._sessions.popitem(last=False)
            old.close()
        return live.answer(snap.as_of)

    def close(self) -> None:
        for live in self._sessions.values():
            live.close()
        self._sessions.clear()
