"""The SQLite backend: one file, no server (the default).

- The file is in WAL mode (readers never block the writer) with ``synchronous=FULL``:
  a committed batch survives a crash of the process or the machine.
- A batch runs in ``BEGIN IMMEDIATE``: it takes the database's write lock before it
  reads anything, so concurrent writers (threads or processes) take turns, waiting up
  to ``timeout`` seconds for the lock, and each sees the others' committed batches. A process killed
  mid-batch leaves an uncommitted transaction that SQLite discards on the next open.
- ``recorded_at`` is the store's clock (UTC) read once per batch under that lock.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from contractrules.errors import StoreError, StoreNotInitialisedError
from contractrules.store.base import Store, Tx
from contractrules.store.schema import BOOTSTRAP
from contractrules.store.values import ts_from_text, ts_text


class _Tx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        return self.conn.execute(sql, params).fetchone()

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def run(self, sql: str) -> None:
        self.conn.execute(sql)


class SQLiteStore(Store):
    """A store in a SQLite file. ``create``: make the file if it does not exist."""

    backend = "sqlite"

    def __init__(self, url: str, path: str | Path, *, create: bool = False, timeout: float = 60.0) -> None:
        super().__init__(url)
        self.path = Path(path)
        self.timeout = timeout
        if not create and not self.path.exists():
            raise StoreNotInitialisedError(
                f"no store at {self.path}: create it with `contractrules db init --db {url}`"
            )
        mode = "rwc" if create else "rw"
        try:
            self._conn = sqlite3.connect(
                f"{self.path.absolute().as_uri()}?mode={mode}", uri=True, timeout=timeout, isolation_level=None
            )
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from None

    def _disconnect(self) -> None:
        self._conn.close()

    def _begin_immediate(self) -> None:
        """Take the write lock, polling every millisecond or so until ``timeout``.

        SQLite's own busy handler backs off to 100 ms sleeps, so a writer that commits
        batch after batch starves the others; short randomised polls let waiting
        writers take turns.
        """
        conn = self._conn
        deadline = time.monotonic() + self.timeout
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    if time.monotonic() >= deadline:
                        raise StoreError(
                            f"{self.path}: the write lock was busy for {self.timeout:g} s "
                            "(nothing was written; try again)"
                        ) from None
                    time.sleep(random.uniform(0.0005, 0.002))
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[_Tx]:
        conn = self._conn
        try:
            if begin == "BEGIN IMMEDIATE":
                self._begin_immediate()
            else:
                conn.execute(begin)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot start a transaction: {exc}") from None
        try:
            yield _Tx(conn)
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self.path}: {exc} (nothing was written)") from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(f"{self.path}: commit failed: {exc} (nothing was written)") from None

    def _write(self, contract_id: str):
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self):
        return self._transaction("BEGIN")

    @contextmanager
    def _cache_write(self) -> Iterator[_Tx]:
        from contractrules.store.checkpoints import LOCK_WAIT

        timeout = self.timeout
        self.timeout = min(timeout, LOCK_WAIT)
        try:
            with self._transaction("BEGIN IMMEDIATE") as tx:
                self.timeout = timeout
                yield tx
        finally:
            self.timeout = timeout
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")

    def _now(self, tx: Tx) -> datetime:
        return datetime.now(UTC)

    def _to_ts(self, moment: datetime) -> str:
        return ts_text(moment)

    def _from_ts(self, raw: str) -> datetime:
        return ts_from_text(raw)

    def _to_date(self, day: date) -> str:
        return day.isoformat()

    def _from_date(self, raw: str) -> date:
        return date.fromisoformat(raw)

    def schema_version(self) -> int | None:
        with self._read() as tx:
            if not tx.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cr_schema'"):
                return None
            (version,) = tx.one("SELECT max(version) FROM cr_schema")
        return version

    def migrate(self, target: int | None = None) -> int:
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot switch to WAL mode: {exc}") from None
        with self._write("") as tx:
            tx.run(BOOTSTRAP["sqlite"])
            (current,) = tx.one("SELECT max(version) FROM cr_schema")
            for migration in self._migrations(current, target):
                for statement in migration.sqlite:
                    tx.run(statement)
                tx.many(
                    "INSERT INTO cr_schema (version, description) VALUES (?, ?)",
                    [(migration.version, migration.description)],
                )
            (version,) = tx.one("SELECT max(version) FROM cr_schema")
        return version
