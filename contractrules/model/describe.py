"""A readable summary of a contract, and the schedule dates its overflow rule decided.

Used by ``contractrules check``: what the tool understood from the document, clause by
clause, so a user can compare it with the paper contract before trusting any answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from contractrules import dates, money
from contractrules.model.contract import Billing, Contract, LatePenalty, Payment, Scope, Termination

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
HORIZON_CYCLES = 24


@dataclass(frozen=True)
class Ambiguity:
    """A cycle start where the nominal day did not exist and the overflow rule chose."""

    cycle: int
    date: date
    nominal_day: int
    month: tuple[int, int]  # (year, month) that lacks the day
    mode: str

    @property
    def missing(self) -> str:
        """``day 31 does not exist in February 2025``."""
        year, month = self.month
        return f"day {self.nominal_day} does not exist in {MONTHS[month - 1]} {year}"

    def __str__(self) -> str:
        return f"cycle {self.cycle}: {self.date.isoformat()} ({self.missing}; {self.mode})"


def schedule_ambiguities(contract: Contract, count: int = HORIZON_CYCLES) -> list[Ambiguity]:
    """Cycle starts in the first ``count`` cycles (up to ``end``) set by the overflow rule.

    With ``month_overflow: error`` the dates are those ``clip`` would give; each one is a
    date the engine would refuse.
    """
    billing = contract.terms.billing
    if billing is None:
        return []
    mode = billing.month_overflow
    found = []
    for s in dates.ambiguous_dates(contract.start, billing.anchor_day, billing.cycle, count, mode):
        if contract.end is not None and s.date > contract.end:
            break
        lacking = s.date.replace(day=1) - timedelta(days=1) if mode == "roll_forward" else s.date
        found.append(Ambiguity(s.index, s.date, s.nominal_day, (lacking.year, lacking.month), mode))
    return found


def _money(amount: Decimal | str | None, currency: str) -> str:
    if amount is None:
        return "none"
    if isinstance(amount, str):  # the one word allowed: "statutory"
        return amount
    return f"{money.format_amount(amount, currency)} {currency}"


def _percent(rate: Decimal | str) -> str:
    if isinstance(rate, str):  # "statutory"
        return "statutory rate"
    pct = (rate * 100).normalize()
    return f"{pct:f}% a year"


def _days(n: int, business: bool = False) -> str:
    kind = "business day" if business else "day"
    return f"{n} {kind}{'' if n == 1 else 's'}"


def _billing(b: Billing, contract: Contract) -> list[str]:
    when = "at the end of each cycle (arrears)" if b.timing == "arrears" else "at the start of each cycle (advance)"
    anchor = contract.anchor_day
    proration = "a started cycle is owed in full" if b.proration == "none" else "daily proration of the last cycle"
    return [
        f"Billing:      {_money(b.fee, contract.currency)} {b.cycle}, cycles anchored on day {anchor}"
        + ("" if b.anchor_day is not None else " (the day of start)"),
        f"              invoiced {when} within {_days(b.invoice_within_days)}; proration: {b.proration} ({proration}); "
        f"month overflow: {b.month_overflow}",
    ]


def _payment(p: Payment) -> list[str]:
    if p.uses_business_calendar:
        calendar = (
            f"calendar {p.calendar} (weekends and public holidays)" if p.calendar else "weekends only (no calendar)"
        )
    else:
        calendar = "no business calendar"
    return [
        f"Payment:      due {_days(p.terms_days, p.business_days)} after the invoice date "
        "(the invoice day not counted)",
        f"              roll: {p.roll}; {calendar}",
    ]


def _penalty(lp: LatePenalty, currency: str) -> list[str]:
    lines = [f"Late penalty: grace {_days(lp.grace_days)}: enforceable from due + {lp.grace_days + 1}"]
    if lp.interest is None:
        lines.append("              interest: none")
    else:
        i = lp.interest
        start = "the day after due" if i.accrues_from == "due" else "the day after the grace period"
        lines.append(f"              interest: {_percent(i.annual_rate)}, {i.day_count}, accruing from {start}")
    cap = "none" if lp.cap is None else f"{(lp.cap * 100).normalize():f}% of the invoice amount"
    lines.append(f"              fixed fee: {_money(lp.fixed_fee, currency)} per late invoice; interest cap: {cap}")
    reminder = "not required" if lp.reminder_days is None else f"enforceable {_days(lp.reminder_days)} after a reminder"
    disputes = "suspend enforceability" if lp.disputes_suspend else "do not suspend enforceability"
    lines.append(f"              reminder: {reminder}; open disputes {disputes}")
    lines.append(_allocation(lp.allocation))
    return lines


def _allocation(allocation: str) -> str:
    if allocation == "interest_first":
        return (
            "              allocation: interest first: money for a late invoice pays its penalty (interest "
            "and fixed fee) first while it is enforceable, then the principal"
        )
    return (
        "              allocation: principal first: money for an invoice pays the principal; only payments "
        "naming the penalty pay it"
    )


def _es_allocation(allocation: str) -> str:
    """Spain: the civil code's rule on applying payments to interest first (SPEC §6.4)."""
    rule = "              ES: Código Civil art. 1173: a payment does not count towards capital while interest is unpaid"
    if allocation == "interest_first":
        return rule + " (followed: allocation interest_first)"
    return rule + "; this contract pays principal first (set late_penalty.allocation: interest_first to follow it)"


def _termination(t: Termination) -> list[str]:
    if t.notice_months is not None:
        period = f"{t.notice_months} month{'' if t.notice_months == 1 else 's'}"
    else:
        period = _days(t.notice_days or 0)
    effective = (
        "at the end of the notice"
        if t.effective == "notice_end"
        else "at the end of the billing cycle containing the notice end"
    )
    return [f"Termination:  {period} of notice; effective {effective}"]


def _scope(s: Scope, currency: str) -> list[str]:
    lines = ["Scope:"]
    for service in s.services:
        kind = (
            "every cycle"
            if service.on_request is None  # the model requires exactly one of the two
            else f"on request, respond within {_days(service.on_request.respond_within_days)}"
        )
        lines.append(f"  {service.id}: {kind}; assets: {', '.join(service.assets)}")
    if not s.services:
        lines.append("  services: none")
    for ex in s.excluded_assets:
        lines.append(f"  excluded: {ex.pattern}" + (f" ({ex.reason})" if ex.reason else ""))
    rate = s.change_order_rate
    lines.append(f"  change-order rate: {_money(rate.amount, currency) + ' per ' + rate.per if rate else 'none'}")
    return lines


def describe_contract(contract: Contract) -> list[str]:
    """The contract as a list of readable lines (no trailing newlines)."""
    c, terms = contract, contract.terms
    out = [f"Contract {c.id}" + (f": {c.title}" if c.title else ""), "Parties:"]
    for role in ("provider", "client"):
        party = getattr(c.parties, role)
        out.append(f"  {role:<8}  {party.id}" + (f"  ({party.name})" if party.name else ""))
    until = f"{c.end.isoformat()} (inclusive)" if c.end else "open-ended"
    out.append(f"Term:         {c.start.isoformat()} to {until}")
    out.append(f"Time zone:    {c.timezone}")
    out.append(f"Currency:     {c.currency}")
    out.append(f"Jurisdiction: {c.jurisdiction or 'none (no statutory rules)'}")
    out += _billing(terms.billing, c) if terms.billing else ["Billing:      none"]
    out += _payment(terms.payment) if terms.payment else ["Payment:      none"]
    if terms.late_penalty:
        out += _penalty(terms.late_penalty, c.currency)
    elif c.jurisdiction:
        out.append(f"Late penalty: none in the contract; the statutory regime of {c.jurisdiction} applies")
        out.append(_allocation("principal_first"))
    else:
        out.append("Late penalty: none")
    if c.jurisdiction == "ES":
        out.append(_es_allocation(terms.late_penalty.allocation if terms.late_penalty else "principal_first"))
    out += _termination(terms.termination) if terms.termination else ["Termination:  none"]
    out += _scope(terms.scope, c.currency) if terms.scope else ["Scope:        none"]
    out += _service_levels(terms.service_levels or [], c.currency)
    out += _amendments(c)
    return out


def _service_levels(levels: list, currency: str) -> list[str]:
    """``Service levels:`` and one line per entry (nothing when the contract has none)."""
    if not levels:
        return []
    out = ["Service levels:"]
    for lv in levels:
        parts = []
        if lv.credit is not None:
            c = lv.credit
            base = "the fee of the cycle containing the due date" if c.of == "fee" else "the request's value"
            per = "per started" if c.partial_period == "full" else "pro rata, per"
            cap = "no cap" if c.cap_percent is None else f"capped at {(c.cap_percent * 100).normalize():f}%"
            parts.append(f"credit {(c.percent * 100).normalize():f}% of {base} {per} {_days(c.per_days)} late, {cap}")
        if lv.termination_right_after_days is not None:
            parts.append(f"termination right if not done {_days(lv.termination_right_after_days)} after due")
        out.append(f"  {lv.service}: " + "; ".join(parts))
    return out


def _leaf(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_leaf(v) for v in value) + "]"
    return str(value)


def _amendments(c: Contract) -> list[str]:
    """``Amendments:`` and one line per amendment, in date order, with each term it changes."""
    if not c.amendments:
        return []  # nothing printed: most contracts have none
    from contractrules.model.amendments import paths
    from contractrules.model.events import VERBAL

    out = ["Amendments:"]
    for a in sorted(c.amendments, key=lambda a: (a.effective, a.id)):
        how = (
            f"by {a.channel}" + (" (verbal: findings that use it are verbal)" if a.channel in VERBAL else "")
            if a.channel
            else "channel not given"
        )
        out.append(f"  {a.id}: from {a.effective.isoformat()}, agreed by {' and '.join(a.agreed_by)}, {how}")
        for path in paths(a.terms):
            value: object = a.terms
            for key in path:
                value = value[key]  # type: ignore[index]
            out.append(f"    terms.{'.'.join(map(str, path))}: {_leaf(value)}")
    return out


def _non_business_runs(spec: str | None, first_year: int, last_year: int) -> tuple[int, int]:
    """(the longest run of consecutive non-business days, the longest one that ends on a
    month's last day) from ``first_year`` to ``last_year``."""
    cal = dates.business_calendar(spec)
    day, last = date(first_year, 1, 1), date(last_year, 12, 31)
    run = longest = at_month_end = 0
    while day <= last:
        run = 0 if cal.is_business_day(day) else run + 1
        longest = max(longest, run)
        nxt = day + timedelta(days=1)
        if nxt.month != day.month:
            at_month_end = max(at_month_end, run)
        day = nxt
    return longest, at_month_end


def term_warnings(contract: Contract, horizon_years: int = 10) -> list[str]:
    """What the terms can do that a reader may not expect (for ``check``; never an error)."""
    out = []
    billing, termination, pay = contract.terms.billing, contract.terms.termination, contract.terms.payment
    if (
        termination is not None
        and termination.notice_months is not None
        and billing is not None
        and billing.month_overflow == "error"
    ):
        out.append(
            "warning: terms.termination.notice_months with month_overflow: error — a notice is not refused: "
            f"given on a day that does not exist {termination.notice_months} month(s) later (e.g. the 31st), "
            "its period ends on the last day of that month (clipped)"
        )
    if pay is not None and pay.roll in ("preceding", "modified_following"):
        # preceding(d) is before the invoice date I iff every day from I to d = I + n is
        # a non-business day; modified_following goes back only when the days from d to
        # the month's end are all non-business too.
        last_year = (contract.end or contract.start).year + (0 if contract.end else horizon_years)
        longest, at_month_end = _non_business_runs(pay.calendar, contract.start.year, last_year)
        run = longest if pay.roll == "preceding" else at_month_end
        possible = pay.terms_days == 0 and run > 0 if pay.business_days else run > pay.terms_days
        if possible:
            unit = "business days" if pay.business_days else "days"
            out.append(
                f"warning: terms.payment roll: {pay.roll} with {pay.terms_days} {unit} can move a due date before "
                "its invoice date (an invoice at the start of a run of non-business days); such a due date stops "
                "at the invoice date"
            )
    return out
