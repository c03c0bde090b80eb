"""Typed answers (SPEC §8): what the engine says about one contract as of a date.

Field names are stable; amounts are strings rounded half-up to the currency's minor
unit; lists are sorted deterministically. ``Answer.to_json()`` gives the SPEC document.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

ObligationKind = Literal["billing", "payment", "service", "penalty", "credit"]
Status = Literal["pending", "fulfilled", "violated", "waived", "suspended", "discharged"]
ViolationKind = Literal[
    "late_payment",
    "short_notice",
    "missed_service",
    "late_service",
    "out_of_scope_request",
    "out_of_scope_work",
    "statutory_limit",
    "unbilled",
]
Evidence = Literal["written", "verbal", "unknown"]


class AnswerDetail(dict):  # type: ignore[type-arg]  # any working detail, by name
    """In-process working detail of an answer; never part of its identity or its JSON.

    Equal to any other detail (two answers are equal when their SPEC fields are), and
    pickled empty (batch workers ship answers, not ledgers)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict)

    __hash__ = None

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (AnswerDetail, ())


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Obligation(_Answer):
    id: str
    kind: ObligationKind
    debtor: str
    creditor: str
    amount: str | None
    balance: str | None
    currency: str
    due: date | None
    status: Status
    fulfilled_on: date | None
    clause: str
    caused_by: list[str]
    evidence: Evidence
    explanation: str


class Violation(_Answer):
    id: str
    kind: ViolationKind
    party: str
    on: date
    severity: Literal["breach", "advisory"]
    obligation: str | None
    clause: str
    caused_by: list[str]
    evidence: Evidence
    explanation: str


class Penalty(_Answer):
    invoice: str
    enforceable: bool
    enforceable_from: date | None
    interest: str
    fixed_fee: str
    total: str  # interest + fixed fee
    paid: str  # money paid towards the penalty (new in v2)
    balance: str  # total less what was paid and credited to it, never below 0.00
    reasons: list[str]


class UnappliedCredit(_Answer):
    """Money matching no open debt, and money held for invoices not issued yet (SPEC §6.2)."""

    amount: str
    currency: str
    caused_by: list[str]


class Right(_Answer):
    """A right a party holds from a date (SPEC §6.8: ``termination_right:<request id>``)."""

    # ``from`` in JSON (a Python keyword); serialize_by_alias needs pydantic 2.11
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True)

    id: str
    party: str
    from_: date = Field(alias="from")
    clause: str
    caused_by: list[str]


class Notice(_Answer):
    given_on: date
    by: str
    waived: bool


class ContractState(_Answer):
    state: Literal["active", "terminating", "terminated"]
    effective_end: date | None
    notice: Notice | None


class Answer(_Answer):
    contract: str
    as_of: date
    state: ContractState
    obligations: list[Obligation]
    violations: list[Violation]
    penalties: list[Penalty]
    unapplied_credit: UnappliedCredit
    rights: list[Right] = []  # new in v2 (SPEC §6.8)
    warnings: list[str]
    #: Not part of the SPEC document: the engine's working detail behind the figures
    #: (interest tables, the invoice ledger) for statements and letters
    #: (``contractrules.documents``); empty for an answer read back from JSON.
    _detail: AnswerDetail = PrivateAttr(default_factory=AnswerDetail)

    @property
    def detail(self) -> AnswerDetail:
        return self._detail

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def penalty(self, invoice: str) -> Penalty | None:
        return next((p for p in self.penalties if p.invoice == invoice), None)


class PenaltyAnswer(Penalty):
    """The ``contractrules penalty`` answer: one invoice's penalty with its context."""

    as_of: date
    invoice_balance: str
    due: date | None
    currency: str
    warnings: list[str] = []

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
