"""terms.scope — what the provider does, for which assets, and what is out of scope.

SPEC §6.5. A ``work_requested`` is in scope when its service is listed, its asset is one
of that service's assets and matches no ``excluded_assets`` glob, or a
``change_order_agreed`` covers it. In scope and ``on_request`` → a ``service``
obligation on the provider due ``request date + respond_within_days``, fulfilled by a
matching ``work_performed`` (the oldest open request first); missed → ``late_service``.
Out of scope → ``out_of_scope_request`` (advisory, the requester), quoting the
change-order rate; the provider owes nothing. Work performed out of scope without a
change order → ``out_of_scope_work`` (advisory, the provider: unbilled work). Recurring
services (``every: cycle``) create one obligation per cycle per asset, due the cycle's
last day, or the contract's end if sooner but never before the notice that moved it
(``max(E, N)``, SPEC §6.3); unperformed → ``missed_service`` the day after. Recurring work
fulfils the open obligation of the cycle its date falls in (work after the contract's
last day, the last cycle's), late if after its due date — the violation stays on record.
A discharged obligation (its cycle began after the end) never produces ``missed_service``.

A change order covers one out-of-scope request for its service and asset: the oldest
uncovered one before it (its violation is withdrawn and a billable obligation opens),
or else the next one. Its work is then in scope.
"""

from __future__ import annotations

import bisect
from datetime import date, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase

from contractrules.compiler import cycles, termination
from contractrules.compiler.common import ev, iso, money, on_clock, on_event, rule
from contractrules.compiler.memo import live, reuse, section, unit
from contractrules.ledger import WorkingObligation, WorkingViolation
from contractrules.stamps import stamp

CLAUSE = "terms.scope"


# same-instant order (SPEC §5): what creates a thing before what acts on it
EVENT_RANKS = {"change_order_agreed": 2, "work_requested": 3, "work_performed": 4}


def compile(contract) -> dict:
    s = contract.terms.scope
    services = {
        sv.id: {
            "every": sv.every,
            "respond_within_days": sv.on_request.respond_within_days if sv.on_request else None,
            "assets": list(sv.assets),
        }
        for sv in s.services
    }
    rate = s.change_order_rate
    return {
        "rules": {
            "scope.request": rule(on_event("work_requested"), "scope.request"),
            "scope.perform": rule(on_event("work_performed"), "scope.perform"),
            "scope.change_order": rule(on_event("change_order_agreed"), "scope.change_order"),
            "scope.cycle": rule(on_clock("scope.cycle"), "scope.cycle"),
            "scope.due": rule(on_clock("scope.due"), "scope.due"),
        },
        "params": {
            "services": services,
            "excluded_assets": [{"pattern": x.pattern, "reason": x.reason} for x in s.excluded_assets],
            "change_order_rate": None if rate is None else {"amount": str(rate.amount), "per": rate.per},
        },
    }


def _st(run) -> dict:
    return run.state("scope")


def scope_gap(params: dict, service: str, asset: str) -> tuple[str, dict] | None:
    """Why (service, asset) is outside the signed scope, as data, or None when inside:
    ``("service", {})``, ``("excluded", {"pattern", "reason"})`` or ``("asset", {})``."""
    sv = params["services"].get(service)
    if sv is None:
        return "service", {}
    for x in params["excluded_assets"]:
        if fnmatchcase(asset.lower(), x["pattern"].lower()):
            return "excluded", x
    if asset not in sv["assets"]:
        return "asset", {}
    return None


def _terms(run, day: date):
    """The scope in force on ``day`` (a request's date, SPEC §6.7)."""
    return run.terms("scope", day)


def out_of_scope(run, service: str, asset: str, day: date) -> str | None:
    """Why (service, asset) is outside the scope signed (as amended) on ``day``, or None when it is inside."""
    gap = scope_gap(_terms(run, day).params, service, asset)
    if gap is None:
        return None
    kind, x = gap
    if kind == "service":
        return f"service '{service}' is not in the contract"
    if kind == "excluded":
        why = f": {x['reason']}" if x.get("reason") else ""
        return f"'{asset}' is excluded by pattern '{x['pattern']}'{why}"
    return f"'{asset}' is not one of the assets of service '{service}'"


def _rate_text(run, day: date) -> str:
    rate = _terms(run, day).params["change_order_rate"]
    if rate is None:
        return "the contract sets no change-order rate"
    return f"the change-order rate is {money(Decimal(rate['amount']), run.currency)} per {rate['per']}"


def _open_service(run, rec, due: date | None, billable: str = "") -> WorkingObligation:
    e = rec.event
    terms = _terms(run, rec.local_date)
    ob = run.oblige(
        WorkingObligation(
            id=f"service:{e.service}:{e.asset}:{e.id}",
            kind="service",
            debtor=run.provider,
            creditor=run.client,
            clause=terms.clause,
            arose_on=rec.local_date,
            due=due,
            caused_by=[e.id, *terms.cites],
        )
    )
    _st(run).setdefault("requests", []).append((rec, ob.id, billable))
    _st(run).setdefault("open", {}).setdefault((e.service, e.asset), []).append(ob)
    if due is not None:
        run.schedule(due + timedelta(days=1), "scope.due", obligation=ob.id, request=e.id)
    run.announce("service.requested", ob, rec)  # e.g. service levels (compiler/service_levels.py)
    return ob


def within_days(run, service: str, requested: date) -> int | None:
    """``respond_within_days`` of ``service`` in the scope in force on the request date."""
    return _terms(run, requested).params["services"].get(service, {}).get("respond_within_days")


def _due(run, service: str, on: date, requested: date | None = None) -> date | None:
    days = within_days(run, service, requested or on)
    return None if days is None else on + timedelta(days=days)


def request(run, rec) -> None:
    e = rec.event
    day = rec.local_date
    why = out_of_scope(run, e.service, e.asset, day)
    if why is None:
        if within_days(run, e.service, day) is not None:
            _open_service(run, rec, _due(run, e.service, day))
        return
    orders = _st(run).setdefault("orders", {}).get((e.service, e.asset), [])
    if orders:
        order = orders.pop(0)
        _open_service(run, rec, _due(run, e.service, day), billable=order.event.id)
        run.obligations[f"service:{e.service}:{e.asset}:{e.id}"].cite(order.event.id)
        return
    _st(run).setdefault("uncovered", []).append(rec)
    terms = _terms(run, day)
    run.violate(
        WorkingViolation(
            id=f"out_of_scope_request:{e.id}",
            kind="out_of_scope_request",
            party=e.by,
            on=day,
            severity="advisory",
            clause=terms.clause,
            caused_by=[e.id, *terms.cites],
            explanation=(
                f"{run.name(e.by)} asked on {iso(day)}{ev(e.id)} for {e.service} on {e.asset}, outside the "
                f"signed scope ({terms.clause}: {why}); {run.name(run.provider)} owes nothing unless a change order is "
                f"agreed, and {_rate_text(run, day)}."
            ),
        )
    )


def change_order(run, rec) -> None:
    e = rec.event
    covered = _st(run).setdefault("covered", set())
    covered.add((e.service, e.asset))
    uncovered = _st(run).setdefault("uncovered", [])
    for req in uncovered:
        if (req.event.service, req.event.asset) == (e.service, e.asset):
            uncovered.remove(req)
            run.violations.pop(f"out_of_scope_request:{req.event.id}", None)
            ob = _open_service(run, req, _due(run, e.service, rec.local_date, req.local_date), billable=e.id)
            ob.cite(e.id)
            return
    _st(run).setdefault("orders", {}).setdefault((e.service, e.asset), []).append(rec)


def perform(run, rec) -> None:
    e = rec.event
    waiting = _st(run).get("open", {}).get((e.service, e.asset))
    if waiting:  # the oldest open request for this service and asset
        _fulfil(waiting.pop(0), rec)
        return
    covered = (e.service, e.asset) in _st(run).get("covered", set())
    if (e.service, e.asset) in _st(run).get("recurring", {}):
        # matched to its cycle's obligation at the end, when the contract's end is known
        _st(run).setdefault("recurring_work", {}).setdefault((e.service, e.asset), []).append((rec, covered))
        return
    _out_of_scope_work(run, rec, covered)


def _out_of_scope_work(run, rec, covered: bool) -> None:
    """Work that fulfils nothing, outside the scope and no change order for it (by then)."""
    e = rec.event
    why = out_of_scope(run, e.service, e.asset, rec.local_date)
    if why is None or covered:
        return
    terms = _terms(run, rec.local_date)
    run.violate(
        WorkingViolation(
            id=f"out_of_scope_work:{e.id}",
            kind="out_of_scope_work",
            party=run.provider,
            on=rec.local_date,
            severity="advisory",
            clause=terms.clause,
            caused_by=[e.id, *terms.cites],
            explanation=(
                f"{run.name(e.by)} performed {e.service} on {e.asset} on {iso(rec.local_date)}{ev(e.id)}, outside the "
                f"signed scope ({terms.clause}: {why}) and without a change order: unbilled work; "
                f"{_rate_text(run, rec.local_date)}."
            ),
        )
    )


def _fulfil(ob: WorkingObligation, rec) -> None:
    ob.fulfilled_on = rec.local_date
    ob.status = "fulfilled"
    ob.cite(rec.event.id)


def start(run) -> None:
    if any(sv["every"] == "cycle" for t in run.dated("scope").items for sv in t.params["services"].values()):
        run.schedule(run.start, "scope.cycle", k=0)


def cycle(run, tick) -> None:
    end = termination.effective_end(run)
    span = cycles.begin(run, tick, "scope.cycle", end)
    if span is None:
        return
    first, last = span
    due, _ = termination.due_at_cycle_end(run, first, last)
    st = _st(run)
    terms = _terms(run, first)  # recurring services: the scope in force on the cycle's start
    for sid, sv in sorted(terms.params["services"].items()):
        if sv["every"] != "cycle":
            continue
        for asset in sv["assets"]:
            ob = run.oblige(
                WorkingObligation(
                    id=f"service:{sid}:{asset}:{first.isoformat()}",
                    kind="service",
                    debtor=run.provider,
                    creditor=run.client,
                    clause=terms.clause,
                    arose_on=first,
                    due=due,
                    caused_by=list(terms.cites),
                )
            )
            st.setdefault("recurring", {}).setdefault((sid, asset), []).append(ob)
            st.setdefault("cycle_of", {})[ob.id] = (first, last)


#: Recurring obligations per block: a live answer reuses the work of a block of cycles in
#: which nothing changed without visiting it (compiler/memo.py).
BLOCK = 12


def _blocks(st: dict, end: date | None) -> dict[tuple, tuple[list, list]]:
    """The recurring obligations of every (service, asset) by blocks of :data:`BLOCK`
    cycles, each with the recurring work whose date (the contract's last day for work
    after it, SPEC §6.3) falls in its cycles; work before the first cycle goes in block -1.
    Work is kept per (service, asset) in event order, so a block's is one slice of it."""
    cycle_of = st.get("cycle_of", {})
    works = st.get("recurring_work", {})
    blocks: dict[tuple, tuple[list, list]] = {}
    for pair, obs in st.get("recurring", {}).items():
        done = works.get(pair, [])
        starts = [cycle_of[ob.id][0] for ob in obs[::BLOCK]]
        # the day each work counts on never decreases along the list: bisect on it
        cuts = [bisect.bisect_left(done, start, key=lambda w: _counted(w[0].local_date, end)) for start in starts]
        if cuts and cuts[0] > 0:
            blocks[(*pair, -1)] = ([], done[: cuts[0]])
        cuts.append(len(done))
        for j in range(len(starts)):
            blocks[(*pair, j)] = (obs[j * BLOCK : (j + 1) * BLOCK], done[cuts[j] : cuts[j + 1]])
    return blocks


def _counted(day: date, end: date | None) -> date:
    return day if end is None or day <= end else end


def _match_recurring(run, obs: list[WorkingObligation], works: list, end: date | None) -> None:
    """Each recurring work fulfils the open obligation of the cycle its date falls in;
    work after the contract's last day, the last cycle's (SPEC §6.3) — late if after its due."""
    cycle_of = _st(run)["cycle_of"]
    firsts = [cycle_of[ob.id][0] for ob in obs]
    for rec, covered in works:
        e = rec.event
        day = rec.local_date if end is None else min(rec.local_date, end)
        at = bisect.bisect_right(firsts, day) - 1
        ob = obs[at] if at >= 0 else None
        fulfils = ob is not None and day <= cycle_of[ob.id][1] and ob.fulfilled_on is None
        inputs = live(run) and (day, covered, None if ob is None else stamp(ob), fulfils)
        if fulfils:
            unit(run, ("scope.work", e.id), inputs, (ob,), _work, run, rec, ob, covered)
        else:
            unit(run, ("scope.work", e.id), inputs, (), _work, run, rec, None, covered)


def _work(run, rec, ob: WorkingObligation | None, covered: bool) -> None:
    if ob is not None:
        _fulfil(ob, rec)
    else:  # fulfils nothing: an asset listed but excluded is still out of scope
        _out_of_scope_work(run, rec, covered)


def due(run, tick) -> None:
    """An on-request obligation not performed by its due date → ``late_service``."""
    ob = run.obligations.get(tick["obligation"])
    if ob is None or ob.status != "pending" or ob.fulfilled_on is not None:
        return
    ob.status = "violated"
    _, service, asset, key = ob.id.split(":", 3)
    run.violate(
        WorkingViolation(
            id=f"late_service:{service}:{asset}:{key}",
            kind="late_service",
            party=run.provider,
            on=run.today,
            severity="breach",
            clause=ob.clause,
            obligation=ob.id,
            caused_by=list(ob.caused_by),
            explanation=(
                f"{run.name(run.provider)} did not perform {service} on {asset} by {iso(ob.due)}, "
                f"as requested{ev(key)} ({ob.clause})."
            ),
        )
    )


def _missed(run, ob: WorkingObligation, due: date, service: str, asset: str, first: date, moved: list[str]) -> None:
    """SPEC §6.5: a recurring obligation not performed by its due date → ``missed_service``
    the day after; work done later fulfils it late and the violation stays."""
    if due >= run.as_of or (ob.fulfilled_on is not None and ob.fulfilled_on <= due):
        return
    if ob.fulfilled_on is None:
        ob.status = "violated"
    run.violate(
        WorkingViolation(
            id=f"missed_service:{service}:{asset}:{first.isoformat()}",
            kind="missed_service",
            party=run.provider,
            on=due + timedelta(days=1),
            severity="breach",
            clause=ob.clause,
            obligation=ob.id,
            caused_by=[*(c for c in ob.caused_by if c.startswith("amendment:")), *moved],
            explanation=(
                f"{run.name(run.provider)} did not perform {service} on {asset} by {iso(ob.due)} for the cycle "
                f"starting {first.isoformat()}"
                + (f" (a due date moved by the termination notice{ev(moved[0])})" if moved else "")
                + (f"; performed late on {iso(ob.fulfilled_on)}" if ob.fulfilled_on is not None else "")
                + f" ({ob.clause})."
            ),
        )
    )


#: The actions whose writes this finish reads (compiler/memo.py): its own and what moves
#: the contract's end (a notice, a waiver, a termination right).
FINISH_READS = ("scope", "termination", "service_levels")


def finish(run) -> None:
    section(run, CLAUSE, FINISH_READS, _finish_all, run)


def _finish_all(run) -> None:
    end = termination.effective_end(run)
    st = _st(run)
    # what a block's obligations depend on besides their own content and work: the
    # contract's end and what moved it (due dates), and which of their due dates the day
    # asked has not passed (all have once its last cycle is over: every due date falls
    # within its cycle, termination.due_at_cycle_end)
    moved_by = (end, run.acted.get("termination"), run.acted.get("service_levels"))
    cycle_of = st.get("cycle_of", {})
    for key, (obs, works) in _blocks(st, end).items():
        last = cycle_of[obs[-1].id][1] if obs else date.min
        inputs = live(run) and (
            moved_by,
            _not_due_yet(run, obs, end) if run.as_of <= last else None,
            tuple([stamp(ob) for ob in obs]),
            tuple(works),
        )
        reuse(run, ("scope.block", *key), inputs, _finish_block, run, key, obs, works, end)
    rows = st.get("requests", [])
    obligations = run.obligations
    requests = live(run) and tuple([(stamp(obligations[ob_id]), billable) for _req, ob_id, billable in rows])
    reuse(run, ("scope.requests",), requests, _finish_requests, run, rows)


def _not_due_yet(run, obs: list[WorkingObligation], end: date | None) -> tuple[bool | None, ...]:
    """For each recurring obligation, whether its due date is on or after the day asked
    (None: a cycle after the contract's end) — all a block's finish reads of that day."""
    cycle_of = _st(run)["cycle_of"]
    flags: list[bool | None] = []
    for ob in obs:
        first, last = cycle_of[ob.id]
        if end is not None and first > end:
            flags.append(None)
        else:
            flags.append(termination.due_at_cycle_end(run, first, last, end)[0] >= run.as_of)
    return tuple(flags)


def _finish_block(run, key: tuple, obs: list[WorkingObligation], works: list, end: date | None) -> None:
    service, asset, _ = key
    _match_recurring(run, obs, works, end)
    cycle_of = _st(run)["cycle_of"]
    for ob in obs:
        first, last = cycle_of[ob.id]
        if end is not None and first > end:
            inputs = live(run) and (stamp(ob), end)
            unit(run, ("scope", ob.id), inputs, (ob,), _discharged, run, ob, service, asset, first, last, end)
            continue
        due, moved = termination.due_at_cycle_end(run, first, last, end)
        state = live(run) and (stamp(ob), due, tuple(moved), due >= run.as_of)
        unit(run, ("scope", ob.id), state, (ob,), _recurring, run, ob, service, asset, first, last, due, moved)


def _finish_requests(run, rows: list) -> None:
    for req, ob_id, billable in rows:
        ob = run.obligations[ob_id]
        unit(run, ("scope", ob_id), live(run) and (stamp(ob), billable), (ob,), _requested, run, req, ob, billable)


def _requested(run, req, ob: WorkingObligation, billable: str | None) -> None:
    """The text of an obligation on request (its status is set as events arrive)."""
    e = req.event
    within = within_days(run, e.service, req.local_date)
    head = (
        f"{run.name(run.provider)} is to perform {e.service} on {e.asset}, requested by {run.name(e.by)} on "
        f"{iso(req.local_date)}{ev(e.id)} ({ob.clause}"
        + (f", respond within {within} days)" if within is not None else ")")
    )
    if billable:
        head += f"; billable under change order {billable}, {_rate_text(run, req.local_date)}"
    ob.explanation = head + _status_text(ob)


def _head(run, ob: WorkingObligation, service: str, asset: str, first: date, last: date) -> str:
    return (
        f"{run.name(run.provider)} is to perform {service} on {asset} in the cycle {iso(first)} to "
        f"{iso(last)} ({ob.clause}, every cycle)"
    )


def _discharged(run, ob: WorkingObligation, service: str, asset: str, first: date, last: date, end: date) -> None:
    ob.status = "discharged"
    ob.explanation = _head(run, ob, service, asset, first, last) + f"; not owed: the contract ended {iso(end)}."


def _recurring(run, ob, service: str, asset: str, first: date, last: date, due: date, moved: list[str]) -> None:
    """A recurring obligation as of ``run.as_of``: its due date, a missed cycle, its text."""
    ob.due = due
    ob.cite(*moved)
    _missed(run, ob, due, service, asset, first, moved)
    ob.explanation = _head(run, ob, service, asset, first, last) + _status_text(ob)


def _status_text(ob: WorkingObligation) -> str:
    if ob.status == "fulfilled":
        late = f", after its due date {iso(ob.due)}" if ob.due and ob.fulfilled_on and ob.fulfilled_on > ob.due else ""
        return f"; performed on {iso(ob.fulfilled_on)}{late}."
    if ob.status == "violated":
        return f"; not performed by {iso(ob.due)}."
    return f"; due {iso(ob.due)}, not performed yet." if ob.due else "; no deadline agreed, not performed yet."


ACTIONS = {
    "scope.request": request,
    "scope.perform": perform,
    "scope.change_order": change_order,
    "scope.cycle": cycle,
    "scope.due": due,
}
