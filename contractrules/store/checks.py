"""Checking one ingest batch against a contract and the events already stored.

A batch is checked by the same loader as a file (:func:`contractrules.model.parse_events`),
with two store-aware steps around it, so that a batch is judged as if it were appended
to the stored log:

1. **Against stored ids.** An event whose id is already stored is normalised on its own
   (amounts, party roles) and compared with the stored one: equal is a duplicate
   (skipped: ingest is idempotent); different is a conflict (an issue naming the line
   and the fields that differ; events are never changed).
2. **Against stored invoices.** The stored ``invoice_issued`` events are put in front of
   the batch (without lines), so that a new ``invoice_issued`` for an invoice the store
   already has is an issue on its line. (A payment may name any invoice: one not issued
   yet is held for it by the engine, SPEC §5 v2.)

Every issue of the batch is collected and raised once: :class:`ConflictError` if any
id conflicts, else :class:`EventError`. Lines are the file's lines, or for a list of
events given through the API, their 1-based position in the list.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from contractrules.errors import ConflictError, EventError, Issue
from contractrules.model import Contract, EventRecord, event_adapter, parse_events
from contractrules.model.event_loader import EVENT_SUFFIXES
from contractrules.model.jsonl import read_jsonl
from contractrules.model.lines import DocumentSyntaxError, json_array_items, read_text

Items = list[tuple[int | None, object]]  # (line, parsed object); stored events have no line
ItemStream = Iterable[tuple[int | None, object]]  # the same, read lazily (a JSON Lines file)


@dataclass(frozen=True)
class StoredEvent:
    """One row of the event log, as the batch check needs it."""

    event_id: str
    type: str
    content: str
    recorded_at: datetime
    batch_id: int


@dataclass(frozen=True)
class Plan:
    """What a valid batch adds: the new records in input order, and how many were repeats."""

    records: tuple[EventRecord, ...]
    duplicates: int


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
    """The event model of a stored row (stored events are valid by construction)."""
    return event_adapter.validate_python(json.loads(content), context={"currency": contract.currency})


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


def _against_ids(contract: Contract, stored: Sequence[StoredEvent], items: Iterable, file: str,
                 conflicts: list[Issue], counts: dict[str, int]) -> Iterator[tuple[int, object]]:
    """Step 1: drop repeats of stored events (counted in ``counts["repeats"]``), report
    conflicts; yield the rest. Lazy, so a large batch is validated as it is read."""
    by_id = {s.event_id: s for s in stored}
    for line, obj in items:
        event_id = obj.get("id") if isinstance(obj, dict) else None
        old = by_id.get(event_id) if isinstance(event_id, str) else None
        new = _normalise(obj, contract) if old is not None else None
        if old is None or new is None:  # a new id, or invalid on its own (the loader says why)
            yield line, obj
            continue
        previous = parse_stored(old.content, contract)
        if new == previous:
            counts["repeats"] += 1
            continue
        conflicts.append(Issue(
            file, line, "id",
            f"event {event_id!r} is already stored with different content ({_differences(previous, new)}; "
            f"recorded {old.recorded_at:%Y-%m-%d %H:%M:%S} UTC, batch {old.batch_id}); "
            "stored events never change: record a new event instead", event_id))


def _against_invoices(stored: Sequence[StoredEvent], items: Iterable, file: str,
                      issues: list[Issue], counts: dict[str, int]) -> tuple[Iterator, Iterator]:
    """Step 2: the stored invoices as a prefix; report invoices the batch issues again
    (both yielded lazily, the rest counted in ``counts["kept"]``: no parsed copy of the
    stored invoices is held while the batch is validated)."""
    invoices: dict[str, str] = {}
    for s in stored:
        if s.type == "invoice_issued":
            invoices[json.loads(s.content)["invoice"]] = s.event_id

    def prefix() -> Iterator[tuple[int | None, object]]:
        for s in stored:
            if s.type == "invoice_issued":
                yield None, json.loads(s.content)

    def kept() -> Iterator[tuple[int | None, object]]:
        for line, obj in items:
            invoice = obj.get("invoice") if isinstance(obj, dict) and obj.get("type") == "invoice_issued" else None
            if isinstance(invoice, str) and invoice in invoices:
                event_id = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), str) else None
                issues.append(Issue(file, line, "invoice",
                                    f"invoice {invoice!r} is already issued by stored event {invoices[invoice]!r}",
                                    event_id))
            else:
                counts["kept"] += 1
                yield line, obj

    return prefix(), kept()


def plan(contract: Contract, stored: Sequence[StoredEvent], items: ItemStream, file: str,
         syntax: Sequence[Issue] = ()) -> Plan:
    """Check a batch; return what to write, or raise with every issue found."""
    conflicts: list[Issue] = []
    issues: list[Issue] = []
    counts = {"repeats": 0, "kept": 0}
    fresh = _against_ids(contract, stored, items, file, conflicts, counts)
    prefix, kept = _against_invoices(stored, fresh, file, issues, counts)
    try:
        load = parse_events(itertools.chain(prefix, kept), contract, file)
    except EventError as exc:
        issues += exc.issues
        load = None
    issues += syntax  # read lazily: complete only now that every line was read
    repeats = counts["repeats"]
    if conflicts or issues:
        every = sorted(conflicts + issues, key=lambda i: i.line or 0)
        raise (ConflictError if conflicts else EventError)(every)
    assert load is not None, "parse_events raised, so there were issues"
    records = tuple(r for r in load.records if r.line is not None)  # the prefix has no lines
    return Plan(records, repeats + counts["kept"] - len(records))
