"""Every golden scenario through a live contract, one event at a time (SPEC §9).

A billing system posts each event as it happens and asks as of that day; an answer as of
a later day (the scenario's check dates) delivers the clock ticks in between to the live
state. Every answer must equal a full replay (``Engine.evaluate``) of the events posted so
far, and every finish must leave the live state byte for byte as it found it
(``live.VERIFY_RESTORE``): the goldens cover every clause, which the random contracts of
``tests/properties/test_live_stateful.py`` do not (scope, service levels).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from unittest import mock

import pytest

import contractrules as cr
from contractrules import live as live_module
from contractrules.engine.engine import Engine
from contractrules.model import load_contract, load_events

SCENARIOS = Path(__file__).parent.parent / "scenarios"
NAMES = sorted(p.parent.name for p in SCENARIOS.glob("*/expected.json"))


@pytest.fixture(scope="module")
def engines():
    with Engine() as live_engine, Engine() as fresh:
        yield live_engine, fresh


@pytest.mark.parametrize("name", NAMES)
def test_live_answers_equal_full_replays_event_by_event(name: str, engines) -> None:
    live_engine, fresh = engines
    folder = SCENARIOS / name
    contract = load_contract(folder / "contract.yaml")
    records = sorted(load_events(folder / "events.jsonl", contract).records, key=fresh.order_key)
    checks = [date.fromisoformat(c["as_of"]) for c in json.loads((folder / "expected.json").read_text())["checks"]]
    with mock.patch.object(live_module, "VERIFY_RESTORE", True), cr.open_contract(contract, engine=live_engine) as live:
        for i, rec in enumerate(records):
            live.post([rec])
            day = rec.local_date
            if day >= contract.start:
                assert live.answer(day) == fresh.evaluate(contract, records[: i + 1], day), (name, rec.event.id)
        for day in sorted(checks):
            assert live.answer(day) == fresh.evaluate(contract, records, day), (name, day)
