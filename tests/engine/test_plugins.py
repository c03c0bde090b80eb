"""The plugin boundary: a clause kind registers itself; the engine names none of them."""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from contractrules import compiler
from contractrules.compiler.common import on_clock, rule
from contractrules.engine.engine import Engine
from contractrules.ledger import WorkingObligation
from tests.engine.conftest import make_contract, make_records

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "contractrules"


def _kickoff(run, tick) -> None:
    run.oblige(
        WorkingObligation(
            id="service:kickoff:meeting:start",
            kind="service",
            debtor=run.provider,
            creditor=run.client,
            clause="terms.kickoff",
            arose_on=run.today,
            due=run.today + timedelta(days=run.params["kickoff"]["days"]),
        )
    )


def _finish(run) -> None:
    ob = run.obligations.get("service:kickoff:meeting:start")
    if ob is not None:
        ob.status = "violated" if ob.due < run.as_of else "pending"
        ob.explanation = f"a kickoff meeting within {run.params['kickoff']['days']} days (terms.kickoff)."


TOY = SimpleNamespace(
    applies=lambda contract: True,
    compile=lambda contract: {
        "rules": {"kickoff.start": rule(on_clock("kickoff.start"), "kickoff.start")},
        "params": {"days": 3},
    },
    ACTIONS={"kickoff.start": _kickoff},
    start=lambda run: run.schedule(run.start + timedelta(days=1), "kickoff.start"),
    finish=_finish,
    answer=lambda run: {"detail": {"kickoff": "seen"}},
)


@pytest.fixture
def toy():
    compiler.register("kickoff", TOY)
    try:
        yield TOY
    finally:
        compiler.unregister("kickoff")


def test_a_clause_registered_from_a_test_runs_with_no_change_elsewhere(toy):
    contract = make_contract()
    doc = compiler.compile_contract(contract)
    assert "kickoff" in doc["clauses"] and doc["params"]["kickoff"] == {"days": 3}
    with Engine() as engine:
        answer = engine.evaluate(contract, make_records(contract, []), date(2025, 1, 10))
    ob = next(o for o in answer.obligations if o.id == "service:kickoff:meeting:start")
    assert (ob.due, ob.status, ob.clause) == (date(2025, 1, 5), "violated", "terms.kickoff")
    assert answer.detail["kickoff"] == "seen"


def test_without_the_registration_nothing_of_it_remains():
    contract = make_contract()
    assert "kickoff" not in compiler.compile_contract(contract)["clauses"]
    with Engine() as engine:
        answer = engine.evaluate(contract, make_records(contract, []), date(2025, 1, 10))
    assert not [o for o in answer.obligations if "kickoff" in o.id]


def test_a_clause_cannot_rank_an_event_type_differently_or_register_twice(toy):
    with pytest.raises(Exception, match="registered already"):
        compiler.register("kickoff", TOY)
    with pytest.raises(Exception, match="ranked 0 already"):
        compiler.register("other", SimpleNamespace(EVENT_RANKS={"invoice_issued": 3}, ACTIONS={}))
    assert "other" not in compiler.CLAUSES


def test_the_engine_names_no_clause():
    names = [n for n in compiler.CLAUSES if n != "kickoff"]
    assert {"payment", "billing", "late_penalty", "termination", "scope", "service_levels"} <= set(names)
    for path in (PACKAGE / "engine").glob("*.py"):
        if path.name == "runtime.py":  # the re-export of contractrules.ledger
            continue
        text = path.read_text()
        assert "contractrules.compiler." not in text, path  # only the registry, contractrules.compiler
        for name in names:
            assert not re.search(rf"\b{name}\b", text), (path.name, name)


def _parts_graph() -> dict[str, set[str]]:
    """Which top-level parts of contractrules import which (module and function level)."""
    graph: dict[str, set[str]] = {}
    for f in PACKAGE.rglob("*.py"):
        rel = f.relative_to(PACKAGE).with_suffix("")
        here = rel.parts[0]
        for node in ast.walk(ast.parse(f.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module]
            for t in targets:
                bits = t.split(".")
                if bits[0] == "contractrules" and len(bits) > 1 and bits[1] != here:
                    graph.setdefault(here, set()).add(bits[1])
    return graph


def test_no_import_cycle_between_compiler_clauses_engine_and_ledger():
    graph = _parts_graph()

    def reaches(a: str, b: str, seen: frozenset = frozenset()) -> bool:
        return any(x == b or (x not in seen and reaches(x, b, seen | {x})) for x in graph.get(a, ()))

    layers = ["engine", "compiler", "ledger", "model"]
    for i, upper in enumerate(layers):
        for lower in layers[i + 1 :]:
            assert not reaches(lower, upper), f"{lower} reaches {upper}: arrows must point down"
    assert not graph.get("ledger", set()) & {"compiler", "engine", "store", "batch", "api", "cli"}
