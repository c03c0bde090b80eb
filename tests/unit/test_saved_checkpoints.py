"""Saved checkpoints (engine/checkpoint.py, LiveContract.export_checkpoints/resume): a
checkpoint is used only for the same events, contract, format and key, and its pickle may
name nothing but the ledger's, the models' and the clauses' classes."""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
import struct
import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import yaml

import contractrules as cr
from contractrules import live as live_module
from contractrules.engine import checkpoint
from contractrules.live import LiveContract

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "late_penalty_answers_over_time"
AS_OF = date(2025, 10, 1)


def _invoice(n: int) -> dict:
    return {
        "id": f"inv-{n:02d}",
        "type": "invoice_issued",
        "at": f"2024-{n:02d}-28",
        "by": "studio",
        "invoice": f"INV-{n:02d}",
        "amount": "600.00",
    }


def _payment(n: int, day: str = "") -> dict:
    return {
        "id": f"pay-{n:02d}",
        "type": "payment_received",
        "at": day or f"2024-{n + 1:02d}-20" if n < 12 else "2025-01-20",
        "by": "acme",
        "invoice": f"INV-{n:02d}",
        "amount": "600.00",
    }


@pytest.fixture(autouse=True)
def dense_checkpoints(monkeypatch):
    """A checkpoint every few events, so that the export holds an older one as well."""
    monkeypatch.setattr(live_module, "MIN_GAP", 4)


@pytest.fixture
def contract():
    """The golden late-penalty contract, started at the beginning of 2024."""
    doc = yaml.safe_load((SCENARIO / "contract.yaml").read_text())
    return cr.parse_contract({**doc, "start": "2024-01-01"})


@pytest.fixture
def events() -> list[dict]:
    """A year of invoices, the first nine paid; the last two are the last in event order too."""
    return [_invoice(n) for n in range(1, 11)] + [_payment(n) for n in range(1, 10)] + [_invoice(11), _invoice(12)]


def _saved(contract, events, **kw) -> list[checkpoint.SavedCheckpoint]:
    with cr.open_contract(contract) as live:
        live.post(events)
        return live.export_checkpoints(**kw)


def test_a_resumed_contract_starts_from_the_saved_state_and_answers_as_a_replay(contract, events):
    saved = _saved(contract, events[:-2])
    assert [s.position for s in saved][0] == len(events) - 2
    assert 0 < saved[1].position < saved[0].position
    assert all(s.format == f"{checkpoint.FORMAT}/{cr.__version__}" for s in saved)
    live = LiveContract.resume(contract, events, saved)
    assert live.resumed_from == len(events) - 2  # the last two invoices come after it
    assert live.answer(AS_OF) == cr.evaluate(contract, events, AS_OF)
    assert live.position == len(events)


@pytest.mark.parametrize(
    "change",
    [
        "backdated",  # an event before the saved position: another prefix
        "content",  # the same ids, one with another amount
        "contract",  # another contract
        "format",  # another format version
        "seal",  # a damaged blob
        "key",  # sealed with another key
    ],
)
def test_a_saved_checkpoint_is_used_only_for_exactly_what_it_was_taken_from(contract, events, change):
    saved = _saved(contract, events, key=b"k1")
    newest = saved[0]
    key = b"k1"
    if change == "backdated":
        events = [*events, _payment(10, "2024-03-01")]  # before most events
    elif change == "content":
        events = [{**events[0], "amount": "500.00"}, *events[1:]]  # the first event: every prefix differs
    elif change == "contract":
        contract = contract.model_copy(update={"title": "Another title"})
    elif change == "format":
        saved = [replace(s, format="0/0.0.0") for s in saved]
    elif change == "seal":
        data = bytearray(newest.data)
        data[len(data) // 2] ^= 1
        saved = [replace(newest, data=bytes(data))]
    else:
        key = b"k2"
    live = LiveContract.resume(contract, events, saved, key=key)
    assert live.resumed_from == 0  # every saved checkpoint refused: a full replay
    assert live.position == len(events)
    assert live.answer(AS_OF) == cr.evaluate(contract, events, AS_OF)


def test_the_same_events_and_key_resume_and_each_check_is_needed(contract, events):
    """The control for the test above: unchanged, the newest checkpoint is used."""
    saved = _saved(contract, events, key=b"k1")
    assert LiveContract.resume(contract, events, saved, key=b"k1").resumed_from == len(events)
    assert LiveContract.resume(contract, events, saved, key=b"").resumed_from == 0
    assert LiveContract.resume(contract, events, saved[1:], key=b"k1").resumed_from == saved[1].position


def _sealed(payload: bytes, position: int, digest: str, contract_digest: str) -> checkpoint.SavedCheckpoint:
    """A blob made by hand, sealed with the public key (what anyone who can write the table can do)."""
    head = json.dumps(
        {
            "contract": contract_digest,
            "digest": digest,
            "format": checkpoint.format_tag(),
            "position": position,
        },
        sort_keys=True,
    ).encode()
    body = b"CRCK" + struct.pack(">I", len(head)) + head + zlib.compress(payload)
    seal = hmac.new(checkpoint.PUBLIC_KEY, body, hashlib.sha256).digest()
    return checkpoint.SavedCheckpoint(position, digest, checkpoint.format_tag(), body + seal)


CALLED: list[tuple] = []


def _pwned(*args: object) -> None:
    """What a forged checkpoint would run (a harmless stand-in for ``os.system``)."""
    CALLED.append(args)


class _Exploit:
    def __reduce__(self):
        return (_pwned, ("rm -rf /",))


def test_a_forged_pickle_naming_anything_else_is_refused(contract, events):
    live = cr.open_contract(contract)
    live.post(events)
    n = len(events)
    digest = checkpoint.event_digests(live._records, [n])[n]
    forged = _sealed(pickle.dumps(_Exploit()), n, digest, checkpoint.contract_digest(contract))
    header = checkpoint.Header(n, digest, checkpoint.contract_digest(contract))
    assert checkpoint.restore(forged, live._shared, live._by_id, header) is None
    resumed = LiveContract.resume(contract, events, [forged])
    assert (resumed.resumed_from, CALLED) == (0, [])
    # a name imported into an allowed module (``os`` through a clause module) is refused too
    for module, name in (("contractrules.compiler.payment", "os"), ("contractrules.ledger", "re.compile")):
        blob = b"\x80\x04\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(name)]) + name.encode()
        forged = _sealed(blob + b"\x93.", n, digest, checkpoint.contract_digest(contract))
        assert LiveContract.resume(contract, events, [forged]).resumed_from == 0
    # the same hand-made blob with the real state is accepted: the refusals above are the names'
    real = live.export_checkpoints()[0]
    assert LiveContract.resume(contract, events, [real]).resumed_from == n


def test_exporting_leaves_the_live_state_as_it_was(contract, events):
    live = cr.open_contract(contract)
    live.post(events[:-1])
    before = live.answer(AS_OF)
    live.export_checkpoints()
    assert live.answer(AS_OF) == before
    live.post(events[-1:])
    assert live.answer(AS_OF) == cr.evaluate(contract, events, AS_OF)
    live.close()
    with pytest.raises(cr.EngineError, match="closed"):
        live.export_checkpoints()


def test_clock_ticks_an_answer_delivered_are_not_saved(contract, events):
    """An answer as of a day after the last event delivers the clock up to it into the live
    state for good (Decision 105). Saved states hold the clock up to their last event only
    (the live point's is rebuilt), so an event dated between the two still follows them."""
    live = cr.open_contract(contract)
    live.post(events)
    live.answer(date(2025, 6, 1))
    saved = live.export_checkpoints()
    assert saved[0].position == len(events)
    for day in ("2025-02-01", "2025-06-01", "2025-06-05", None):  # 2025-02-01: before the ticks delivered
        more = [*events, _payment(10, day)] if day else events
        resumed = LiveContract.resume(contract, more, saved)
        assert resumed.resumed_from == len(events), day
        # 2025-01-15: after the last event (2024-12-28), before INV-12 is due (2025-01-27)
        for as_of in (date(2025, 1, 15), date(2025, 2, 15), date(2025, 6, 1), AS_OF):
            assert resumed.answer(as_of) == cr.evaluate(contract, more, as_of), (day, as_of)
    assert live.answer(date(2025, 6, 1)) == cr.evaluate(contract, events, date(2025, 6, 1))  # the live state as it was


SCENARIOS = sorted(p.parent for p in SCENARIO.parent.glob("*/expected.json"))


@pytest.mark.parametrize("folder", SCENARIOS, ids=lambda p: p.name)
def test_every_golden_scenario_state_can_be_saved_and_resumed(folder):
    """Every clause's working state unpickles under the restricted unpickler: a clause that
    keeps something else in it (a partial, a lambda's module) makes every restart a silent
    replay — extend ``checkpoint._OTHERS`` / ``_PACKAGES`` then, knowingly."""
    import json

    contract = cr.load_contract(folder / "contract.yaml")
    events = next(folder / n for n in ("events.jsonl", "events.json") if (folder / n).exists())
    records = cr.load_events(events, contract).records
    day = max(date.fromisoformat(c["as_of"]) for c in json.loads((folder / "expected.json").read_text())["checks"])
    live = cr.open_contract(contract)
    live.post(records)
    live.answer(day)
    saved = live.export_checkpoints()
    resumed = LiveContract.resume(contract, records, saved)
    assert resumed.resumed_from == live.position == len(records)
    assert resumed.answer(day) == cr.evaluate(contract, records, day)
