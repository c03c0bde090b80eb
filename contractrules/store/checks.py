"""Checking one ingest batch, chunk by chunk, against a contract and the stored log.

A batch is judged as if it were appended to the stored log, by the loader's own
per-event checks (:class:`contractrules.model.event_loader.EventChecker`) and the same
rules across events, applied as the batch streams by, so that memory holds one chunk
(:data:`CHUNK` objects) and the issues, never the batch:

1. **Against stored ids.** An event whose id is already stored is normalised on its own
   (amounts, party roles) and compared with the stored one (by content hash): equal is
   a duplicate (skipped: ingest is idempotent); different is a conflict (an issue naming
   the line and the fields that differ; events are never changed).
2. **Within the batch.** A valid new event is staged (written to the transaction's
   staging table); a later event with its id is dropped if identical, else every line
   involved is an issue, as the loader says for a file.
3. **Invoices.** An ``invoice_issued`` for an invoice that a stored event or an earlier
   line of the batch issues is an issue on its line. (A payment may name any invoice:
   one not issued yet is held for it by the engine, SPEC §5 v2.)

Two differences with the file loader, both in batches refused anyway: an event whose
local date cannot be computed is not staged (the loader finds that last), so a later
line with its id is judged as new; and the first line of an id reused with other
content still counts as the issuer of its invoice for the lines after it (the loader
ignores it, found bad at the end).

The look-ups go to the store (:class:`Staging`), inside the batch's transaction. Every
issue of the batch is collected and raised once, at the end: :class:`ConflictError` if
any id conflicts, else :class:`EventError`; the transaction is then rolled back. Lines
are the file's lines, or for a list of events given through the API, their 1-based
position in the list.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from contractrules import dates
from contractrules.errors import ConflictError, DateError, EventError, Issue
from contractrules.model import Contract, event_adapter
from contractrules.model.event_loader import EVENT_SUFFIXES, EventChecker
from contractrules.model.events import trusted_event
from contractrules.model.jsonl import read_jsonl
from contractrules.model.lines import DocumentSyntaxError, json_array_items, read_text
from contractrules.store.values import content_hash, event_json

CHUNK = 500  # objects checked and staged per round trip (and per progress call)
Items = list[tuple[int | None, object]]  # (line, parsed object); stored events have no line
ItemStream = Iterable[tuple[int | None, object]]  # the same, read lazily (a JSON Lines file)


@dataclass(frozen=True)
class StoredEvent:
    """One row of the event log, as the batch check needs it."""

    event_id: str
    type: str
    content: str
    content_hash: str
    recorded_at: datetime
    batch_id: int


def read_items(events: str | Path | Iterable, file: str | None = None) -> tuple[ItemStream, list[Issue], str]:
    """``(line, object)`` pairs, syntax issues and a source name for any event input.

    A path is read as JSON Lines (``.jsonl``/``.ndjson``) or a JSON array (``.json``);
    an iterable holds event dicts (numbered 1, 2, ...) or ``(line, dict)`` pairs.
    """
    if isinstance(events, (str, Path)):
        return _read_file(Path(events))
    items: Items = []
    for n, item in enumerate(events, start=1):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int):
            items.append(item)
        else:
            items.append((n, item))
    return items, [], file or "<events>"


def _read_file(path: Path) -> tuple[ItemStream, list[Issue], str]:
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in EVENT_SUFFIXES:
        raise EventError([Issue(file, None, "", f"unsupported file type {suffix or '(none)'!r}: use .jsonl or .json")])
    problems: list[Issue] = []
    if suffix == ".json":
        text = read_text(path, file, EventError)
        try:
            return list(json_array_items(text, file, problems)), problems, file
        except DocumentSyntaxError as exc:
            raise EventError([Issue(file, exc.line, "", str(exc))]) from None
    # streamed (the one JSON Lines reader): ``problems`` fills in as the lines are read
    return read_jsonl(path, file, problems), problems, file


def parse_stored(content: str, contract: Contract):
    """The event model of a stored row (stored events are valid by construction: rebuilt
    without validating again, unless the row is not of the shape this program writes)."""
    data = json.loads(content)
    try:
        event = trusted_event(data) if isinstance(data, dict) else None
    except ValueError:
        event = None
    if event is not None:
        return event
    return event_adapter.validate_python(data, context={"currency": contract.currency})


def _normalise(obj: object, contract: Contract):
    """The event as the loader would store it, or None if it is invalid on its own."""
    try:
        event = event_adapter.validate_python(obj, context={"currency": contract.currency})
    except ValidationError:
        return None
    if event.by is not None:
        party = contract.party_id(event.by)
        if party is None:
            return None
        event = event.model_copy(update={"by": party})
    return event


def _differences(old, new) -> str:
    a = old.model_dump(mode="json", exclude_none=True)
    b = new.model_dump(mode="json", exclude_none=True)
    keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))

    def shown(d: dict, k: str) -> str:
        return json.dumps(d[k], ensure_ascii=False) if k in d else "(absent)"

    return "; ".join(f"{k}: stored {shown(a, k)}, given {shown(b, k)}" for k in keys)


@dataclass(frozen=True)
class Staged:
    """One new event of the batch, validated, as it will be written."""

    event_id: str
    type: str
    local_date: date
    content: str
    content_hash: str
    line: int | None
    order: int
    invoice: str | None  # the invoice an ``invoice_issued`` issues


class Staging(Protocol):
    """Where a batch is checked against and written to, chunk by chunk (inside its transaction)."""

    def stored(self, ids: Sequence[str]) -> dict[str, str]:
        """The content hashes of the events of earlier batches with these ids."""

    def stored_event(self, event_id: str) -> StoredEvent:
        """One stored event whole (to compare it field by field)."""

    def staged(self, ids: Sequence[str]) -> dict[str, tuple[str, int | None, int]]:
        """The events of this batch staged so far with these ids: ``(content_hash, line, order)``."""

    def issued(self, invoices: Sequence[str]) -> dict[str, tuple[str, int | None, bool]]:
        """Who issued these invoices: ``(event_id, line, stored)``, from earlier batches or this one."""

    def stage(self, rows: Sequence[Staged]) -> None:
        """Write these new events (and their invoices) to the batch's staging area."""


@dataclass(frozen=True)
class Outcome:
    """What a valid batch adds (staged, in input order) and how many of its events were repeats."""

    added: int
    duplicates: int


def _where(order: int, line: int | None) -> str:
    return f"line {line}" if line is not None else f"item {order + 1}"


@dataclass
class _Stream:
    """The state of one batch's check: issues found so far and what was staged."""

    contract: Contract
    file: str
    staging: Staging
    checker: EventChecker = field(init=False)
    conflicts: list[tuple[int, Issue]] = field(default_factory=list)
    # id reused with other content in the batch: id -> (first order, first line, [(order, line), ...])
    clashes: dict[str, tuple[int, int | None, list[tuple[int, int | None]]]] = field(default_factory=dict)
    added: int = 0
    duplicates: int = 0

    def __post_init__(self) -> None:
        self.checker = EventChecker(self.contract, self.file)

    def chunk(self, items: list[tuple[int, int | None, object]]) -> None:
        """Check one chunk of ``(order, line, object)`` and stage its new events."""
        ids = sorted({obj["id"] for _, _, obj in items if isinstance(obj, dict) and isinstance(obj.get("id"), str)})
        stored = self.staging.stored(ids) if ids else {}
        staged = self.staging.staged(ids) if ids else {}
        fresh = [row for order, line, obj in items if (row := self._one(order, line, obj, stored)) is not None]
        invoices = sorted({r.invoice for r in fresh if r.invoice is not None})
        issued = self.staging.issued(invoices) if invoices else {}
        rows: list[Staged] = []
        here: dict[str, Staged] = {}
        invoices_here: dict[str, Staged] = {}
        for r in fresh:
            first = staged.get(r.event_id)
            if first is None and r.event_id in here:
                mine = here[r.event_id]
                first = (mine.content_hash, mine.line, mine.order)
            if first is not None:
                if first[0] == r.content_hash:
                    self.duplicates += 1  # an identical repeat inside the batch
                else:
                    self.clashes.setdefault(r.event_id, (first[2], first[1], []))[2].append((r.order, r.line))
                continue
            if r.invoice is not None:
                prior = issued.get(r.invoice)
                if prior is None and r.invoice in invoices_here:
                    other = invoices_here[r.invoice]
                    prior = (other.event_id, other.line, False)
                if prior is not None:
                    if prior[2]:
                        message = f"invoice {r.invoice!r} is already issued by stored event {prior[0]!r}"
                    else:  # the batch gives lines (or 1-based positions) for every event
                        message = f"invoice {r.invoice!r} is already issued by event {prior[0]!r} (line {prior[1]})"
                    self.checker.report(r.order, r.line, "invoice", message, r.event_id)
                    continue
                invoices_here[r.invoice] = r
            here[r.event_id] = r
            rows.append(r)
        if rows:
            self.staging.stage(rows)
            self.added += len(rows)

    def _one(self, order: int, line: int | None, obj: object, stored: dict[str, str]) -> Staged | None:
        """One object: a repeat or a conflict with a stored event, an issue, or a new event."""
        event_id = obj.get("id") if isinstance(obj, dict) else None
        digest = stored.get(event_id) if isinstance(event_id, str) else None
        if digest is not None:
            new = _normalise(obj, self.contract)
            if new is not None:  # else invalid on its own: the checker says why
                if content_hash(event_json(new)) == digest:
                    self.duplicates += 1
                    return None
                old = self.staging.stored_event(new.id)
                previous = parse_stored(old.content, self.contract)
                if new == previous:  # stored by an older canonical form
                    self.duplicates += 1
                    return None
                self.conflicts.append(
                    (
                        order,
                        Issue(
                            self.file,
                            line,
                            "id",
                            f"event {event_id!r} is already stored with different content "
                            f"({_differences(previous, new)}; recorded {old.recorded_at:%Y-%m-%d %H:%M:%S} UTC, "
                            f"batch {old.batch_id}); stored events never change: record a new event instead",
                            event_id,
                        ),
                    )
                )
                return None
        candidate = self.checker.validate(order, line, obj)
        if candidate is None:
            return None
        event = candidate.event
        try:
            local = dates.local_date(event.at, self.contract.timezone)
        except (DateError, OverflowError) as exc:
            self.checker.report(order, line, "at", f"cannot convert to a local date: {exc}", event.id)
            return None
        text = event_json(event)
        invoice = event.invoice if event.type == "invoice_issued" else None
        return Staged(event.id, event.type, local, text, content_hash(text), line, order, invoice)

    def finish(self, syntax: Sequence[Issue]) -> Outcome:
        """Raise with every issue (sorted by line), or say what was staged."""
        for event_id, (order, line, later) in self.clashes.items():
            where = ", ".join(_where(o, n) for o, n in later)
            self.checker.report(
                order, line, "id", f"id {event_id!r} is reused with different content on {where}", event_id
            )
            for o, n in later:
                self.checker.report(
                    o,
                    n,
                    "id",
                    f"duplicate id {event_id!r} with different content (first on {_where(order, line)})",
                    event_id,
                )
        found = [(-1, issue) for issue in syntax] + self.conflicts + self.checker.issues
        if found:
            every = [issue for _, issue in sorted(found, key=lambda oi: (oi[1].line or 0, oi[0]))]
            raise (ConflictError if self.conflicts else EventError)(every)
        return Outcome(self.added, self.duplicates)


def check(
    contract: Contract,
    items: ItemStream,
    file: str,
    staging: Staging,
    syntax: Sequence[Issue] = (),
    chunk: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Check a batch chunk by chunk, staging its new events; raise with every issue found.

    Memory holds one chunk of objects and the issues, whatever the batch's size: the
    events already stored, those staged and the invoices issued are looked up in the
    store (``staging``), in the batch's own transaction.
    """
    stream = _Stream(contract, file, staging)
    numbered = ((order, line, obj) for order, (line, obj) in enumerate(items))
    size = chunk or CHUNK
    while part := list(itertools.islice(numbered, size)):
        stream.chunk(part)
        if progress is not None:
            progress(stream.added)
    return stream.finish(syntax)
