"""``GET /obligations`` and ``GET /violations``: across a tenant's contracts, a page at a time.

Items are ordered by (contract id, item id); the cursor is the last item's key (opaque
to clients: base64url JSON). A page evaluates contracts from the cursor's contract on,
as of the same date, and stops as soon as it is full, so a dunning job that pages
through everything evaluates each contract about once.

Filters (all optional, all inclusive): ``status``, ``kind``, ``due_after <= due <=
due_before`` for obligations; ``kind``, ``severity``, ``on_after <= on <= on_before`` for
violations (``on_after=yesterday``: what became late since yesterday), and
``enforceable_after <= enforceable_from <= enforceable_before`` on a violation's
penalty (what became enforceable since yesterday).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from datetime import date

from contractrules.errors import UnknownContractError
from contractrules.service import answers
from contractrules.service.problems import ProblemError, ProblemItem
from contractrules.store import Store


def encode_cursor(contract: str, item: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([contract, item]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            return value[0], value[1]
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pass
    raise ProblemError(
        422,
        "invalid-request",
        "the cursor is not one this service gave",
        [ProblemItem(field="query.cursor", message="invalid cursor")],
    )


def _between(value: date | None, low: date | None, high: date | None) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def page(
    store: Store, as_of: date, limit: int, cursor: str | None, pick: Callable[[object], Iterator[tuple[str, dict]]]
) -> tuple[list[dict], str | None]:
    """Up to ``limit`` items after ``cursor``; ``pick(answer)`` yields ``(item id, item)``."""
    after = decode_cursor(cursor)
    out: list[tuple[str, str, dict]] = []
    for cid in store.contract_ids():
        if after is not None and cid < after[0]:
            continue
        try:
            answer = answers.answer(store, cid, as_of)
        except UnknownContractError:
            continue  # no version known yet (cannot happen without known_at); skip
        for item_id, item in sorted(pick(answer), key=lambda p: p[0]):
            if after is not None and (cid, item_id) <= after:
                continue
            out.append((cid, item_id, item))
            if len(out) > limit:
                last = out[limit - 1]
                return [i for _, _, i in out[:limit]], encode_cursor(last[0], last[1])
    return [i for _, _, i in out], None


def obligations(status, kind, due_after, due_before) -> Callable:
    def pick(answer):
        for ob in answer.obligations:
            if (
                (status is None or ob.status == status)
                and (kind is None or ob.kind == kind)
                and _between(ob.due, due_after, due_before)
            ):
                yield ob.id, {"contract": answer.contract, "obligation": ob.model_dump(mode="json")}

    return pick


def violations(kind, severity, on_after, on_before, enforceable_after, enforceable_before) -> Callable:
    def pick(answer):
        by_invoice = {f"late_payment:{p.invoice}": p for p in answer.penalties}
        for v in answer.violations:
            pen = by_invoice.get(v.id)
            if (
                (kind is None or v.kind == kind)
                and (severity is None or v.severity == severity)
                and _between(v.on, on_after, on_before)
                and _between(pen.enforceable_from if pen else None, enforceable_after, enforceable_before)
            ):
                yield (
                    v.id,
                    {
                        "contract": answer.contract,
                        "violation": v.model_dump(mode="json"),
                        "penalty": pen.model_dump(mode="json") if pen else None,
                    },
                )

    return pick
