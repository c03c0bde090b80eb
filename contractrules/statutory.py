"""Statutory late-payment law as data: dated tables shipped in ``rulesets/statutory/*.yaml``.

Like OpenFisca parameters: each table is a sorted list of rows ``{from, to, rate,
source}``; :meth:`Table.at` answers "the value in force on date d". The bundled tables
are package data (``contractrules.rulesets``, read with :mod:`importlib.resources`); a
missing or broken bundled table is an :class:`~contractrules.errors.InstallError`, never
the user's bad input. ``contractrules check rulesets/statutory/es.yaml`` validates a
table file (unknown keys, gaps, overlaps, unsorted rows, each with its line).

**User rate files** extend a bundled table when a new half-year starts before a release
does: a YAML file ``{jurisdiction: ES, rates: [{from, to, rate, source}, ...]}`` named by
``--rates FILE`` or ``$CONTRACTRULES_RATES`` (several files separated by ``os.pathsep``).
Its rows are validated like the bundled ones and must continue the table without a gap;
a row that covers a day the bundled table already covers is refused unless
``--rates-override`` (``$CONTRACTRULES_RATES_OVERRIDE=1``) is given, and then it replaces
the bundled rows it overlaps. Every row remembers the file it came from
(:attr:`Table.origins`), so an answer that used a user row names that file.

``rate_mode``:
- ``per_half_year`` (ES, EU): each day's interest uses the rate in force that day;
- ``fixed_at_start`` (UK): the rate in force on the day interest starts, for the whole debt.

A day after the last row uses the last known rate; callers record a warning naming the
table and the missing period (:meth:`Table.at` says so) — never a silent guess.

One home for every dated legal figure (STYLE.md): :class:`Rates` (``at(day)``, by
bisection) serves the engine (from the compiled document) and ``check`` (from the table);
:func:`compensation`, :func:`below_law` and :func:`terms_findings` are the only places that
read the compensation tiers, compare a contract rate with the law, and judge payment terms.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contractrules.errors import ContractError, DateError, InputError, InstallError, Issue
from contractrules.limits import MAX_CONTRACT_BYTES
from contractrules.model.issues import issues_from
from contractrules.model.lines import DocumentSyntaxError, line_for, read_text, read_yaml
from contractrules.money import parse_amount, parse_rate

JURISDICTIONS = ("ES", "UK", "EU")
#: The package that holds the bundled data (the repository's top-level ``rulesets/``).
DATA_PACKAGE = "contractrules.rulesets"
RATES_ENV = "CONTRACTRULES_RATES"
RATES_OVERRIDE_ENV = "CONTRACTRULES_RATES_OVERRIDE"


def bundled_name(code: str) -> str:
    """How answers and messages name a bundled table: relative, the same on every machine."""
    return f"rulesets/statutory/{code.lower()}.yaml"


def bundled_text(code: str) -> str:
    """The text of a bundled table; InstallError if the package lacks it."""
    from importlib import resources  # ~4 ms (tempfile, random, shutil): only when a table is read

    try:
        return (resources.files(DATA_PACKAGE) / "statutory" / f"{code.lower()}.yaml").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError) as exc:
        raise InstallError(
            f"the statutory table {bundled_name(code)} that ships with contractrules cannot be read "
            f"({exc.__class__.__name__}: {exc}); contractrules is not installed correctly — "
            "reinstall it (pip install --force-reinstall contractrules)"
        ) from None


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
    row: Any  # the table's row (a :class:`Row`, or a :class:`DatedRow` from a compiled document)
    beyond: bool  # the day is after the last row: the last known rate was used
    index: int = 0


class DatedRow(NamedTuple):
    start: date
    end: date
    rate: Decimal
    source: str
    file: str | None = None  # the user rate file it came from


class Rates:
    """Dated rates, looked up with :meth:`at` (the one lookup of "the rate in force on d")."""

    def __init__(self, rows: Sequence[DatedRow], name: str):
        self.rows = list(rows)
        self.name = name
        self._starts = [r.start for r in self.rows]

    @classmethod
    def from_params(cls, law: dict, name: str) -> Rates:
        """From the compiled document's ``statutory`` parameters (:meth:`Table.to_params`)."""
        return cls(
            [
                DatedRow(
                    date.fromisoformat(r["from"]),
                    date.fromisoformat(r["to"]),
                    Decimal(r["rate"]),
                    r["source"],
                    r.get("file"),
                )
                for r in law["rates"]
            ],
            name,
        )

    def at(self, day: date) -> RateLookup:
        """The rate in force on ``day`` (the last row's, flagged ``beyond``, past the table)."""
        k = bisect.bisect_right(self._starts, day) - 1
        if k < 0:  # bad input (exit 2): an invoice older than the table
            raise DateError(
                f"{self.name}: no statutory rate is known before {self.rows[0].start} (asked for {day}); "
                "interest on this invoice cannot be computed"
            )
        row = self.rows[k]
        return RateLookup(row.rate, row, day > row.end, k)

    def starts(self) -> list[date]:
        """Days on which a new row begins, and the day after the last row (where the rate may change)."""
        return [*self._starts, date.fromordinal(self.rows[-1].end.toordinal() + 1)]


def compensation(tiers: Sequence[tuple[Decimal | None, Decimal]], debt: Decimal) -> Decimal:
    """The fixed compensation for a late debt: the first tier whose ``below`` exceeds it."""
    for below, amount in tiers:
        if below is None or debt < below:
            return amount
    return tiers[-1][1]


def below_law(rates: Rates, rate: Decimal, day: date) -> Decimal | None:
    """The statutory rate in force on ``day`` when the contract's ``rate`` is below it (else None)."""
    if day < rates.rows[0].start:
        return None
    legal = rates.at(day).rate
    return legal if rate < legal else None


def terms_findings(max_days: int | None, warn_above_days: int | None, days: int, business: bool) -> set[str]:
    """What the law says of payment terms of ``days`` (business days if ``business``):
    ``over_max`` (void beyond the maximum: due dates capped), ``business_capped`` (each due
    date capped in calendar days), ``over_warn`` (must not be grossly unfair)."""
    found = set()
    if max_days is not None and not business and days > max_days:
        found.add("over_max")
    elif max_days is not None and business:
        found.add("business_capped")
    if warn_above_days and days > warn_above_days:
        found.add("over_warn")
    return found


@dataclass(frozen=True)
class Table:
    file: str  # a bundled table's relative name (rulesets/statutory/es.yaml), or the path given
    data: TableFile
    #: per row of ``data.rates``: the user rate file it came from, None for the table's own rows
    origins: tuple[str | None, ...] = field(default=())

    def origin(self, index: int) -> str | None:
        return self.origins[index] if index < len(self.origins) else None

    @property
    def user_files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(o for o in self.origins if o is not None))

    @property
    def code(self) -> str:
        return self.data.jurisdiction

    @property
    def rates(self) -> Rates:
        return Rates(
            [DatedRow(r.from_, r.to, r.rate, r.source, self.origin(k)) for k, r in enumerate(self.data.rates)],
            self.file,
        )

    def at(self, day: date) -> RateLookup:
        """The rate in force on ``day`` (the last row's if ``day`` is past the table)."""
        found = self.rates.at(day)
        return RateLookup(found.rate, self.data.rates[found.index], found.beyond, found.index)

    def compensation(self, debt: Decimal) -> Decimal:
        return compensation([(t.below, t.amount) for t in self.data.fixed_compensation.tiers], debt)

    def to_params(self) -> dict[str, Any]:
        """The table as JSON data, for the compiled ruleset document."""
        d = self.data
        return {
            "jurisdiction": d.jurisdiction,
            "name": d.name,
            "file": self.file,
            "currency": d.currency,
            "rate_mode": d.rate_mode,
            "rates": [
                {"from": r.from_.isoformat(), "to": r.to.isoformat(), "rate": str(r.rate), "source": r.source}
                | ({"file": self.origin(k)} if self.origin(k) else {})
                for k, r in enumerate(d.rates)
            ],
            "compensation": [
                {"below": None if t.below is None else str(t.below), "amount": str(t.amount)}
                for t in d.fixed_compensation.tiers
            ],
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
            issues.append(
                Issue(
                    file,
                    where,
                    f"rates[{i}].from",
                    f"rows must be sorted by date: {row.from_} comes after {prev.from_}",
                )
            )
        elif row.from_ <= prev.to:
            issues.append(
                Issue(file, where, f"rates[{i}].from", f"overlaps the previous row ({prev.from_}..{prev.to})")
            )
        elif (row.from_ - prev.to).days > 1:
            issues.append(
                Issue(
                    file,
                    where,
                    f"rates[{i}].from",
                    f"gap: nothing covers {date.fromordinal(prev.to.toordinal() + 1)}..{date.fromordinal(row.from_.toordinal() - 1)}",
                )
            )
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


def _parse_yaml(text: str, file: str) -> tuple[Any, Any]:
    try:
        raw, index = read_yaml(text)
    except DocumentSyntaxError as exc:
        raise ContractError([Issue(file, exc.line, "", str(exc))]) from None
    return raw, (lambda p: line_for(index.lines, p))


def parse_table(text: str, file: str) -> Table:
    """Validate one statutory table document; every problem is reported at once."""
    raw, lines = _parse_yaml(text, file)
    problems = _row_issues(_parsed_rows(raw), file, lines)
    try:
        data = TableFile.model_validate(raw)
    except ValidationError as exc:
        problems = issues_from(exc.errors(include_url=False), file=file, lines=lines, model=TableFile) + problems
        raise ContractError(sorted(problems, key=lambda i: (i.line or 0, i.field))) from None
    tiers = data.fixed_compensation.tiers
    if tiers[-1].below is not None:
        problems.append(
            Issue(
                file,
                lines(("fixed_compensation", "tiers")),
                "fixed_compensation.tiers",
                "the last tier must have no 'below' (it covers every larger debt)",
            )
        )
    if problems:
        raise ContractError(problems)
    return Table(file, data)


def load_table(path: str | Path) -> Table:
    """Read and validate one statutory table file (a user's copy, or one to check)."""
    return parse_table(read_text(Path(path), str(path), ContractError, MAX_CONTRACT_BYTES), str(path))


class RatesFile(_Model):
    """A user rate file: rows that extend (or, with override, replace) a bundled table."""

    jurisdiction: Literal["ES", "UK", "EU"]
    rates: list[Row] = Field(min_length=1)


def load_rates_file(path: str | Path) -> tuple[RatesFile, Any]:
    """A validated user rate file and its line finder (``lines(("rates", i))``)."""
    file = str(path)
    raw, lines = _parse_yaml(read_text(Path(path), file, ContractError, MAX_CONTRACT_BYTES), file)
    problems = _row_issues(_parsed_rows(raw), file, lines)
    try:
        data = RatesFile.model_validate(raw)
    except ValidationError as exc:
        problems = issues_from(exc.errors(include_url=False), file=file, lines=lines, model=RatesFile) + problems
        raise ContractError(sorted(problems, key=lambda i: (i.line or 0, i.field))) from None
    if problems:
        raise ContractError(problems)
    return data, lines


def _span(row: Row) -> str:
    return f"{row.from_}..{row.to} ({row.rate * 100:.2f}%)"


def extend(base: Table, file: str, extra: RatesFile, *, override: bool = False, lines: Any = None) -> Table:
    """``base`` with the rows of one user rate file: they continue the table without a gap;
    a row over days ``base`` already covers is refused unless ``override`` (then it
    replaces the rows it overlaps, which must leave no gap either)."""
    rows = list(zip(base.data.rates, [base.origin(k) for k in range(len(base.data.rates))], strict=True))
    problems = []
    for i, row in enumerate(extra.rates):
        clashes = [r for r, _ in rows if r.from_ <= row.to and row.from_ <= r.to]
        if clashes and not override:
            problems.append(
                Issue(
                    file,
                    lines and lines(("rates", i)),
                    f"rates[{i}]",
                    f"{_span(row)} covers days the table {base.file} already "
                    f"has ({', '.join(_span(r) for r in clashes)}); to replace them pass "
                    "--rates-override (CONTRACTRULES_RATES_OVERRIDE=1)",
                )
            )
            continue
        rows = sorted(
            [(r, o) for r, o in rows if not (r.from_ <= row.to and row.from_ <= r.to)] + [(row, file)],
            key=lambda ro: ro[0].from_,
        )
    for (prev, _), (row, origin) in zip(rows, rows[1:], strict=False):
        if (row.from_ - prev.to).days > 1:
            problems.append(
                Issue(
                    origin or file,
                    None,
                    "rates",
                    f"gap: nothing covers {date.fromordinal(prev.to.toordinal() + 1)}"
                    f"..{date.fromordinal(row.from_.toordinal() - 1)} between {_span(prev)} and {_span(row)}",
                )
            )
    if problems:
        raise ContractError(problems)
    data = base.data.model_copy(update={"rates": [r for r, _ in rows]})
    return Table(base.file, data, tuple(o for _, o in rows))


def user_rates_config() -> tuple[tuple[str, ...], bool]:
    """(user rate files, override) from ``$CONTRACTRULES_RATES`` / ``$CONTRACTRULES_RATES_OVERRIDE``."""
    files = tuple(f for f in os.environ.get(RATES_ENV, "").split(os.pathsep) if f)
    override = os.environ.get(RATES_OVERRIDE_ENV, "").lower() in ("1", "true", "yes")
    return files, override


def table(code: str, rates: tuple[str, ...] | None = None, override: bool | None = None) -> Table:
    """The table of a jurisdiction (ES, UK, EU): the bundled one, extended by the user rate
    files (default: ``$CONTRACTRULES_RATES``) that are for this jurisdiction."""
    if code not in JURISDICTIONS:
        raise ContractError([Issue("<contract>", None, "jurisdiction", f"unknown jurisdiction {code!r}")])
    env_files, env_override = user_rates_config()
    return _table(code, env_files if rates is None else tuple(rates), env_override if override is None else override)


@lru_cache(maxsize=64)
def _bundled(code: str) -> Table:
    try:
        return parse_table(bundled_text(code), bundled_name(code))
    except InputError as exc:
        raise InstallError(
            f"the statutory table {bundled_name(code)} that ships with contractrules is invalid "
            f"({exc}); contractrules is not installed correctly"
        ) from None


@lru_cache(maxsize=64)
def _table(code: str, files: tuple[str, ...], override: bool) -> Table:
    t = _bundled(code)
    for file in files:
        extra, lines = load_rates_file(file)
        if extra.jurisdiction == code:
            t = extend(t, file, extra, override=override, lines=lines)
    return t


def is_table_document(data: object) -> bool:
    return isinstance(data, dict) and "rates" in data and "jurisdiction" in data and "parties" not in data


def statutory_notes(contract) -> list[str]:
    """What the law of ``contract.jurisdiction`` says about this contract (for ``check``)."""
    if not contract.jurisdiction:
        return []
    t = table(contract.jurisdiction)
    law = t.data
    notes = [
        f"Statutory rules: {law.name} (table {t.file}" + "".join(f" + {f}" for f in t.user_files) + ", "
        f"{law.rates[0].from_}..{law.rates[-1].to}, rate {law.rate_mode.replace('_', ' ')})"
    ]
    pay = contract.terms.payment
    days = 30 if pay is None else pay.terms_days
    business = pay is not None and pay.business_days
    found = terms_findings(law.payment_terms.max_days, law.payment_terms.warn_above_days, days, business)
    if "over_max" in found:
        notes.append(
            f"  statutory_limit: terms.payment {days} days exceeds the {law.payment_terms.max_days}-day "
            f"maximum ({law.payment_terms.source}); due dates will be capped"
        )
    if "business_capped" in found:
        notes.append(
            f"  terms.payment in business days: each due date is capped at {law.payment_terms.max_days} "
            "calendar days after the invoice"
        )
    if "over_warn" in found:
        notes.append(
            f"  warning: {days} days is over {law.payment_terms.warn_above_days}; must not be grossly "
            f"unfair ({law.payment_terms.source})"
        )
    lp = contract.terms.late_penalty
    rate = None if lp is None or lp.interest is None else lp.interest.annual_rate
    legal = None if rate is None or rate == "statutory" else below_law(t.rates, rate, contract.start)
    if legal is not None and rate is not None and rate != "statutory":
        notes.append(
            f"  warning: the contract rate {rate * 100:.2f}% is below the statutory "
            f"{legal * 100:.2f}% in force on {contract.start}: {law.lower_contract_rate_note}"
        )
    notes += _amended_terms_notes(contract, law)
    if contract.start < law.rates[0].from_:  # check and evaluate agree: a note, not a refusal
        notes.append(
            f"  warning: the table has no rate before {law.rates[0].from_}; statutory interest on an "
            "invoice due before then cannot be computed"
        )
    elif t.at(contract.start).beyond:
        notes.append(f"  warning: the table has no rate after {law.rates[-1].to}; the last known rate will be used")
    return notes


def _amended_terms_notes(contract, law: TableFile) -> list[str]:
    """Amendments that bring payment terms over the law's limits (SPEC §6.7 with §7)."""
    from contractrules.model.amendments import versions

    notes = []
    for v in versions(contract)[1:]:
        if v.amendment is None or "payment" not in v.touched or v.terms.payment is None:
            continue
        pay = v.terms.payment
        found = terms_findings(
            law.payment_terms.max_days, law.payment_terms.warn_above_days, pay.terms_days, pay.business_days
        )
        where = f"amendments[{v.amendment.id}].terms.payment (from {v.effective})"
        if "over_max" in found:
            notes.append(
                f"  statutory_limit: {where}: {pay.terms_days} days exceeds the "
                f"{law.payment_terms.max_days}-day maximum ({law.payment_terms.source}); due dates will be capped"
            )
        if "over_warn" in found:
            notes.append(
                f"  warning: {where}: {pay.terms_days} days is over {law.payment_terms.warn_above_days}; "
                f"must not be grossly unfair ({law.payment_terms.source})"
            )
    return notes
