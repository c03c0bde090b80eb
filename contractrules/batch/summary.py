"""What a batch found, merged from every chunk: the final summary of ``contractrules batch``.

Each chunk of contracts is summarised where it is evaluated (a worker process or a Dask
worker) and the parts are merged by the parent in chunk order, so the totals are exact
(Decimal sums) and the same whatever the number of workers.

- ``violations``: violations by kind, over every evaluated contract;
- ``penalties``: enforceable penalties (``enforceable: true`` as of the date), count and
  total summed by currency (the currency of the invoice's payment obligation);
- ``unbilled``: billing obligations ``violated`` (a cycle nobody invoiced by its due date,
  SPEC §6.1; a running cycle that is not due yet never counts), count and fee summed by
  currency;
- ``failed``: contracts with no answer (invalid contract, invalid events, an engine
  error), each with its file and the first reason; every detail is in the errors file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from contractrules.model.answers import Answer
from contractrules.money import format_amount, money_context

SHOWN_FAILURES = 20  # failed contracts listed by render(); the errors file has them all


@dataclass
class Total:
    """A count and a Decimal amount (one currency)."""

    count: int = 0
    amount: Decimal = Decimal(0)

    def add(self, amount: Decimal, count: int = 1) -> None:
        self.count += count
        with money_context():  # exact: the default 28 digits could round a large total
            self.amount += amount


@dataclass(frozen=True)
class Failure:
    """A contract the batch could not answer."""

    contract: str | None
    file: str
    reason: str


def _merge_totals(into: dict[str, Total], other: dict[str, Total]) -> None:
    for currency, total in other.items():
        into.setdefault(currency, Total()).add(total.amount, total.count)


@dataclass
class BatchSummary:
    """Counts and sums over a batch. ``workers`` (peak RSS per worker) is diagnostics only."""

    contracts: int = 0  # contract files found
    evaluated: int = 0  # contracts answered
    events: int = 0  # valid events evaluated
    events_skipped: int = 0  # invalid events skipped (--skip-invalid)
    errors: int = 0  # records written to the errors file
    violations: Counter = field(default_factory=Counter)
    penalties: dict[str, Total] = field(default_factory=dict)
    unbilled: dict[str, Total] = field(default_factory=dict)
    failed: list[Failure] = field(default_factory=list)
    workers: dict[str, int] = field(default_factory=dict, compare=False)  # worker -> peak RSS (KiB)

    # -- building ----------------------------------------------------------------------
    def add_answer(self, answer: Answer, events: int, skipped: int) -> None:
        self.evaluated += 1
        self.events += events
        self.events_skipped += skipped
        self.violations.update(v.kind for v in answer.violations)
        currency_of = {o.id: o.currency for o in answer.obligations if o.kind == "payment"}
        for p in answer.penalties:
            if p.enforceable:
                currency = currency_of.get(f"payment:{p.invoice}", "?")
                self.penalties.setdefault(currency, Total()).add(Decimal(p.total))
        for o in answer.obligations:
            if o.kind == "billing" and o.status == "violated":  # due and still not invoiced
                self.unbilled.setdefault(o.currency, Total()).add(Decimal(o.balance or o.amount or 0))

    def add_failure(self, contract: str | None, file: str, reason: str) -> None:
        self.failed.append(Failure(contract, file, reason))

    def merge(self, other: BatchSummary) -> None:
        """Add ``other`` (a later chunk) to this summary."""
        self.contracts += other.contracts
        self.evaluated += other.evaluated
        self.events += other.events
        self.events_skipped += other.events_skipped
        self.errors += other.errors
        self.violations.update(other.violations)
        _merge_totals(self.penalties, other.penalties)
        _merge_totals(self.unbilled, other.unbilled)
        self.failed.extend(other.failed)
        for worker, rss in other.workers.items():
            self.workers[worker] = max(rss, self.workers.get(worker, 0))

    # -- reading -----------------------------------------------------------------------
    @property
    def unbilled_cycles(self) -> int:
        return sum(t.count for t in self.unbilled.values())

    @property
    def ok(self) -> bool:
        """True when nothing was written to the errors file."""
        return self.errors == 0

    def to_dict(self) -> dict:
        """JSON-ready, amounts as strings at the currency's minor unit, keys sorted."""

        def totals(table: dict[str, Total]) -> dict:
            return {c: {"count": t.count, "amount": _amount(t.amount, c)} for c, t in sorted(table.items())}

        return {
            "contracts": self.contracts,
            "evaluated": self.evaluated,
            "failed": len(self.failed),
            "events": self.events,
            "events_skipped": self.events_skipped,
            "errors": self.errors,
            "violations": dict(sorted(self.violations.items())),
            "enforceable_penalties": totals(self.penalties),
            "unbilled_cycles": self.unbilled_cycles,
            "unbilled": totals(self.unbilled),
            "failed_contracts": [{"contract": f.contract, "file": f.file, "reason": f.reason} for f in self.failed],
        }

    def render(self) -> list[str]:
        """The human summary printed at the end of ``contractrules batch``."""
        lines = [
            f"Contracts: {self.contracts} found, {self.evaluated} evaluated, {len(self.failed)} failed",
            f"Events: {self.events} evaluated"
            + (f", {self.events_skipped} invalid skipped" if self.events_skipped else ""),
        ]
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.violations.items())) or "none"
        lines.append(f"Violations: {sum(self.violations.values())} ({kinds})")
        pen = "; ".join(f"{_amount(t.amount, c)} {c} ({t.count})" for c, t in sorted(self.penalties.items())) or "none"
        lines.append(f"Enforceable penalties: {pen}")
        unb = "; ".join(f"{_amount(t.amount, c)} {c}" for c, t in sorted(self.unbilled.items()))
        lines.append(f"Unbilled cycles: {self.unbilled_cycles}" + (f" ({unb})" if unb else ""))
        if self.failed:
            lines.append("Failed contracts:")
            for f in self.failed[:SHOWN_FAILURES]:
                lines.append(f"  {f.contract or '?'} ({f.file}): {f.reason}")
            if len(self.failed) > SHOWN_FAILURES:
                lines.append(f"  ... and {len(self.failed) - SHOWN_FAILURES} more")
        if self.errors:
            lines.append(f"Errors: {self.errors} (see the errors file)")
        return lines


def _amount(amount: Decimal, currency: str) -> str:
    try:
        return format_amount(amount, currency)
    except ValueError:  # an unknown currency code ("?"): show the plain sum
        return str(amount)
