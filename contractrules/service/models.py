"""The service's response documents (the answers themselves are contractrules.model.answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from contractrules.model.answers import Obligation, Penalty, Violation


class Health(BaseModel):
    status: str
    backend: str
    schema_version: int


class ContractList(BaseModel):
    contracts: list[str]


class ContractWritten(BaseModel):
    contract: str
    version: int
    new_version: bool
    recorded_at: datetime | None


class EventsWritten(BaseModel):
    contract: str
    version: int
    added: int
    duplicates: int
    batch: int | None
    recorded_at: datetime | None


class StoredEvents(BaseModel):
    contract: str
    events: list[dict[str, Any]]


class ObligationItem(BaseModel):
    contract: str
    obligation: Obligation


class ObligationPage(BaseModel):
    as_of: str
    items: list[ObligationItem]
    next_cursor: str | None


class ViolationItem(BaseModel):
    contract: str
    violation: Violation
    penalty: Penalty | None


class ViolationPage(BaseModel):
    as_of: str
    items: list[ViolationItem]
    next_cursor: str | None
