"""Loading events (JSON Lines or a JSON array) against a contract, with located errors.

Events are checked one by one (type, fields, amounts in the contract currency, naive
timestamps), then against the contract and each other:

- ``by`` must name a party, by id or role; it is rewritten to the party id;
- an id repeated with the same content (after normalisation: ``"600.0"`` equals
  ``"600.00"``, ``client`` equals the client's id) is dropped silently; with different
  content every line involved is an error, and with ``skip_invalid`` all of them are
  skipped (we cannot tell which one is right);
- an invoice is issued once. Payments, credit notes, disputes, reminders and waivers may
  name an invoice no event issues (yet): not bad input (SPEC §5, v2), the engine holds
  them for it.

Every problem becomes an :class:`~contractrules.errors.Issue` with the line, field and
event id. By default any issue raises :class:`~contractrules.errors.EventError` listing
all of them; with ``skip_invalid`` the bad events are dropped and their issues returned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from contractrules import dates
from contractrules.errors import DateError, EventError, Issue
from contractrules.model.contract import Contract
from contractrules.model.events import (
    EVENT_CLASSES,
    EVENT_TYPES,
    Event,
    event_adapter,
)
from contractrules.model.issues import issues_from, suggestion
from contractrules.model.jsonl import read_jsonl, refusal
from contractrules.model.lines import DocumentSyntaxError, json_array_items, read_text
from contractrules.model.types import describe_value

EVENT_SUFFIXES = (".jsonl", ".ndjson", ".json")

#: Events only one party may send (SPEC §5 v2): the provider invoices and credits, the
#: client pays. An event of these types without ``by`` is taken as sent by that party.
SENT_BY: dict[str, str] = {
    "invoice_issued": "provider",
    "credit_note": "provider",
    "payment_received": "client",
}


@dataclass(frozen=True)
class EventRecord:
    """A validated event with its origin and its contract-local date.

    ``seq`` is the input order (after dedupe); ``event.by`` is a party id.
    """

    event: Event
    file: str
    line: int | None
    seq: int
    local_date: date


@dataclass(frozen=True)
class EventLoad:
    """The good events, and (only with ``skip_invalid``) the issues of the skipped ones."""

    records: tuple[EventRecord, ...]
    skipped: tuple[Issue, ...] = ()


def _where(order: int, line: int | None) -> str:
    """``line 7``, or ``item 7`` (1-based) for input without line numbers."""
    return f"line {line}" if line is not None else f"item {order + 1}"


@dataclass
class _Candidate:
    order: int
    line: int | None
    event: Event

    @property
    def where(self) -> str:
        return _where(self.order, self.line)


@dataclass
class _Checker:
    """Collects issues while events are checked; ``bad`` holds the orders to drop."""

    contract: Contract
    file: str
    gated: bool = False  # the objects passed the JSON reader's gate already (jsonl.parse_line)
    issues: list[tuple[int, Issue]] = field(default_factory=list)
    bad: set[int] = field(default_factory=set)
    _credited: frozenset[str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._context = {"currency": self.contract.currency}  # what the event models read

    def credited_on_value(self) -> frozenset[str]:
        """The contract's services crediting ``of: value`` (asked once per load)."""
        if self._credited is None:
            self._credited = self.contract.services_credited_on_value()
        return self._credited

    def report(self, order: int, line: int | None, path: str, message: str, event_id: str | None) -> None:
        self.issues.append((order, Issue(self.file, line, path, message, event_id)))
        self.bad.add(order)

    # ------------------------------------------------------------------ one event

    def validate(self, order: int, line: int | None, obj: object) -> _Candidate | None:
        """One event, normalised, or None after reporting why it is invalid."""
        if not isinstance(obj, dict):
            self.report(order, line, "", f"expected an event object, got {describe_value(obj)}", None)
            return None
        problem = None if self.gated else refusal(obj)  # data given as Python objects skip the JSON reader's gate
        if problem is not None:
            self.report(order, line, problem[0], problem[1], None)
            return None
        try:
            event = event_adapter.validate_python(obj, context=self._context)
        except ValidationError as exc:
            self._report_validation(order, line, obj, exc)
            return None
        if event.by is not None:
            party = self.contract.party_id(event.by)
            if party is None:
                p = self.contract.parties
                self.report(
                    order,
                    line,
                    "by",
                    f"unknown party {event.by!r}: expected {p.provider.id!r} (provider), "
                    f"{p.client.id!r} (client) or a role name",
                    event.id,
                )
                return None
            expected = SENT_BY.get(event.type)
            if expected is not None and self.contract.role_of(party) != expected:
                p = getattr(self.contract.parties, expected)
                self.report(
                    order,
                    line,
                    "by",
                    f"{event.type} must be sent by the {expected} ({p.id!r}), not {event.by!r}",
                    event.id,
                )
                return None
            if party != event.by:  # a role name: normalise to the party id
                event = event.model_copy(update={"by": party})
        if event.type == "work_requested" and event.value is None and event.service in self.credited_on_value():
            self.report(
                order,
                line,
                "value",
                f"required: the service level of {event.service!r} credits a share "
                "of the request's value (terms.service_levels: credit.of: value)",
                event.id,
            )
            return None
        return _Candidate(order, line, event)

    def _report_validation(self, order: int, line: int | None, obj: dict, exc: ValidationError) -> None:
        event_id = obj["id"] if isinstance(obj.get("id"), str) else None
        tag = obj.get("type")
        for error in exc.errors(include_url=False):
            if error["type"] == "union_tag_invalid":
                hint = suggestion(tag, EVENT_TYPES)
                message = f"unknown event type {describe_value(tag)}{hint}; valid types: {', '.join(EVENT_TYPES)}"
                self.report(order, line, "type", message, event_id)
            elif error["type"] == "union_tag_not_found":
                self.report(order, line, "type", f"required (one of: {', '.join(EVENT_TYPES)})", event_id)
            else:
                model = EVENT_CLASSES.get(tag) if isinstance(tag, str) else None
                found = issues_from(
                    [error], file=self.file, lines=lambda _: line, model=model, drop=1, event_id=event_id
                )
                self.issues += [(order, issue) for issue in found]
                self.bad.add(order)

    # ------------------------------------------------------------------ across events

    def dedupe(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """Drop identical repeats; flag every line of an id reused with different content."""
        first: dict[str, _Candidate] = {}
        clashes: dict[str, list[_Candidate]] = {}
        kept = []
        for c in candidates:
            seen = first.get(c.event.id)
            if seen is None:
                first[c.event.id] = c
                kept.append(c)
            elif c.event != seen.event:
                clashes.setdefault(c.event.id, []).append(c)
                kept.append(c)
        for event_id, later in clashes.items():
            head = first[event_id]
            where = ", ".join(c.where for c in later)
            message = f"id {event_id!r} is reused with different content on {where}"
            self.report(head.order, head.line, "id", message, event_id)
            for c in later:
                message = f"duplicate id {event_id!r} with different content (first on {head.where})"
                self.report(c.order, c.line, "id", message, event_id)
        return kept

    def check_invoices(self, candidates: list[_Candidate]) -> None:
        """An invoice is issued once.

        A reference to an invoice that no event issues is not bad input (SPEC §5, v2):
        billing systems post payments before invoices, so the engine holds such events
        until the invoice exists and warns while it does not.
        """
        issued: dict[str, _Candidate] = {}
        for c in candidates:
            if c.event.type != "invoice_issued" or c.order in self.bad:
                continue
            if c.event.invoice in issued:
                prior = issued[c.event.invoice]
                message = f"invoice {c.event.invoice!r} is already issued by event {prior.event.id!r} ({prior.where})"
                self.report(c.order, c.line, "invoice", message, c.event.id)
            else:
                issued[c.event.invoice] = c

    def records(self, candidates: list[_Candidate]) -> list[EventRecord]:
        """The surviving events, numbered in input order, with their local dates."""
        out: list[EventRecord] = []
        for c in candidates:
            if c.order in self.bad:
                continue
            try:
                local = dates.local_date(c.event.at, self.contract.timezone)
            except (DateError, OverflowError) as exc:
                self.report(c.order, c.line, "at", f"cannot convert to a local date: {exc}", c.event.id)
                continue
            out.append(EventRecord(c.event, self.file, c.line, len(out), local))
        return out


#: The per-event checks and their issues, for callers that check a stream chunk by chunk
#: (the store's ingest): ``validate`` one object, ``report`` an issue, read ``issues``.
EventChecker = _Checker


def _check(
    items: Iterable[tuple[int | None, object]],
    contract: Contract,
    file: str,
    skip_invalid: bool,
    syntax: Iterable[Issue] = (),
    gated: bool = False,
) -> EventLoad:
    checker = _Checker(contract, file, gated)
    candidates = []
    for order, (line, obj) in enumerate(items):
        candidate = checker.validate(order, line, obj)
        if candidate is not None:
            candidates.append(candidate)
    candidates = checker.dedupe(candidates)
    checker.check_invoices(candidates)
    records = checker.records(candidates)
    ordered = sorted([(-1, issue) for issue in syntax] + checker.issues, key=lambda oi: (oi[1].line or 0, oi[0]))
    issues = [issue for _, issue in ordered]
    if issues and not skip_invalid:
        raise EventError(issues)
    return EventLoad(tuple(records), tuple(issues))


def parse_events(
    items: Iterable[tuple[int | None, object]],
    contract: Contract,
    file: str = "<events>",
    *,
    skip_invalid: bool = False,
    gated: bool = False,
) -> EventLoad:
    """Validate parsed events, given as ``(line, object)`` pairs, against ``contract``.

    Any issue raises EventError listing all of them, unless ``skip_invalid``: then the
    bad events are dropped, the good ones returned, and the issues listed in ``skipped``.
    ``gated``: the objects come from the JSON reader (:func:`contractrules.model.jsonl.parse_line`),
    which applied the gate on size, depth, repeated keys and surrogates already.
    """
    return _check(items, contract, file, skip_invalid, (), gated)


def load_events(path: str | Path, contract: Contract, *, skip_invalid: bool = False) -> EventLoad:
    """Load an events file: ``.jsonl``/``.ndjson`` (one object a line) or ``.json`` (an array)."""
    path = Path(path)
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in EVENT_SUFFIXES:
        raise EventError([Issue(file, None, "", f"unsupported file type {suffix or '(none)'!r}: use .jsonl or .json")])
    problems: list[Issue] = []
    if suffix != ".json":  # streamed: the file is never held whole
        try:
            return _check(read_jsonl(path, file, problems), contract, file, skip_invalid, problems, gated=True)
        except OSError as exc:
            raise EventError([Issue(file, None, "", f"cannot read file: {exc.strerror or exc}")]) from None
    text = read_text(path, file, EventError)
    try:
        items = json_array_items(text, file, problems)
    except DocumentSyntaxError as exc:
        raise EventError([Issue(file, exc.line, "", str(exc))]) from None
    return _check(items, contract, file, skip_invalid, problems, gated=True)
