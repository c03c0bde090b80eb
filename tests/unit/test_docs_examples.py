"""Every example in docs/*.md and rulesets/examples/ is real: it loads, or is refused.

Fenced blocks in the docs are found by their info string (see docs/README.md):

- ``yaml contract``: a whole contract, must pass ``parse_contract``;
- ``yaml terms``: a ``terms:`` section, must pass under a minimal header;
- ``yaml invalid-contract``: must raise ContractError naming the field of its
  ``# error: <field>`` comment;
- ``json event``: one event; all of a page, in order, form one story validated by
  ``parse_events`` against the ``acme-web`` contract below;
- ``jsonl events`` / ``json events``: a whole events file, validated on its own;
- ``json invalid-event``: refused when appended to the page's story;
- ``pycon``: run as doctests, the blocks of a page sharing one namespace.

An unknown info string fails the suite, so a misspelt marker cannot silently turn an
example into an untested one.
"""

from __future__ import annotations

import doctest
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml

from contractrules import dates
from contractrules.errors import ContractError, EventError
from contractrules.model import load_contract, load_events, parse_contract, parse_events

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "rulesets" / "examples"

CHECKED = {
    "yaml contract",
    "yaml terms",
    "yaml invalid-contract",
    "json event",
    "jsonl events",
    "json events",
    "json invalid-event",
    "pycon",
}
#: Fragments and shell sessions: shown, not checked.
UNCHECKED = {"", "yaml", "json", "jsonl", "sh", "text"}
#: checked by tests/unit/test_docs_answers.py (api.md python blocks, cli.md / story console blocks)
CHECKED_ELSEWHERE = {"python", "console", "sh session"}  # sh session: tests/integration/test_service_docs.py

#: The contract the event examples of the docs are written against (``acme-web`` in
#: docs/contract-format.md; test_acme_web_matches_the_docs keeps the two equal).
ACME_WEB = """
id: acme-web
title: Website maintenance, 12 sites
parties:
  provider: {id: studio, name: Studio S.L.}
  client: {id: acme, name: ACME S.A.}
timezone: Europe/Madrid
currency: EUR
jurisdiction: ES
start: 2025-01-01
end: null
terms:
  billing: {cycle: monthly, anchor_day: 1, fee: "600.00", timing: arrears, proration: none, month_overflow: clip}
  payment: {terms_days: 30, business_days: false, calendar: null, roll: none}
  late_penalty:
    grace_days: 15
    interest: {annual_rate: "0.10", day_count: act/365, accrues_from: due}
    fixed_fee: "40.00"
    cap: null
    reminder_days: null
    disputes_suspend: true
  termination: {notice_days: 30, effective: end_of_cycle}
  scope:
    services:
      - {id: malware-scan, every: cycle, assets: [acme.example, shop.example]}
      - {id: malware-removal, on_request: {respond_within_days: 2}, assets: [acme.example, shop.example]}
    excluded_assets: ["*.acme.example"]
    change_order_rate: {amount: "60.00", per: hour}
"""

#: Header a ``yaml terms`` block is put under.
TERMS_HEADER = {
    "id": "docs-terms",
    "parties": {"provider": {"id": "studio"}, "client": {"id": "acme"}},
    "timezone": "Europe/Madrid",
    "currency": "EUR",
    "start": date(2025, 1, 1),
}


@dataclass(frozen=True)
class Block:
    """A fenced code block of a docs page; ``line`` is its first content line (1-based)."""

    page: str
    info: str
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"docs/{self.page}"

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


_FENCE = re.compile(r"^```(.*)$")


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of a markdown file, in order."""
    blocks: list[Block] = []
    info, start, body = None, 0, []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(raw)
        if info is None:
            if match:
                info, start, body = " ".join(match.group(1).split()), number + 1, []
        elif raw.strip() == "```":
            blocks.append(Block(path.name, info, start, "\n".join(body) + "\n"))
            info = None
        else:
            body.append(raw)
    assert info is None, f"{path.name}: unclosed code block from line {start - 1}"
    return blocks


PAGES = sorted(DOCS.glob("*.md"))
ALL_BLOCKS = [b for page in PAGES for b in read_blocks(page)]


def blocks(info: str, page: str | None = None) -> list[Block]:
    return [b for b in ALL_BLOCKS if b.info == info and (page is None or b.page == page)]


def events_contract():
    return parse_contract(yaml.safe_load(ACME_WEB), file="<test acme-web>")


def story(page: str) -> list[tuple[int, object]]:
    """The ``json event`` blocks of a page as (line, object) items, in page order."""
    return [(b.line, json.loads(b.text)) for b in blocks("json event", page)]


# --------------------------------------------------------------------------- the markers


def test_every_block_has_a_known_marker():
    unknown = [f"{b}: {b.info!r}" for b in ALL_BLOCKS if b.info not in CHECKED | UNCHECKED | CHECKED_ELSEWHERE]
    assert unknown == []


@pytest.mark.parametrize(
    ("page", "info", "at_least"),
    [
        ("contract-format.md", "yaml contract", 3),
        ("contract-format.md", "yaml terms", 4),
        ("contract-format.md", "yaml invalid-contract", 3),
        ("events.md", "json event", 19),
        ("events.md", "jsonl events", 1),
        ("events.md", "json events", 1),
        ("events.md", "json invalid-event", 6),
        ("dates-and-money.md", "yaml contract", 2),
        ("dates-and-money.md", "jsonl events", 1),
        ("dates-and-money.md", "pycon", 8),
    ],
)
def test_pages_keep_their_tested_examples(page, info, at_least):
    # Guards the extraction itself: a broken fence parser would find nothing to test.
    assert len(blocks(info, page)) >= at_least


def test_every_event_type_has_a_json_example():
    from contractrules.model import EVENT_TYPES

    shown = {json.loads(b.text)["type"] for b in blocks("json event", "events.md")}
    assert shown == set(EVENT_TYPES)


def test_events_md_states_the_rules_of_the_models():
    # Two tables of docs/events.md that restate the event models: keep them true.
    from contractrules.model import EVENT_CLASSES, VERBAL, WRITTEN

    text = (DOCS / "events.md").read_text(encoding="utf-8")
    optional_by = {name for name, cls in EVENT_CLASSES.items() if not cls.model_fields["by"].is_required()}
    assert optional_by == {"invoice_issued", "payment_received", "credit_note", "change_order_agreed"}
    assert "required for every type except `invoice_issued`, `payment_received`, `credit_note` and " in text
    row = re.search(r"^\| (`email`.*) \| (`phone`.*) \|$", text, re.M)
    assert row, "the written | verbal channel table"
    assert set(re.findall(r"`(\w+)`", row.group(1))) == set(WRITTEN)
    assert set(re.findall(r"`(\w+)`", row.group(2))) == set(VERBAL)


# --------------------------------------------------------------------------- contracts


@pytest.mark.parametrize("block", blocks("yaml contract"), ids=str)
def test_contract_example_loads(block):
    data = yaml.safe_load(block.text)
    contract = parse_contract(data, file=block.where)
    assert contract.id == data["id"]


@pytest.mark.parametrize("block", blocks("yaml terms"), ids=str)
def test_terms_example_loads(block):
    data = yaml.safe_load(block.text)
    assert list(data) == ["terms"], "a `yaml terms` block holds only a terms: section"
    contract = parse_contract({**TERMS_HEADER, **data}, file=block.where)
    for section in data["terms"]:
        assert getattr(contract.terms, section) is not None


@pytest.mark.parametrize("block", blocks("yaml invalid-contract"), ids=str)
def test_invalid_contract_example_is_refused(block):
    first = block.text.splitlines()[0]
    match = re.fullmatch(r"# error: (\S+)", first)
    assert match, "an invalid-contract block starts with '# error: <field path>'"
    with pytest.raises(ContractError) as info:
        parse_contract(yaml.safe_load(block.text), file=block.where)
    assert match.group(1) in [issue.field for issue in info.value.issues]
    assert all(issue.file == block.where for issue in info.value.issues)


def test_acme_web_matches_the_docs():
    (documented,) = [b for b in blocks("yaml contract", "contract-format.md") if "id: acme-web\n" in b.text]
    assert parse_contract(yaml.safe_load(documented.text)) == events_contract()


def test_terms_defaults_match_the_docs():
    # The defaults docs/contract-format.md states where the spec is silent.
    contract = parse_contract(
        {
            **TERMS_HEADER,
            "terms": {
                "billing": {"fee": "600.00"},
                "payment": {},
                "late_penalty": {},
                "termination": {},
                "scope": {"excluded_assets": ["*.acme.example"]},
            },
        }
    )
    terms = contract.terms
    assert (terms.billing.cycle, terms.billing.timing, terms.billing.proration) == ("monthly", "arrears", "none")
    assert terms.billing.month_overflow == "clip" and contract.anchor_day == 1
    assert (terms.payment.terms_days, terms.payment.business_days, terms.payment.roll) == (30, False, "none")
    assert terms.late_penalty.grace_days == 0 and terms.late_penalty.disputes_suspend is True
    assert terms.late_penalty.interest is None and terms.late_penalty.fixed_fee is None
    assert terms.termination.effective == "notice_end"
    assert terms.termination.notice_days is None and terms.termination.notice_months is None
    assert terms.scope.excluded_assets[0].pattern == "*.acme.example"
    assert terms.scope.excluded_assets[0].reason is None


# --------------------------------------------------------------------------- events


@pytest.mark.parametrize("page", sorted({b.page for b in blocks("json event")}))
def test_event_story_loads(page):
    items = story(page)
    load = parse_events(items, events_contract(), file=f"docs/{page}")
    assert [r.event.id for r in load.records] == [obj["id"] for _, obj in items]
    assert [r.line for r in load.records] == [line for line, _ in items]
    assert load.skipped == ()


def test_event_story_local_dates():
    # The events.md story: a timestamp counts on its Madrid date.
    load = parse_events(story("events.md"), events_contract(), file="docs/events.md")
    local = {r.event.id: r.local_date for r in load.records}
    assert local["e02"] == date(2025, 2, 20)
    assert local["e13"] == date(2025, 7, 30)
    assert local["e12"] == date(2025, 8, 4)


def _file_items(block: Block) -> list[tuple[int, object]]:
    if block.info == "json events":
        return [(block.line, obj) for obj in json.loads(block.text)]
    return [(block.line + i, json.loads(raw)) for i, raw in enumerate(block.text.splitlines()) if raw.strip()]


@pytest.mark.parametrize("block", blocks("jsonl events") + blocks("json events"), ids=str)
def test_events_file_example_loads(block):
    items = _file_items(block)
    load = parse_events(items, events_contract(), file=block.where)
    assert [r.event.id for r in load.records] == [obj["id"] for _, obj in items]


@pytest.mark.parametrize("block", blocks("json invalid-event"), ids=str)
def test_invalid_event_example_is_refused(block):
    items = story(block.page)
    bad = json.loads(block.text)
    with pytest.raises(EventError) as info:
        parse_events(items + [(block.line, bad)], events_contract(), file=block.where)
    assert block.line in [issue.line for issue in info.value.issues]
    # With skip_invalid the bad event is reported and never kept.
    load = parse_events(items + [(block.line, bad)], events_contract(), file=block.where, skip_invalid=True)
    assert block.line in [issue.line for issue in load.skipped]
    assert block.line not in [r.line for r in load.records]
    if bad["id"] not in {obj["id"] for _, obj in items}:
        assert [r.event.id for r in load.records] == [obj["id"] for _, obj in items]


# --------------------------------------------------------------------------- doctests


@pytest.mark.parametrize("page", sorted({b.page for b in blocks("pycon")}))
def test_pycon_examples(page):
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    namespace: dict = {}
    for block in blocks("pycon", page):
        test = parser.get_doctest(block.text, namespace, f"{page}:{block.line}", str(DOCS / page), block.line - 1)
        runner.run(test, clear_globs=False)
        namespace = test.globs  # DocTest copies its globs: carry them to the next block
    results = runner.summarize(verbose=False)
    assert results.attempted > 0
    assert results.failed == 0, f"{results.failed} doctest example(s) of {page} failed (see output above)"


# --------------------------------------------------------------------------- rulesets/examples


def _example(name: str):
    contract = load_contract(EXAMPLES / name / "contract.yaml")
    return contract, load_events(EXAMPLES / name / "events.jsonl", contract)


def test_website_care_example_loads():
    contract, load = _example("website-care")
    assert contract.id == "website-care-2025"
    assert (contract.timezone, contract.currency, contract.jurisdiction) == ("Europe/Madrid", "EUR", "ES")
    assert len(load.records) == 111 and load.skipped == ()
    sites = contract.terms.scope.service("malware-scan").assets
    assert len(sites) == 12 and contract.terms.scope.service("malware-removal").assets == sites
    assert len(contract.terms.scope.excluded_assets) == 12


def test_website_care_story_is_consistent():
    contract, load = _example("website-care")
    by_id = {r.event.id: r for r in load.records}
    # One scan per site in each of the seven cycles January..July, by the system.
    scans = [r for r in load.records if r.event.type == "work_performed" and r.event.service == "malware-scan"]
    sites = contract.terms.scope.service("malware-scan").assets
    assert sorted((r.local_date.month, r.event.asset) for r in scans) == sorted(
        (m, s) for m in range(1, 8) for s in sites
    )
    assert {r.event.channel for r in scans} == {"system"}
    # Monthly invoices in arrears, each on its cycle's last day (July's on the 30th,
    # the day the contract closed), each naming its cycle.
    invoices = [r for r in load.records if r.event.type == "invoice_issued"]
    assert [r.event.invoice for r in invoices] == [f"INV-2025-{m:02d}" for m in range(1, 8)]
    for month, r in enumerate(invoices, start=1):
        start, end = dates.cycle_bounds(contract.start, contract.anchor_day, "monthly", month - 1)
        assert r.event.period == start == date(2025, month, 1)
        assert r.local_date == (end if month < 7 else date(2025, 7, 30))
        assert str(r.event.amount) == "600.00"
    # Every earlier invoice is paid in full, after credit notes, by its due date.
    paid = sum(r.event.amount for r in load.records if r.event.type == "payment_received")
    credited = sum(r.event.amount for r in load.records if r.event.type == "credit_note")
    assert (paid, credited) == (3500, 100)  # 6 x 600 - 100: nothing for July
    for r in invoices[:-1]:
        due = dates.period_end(r.local_date, contract.terms.payment.terms_days)
        payments = [p for p in load.records if p.event.type == "payment_received" and p.local_date <= due]
        assert sum(p.event.amount for p in payments) + credited >= 600 * int(r.event.invoice[-2:])
    # The end: notice and its waiver on 30 July; July's invoice due 29 August; grace
    # extended to 30 September, so the penalty is enforceable from 1 October.
    assert by_id["e23"].local_date == by_id["e24"].local_date == date(2025, 7, 30)
    assert by_id["e24"].event.clause == "termination.notice" and by_id["e24"].event.by == "studio"
    assert dates.period_end(by_id["e25"].local_date, 30) == date(2025, 8, 29)
    assert by_id["e26"].event.until == date(2025, 9, 30)
    assert dates.add_days(date(2025, 8, 29), contract.terms.late_penalty.grace_days + 1) == date(2025, 9, 14)


def test_freelance_job_example_loads():
    contract, load = _example("freelance-job")
    assert contract.id == "freelance-theme-build" and contract.terms.billing is None
    assert len(load.records) == 15 and load.skipped == ()
    by_id = {r.event.id: r for r in load.records}
    scope = contract.terms.scope
    in_scope = set(scope.service("build").assets)
    requests = [r for r in load.records if r.event.type == "work_requested"]
    outside = [r for r in requests if scope.service(r.event.service) is None or r.event.asset not in in_scope]
    # The extra requests were made on calls, except the last one, put in writing.
    assert [(r.event.id, r.evidence if hasattr(r, "evidence") else r.event.evidence) for r in outside] == [
        ("e04", "verbal"),
        ("e05", "verbal"),
        ("e12", "verbal"),
        ("e13", "written"),
    ]
    assert by_id["e07"].event.type == "change_order_agreed" and by_id["e07"].event.asset == "landing-page"
    # 2,400 fixed + 6 h x 45 change order; due 28 March; paid 15 April New York time
    # (16 April in UTC).
    assert by_id["e11"].event.amount == 2400 + 6 * scope.change_order_rate.amount
    assert dates.period_end(by_id["e11"].local_date, contract.terms.payment.terms_days) == date(2025, 3, 28)
    assert by_id["e15"].local_date == date(2025, 4, 15)


# --------------------------------------------------------------------------- rulesets/README.md answers


def test_website_care_answers_match_the_readme():
    # The figures rulesets/README.md works out by hand.
    from contractrules.api import evaluate, penalty

    folder = EXAMPLES / "website-care"
    contract, events = folder / "contract.yaml", folder / "events.jsonl"
    answer = evaluate(contract, events, as_of=date(2025, 10, 1)).model_dump(mode="json")
    assert answer["state"] == {
        "state": "terminated",
        "effective_end": "2025-07-30",
        "notice": {"given_on": "2025-07-30", "by": "acme", "waived": True},
    }
    (pen,) = answer["penalties"]
    assert (pen["invoice"], pen["enforceable"], pen["enforceable_from"]) == ("INV-2025-07", True, "2025-10-01")
    assert (pen["interest"], pen["fixed_fee"], pen["total"]) == ("5.42", "40.00", "45.42")
    violations = {v["id"]: (v["on"], v["party"], v["severity"]) for v in answer["violations"]}
    assert violations == {
        "out_of_scope_request:e09": ("2025-05-05", "acme", "advisory"),
        "out_of_scope_request:e10": ("2025-05-05", "acme", "advisory"),
        "out_of_scope_work:e12": ("2025-05-07", "studio", "advisory"),
        "out_of_scope_work:e13": ("2025-05-07", "studio", "advisory"),
        "out_of_scope_work:e14": ("2025-05-08", "studio", "advisory"),
        "late_payment:INV-2025-07": ("2025-08-30", "acme", "breach"),
    }
    billing = [o["id"] for o in answer["obligations"] if o["kind"] == "billing"]
    assert billing == [f"billing:2025-{m:02d}-01" for m in range(1, 8)]
    payment = {o["id"]: (o["amount"], o["due"], o["status"]) for o in answer["obligations"] if o["kind"] == "payment"}
    assert payment["payment:INV-2025-04"] == ("500.00", "2025-05-30", "fulfilled")
    assert payment["payment:INV-2025-07"] == ("600.00", "2025-08-29", "violated")
    services = [o for o in answer["obligations"] if o["kind"] == "service"]
    assert len(services) == 85 and {o["status"] for o in services} == {"fulfilled"}  # 84 scans + e08
    # July's scans fell due at the contract's end, 30 July (the notice and its waiver
    # moved the end into the running cycle: max(E, N) = 30 July), not on 31 July.
    july = [o for o in services if o["id"].endswith(":2025-07-01")]
    assert len(july) == 12 and {o["due"] for o in july} == {"2025-07-30"}
    assert {tuple(o["caused_by"][1:]) for o in july} == {("e23", "e24")}
    early = penalty(contract, events, "INV-2025-07", as_of=date(2025, 9, 20)).model_dump(mode="json")
    assert (early["enforceable"], early["enforceable_from"]) == (False, "2025-10-01")
    assert any("e26" in reason for reason in early["reasons"])


def test_freelance_job_answers_match_the_readme():
    from contractrules.api import evaluate

    folder = EXAMPLES / "freelance-job"
    answer = evaluate(folder / "contract.yaml", folder / "events.jsonl", as_of=date(2025, 4, 30)).model_dump(
        mode="json"
    )
    requests = {v["id"]: v["evidence"] for v in answer["violations"] if v["kind"] == "out_of_scope_request"}
    assert requests == {
        "out_of_scope_request:e05": "verbal",
        "out_of_scope_request:e12": "verbal",
        "out_of_scope_request:e13": "written",
    }
    assert [v["id"] for v in answer["violations"] if v["kind"] == "out_of_scope_work"] == []
    (late,) = [v for v in answer["violations"] if v["kind"] == "late_payment"]
    assert (late["id"], late["on"]) == ("late_payment:INV-0042", "2025-03-29")
    (pay,) = [o for o in answer["obligations"] if o["kind"] == "payment"]
    assert (pay["due"], pay["status"], pay["fulfilled_on"]) == ("2025-03-28", "fulfilled", "2025-04-15")
    (pen,) = answer["penalties"]
    assert (pen["enforceable_from"], pen["interest"], pen["total"]) == ("2025-04-05", "9.95", "9.95")
    landing = {o["id"]: o for o in answer["obligations"]}["service:build:landing-page:e04"]
    assert (landing["due"], landing["status"], landing["evidence"]) == ("2025-03-21", "fulfilled", "written")
