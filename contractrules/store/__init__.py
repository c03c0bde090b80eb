"""A durable contract store: contracts and their event logs in SQLite or PostgreSQL.

The event log is the source of truth; every answer is a deterministic replay of it::

    from datetime import date
    from contractrules.store import open_store

    with open_store("sqlite:///billing.db", migrate=True) as store:   # or "postgresql://..."
        store.add_contract("contract.yaml")                          # version 1
        store.append_events("acme-web", "events.jsonl")              # one atomic batch
        store.append_events("acme-web", [{"id": "p7", "type": "payment_received", ...}])
        answer = store.evaluate("acme-web", date(2025, 10, 1))
        then = store.penalty("acme-web", "INV-07", date(2025, 10, 1), known_at=date(2025, 10, 1))

- Ingest is **idempotent** (an event id already stored with the same content is
  skipped) and **atomic** per batch (one bad event: nothing is written, and the error
  names its line); an id stored with other content raises ConflictError.
- Every batch gets ``recorded_at`` from the store's clock. ``known_at`` asks what the
  store would have answered with only the events (and contract versions) recorded by
  then; ``as_of`` is event time, as everywhere.
- An amended contract is a new version ``effective_from`` a date
  (:meth:`Store.add_contract`); old answers stay reproducible with ``known_at``.

See docs/store.md for the schema, the guarantees and the CLI (``contractrules db init``,
``contractrules ingest``, ``evaluate``/``penalty --db URL --contract ID --known-at``).
"""

from __future__ import annotations

from pathlib import Path

from contractrules.store.base import IngestResult, LogEntry, Snapshot, Store
from contractrules.store.schema import SCHEMA_VERSION
from contractrules.store.url import DEFAULT_URL, backend_of, display
from contractrules.store.values import DEFAULT_TENANT, tenant_name
from contractrules.store.versions import ContractVersion


def _sqlite(url: str, target: str, create: bool) -> Store:
    from contractrules.store.sqlite import SQLiteStore

    return SQLiteStore(url, target, create=create)


def _postgres(url: str, target: str, create: bool) -> Store:
    from contractrules.store.postgres import PostgresStore

    return PostgresStore(target, create=create)


#: Backend name -> opener; the heavy driver is imported only when its backend is used.
BACKENDS = {"sqlite": _sqlite, "postgres": _postgres}


def open_store(url: str | Path | None = None, *, migrate: bool = False, tenant: str = DEFAULT_TENANT) -> Store:
    """Open the store at ``url`` (default: ``sqlite:///contractrules.db``).

    The store object reads and writes ``tenant``'s contracts (default: ``default``, the
    tenant of everything stored without one); set ``store.tenant`` to switch.

    With ``migrate`` the schema is created or upgraded first (what ``contractrules db
    init`` does); without it a missing or outdated schema raises StoreError saying so.
    """
    url = str(url) if url is not None else DEFAULT_URL
    backend, target = backend_of(url)
    tenant = tenant_name(tenant)
    store = BACKENDS[backend](url, target, migrate)
    store.tenant = tenant
    try:
        if migrate:
            store.migrate()
        store.check_schema()
    except BaseException:
        store.close()
        raise
    return store


__all__ = [  # sorted (tests/unit/test_exported_members.py)
    "BACKENDS",
    "ContractVersion",
    "DEFAULT_TENANT",
    "DEFAULT_URL",
    "IngestResult",
    "LogEntry",
    "SCHEMA_VERSION",
    "Snapshot",
    "Store",
    "display",
    "open_store",
]
