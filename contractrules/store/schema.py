"""The store's schema, as numbered migrations for each backend.

Tables (every name starts with ``cr_`` so the store can share a database):

- ``cr_schema``: one row per applied migration (``version``, ``description``,
  ``applied_at``); the schema version is the highest.
- ``cr_batches``: one row per ingest that wrote something: the contract, when it was
  recorded (``recorded_at``, from the store's clock), where it came from, how many
  events and which contract version it wrote.
- ``cr_contracts``: contract versions, ``(contract_id, version)``; the canonical JSON
  document, its SHA-256, the date it is ``effective_from`` and ``recorded_at``.
- ``cr_events``: the append-only event log; ``seq`` increases with every event
  written, ``(contract_id, event_id)`` is unique; canonical JSON ``content`` and its
  hash, the event's ``type`` and contract-local date, ``recorded_at`` and the batch.

- ``cr_checkpoints`` (migration 4): saved working states of live contracts, per
  (tenant, contract id, contract version) and ``slot`` (0: the newest); a cache, not
  data: rows are replaced, and may be deleted at any time (docs/store.md).

Migration 2 makes the three data tables append-only with triggers (an UPDATE or DELETE
is refused by the database itself). A migration never edits an earlier one: add a new
:class:`Migration` at the end of :data:`MIGRATIONS`. Timestamps are ISO text in UTC
(``2025-10-01T08:00:00.000000Z``, fixed width so text order is time order) and dates
``YYYY-MM-DD`` text in SQLite; ``timestamptz`` and ``date`` in PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One step of the schema: the statements for each backend, applied in one transaction."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


BOOTSTRAP = {
    "sqlite": "CREATE TABLE IF NOT EXISTS cr_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
    "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
    "postgres": "CREATE TABLE IF NOT EXISTS cr_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
    "applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
}

_TABLES_SQLITE = (
    """CREATE TABLE cr_batches (
        batch_id INTEGER PRIMARY KEY AUTOINCREMENT,
        contract_id TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        source TEXT,
        contract_version INTEGER,
        n_events INTEGER NOT NULL CHECK (n_events >= 0))""",
    "CREATE INDEX cr_batches_contract ON cr_batches (contract_id, recorded_at)",
    """CREATE TABLE cr_contracts (
        contract_id TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        effective_from TEXT NOT NULL,
        document TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        batch_id INTEGER NOT NULL REFERENCES cr_batches (batch_id),
        PRIMARY KEY (contract_id, version))""",
    """CREATE TABLE cr_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        contract_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        local_date TEXT NOT NULL,
        content TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        batch_id INTEGER NOT NULL REFERENCES cr_batches (batch_id),
        source_line INTEGER,
        UNIQUE (contract_id, event_id))""",
    "CREATE INDEX cr_events_contract ON cr_events (contract_id, local_date)",
)

_TABLES_POSTGRES = (
    """CREATE TABLE cr_batches (
        batch_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        contract_id TEXT NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL,
        source TEXT,
        contract_version INTEGER,
        n_events INTEGER NOT NULL CHECK (n_events >= 0))""",
    "CREATE INDEX cr_batches_contract ON cr_batches (contract_id, recorded_at)",
    """CREATE TABLE cr_contracts (
        contract_id TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        effective_from DATE NOT NULL,
        document TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL,
        batch_id BIGINT NOT NULL REFERENCES cr_batches (batch_id),
        PRIMARY KEY (contract_id, version))""",
    """CREATE TABLE cr_events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        contract_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        local_date DATE NOT NULL,
        content TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL,
        batch_id BIGINT NOT NULL REFERENCES cr_batches (batch_id),
        source_line INTEGER,
        UNIQUE (contract_id, event_id))""",
    "CREATE INDEX cr_events_contract ON cr_events (contract_id, local_date)",
)

_GUARDED = ("cr_batches", "cr_contracts", "cr_events")


def _sqlite_guards() -> tuple[str, ...]:
    return tuple(
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in _GUARDED
        for verb in ("UPDATE", "DELETE")
    )


def _postgres_guards() -> tuple[str, ...]:
    function = (
        "CREATE FUNCTION cr_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    rows = tuple(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION cr_append_only()"
        for table in _GUARDED
    )
    truncate = tuple(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION cr_append_only()"
        for table in _GUARDED
    )
    return (function, *rows, *truncate)


# Migration 3: tenants. Every row gets a ``tenant`` (existing rows: ``default``) and the
# store's key becomes (tenant, contract_id): two tenants may both hold ``acme-web``.
# SQLite cannot change a primary key or a UNIQUE constraint in place, so cr_contracts and
# cr_events are rebuilt (same rows, same seq; DROP TABLE fires no trigger) and their
# guards recreated. API keys (``cr_keys``: a salted scrypt hash, never the key) and
# idempotency records (``cr_idempotency``) are the service's; revoking a key is the one
# UPDATE the store allows (cr_keys is not append-only).
_TENANT = "tenant TEXT NOT NULL DEFAULT 'default'"
_KEYS = """CREATE TABLE cr_keys (
        key_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        salt TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        created_at {ts} NOT NULL,
        revoked_at {ts})"""
_IDEMPOTENCY = """CREATE TABLE cr_idempotency (
        tenant TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status INTEGER NOT NULL,
        response TEXT NOT NULL,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant, idem_key))"""


def _sqlite_tenants() -> tuple[str, ...]:
    contracts = _TABLES_SQLITE[2].replace(
        "CREATE TABLE cr_contracts (", f"CREATE TABLE cr_contracts_t (\n        {_TENANT},"
    )
    contracts = contracts.replace("PRIMARY KEY (contract_id, version)", "PRIMARY KEY (tenant, contract_id, version)")
    events = _TABLES_SQLITE[3].replace("CREATE TABLE cr_events (", f"CREATE TABLE cr_events_t (\n        {_TENANT},")
    events = events.replace("UNIQUE (contract_id, event_id)", "UNIQUE (tenant, contract_id, event_id)")
    c_cols = "contract_id, version, effective_from, document, content_hash, recorded_at, batch_id"
    e_cols = "seq, contract_id, event_id, type, local_date, content, content_hash, recorded_at, batch_id, source_line"
    guards = tuple(g for g in _sqlite_guards() if " ON cr_contracts " in g or " ON cr_events " in g)
    return (
        f"ALTER TABLE cr_batches ADD COLUMN {_TENANT}",
        "DROP INDEX cr_batches_contract",
        "CREATE INDEX cr_batches_contract ON cr_batches (tenant, contract_id, recorded_at)",
        contracts,
        f"INSERT INTO cr_contracts_t ({c_cols}) SELECT {c_cols} FROM cr_contracts",
        "DROP TABLE cr_contracts",
        "ALTER TABLE cr_contracts_t RENAME TO cr_contracts",
        events,
        f"INSERT INTO cr_events_t ({e_cols}) SELECT {e_cols} FROM cr_events",
        "DROP TABLE cr_events",
        "ALTER TABLE cr_events_t RENAME TO cr_events",
        "CREATE INDEX cr_events_contract ON cr_events (tenant, contract_id, local_date)",
        *guards,
        _KEYS.format(ts="TEXT"),
        "CREATE INDEX cr_keys_tenant ON cr_keys (tenant)",
        _IDEMPOTENCY.format(ts="TEXT"),
    )


def _postgres_tenants() -> tuple[str, ...]:
    return (
        *(f"ALTER TABLE {t} ADD COLUMN {_TENANT}" for t in _GUARDED),
        "DROP INDEX cr_batches_contract",
        "CREATE INDEX cr_batches_contract ON cr_batches (tenant, contract_id, recorded_at)",
        "ALTER TABLE cr_contracts DROP CONSTRAINT cr_contracts_pkey",
        "ALTER TABLE cr_contracts ADD PRIMARY KEY (tenant, contract_id, version)",
        "ALTER TABLE cr_events DROP CONSTRAINT cr_events_contract_id_event_id_key",
        "ALTER TABLE cr_events ADD CONSTRAINT cr_events_tenant_key UNIQUE (tenant, contract_id, event_id)",
        "DROP INDEX cr_events_contract",
        "CREATE INDEX cr_events_contract ON cr_events (tenant, contract_id, local_date)",
        _KEYS.format(ts="TIMESTAMPTZ"),
        "CREATE INDEX cr_keys_tenant ON cr_keys (tenant)",
        _IDEMPOTENCY.format(ts="TIMESTAMPTZ"),
    )


# Migration 4: saved checkpoints of live contracts (store/checkpoints.py). Not guarded:
# a cache whose rows are replaced (upsert by slot); never read without checking them.
_CHECKPOINTS = """CREATE TABLE cr_checkpoints (
        tenant TEXT NOT NULL,
        contract_id TEXT NOT NULL,
        contract_version INTEGER NOT NULL,
        slot INTEGER NOT NULL CHECK (slot >= 0),
        position INTEGER NOT NULL CHECK (position > 0),
        digest TEXT NOT NULL,
        format TEXT NOT NULL,
        state {blob} NOT NULL,
        saved_at {ts} NOT NULL,
        PRIMARY KEY (tenant, contract_id, contract_version, slot))"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "contracts, events and batches", _TABLES_SQLITE, _TABLES_POSTGRES),
    Migration(2, "append-only guards", _sqlite_guards(), _postgres_guards()),
    Migration(
        3,
        "tenants: the key is (tenant, contract_id); API keys; idempotency records",
        _sqlite_tenants(),
        _postgres_tenants(),
    ),
    Migration(
        4,
        "saved checkpoints of live contracts",
        (_CHECKPOINTS.format(blob="BLOB", ts="TEXT"),),
        (_CHECKPOINTS.format(blob="BYTEA", ts="TIMESTAMPTZ"),),
    ),
)

#: The schema version this code reads and writes.
SCHEMA_VERSION = MIGRATIONS[-1].version


def pending(current: int | None, target: int = SCHEMA_VERSION) -> tuple[Migration, ...]:
    """The migrations to apply to go from ``current`` (None: empty database) to ``target``."""
    start = current or 0
    return tuple(m for m in MIGRATIONS if start < m.version <= target)
