"""``contractrules check``: summary, ambiguous dates, and exit 2 with file:line field for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from contractrules.cli import cli_errors, main
from contractrules.errors import AmbiguousDateError, EngineError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONTRACTS = FIXTURES / "contracts"
EVENTS = FIXTURES / "events"
FULL = CONTRACTS / "valid_full.yaml"


def run(*args: object, columns: int = 1000):
    return CliRunner().invoke(main, ["check", *map(str, args)], env={"COLUMNS": str(columns)})


def test_summary_wraps_at_80_columns_without_losing_a_word():
    wide, narrow = run(FULL).stdout, run(FULL, columns=80).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert max(len(line) for line in wide.splitlines()) > 80  # the fixture has long lines to wrap
    assert narrow.split() == wide.split()  # the same words in the same order
    # a wrapped value continues under its value column, not at the margin
    lines = narrow.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Termination:"))
    assert lines[at + 1].startswith(" " * 14) and lines[at + 1].strip()


def test_valid_contract_summary():
    result = run(FULL)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for expected in [
        "Contract acme-web: Website maintenance, 12 sites",
        "  provider  studio  (Studio S.L.)",
        "  client    acme  (ACME S.A.)",
        "Term:         2025-01-01 to open-ended",
        "Time zone:    Europe/Madrid",
        "Currency:     EUR",
        "Jurisdiction: ES",
        "Billing:      600.00 EUR monthly, cycles anchored on day 1",
        "invoiced at the end of each cycle (arrears) within 7 days; proration: none",
        "month overflow: clip",
        "Payment:      due 30 days after the invoice date",
        "roll: none; no business calendar",
        "Late penalty: grace 15 days: enforceable from due + 16",
        "interest: 10% a year, act/365, accruing from the day after due",
        "fixed fee: 40.00 EUR per late invoice; interest cap: none",
        "reminder: not required; open disputes suspend enforceability",
        "allocation: principal first: money for an invoice pays the principal; only payments naming the penalty pay it",
        "ES: Código Civil art. 1173: a payment does not count towards capital while interest is unpaid; "
        "this contract pays principal first (set late_penalty.allocation: interest_first to follow it)",
        "Termination:  30 days of notice; effective at the end of the billing cycle containing the notice end",
        "  malware-scan: every cycle; assets: acme.example, shop.example",
        "  malware-removal: on request, respond within 2 days; assets: acme.example, shop.example",
        "  excluded: *.acme.example",
        "  excluded: legacy.example (retired in 2024)",
        "  change-order rate: 60.00 EUR per hour",
        "Ambiguous dates (first 24 cycles): none",
    ]:
        assert expected in out, expected
    assert result.stderr == ""


def test_check_mentions_the_interest_first_rule_only_for_es(tmp_path):
    doc = FULL.read_text().replace("disputes_suspend: true", "disputes_suspend: true\n    allocation: interest_first")
    assert "allocation: interest_first" in doc
    (tmp_path / "es.yaml").write_text(doc)
    out = run(tmp_path / "es.yaml").stdout
    assert "allocation: interest first: money for a late invoice pays its penalty" in out
    assert (
        "ES: Código Civil art. 1173: a payment does not count towards capital while interest is unpaid "
        "(followed: allocation interest_first)" in out
    )
    (tmp_path / "uk.yaml").write_text(doc.replace("jurisdiction: ES", "jurisdiction: UK"))
    out = run(tmp_path / "uk.yaml").stdout
    assert "allocation: interest first" in out and "1173" not in out


def test_an_event_naming_an_invoice_not_issued_is_not_bad_input():
    """SPEC §5 v2: the payment is held for INV-08, shown as unapplied credit, with a warning."""
    path = EVENTS / "payment_unknown_invoice.jsonl"
    assert run(FULL, path).exit_code == 0
    result = CliRunner().invoke(main, ["evaluate", str(FULL), str(path), "--as-of", "2025-07-10"])
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["unapplied_credit"] == {"amount": "600.00", "currency": "EUR", "caused_by": ["e2"]}
    assert (
        "payment e2 of 2025-07-05 (600.00 EUR) names invoice INV-08, not issued by 2025-07-10: held as "
        "unapplied credit reserved for it (nearest issued invoice: INV-07)"
    ) in answer["warnings"]


def test_minimal_payment_only_contract_passes():
    result = run(CONTRACTS / "payment_only.yaml")
    assert result.exit_code == 0, result.stderr
    assert "Billing:      none" in result.stdout
    assert "Payment:      due 14 days after the invoice date" in result.stdout
    assert "Late penalty: none" in result.stdout


def test_ambiguous_dates_are_listed_up_to_the_end_date():
    result = run(CONTRACTS / "anchor_31_clip.yaml")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("Ambiguous dates (first 24 cycles):")
    assert lines[start + 1 :] == [
        "  cycle 1: 2025-02-28 (day 31 does not exist in February 2025; clip)",
        "  cycle 3: 2025-04-30 (day 31 does not exist in April 2025; clip)",
        "  cycle 5: 2025-06-30 (day 31 does not exist in June 2025; clip)",
    ]


def test_roll_forward_names_the_month_that_lacks_the_day(tmp_path):
    doc = (
        (CONTRACTS / "anchor_31_clip.yaml")
        .read_text()
        .replace('fee: "600.00"', 'fee: "600.00"\n    month_overflow: roll_forward')
    )
    path = tmp_path / "c.yaml"
    path.write_text(doc)
    result = run(path)
    assert result.exit_code == 0, result.stderr
    assert "  cycle 1: 2025-03-01 (day 31 does not exist in February 2025; roll_forward)" in result.stdout
    assert "  cycle 3: 2025-05-01 (day 31 does not exist in April 2025; roll_forward)" in result.stdout


def test_month_overflow_error_makes_ambiguous_dates_errors():
    path = CONTRACTS / "overflow_error_ambiguous.yaml"
    result = run(path)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(" (use")[0] for line in lines] == [
        f"{path}:12 terms.billing.month_overflow: cycle 1: day 31 does not exist in February 2025 and month_overflow is 'error'",
        f"{path}:12 terms.billing.month_overflow: cycle 3: day 31 does not exist in April 2025 and month_overflow is 'error'",
        f"{path}:12 terms.billing.month_overflow: cycle 5: day 31 does not exist in June 2025 and month_overflow is 'error'",
    ]


BAD_CONTRACTS = [
    ("anchor_day_32.yaml", ["10 terms.billing.anchor_day: must be 1..31, got 32"]),
    ("unknown_key.yaml", ["9 terms.biling: unknown field (did you mean 'billing'?)"]),
    ("missing_timezone.yaml", ["1 timezone: required"]),
    (
        "invalid_timezone.yaml",
        ["5 timezone: unknown time zone 'Europe/Madird' (did you mean 'Europe/Madrid'?)"],
    ),
    ("negative_fee.yaml", ["10 terms.billing.fee: amount must not be negative, got -600.00"]),
    ("fee_too_precise.yaml", ["10 terms.billing.fee: amount '10.005' has 3 decimal places; EUR has 2"]),
    (
        "statutory_without_jurisdiction.yaml",
        [
            "11 terms.late_penalty.interest.annual_rate: 'statutory' needs a jurisdiction: set jurisdiction to ES, UK or EU",
            "12 terms.late_penalty.fixed_fee: 'statutory' needs a jurisdiction: set jurisdiction to ES, UK or EU",
        ],
    ),
    (
        "two_problems.yaml",
        [
            "10 terms.billing.anchor_day: must be 1..31, got 32",
            "12 terms.paymnet: unknown field (did you mean 'payment'?)",
        ],
    ),
    ("anchor_day_32.json", ["12 terms.billing.anchor_day: must be 1..31, got 32"]),
    ("malformed_yaml.yaml", ["4: invalid YAML: expected ',' or '}', but got ':'"]),
]


@pytest.mark.parametrize("name, expected", BAD_CONTRACTS, ids=[b[0] for b in BAD_CONTRACTS])
def test_bad_contract_exits_2_with_file_line_and_field(name, expected):
    path = CONTRACTS / name
    result = run(path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"{path}:{e}" for e in expected]
    assert "Traceback" not in result.stderr


def test_valid_events_are_counted_by_type():
    result = run(FULL, EVENTS / "valid.jsonl")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("Events: 12 valid")
    assert lines[start + 1 :] == [
        "  invoice_issued: 1",
        "  payment_received: 1",
        "  credit_note: 1",
        "  termination_notice: 1",
        "  waiver: 2",
        "  dispute_opened: 1",
        "  dispute_resolved: 1",
        "  reminder_sent: 1",
        "  work_requested: 1",
        "  work_performed: 1",
        "  change_order_agreed: 1",
    ]


BAD_EVENTS = [
    ("malformed_json.jsonl", "2: malformed JSON"),
    ("unknown_type.jsonl", "2 type: unknown event type 'invoice_paid'"),
    ("missing_field.jsonl", "2 amount: required"),
    ("wrong_type.jsonl", "2 effective: must be a date"),
    ("naive_timestamp.jsonl", "2 at: timestamp without offset"),
    ("negative_amount.jsonl", "2 amount: amount must not be negative"),
    ("amount_too_precise.jsonl", "1 amount: amount '600.005' has 3 decimal places; EUR has 2"),
    ("unknown_party.jsonl", "2 by: unknown party 'acme-corp'"),
    ("duplicate_id_conflict.jsonl", "3 id: duplicate id 'e2' with different content (first on line 2)"),
    ("bad_array.json", "4 at: timestamp without offset"),
]


@pytest.mark.parametrize("name, expected", BAD_EVENTS, ids=[b[0] for b in BAD_EVENTS])
def test_bad_events_exit_2_with_file_line_and_field(name, expected):
    path = EVENTS / name
    result = run(FULL, path)
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing is summarised when the input is refused
    assert any(line.startswith(f"{path}:{expected}") for line in result.stderr.splitlines()), result.stderr
    assert "Traceback" not in result.stderr


def test_every_bad_event_is_reported_in_one_run():
    path = EVENTS / "mixed_good_and_bad.jsonl"
    result = run(FULL, path)
    assert result.exit_code == 2
    assert [line.split(":")[1].split(" ")[0] for line in result.stderr.splitlines()] == ["2", "3"]


def test_missing_file_is_a_usage_error():
    result = run(CONTRACTS / "does_not_exist.yaml")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_error_decorator_maps_error_kinds_to_exit_codes():
    @click.command()
    @click.argument("kind")
    @cli_errors
    def boom(kind: str) -> None:
        if kind == "engine":
            raise EngineError("session broke")
        from datetime import date

        raise AmbiguousDateError(date(2025, 1, 31), 1)

    internal = CliRunner().invoke(boom, ["engine"])
    assert internal.exit_code == 1 and internal.stderr == "internal error: session broke\n"
    date_error = CliRunner().invoke(boom, ["date"])
    assert date_error.exit_code == 2 and date_error.stderr.startswith("error: 2025-01-31 + 1 month(s) is ambiguous")


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "contractrules", "check", str(CONTRACTS / "anchor_day_32.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("anchor_day_32.yaml:10 terms.billing.anchor_day: must be 1..31, got 32")


# --------------------------------------------------------------------------- warnings about the terms

_TERMS_CONTRACT = """\
id: warn
parties:
  provider: {{id: studio}}
  client: {{id: acme}}
timezone: Europe/Madrid
currency: EUR
start: 2025-01-01
terms:
{terms}
"""


def _check_terms(tmp_path, terms: str):
    path = tmp_path / "contract.yaml"
    path.write_text(_TERMS_CONTRACT.format(terms=terms))
    result = run(path)
    assert result.exit_code == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("warning:")]


NOTICE_WARNING = "warning: terms.termination.notice_months with month_overflow: error — a notice is not refused"
ROLL_WARNING = "can move a due date before its invoice date"


@pytest.mark.parametrize(("overflow", "warned"), [("error", True), ("clip", False), ("roll_forward", False)])
def test_check_warns_that_notice_months_clip_under_overflow_error(tmp_path, overflow, warned):
    lines = _check_terms(
        tmp_path,
        f'  billing: {{fee: "1.00", anchor_day: 1, month_overflow: {overflow}}}\n  termination: {{notice_months: 1}}',
    )
    assert any(line.startswith(NOTICE_WARNING) for line in lines) is warned, lines


@pytest.mark.parametrize(
    ("payment", "warned"),
    [
        # weekends only: a run of 2 non-business days (Sat, Sun); 1 day from a Saturday is a
        # Sunday, rolled back to Friday, before the invoice; 2 days never are
        ("{terms_days: 1, roll: preceding}", True),
        ("{terms_days: 2, roll: preceding}", False),
        # ES-CT: Good Friday, Sat, Sun, Easter Monday = 4 days in a row
        ("{terms_days: 3, roll: preceding, calendar: ES-CT}", True),
        ("{terms_days: 30, roll: preceding, calendar: ES-CT}", False),
        # 0 business days from a Saturday is that Saturday, rolled back to Friday
        ("{terms_days: 0, business_days: true, roll: preceding}", True),
        ("{terms_days: 1, business_days: true, roll: preceding}", False),
        ("{terms_days: 1, roll: following}", False),
        # modified_following goes back only at a month's end: from Sat 30 Aug 2025, + 1 = Sun
        # 31 Aug, the month's last day -> following is 1 Sep, another month -> preceding
        # Fri 29 Aug, before the invoice
        ("{terms_days: 1, roll: modified_following}", True),
        ("{terms_days: 2, roll: modified_following}", False),
        ("{terms_days: 0, business_days: true, roll: modified_following}", True),
    ],
)
def test_check_warns_when_a_backward_roll_can_precede_the_invoice(tmp_path, payment, warned):
    lines = _check_terms(tmp_path, f"  payment: {payment}")
    assert any(ROLL_WARNING in line for line in lines) is warned, lines
