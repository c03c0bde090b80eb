"""Saved checkpoints of live contracts in the store (``cr_checkpoints``, migration 4).

A restarted process would otherwise replay each contract's whole history on its first
question. :class:`~contractrules.store.live.LiveSessions` saves a session's working
state here (:meth:`LiveContract.export_checkpoints`: the live point and up to two older
checkpoints, slots 0 to 2) and, on a miss, resumes from the newest one taken from exactly
the events it reads now (:meth:`LiveContract.resume` checks the events' digest, the
contract, the format and the seal; anything else is ignored and the contract replayed).

Rows are keyed by (tenant, contract id, contract version, slot): a checkpoint of one
tenant is never read for another. Saving is a cache write in its own short transaction
(never inside an ingest): it waits at most :data:`LOCK_WAIT` seconds for a lock, and any
failure is logged and ignored — the answer never depends on it.

``CONTRACTRULES_CHECKPOINTS=off`` (environment) turns saving and loading off.
``CONTRACTRULES_CHECKPOINT_KEY`` (environment) is the key of the HMAC that seals each
checkpoint; set it to the same secret in every process of a deployment and a row written
by anyone without it is ignored (docs/semantics.md, Decision 107).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from contractrules.engine.checkpoint import SavedCheckpoint, format_tag

if TYPE_CHECKING:
    from contractrules.store.base import Store

KEY_ENV = "CONTRACTRULES_CHECKPOINT_KEY"
SWITCH_ENV = "CONTRACTRULES_CHECKPOINTS"
#: Seconds a save waits for a lock before it gives up (the answer is not delayed longer).
LOCK_WAIT = 1.0

SQL = {
    "load": "SELECT position, digest, format, state FROM cr_checkpoints "
    "WHERE tenant = ? AND contract_id = ? AND contract_version = ? AND format = ? ORDER BY position DESC",
    "drop": "DELETE FROM cr_checkpoints WHERE tenant = ? AND contract_id = ? AND contract_version = ? AND slot >= ?",
    "save": "INSERT INTO cr_checkpoints (tenant, contract_id, contract_version, slot, position, digest, format, "
    "state, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant, contract_id, contract_version, slot) DO UPDATE SET position = excluded.position, "
    "digest = excluded.digest, format = excluded.format, state = excluded.state, saved_at = excluded.saved_at",
}


def enabled() -> bool:
    """Whether live sessions save and load checkpoints (unless ``CONTRACTRULES_CHECKPOINTS=off``)."""
    return os.environ.get(SWITCH_ENV, "on").strip().lower() not in ("off", "0", "no", "false")


def key() -> bytes:
    """The sealing key from the environment (empty: the public one, damage detection only)."""
    return os.environ.get(KEY_ENV, "").encode()


def load(store: Store, tenant: str, contract_id: str, version: int) -> list[SavedCheckpoint]:
    """The saved checkpoints of this format for one contract version of ``tenant``, newest first."""
    tag = format_tag()
    with store._read() as tx:
        rows = tx.all(SQL["load"], (tenant, contract_id, version, tag))
    return [SavedCheckpoint(int(p), d, f, bytes(state)) for p, d, f, state in rows]


def save(store: Store, tenant: str, contract_id: str, version: int, saved: list[SavedCheckpoint]) -> None:
    """Replace the saved checkpoints of one contract version of ``tenant`` (slot 0: newest)."""
    with store._cache_write() as tx:
        tx.many(SQL["drop"], [(tenant, contract_id, version, len(saved))])
        at: Any = store._to_ts(store._now(tx))
        tx.many(
            SQL["save"],
            [
                (tenant, contract_id, version, slot, s.position, s.digest, s.format, s.data, at)
                for slot, s in enumerate(saved)
            ],
        )
