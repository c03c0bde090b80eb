"""The PostgreSQL backend (``postgresql://...``), through psycopg 3.

- A batch is one transaction (READ COMMITTED) that first takes a transaction-scoped
  advisory lock on its contract, ``pg_advisory_xact_lock(namespace, hashtext(id))``:
  writers of one contract queue up and each sees the others' committed batches;
  writers of different contracts run in parallel. The lock goes with the transaction,
  so a client killed mid-batch loses its transaction and its lock, nothing else.
- ``recorded_at`` is the server's ``clock_timestamp()`` read once per batch under the
  lock (the database's clock, the same for every client machine).
- Reads run in one REPEATABLE READ, READ ONLY transaction (one snapshot).
- The session's time zone is UTC; tables may live in any schema on the connection's
  ``search_path`` (e.g. ``?options=-csearch_path%3Dbilling``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from contractrules.errors import StoreError
from contractrules.store.base import Store, Tx
from contractrules.store.schema import BOOTSTRAP
from contractrules.store.url import display

#: First key of every advisory lock the store takes ("CR"), so ours never meet the application's.
LOCK_NAMESPACE = 0x4352
_MIGRATION_LOCK = 0


@functools.lru_cache(maxsize=256)
def _placeholders(sql: str) -> str:
    """The shared SQL's ``?`` placeholders in psycopg's ``%s`` style."""
    return sql.replace("?", "%s")


class _Tx:
    def __init__(self, cursor) -> None:
        self.cur = cursor
        self._q = _placeholders

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        self.cur.execute(self._q(sql), params)
        return self.cur.fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        self.cur.execute(self._q(sql), params)
        return self.cur.fetchone()

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.cur.executemany(self._q(sql), list(rows))

    def run(self, sql: str) -> None:
        self.cur.execute(sql)  # DDL, no parameters: sent as is


class PostgresStore(Store):
    """A store in a PostgreSQL database."""

    backend = "postgres"

    def __init__(self, url: str, *, create: bool = False, connect_timeout: int = 10) -> None:
        super().__init__(url)
        try:
            import psycopg
        except ImportError:
            raise StoreError("PostgreSQL stores need psycopg 3: pip install 'contractrules[postgres]'") from None
        self._psycopg = psycopg
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout)
            self._conn.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {display(url)}: {str(exc).strip()}") from None

    def _disconnect(self) -> None:
        self._conn.close()

    @contextmanager
    def _transaction(self, first: str, params: Sequence[Any] = ()) -> Iterator[_Tx]:
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.execute(first, params)
                yield _Tx(cur)
        except self._psycopg.Error as exc:
            raise StoreError(f"{display(self.url)}: {str(exc).strip()} (nothing was written)") from exc

    def _write(self, contract_id: str):
        return self._transaction("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, contract_id))

    def _read(self):
        return self._transaction("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def _cache_write(self):
        from contractrules.store.checkpoints import LOCK_WAIT

        return self._transaction(f"SET LOCAL lock_timeout = {int(LOCK_WAIT * 1000)}")

    def _now(self, tx: Tx) -> datetime:
        (now,) = tx.one("SELECT clock_timestamp()")
        return now.astimezone(UTC)

    def _to_ts(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC)

    def _from_ts(self, raw: datetime) -> datetime:
        return raw.astimezone(UTC)

    def _to_date(self, day: date) -> date:
        return day

    def _from_date(self, raw: date) -> date:
        return raw

    def schema_version(self) -> int | None:
        with self._read() as tx:
            (table,) = tx.one("SELECT to_regclass('cr_schema')::text")
            if table is None:
                return None
            (version,) = tx.one("SELECT max(version) FROM cr_schema")
        return version

    def migrate(self, target: int | None = None) -> int:
        with self._transaction("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, _MIGRATION_LOCK)) as tx:
            tx.run(BOOTSTRAP["postgres"])
            (current,) = tx.one("SELECT max(version) FROM cr_schema")
            for migration in self._migrations(current, target):
                for statement in migration.postgres:
                    tx.run(statement)
                tx.many(
                    "INSERT INTO cr_schema (version, description) VALUES (?, ?)",
                    [(migration.version, migration.description)],
                )
            (version,) = tx.one("SELECT max(version) FROM cr_schema")
        return version
