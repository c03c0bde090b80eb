"""The engine's guarantees: isolation, session limits, the document is what runs, errors surface."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import pytest

from contractrules.compiler import CLAUSES, compile_contract
from contractrules.engine.engine import Engine
from contractrules.engine.host import MAX_SESSIONS, RuleHost, fnv1a_32
from contractrules.errors import CompileError, EngineError
from tests.engine.conftest import invoice, make_contract, make_records, payment

# Two ordinary contract ids whose 32-bit FNV-1a hashes collide (found by a birthday search).
COLLIDING = ("acme-139599", "acme-322382")


def test_the_colliding_ids_really_collide_in_durable_rules():
    """Guard for the isolation test below: these ids DO share state if used as sids."""
    assert fnv1a_32(COLLIDING[0]) == fnv1a_32(COLLIDING[1])
    host = RuleHost({"noop": lambda run, item: None})
    host.register("probe", {"r": {"all": [{"m": {"type": "x"}}], "run": "noop"}})
    host.assert_fact("probe", {"sid": COLLIDING[0], "type": "x", "v": 1})
    assert host.get_facts("probe", COLLIDING[1]) == [{"sid": COLLIDING[0], "type": "x", "v": 1}]
    host.close()


def test_contracts_with_colliding_ids_never_see_each_other(engine):
    a, b = (make_contract(cid) for cid in COLLIDING)
    ra = make_records(a, [invoice("e1", "A-1", "2025-02-01", "100.00")])
    rb = make_records(b, [invoice("e1", "B-1", "2025-02-01", "250.00"), payment("e2", "2025-02-10", "250.00")])
    for _ in range(3):  # interleaved, reusing sessions
        ans_a = engine.evaluate(a, ra, date(2025, 4, 1))
        ans_b = engine.evaluate(b, rb, date(2025, 4, 1))
        assert [o.id for o in ans_a.obligations if o.kind == "payment"] == ["payment:A-1"]
        assert [o.id for o in ans_b.obligations if o.kind == "payment"] == ["payment:B-1"]
        assert (ans_a.contract, ans_b.contract) == COLLIDING
        assert [(o.amount, o.balance) for o in ans_a.obligations if o.kind == "payment"] == [("100.00", "100.00")]
        assert [(o.amount, o.balance) for o in ans_b.obligations if o.kind == "payment"] == [("250.00", "0.00")]
        assert [v.id for v in ans_a.violations if v.kind != "unbilled"] == ["late_payment:A-1"]
        assert [v.id for v in ans_b.violations if v.kind != "unbilled"] == []
    assert engine.live_sessions() == 0


def test_five_thousand_contracts_in_one_process():
    """Past durable_rules' 1024 sessions per ruleset: sessions are freed after each contract."""
    n = 5000
    with Engine() as engine:
        for i in range(n):
            c = make_contract(f"c-{i:05d}")
            paid = i % 2 == 0
            events = [invoice("e1", f"I-{i}", "2025-01-31", "600.00", "2025-01-01")]
            if paid:
                events.append(payment("e2", "2025-02-15", "600.00"))
            ans = engine.evaluate(c, make_records(c, events), date(2025, 3, 20))
            pay = next(o for o in ans.obligations if o.kind == "payment")
            assert pay.id == f"payment:I-{i}"
            assert pay.status == ("fulfilled" if paid else "violated")
            assert ans.contract == f"c-{i:05d}"
        assert engine.live_sessions() == 0
        assert len(engine._pools) == 1  # one shared ruleset for all contracts of this shape
    assert n > MAX_SESSIONS


def test_changing_the_document_changes_the_behaviour(engine):
    c = make_contract()
    records = make_records(c, [invoice("e1", "INV-1", "2025-02-01"), payment("e2", "2025-02-20", "600.00")])
    doc = compile_contract(c)
    ans = engine.run_document(copy.deepcopy(doc), records, date(2025, 4, 1))
    assert next(o for o in ans.obligations if o.id == "payment:INV-1").status == "fulfilled"

    # 1. a parameter: 10 days instead of 30 makes the same payment late
    short = copy.deepcopy(doc)
    short["params"]["payment"]["terms_days"] = 10
    ans = engine.run_document(short, records, date(2025, 4, 1))
    ob = next(o for o in ans.obligations if o.id == "payment:INV-1")
    assert (ob.due, ob.status, ob.fulfilled_on) == (date(2025, 2, 11), "fulfilled", date(2025, 2, 20))
    assert [v.on for v in ans.violations if v.kind == "late_payment"] == [date(2025, 2, 12)]

    # 2. a rule: without the payment rule, payments are not applied
    no_pay = copy.deepcopy(doc)
    del no_pay["rules"]["payment.receive"]
    no_pay["ruleset"] += "_without_payments"
    ans = engine.run_document(no_pay, records, date(2025, 4, 1))
    assert next(o for o in ans.obligations if o.id == "payment:INV-1").status == "violated"
    assert any("e2" in w and "no clause" in w for w in ans.warnings)


def test_an_exception_inside_an_action_surfaces(engine, monkeypatch):
    c = make_contract()
    records = make_records(c, [invoice("e1", "INV-1", "2025-02-01")])

    def boom(run, item):
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(engine._actions, "payment.invoice", boom)
    with pytest.raises(EngineError, match="boom"):
        engine.evaluate(c, records, date(2025, 4, 1))
    monkeypatch.undo()
    assert engine.live_sessions() == 0
    # the engine is still usable afterwards
    assert engine.evaluate(c, records, date(2025, 4, 1)).obligations


def test_an_unknown_action_name_is_refused():
    doc = compile_contract(make_contract())
    doc["rules"]["payment.invoice"]["run"] = "payment.no_such_action"
    doc["ruleset"] = "broken"
    with Engine() as engine, pytest.raises(EngineError, match="no_such_action"):
        engine.run_document(doc, [], date(2025, 4, 1))


def test_an_unsupported_clause_is_a_clear_compile_error(monkeypatch):
    monkeypatch.delitem(CLAUSES, "scope")
    c = make_contract(
        terms={
            **make_contract().model_dump(mode="json")["terms"],
            "scope": {"services": [{"id": "scan", "every": "cycle", "assets": ["a.example"]}]},
        }
    )
    with pytest.raises(CompileError, match=r"terms\.scope: no compiler for clause kind 'scope'"):
        compile_contract(c)


def test_the_document_is_pure_json_data():
    import json

    doc = compile_contract(make_contract())
    assert json.loads(json.dumps(doc)) == doc
    # contracts of the same shape share the ruleset; parameters stay data
    other = compile_contract(make_contract("other", currency="USD"))
    assert other["ruleset"] == doc["ruleset"] and other["rules"] == doc["rules"]


def test_no_wall_clock_in_the_library():
    """Evaluation's only clocks are event time and as_of.

    The store (recorded_at is the store's time by design) and batch (progress and timing
    of a run) may read the clock; nothing that computes an answer may."""
    root = Path(__file__).resolve().parents[2] / "contractrules"
    pattern = re.compile(r"\b(date\.today|datetime\.now|datetime\.utcnow|time\.time|time\.monotonic)\s*\(")
    allowed = {"store", "batch"}
    offenders = [
        f"{p.relative_to(root)}:{i}"
        for p in root.rglob("*.py")
        if p.relative_to(root).parts[0] not in allowed
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_an_engine_starts_no_background_threads():
    """durable_rules' Host normally starts two wall-clock timer threads; ours starts none."""
    import threading

    before = threading.active_count()
    with Engine() as engine:
        c = make_contract("threads")
        engine.evaluate(c, make_records(c, [invoice("e1", "I", "2025-02-01")]), date(2025, 5, 1))
        assert threading.active_count() == before


def test_each_engine_owns_its_host():
    with Engine() as a, Engine() as b:
        c = make_contract("own")
        records = make_records(c, [invoice("e1", "I", "2025-02-01")])
        assert a.evaluate(c, records, date(2025, 5, 1)) == b.evaluate(c, records, date(2025, 5, 1))
        assert a._host is not b._host
