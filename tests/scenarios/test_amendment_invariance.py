"""An amendment that restates the terms it amends changes no figure (SPEC §6.7).

Every golden scenario, with one amendment per clause restating that clause's own values
from 45 days after the start: every obligation, violation and penalty keeps its amounts,
dates and statuses; only where findings cite their terms (``clause``, ``caused_by``,
``evidence``, ``explanation``, the clause named in a penalty's reasons) may differ. This pins the dated-terms plumbing of every
clause: a lookup on the wrong date or a lost parameter would change a figure.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from contractrules.engine.engine import Engine
from contractrules.model import load_contract, load_events, parse_contract
from contractrules.model.amendments import FIXED_BILLING

HERE = Path(__file__).parent
SCENARIOS = sorted(p.parent.name for p in HERE.glob("*/expected.json"))
CITING = {"clause", "caused_by", "evidence", "explanation"}


@pytest.fixture(scope="module")
def engine():
    with Engine() as e:
        yield e


def _restated(contract):
    data = contract.model_dump(mode="json", exclude_unset=True, by_alias=True)
    terms = {}
    for name, value in contract.terms:
        if value is None:
            continue
        dumped = (
            value.model_dump(mode="json")
            if hasattr(value, "model_dump")
            else [v.model_dump(mode="json") for v in value]
        )
        if name == "billing":
            dumped = {k: v for k, v in dumped.items() if k not in FIXED_BILLING}
        terms[name] = dumped
    taken = {(a.effective, p) for a in contract.amendments for p in a.terms}
    day = contract.start + timedelta(days=45)
    while any(d == day for d, _ in taken):
        day += timedelta(days=1)
    parties = contract.parties
    data["amendments"] = [
        *data.get("amendments", []),
        {
            "id": "restated",
            "effective": day.isoformat(),
            "agreed_by": [parties.provider.id, parties.client.id],
            "channel": "email",
            "terms": terms,
        },
    ]
    return parse_contract(data)


def _figures(answer) -> dict:
    doc = answer.to_dict()
    for kind in ("obligations", "violations"):
        doc[kind] = [{k: v for k, v in item.items() if k not in CITING} for item in doc[kind]]
    doc["rights"] = [{k: v for k, v in item.items() if k not in CITING} for item in doc["rights"]]
    for p in doc["penalties"]:  # reasons cite the clause (terms.… or amendments[restated].terms.…)
        p["reasons"] = [r.replace("amendments[restated].", "") for r in p["reasons"]]
    return doc


@pytest.mark.parametrize("name", SCENARIOS)
def test_restating_the_terms_changes_no_figure(name, engine):
    folder = HERE / name
    contract = load_contract(folder / "contract.yaml")
    events_file = next(folder / n for n in ("events.jsonl", "events.json") if (folder / n).exists())
    records = load_events(events_file, contract).records
    restated = _restated(contract)
    assert len(restated.amendments) == len(contract.amendments) + 1
    for check in json.loads((folder / "expected.json").read_text())["checks"]:
        as_of = date.fromisoformat(check["as_of"])
        assert _figures(engine.evaluate(restated, records, as_of)) == _figures(
            engine.evaluate(contract, records, as_of)
        )
