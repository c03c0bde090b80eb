"""The store interface: one :class:`Store`, two backends (SQLite, PostgreSQL).

Everything a backend shares lives here: the SQL (``?`` placeholders, always
parameterised), the ingest transaction, version choice and evaluation. A backend
supplies a connection and five small pieces (see the abstract methods): a write
transaction that holds the contract's lock, a read transaction on one snapshot, the
store's clock, and how instants and dates travel to and from its columns.

Guarantees (tested on both backends, tests/integration/):

- a batch (a contract version and/or events) is one transaction: all of it or nothing,
  and concurrent batches for one contract never interleave;
- ``recorded_at`` comes from the store's clock once per batch, and strictly increases
  from batch to batch of a contract, so "known at K" is always a prefix of the log;
- answers are a deterministic replay of the stored events (the engine orders them by
  event time, never by arrival).
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from contractrules.errors import (
    ConflictError,
    InputError,
    Issue,
    StoreError,
    StoreNotInitialisedError,
    UnknownContractError,
)
from contractrules.model import Contract, EventLoad, EventRecord, load_contract, parse_contract
from contractrules.store import checks as batches
from contractrules.store import versions as vers
from contractrules.store.live import LiveSessions
from contractrules.store.schema import SCHEMA_VERSION, Migration, pending
from contractrules.store.staging import TxStaging
from contractrules.store.url import display
from contractrules.store.values import DEFAULT_TENANT, TICK, content_hash, contract_json, cutoff, local_date

_CACHE_LIMIT = 200_000  # parsed events kept in memory per store

SQL = {
    "versions": "SELECT version, effective_from, recorded_at, content_hash, document FROM cr_contracts "
    "WHERE tenant = ? AND contract_id = ? ORDER BY version",
    "last_recorded": "SELECT max(recorded_at) FROM cr_batches WHERE tenant = ? AND contract_id = ?",
    "insert_batch": "INSERT INTO cr_batches (tenant, contract_id, recorded_at, source, contract_version, n_events) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING batch_id",
    "insert_version": "INSERT INTO cr_contracts (tenant, contract_id, version, effective_from, document, "
    "content_hash, recorded_at, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "replay": "SELECT seq, content, local_date FROM cr_events WHERE tenant = ? AND contract_id = ? AND local_date <= ? "
    "ORDER BY seq",
    "replay_known": "SELECT seq, content, local_date FROM cr_events "
    "WHERE tenant = ? AND contract_id = ? AND local_date <= ? AND recorded_at <= ? ORDER BY seq",
    "log": "SELECT seq, event_id, type, local_date, recorded_at, batch_id, source_line, content FROM cr_events "
    "WHERE tenant = ? AND contract_id = ? ORDER BY seq",
    "last_batch": "SELECT max(batch_id) FROM cr_batches WHERE tenant = ? AND contract_id = ?",
    "events": "SELECT content FROM cr_events WHERE tenant = ? AND contract_id = ? ORDER BY seq",
    "contract_ids": "SELECT DISTINCT contract_id FROM cr_contracts WHERE tenant = ? ORDER BY contract_id",
    "counts": "SELECT (SELECT count(*) FROM (SELECT DISTINCT tenant, contract_id FROM cr_contracts) AS c), "
    "(SELECT count(*) FROM cr_contracts), (SELECT count(*) FROM cr_events), (SELECT count(*) FROM cr_batches)",
}


class Tx(Protocol):
    """A transaction: run parameterised SQL."""

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...
    # the row of a query that always returns one (an aggregate, INSERT ... RETURNING)
    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]: ...
    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    def run(self, sql: str) -> None: ...


@dataclass(frozen=True)
class IngestResult:
    """What one ingest did. ``batch`` and ``recorded_at`` are None when nothing was written."""

    contract_id: str
    version: int
    new_version: bool
    added: int
    duplicates: int
    batch: int | None
    recorded_at: datetime | None


@dataclass(frozen=True)
class LogEntry:
    """One stored event's bookkeeping (its content is read through :meth:`Store.snapshot`)."""

    seq: int
    event_id: str
    type: str
    local_date: date
    recorded_at: datetime
    batch: int
    line: int | None
    meta: dict[str, Any] | None = None  # the event's own ``meta`` object, as stored


@dataclass(frozen=True)
class Snapshot:
    """What a question is answered from: the chosen contract version and the events."""

    contract_id: str
    as_of: date
    known_at: datetime | None
    version: vers.ContractVersion
    load: EventLoad

    @property
    def contract(self) -> Contract:
        return self.version.contract


def _contract_input(contract: Contract | dict | str | Path) -> tuple[Contract, str]:
    if isinstance(contract, Contract):
        return contract, "<contract>"
    if isinstance(contract, dict):
        return parse_contract(contract), "<contract>"
    return load_contract(contract), str(contract)


class Store(ABC):
    """A durable contract store. Open one with :func:`contractrules.store.open_store`.

    Not thread-safe: use one store object per thread or process (they may share the
    database). ``close()`` it, or use it as a context manager.
    """

    backend: str = ""

    def __init__(self, url: str, tenant: str = DEFAULT_TENANT) -> None:
        self.url = url
        #: Whose contracts this object reads and writes (the key is (tenant, contract_id)).
        self.tenant = tenant
        self._contracts: dict[tuple[str, str, int], Contract] = {}
        self._events: dict[tuple[str, int], tuple[Any, date]] = {}
        self._engine = None
        self._live = LiveSessions()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {display(self.url)}>"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Save the live sessions' checkpoints, close the connection and the engine (idempotent)."""
        self._live.close(self)
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        self._disconnect()

    # -- what a backend supplies ------------------------------------------------------
    @abstractmethod
    def _disconnect(self) -> None: ...

    @abstractmethod
    def _write(self, contract_id: str) -> AbstractContextManager[Tx]:
        """A write transaction holding ``contract_id``'s lock; commits on success."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Tx]:
        """A read-only transaction on one consistent snapshot."""

    @abstractmethod
    def _cache_write(self) -> AbstractContextManager[Tx]:
        """A short write transaction for a cache (saved checkpoints): it waits at most
        ``checkpoints.LOCK_WAIT`` seconds for a lock and takes no contract's lock."""

    @abstractmethod
    def _now(self, tx: Tx) -> datetime:
        """The store's clock (aware, UTC)."""

    @abstractmethod
    def _to_ts(self, moment: datetime) -> Any: ...

    @abstractmethod
    def _from_ts(self, raw: Any) -> datetime: ...

    @abstractmethod
    def _to_date(self, day: date) -> Any: ...

    @abstractmethod
    def _from_date(self, raw: Any) -> date: ...

    @abstractmethod
    def schema_version(self) -> int | None:
        """The schema version of the database (None: no schema yet)."""

    @abstractmethod
    def migrate(self, target: int | None = None) -> int:
        """Create or upgrade the schema (to ``target``, default: the latest); return its version."""

    def check_schema(self) -> int:
        """The schema version, if this code can use it; else a StoreError saying what to do."""
        current = self.schema_version()
        where = display(self.url)
        if current is None:
            raise StoreNotInitialisedError(
                f"{where} holds no contractrules store: create it with `contractrules db init --db {where}`"
            )
        if current < SCHEMA_VERSION:
            raise StoreNotInitialisedError(
                f"{where} has schema version {current}, this contractrules needs {SCHEMA_VERSION}: "
                f"upgrade it in place with `contractrules db init --db {where}`"
            )
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{where} has schema version {current}, newer than this contractrules knows "
                f"({SCHEMA_VERSION}): upgrade contractrules"
            )
        return current

    @staticmethod
    def _migrations(current: int | None, target: int | None) -> tuple[Migration, ...]:
        if current is not None and current > SCHEMA_VERSION:
            raise StoreError(
                f"the store has schema version {current}, newer than this contractrules knows "
                f"({SCHEMA_VERSION}): upgrade contractrules"
            )
        return pending(current, SCHEMA_VERSION if target is None else target)

    # -- writing ----------------------------------------------------------------------
    def add_contract(
        self,
        contract: Contract | dict | str | Path,
        *,
        effective_from: date | str | None = None,
        contract_id: str | None = None,
    ) -> IngestResult:
        """Store a contract, or an amended version of it effective from a date."""
        return self.ingest(contract, None, contract_id=contract_id, effective_from=effective_from)

    def append_events(
        self,
        contract_id: str,
        events: str | Path | Iterable,
        *,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Append a batch of events (a file, or a list of event dicts) to a stored contract."""
        return self.ingest(None, events, contract_id=contract_id, source=source, progress=progress)

    def ingest(
        self,
        contract: Contract | dict | str | Path | None = None,
        events: str | Path | Iterable | None = None,
        *,
        contract_id: str | None = None,
        effective_from: date | str | None = None,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Write a contract (version) and/or events as one atomic, idempotent batch.

        ``contract_id`` names the stored contract when no document is given, and must
        match the document's id when one is. ``progress(n)`` is called inside the
        transaction after every chunk of events checked (``n``: new events so far).
        """
        doc, doc_file = _contract_input(contract) if contract is not None else (None, "<contract>")
        if doc is not None and contract_id is not None and doc.id != contract_id:
            raise ConflictError(
                [
                    Issue(
                        doc_file,
                        None,
                        "id",
                        f"contract id change: the document's id is {doc.id!r}, not {contract_id!r}; "
                        "a contract's id never changes (store it as a new contract)",
                    )
                ]
            )
        cid = contract_id or (doc.id if doc is not None else None)
        if cid is None:
            raise InputError([Issue("<call>", None, "contract", "give a contract document or a contract_id")])
        if effective_from is not None and doc is None:
            raise InputError([Issue("<call>", None, "effective_from", "applies to a contract document: give one")])
        eff = local_date(effective_from, "effective_from") if effective_from is not None else None
        if events is not None:
            items, syntax, file = batches.read_items(events, source)
        else:
            items, syntax, file = [], [], source or "<events>"
        with self._write(cid) as tx:
            versions = self._versions(tx, cid)
            step = vers.next_version(versions, doc, eff, doc_file) if doc is not None else None
            if doc is None and not versions:
                raise UnknownContractError(
                    [Issue(file, None, "contract", f"no contract {cid!r} in the store: add the contract first")]
                )
            current = doc if step is not None and doc is not None else versions[-1].contract
            version = step[0] if step is not None else versions[-1].version
            staging = None
            outcome = batches.Outcome(0, 0)
            if events is not None:  # checked and staged chunk by chunk, in this transaction
                staging = TxStaging(tx, self.backend, self.tenant, cid, self._to_date, self._from_ts)
                outcome = batches.check(current, items, file, staging, syntax, progress=progress)
            if step is None and not outcome.added:
                if staging is not None:
                    staging.drop()
                return IngestResult(cid, version, False, 0, outcome.duplicates, None, None)
            recorded = self._next_instant(tx, cid)
            at = self._to_ts(recorded)
            (batch_id,) = tx.one(
                SQL["insert_batch"],
                (
                    self.tenant,
                    cid,
                    at,
                    file if events is not None else doc_file,
                    version if step else None,
                    outcome.added,
                ),
            )
            if step is not None:
                text = contract_json(current)  # the new version's document
                tx.many(
                    SQL["insert_version"],
                    [(self.tenant, cid, version, self._to_date(step[1]), text, content_hash(text), at, batch_id)],
                )
            if staging is not None:
                staging.write(at, batch_id, outcome.added)
        return IngestResult(cid, version, step is not None, outcome.added, outcome.duplicates, batch_id, recorded)

    def _next_instant(self, tx: Tx, contract_id: str) -> datetime:
        """This batch's ``recorded_at``: the clock, but always after the contract's last batch."""
        now = self._now(tx)
        (last,) = tx.one(SQL["last_recorded"], (self.tenant, contract_id))
        if last is not None:
            now = max(now, self._from_ts(last) + TICK)
        return now

    # -- reading ----------------------------------------------------------------------
    def _versions(self, tx: Tx, contract_id: str) -> list[vers.ContractVersion]:
        out = []
        for version, eff, recorded, digest, document in tx.all(SQL["versions"], (self.tenant, contract_id)):
            key = (self.tenant, contract_id, version)
            contract = self._contracts.get(key)
            if contract is None:
                contract = self._contracts[key] = parse_contract(json.loads(document), "<store>")
            out.append(
                vers.ContractVersion(
                    contract_id, version, self._from_date(eff), self._from_ts(recorded), digest, contract
                )
            )
        return out

    def versions(self, contract_id: str) -> list[vers.ContractVersion]:
        """Every stored version of a contract, oldest first (UnknownContractError if none)."""
        with self._read() as tx:
            found = self._versions(tx, contract_id)
        if not found:
            raise UnknownContractError(
                [Issue("<store>", None, "contract", f"no contract {contract_id!r} in the store")]
            )
        return found

    def events(self, contract_id: str) -> list[dict]:
        """A contract's stored events as stored (validated, canonical), in recording order."""
        with self._read() as tx:
            known = tx.one(SQL["last_recorded"], (self.tenant, contract_id))[0] is not None
            rows = tx.all(SQL["events"], (self.tenant, contract_id))
        if not known:
            raise UnknownContractError(
                [Issue("<store>", None, "contract", f"no contract {contract_id!r} in the store")]
            )
        return [json.loads(content) for (content,) in rows]

    def last_batch(self, contract_id: str) -> int | None:
        """The id of the contract's latest batch (None: nothing stored). Batches of one
        contract are written under its lock, so this grows with every write to it: an
        answer computed after reading it may be kept until it changes."""
        with self._read() as tx:
            (batch,) = tx.one(SQL["last_batch"], (self.tenant, contract_id))
        return int(batch) if batch is not None else None

    def contract_ids(self) -> list[str]:
        """The ids of this tenant's stored contracts, sorted."""
        with self._read() as tx:
            return [row[0] for row in tx.all(SQL["contract_ids"], (self.tenant,))]

    def counts(self) -> dict[str, int]:
        """How many contracts, contract versions, events and batches the store holds (all tenants)."""
        with self._read() as tx:
            row = tx.one(SQL["counts"])
        return dict(zip(("contracts", "versions", "events", "batches"), (int(v) for v in row), strict=True))

    def log(self, contract_id: str) -> list[LogEntry]:
        """The event log of a contract in recording order (seq): bookkeeping and each event's ``meta``."""
        with self._read() as tx:
            rows = tx.all(SQL["log"], (self.tenant, contract_id))
        return [
            LogEntry(s, e, t, self._from_date(d), self._from_ts(r), b, line, json.loads(c).get("meta"))
            for s, e, t, d, r, b, line, c in rows
        ]

    def snapshot(
        self, contract_id: str, as_of: date | str, *, known_at: datetime | date | str | None = None
    ) -> Snapshot:
        """The contract version and events that answer as of ``as_of``, known at ``known_at``.

        One consistent read: events dated after ``as_of`` are not loaded (the engine
        would not deliver them), events recorded after ``known_at`` do not exist.
        """
        day = local_date(as_of)
        known = cutoff(known_at)
        with self._read() as tx:
            stored = self._versions(tx, contract_id)
            chosen = vers.choose(contract_id, stored, day, known)
            chosen = dataclasses.replace(chosen, contract=vers.combine(chosen, stored, known))
            if known is None:
                rows = tx.all(SQL["replay"], (self.tenant, contract_id, self._to_date(day)))
            else:
                rows = tx.all(SQL["replay_known"], (self.tenant, contract_id, self._to_date(day), self._to_ts(known)))
        return Snapshot(contract_id, day, known, chosen, EventLoad(self._records(contract_id, chosen.contract, rows)))

    def _records(self, cid: str, contract: Contract, rows: list[tuple]) -> tuple[EventRecord, ...]:
        if len(self._events) > _CACHE_LIMIT:
            self._events.clear()
        file = f"<store:{cid}>"
        out = []
        for n, (seq, content, day) in enumerate(rows):
            hit = self._events.get((cid, seq))
            if hit is None:
                hit = self._events[(cid, seq)] = (batches.parse_stored(content, contract), self._from_date(day))
            out.append(EventRecord(hit[0], file, None, n, hit[1]))
        return tuple(out)

    def engine(self):
        """The engine this store evaluates with (one per store, reused)."""
        if self._engine is None:
            from contractrules.engine.engine import Engine

            self._engine = Engine()
        return self._engine

    def evaluate(self, contract_id: str, as_of: date | str, *, known_at: datetime | date | str | None = None):
        """The full answer (SPEC §8) for a stored contract as of a date, known at an instant.

        Without ``known_at``, from the contract's live session (store/live.py)."""
        from contractrules.api import evaluate

        tenant = self.tenant  # whose contract (the store object may switch tenants between calls)
        snap = self.snapshot(contract_id, as_of, known_at=known_at)
        if known_at is None:
            return self._live.answer(snap, self.engine(), tenant, store=self)
        return evaluate(snap.contract, snap.load, snap.as_of, engine=self.engine())

    def penalty(
        self, contract_id: str, invoice: str, as_of: date | str, *, known_at: datetime | date | str | None = None
    ):
        """The ``penalty`` answer for one invoice of a stored contract (without ``known_at``,
        from the contract's live session, building only what it reads)."""
        from contractrules.api import penalty_of

        if known_at is None:
            tenant = self.tenant
            snap = self.snapshot(contract_id, as_of)
            return self._live.penalty(snap, self.engine(), tenant, invoice, store=self)
        return penalty_of(self.evaluate(contract_id, as_of, known_at=known_at), invoice)
