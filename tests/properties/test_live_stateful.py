"""Live contracts as a state machine (SPEC §9): always the answer of a full replay.

A random contract (the stream contract with random billing timing, notice, penalty
allocation, reminders, jurisdiction and an amendment) and a random event stream
(``tests.strategies.event_streams``). Steps post random batches of the stream — in any
order, so most batches hold backdated events — with repeats (duplicates), try to change
a posted event (refused, nothing applied), and ask ``answer`` and ``penalty`` as of
random dates, before the contract's start included. Every answer must equal
``contractrules.evaluate`` of every posted event on another engine; every
``PostResult`` must say exactly which ids were new, which were repeats, and whether the
state rewound. A restart saves the live contract's checkpoints
(``export_checkpoints``) and resumes a new one from them (``LiveContract.resume``, new
event objects, possibly with more events, backdated ones included): it must start from
the newest saved checkpoint taken from the same first events, and answer as before.
Checkpoints are made dense (every 2 events, at most 4 kept) so rewinds
start from checkpoints in the middle and the thinning runs.

Budget: 80 machines of up to 20 steps (~10 s on one core); derandomized under ``ci``.
"""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import contractrules as cr
from contractrules import live as live_module
from contractrules.compiler import billing, payment, penalty, scope
from contractrules.engine.engine import Engine
from tests.strategies import STREAM_START, as_of_dates, event_streams, stream_contract_data

LIVE_ENGINE = Engine()  # shared by every machine's live contracts
FRESH = Engine()  # the full replays


@st.composite
def contracts(draw) -> dict:
    data = stream_contract_data("live")
    terms = data["terms"]
    terms["billing"]["timing"] = draw(st.sampled_from(["advance", "arrears"]))
    terms["termination"] = draw(
        st.sampled_from(
            [
                {"notice_days": 30, "effective": "end_of_cycle"},
                {"notice_days": 10, "effective": "notice_end"},
                {"notice_months": 1},
            ]
        )
    )
    penalty = terms["late_penalty"]
    penalty["allocation"] = draw(st.sampled_from(["principal_first", "interest_first"]))
    if draw(st.booleans()):
        penalty["reminder_days"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        penalty["disputes_suspend"] = False
    if draw(st.booleans()):  # dated terms (SPEC §6.7): payment terms or the fee change mid-history
        terms_change = draw(st.sampled_from([{"payment": {"terms_days": 90}}, {"billing": {"fee": "650.00"}}]))
        data["amendments"] = [
            {
                "id": "a1",
                "effective": draw(as_of_dates).isoformat(),
                "agreed_by": ["studio", "acme"],
                "channel": "email",
                "terms": terms_change,
            }
        ]
    if draw(st.booleans()):
        data["jurisdiction"] = "ES"
        if draw(st.booleans()):
            del terms["late_penalty"]  # the statutory regime
    return data


def outcome(call, *args, **kwargs) -> object:
    """The answer, or the message of the bad-input error (an invoice not issued by then)."""
    try:
        return call(*args, **kwargs)
    except cr.InputError as exc:
        return str(exc)


class LiveMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.patch = mock.patch.multiple(live_module, MIN_GAP=2, DENSITY=4, MAX_CHECKPOINTS=4, VERIFY_RESTORE=True)
        self.patch.start()
        # small blocks of invoices and cycles: a live answer reuses some and not others
        self.blocks = [mock.patch.object(module, "BLOCK", 2) for module in (billing, payment, penalty, scope)]
        for patcher in self.blocks:
            patcher.start()
        self.posted: dict[str, dict] = {}

    def teardown(self) -> None:
        for patcher in self.blocks:
            patcher.stop()
        self.patch.stop()
        self.live.close()

    @initialize(data=contracts(), stream=event_streams())
    def open(self, data: dict, stream: list[dict]) -> None:
        self.contract = cr.parse_contract(data)
        self.stream = stream
        self.live = cr.open_contract(self.contract, engine=LIVE_ENGINE)

    def _key(self, event: dict):
        return LIVE_ENGINE.order_key(cr.parse_events([(None, event)], self.contract).records[0])

    @precondition(lambda self: len(self.posted) < len(self.stream))
    @rule(data=st.data())
    def post_batch(self, data: st.DataObject) -> None:
        left = [e for e in self.stream if e["id"] not in self.posted]
        new = data.draw(st.lists(st.sampled_from(left), min_size=1, max_size=4, unique_by=lambda e: e["id"]))
        again = (
            data.draw(st.lists(st.sampled_from(list(self.posted.values())), max_size=2, unique_by=lambda e: e["id"]))
            if self.posted
            else []
        )
        batch = data.draw(st.permutations(new + again))
        latest = max((self._key(e) for e in self.posted.values()), default=None)
        result = self.live.post(batch)
        assert list(result.accepted) == [e["id"] for e in batch if e["id"] not in self.posted]
        assert sorted(result.duplicates) == sorted(e["id"] for e in again)
        backdated = latest is not None and min(self._key(e) for e in new) < latest
        assert (result.replayed_from is not None) == backdated
        self.posted.update((e["id"], e) for e in new)

    @precondition(lambda self: bool(self.posted))
    @rule(data=st.data())
    def change_a_posted_event(self, data: st.DataObject) -> None:
        old = data.draw(st.sampled_from(list(self.posted.values())))
        changed = {**old, "at": (date.fromisoformat(old["at"][:10]) + timedelta(days=1)).isoformat()}
        left = [e for e in self.stream if e["id"] not in self.posted][:1]
        with pytest.raises(cr.EventError, match="already posted with different content"):
            self.live.post([*left, changed])  # nothing of this post is applied, not even ``left``

    @rule(as_of=as_of_dates | st.sampled_from([STREAM_START - timedelta(days=3), STREAM_START]))
    def answer(self, as_of: date) -> None:
        expected = cr.evaluate(self.contract, list(self.posted.values()), as_of, engine=FRESH)
        assert self.live.answer(as_of) == expected

    @precondition(lambda self: any(e["type"] == "invoice_issued" for e in self.posted.values()))
    @rule(data=st.data(), as_of=as_of_dates)
    def penalty(self, data: st.DataObject, as_of: date) -> None:
        invoices = sorted({e["invoice"] for e in self.posted.values() if e["type"] == "invoice_issued"})
        invoice = data.draw(st.sampled_from(invoices))
        assert outcome(self.live.penalty, invoice, as_of) == outcome(
            cr.penalty, self.contract, list(self.posted.values()), invoice, as_of, engine=FRESH
        )

    @rule(data=st.data())
    def restart(self, data: st.DataObject) -> None:
        saved = self.live.export_checkpoints()
        before = [r.event.id for r in self.live.events]
        left = [e for e in self.stream if e["id"] not in self.posted]
        new = data.draw(st.lists(st.sampled_from(left), max_size=3, unique_by=lambda e: e["id"])) if left else []
        self.live.close()
        self.posted.update((e["id"], e) for e in new)
        events = list(self.posted.values())
        self.live = cr.LiveContract.resume(self.contract, events, saved, engine=LIVE_ENGINE)
        after = [e["id"] for e in sorted(events, key=self._key)]
        same = [s.position for s in saved if after[: s.position] == before[: s.position]]
        assert self.live.resumed_from == max(same, default=0)
        assert self.live.position == len(events)

    @invariant()
    def every_posted_event_is_known(self) -> None:
        if hasattr(self, "live"):
            assert sorted(r.event.id for r in self.live.events) == sorted(self.posted)


LiveMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=20, deadline=None)
TestLive = LiveMachine.TestCase
