"""terms.late_penalty: which interest rate applies on a day (SPEC §6.4, §7).

The contract's fixed rate, or the statutory rate of a jurisdiction's dated table: per
half-year (ES, EU), or fixed when interest starts (UK). A contract rate below the
statutory one is applied as written, with a warning; days beyond the table's last row
use its last rate, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from contractrules.compiler.common import iso, pct
from contractrules.dates import Period
from contractrules.ledger import Invoice, Terms
from contractrules.statutory import Rates, below_law


class RatesUsed:
    """The statutory :class:`~contractrules.statutory.Rates` of one evaluation, remembering
    which days fell beyond the table and which user-file rows were used (for warnings).

    Those two sets are the clause state's own (``rates_beyond``, ``rates_user_rows``), so
    that a live answer's journal puts them back (engine/journal.py)."""

    def __init__(self, rates: Rates, beyond: set[date] | None = None, user_rows: set[int] | None = None):
        self.rates = rates
        self.name = rates.name
        self.beyond: set[date] = set() if beyond is None else beyond
        self.user_rows: set[int] = set() if user_rows is None else user_rows

    def rate_on(self, day: date) -> Decimal:
        found = self.rates.at(day)
        if found.beyond:
            self.beyond.add(day)
        if found.row.file is not None:
            self.user_rows.add(found.index)
        return found.rate

    def source_on(self, day: date) -> str:
        return self.rates.at(day).row.source

    def starts(self) -> list[date]:
        return self.rates.starts()


def _rates(run) -> RatesUsed:
    st = run.state("late_penalty")
    if "rates" not in st:
        law = run.params["late_penalty"]["statutory"]
        st["rates"] = RatesUsed(
            Rates.from_params(law, f"{law['jurisdiction']} ({Path(law['file']).name})"),
            st.setdefault("rates_beyond", set()),
            st.setdefault("rates_user_rows", set()),
        )
    return st["rates"]


def rates_used(run, compute, *args):
    """``compute(*args)`` and the statutory days beyond the table and user-file rows it used
    (one late invoice's penalty: what a live answer that reuses it adds again, with
    :func:`add_rates_used`)."""
    rates = run.state("late_penalty").get("rates")
    before = None
    if rates is not None:
        before = set(rates.beyond), set(rates.user_rows)
        rates.beyond.clear()
        rates.user_rows.clear()
    try:
        result = compute(*args)
    finally:
        rates = run.state("late_penalty").get("rates")
        used = (frozenset(), frozenset()) if rates is None else (frozenset(rates.beyond), frozenset(rates.user_rows))
        if rates is not None and before is not None:
            rates.beyond |= before[0]
            rates.user_rows |= before[1]
    return result, used


def add_rates_used(run, used: tuple[frozenset, frozenset]) -> None:
    if used[0] or used[1]:
        rates = _rates(run)
        rates.beyond |= used[0]
        rates.user_rows |= used[1]


def rate_function(
    run, inv: Invoice, first: date, params: dict | None = None, since: date | None = None
) -> tuple[Callable[[date], Decimal], list[date], str]:
    """(rate_at, breaks, text) for the invoice's interest from ``first`` under ``params``
    (default: the contract's own); a contract rate is compared with the law on ``since``,
    the first day those terms count (default ``first``)."""
    params = params if params is not None else run.params["late_penalty"]
    spec = params["interest"]
    if spec["annual_rate"] != "statutory":
        rate = Decimal(spec["annual_rate"])
        _compare_with_law(run, inv, rate, since or first)
        return (lambda day: rate), [], f"{pct(rate)} a year"
    law = params["statutory"]
    table = _rates(run)
    if law["rate_mode"] == "fixed_at_start":  # UK: the rate when interest starts, for the whole debt
        fixed = table.rate_on(first)
        return (
            (lambda day: fixed),
            [],
            f"the statutory rate fixed on {iso(first)} ({pct(fixed)}, {law['jurisdiction']})",
        )
    return table.rate_on, table.starts(), f"the statutory rate of each half-year ({law['jurisdiction']})"


def rate_source(run, first: date, params: dict | None = None) -> Callable[[date], str]:
    """Where each interest day's rate comes from: the clause, or the statutory table's row."""
    params = params if params is not None else run.params["late_penalty"]
    if params["interest"]["annual_rate"] != "statutory":
        clause = f"{params['clause']}.interest.annual_rate"
        return lambda day: clause
    table = _rates(run)
    if params["statutory"]["rate_mode"] == "fixed_at_start":
        fixed = table.source_on(first)
        return lambda day: fixed
    return table.source_on


def _compare_with_law(run, inv: Invoice, rate: Decimal, first: date) -> None:
    law = run.params["late_penalty"]["statutory"]
    if law is None:
        return
    legal = below_law(_rates(run).rates, rate, first)
    if legal is not None:
        run.warn(
            f"invoice {inv.id}: the contract's interest rate {pct(rate)} is below the statutory rate "
            f"{pct(legal)} in force on {iso(first)} ({law['name']}); such a clause may be void "
            f"if grossly unfair to the creditor — see docs/statutory-{law['jurisdiction'].lower()}.md"
        )


def warn_beyond_table(run) -> None:
    rates = run.state("late_penalty").get("rates")
    if rates is None or not rates.beyond:
        return
    start, end, rate, source, _file = rates.rates.rows[-1]
    run.warn(
        f"statutory rate table {rates.name} ends {iso(end)}: interest from {iso(min(rates.beyond))} to "
        f"{iso(run.as_of)} uses the last known rate {pct(rate)} ({iso(start)}..{iso(end)}, {source}); "
        "add the missing half-year to the table"
    )


def warn_user_rows(run) -> None:
    """An answer that used a row of a user rate file says so, and names the file."""
    rates = run.state("late_penalty").get("rates")
    if rates is None:
        return
    for k in sorted(rates.user_rows):
        start, end, rate, source, file = rates.rates.rows[k]
        run.warn(
            f"statutory rate {pct(rate)} for {iso(start)}..{iso(end)} ({rates.name}) comes from the user rate "
            f"file {file}, not from the tables bundled with contractrules ({source})"
        )


RATE_PATHS = ("late_penalty.interest.annual_rate", "late_penalty.interest.day_count")


def _changes_rate(run, cite: str) -> bool:
    """Whether the amendment ``amendment:<id>`` changed the interest rate or day count."""
    changed = run.amendments.get(cite[len("amendment:") :], {}).get("paths", [])
    return any(p in RATE_PATHS or p == "late_penalty.interest" for p in changed)


def dated_stretches(run, first: date, last: date) -> list[tuple[Period, Terms]]:
    """The periods of ``first..last`` with one set of interest terms each (cut at amendments)."""
    dated = run.dated("late_penalty")
    cuts = [d for d in dated.changes() if first < d <= last]
    starts = [first, *cuts]
    ends = [d - timedelta(days=1) for d in cuts] + [last]
    return [(Period(a, b), dated.at(a)) for a, b in zip(starts, ends, strict=True)]


def terms_used(run, inv: Invoice, as_of: date):
    """The dated terms a penalty figure rests on: the invoice date's, then each interest
    stretch whose rate or day count an amendment changed."""
    used = [run.terms("late_penalty", inv.issued_on)]
    if inv.due is not None and as_of > inv.due:
        for _period, t in dated_stretches(run, inv.due + timedelta(days=1), as_of):
            rate = tuple(c for c in t.cites if _changes_rate(run, c))
            if rate:
                used.append(type(t)(t.params, f"amendments[{rate[-1][len('amendment:') :]}].terms.late_penalty", rate))
    return used
