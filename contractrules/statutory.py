"""Statutory late-payment law as data: dated tables from ``rulesets/statutory/*.yaml``.

Like OpenFisca parameters: each table is a sorted list of rows ``{from, to, rate,
source}``; :meth:`Table.at` answers "the value in force on date d". A user adds a
half-year by appending a row to the YAML file, never by changing code; ``contractrules
check rulesets/statutory/es.yaml`` validates a file (unknown keys, gaps, overlaps,
unsorted rows, each with its line).

``rate_mode``:
- ``per_half_year`` (ES, EU): each day's interest uses the rate in force that day;
- ``fixed_at_start`` (UK): the rate in force on the day interest starts, for the whole debt.

A day after the last row uses the last known rate; callers record a warning naming the
table and the missing period (:meth:`Table.rate_on` returns it) — never a silent guess.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contractrules.errors import ContractError, Issue
from contractrules.model.issues import issues_from
from contractrules.model.lines import DocumentSyntaxError, line_for, read_text, read_yaml
from contractrules.money import parse_amount, parse_rate

JURISDICTIONS = ("ES", "UK", "EU")


def tables_dir() -> Path:
    """``$CONTRACTRULES_STATUTORY_DIR`` or the repository's ``rulesets/statutory``."""
    env = os.environ.get("CONTRACTRULES_STATUTORY_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "rulesets" / "statutory"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Row(_Model):
    from_: date = Field(alias="from")
    to: date
    rate: Decimal
    source: str = Field(min_length=3)

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, value: object) -> Decimal:
        return parse_rate(value)


class Tier(_Model):
    below: Decimal | None = None
    amount: Decimal

    @field_validator("below", "amount", mode="before")
    @classmethod
    def _money(cls, value: object) -> Decimal | None:
        return None if value is None else parse_amount(value)


class Compensation(_Model):
    source: str
    tiers: list[Tier] = Field(min_length=1)


class PaymentTerms(_Model):
    default_days: int
    max_days: int | None = None
    warn_above_days: int | None = None
    source: str


class TableFile(_Model):
    jurisdiction: Literal["ES", "UK", "EU"]
    name: str
    currency: str
    rate_mode: Literal["per_half_year", "fixed_at_start"]
    interest_starts: Literal["day_after_due"]
    reminder_required: bool
    payment_terms: PaymentTerms
    lower_contract_rate: Literal["warn", "allowed"]
    lower_contract_rate_note: str
    fixed_compensation: Compensation
    rates: list[Row] = Field(min_length=1)


@dataclass(frozen=True)
class RateLookup:
    rate: Decimal
    row: Row
    beyond: bool  # the day is after the last row: the last known rate was used


@dataclass(frozen=True)
class Table:
    file: str
    data: TableFile

    @property
    def code(self) -> str:
        return self.data.jurisdiction

    def rate_on(self, day: date) -> RateLookup:
        """The rate in force on ``day`` (the last row's if ``day`` is past the table)."""
        rows = self.data.rates
        if day < rows[0].from_:
            raise ContractError([Issue(self.file, None, "rates", f"no statutory rate before {rows[0].from_} (asked for {day})")])
        for row in reversed(rows):
            if row.from_ <= day:
                return RateLookup(row.rate, row, beyond=day > row.to)
        raise AssertionError("unreachable")

    def compensation(self, debt: Decimal) -> Decimal:
        for tier in self.data.fixed_compensation.tiers:
            if tier.below is None or debt < tier.below:
                return tier.amount
        return self.data.fixed_compensation.tiers[-1].amount

    def to_params(self) -> dict:
        """The table as JSON data, for the compiled ruleset document."""
        d = self.data
        return {
            "jurisdiction": d.jurisdiction,
            "name": d.name,
            "file": self.file,
            "currency": d.currency,
            "rate_mode": d.rate_mode,
            "rates": [{"from": r.from_.isoformat(), "to": r.to.isoformat(), "rate": str(r.rate), "source": r.source}
                      for r in d.rates],
            "compensation": [{"below": None if t.below is None else str(t.below), "amount": str(t.amount)}
                             for t in d.fixed_compensation.tiers],
            "compensation_source": d.fixed_compensation.source,
        }


def _row_issues(rows: list[tuple[int, Row]], file: str, lines) -> list[Issue]:
    """Order problems among the rows that parsed: reversed, unsorted, overlapping, gaps."""
    issues = []
    for k, (i, row) in enumerate(rows):
        where = lines(("rates", i))
        if row.to < row.from_:
            issues.append(Issue(file, where, f"rates[{i}]", f"'to' {row.to} is before 'from' {row.from_}"))
        if k == 0:
            continue
        prev = rows[k - 1][1]
        if row.from_ < prev.from_:
            issues.append(Issue(file, where, f"rates[{i}].from", f"rows must be sorted by date: {row.from_} comes after {prev.from_}"))
        elif row.from_ <= prev.to:
            issues.append(Issue(file, where, f"rates[{i}].from", f"overlaps the previous row ({prev.from_}..{prev.to})"))
        elif (row.from_ - prev.to).days > 1:
            issues.append(Issue(file, where, f"rates[{i}].from",
                                f"gap: nothing covers {date.fromordinal(prev.to.toordinal() + 1)}..{date.fromordinal(row.from_.toordinal() - 1)}"))
    return issues


def _parsed_rows(raw: object) -> list[tuple[int, Row]]:
    rows = raw.get("rates") if isinstance(raw, dict) else None
    out = []
    for i, item in enumerate(rows if isinstance(rows, list) else []):
        try:
            out.append((i, Row.model_validate(item)))
        except ValidationError:
            continue  # already reported by the whole-file validation
    return out


def load_table(path: str | Path) -> Table:
    """Read and validate one statutory table file; every problem is reported at once."""
    path = Path(path)
    file = str(path)
    text = read_text(path, file, ContractError)
    try:
        raw, index = read_yaml(text)
    except DocumentSyntaxError as exc:
        raise ContractError([Issue(file, exc.line, "", str(exc))]) from None
    lines = lambda p: line_for(index.lines, p)  # noqa: E731
    problems = _row_issues(_parsed_rows(raw), file, lines)
    try:
        data = TableFile.model_validate(raw)
    except ValidationError as exc:
        problems = issues_from(exc.errors(include_url=False), file=file, lines=lines, model=TableFile) + problems
        raise ContractError(sorted(problems, key=lambda i: (i.line or 0, i.field))) from None
    tiers = data.fixed_compensation.tiers
    if tiers[-1].below is not None:
        problems.append(Issue(file, lines(("fixed_compensation", "tiers")), "fixed_compensation.tiers",
                              "the last tier must have no 'below' (it covers every larger debt)"))
    if problems:
        raise ContractError(problems)
    return Table(file, data)


@cache
def table(code: str) -> Table:
    """The table of a jurisdiction code (ES, UK, EU), loaded once per process."""
    if code not in JURISDICTIONS:
        raise ContractError([Issue("<contract>", None, "jurisdiction", f"unknown jurisdiction {code!r}")])
    return load_table(tables_dir() / f"{code.lower()}.yaml")


def is_table_document(data: object) -> bool:
    return isinstance(data, dict) and "rates" in data and "jurisdiction" in data and "parties" not in data


def statutory_notes(contract) -> list[str]:
    """What the law of ``contract.jurisdiction`` says about this contract (for ``check``)."""
    if not contract.jurisdiction:
        return []
    t = table(contract.jurisdiction)
    law = t.data
    notes = [f"Statutory rules: {law.name} (table {Path(t.file).name}, "
             f"{law.rates[0].from_}..{law.rates[-1].to}, rate {law.rate_mode.replace('_', ' ')})"]
    pay = contract.terms.payment
    days = 30 if pay is None else pay.terms_days
    business = pay is not None and pay.business_days
    if law.payment_terms.max_days is not None and not business and days > law.payment_terms.max_days:
        notes.append(f"  statutory_limit: terms.payment {days} days exceeds the {law.payment_terms.max_days}-day "
                     f"maximum ({law.payment_terms.source}); due dates will be capped")
    elif law.payment_terms.max_days is not None and business:
        notes.append(f"  terms.payment in business days: each due date is capped at {law.payment_terms.max_days} "
                     "calendar days after the invoice")
    if law.payment_terms.warn_above_days and days > law.payment_terms.warn_above_days:
        notes.append(f"  warning: {days} days is over {law.payment_terms.warn_above_days}; must not be grossly "
                     f"unfair ({law.payment_terms.source})")
    lp = contract.terms.late_penalty
    rate = None if lp is None or lp.interest is None else lp.interest.annual_rate
    if rate is not None and rate != "statutory" and contract.start >= law.rates[0].from_:
        legal = t.rate_on(contract.start)
        if rate < legal.rate:
            notes.append(f"  warning: the contract rate {rate * 100:.2f}% is below the statutory "
                         f"{legal.rate * 100:.2f}% in force on {contract.start}: {law.lower_contract_rate_note}")
    if t.rate_on(contract.start).beyond:
        notes.append(f"  warning: the table has no rate after {law.rates[-1].to}; the last known rate will be used")
    return notes
