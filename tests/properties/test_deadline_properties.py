"""Every billing cycle and recurring service to the end of its life (SPEC §6.1, §6.3, §6.5).

Random invoices (with, without or with a wrong ``period``), scans, and a termination
notice that may ask for an end before, on or after the notice day, waived or not. The
answer is checked against an oracle written here from SPEC alone, for a contract with
monthly cycles on the 1st, arrears billing, 7 days to invoice and 30 days' notice to the
end of the cycle:

- a cycle that starts after the end E is ``discharged`` and never violated;
- what a cycle owes at its end falls due on its last day, or E if earlier — never
  before the notice day N, never after the last day: ``min(max(E, N), last)``; its
  invoice 7 days after that;
- an invoice naming the cycle (the earliest) fulfils it; a scan fulfils the obligation
  of the cycle its date falls in (after E: the last cycle), the earliest one counts;
- done after the due date or not at all (with the due date before ``as_of``): a
  violation on the day after (``unbilled`` / ``missed_service``), kept when done late;
  not done and not due: ``pending``.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contractrules.engine.engine import Engine
from contractrules.model import parse_contract, parse_events
from tests.strategies import STREAM_START, as_of_dates, stream_contract_data

CONTRACT = parse_contract(stream_contract_data("acme-deadlines"))
ASSETS = ("acme.example", "shop.example")
WITHIN = 7


@pytest.fixture(scope="module")
def engine():
    with Engine() as e:
        yield e


def _day(n: int) -> str:
    return (STREAM_START + timedelta(days=n)).isoformat()


@st.composite
def lifecycle_streams(draw) -> list[dict]:
    events: list[dict] = []

    def add(kind: str, **fields) -> None:
        events.append({"id": f"e{len(events) + 1:03d}", "type": kind, **fields})

    for i, month in enumerate(draw(st.lists(st.integers(1, 9), max_size=8))):
        fields = {"at": _day(draw(st.integers(0, 300))), "invoice": f"INV-{i}", "amount": "600.00", "by": "studio"}
        kind = draw(st.sampled_from(["period", "period", "none", "wrong"]))
        if kind == "period":
            fields["period"] = date(2025, month, 1).isoformat()
        elif kind == "wrong":
            fields["period"] = date(2025, month, 2).isoformat()
        add("invoice_issued", **fields)
    for _ in range(draw(st.integers(0, 10))):
        add(
            "work_performed",
            at=_day(draw(st.integers(0, 300))),
            by="studio",
            service="malware-scan",
            asset=draw(st.sampled_from(ASSETS)),
        )
    if draw(st.booleans()):
        notice = draw(st.integers(0, 240))
        fields = {"at": _day(notice), "by": "acme", "channel": "email"}
        if draw(st.booleans()):
            fields["effective"] = _day(max(0, notice + draw(st.integers(-60, 60))))
        add("termination_notice", **fields)
        if draw(st.booleans()):
            add("waiver", at=_day(notice), by="studio", clause="termination.notice", channel="email")
    return events


def _month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _check_deadline(ob: dict, violation: dict | None, due: date, done: date | None, as_of: date) -> None:
    assert ob["due"] == due.isoformat(), ob["id"]
    assert ob["fulfilled_on"] == (done.isoformat() if done else None), ob["id"]
    late = due < as_of and (done is None or done > due)
    if late:
        assert violation is not None, f"{ob['id']}: no violation although due {due} passed"
        assert violation["on"] == (due + timedelta(days=1)).isoformat()
    else:
        assert violation is None, f"{ob['id']}: violation although not late"
    expected = "fulfilled" if done else ("violated" if due < as_of else "pending")
    assert ob["status"] == expected, ob["id"]


@given(events=lifecycle_streams(), as_of=as_of_dates)
def test_every_cycle_obligation_follows_spec_to_the_end(engine, events, as_of):
    records = parse_events(((i + 1, e) for i, e in enumerate(events)), CONTRACT).records
    answer = engine.evaluate(CONTRACT, records, as_of).to_dict()
    known = [r for r in records if r.local_date <= as_of]
    state = answer["state"]
    end = date.fromisoformat(state["effective_end"]) if state["effective_end"] else None
    notice = date.fromisoformat(state["notice"]["given_on"]) if state["notice"] else None
    violations = {v["id"]: v for v in answer["violations"]}
    obligations = {o["id"]: o for o in answer["obligations"]}

    first = STREAM_START
    while first <= as_of and (end is None or first <= end):
        last = _month_end(first)
        at_end = last if end is None or end >= last else min(max(end, notice or end), last)
        # billing: the earliest invoice naming this cycle
        invoiced = sorted(r.local_date for r in known if r.event.type == "invoice_issued" and r.event.period == first)
        ob = obligations.pop(f"billing:{first.isoformat()}")
        _check_deadline(
            ob,
            violations.pop(f"unbilled:{first.isoformat()}", None),
            at_end + timedelta(days=WITHIN),
            invoiced[0] if invoiced else None,
            as_of,
        )
        for asset in ASSETS:
            scans = sorted(
                r.local_date
                for r in known
                if r.event.type == "work_performed"
                and r.event.asset == asset
                and first <= (min(r.local_date, end) if end else r.local_date) <= last
            )
            key = f"malware-scan:{asset}:{first.isoformat()}"
            _check_deadline(
                obligations.pop(f"service:{key}"),
                violations.pop(f"missed_service:{key}", None),
                at_end,
                scans[0] if scans else None,
                as_of,
            )
        first = last + timedelta(days=1)
    # whatever is left of the cycles' obligations was discharged, and is never violated
    for ob in obligations.values():
        if ob["kind"] == "billing" or ob["id"].startswith("service:malware-scan:"):
            assert ob["status"] == "discharged" and end is not None and ob["id"].rsplit(":", 1)[1] > end.isoformat()
    assert not [v for v in violations if v.startswith(("unbilled:", "missed_service:"))]
