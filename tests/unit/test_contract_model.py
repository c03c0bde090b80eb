"""Contract models and loader: valid documents, and every bad input located by line and field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pydantic
import pytest

from contractrules.errors import ContractError, Issue
from contractrules.model import (
    Contract,
    ExcludedAsset,
    load_contract,
    parse_contract,
    read_contract,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contracts"

MINIMAL = {
    "id": "c1",
    "parties": {"provider": {"id": "studio"}, "client": {"id": "acme"}},
    "timezone": "Europe/Madrid",
    "currency": "EUR",
    "start": "2025-01-01",
}


def with_terms(**terms: object) -> dict:
    return {**MINIMAL, "terms": terms}


def issues_of(path: Path) -> list[Issue]:
    with pytest.raises(ContractError) as info:
        load_contract(path)
    return list(info.value.issues)


def located(issues: list[Issue]) -> list[tuple[int | None, str]]:
    return [(i.line, i.field) for i in issues]


# --------------------------------------------------------------------------- valid


def test_full_example_loads_every_clause():
    c = load_contract(FIXTURES / "valid_full.yaml")
    assert c.id == "acme-web"
    assert c.parties.provider.name == "Studio S.L."
    assert c.start == date(2025, 1, 1) and c.end is None
    assert c.jurisdiction == "ES"
    b = c.terms.billing
    assert (b.cycle, b.anchor_day, b.fee, b.timing, b.proration, b.month_overflow) == (
        "monthly",
        1,
        Decimal("600.00"),
        "arrears",
        "none",
        "clip",
    )
    assert c.terms.payment.terms_days == 30 and c.terms.payment.roll == "none"
    lp = c.terms.late_penalty
    assert lp.grace_days == 15 and lp.interest.annual_rate == Decimal("0.10")
    assert lp.fixed_fee == Decimal("40.00") and lp.cap is None and lp.disputes_suspend is True
    assert c.terms.termination.notice_days == 30 and c.terms.termination.effective == "end_of_cycle"
    scope = c.terms.scope
    assert [s.id for s in scope.services] == ["malware-scan", "malware-removal"]
    assert scope.services[0].every == "cycle" and scope.services[0].on_request is None
    assert scope.services[1].on_request.respond_within_days == 2
    assert scope.excluded_assets == [
        ExcludedAsset(pattern="*.acme.example"),
        ExcludedAsset(pattern="legacy.example", reason="retired in 2024"),
    ]
    assert scope.change_order_rate.amount == Decimal("60.00") and scope.change_order_rate.per == "hour"
    assert scope.service("malware-removal") is scope.services[1] and scope.service("x") is None


def test_contract_with_only_payment_is_valid():
    c = load_contract(FIXTURES / "payment_only.yaml")
    assert c.terms.payment.terms_days == 14
    assert c.terms.billing is None and c.terms.late_penalty is None and c.terms.scope is None
    assert c.currency == "GBP" and c.anchor_day is None


def test_contract_without_terms_gets_empty_terms():
    c = parse_contract(dict(MINIMAL))
    assert c.terms.billing is None and c.terms.payment is None


def test_party_lookup_by_id_and_role():
    c = parse_contract(dict(MINIMAL))
    assert c.party_id("client") == "acme" and c.party_id("provider") == "studio"
    assert c.party_id("acme") == "acme" and c.party_id("bob") is None
    assert c.role_of("studio") == "provider" and c.role_of("acme") == "client" and c.role_of("x") is None


def test_defaults_match_spec():
    c = parse_contract(with_terms(billing={"fee": "600"}, payment={}, late_penalty={}, termination={}))
    b = c.terms.billing
    assert (b.cycle, b.anchor_day, b.timing, b.proration, b.month_overflow) == (
        "monthly",
        None,
        "arrears",
        "none",
        "clip",
    )
    assert c.anchor_day == 1  # day of start
    p = c.terms.payment
    assert (p.terms_days, p.business_days, p.calendar, p.roll) == (30, False, None, "none")
    assert not p.uses_business_calendar
    lp = c.terms.late_penalty
    assert (lp.grace_days, lp.interest, lp.fixed_fee, lp.cap, lp.reminder_days, lp.disputes_suspend) == (
        0,
        None,
        None,
        None,
        None,
        True,
    )
    t = c.terms.termination
    assert (t.notice_days, t.notice_months, t.effective) == (None, None, "notice_end")


def test_roll_without_calendar_means_weekends_only():
    c = parse_contract(with_terms(payment={"roll": "following"}))
    assert c.terms.payment.calendar is None and c.terms.payment.uses_business_calendar


def test_business_calendar_with_subdivision_is_accepted():
    c = parse_contract(with_terms(payment={"business_days": True, "calendar": "ES-MD"}))
    assert c.terms.payment.calendar == "ES-MD"


def test_statutory_with_jurisdiction_is_accepted():
    c = parse_contract(
        {
            **with_terms(late_penalty={"interest": {"annual_rate": "statutory"}, "fixed_fee": "statutory"}),
            "jurisdiction": "UK",
            "currency": "GBP",
        }
    )
    assert c.terms.late_penalty.interest.annual_rate == "statutory"
    assert c.terms.late_penalty.fixed_fee == "statutory"


def test_float_fee_within_minor_units_is_accepted_and_exact():
    c = parse_contract(with_terms(billing={"fee": 600.5}))
    assert c.terms.billing.fee == Decimal("600.5")


def test_models_are_frozen():
    c = parse_contract(dict(MINIMAL))
    with pytest.raises(pydantic.ValidationError):
        c.currency = "USD"


def test_json_dump_keeps_decimals_as_strings():
    c = parse_contract(with_terms(billing={"fee": "600.00"}))
    dumped = c.model_dump(mode="json")
    assert dumped["terms"]["billing"]["fee"] == "600.00" and dumped["start"] == "2025-01-01"


# --------------------------------------------------------------------------- bad files

BAD_FILES = [
    ("anchor_day_32.yaml", [(10, "terms.billing.anchor_day", "must be 1..31, got 32")]),
    ("anchor_day_32.json", [(12, "terms.billing.anchor_day", "must be 1..31, got 32")]),
    ("unknown_key.yaml", [(9, "terms.biling", "unknown field (did you mean 'billing'?)")]),
    ("missing_timezone.yaml", [(1, "timezone", "required")]),
    (
        "invalid_timezone.yaml",
        [(5, "timezone", "unknown time zone 'Europe/Madird' (did you mean 'Europe/Madrid'?)")],
    ),
    ("negative_fee.yaml", [(10, "terms.billing.fee", "amount must not be negative, got -600.00")]),
    ("fee_too_precise.yaml", [(10, "terms.billing.fee", "amount '10.005' has 3 decimal places; EUR has 2")]),
    (
        "statutory_without_jurisdiction.yaml",
        [
            (
                11,
                "terms.late_penalty.interest.annual_rate",
                "'statutory' needs a jurisdiction: set jurisdiction to ES, UK or EU",
            ),
            (
                12,
                "terms.late_penalty.fixed_fee",
                "'statutory' needs a jurisdiction: set jurisdiction to ES, UK or EU",
            ),
        ],
    ),
    (
        "two_problems.yaml",
        [
            (10, "terms.billing.anchor_day", "must be 1..31, got 32"),
            (12, "terms.paymnet", "unknown field (did you mean 'payment'?)"),
        ],
    ),
    ("duplicate_key.yaml", [(11, "terms.payment", "given twice (first on line 9); remove one")]),
    ("malformed_yaml.yaml", [(4, "", "invalid YAML: expected ',' or '}', but got ':'")]),
    (
        "malformed_json.json",
        [(5, "", "invalid JSON: Expecting property name enclosed in double quotes (column 3)")],
    ),
]


@pytest.mark.parametrize("name, expected", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_contract_names_line_field_and_reason(name, expected):
    issues = issues_of(FIXTURES / name)
    assert [(i.line, i.field, i.message) for i in issues] == expected
    assert all(i.file == str(FIXTURES / name) for i in issues)


def test_issue_renders_as_file_line_field_message():
    issue = issues_of(FIXTURES / "anchor_day_32.yaml")[0]
    assert str(issue) == f"{FIXTURES / 'anchor_day_32.yaml'}:10 terms.billing.anchor_day: must be 1..31, got 32"


def test_every_problem_of_a_file_is_reported_in_one_run():
    issues = issues_of(FIXTURES / "many_problems.yaml")
    assert located(issues) == [
        (1, "id"),
        (4, "parties.client.id"),
        (6, "currency"),
        (8, "end"),
        (11, "terms.billing.cycle"),
        (12, "terms.billing.fee"),
        (14, "terms.payment.terms_days"),
        (15, "terms.payment.calendar"),
        (18, "terms.termination.notice_months"),
        (21, "terms.scope.services[0]"),
        (25, "terms.scope.services[1].assets"),
    ]
    by_field = {i.field: i.message for i in issues}
    assert by_field["terms.billing.cycle"] == (
        "must be 'monthly', 'quarterly' or 'yearly', got 'montly' (did you mean 'monthly'?)"
    )
    assert by_field["end"] == "must be on or after start (2025-01-01), got 2024-12-31"
    assert by_field["terms.payment.terms_days"] == "must be >= 0, got -1"
    assert by_field["terms.scope.services[1].assets"] == "must not be empty"
    assert "unknown calendar 'XX'" in by_field["terms.payment.calendar"]


@pytest.mark.parametrize(
    "terms, field, message",
    [
        (
            {"billing": {"fee": "600", "cycle": "weekly"}},
            "terms.billing.cycle",
            "must be 'monthly', 'quarterly' or 'yearly', got 'weekly'",
        ),
        ({"billing": {"fee": "600", "anchor_day": 0}}, "terms.billing.anchor_day", "must be 1..31, got 0"),
        (
            {"billing": {"fee": "600", "anchor_day": "1"}},
            "terms.billing.anchor_day",
            "must be a whole number, got '1'",
        ),
        ({"billing": {}}, "terms.billing.fee", "required"),
        ({"billing": {"fee": 0.1 + 0.2}}, "terms.billing.fee", "is not an exact decimal"),
        (
            {"payment": {"business_days": "yes"}},
            "terms.payment.business_days",
            "must be true or false, got 'yes'",
        ),
        (
            {"termination": {"notice_days": 30, "notice_months": 1}},
            "terms.termination.notice_months",
            "not both",
        ),
        (
            {
                "scope": {
                    "services": [
                        {
                            "id": "s",
                            "every": "cycle",
                            "on_request": {"respond_within_days": 1},
                            "assets": ["a"],
                        }
                    ]
                }
            },
            "terms.scope.services[0]",
            "not both",
        ),
        (
            {"scope": {"services": [{"id": "s", "every": "cycle", "assets": "a.example"}]}},
            "terms.scope.services[0].assets",
            "must be a list, got 'a.example'",
        ),
        (
            {"scope": {"change_order_rate": {"amount": "60", "per": "day"}}},
            "terms.scope.change_order_rate.per",
            "must be 'hour' or 'request', got 'day'",
        ),
        ({"late_penalty": {"cap": "-0.1"}}, "terms.late_penalty.cap", "rate must not be negative"),
        (
            {"late_penalty": {"interest": {"annual_rate": "0.1", "day_count": "30/360"}}},
            "terms.late_penalty.interest.day_count",
            "must be 'act/365' or 'act/360', got '30/360'",
        ),
        (
            {"late_penalty": {"interest": {"annual_rate": "0.1"}, "fixed_fee": "40.001"}},
            "terms.late_penalty.fixed_fee",
            "has 3 decimal places; EUR has 2",
        ),
        ({"billing": "monthly"}, "terms.billing", "must be a mapping of fields, got 'monthly'"),
    ],
)
def test_bad_terms_are_reported_at_their_path(terms, field, message):
    with pytest.raises(ContractError) as info:
        parse_contract(with_terms(**terms), file="c.yaml")
    assert [i.field for i in info.value.issues] == [field]
    assert message in info.value.issues[0].message
    assert info.value.issues[0].line is None  # no line map given


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"id": ""}, "id", "must use only letters"),
        ({"currency": "XYZ"}, "currency", "unknown currency 'XYZ'"),
        ({"jurisdiction": "FR"}, "jurisdiction", "must be 'ES', 'UK' or 'EU', got 'FR'"),
        ({"start": "2025-13-01"}, "start", "must be a date (YYYY-MM-DD), got '2025-13-01'"),
        ({"start": 20250101}, "start", "must be a date (YYYY-MM-DD), got 20250101"),
        (
            {"parties": {"provider": {"id": "client"}, "client": {"id": "acme"}}},
            "parties.provider.id",
            "must not be a role name",
        ),
        ({"parties": {"provider": {"id": "studio"}}}, "parties.client", "required"),
    ],
)
def test_bad_top_level_fields(change, field, message):
    with pytest.raises(ContractError) as info:
        parse_contract({**MINIMAL, **change})
    assert [i.field for i in info.value.issues] == [field]
    assert message in info.value.issues[0].message


def test_impossible_yaml_date_is_reported_at_its_line(tmp_path):
    doc = (FIXTURES / "payment_only.yaml").read_text().replace("start: 2025-03-01", "start: 2025-02-30")
    path = tmp_path / "c.yaml"
    path.write_text(doc)
    [issue] = issues_of(path)
    assert (issue.line, issue.field, issue.message) == (
        7,
        "start",
        "must be a date (YYYY-MM-DD), got '2025-02-30'",
    )


def test_jpy_fee_with_cents_is_too_precise():
    with pytest.raises(ContractError) as info:
        parse_contract({**with_terms(billing={"fee": "600.5"}), "currency": "JPY"})
    assert info.value.issues[0].message == "amount '600.5' has 1 decimal places; JPY has 0"


def test_non_mapping_and_empty_documents(tmp_path):
    with pytest.raises(ContractError) as info:
        parse_contract(["a"], file="c.yaml")
    assert "expected a mapping of contract fields, got a list" in str(info.value)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    assert issues_of(empty)[0].message.startswith("empty document")


def test_unsupported_extension(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("id: x\n")
    [issue] = issues_of(path)
    assert issue.message == "unsupported file type '.txt': use .yaml, .yml or .json"


def test_read_contract_keeps_line_numbers():
    source = read_contract(FIXTURES / "valid_full.yaml")
    assert source.line("terms", "billing", "anchor_day") == 15
    assert source.line("terms", "scope", "services", 1, "id") == 43
    assert source.line("terms", "nope") == 12  # falls back to the nearest ancestor


def test_direct_model_validate_still_checks_currency_and_jurisdiction():
    """Without parse_contract's context, the same rules hold (plain pydantic error)."""
    with pytest.raises(pydantic.ValidationError, match=r"terms\.billing\.fee: amount '10\.005' has 3 decimal places"):
        Contract.model_validate(with_terms(billing={"fee": "10.005"}))
    with pytest.raises(pydantic.ValidationError, match="'statutory' needs a jurisdiction"):
        Contract.model_validate(with_terms(late_penalty={"fixed_fee": "statutory"}))
    assert Contract.model_validate(with_terms(billing={"fee": "10.05"})).terms.billing.fee == Decimal("10.05")
