"""Golden scenarios: ``tests/scenarios/<name>/{contract.yaml, events.jsonl, expected.json}``.

``expected.json`` holds hand-computed answers at one or more dates::

    {"about": "what the scenario shows and how the figures were computed",
     "checks": [{"as_of": "2025-10-01",
                 "state": {"state": "terminated", "effective_end": "2025-07-30"},
                 "obligations": {"payment:INV-07": {"status": "violated", "due": "2025-08-29"}},
                 "obligations_exact": true,
                 "violations": {"late_payment:INV-07": {"on": "2025-08-30"}},
                 "violations_exact": true,
                 "penalties": {"INV-07": {"interest": "5.42", "enforceable_from": "2025-10-01"}},
                 "unapplied_credit": {"amount": "0.00", "caused_by": []},
                 "rights": [{"id": "termination_right:r1", "party": "acme", "from": "2025-03-16", ...}],
                 "warnings": 0}]}

Each listed object is compared field by field (only the fields given); ``*_exact`` also
requires that no other obligation/violation/penalty exists; ``warnings`` is a count or a
list of substrings that must each appear in some warning; ``rights`` (SPEC §6.8), when
given, is compared whole.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from contractrules.engine.engine import Engine
from contractrules.model import load_contract, load_events
from contractrules.model.answers import Answer

HERE = Path(__file__).parent
SCENARIOS = sorted(p.parent.name for p in HERE.glob("*/expected.json"))


@pytest.fixture(scope="module")
def engine():
    with Engine() as e:
        yield e


def _events_file(folder: Path) -> Path:
    for name in ("events.jsonl", "events.json"):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(folder / "events.jsonl")


def _compare(kind: str, got: dict[str, dict], want: dict[str, dict], exact: bool) -> list[str]:
    problems = []
    for key, fields in want.items():
        if key not in got:
            problems.append(f"{kind} {key}: missing (have {sorted(got)})")
            continue
        for field, value in fields.items():
            if got[key].get(field) != value:
                problems.append(f"{kind} {key}.{field}: expected {value!r}, got {got[key].get(field)!r}")
    if exact:
        extra = sorted(set(got) - set(want))
        if extra:
            problems.append(f"{kind}: unexpected {extra}")
    return problems


def test_there_are_enough_scenarios():
    assert len(SCENARIOS) >= 15, SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name: str, engine: Engine):
    folder = HERE / name
    contract = load_contract(folder / "contract.yaml")
    records = load_events(_events_file(folder), contract).records
    expected = json.loads((folder / "expected.json").read_text())
    assert expected["checks"], "a scenario needs at least one check"
    problems: list[str] = []
    for check in expected["checks"]:
        typed = engine.evaluate(contract, records, date.fromisoformat(check["as_of"]))
        answer = typed.to_dict()
        assert Answer.model_validate(answer) == typed, "the answer must validate against its own model"
        where = f"as of {check['as_of']}: "
        for field, value in check.get("state", {}).items():
            if answer["state"].get(field) != value:
                problems.append(f"{where}state.{field}: expected {value!r}, got {answer['state'].get(field)!r}")
        for kind, key in (("obligations", "id"), ("violations", "id"), ("penalties", "invoice")):
            if kind in check:
                got = {item[key]: item for item in answer[kind]}
                problems += [where + p for p in _compare(kind, got, check[kind], check.get(f"{kind}_exact", False))]
        for field, value in check.get("unapplied_credit", {}).items():
            if answer["unapplied_credit"].get(field) != value:
                problems.append(
                    f"{where}unapplied_credit.{field}: expected {value!r}, "
                    f"got {answer['unapplied_credit'].get(field)!r}"
                )
        if "rights" in check and answer["rights"] != check["rights"]:
            problems.append(f"{where}rights: expected {check['rights']!r}, got {answer['rights']!r}")
        warnings = check.get("warnings")
        if isinstance(warnings, int) and len(answer["warnings"]) != warnings:
            problems.append(f"{where}warnings: expected {warnings}, got {answer['warnings']}")
        if isinstance(warnings, list):
            for text in warnings:
                if not any(text in w for w in answer["warnings"]):
                    problems.append(f"{where}warnings: none mentions {text!r} in {answer['warnings']}")
        for item in answer["obligations"] + answer["violations"]:
            if not item["explanation"] or item["clause"] not in item["explanation"]:
                problems.append(f"{where}{item['id']}: explanation must name its clause: {item['explanation']!r}")
    assert not problems, "\n".join(problems)
