"""A late invoice's penalty horizon (compiler/penalty_horizon.py): a live contract asked day
after day reuses the penalty of an invoice that can no longer change, and still answers
exactly as a full replay — the figures, the penalty obligations and their texts, the
warnings, the interest tables (``Answer.detail``, which answer equality ignores) and the
documents rendered from them.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import pytest

import contractrules as cr
from contractrules import live as live_module
from contractrules.compiler import compile_contract, penalty
from contractrules.documents.render import report_html
from contractrules.engine.engine import Engine
from contractrules.model import load_contract, load_events

SCENARIOS = Path(__file__).parent.parent / "scenarios"
PREFIXES = ("late_penalty_", "penalty_", "statutory_", "amendment_", "partial_payments_daily_interest")
NAMES = sorted(p.parent.name for p in SCENARIOS.glob("*/expected.json") if p.parent.name.startswith(PREFIXES))
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def engines():
    with Engine() as live_engine, Engine() as fresh:
        yield live_engine, fresh


def _days(contract, records, extra=()) -> list[date]:
    """Every day for 60 days after the last event, every 4th day to 400 days after it, and
    the days around each statutory rate change and amendment in that range."""
    last = max(r.local_date for r in records)
    days = {last + DAY * k for k in range(61)} | {last + DAY * k for k in range(60, 401, 4)}
    doc = compile_contract(contract)
    law = (doc["params"].get("late_penalty") or {}).get("statutory")
    marks = [date.fromisoformat(r["from"]) for r in law["rates"]] if law else []
    if law:
        marks.append(date.fromisoformat(law["rates"][-1]["to"]) + DAY)
    marks += [date.fromisoformat(v["from"]) for dated in doc.get("dated", {}).values() for v in dated]
    for m in marks:
        if last <= m <= last + DAY * 400:
            days |= {m - DAY, m, m + DAY}
    return sorted(days | set(extra))


def _mismatches(contract, records, days, engines, documents_every: int = 15, penalties_every: int = 1) -> list[tuple]:
    """(day, what) where a live contract holding ``records`` answers otherwise than a full
    replay, asked on ``days`` in order (each event posted one at a time, asked on its day)."""
    live_engine, fresh = engines
    bad: list[tuple] = []
    invoices = sorted({r.event.invoice for r in records if r.event.type == "invoice_issued"})
    with mock.patch.object(live_module, "VERIFY_RESTORE", True), cr.open_contract(contract, engine=live_engine) as live:
        for rec in records:
            live.post([rec])
            if rec.local_date >= contract.start:
                live.answer(rec.local_date)
        for n, day in enumerate(d for d in days if d >= contract.start):
            got, want = live.answer(day), fresh.evaluate(contract, records, day)
            if got != want:
                bad.append((day, "answer"))
            if got.detail.get("interest") != want.detail.get("interest"):
                bad.append((day, "interest tables"))
            if n % documents_every == 0 and report_html(contract, got, "en") != report_html(contract, want, "en"):
                bad.append((day, "report"))
            if n % penalties_every:
                continue
            live._answers.clear()  # penalty answers built on their own (Engine.finish_context)
            for invoice in invoices:
                if _outcome(live.penalty, invoice, day) != _outcome(
                    cr.penalty, contract, records, invoice, day, engine=fresh
                ):
                    bad.append((day, invoice))
    return bad


def _outcome(call, *args, **kwargs) -> object:
    """The answer, or the error's type and text."""
    try:
        return call(*args, **kwargs)
    except cr.ContractRulesError as exc:
        return type(exc), str(exc)


def _scenario(name: str, engines):
    folder = SCENARIOS / name
    contract = load_contract(folder / "contract.yaml")
    records = sorted(load_events(folder / "events.jsonl", contract).records, key=engines[1].order_key)
    checks = [date.fromisoformat(c["as_of"]) for c in json.loads((folder / "expected.json").read_text())["checks"]]
    return contract, records, checks


def test_the_scenarios_cover_the_penalty_cases() -> None:
    assert len(NAMES) >= 20, NAMES


@pytest.mark.parametrize("block", [None, 1])
@pytest.mark.parametrize("name", NAMES)
def test_live_answers_day_after_day_equal_full_replays(name: str, block: int | None, engines, monkeypatch) -> None:
    """With the usual blocks (an open invoice's block is computed again, the paid-off
    invoices' units in it reused) and blocks of one invoice (a paid-off invoice's block
    reused whole)."""
    if block is not None:
        monkeypatch.setattr(penalty, "BLOCK", block)
    contract, records, checks = _scenario(name, engines)
    days = _days(contract, records, checks)
    assert _mismatches(contract, records, days, engines) == []


@pytest.mark.parametrize("seed", [3, 8])
def test_a_workload_history_asked_day_after_day_answers_like_replays(seed: int, engines) -> None:
    """Three years of the benchmark workload (payments late and partial, reminders,
    disputes, waivers, credit notes), posted one event at a time and asked on each
    event's day, then every day for 90 days: the paid-off invoices' penalties reused."""
    from benchmarks.workload import generate

    w = generate(1, 36, seed=seed)
    contract = cr.parse_contract(w.contracts[0])
    records = _records(contract, w.events[contract.id])
    last = max(r.local_date for r in records)
    days = [last + DAY * k for k in range(91)]
    assert _mismatches(contract, records, days, engines, documents_every=30, penalties_every=10) == []


# ---------------------------------------------------------------- a contract asked daily

ES = """
id: es-daily
parties:
  provider: {id: prov, name: Proveedora S.L.}
  client: {id: cli, name: Cliente S.A.}
timezone: Europe/Madrid
currency: EUR
jurisdiction: ES
start: 2024-01-01
terms:
  payment: {terms_days: 30}
"""

CLAUSE = """
id: daily
parties:
  provider: {id: studio, name: Studio}
  client: {id: acme, name: Acme}
timezone: Europe/Madrid
currency: EUR
start: 2025-01-01
terms:
  payment: {terms_days: 30}
  late_penalty:
    grace_days: 5
    interest: {annual_rate: "0.08", day_count: act/365, accrues_from: due}
    fixed_fee: "40.00"
"""


def _contract(text: str, tmp_path: Path):
    path = tmp_path / "contract.yaml"
    path.write_text(text)
    return load_contract(path)


def _records(contract, events: list[dict]):
    return sorted(cr.parse_events([(None, e) for e in events], contract).records, key=Engine().order_key)


def _es_paid_off(tmp_path):
    """F-1 enforceable from 2025-01-16, paid off on 2025-03-10: interest stops, but its table
    keeps zero-balance rows at each half-year's new rate, and after the table's last row
    (2026-06-30) the statutory 'beyond the table' warning (an open invoice would give it
    too, hiding F-1's)."""
    contract = _contract(ES, tmp_path)
    events = [
        {"id": "e1", "type": "invoice_issued", "at": "2024-11-15", "invoice": "F-1", "amount": "1000.00", "by": "prov"},
        {
            "id": "e2",
            "type": "payment_received",
            "at": "2025-03-10",
            "invoice": "F-1",
            "amount": "1000.00",
            "by": "cli",
        },
    ]
    records = _records(contract, events)
    days = sorted(
        {date(2025, 3, 15) + DAY * k for k in range(0, 480, 9)}
        | {d + DAY * k for d in (date(2025, 7, 1), date(2026, 1, 1), date(2026, 7, 1)) for k in (-2, -1, 0, 1)}
    )
    return contract, records, days


def test_a_paid_off_statutory_invoice_answers_like_replays_across_the_rate_table(tmp_path, engines) -> None:
    contract, records, days = _es_paid_off(tmp_path)
    assert _mismatches(contract, records, days, engines, documents_every=4) == []
    want = engines[1].evaluate(contract, records, date(2026, 7, 1))
    assert any("ends 2026-06-30" in w for w in want.warnings)  # what pins the horizon's last day
    assert not any("ends 2026-06-30" in w for w in engines[1].evaluate(contract, records, date(2026, 6, 30)).warnings)


def test_a_paid_off_statutory_invoice_is_computed_again_only_on_a_new_half_year(tmp_path, engines, monkeypatch) -> None:
    contract, records, _days = _es_paid_off(tmp_path)
    calls = _counting(monkeypatch)
    with cr.open_contract(contract, engine=engines[0]) as live:
        live.post(records)
        live.answer(date(2025, 6, 28))
        for day, computed in [
            (date(2025, 6, 29), []),
            (date(2025, 6, 30), []),
            (date(2025, 7, 1), ["F-1"]),
            (date(2025, 7, 2), []),
            (date(2025, 12, 31), []),
            (date(2025, 8, 1), []),  # an earlier day of the same half-year
            (date(2026, 1, 1), ["F-1"]),
            (date(2026, 6, 30), []),
            (date(2026, 7, 1), ["F-1"]),
            (date(2027, 3, 1), []),
        ]:
            calls.clear()
            got = live.answer(day)
            assert calls == computed, (day, calls)
            want = engines[1].evaluate(contract, records, day)
            assert (got, got.detail["interest"]) == (want, want.detail["interest"]), day


def _counting(monkeypatch) -> list[str]:
    """The invoices whose penalty unit is computed (penalty._finish_invoice), in order."""
    calls: list[str] = []
    real = penalty._finish_invoice

    def counting(run, inv):
        calls.append(inv.id)
        return real(run, inv)

    monkeypatch.setattr(penalty, "_finish_invoice", counting)
    return calls


def test_a_horizon_one_day_early_is_caught(tmp_path, engines, monkeypatch) -> None:
    """If H were the day before the true horizon, a record computed on H - 1 would be reused
    on H: the statutory table's last new rate (the 'beyond the table' warning on
    2026-07-01) and a waiver's interest table (on the waiver's day only) would be lost."""
    real = penalty.horizon

    def early(run, inv):
        found = real(run, inv)
        return None if found is None else (found[0] - DAY, tuple(d - DAY for d in found[1]))

    monkeypatch.setattr(penalty, "horizon", early)
    contract, records, days = _es_paid_off(tmp_path)
    bad = _mismatches(contract, records, days, engines, documents_every=1000)
    assert (date(2026, 7, 1), "answer") in bad, bad
    contract = _contract(CLAUSE, tmp_path)
    records = _records(contract, WAIVED)
    bad = _mismatches(contract, records, [date(2025, 3, 1), date(2025, 3, 2)], engines, documents_every=1000)
    assert (date(2025, 3, 2), "interest tables") in bad, bad


#: INV-1 enforceable from 2025-02-15, unpaid, its penalty waived on 2025-03-01: the answer
#: on that day alone carries the table of the interest up to the waiver.
WAIVED = [
    {"id": "i1", "type": "invoice_issued", "at": "2025-01-10", "invoice": "INV-1", "amount": "1000.00", "by": "studio"},
    {"id": "w1", "type": "waiver", "at": "2025-03-01", "clause": "late_penalty", "invoice": "INV-1", "by": "studio"},
]


def test_a_waived_penalty_answers_like_replays_from_the_waiver_on(tmp_path, engines) -> None:
    contract = _contract(CLAUSE, tmp_path)
    records = _records(contract, WAIVED)
    fresh = engines[1]
    assert list(fresh.evaluate(contract, records, date(2025, 3, 1)).detail["interest"]) == ["INV-1"]
    assert list(fresh.evaluate(contract, records, date(2025, 3, 2)).detail["interest"]) == []
    days = [date(2025, 2, 28) + DAY * k for k in range(12)]
    assert _mismatches(contract, records, days, engines, documents_every=3) == []


def test_a_settled_invoice_is_not_computed_again_on_a_later_day(tmp_path, engines, monkeypatch) -> None:
    """INV-1 paid off (its penalty owed, unpaid: its text says "interest to <day>"), INV-2
    still open in the same block: asked the next days, INV-2's unit is computed again each
    day and INV-1's is reused — with its obligation's text re-dated."""
    contract = _contract(CLAUSE, tmp_path)
    events = [
        {
            "id": "i1",
            "type": "invoice_issued",
            "at": "2025-01-10",
            "invoice": "INV-1",
            "amount": "1000.00",
            "by": "studio",
        },
        {
            "id": "i2",
            "type": "invoice_issued",
            "at": "2025-02-10",
            "invoice": "INV-2",
            "amount": "500.00",
            "by": "studio",
        },
        {
            "id": "p1",
            "type": "payment_received",
            "at": "2025-04-01",
            "invoice": "INV-1",
            "amount": "1000.00",
            "by": "acme",
        },
    ]
    records = _records(contract, events)
    calls = _counting(monkeypatch)
    live_engine, fresh = engines
    with mock.patch.object(live_module, "VERIFY_RESTORE", True), cr.open_contract(contract, engine=live_engine) as live:
        live.post(records)
        live.answer(date(2025, 4, 2))
        assert sorted(calls) == ["INV-1", "INV-2"]
        for day in (date(2025, 4, 3), date(2025, 4, 4), date(2025, 9, 1)):
            calls.clear()
            got = live.answer(day)
            assert calls == ["INV-2"], (day, calls)
            assert got == fresh.evaluate(contract, records, day)
            ob = next(o for o in got.obligations if o.id == "penalty:INV-1")
            assert f"interest to {day.isoformat()} plus" in ob.explanation
            assert got.detail["interest"]["INV-1"].last == day
        calls.clear()
        live.penalty("INV-1", date(2025, 9, 2))
        assert calls == ["INV-2"]


def test_an_interest_table_runs_its_last_row_to_another_day() -> None:
    from decimal import Decimal

    from contractrules.interest import InterestTable, Segment

    rows = (
        Segment(date(2025, 2, 10), date(2025, 3, 31), Decimal("1000"), Decimal("0.08"), 365, "c"),
        Segment(date(2025, 4, 1), date(2025, 6, 30), Decimal("0"), Decimal("0.08"), 365, "c"),
    )
    table = InterestTable(
        "INV-1", date(2025, 2, 10), date(2025, 6, 30), 365, rows, Decimal("1000") * Decimal("0.08") * 50 / 365
    )
    assert table.until(date(2025, 6, 30)) is table
    later = table.until(date(2025, 9, 1))
    assert (later.last, later.segments[-1].end, later.segments[0], later.unrounded) == (
        date(2025, 9, 1),
        date(2025, 9, 1),
        rows[0],
        table.unrounded,
    )
    assert later.segments[-1].start == date(2025, 4, 1) and later.segments[-1].days == 154
    assert table.until(date(2025, 4, 1)).segments[-1].days == 1
    with pytest.raises(AssertionError):
        table.until(date(2025, 3, 31))  # before its last row: not the same table
