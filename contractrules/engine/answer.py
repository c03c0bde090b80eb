"""Turn a finished :class:`Run` into the typed, sorted SPEC §8 answer.

The generic sections (obligations, violations, unapplied credit, rights, warnings) come
from the ledger; the others (``state``, ``penalties``) and any working ``detail`` come
from the ``answer(run)`` hooks of the clauses (compiler registry): this module names no
clause."""

from __future__ import annotations

from contractrules.ledger import ZERO
from contractrules.model.answers import (
    Answer,
    ContractState,
    Obligation,
    Right,
    UnappliedCredit,
    Violation,
)
from contractrules.model.events import VERBAL, WRITTEN
from contractrules.money import format_amount


def evidence(run, event_ids: list[str]) -> str:
    """``written`` if any cited event came in writing, ``verbal`` if all by voice, else ``unknown``.

    A cited amendment (``amendment:<id>``) agreed only by voice makes it ``verbal`` whatever
    else is cited: the finding rests on a term nobody wrote down (SPEC §6.7)."""
    agreed = [
        run.amendments[e[10:]]["channel"] for e in event_ids if e.startswith("amendment:") and e[10:] in run.amendments
    ]
    if any(c in VERBAL for c in agreed):
        return "verbal"
    channels = [getattr(run.by_id[e].event, "channel", None) for e in event_ids if e in run.by_id] + agreed
    if any(c in WRITTEN for c in channels):
        return "written"
    if channels and all(c in VERBAL for c in channels):
        return "verbal"
    return "unknown"


def _amount(run, value) -> str | None:
    return None if value is None else format_amount(value, run.currency)


def _rights(run) -> list[Right]:
    return [
        Right(id=r.id, party=r.party, **{"from": r.from_}, clause=r.clause, caused_by=list(r.caused_by))
        for r in sorted(run.rights.values(), key=lambda r: (r.from_, r.id))
    ]


def _obligation(run, o) -> Obligation:
    return Obligation(
        id=o.id,
        kind=o.kind,
        debtor=o.debtor,
        creditor=o.creditor,
        amount=_amount(run, o.amount),
        balance=_amount(run, o.balance),
        currency=run.currency,
        due=o.due,
        status=o.status,
        fulfilled_on=o.fulfilled_on,
        clause=o.clause,
        caused_by=list(o.caused_by),
        evidence=evidence(run, o.caused_by),
        explanation=o.explanation,
    )


def _violation(run, v) -> Violation:
    return Violation(
        id=v.id,
        kind=v.kind,
        party=v.party,
        on=v.on,
        severity=v.severity,
        obligation=v.obligation,
        clause=v.clause,
        caused_by=list(v.caused_by),
        evidence=evidence(run, v.caused_by),
        explanation=v.explanation,
    )


class _Fields:
    """A working object's fields (a dict) read as attributes, to build its answer item."""

    def __init__(self, fields: dict) -> None:
        self.__dict__ = fields


def _by_key(item: dict) -> tuple:
    return (item["due"] or item["arose_on"], item["id"])


def _items(run, fields: list[dict], build, reuse: dict) -> list:
    """A live contract's answer items, from working objects' fields in answer order: an
    item whose working object has the same stamp as at the last answer (the same content:
    ledger.py) is the same (immutable) object, not built again."""
    out, used = [], {}
    get = reuse.get
    for f in fields:
        key = f["_stamp"]
        item = get(key)
        if item is None:
            item = build(run, _Fields(f))
        used[key] = item
        out.append(item)
    reuse.clear()
    reuse.update(used)
    return out


def _obligations(run, reuse: dict[str, dict] | None) -> list[Obligation]:
    if reuse is None:
        return [
            _obligation(run, o) for o in sorted(run.obligations.values(), key=lambda o: (o.due or o.arose_on, o.id))
        ]
    finished = run.finished or {}  # working obligations' finished fields, where a live finish left them
    fields = [finished.get(o.id) or o.__dict__ for o in run.obligations.values()]
    fields.sort(key=_by_key)
    return _items(run, fields, _obligation, reuse.setdefault("obligations", {}))


def _violations(run, reuse: dict[str, dict] | None) -> list[Violation]:
    ordered = sorted(run.violations.values(), key=lambda v: (v.on, v.id))
    if reuse is None:
        return [_violation(run, v) for v in ordered]
    return _items(run, [v.__dict__ for v in ordered], _violation, reuse.setdefault("violations", {}))


def build_context(
    run, obligation: str, violation: str, answer_hooks=(), reuse: dict[str, dict] | None = None
) -> Answer | None:
    """Only one obligation and one violation (if there) of the answer, with the answer
    hooks' sections and the warnings — what a ``penalty`` answer reads (api.penalty_of) —
    as an :class:`Answer` not validated and missing the other items, for that use only;
    None when there is no such obligation (the full answer then explains)."""
    working = run.obligations.get(obligation)
    if working is None:
        return None
    fields = (run.finished or {}).get(working.id) or working.__dict__
    obligations = _items(run, [fields], _obligation, {} if reuse is None else reuse.setdefault("context", {}))
    found = run.violations.get(violation)
    violations = [] if found is None else [_violation(run, found)]
    sections: dict = {"penalties": []}
    for hook in answer_hooks:
        part = dict(hook(run))
        part.pop("detail", None)
        sections.update(part)
    return Answer.model_construct(
        contract=run.contract_id,
        as_of=run.as_of,
        obligations=obligations,
        violations=violations,
        warnings=list(run.warnings),
        **sections,
    )


def build_answer(run, answer_hooks=(), reuse: dict[str, dict] | None = None) -> Answer:
    """The answer; ``reuse`` keeps built items between answers of one live contract."""
    obligations = _obligations(run, reuse)
    violations = _violations(run, reuse)
    held = run.unapplied_credit()
    ids = list(dict.fromkeys(p.event_id for p in held))
    unapplied = UnappliedCredit(
        amount=format_amount(sum((p.amount for p in held), ZERO), run.currency), currency=run.currency, caused_by=ids
    )
    sections: dict = {"state": ContractState(state="active", effective_end=run.end, notice=None), "penalties": []}
    detail: dict = {}
    for hook in answer_hooks:
        part = dict(hook(run))
        detail.update(part.pop("detail", {}))
        sections.update(part)
    answer = Answer(
        contract=run.contract_id,
        as_of=run.as_of,
        obligations=obligations,
        violations=violations,
        unapplied_credit=unapplied,
        rights=_rights(run),
        warnings=list(run.warnings),
        **sections,
    )
    # terms: (section, day) -> the dated terms in force (SPEC §6.7), for documents
    answer.detail.update(invoices=dict(run.invoices), records=run.by_id, terms=run.terms, **detail)
    return answer
