"""The staging area of one ingest batch: temporary tables inside its write transaction.

A batch is checked and written chunk by chunk (:func:`contractrules.store.checks.check`),
so its size never bounds the process's memory: each chunk's new events go to a
temporary table, and only once the whole batch is valid are they copied to
``cr_events`` in one statement (in input order), after the ``cr_batches`` row that
needs their count. The tables are private to the connection, live only inside the
transaction (dropped at its end, or rolled back with it), and are never part of the
schema. Issued invoices are staged too (the stored ones copied on the batch's first
``invoice_issued``), so an invoice issued twice is found by an index look-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from contractrules.store.checks import Staged, StoredEvent

_PAGE = 1000  # stored invoices copied per round trip
#: PostgreSQL: a batch this large refreshes the log's statistics as it commits, so that
#: the next batch's id look-ups use the (contract, event id) index at once, without
#: waiting for autovacuum (stale statistics made re-ingesting a large batch quadratic)
ANALYZE_AFTER = 10_000

_CREATE = {
    "sqlite": (
        "CREATE TEMP TABLE cr_ingest_events (ord INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, "
        "type TEXT NOT NULL, local_date TEXT NOT NULL, content TEXT NOT NULL, content_hash TEXT NOT NULL, "
        "source_line INTEGER)",
        "CREATE TEMP TABLE cr_ingest_invoices (invoice TEXT PRIMARY KEY, event_id TEXT NOT NULL, "
        "source_line INTEGER, stored INTEGER NOT NULL)",
    ),
    "postgres": (
        "CREATE TEMP TABLE cr_ingest_events (ord BIGINT PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, "
        "type TEXT NOT NULL, local_date DATE NOT NULL, content TEXT NOT NULL, content_hash TEXT NOT NULL, "
        "source_line INTEGER) ON COMMIT DROP",
        "CREATE TEMP TABLE cr_ingest_invoices (invoice TEXT PRIMARY KEY, event_id TEXT NOT NULL, "
        "source_line INTEGER, stored INTEGER NOT NULL) ON COMMIT DROP",
    ),
}
_DROP = {
    "sqlite": ("DROP TABLE IF EXISTS temp.cr_ingest_events", "DROP TABLE IF EXISTS temp.cr_ingest_invoices"),
    "postgres": ("DROP TABLE IF EXISTS pg_temp.cr_ingest_events", "DROP TABLE IF EXISTS pg_temp.cr_ingest_invoices"),
}

SQL = {
    "stored": "SELECT event_id, content_hash FROM cr_events WHERE tenant = ? AND contract_id = ? AND event_id IN ({})",
    "stored_event": "SELECT event_id, type, content, content_hash, recorded_at, batch_id FROM cr_events "
    "WHERE tenant = ? AND contract_id = ? AND event_id = ?",
    "staged": "SELECT event_id, content_hash, source_line, ord FROM cr_ingest_events WHERE event_id IN ({})",
    "issued": "SELECT invoice, event_id, source_line, stored FROM cr_ingest_invoices WHERE invoice IN ({})",
    "stored_invoices": "SELECT seq, event_id, content FROM cr_events "
    "WHERE tenant = ? AND contract_id = ? AND type = 'invoice_issued' AND seq > ? ORDER BY seq LIMIT ?",
    "stage": "INSERT INTO cr_ingest_events (ord, event_id, type, local_date, content, content_hash, source_line) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)",
    "stage_invoice": "INSERT INTO cr_ingest_invoices (invoice, event_id, source_line, stored) VALUES (?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING",
    "write": "INSERT INTO cr_events (tenant, contract_id, event_id, type, local_date, content, content_hash, "
    "recorded_at, batch_id, source_line) SELECT ?, ?, event_id, type, local_date, content, content_hash, ?, ?, "
    "source_line FROM cr_ingest_events ORDER BY ord",
}


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class TxStaging:
    """:class:`contractrules.store.checks.Staging` on a write transaction of ``backend``."""

    def __init__(
        self,
        tx: Any,
        backend: str,
        tenant: str,
        contract_id: str,
        to_date: Callable[[Any], Any],
        from_ts: Callable[[Any], datetime],
    ) -> None:
        self.tx = tx
        self.backend = backend
        self.tenant = tenant
        self.cid = contract_id
        self._to_date = to_date
        self._from_ts = from_ts
        self._invoices_copied = False
        self.drop()  # a table left by an earlier failure of this connection (SQLite)
        for statement in _CREATE[backend]:
            tx.run(statement)

    def drop(self) -> None:
        for statement in _DROP[self.backend]:
            self.tx.run(statement)

    def stored(self, ids: Sequence[str]) -> dict[str, str]:
        return dict(self.tx.all(SQL["stored"].format(_marks(len(ids))), (self.tenant, self.cid, *ids)))

    def stored_event(self, event_id: str) -> StoredEvent:
        e, t, c, h, r, b = self.tx.one(SQL["stored_event"], (self.tenant, self.cid, event_id))
        return StoredEvent(e, t, c, h, self._from_ts(r), b)

    def staged(self, ids: Sequence[str]) -> dict[str, tuple[str, int | None, int]]:
        rows = self.tx.all(SQL["staged"].format(_marks(len(ids))), tuple(ids))
        return {e: (h, line, order) for e, h, line, order in rows}

    def issued(self, invoices: Sequence[str]) -> dict[str, tuple[str, int | None, bool]]:
        if not self._invoices_copied:
            self._copy_stored_invoices()
        rows = self.tx.all(SQL["issued"].format(_marks(len(invoices))), tuple(invoices))
        return {i: (e, line, bool(stored)) for i, e, line, stored in rows}

    def _copy_stored_invoices(self) -> None:
        import json

        self._invoices_copied = True
        after = -1
        while rows := self.tx.all(SQL["stored_invoices"], (self.tenant, self.cid, after, _PAGE)):
            self.tx.many(SQL["stage_invoice"], [(json.loads(c)["invoice"], e, None, 1) for _, e, c in rows])
            after = rows[-1][0]

    def stage(self, rows: Sequence[Staged]) -> None:
        self.tx.many(
            SQL["stage"],
            [
                (r.order, r.event_id, r.type, self._to_date(r.local_date), r.content, r.content_hash, r.line)
                for r in rows
            ],
        )
        invoices = [(r.invoice, r.event_id, r.line, 0) for r in rows if r.invoice is not None]
        if invoices:
            if not self._invoices_copied:
                self._copy_stored_invoices()
            self.tx.many(SQL["stage_invoice"], invoices)

    def write(self, at: Any, batch_id: int, count: int) -> None:
        """Copy the ``count`` staged events to the log, in input order (then drop the staging tables)."""
        self.tx.many(SQL["write"], [(self.tenant, self.cid, at, batch_id)])
        self.drop()
        if self.backend == "postgres" and count >= ANALYZE_AFTER:
            self.tx.run("ANALYZE cr_events")  # a table this role does not own: a warning, not an error
