"""Event models and loader: parsing, normalisation, and every bad input located by line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from contractrules.errors import EventError, Issue
from contractrules.model import (
    InvoiceIssued,
    TerminationNotice,
    event_adapter,
    load_contract,
    load_events,
    parse_contract,
    parse_events,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EVENTS = FIXTURES / "events"


@pytest.fixture(scope="module")
def contract():
    return load_contract(FIXTURES / "contracts" / "valid_full.yaml")


def issues_of(name: str, contract) -> list[Issue]:
    with pytest.raises(EventError) as info:
        load_events(EVENTS / name, contract)
    return list(info.value.issues)


INVOICE = {"id": "e1", "type": "invoice_issued", "at": "2025-07-01", "invoice": "INV-1", "amount": "600.00"}


def parse(contract, *objects, skip_invalid=False):
    return parse_events(list(enumerate(objects, start=1)), contract, "ev.jsonl", skip_invalid=skip_invalid)


def only_issue(contract, *objects) -> Issue:
    with pytest.raises(EventError) as info:
        parse(contract, *objects)
    [issue] = info.value.issues
    return issue


# --------------------------------------------------------------------------- valid


def test_valid_file_loads_every_type_in_input_order(contract):
    load = load_events(EVENTS / "valid.jsonl", contract)
    assert load.skipped == ()
    ids = [r.event.id for r in load.records]
    assert ids == [f"e{i}" for i in range(1, 13)]  # the identical repeat of e1 (line 14) is dropped
    assert [r.seq for r in load.records] == list(range(12))
    assert [r.line for r in load.records][:4] == [1, 2, 4, 5]  # line 3 is blank
    assert all(r.file == str(EVENTS / "valid.jsonl") for r in load.records)
    first = load.records[0].event
    assert isinstance(first, InvoiceIssued)
    assert (first.invoice, first.amount, first.period) == ("INV-07", Decimal("600.00"), date(2025, 6, 1))


def test_roles_are_resolved_to_party_ids(contract):
    load = load_events(EVENTS / "valid.jsonl", contract)
    by = {r.event.id: r.event.by for r in load.records}
    assert by["e1"] == "studio"  # written as "provider"
    assert by["e2"] == "acme"  # written as "client"
    assert by["e3"] == "studio" and by["e4"] is None


def test_timestamp_at_2330z_is_the_next_local_day_in_madrid(contract):
    load = load_events(EVENTS / "valid.jsonl", contract)
    notice = load.records[1]
    assert isinstance(notice.event, TerminationNotice)
    assert notice.event.at == datetime(2025, 7, 30, 23, 30, tzinfo=UTC)
    assert notice.local_date == date(2025, 7, 31)
    assert load.records[0].local_date == date(2025, 7, 1)  # a plain date is already local


def test_same_instant_in_another_zone_is_the_same_local_date():
    c = parse_contract(
        {
            "id": "x",
            "parties": {"provider": {"id": "p"}, "client": {"id": "c"}},
            "timezone": "America/New_York",
            "currency": "USD",
            "start": "2025-01-01",
        }
    )
    [record] = parse(c, {**INVOICE, "at": "2025-07-30T23:30:00Z"}).records
    assert record.local_date == date(2025, 7, 30)


def test_json_array_records_carry_each_elements_line(contract):
    load = load_events(EVENTS / "valid_array.json", contract)
    assert [(r.event.id, r.line) for r in load.records] == [("e1", 2), ("e2", 4)]
    assert load.records[1].event.by == "acme"
    assert load.records[1].local_date == date(2025, 8, 1)  # 22:30Z = 00:30 CEST


def test_hours_amounts_and_evidence(contract):
    load = load_events(EVENTS / "valid.jsonl", contract)
    events = {r.event.id: r.event for r in load.records}
    assert events["e11"].hours == Decimal("1.5") and events["e12"].hours == Decimal("10")
    assert events["e5"].amount == Decimal("50")
    assert (
        events["e1"].evidence == "written" and events["e3"].evidence == "verbal" and events["e4"].evidence == "unknown"
    )


def test_identical_duplicate_is_dropped_silently(contract):
    load = parse(contract, INVOICE, dict(INVOICE), {**INVOICE, "amount": "600.0", "channel": None})
    assert [(r.event.id, r.line) for r in load.records] == [("e1", 1)]


def test_event_json_dump_round_trips(contract):
    [record] = parse(contract, {**INVOICE, "at": "2025-07-30T23:30:00+02:00"}).records
    dumped = record.event.model_dump(mode="json")
    assert dumped["at"] == "2025-07-30T23:30:00+02:00" and dumped["amount"] == "600.00"
    assert event_adapter.validate_python(dumped) == record.event


# --------------------------------------------------------------------------- bad files

BAD_FILES = [
    (
        "malformed_json.jsonl",
        [(2, "", None, "malformed JSON: Expecting property name enclosed in double quotes")],
    ),
    (
        "unknown_type.jsonl",
        [
            (
                2,
                "type",
                "e2",
                "unknown event type 'invoice_paid' (did you mean 'invoice_issued'?); valid types: invoice_issued, payment_received,",
            )
        ],
    ),
    ("missing_field.jsonl", [(2, "amount", "e2", "required")]),
    ("wrong_type.jsonl", [(2, "effective", "e2", "must be a date (YYYY-MM-DD), got 20250831")]),
    ("naive_timestamp.jsonl", [(2, "at", "e2", "timestamp without offset: '2025-07-30T23:30:00'")]),
    ("negative_amount.jsonl", [(2, "amount", "e2", "amount must not be negative, got -600.00")]),
    ("amount_too_precise.jsonl", [(1, "amount", "e1", "amount '600.005' has 3 decimal places; EUR has 2")]),
    (
        "unknown_party.jsonl",
        [
            (
                2,
                "by",
                "e2",
                "unknown party 'acme-corp': expected 'studio' (provider), 'acme' (client) or a role name",
            )
        ],
    ),
    (
        "duplicate_id_conflict.jsonl",
        [
            (2, "id", "e2", "id 'e2' is reused with different content on line 3"),
            (3, "id", "e2", "duplicate id 'e2' with different content (first on line 2)"),
        ],
    ),
    (
        "bad_array.json",
        [
            (4, "at", "e2", "timestamp without offset: '2025-07-31T22:30:00'"),
        ],
    ),
    ("malformed_array.json", [(3, "", None, "invalid JSON: expected ',' or ']' after an array element")]),
]


@pytest.mark.parametrize("name, expected", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_events_name_line_field_and_event(contract, name, expected):
    issues = issues_of(name, contract)
    assert [(i.line, i.field, i.event_id) for i in issues] == [e[:3] for e in expected]
    for issue, (*_, message) in zip(issues, expected, strict=True):
        assert issue.message.startswith(message), issue.message
        assert issue.file == str(EVENTS / name)


def test_all_problems_of_a_file_are_raised_together(contract):
    issues = issues_of("mixed_good_and_bad.jsonl", contract)
    assert [(i.line, i.field) for i in issues] == [(2, "amount"), (3, "by")]


def test_an_event_naming_an_invoice_not_issued_is_not_bad_input(contract):
    """SPEC §5 v2: billing systems post payments before invoices; the engine holds them."""
    load = load_events(EVENTS / "payment_unknown_invoice.jsonl", contract)
    assert [(r.event.id, r.event.invoice) for r in load.records][-1] == ("e2", "INV-08")
    assert load.skipped == ()


def test_skip_invalid_keeps_the_good_events_and_reports_the_rest(contract):
    load = load_events(EVENTS / "mixed_good_and_bad.jsonl", contract, skip_invalid=True)
    # e4 pays INV-08, whose invoice_issued (e3) is invalid: kept, and held for INV-08 by the engine
    assert [(r.event.id, r.line, r.seq) for r in load.records] == [("e1", 1, 0), ("e4", 4, 1), ("e5", 5, 2)]
    assert [(i.line, i.event_id) for i in load.skipped] == [(2, "e2"), (3, "e3")]


def test_skip_invalid_drops_every_copy_of_a_conflicting_id(contract):
    load = load_events(EVENTS / "duplicate_id_conflict.jsonl", contract, skip_invalid=True)
    assert [r.event.id for r in load.records] == ["e1"]
    assert [i.line for i in load.skipped] == [2, 3]


def test_skip_invalid_keeps_good_lines_around_malformed_json(contract):
    load = load_events(EVENTS / "malformed_json.jsonl", contract, skip_invalid=True)
    assert [r.event.id for r in load.records] == ["e1", "e3"]
    assert [i.line for i in load.skipped] == [2]


# --------------------------------------------------------------------------- single events


@pytest.mark.parametrize(
    "event, field, message",
    [
        (
            {"id": "w", "type": "waiver", "at": "2025-08-01", "by": "client", "clause": "late_penalty"},
            "invoice",
            "required for clause late_penalty",
        ),
        (
            {
                "id": "w",
                "type": "waiver",
                "at": "2025-08-01",
                "by": "client",
                "clause": "termination.notice",
                "until": "2025-09-01",
            },
            "until",
            "only for clause late_penalty.grace",
        ),
        ({"id": "w", "type": "waiver", "at": "2025-08-01", "clause": "termination.notice"}, "by", "required"),
        (
            {"id": "w", "type": "waiver", "at": "2025-08-01", "by": "client", "clause": "late_fee"},
            "clause",
            "must be 'termination.notice', 'late_penalty' or 'late_penalty.grace', got 'late_fee'",
        ),
        (
            {"id": "c", "type": "change_order_agreed", "at": "2025-08-01", "service": "s", "asset": "a"},
            "amount",
            "a change order needs an amount or hours",
        ),
        (
            {
                "id": "w",
                "type": "work_requested",
                "at": "2025-08-01",
                "by": "client",
                "service": "s",
                "asset": "a",
                "descripton": "x",
            },
            "descripton",
            "unknown field (did you mean 'description'?)",
        ),
        (
            {
                "id": "w",
                "type": "work_performed",
                "at": "2025-08-01",
                "by": "studio",
                "service": "s",
                "asset": "a",
                "hours": "-1",
            },
            "hours",
            "must be a non-negative number of hours",
        ),
        (
            {"id": "p", "type": "payment_received", "at": "2025-08-01", "amount": True},
            "amount",
            "amount must be a number or a decimal string, got a boolean",
        ),
        (
            {"id": "p", "type": "payment_received", "at": "2025-08-01", "amount": 0.1 + 0.2},
            "amount",
            "amount 0.30000000000000004 is not an exact decimal",
        ),
        (
            {"id": "p", "type": "payment_received", "at": "yesterday", "amount": "1"},
            "at",
            "must be a date (2025-07-30) or a timestamp with offset",
        ),
        (
            {"id": "p", "type": "payment_received", "at": "2025-08-01", "amount": "1", "channel": "fax"},
            "channel",
            "must be 'email', 'letter'",
        ),
        (
            {"id": 7, "type": "payment_received", "at": "2025-08-01", "amount": "1"},
            "id",
            "must be text, got 7",
        ),
        ({"id": "p", "at": "2025-08-01", "amount": "1"}, "type", "required (one of: invoice_issued,"),
    ],
)
def test_single_bad_event(contract, event, field, message):
    issue = only_issue(contract, INVOICE, event)
    assert (issue.line, issue.field) == (2, field)
    assert issue.message.startswith(message), issue.message


def test_waiver_of_grace_with_invoice_and_until_is_valid(contract):
    waiver = {
        "id": "w",
        "type": "waiver",
        "at": "2025-08-01",
        "by": "studio",
        "clause": "late_penalty.grace",
        "invoice": "INV-1",
        "until": "2025-09-30",
    }
    [_, record] = parse(contract, INVOICE, waiver).records
    assert record.event.until == date(2025, 9, 30) and record.event.invoice == "INV-1"


def test_non_object_line(contract):
    issue = only_issue(contract, INVOICE, ["x"])
    assert (issue.line, issue.field, issue.message) == (2, "", "expected an event object, got a list")


def test_invoice_issued_twice_is_an_error(contract):
    issue = only_issue(contract, INVOICE, {**INVOICE, "id": "e2", "at": "2025-07-02"})
    assert (issue.line, issue.field, issue.event_id) == (2, "invoice", "e2")
    assert issue.message == "invoice 'INV-1' is already issued by event 'e1' (line 1)"


def test_payment_may_come_before_its_invoice_in_the_file(contract):
    payment = {"id": "p", "type": "payment_received", "at": "2025-07-05", "invoice": "INV-1", "amount": "600"}
    assert [r.event.id for r in parse(contract, payment, INVOICE).records] == ["p", "e1"]


def test_amount_precision_follows_the_contract_currency():
    gbp = load_contract(FIXTURES / "contracts" / "payment_only.yaml")
    issue = only_issue(gbp, {**INVOICE, "amount": "1.005"})
    assert issue.message == "amount '1.005' has 3 decimal places; GBP has 2"
    assert parse(gbp, {**INVOICE, "amount": 10.5}).records[0].event.amount == Decimal("10.5")


def test_unsupported_events_extension(contract, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("id,type\n")
    with pytest.raises(EventError, match="unsupported file type '.csv'"):
        load_events(path, contract)


def test_input_without_lines_names_items_instead(contract):
    items = [(None, INVOICE), (None, {**INVOICE, "amount": "1.00"})]
    with pytest.raises(EventError) as info:
        parse_events(items, contract)
    assert [(i.line, i.message) for i in info.value.issues] == [
        (None, "id 'e1' is reused with different content on item 2"),
        (None, "duplicate id 'e1' with different content (first on item 1)"),
    ]
