"""Every golden scenario renders, at every date its expected answers check, in both
languages: the report shows every penalty's figures, and every invoice with something to
claim gets a letter. A wide net of contract shapes (statutory tables, caps, disputes,
waivers, terminations, scope-only contracts) for the documents."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest

from contractrules.api import evaluate
from contractrules.documents.i18n import Lang
from contractrules.documents.render import letter, report_html
from contractrules.errors import InputError
from contractrules.model import load_contract, load_events
from tests.conftest import ROOT

SCENARIOS = sorted(p.parent for p in (ROOT / "tests" / "scenarios").glob("*/expected.json"))
CASES = [
    (folder, c["as_of"])
    for folder in SCENARIOS
    for c in json.loads((folder / "expected.json").read_text(encoding="utf-8"))["checks"]
]


@pytest.mark.parametrize(("folder", "as_of"), CASES, ids=[f"{f.name}@{d}" for f, d in CASES])
def test_scenario_documents_render(folder, as_of):
    contract = load_contract(folder / "contract.yaml")
    answer = evaluate(contract, load_events(folder / "events.jsonl", contract), date.fromisoformat(as_of))
    for lang in ("es", "en"):
        L = Lang(lang)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", report_html(contract, answer, lang))).replace("\u00a0", " ")
        for p in answer.penalties:
            assert L.money(Decimal(p.total), contract.currency).replace("\u00a0", " ") in text, (p.invoice, lang)
        for ob in answer.obligations:
            if ob.kind != "payment":
                continue
            invoice = ob.id.split(":", 1)[1]
            try:
                md = letter(contract, answer, invoice, lang)
            except InputError:
                assert ob.status != "violated" or ob.balance == "0.00"  # nothing to claim
                continue
            assert invoice in md and ("BORRADOR" in md if lang == "es" else "DRAFT" in md)
