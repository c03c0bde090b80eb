"""Events (SPEC §5) as a discriminated union on ``type``, one frozen model per type.

Common fields: ``id``, ``type``, ``at`` (a local date or a timestamp with offset),
``by`` (a party id or a role; the loader resolves it to the party id) and ``channel``.
Amounts are checked against the contract currency given in the validation context
(``context={"currency": "EUR"}``), which :func:`contractrules.model.parse_events` does.

Choices where SPEC §5 is silent (see docs/format.md):

- ``change_order_agreed`` needs ``amount`` or ``hours`` (or both).
- ``waiver``: ``invoice`` is required for ``late_penalty`` and ``late_penalty.grace``
  and refused for ``termination.notice``; ``until`` is required for
  ``late_penalty.grace`` and refused for the other clauses.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from contractrules.model.types import Amount, At, FieldProblems, Hours, LocalDate

WRITTEN: frozenset[str] = frozenset({"email", "letter", "portal", "chat", "system"})
VERBAL: frozenset[str] = frozenset({"phone", "video", "in_person"})

Channel = Literal["email", "letter", "portal", "chat", "system", "phone", "video", "in_person"]
Text = Annotated[str, Field(min_length=1)]
PENALTY_CLAUSES = ("late_penalty", "late_penalty.grace")


class BaseEvent(BaseModel):
    """Fields every event has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Text
    at: At
    by: Text | None = None
    channel: Channel | None = None
    #: the caller's own fields (SPEC §5): any JSON object, kept and returned, never
    #: interpreted; part of the event's content (same id + other meta = a conflict)
    meta: dict[str, Any] | None = None

    def __hash__(self) -> int:  # meta is a dict: hash by identity fields, compare by content
        return hash((self.type, self.id, self.at))  # type: ignore[attr-defined]

    @property
    def route(self) -> str | None:
        """A field the rules may match on besides ``type`` (None: none)."""
        return None

    @property
    def evidence(self) -> Literal["written", "verbal", "unknown"]:
        """``written`` / ``verbal`` by channel, ``unknown`` without one (SPEC §6.6)."""
        if self.channel in WRITTEN:
            return "written"
        if self.channel in VERBAL:
            return "verbal"
        return "unknown"


class InvoiceIssued(BaseEvent):
    """Creates a payment obligation for ``amount``, due per ``terms.payment``."""

    type: Literal["invoice_issued"]
    invoice: Text
    amount: Amount
    period: LocalDate | None = None


class PaymentReceived(BaseEvent):
    """Reduces a balance: ``invoice``'s, ``penalty``'s (the penalty on that invoice), or
    without either the oldest open invoice first (SPEC §5, §6.4)."""

    type: Literal["payment_received"]
    amount: Amount
    invoice: Text | None = None
    penalty: Text | None = None

    @model_validator(mode="after")
    def _one_target(self) -> PaymentReceived:
        if self.invoice is not None and self.penalty is not None:
            raise FieldProblems([(("penalty",), "give either invoice or penalty, not both")])
        return self


class CreditNote(BaseEvent):
    """Reduces what an invoice asks (``invoice``), its late penalty (``penalty``), or
    settles the service credit a late request earned (``request``, SPEC §6.8)."""

    type: Literal["credit_note"]
    invoice: Text | None = None
    penalty: Text | None = None
    request: Text | None = None
    amount: Amount

    @model_validator(mode="after")
    def _one_target(self) -> CreditNote:
        named = [f for f in ("invoice", "penalty", "request") if getattr(self, f) is not None]
        if len(named) != 1:
            field = named[1] if len(named) > 1 else "invoice"
            raise FieldProblems([((field,), "a credit note names exactly one of invoice, penalty or request")])
        return self

    @property
    def route(self) -> str:
        """What the rules see: ``request`` (a service credit) or ``ledger`` (an invoice or its penalty)."""
        return "request" if self.request is not None else "ledger"


class TerminationNotice(BaseEvent):
    """Starts termination; ``effective`` is an optional requested date."""

    type: Literal["termination_notice"]
    by: Text
    effective: LocalDate | None = None


class Waiver(BaseEvent):
    """The beneficiary of a clause gives it up (or, for grace, extends it ``until``)."""

    type: Literal["waiver"]
    by: Text
    clause: Literal["termination.notice", "late_penalty", "late_penalty.grace"]
    invoice: Text | None = None
    until: LocalDate | None = None

    @model_validator(mode="after")
    def _clause_fields(self) -> Waiver:
        problems = []
        if self.clause in PENALTY_CLAUSES and self.invoice is None:
            problems.append((("invoice",), f"required for clause {self.clause}"))
        if self.clause not in PENALTY_CLAUSES and self.invoice is not None:
            problems.append((("invoice",), f"not allowed for clause {self.clause}"))
        if self.clause == "late_penalty.grace" and self.until is None:
            problems.append((("until",), "required for clause late_penalty.grace"))
        if self.clause != "late_penalty.grace" and self.until is not None:
            problems.append((("until",), f"only for clause late_penalty.grace, not {self.clause}"))
        if problems:
            raise FieldProblems(problems)
        return self


class DisputeOpened(BaseEvent):
    """Suspends penalty enforceability on ``invoice`` (if ``disputes_suspend``)."""

    type: Literal["dispute_opened"]
    invoice: Text
    by: Text


class DisputeResolved(BaseEvent):
    """Ends a dispute on ``invoice``."""

    type: Literal["dispute_resolved"]
    invoice: Text
    by: Text


class ReminderSent(BaseEvent):
    """A formal demand for payment of ``invoice``."""

    type: Literal["reminder_sent"]
    invoice: Text
    by: Text


class WorkRequested(BaseEvent):
    """A request for work on ``asset`` under ``service`` (SPEC §6.5)."""

    type: Literal["work_requested"]
    by: Text
    service: Text
    asset: Text
    description: str | None = None
    value: Amount | None = None  # the value of the goods or work (SPEC §6.8 ``of: value``)


class WorkPerformed(BaseEvent):
    """Work done on ``asset`` under ``service``."""

    type: Literal["work_performed"]
    by: Text
    service: Text
    asset: Text
    hours: Hours | None = None


class ChangeOrderAgreed(BaseEvent):
    """Brings one out-of-scope request into scope, billable (``amount`` and/or ``hours``)."""

    type: Literal["change_order_agreed"]
    service: Text
    asset: Text
    amount: Amount | None = None
    hours: Hours | None = None

    @model_validator(mode="after")
    def _priced(self) -> ChangeOrderAgreed:
        if self.amount is None and self.hours is None:
            raise FieldProblems([(("amount",), "a change order needs an amount or hours")])
        return self


AnyEvent = (  # one member per event type, listed once here
    InvoiceIssued
    | PaymentReceived
    | CreditNote
    | TerminationNotice
    | Waiver
    | DisputeOpened
    | DisputeResolved
    | ReminderSent
    | WorkRequested
    | WorkPerformed
    | ChangeOrderAgreed
)
_CLASSES: tuple[type[BaseEvent], ...] = get_args(AnyEvent)
EVENT_CLASSES: dict[str, type[BaseEvent]] = {
    cls.model_fields["type"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in _CLASSES
}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_CLASSES)

Event = Annotated[AnyEvent, Field(discriminator="type")]
event_adapter: TypeAdapter[Event] = TypeAdapter(Event)

#: Event types that refer to an invoice by ``invoice``, with the noun used in warnings.
#: Naming an invoice not issued (yet) is not bad input (SPEC §5, v2): the engine holds
#: the event until the invoice exists.
INVOICE_REFERENCES: dict[str, str] = {
    "payment_received": "payment",
    "credit_note": "credit note",
    "dispute_opened": "dispute",
    "dispute_resolved": "dispute resolution",
    "reminder_sent": "reminder",
    "waiver": "waiver",
}


def referenced_invoice(event: BaseEvent) -> str | None:
    """The invoice an event refers to (not creates), or None."""
    if getattr(event, "type", None) in INVOICE_REFERENCES:
        return getattr(event, "invoice", None)
    return None


#: Fields of a stored event that are not JSON types once validated (see :func:`trusted_event`).
_TRUSTED_DATES = frozenset({"period", "effective", "until"})
_TRUSTED_DECIMALS = frozenset({"amount", "value", "hours"})


def trusted_event(data: dict[str, Any]) -> BaseEvent | None:
    """An event rebuilt without validation from the JSON this program wrote after validating
    it (``model_dump(mode="json", exclude_none=True)``: the store's event log), equal to
    what validating it again gives; None when ``data`` is not of that shape (validate it).

    Validating costs ~20 µs an event; this is a few. Only for trusted data: nothing is
    checked beyond the shape."""
    cls = EVENT_CLASSES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        return None
    values: dict[str, Any] = {}
    fields = cls.model_fields
    for name, value in data.items():
        if name not in fields:
            return None
        if name == "at":
            if not isinstance(value, str):
                return None
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
            if isinstance(value, datetime) and value.utcoffset() is None:
                return None
        elif name in _TRUSTED_DECIMALS:
            if not isinstance(value, str):
                return None
            value = Decimal(value)
        elif name in _TRUSTED_DATES:
            if not isinstance(value, str):
                return None
            value = date.fromisoformat(value)
        values[name] = value
    return cls.model_construct(**values)
