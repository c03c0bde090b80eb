"""The embedding API: evaluate a contract and its events as of a date, get typed answers.

    >>> from datetime import date, datetime
    >>> import contractrules as cr
    >>> answer = cr.evaluate("contract.yaml", "events.jsonl", as_of=date(2025, 10, 1))  # doctest: +SKIP
    >>> answer.penalty("INV-07").enforceable_from                                     # doctest: +SKIP

``contract`` may be a path, a dict (already parsed YAML/JSON) or a
:class:`~contractrules.model.Contract`; ``events`` a path, a list of event dicts, an
:class:`~contractrules.model.EventLoad` or a sequence of
:class:`~contractrules.model.EventRecord`. Invalid input raises
:class:`~contractrules.errors.InputError` listing every problem; nothing is guessed.
Pass an :class:`Engine` to reuse one across many calls (faster); otherwise one is made
and closed per call.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from contractrules.compiler import compile_contract
from contractrules.engine.engine import Engine
from contractrules.errors import InputError, Issue
from contractrules.model import (
    Contract,
    EventLoad,
    EventRecord,
    load_contract,
    load_events,
    parse_contract,
    parse_events,
)
from contractrules.model.answers import Answer, PenaltyAnswer
from contractrules.money import format_amount

ContractLike = Contract | str | Path | dict[str, Any]
EventsLike = str | Path | EventLoad | Iterable[EventRecord] | Iterable[dict[str, Any]] | None


def as_contract(contract: ContractLike) -> Contract:
    if isinstance(contract, Contract):
        return contract
    if isinstance(contract, dict):
        return parse_contract(contract)
    return load_contract(contract)


def as_records(events: EventsLike, contract: Contract, *, skip_invalid: bool = False) -> EventLoad:
    if events is None:
        return EventLoad(records=(), skipped=())
    if isinstance(events, EventLoad):
        return events
    if isinstance(events, (str, Path)):
        return load_events(events, contract, skip_invalid=skip_invalid)
    items = list(events)
    records = [i for i in items if isinstance(i, EventRecord)]
    if items and len(records) == len(items):
        return EventLoad(records=tuple(records), skipped=())
    return parse_events(((None, i) for i in items), contract, skip_invalid=skip_invalid)


def _as_date(value: object) -> date:
    """``as_of`` as a date: a ``datetime.date`` or an ISO string ``YYYY-MM-DD``."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError([Issue("<call>", None, "as_of", f"must be a local date (YYYY-MM-DD), got {value!r}")])


def evaluate(
    contract: ContractLike,
    events: EventsLike = None,
    as_of: date | str | None = None,
    *,
    engine: Engine | None = None,
    skip_invalid: bool = False,
) -> Answer:
    """Everything the contract says as of ``as_of``: state, obligations, violations, penalties."""
    as_of = _as_date(as_of)
    c = as_contract(contract)
    load = as_records(events, c, skip_invalid=skip_invalid)
    if engine is not None:
        answer = engine.evaluate(c, load.records, as_of)
    else:
        with Engine() as own:
            answer = own.evaluate(c, load.records, as_of)
    if load.skipped:
        skipped = [
            f"skipped invalid input: {issue}" + (f" (event {issue.event_id})" if issue.event_id else "")
            for issue in load.skipped
        ]
        answer = answer.model_copy(update={"warnings": [*skipped, *answer.warnings]})
    return answer


def penalty_items(invoice: str) -> tuple[str, str]:
    """The ids of the obligation and violation a ``penalty`` answer reads besides the
    invoice's penalty (what :func:`penalty_of` looks up)."""
    return f"payment:{invoice}", f"late_payment:{invoice}"


def penalty_of(answer: Answer, invoice: str, events_name: str = "<events>") -> PenaltyAnswer:
    """The ``penalty`` answer for one invoice, from a full answer.

    An invoice that is not issued by ``as_of`` is bad input, reported against
    ``events_name`` with the nearest issued invoice as a suggestion.
    """
    obligation, violation = penalty_items(invoice)
    ob = next((o for o in answer.obligations if o.id == obligation), None)
    if ob is None:
        issued = [o.id.removeprefix("payment:") for o in answer.obligations if o.kind == "payment"]
        near = difflib.get_close_matches(invoice, issued, n=1, cutoff=0.6)
        hint = (
            f"; did you mean {near[0]}?"
            if near
            else (
                f"; issued: {', '.join(issued[:5])}" + (" …" if len(issued) > 5 else "")
                if issued
                else "; no invoice is issued by then"
            )
        )
        raise InputError([Issue(events_name, None, "invoice", f"no invoice {invoice} issued by {answer.as_of}{hint}")])
    context = {
        "as_of": answer.as_of,
        "invoice_balance": ob.balance,
        "due": ob.due,
        "currency": ob.currency,
        "warnings": answer.warnings,
    }
    pen = answer.penalty(invoice)
    if pen is not None:
        return PenaltyAnswer(**pen.model_dump(), **context)
    zero = format_amount(Decimal(0), ob.currency)
    if any(v.id == violation for v in answer.violations):
        reason = "the contract has no late_penalty clause (and no jurisdiction): no penalty applies"
    elif ob.status == "fulfilled":
        reason = f"paid on time ({ob.fulfilled_on}): no penalty"
    else:
        reason = f"not late as of {answer.as_of}: due {ob.due}"
    return PenaltyAnswer(
        invoice=invoice,
        enforceable=False,
        enforceable_from=None,
        interest=zero,
        fixed_fee=zero,
        total=zero,
        paid=zero,
        balance=zero,
        reasons=[reason],
        **context,
    )


def penalty(
    contract: ContractLike,
    events: EventsLike,
    invoice: str,
    as_of: date | str,
    *,
    engine: Engine | None = None,
    skip_invalid: bool = False,
) -> PenaltyAnswer:
    """Is the late penalty on ``invoice`` enforceable as of ``as_of``, from when, and how much?"""
    name = str(events) if isinstance(events, (str, Path)) else "<events>"
    return penalty_of(evaluate(contract, events, as_of, engine=engine, skip_invalid=skip_invalid), invoice, name)


def compile(contract: ContractLike) -> dict[str, Any]:  # noqa: A001 - mirrors the CLI command
    """The declarative ruleset document the engine runs for ``contract``."""
    return compile_contract(as_contract(contract))
