"""terms.late_penalty: what the events tell about one invoice's penalty — waivers, grace
extensions, disputes and reminders (SPEC §6.4), kept per invoice for compiler/penalty.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from contractrules.dates import Period
from contractrules.model import EventRecord


@dataclass
class Dispute:
    """A dispute on an invoice: opened (and resolved) on local days, by events."""

    opened: date
    opened_by: str
    resolved: date | None = None
    resolved_by: str | None = None

    def held(self, as_of: date) -> Period:
        """The days it holds the penalty back, as known on ``as_of``: from the day it was
        opened to the day before it was resolved (``end`` None: still open)."""
        if self.resolved is None or self.resolved > as_of:
            return Period(self.opened, None)
        return Period(self.opened, self.resolved - timedelta(days=1))


@dataclass
class InvoiceFacts:
    waiver: EventRecord | None = None
    grace_until: date | None = None
    grace_event: str | None = None
    disputes: list[Dispute] = field(default_factory=list)
    reminders: list[tuple[date, str]] = field(default_factory=list)


def _facts(run, invoice_id: str) -> InvoiceFacts:
    return run.state("late_penalty").setdefault(invoice_id, InvoiceFacts())


facts_of = _facts


def _held(run, rec, action) -> bool:
    """Hold an event naming an invoice not issued yet until it is (SPEC §5, v2)."""
    if rec.event.invoice in run.invoices:
        return False
    run.hold(rec.event.invoice, action, rec)
    return True


def _creditor_only(run, rec, what: str) -> bool:
    if rec.event.by != run.provider:
        run.warn(
            f"{what} {rec.event.id} by {run.name(rec.event.by)} ignored: only the creditor "
            f"{run.name(run.provider)} can give up or extend a late penalty"
        )
        return False
    return True


def waive(run, rec) -> None:
    if not _held(run, rec, waive) and _creditor_only(run, rec, "waiver"):
        _facts(run, rec.event.invoice).waiver = rec


def extend_grace(run, rec) -> None:
    if not _held(run, rec, extend_grace) and _creditor_only(run, rec, "grace extension"):
        f = _facts(run, rec.event.invoice)
        if f.grace_until is None or rec.event.until > f.grace_until:
            f.grace_until, f.grace_event = rec.event.until, rec.event.id


def dispute_opened(run, rec) -> None:
    if _held(run, rec, dispute_opened):
        return
    f = _facts(run, rec.event.invoice)
    if not any(d.resolved is None for d in f.disputes):
        f.disputes.append(Dispute(rec.local_date, rec.event.id))


def dispute_resolved(run, rec) -> None:
    if _held(run, rec, dispute_resolved):
        return
    for d in _facts(run, rec.event.invoice).disputes:
        if d.resolved is None:
            d.resolved, d.resolved_by = rec.local_date, rec.event.id
            return
    run.warn(f"dispute_resolved {rec.event.id} ignored: no open dispute on invoice {rec.event.invoice}")


def reminder(run, rec) -> None:
    if _held(run, rec, reminder):
        return
    _facts(run, rec.event.invoice).reminders.append((rec.local_date, rec.event.id))
