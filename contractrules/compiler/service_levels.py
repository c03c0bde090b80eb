"""terms.service_levels — what the provider owes when on-request work is late.

SPEC §6.8. For an in-scope on-request service with a service level, the work is due on
the request date + ``respond_within_days`` (the ``service`` obligation of terms.scope,
which announces each one as ``service.requested``). As of D, with P the day the work
was performed:

- delay = ``min(P, D) − due`` in days (the performance day counts); none when the work
  was on time;
- credit = ``percent`` × base × periods, periods = started ``per_days`` periods of the
  delay (``partial_period: full``) or delay / ``per_days`` (``pro_rata``); capped at
  ``cap_percent`` × base. Base: ``of: fee`` the fee of the billing cycle containing the
  due date (as amended, unprorated), ``of: value`` the request's ``value``;
- the ``credit`` obligation ``credit:<service>:<asset>:<request id>`` (provider → client)
  has no due date, grows while the work is late, and is ``pending`` until ``credit_note``s
  naming ``request: <request id>`` cover it, then ``fulfilled``;
- not done by ``due + termination_right_after_days``: the client holds a
  ``termination_right:<request id>`` from the day after. It stays on record; a
  termination notice given while holding it owes no notice period (no ``short_notice``,
  compiler/termination.py asks ``run.holds_right``).

The service level in force on the request date applies (SPEC §6.7).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from contractrules.compiler import cycles
from contractrules.compiler.common import ev, iso, money, on_clock, on_event, pct, rule
from contractrules.ledger import ZERO, WorkingObligation, WorkingRight
from contractrules.money import round_money

CLAUSE = "terms.service_levels"


def compile(contract) -> dict:
    levels = {}
    for lv in contract.terms.service_levels or []:
        credit = None
        if lv.credit is not None:
            c = lv.credit
            credit = {
                "percent": str(c.percent),
                "of": c.of,
                "per_days": c.per_days,
                "partial_period": c.partial_period,
                "cap_percent": None if c.cap_percent is None else str(c.cap_percent),
            }
        levels[lv.service] = {"credit": credit, "termination_right_after_days": lv.termination_right_after_days}
    return {
        "rules": {
            "service_levels.credit_note": rule(on_event("credit_note", route="request"), "service_levels.credit_note"),
            "service_levels.right": rule(on_clock("service_levels.right"), "service_levels.right"),
        },
        "params": {"levels": levels},
    }


def _st(run) -> dict:
    return run.state("service_levels")


def _level(run, service: str, requested: date):
    """(the service level of ``service`` in force on the request date or None, its dated terms)."""
    terms = run.terms("service_levels", requested)
    return terms.params["levels"].get(service), terms


def start(run) -> None:
    run.on("service.requested", requested)


def requested(run, ob: WorkingObligation, rec) -> None:
    """A service obligation opened for a request: remember it; schedule the right's day."""
    level, _terms = _level(run, rec.event.service, rec.local_date)
    if level is None or ob.due is None:
        return
    _st(run).setdefault("requests", []).append((ob, rec))
    after = level["termination_right_after_days"]
    if after is not None:
        run.schedule(ob.due + timedelta(days=after + 1), "service_levels.right", obligation=ob.id, request=rec.event.id)


def right(run, tick) -> None:
    """The day after ``due + termination_right_after_days``: work not done by then gives the client a right."""
    ob = run.obligations[tick["obligation"]]
    if ob.fulfilled_on is not None:
        return
    rec = run.by_id[tick["request"]]
    level, terms = _level(run, rec.event.service, rec.local_date)
    run.grant(
        WorkingRight(
            id=f"termination_right:{rec.event.id}",
            kind="termination",
            party=run.client,
            from_=run.today,
            clause=terms.clause,
            caused_by=[rec.event.id, *terms.cites],
        )
    )


def credit_note(run, rec) -> None:
    _st(run).setdefault("notes", {}).setdefault(rec.event.request, []).append(rec)


# --------------------------------------------------------------------------- at the end


def _base(run, level: dict, ob: WorkingObligation, rec) -> tuple[Decimal, str, list[str]]:
    """(base amount, how it was found, amendments cited)."""
    if level["credit"]["of"] == "value":
        return rec.event.value, f"the request's value {money(rec.event.value, run.currency)}", []
    assert ob.due is not None, "only a dated request has a service level"
    _k, first, last = cycles.containing(run, ob.due)
    fee = run.terms("billing", first)
    return (
        Decimal(fee.params["fee"]),
        f"the fee {money(Decimal(fee.params['fee']), run.currency)} of the cycle {iso(first)} to {iso(last)}",
        list(fee.cites),
    )


def amount(level: dict, base: Decimal, delay: int) -> tuple[Decimal, Decimal, bool]:
    """(credit, periods, capped) for ``delay`` days late (SPEC §6.8), unrounded."""
    c = level["credit"]
    per = c["per_days"]
    periods = Decimal(math.ceil(delay / per)) if c["partial_period"] == "full" else Decimal(delay) / per
    credit = Decimal(c["percent"]) * base * periods
    if c["cap_percent"] is not None and credit > Decimal(c["cap_percent"]) * base:
        return Decimal(c["cap_percent"]) * base, periods, True
    return credit, periods, False


def finish(run) -> None:
    notes = _st(run).get("notes", {})
    credited_requests = set()
    for ob, rec in _st(run).get("requests", []):
        level, terms = _level(run, rec.event.service, rec.local_date)
        if level is None or level["credit"] is None or ob.due is None:
            continue
        end = run.as_of if ob.fulfilled_on is None else min(ob.fulfilled_on, run.as_of)
        delay = (end - ob.due).days
        if delay <= 0:
            continue
        credited_requests.add(rec.event.id)
        _credit(run, level, terms, ob, rec, delay, notes.get(rec.event.id, []))
    for request_id, recs in notes.items():
        if request_id not in credited_requests:
            for note in recs:
                run.warn(
                    f"credit note {note.event.id} names request {request_id}, which owes no service credit "
                    f"as of {iso(run.as_of)} ({CLAUSE}): it settles nothing"
                )


def _credit(run, level, terms, ob: WorkingObligation, rec, delay: int, notes: list) -> None:
    e = rec.event
    assert ob.due is not None, "only a dated request has a service level"
    base, base_text, base_cites = _base(run, level, ob, rec)
    figure, periods, capped = amount(level, base, delay)
    owed = round_money(figure, run.currency)
    credited, covered_on = ZERO, None
    for note in sorted(notes, key=lambda n: (n.local_date, n.event.id)):
        credited += note.event.amount
        if covered_on is None and credited >= owed:
            covered_on = note.local_date
    if credited > owed:
        run.warn(
            f"credit notes naming request {e.id} credit {money(credited, run.currency)}, more than the "
            f"{money(owed, run.currency)} service credit owed as of {iso(run.as_of)}"
        )
    c = level["credit"]
    ob_credit = run.oblige(
        WorkingObligation(
            id=f"credit:{e.service}:{e.asset}:{e.id}",
            kind="credit",
            debtor=run.provider,
            creditor=run.client,
            clause=terms.clause,
            arose_on=ob.due + timedelta(days=1),
            amount=figure,
            balance=max(owed - credited, ZERO),
            due=None,
            status="fulfilled" if covered_on is not None else "pending",
            fulfilled_on=covered_on,
        )
    )
    ob_credit.cite(e.id, *terms.cites, *base_cites)
    if ob.fulfilled_on is not None and ob.fulfilled_on <= run.as_of:
        ob_credit.cite(*(x for x in ob.caused_by if x in run.by_id and run.by_id[x].event.type == "work_performed"))
    ob_credit.cite(*(n.event.id for n in notes))
    done = (
        f"performed on {iso(ob.fulfilled_on)}"
        if ob.fulfilled_on is not None
        else f"not performed as of {iso(run.as_of)}"
    )
    unit = "started " if c["partial_period"] == "full" else ""
    periods_text = f"{periods.normalize():f}" if c["partial_period"] == "pro_rata" else str(int(periods))
    cap = f", capped at {pct(Decimal(c['cap_percent']))} of the base" if capped else ""
    settled = (
        f"; credited in full on {iso(covered_on)}"
        if covered_on is not None
        else f"; {money(credited, run.currency)} credited so far"
        if credited
        else "; not credited yet"
    )
    ob_credit.explanation = (
        f"{run.name(run.provider)} owes {run.name(run.client)} a service credit of {money(owed, run.currency)} for "
        f"{e.service} on {e.asset}, requested{ev(e.id)} on {iso(rec.local_date)} and due {iso(ob.due)}, {done}: "
        f"{delay} days late, {periods_text} {unit}period(s) of {c['per_days']} days × {pct(Decimal(c['percent']))} "
        f"of {base_text}{cap} ({terms.clause}){settled}."
    )


ACTIONS = {"service_levels.credit_note": credit_note, "service_levels.right": right}
