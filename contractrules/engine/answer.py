"""Turn a finished :class:`Run` into the typed, sorted SPEC §8 answer."""

from __future__ import annotations

from contractrules.compiler import termination
from contractrules.engine.runtime import ZERO
from contractrules.model.answers import (
    Answer,
    ContractState,
    Notice,
    Obligation,
    Penalty,
    UnappliedCredit,
    Violation,
)
from contractrules.model.events import VERBAL, WRITTEN
from contractrules.money import format_amount


def evidence(run, event_ids: list[str]) -> str:
    """``written`` if any cited event came in writing, ``verbal`` if all by voice, else ``unknown``."""
    channels = [getattr(run.by_id[e].event, "channel", None) for e in event_ids if e in run.by_id]
    if any(c in WRITTEN for c in channels):
        return "written"
    if channels and all(c in VERBAL for c in channels):
        return "verbal"
    return "unknown"


def _amount(run, value) -> str | None:
    return None if value is None else format_amount(value, run.currency)


def _state(run) -> ContractState:
    r = termination.resolve(run)
    end = termination.effective_end(run)
    if end is not None and run.as_of > end:
        state = "terminated"
    elif r is not None:
        state = "terminating"
    else:
        state = "active"
    notice = None if r is None else Notice(given_on=r.given_on, by=r.by, waived=r.waived)
    return ContractState(state=state, effective_end=end, notice=notice)


def build_answer(run) -> Answer:
    obligations = [
        Obligation(
            id=o.id, kind=o.kind, debtor=o.debtor, creditor=o.creditor,
            amount=_amount(run, o.amount), balance=_amount(run, o.balance), currency=run.currency,
            due=o.due, status=o.status, fulfilled_on=o.fulfilled_on, clause=o.clause,
            caused_by=list(o.caused_by), evidence=evidence(run, o.caused_by), explanation=o.explanation,
        )
        for o in sorted(run.obligations.values(), key=lambda o: (o.due or o.arose_on, o.id))
    ]
    violations = [
        Violation(
            id=v.id, kind=v.kind, party=v.party, on=v.on, severity=v.severity, obligation=v.obligation,
            clause=v.clause, caused_by=list(v.caused_by), evidence=evidence(run, v.caused_by),
            explanation=v.explanation,
        )
        for v in sorted(run.violations.values(), key=lambda v: (v.on, v.id))
    ]
    penalties = [
        Penalty(
            invoice=f.invoice, enforceable=f.enforceable, enforceable_from=f.enforceable_from,
            interest=format_amount(f.interest, run.currency), fixed_fee=format_amount(f.fixed_fee, run.currency),
            total=format_amount(f.total, run.currency), paid=format_amount(f.paid, run.currency),
            balance=format_amount(f.balance(run.currency), run.currency), reasons=f.reasons,
        )
        for f in run.state("late_penalty").get("figures", [])
    ]
    held = run.unapplied_credit()
    ids = list(dict.fromkeys(p.event_id for p in held))
    unapplied = UnappliedCredit(amount=format_amount(sum((p.amount for p in held), ZERO), run.currency),
                                currency=run.currency, caused_by=ids)
    answer = Answer(
        contract=run.contract_id, as_of=run.as_of, state=_state(run), obligations=obligations,
        violations=violations, penalties=penalties, unapplied_credit=unapplied, warnings=list(run.warnings),
    )
    answer.detail.update(invoices=dict(run.invoices), records=run.by_id,
                         interest=dict(run.state("late_penalty").get("tables", {})))
    return answer
