"""The ledger: the working state of one contract's evaluation (no durable_rules here).

A :class:`Run` is created per contract and thrown away after its answer is built. Clause
modules (``contractrules.compiler.*``) read their parameters from the compiled document
(``run.params``) and record obligations, violations and warnings here.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple

from contractrules import stamps as _stamps

ZERO = Decimal("0")


def d(iso: str | None) -> date | None:
    return None if iso is None else date.fromisoformat(iso)


@dataclass
class WorkingObligation:
    id: str
    kind: str
    debtor: str
    creditor: str
    clause: str
    arose_on: date
    amount: Decimal | None = None
    balance: Decimal | None = None
    due: date | None = None
    status: str = "pending"
    fulfilled_on: date | None = None
    caused_by: list[str] = field(default_factory=list)
    explanation: str = ""

    # changes are stamped (contractrules/stamps.py); caused_by changes only in cite()

    def cite(self, *event_ids: str | None) -> None:
        for eid in event_ids:
            if eid and eid not in self.caused_by:
                if _stamps.WATCH is not None:
                    _stamps.watched(self)
                self.caused_by.append(eid)
                if _stamps.STAMPING:
                    self.__dict__["_stamp"] = _stamps.next_stamp()


@dataclass
class WorkingViolation:
    id: str
    kind: str
    party: str
    on: date
    severity: str
    clause: str
    obligation: str | None = None
    caused_by: list[str] = field(default_factory=list)
    explanation: str = ""

    # changes are stamped (contractrules/stamps.py); caused_by is set whole, never changed in place


_stamps.register((WorkingObligation, WorkingViolation))


def content(w: WorkingObligation | WorkingViolation) -> tuple:
    """A working obligation's or violation's fields as a hashable tuple (``caused_by`` as a
    tuple, last): what it says, for comparing and as a key."""
    return (*_SCALARS[type(w)](w), tuple(w.caused_by))


_SCALARS = {
    cls: attrgetter(*(f.name for f in fields(cls) if f.name != "caused_by"))
    for cls in (WorkingObligation, WorkingViolation)
}


@dataclass
class WorkingRight:
    """A right a party holds from a day (SPEC §6.8): ``kind`` says what it allows."""

    id: str
    kind: str  # termination
    party: str
    from_: date
    clause: str
    caused_by: list[str] = field(default_factory=list)


@dataclass
class Payment:
    on: date
    amount: Decimal
    event_id: str


class Moves(list):
    """An invoice's credit notes or payments, keeping their running ``total``.

    The ledger asks every open invoice for its balance on each payment (FIFO), so the
    sum is kept as moves are appended; any other change recomputes it.
    """

    def __init__(self, items: Iterable[Payment] = ()):
        super().__init__(items)
        self.total: Decimal = sum((m.amount for m in self), ZERO)
        self.stamp = _stamps.next_stamp()  # changes with the moves (contractrules/stamps.py)

    def append(self, move: Payment) -> None:
        if _stamps.WATCH is not None:
            _stamps.watched(self)
        super().append(move)
        self.total += move.amount
        self.stamp = _stamps.next_stamp()

    def _recount(self) -> None:
        self.total = sum((m.amount for m in self), ZERO)
        self.stamp = _stamps.next_stamp()


def _recounting(name: str):
    method = getattr(list, name)

    def wrapper(self, *args):
        if _stamps.WATCH is not None:
            _stamps.watched(self)
        result = method(self, *args)
        self._recount()
        return result

    wrapper.__name__ = name
    return wrapper


for _name in ("extend", "insert", "remove", "pop", "clear", "__setitem__", "__delitem__", "__iadd__"):
    setattr(Moves, _name, _recounting(_name))


@dataclass
class Invoice:
    """One invoice in the ledger: what it asks, what was credited and paid, and when."""

    id: str
    issued_on: date
    amount: Decimal
    event_id: str
    period: date | None
    due: date | None = None
    credits: Moves = field(default_factory=Moves)
    payments: Moves = field(default_factory=Moves)
    # money and credit notes towards the late penalty on this invoice (SPEC §6.4, v2)
    penalty_payments: Moves = field(default_factory=Moves)
    penalty_credits: Moves = field(default_factory=Moves)

    def __post_init__(self) -> None:
        if type(self.credits) is Moves and type(self.payments) is Moves and type(self.penalty_payments) is Moves:
            if type(self.penalty_credits) is Moves:  # as made by default: nothing to convert
                return
        for name in ("credits", "payments", "penalty_payments", "penalty_credits"):
            if not isinstance(getattr(self, name), Moves):
                setattr(self, name, Moves(getattr(self, name)))

    @property
    def credited(self) -> Decimal:
        return self.credits.total

    @property
    def asked(self) -> Decimal:
        return max(self.amount - self.credits.total, ZERO)

    @property
    def paid(self) -> Decimal:
        return self.payments.total

    @property
    def balance(self) -> Decimal:
        # max(asked - paid, 0), inlined: the ledger asks this on every payment
        asked = self.amount - self.credits.total
        if asked < ZERO:
            asked = ZERO
        left = asked - self.payments.total
        return left if left >= ZERO else ZERO

    def balance_at_end_of(self, day: date) -> Decimal:
        credited = sum((c.amount for c in self.credits if c.on <= day), ZERO)
        paid = sum((p.amount for p in self.payments if p.on <= day), ZERO)
        return max(self.amount - credited - paid, ZERO)

    def settled_on(self) -> date | None:
        """The day the balance reached zero (and stayed there), or None if still open."""
        if self.balance > ZERO:
            return None
        moves = sorted([*self.credits, *self.payments], key=lambda p: p.on)
        days = sorted({m.on for m in moves})
        for day in days:
            if self.balance_at_end_of(day) == ZERO:
                return day
        return self.issued_on  # nothing was ever asked

    def movement_events(self) -> list[str]:
        moves = [*self.credits, *self.payments, *self.penalty_credits, *self.penalty_payments]
        return [m.event_id for m in sorted(moves, key=lambda p: p.on)]


@lru_cache(maxsize=65536)
def natural_key(text: str) -> tuple:
    """Sort key putting ``INV-9`` before ``INV-10`` (digit runs compare as numbers)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text) if part)


_DIGITS = re.compile(r"(\d+)")


class Tick(NamedTuple):
    """A synthetic clock event: ``kind`` with its ``data``, due at the start of day ``on``."""

    on: int  # date.toordinal()
    seq: int  # scheduling order among ticks of one day
    kind: str
    data: dict


class Agenda:
    """Synthetic clock events, delivered at the start of their day, in scheduling order.

    A heap of tuples: ``(on, seq)`` decides the order and is unique, so comparisons stay
    in C and never reach ``kind`` or ``data``.
    """

    def __init__(self) -> None:
        self._heap: list[Tick] = []
        self._seq = 0

    def schedule(self, on: date, kind: str, **data: Any) -> None:
        self.push(on, kind, data)

    def push(self, on: date, kind: str, data: dict) -> None:
        """:meth:`schedule` with the data as a dict."""
        self._seq += 1
        heapq.heappush(self._heap, Tick(on.toordinal(), self._seq, kind, data))

    def peek(self) -> Tick | None:
        return self._heap[0] if self._heap else None

    def pop(self) -> Tick:
        return heapq.heappop(self._heap)

    def pop_due(self, day: int) -> Tick | None:
        """The next tick if it is due by ``day`` (an ordinal), taken off the agenda; else None."""
        heap = self._heap
        if heap and heap[0][0] <= day:
            return heapq.heappop(heap)
        return None


@dataclass(frozen=True)
class Terms:
    """A clause's parameters in force on a day (SPEC §6.7), and how a finding cites them.

    ``clause`` is ``terms.<section>`` or, when an amendment changed the section by that
    day, ``amendments[<id>].terms.<section>`` (the latest such amendment); ``cites`` lists
    ``amendment:<id>`` for every amendment of the section in force (for ``caused_by``).
    """

    params: dict
    clause: str
    cites: tuple[str, ...] = ()


class DatedTerms:
    """One clause's dated parameters from the compiled document, looked up with ``at(day)``."""

    def __init__(self, section: str, base: dict, clause: str, dated: list[dict]):
        self.starts = [date.min] + [date.fromisoformat(v["from"]) for v in dated]
        self.items = [Terms(base, clause)] + [
            Terms(
                v["params"],
                f"amendments[{v['amendments'][-1]}].terms.{section}",
                tuple(f"amendment:{a}" for a in v["amendments"]),
            )
            for v in dated
        ]

    def at(self, day: date) -> Terms:
        items = self.items
        if len(items) == 1:  # never amended
            return items[0]
        return items[bisect.bisect_right(self.starts, day) - 1]

    def changes(self) -> list[date]:
        """The days on which an amendment of this clause takes effect."""
        return self.starts[1:]


class Run:
    """Everything one evaluation knows: the compiled document, the events, the answers so far."""

    #: A live contract's finish units (compiler/memo.py), set only while it finishes.
    memo: dict | None = None
    #: What the finish unit being computed adds (obligations, violations, warnings).
    capture: list | None = None
    #: A live contract's record of what its finish sets (engine/journal.py), while it finishes.
    journal: Any = None
    #: Whether the actions chain what they are given into ``acted`` (a live contract's runs).
    tracking = False
    #: Working obligations' finished fields by id, from a clause's finish reused whole
    #: (compiler/memo.py: section), while a live contract finishes; the answer reads them.
    finished: dict[str, dict] | None = None

    def __init__(self, doc: dict, records: Iterable[Any], as_of: date):
        self.doc = doc
        self.params: dict[str, dict] = doc["params"]
        c = doc["contract"]
        self.contract_id: str = c["id"]
        self.currency: str = c["currency"]
        self.start: date = date.fromisoformat(c["start"])
        self.end: date | None = d(c["end"])
        self.provider: str = c["parties"]["provider"]["id"]
        self.client: str = c["parties"]["client"]["id"]
        self.names: dict[str, str] = {p["id"]: p.get("name") or p["id"] for p in c["parties"].values()}
        self.as_of = as_of
        self.today: date = self.start
        # what the engine is delivering: an EventRecord, or a clock message's data (a dict)
        self.current: Any = None
        self.records = list(records)
        self.by_id = {r.event.id: r for r in self.records}
        self.agenda = Agenda()
        self.obligations: dict[str, WorkingObligation] = {}
        self.violations: dict[str, WorkingViolation] = {}
        self.warnings: list[str] = []
        self.warned: dict[str, None] = {}  # the same texts, for the duplicate check
        self.invoices: dict[str, Invoice] = {}
        self.unapplied: list[Payment] = []  # money matching no open debt (FIFO leftovers)
        self.held: dict[str, list[tuple[Callable, Any]]] = {}  # invoice not issued yet -> (action, record)
        self.held_log: list[tuple[str, Any]] = []  # (invoice, record) of every event ever held
        self.scratch: dict[str, dict] = {}
        self.finishers: list[Callable[[Run], None]] = []
        self.rights: dict[str, WorkingRight] = {}
        self._listeners: dict[str, list[Callable[..., None]]] = {}
        self.amendments: dict[str, dict] = doc.get("amendments", {})
        self._dated: dict[str, DatedTerms] = {}
        # clause -> a hash chain of the messages its actions were given (compiler.actions()):
        # a live answer reuses a clause's finish when the chains it reads are the same
        self.acted: dict[str, int] = {}

    def on(self, topic: str, listener: Callable[..., None]) -> None:
        """Call ``listener(run, *args)`` whenever a clause announces ``topic`` (a clause's
        ``start`` hook subscribes; the announcing clause never knows who listens)."""
        self._listeners.setdefault(topic, []).append(listener)

    def announce(self, topic: str, *args: Any) -> None:
        for listener in self._listeners.get(topic, ()):
            listener(self, *args)

    def grant(self, right: WorkingRight) -> WorkingRight:
        self.rights[right.id] = right
        return right

    def holds_right(self, party: str, kind: str, on: date) -> WorkingRight | None:
        """The first right of ``kind`` that ``party`` holds on ``on``, if any."""
        held = [r for r in self.rights.values() if r.party == party and r.kind == kind and r.from_ <= on]
        return min(held, key=lambda r: (r.from_, r.id)) if held else None

    def terms(self, section: str, day: date) -> Terms:
        """``terms.<section>``'s parameters in force on ``day`` (SPEC §6.7)."""
        found = self._dated.get(section)
        return (found if found is not None else self.dated(section)).at(day)

    def dated(self, section: str) -> DatedTerms:
        found = self._dated.get(section)
        if found is None:
            base = self.params[section]
            clause = base.get("clause", f"terms.{section}") if isinstance(base, dict) else f"terms.{section}"
            found = self._dated[section] = DatedTerms(section, base, clause, self.doc.get("dated", {}).get(section, []))
        return found

    # -- helpers for clause modules -------------------------------------------------
    def name(self, party_id: str | None) -> str:
        return self.names.get(party_id or "", party_id or "someone")

    def other(self, party_id: str) -> str:
        return self.client if party_id == self.provider else self.provider

    def schedule(self, on: date, kind: str, **data: Any) -> None:
        """Deliver a ``clock`` message of ``kind`` at the start of ``on`` (if ``on <= as_of``)."""
        if on <= self.as_of:
            self.agenda.push(on, kind, data)

    def oblige(self, ob: WorkingObligation) -> WorkingObligation:
        self.obligations[ob.id] = ob
        if self.capture is not None:
            self.capture.append(ob)
        return ob

    def violate(self, v: WorkingViolation) -> WorkingViolation:
        self.violations[v.id] = v
        if self.capture is not None:
            self.capture.append(v)
        return v

    def warn(self, text: str) -> None:
        if self.capture is not None:
            self.capture.append(text)
        if text not in self.warned:
            self.warned[text] = None
            self.warnings.append(text)

    def hold(self, invoice: str, action: Callable, rec: Any) -> None:
        """Keep an event naming ``invoice`` (not issued yet) until it is (SPEC §5, v2)."""
        self.held.setdefault(invoice, []).append((action, rec))
        self.held_log.append((invoice, rec))

    def release(self, invoice: str) -> list[tuple[Callable, Any]]:
        """The events held for ``invoice``, in event order, dated today (the invoice's day)."""
        return [(action, replace(rec, local_date=self.today)) for action, rec in self.held.pop(invoice, [])]

    def unapplied_credit(self) -> list[Payment]:
        """Money matching no open debt, and money held for invoices not issued yet (SPEC §6.2)."""
        held = [
            Payment(rec.local_date, rec.event.amount, rec.event.id)
            for recs in self.held.values()
            for _action, rec in recs
            if rec.event.type == "payment_received"
        ]
        return sorted([*self.unapplied, *held], key=lambda p: p.on)

    def state(self, clause: str) -> dict:
        st = self.scratch.get(clause)
        if st is None:
            st = self.scratch[clause] = {}
        return st
