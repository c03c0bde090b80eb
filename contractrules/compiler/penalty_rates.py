"""terms.late_penalty: which interest rate applies on a day (SPEC §6.4, §7).

The contract's fixed rate, or the statutory rate of a jurisdiction's dated table: per
half-year (ES, EU), or fixed when interest starts (UK). A contract rate below the
statutory one is applied as written, with a warning; days beyond the table's last row
use its last rate, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from contractrules.compiler.common import iso, pct
from contractrules.engine.runtime import Invoice
from contractrules.interest import DatedRates


def _rates(run) -> DatedRates:
    st = run.state("late_penalty")
    if "rates" not in st:
        law = run.params["late_penalty"]["statutory"]
        st["rates"] = DatedRates(law["rates"], f"{law['jurisdiction']} ({Path(law['file']).name})")
    return st["rates"]


def rate_function(run, inv: Invoice, first: date) -> tuple[Callable[[date], Decimal], list[date], str]:
    """(rate_at, breaks, text) for the invoice's interest from ``first``."""
    params = run.params["late_penalty"]
    spec = params["interest"]
    if spec["annual_rate"] != "statutory":
        rate = Decimal(spec["annual_rate"])
        _compare_with_law(run, inv, rate, first)
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


def rate_source(run, first: date) -> Callable[[date], str]:
    """Where each interest day's rate comes from: the clause, or the statutory table's row."""
    params = run.params["late_penalty"]
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
    if law is None or first < date.fromisoformat(law["rates"][0]["from"]):
        return
    legal = _rates(run).rate_on(first)
    if rate < legal:
        run.warn(
            f"invoice {inv.id}: the contract's interest rate {pct(rate)} is below the statutory rate "
            f"{pct(legal)} in force on {iso(first)} ({law['name']}); such a clause may be void "
            f"if grossly unfair to the creditor — see docs/statutory-{law['jurisdiction'].lower()}.md"
        )


def warn_beyond_table(run) -> None:
    rates = run.state("late_penalty").get("rates")
    if rates is None or not rates.beyond:
        return
    start, end, rate, source = rates.last_row()
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
        start, end, rate, source = rates.rows[k]
        run.warn(f"statutory rate {pct(rate)} for {iso(start)}..{iso(end)} ({rates.name}) comes from the user rate "
                 f"file {rates.files[k]}, not from the tables bundled with contractrules ({source})")
