"""Pydantic models of contracts and events, and loaders that keep line numbers.

Pipeline step one: **load -> validate**. :func:`load_contract` / :func:`load_events`
read files; :func:`parse_contract` / :func:`parse_events` validate data already parsed.
Problems are raised as :class:`~contractrules.errors.ContractError` /
:class:`~contractrules.errors.EventError`, each listing every issue with file, line and
field path.
"""

from contractrules.model.contract import (
    Billing,
    ChangeOrderRate,
    Contract,
    ExcludedAsset,
    Interest,
    LatePenalty,
    OnRequest,
    Parties,
    Party,
    Payment,
    Scope,
    Service,
    Termination,
    Terms,
)
from contractrules.model.events import (
    EVENT_CLASSES,
    EVENT_TYPES,
    VERBAL,
    WRITTEN,
    BaseEvent,
    ChangeOrderAgreed,
    CreditNote,
    DisputeOpened,
    DisputeResolved,
    Event,
    InvoiceIssued,
    PaymentReceived,
    ReminderSent,
    TerminationNotice,
    Waiver,
    WorkPerformed,
    WorkRequested,
    event_adapter,
    referenced_invoice,
)
from contractrules.model.loader import (
    ContractSource,
    EventLoad,
    EventRecord,
    load_contract,
    load_events,
    parse_contract,
    parse_events,
    read_contract,
)

__all__ = sorted(
    [
        "BaseEvent",
        "Billing",
        "ChangeOrderAgreed",
        "ChangeOrderRate",
        "Contract",
        "ContractSource",
        "CreditNote",
        "DisputeOpened",
        "DisputeResolved",
        "EVENT_CLASSES",
        "EVENT_TYPES",
        "Event",
        "EventLoad",
        "EventRecord",
        "ExcludedAsset",
        "Interest",
        "InvoiceIssued",
        "LatePenalty",
        "OnRequest",
        "Parties",
        "Party",
        "Payment",
        "PaymentReceived",
        "ReminderSent",
        "Scope",
        "Service",
        "Termination",
        "TerminationNotice",
        "Terms",
        "VERBAL",
        "WRITTEN",
        "Waiver",
        "WorkPerformed",
        "WorkRequested",
        "event_adapter",
        "load_contract",
        "load_events",
        "parse_contract",
        "parse_events",
        "read_contract",
        "referenced_invoice",
    ]
)
