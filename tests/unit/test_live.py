"""Live contracts (SPEC §9): posting rules, rewinds, sessions, and the CLI's lazy imports.

The equality with a full replay under random posting is the state machine's job
(tests/properties/test_live_stateful.py); these pin the rules one by one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

import contractrules as cr
from contractrules import live as live_module
from tests.engine.conftest import invoice, payment
from tests.strategies import stream_contract_data

SCENARIOS = Path(__file__).parents[1] / "scenarios"


def _events(folder: Path) -> list[dict]:
    """A golden scenario's events, as dicts."""
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture
def contract():
    return cr.parse_contract(stream_contract_data("live-unit"))


def test_post_reports_new_ids_and_duplicates_and_equals_a_replay(contract):
    live = cr.open_contract(contract)
    first = live.post([invoice("e1", "INV-1", "2025-01-05", period="2025-01-01")])
    assert first == cr.PostResult(accepted=("e1",), duplicates=(), replayed_from=None)
    again = live.post(
        [payment("e2", "2025-03-01", "100.00"), invoice("e1", "INV-1", "2025-01-05", period="2025-01-01")]
    )
    assert (again.accepted, again.duplicates, again.replayed_from) == (("e2",), ("e1",), None)
    events = [invoice("e1", "INV-1", "2025-01-05", period="2025-01-01"), payment("e2", "2025-03-01", "100.00")]
    for day in ("2025-01-04", "2025-02-10", "2025-06-30"):
        assert live.answer(day) == cr.evaluate(contract, events, day)


def test_a_backdated_event_rewinds_to_the_checkpoint_before_it(contract, monkeypatch):
    monkeypatch.setattr(live_module, "MIN_GAP", 2)
    live = cr.open_contract(contract)
    events = [invoice(f"i{k}", f"INV-{k}", f"2025-{k:02d}-03", period=f"2025-{k:02d}-01") for k in range(1, 7)]
    live.post(events)
    assert live.checkpoints == 4  # the start, after 2, 4 and 6 events
    late = payment("p1", "2025-04-10", "600.00")
    result = live.post([late])
    # checkpoints after INV-2 (2025-02-03) and INV-4 (2025-04-03) come before it: the latest
    assert result.replayed_from == date(2025, 4, 3)
    assert live.answer("2025-08-01") == cr.evaluate(contract, [*events, late], "2025-08-01")
    # an earlier as_of is answered from a checkpoint, and still equals the replay
    assert live.answer("2025-03-15") == cr.evaluate(contract, [*events, late], "2025-03-15")


def test_changed_content_under_a_known_id_is_bad_input_and_nothing_is_applied(contract):
    live = cr.open_contract(contract)
    live.post([invoice("e1", "INV-1", "2025-01-05")])
    with pytest.raises(cr.EventError, match="'e1' was already posted with different content"):
        live.post([payment("e2", "2025-02-01", "50.00"), invoice("e1", "INV-1", "2025-01-05", amount="700.00")])
    assert [r.event.id for r in live.events] == ["e1"]
    with pytest.raises(cr.EventError, match="invoice 'INV-1' is already issued by event 'e1'"):
        live.post([invoice("e3", "INV-1", "2025-01-09")])
    assert live.answer("2025-02-01") == cr.evaluate(contract, [invoice("e1", "INV-1", "2025-01-05")], "2025-02-01")


def test_penalty_and_paths_and_close(contract, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in [invoice("e1", "INV-1", "2025-01-05")]) + "\n")
    with cr.open_contract(stream_contract_data("live-unit")) as live:
        assert live.post(path).accepted == ("e1",)
        assert live.penalty("INV-1", "2025-04-01") == cr.penalty(contract, path, "INV-1", "2025-04-01")
    with pytest.raises(cr.EngineError, match="is closed"):
        live.answer("2025-04-01")


def test_five_thousand_live_contracts_in_one_process(contract):
    # at most 1,024 sids per ruleset: a live contract holds none between calls
    lives = [cr.open_contract(contract) for _ in range(5_000)]
    for k, live in enumerate(lives):
        live.post([invoice("e1", "INV-1", "2025-01-05", amount=f"{k + 1}.00")])
    owed = [
        next(o.amount for o in lv.answer("2025-03-01").obligations if o.id == "payment:INV-1") for lv in lives[::1_250]
    ]
    assert owed == ["1.00", "1251.00", "2501.00", "3751.00"]


def test_store_default_url_is_the_cli_default():
    from contractrules.cli import STORE_DEFAULT_URL
    from contractrules.store.url import DEFAULT_URL

    assert STORE_DEFAULT_URL == DEFAULT_URL


def test_penalty_command_imports_no_batch_store_rich_progress_dask_or_pyarrow(tmp_path):
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(stream_contract_data("lazy")))
    (tmp_path / "e.jsonl").write_text(json.dumps(invoice("e1", "INV-1", "2025-01-05")) + "\n")
    code = (
        "import sys\n"
        "from contractrules.cli import main\n"
        f"args = ['penalty', {str(tmp_path / 'c.yaml')!r}, {str(tmp_path / 'e.jsonl')!r}, '--invoice', 'INV-1',"
        " '--as-of', '2025-04-01', '--format', 'json']\n"
        "try:\n    main(args)\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "heavy = ('contractrules.batch', 'contractrules.store', 'rich.progress', 'dask', 'pyarrow', 'holidays')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    answer, loaded = out.strip().rsplit("\n", 1)
    assert json.loads(answer)["invoice"] == "INV-1"
    assert loaded == "[]"


def test_the_garbage_collector_is_left_as_found(contract):
    import gc

    live = cr.open_contract(contract)
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            live.post([invoice(f"e{enabled}", f"INV-{enabled}", "2025-01-05")])
            live.answer("2025-03-01")
            assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_a_post_failing_inside_the_engine_changes_nothing(contract, monkeypatch):
    monkeypatch.setattr(live_module, "MIN_GAP", 2)
    engine = cr.Engine()
    live = cr.open_contract(contract, engine=engine)
    old = [invoice(f"i{k}", f"INV-{k}", f"2025-{k:02d}-03", period=f"2025-{k:02d}-01") for k in range(1, 6)]
    live.post(old)
    real = engine.advance

    def failing(run, events, until):
        real(run, events, until)  # the state is changed, then a clause fails
        if any(r.event.id == "boom" for r in events):
            raise cr.EngineError("a clause failed")

    monkeypatch.setattr(engine, "advance", failing)
    for at in ("2025-06-10", "2025-02-10"):  # after every event, and backdated
        with pytest.raises(cr.EngineError, match="a clause failed"):
            live.post([payment("p1", "2025-04-20", "600.00"), payment("boom", at, "10.00")])
        assert [r.event.id for r in live.events] == [e["id"] for e in old]
        assert live.answer("2025-08-01") == cr.evaluate(contract, old, "2025-08-01")
    monkeypatch.setattr(engine, "advance", real)
    assert live.post([payment("p1", "2025-04-20", "600.00")]).accepted == ("p1",)
    later = [*old, payment("p1", "2025-04-20", "600.00")]
    assert live.answer("2025-08-01") == cr.evaluate(contract, later, "2025-08-01")


def test_an_answer_delivers_the_deadlines_then_undoes_them_so_a_later_event_needs_no_rewind(contract, monkeypatch):
    """Decision 105: an answer as of a day after the last event delivers the clock ticks due
    by then (a deadline: a late_payment violation), then undoes them with its finish: the
    live state holds the clock up to its last event only, byte for byte as before. An
    event posted afterwards, dated between the last event and that day, needs no rewind;
    every answer stays a replay's."""
    monkeypatch.setattr(live_module, "VERIFY_RESTORE", True)  # the undo checked byte for byte
    live = cr.open_contract(contract)
    issued = invoice("e1", "INV-1", "2025-01-05", period="2025-01-01")
    live.post([issued])
    state, frozen = live._run, live._frozen(live._run)
    late = live.answer("2025-03-20")  # INV-1 fell due in between
    assert late == cr.evaluate(contract, [issued], "2025-03-20")
    assert any(v.kind == "late_payment" for v in late.violations)
    assert live._frozen(live._run) == frozen  # the ticks are undone
    delivered: list[int] = []
    advance = live._engine.advance
    monkeypatch.setattr(
        live._engine, "advance", lambda run, evs, until: (delivered.append(len(evs)), advance(run, evs, until))[1]
    )
    paid = payment("p1", "2025-02-01", "600.00", inv="INV-1")  # before the deadline ticks
    assert live.post([paid]).replayed_from is None
    assert live._run is state and delivered == [1]  # no rewind: only the new event delivered
    monkeypatch.undo()
    for day in ("2025-02-01", "2025-03-20", "2025-06-30", "2025-03-01"):
        assert live.answer(day) == cr.evaluate(contract, [issued, paid], day)
    early = payment("p0", "2025-01-20", "50.00")  # before p1: backdated, rewinds
    assert live.post([early]).replayed_from is not None
    assert live.answer("2025-06-30") == cr.evaluate(contract, [issued, early, paid], "2025-06-30")


def test_an_action_failing_while_an_answer_delivers_ticks_leaves_the_state_whole(contract, monkeypatch):
    """An error raised by a clock tick's action during an answer: the answer fails, the live
    state is what it was (rebuilt from its checkpoint), and the next answers are right."""
    live = cr.open_contract(contract)
    issued = invoice("e1", "INV-1", "2025-01-05", period="2025-01-01")
    live.post([issued])
    state = live._run

    def broken(run, tick):
        raise RuntimeError("boom")

    monkeypatch.setitem(live._engine._actions, "payment.due", broken)
    with pytest.raises(cr.EngineError, match="boom"):
        live.answer("2025-03-20")
    monkeypatch.undo()
    assert live._run is not state and live.position == 1  # rebuilt: its one event delivered again
    paid = payment("p1", "2025-02-01", "600.00", inv="INV-1")
    assert live.post([paid]).replayed_from is None
    for day in ("2025-03-20", "2025-02-01"):
        assert live.answer(day) == cr.evaluate(contract, [issued, paid], day)


def test_a_live_answer_leaves_the_state_as_it_found_it(contract, monkeypatch):
    """The finish of a live answer writes into the live state and puts it back
    (engine/journal.py); checked byte for byte on every answer under VERIFY_RESTORE."""
    monkeypatch.setattr(live_module, "VERIFY_RESTORE", True)
    live = cr.open_contract(contract)
    events = [invoice(f"i{k}", f"INV-{k}", f"2025-{k:02d}-03", period=f"2025-{k:02d}-01") for k in range(1, 5)]
    events.append(payment("p1", "2025-03-20", "700.00"))
    for k, event in enumerate(events):
        live.post([event])
        day = event["at"][:10]
        assert live.answer(day) == cr.evaluate(contract, events[: k + 1], day)
    assert live.answer("2025-09-30") == cr.evaluate(contract, events, "2025-09-30")


def test_a_large_post_in_any_order_merges_into_event_order(contract):
    """More than a few events in one post are merged in one pass (not inserted one by one):
    two shuffled batches that interleave in time answer like a replay."""
    import random

    events = [invoice(f"i{k}", f"INV-{k}", f"2025-{k:02d}-03", period=f"2025-{k:02d}-01") for k in range(1, 13)]
    events += [payment(f"p{k}", f"2025-{k:02d}-{20 + k % 5}", "600.00", inv=f"INV-{k}") for k in range(1, 13, 2)]
    events += [payment(f"q{k}", f"2025-{k:02d}-28", "100.00") for k in range(2, 13, 2)]
    shuffled = random.Random(7).sample(events, len(events))
    live = cr.open_contract(contract)
    first, second = shuffled[:20], shuffled[20:]
    assert live.post(first).accepted == tuple(e["id"] for e in first)
    assert live.post(second).replayed_from is not None  # interleaves with the first: rewinds
    assert [r.event.id for r in live.events] == [
        r.event.id
        for r in sorted(cr.parse_events([(None, e) for e in events], contract).records, key=live._engine.order_key)
    ]
    for day in ("2025-06-30", "2026-01-31"):
        assert live.answer(day) == cr.evaluate(contract, events, day)


def test_one_large_delivery_takes_only_its_last_checkpoints(contract, monkeypatch):
    """A whole history posted at once freezes the state at most PER_DELIVERY times (its
    last checkpoints), not at every step of the spacing; a backdated event still rewinds
    to the latest checkpoint before it and answers like a replay."""
    monkeypatch.setattr(live_module, "MIN_GAP", 2)
    events = [invoice(f"i{k}", f"INV-{k}", f"2025-{1 + k // 28:02d}-{1 + k % 28:02d}") for k in range(40)]
    live = cr.open_contract(contract)
    live.post(events)
    assert live.checkpoints == 1 + live_module.PER_DELIVERY  # the start and the last four
    positions = [cp.position for cp in live._checkpoints]
    assert positions[0] == 0 and positions[1] > 20 and positions[-1] > 30  # the spacing, from the end
    late = payment("p1", "2025-01-10", "600.00")  # before every kept checkpoint but the start
    assert live.post([late]).replayed_from == contract.start
    assert live.answer("2025-03-31") == cr.evaluate(contract, [*events, late], "2025-03-31")


def test_a_reused_penalty_still_warns_about_days_beyond_the_rate_table(monkeypatch):
    """A late invoice's penalty reused from an earlier answer (its unit, or its whole block)
    still reports the statutory days beyond the rate table it used: the warning of a full
    replay is there after an unrelated invoice and a credit note on it."""
    monkeypatch.setattr(live_module, "VERIFY_RESTORE", True)
    folder = SCENARIOS / "statutory_es_half_year_boundary"
    path = str(folder / "contract.yaml")
    events = _events(folder)
    live = cr.open_contract(path)
    live.post(events)
    day = "2031-06-30"  # after the table's last half-year
    first = live.answer(day)
    assert any("ends 2026-06-30" in w for w in first.warnings)
    by = events[0]["by"]
    for extra in (
        {"id": "z1", "type": "invoice_issued", "invoice": "INV-Z", "amount": "10.00", "at": "2031-06-01", "by": by},
        {"id": "z2", "type": "credit_note", "invoice": "INV-Z", "amount": "1.00", "at": "2031-06-02", "by": by},
    ):
        events.append(extra)
        live.post([extra])
        assert live.answer(day) == cr.evaluate(path, events, day)


def test_a_termination_right_granted_later_moves_the_end_for_every_reused_finish(monkeypatch, tmp_path):
    """A clause's whole finish is reused only when the clauses it reads were given the same
    messages (FINISH_READS). A service level's termination right lets the client end on
    short notice: the request that earns it, posted after the notice (backdated), changes
    the contract's end — billing's and scope's finishes, which read the end, must not be
    reused; the payment finish reads the penalty's held events (a waiver naming an
    invoice not issued yet), and must not be reused either."""
    monkeypatch.setattr(live_module, "VERIFY_RESTORE", True)
    folder = SCENARIOS / "service_levels_fee_credit_note_and_termination_right"
    document = yaml.safe_load((folder / "contract.yaml").read_text())
    # and a service every cycle, whose due dates the end moves too (scope's finish)
    document["terms"]["scope"]["services"].append({"id": "backup", "every": "cycle", "assets": ["acme.example"]})
    path = str(tmp_path / "contract.yaml")
    Path(path).write_text(yaml.safe_dump(document))
    events = _events(folder)
    later = {"r1", "w1", "c1"}
    for day, effective in (("2025-05-20", "2025-03-31"), ("2025-03-27", "2025-03-27")):
        # the second: the end inside March's cycle, asked before April's begins — the same
        # clock ticks with the right or without it, only the end (and March's bill) moves
        for e in events:
            if e["id"] == "n1":
                e["effective"] = effective
        live = cr.open_contract(path)
        live.post([e for e in events if e["id"] not in later])
        posted = [e for e in events if e["id"] not in later]
        before = live.answer(day)
        assert before == cr.evaluate(path, posted, day)
        for event in [e for e in events if e["id"] in later]:
            posted.append(event)
            live.post([event])
            assert live.answer(day) == cr.evaluate(path, posted, day), (day, event["id"])
        assert live.answer(day) != before  # the right moved the end: the answer changed


def test_a_penalty_event_held_for_an_invoice_not_issued_reaches_the_payment_finish(monkeypatch):
    """The ledger's finish warns about every event held for an invoice not issued yet —
    a penalty waiver too, which the penalty's action holds (FINISH_READS: payment reads
    late_penalty): posted after an answer, the next answer warns of it as a replay does."""
    monkeypatch.setattr(live_module, "VERIFY_RESTORE", True)
    folder = SCENARIOS / "late_penalty_grace_extension_and_waiver"
    path = str(folder / "contract.yaml")
    events = _events(folder)
    live = cr.open_contract(path)
    live.post(events)
    day = "2025-12-01"
    assert live.answer(day) == cr.evaluate(path, events, day)
    held = {
        "id": "wv9",
        "type": "waiver",
        "at": "2025-11-02",
        "by": "studio",
        "clause": "late_penalty",
        "invoice": "INV-99",
    }
    live.post([held])
    answer = live.answer(day)
    assert answer == cr.evaluate(path, [*events, held], day)
    assert any("wv9" in w and "INV-99" in w for w in answer.warnings)
