"""A seeded generator of realistic batch workloads: N contracts × M months of events.

Every contract is a monthly (sometimes quarterly) service agreement with a fee, payment
terms, a late-penalty clause (or the statutory regime under ``jurisdiction: ES``), a
notice period and a scope with a recurring service and an on-request one. Each cycle
produces what a real ledger shows:

- an invoice for the cycle (a few cycles are never invoiced: unbilled fees);
- payments on time, late, in two parts (partial), or without an invoice (FIFO), or
  never; credit notes; reminders; disputes opened and resolved; penalty and grace
  waivers;
- the recurring service performed on most assets (some cycles missed), requests in
  scope answered on time or late, requests out of scope (unknown service or excluded
  asset), some of them covered by a change order;
- near the end, a few contracts receive a termination notice, some asking for an
  earlier end than the notice period allows, with or without the other party's waiver.

Dates are dates or timestamps with an offset. The same ``seed`` always gives the same
workload (``random.Random(seed)``, no wall clock).

    python -m benchmarks.workload --contracts 100 --months 24 --seed 7 --out /tmp/w
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

FIRST_START = date(2023, 1, 1)
PROVIDER, CLIENT = "studio", "acme"


@dataclass
class Workload:
    """Contracts (as documents), their events (by contract id) and the as-of date."""

    contracts: list[dict]
    events: dict[str, list[dict]]
    as_of: date
    seed: int
    months: int
    stats: dict = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return sum(len(v) for v in self.events.values())


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later (the generator only uses days 1..28)."""
    y, m = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + y, month=m + 1)


def _contract(rng: random.Random, cid: str, start: date) -> dict:
    assets = [f"site{j}.{cid}.example" for j in range(rng.randint(1, 3))]
    quarterly = rng.random() < 0.1
    doc = {
        "id": cid,
        "title": f"Maintenance agreement {cid}",
        "parties": {
            "provider": {"id": PROVIDER, "name": "Studio S.L."},
            "client": {"id": CLIENT, "name": f"Client of {cid}"},
        },
        "timezone": rng.choice(["Europe/Madrid", "Europe/Madrid", "Europe/London", "America/New_York"]),
        "currency": "EUR",
        "start": start.isoformat(),
        "terms": {
            "billing": {
                "cycle": "quarterly" if quarterly else "monthly",
                "fee": f"{rng.choice([300, 450, 600, 900, 1200])}.00",
                "timing": rng.choice(["arrears", "arrears", "advance"]),
                "proration": rng.choice(["none", "daily"]),
            },
            "payment": {"terms_days": rng.choice([15, 30, 30, 45])},
            "termination": {
                "notice_days": rng.choice([15, 30, 60]),
                "effective": rng.choice(["end_of_cycle", "notice_end"]),
            },
            "scope": {
                "services": [
                    {"id": "scan", "every": "cycle", "assets": assets},
                    {"id": "fix", "on_request": {"respond_within_days": rng.choice([2, 3, 5])}, "assets": assets},
                ],
                "excluded_assets": ["*.legacy.example"],
                "change_order_rate": {"amount": "60.00", "per": "hour"},
            },
        },
    }
    if rng.random() < 0.15:
        doc["jurisdiction"] = "ES"  # no late_penalty clause: the statutory regime applies
        doc["currency"] = "EUR"
    else:
        doc["terms"]["late_penalty"] = {
            "grace_days": rng.choice([0, 5, 15]),
            "interest": {
                "annual_rate": rng.choice(["0.08", "0.10", "0.12"]),
                "day_count": rng.choice(["act/365", "act/360"]),
                "accrues_from": rng.choice(["due", "grace_end"]),
            },
            "fixed_fee": "40.00",
            "reminder_days": rng.choice([None, None, 10]),
            "disputes_suspend": True,
        }
    return doc


class _Events:
    """Builds one contract's events with unique ids and varied ``at`` forms."""

    def __init__(self, rng: random.Random, tz: str):
        self.rng, self.items, self.n = rng, [], 0
        self.offset = {"Europe/Madrid": "+01:00", "Europe/London": "Z", "America/New_York": "-05:00"}[tz]

    def at(self, day: date) -> str:
        if self.rng.random() < 0.3:  # a timestamp with offset, mid-day so the local date is unchanged
            return f"{day.isoformat()}T{self.rng.randint(9, 17):02d}:{self.rng.randint(0, 59):02d}:00{self.offset}"
        return day.isoformat()

    def add(self, kind: str, day: date, **fields) -> str:
        self.n += 1
        eid = f"{kind[:3]}-{self.n}"
        event = {"id": eid, "type": kind, "at": self.at(day), **fields}
        if self.rng.random() < 0.8:
            event["channel"] = self.rng.choice(["email", "portal", "system", "phone"])
        self.items.append(event)
        return eid


def _invoice_and_payments(rng, ev: _Events, k: int, first: date, last: date, fee: str, terms: int, timing: str) -> None:
    if rng.random() < 0.04:
        return  # never invoiced: an unbilled cycle
    issued = (first if timing == "advance" else last) + timedelta(days=rng.randint(1, 3))
    inv = f"INV-{k:03d}"
    amount = fee
    ev.add("invoice_issued", issued, by=PROVIDER, invoice=inv, amount=amount, period=first.isoformat())
    due = issued + timedelta(days=terms)
    if rng.random() < 0.05:
        credit = "50.00"
        ev.add("credit_note", issued + timedelta(days=rng.randint(1, 10)), by=PROVIDER, invoice=inv, amount=credit)
        amount = f"{float(fee) - 50:.2f}"
    r = rng.random()
    if r < 0.58:  # on time
        ev.add(
            "payment_received", due - timedelta(days=rng.randint(0, terms - 1)), by=CLIENT, invoice=inv, amount=amount
        )
    elif r < 0.72:  # late, maybe after a reminder, maybe disputed
        late = due + timedelta(days=rng.randint(3, 60))
        if rng.random() < 0.5:
            ev.add("reminder_sent", due + timedelta(days=rng.randint(1, 5)), by=PROVIDER, invoice=inv)
        if rng.random() < 0.15:
            opened = due + timedelta(days=rng.randint(1, 10))
            ev.add("dispute_opened", opened, by=CLIENT, invoice=inv)
            ev.add("dispute_resolved", opened + timedelta(days=rng.randint(5, 20)), by=CLIENT, invoice=inv)
        if rng.random() < 0.08:
            ev.add("waiver", due + timedelta(days=2), by=PROVIDER, clause="late_penalty", invoice=inv)
        elif rng.random() < 0.08:
            until = (due + timedelta(days=30)).isoformat()
            ev.add(
                "waiver", due + timedelta(days=1), by=PROVIDER, clause="late_penalty.grace", invoice=inv, until=until
            )
        ev.add("payment_received", late, by=CLIENT, invoice=inv, amount=amount)
    elif r < 0.84:  # partial: half on time, the rest late
        half = f"{float(amount) / 2:.2f}"
        rest = f"{float(amount) - float(half):.2f}"
        ev.add("payment_received", due - timedelta(days=1), by=CLIENT, invoice=inv, amount=half)
        ev.add("payment_received", due + timedelta(days=rng.randint(5, 40)), by=CLIENT, invoice=inv, amount=rest)
    elif r < 0.95:  # FIFO: no invoice named, applied to the oldest open invoice
        ev.add("payment_received", due - timedelta(days=rng.randint(0, 5)), by=CLIENT, amount=amount)
    # else: never paid


def _services(rng, ev: _Events, first: date, last: date, assets: list[str]) -> None:
    span = (last - first).days
    for asset in assets:
        if rng.random() < 0.9:
            ev.add(
                "work_performed",
                first + timedelta(days=rng.randint(0, span)),
                by=PROVIDER,
                service="scan",
                asset=asset,
                hours="1.5",
            )
    if rng.random() < 0.35:  # a request in scope, answered on time or late
        day = first + timedelta(days=rng.randint(0, max(span - 10, 0)))
        asset = rng.choice(assets)
        ev.add("work_requested", day, by=CLIENT, service="fix", asset=asset, description="site down")
        if rng.random() < 0.9:
            ev.add("work_performed", day + timedelta(days=rng.randint(0, 6)), by=PROVIDER, service="fix", asset=asset)
    if rng.random() < 0.12:  # out of scope: an unknown service, or an excluded asset
        day = first + timedelta(days=rng.randint(0, max(span - 10, 0)))
        service, asset = rng.choice([("redesign", assets[0]), ("fix", "old.legacy.example")])
        ev.add("work_requested", day, by=CLIENT, service=service, asset=asset)
        if rng.random() < 0.3:
            ev.add("change_order_agreed", day + timedelta(days=2), by=PROVIDER, service=service, asset=asset, hours="4")
            ev.add("work_performed", day + timedelta(days=5), by=PROVIDER, service=service, asset=asset, hours="4")
        elif rng.random() < 0.2:
            ev.add("work_performed", day + timedelta(days=3), by=PROVIDER, service=service, asset=asset)


def _termination(rng, ev: _Events, day: date, notice_days: int) -> None:
    by = rng.choice([CLIENT, PROVIDER])
    if rng.random() < 0.5:  # asks for an earlier end than the notice period allows
        ev.add("termination_notice", day, by=by, effective=(day + timedelta(days=notice_days // 3)).isoformat())
        if rng.random() < 0.5:
            other = PROVIDER if by == CLIENT else CLIENT
            ev.add("waiver", day + timedelta(days=2), by=other, clause="termination.notice")
    else:
        ev.add("termination_notice", day, by=by)


def generate(n_contracts: int, months: int, seed: int = 1, prefix: str = "c", begin: date = FIRST_START) -> Workload:
    """``n_contracts`` contracts starting within 4 weeks of ``begin``, with ``months`` months
    of history each, as of the end."""
    rng = random.Random(seed)
    contracts, events = [], {}
    as_of = add_months(begin, months) + timedelta(days=28)
    for i in range(n_contracts):
        cid = f"{prefix}-{i:06d}"
        start = begin + timedelta(days=rng.randint(0, 27))
        doc = _contract(rng, cid, start)
        terms = doc["terms"]
        step = 3 if terms["billing"]["cycle"] == "quarterly" else 1
        ev = _Events(rng, doc["timezone"])
        assets = terms["scope"]["services"][0]["assets"]
        terminate = rng.random() < 0.08
        for k in range(0, months, step):
            first, nxt = add_months(start, k), add_months(start, k + step)
            if first > as_of:
                break
            _invoice_and_payments(
                rng,
                ev,
                k,
                first,
                nxt - timedelta(days=1),
                terms["billing"]["fee"],
                terms["payment"]["terms_days"],
                terms["billing"]["timing"],
            )
            _services(rng, ev, first, nxt - timedelta(days=1), assets)
            if terminate and k >= months - 3 * step:
                _termination(rng, ev, first + timedelta(days=3), terms["termination"]["notice_days"])
                break
        rng.shuffle(ev.items)  # files are not in event-time order; the engine must not care
        contracts.append(doc)
        events[cid] = ev.items
    return Workload(contracts, events, as_of, seed, months)


def write(workload: Workload, root: str | Path, *, layout: str = "file", contract_format: str = "yaml") -> dict:
    """Write ``contracts/`` and events (``events.jsonl`` with a ``contract`` field, or
    ``events/<id>.jsonl``) under ``root``. Returns the paths."""
    root = Path(root)
    cdir = root / "contracts"
    cdir.mkdir(parents=True, exist_ok=True)
    for doc in workload.contracts:
        if contract_format == "yaml":
            (cdir / f"{doc['id']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        else:
            (cdir / f"{doc['id']}.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    if layout == "file":
        events_path = root / "events.jsonl"
        with events_path.open("w", encoding="utf-8") as out:
            # interleave contracts as a real export would: sort all events by their day
            rows = [(e["at"][:10], cid, e) for cid, items in workload.events.items() for e in items]
            rows.sort(key=lambda r: (r[0], r[1], r[2]["id"]))
            for _, cid, e in rows:
                out.write(json.dumps({"contract": cid, **e}) + "\n")
    else:
        events_path = root / "events"
        events_path.mkdir(exist_ok=True)
        for cid, items in workload.events.items():
            (events_path / f"{cid}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in items), encoding="utf-8")
    return {"contracts": cdir, "events": events_path, "as_of": workload.as_of.isoformat()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=100)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layout", choices=["file", "dir"], default="file")
    parser.add_argument("--format", dest="fmt", choices=["yaml", "json"], default="yaml")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    wl = generate(args.contracts, args.months, args.seed)
    paths = write(wl, args.out, layout=args.layout, contract_format=args.fmt)
    print(
        f"{len(wl.contracts)} contracts, {wl.n_events} events, as of {paths['as_of']}: "
        f"{paths['contracts']} {paths['events']}"
    )


if __name__ == "__main__":
    main()
