"""The evaluate / penalty / compile commands: answers, formats and exit codes (SPEC §8)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from contractrules.cli import main

ROOT = Path(__file__).resolve().parents[2]
CARE = ROOT / "rulesets" / "examples" / "website-care"
CONTRACT, EVENTS = str(CARE / "contract.yaml"), str(CARE / "events.jsonl")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_evaluate_json_is_the_spec_document():
    result = run("evaluate", CONTRACT, EVENTS, "--as-of", "2025-10-01")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert list(answer) == [
        "contract",
        "as_of",
        "state",
        "obligations",
        "violations",
        "penalties",
        "unapplied_credit",
        "rights",
        "warnings",
    ]
    assert answer["unapplied_credit"] == {"amount": "0.00", "currency": "EUR", "caused_by": []}
    assert answer["state"] == {
        "state": "terminated",
        "effective_end": "2025-07-30",
        "notice": {"given_on": "2025-07-30", "by": "acme", "waived": True},
    }
    pay = next(o for o in answer["obligations"] if o["id"] == "payment:INV-2025-07")
    # invoice 2025-07-30 + 30 days (event day not counted) = 2025-08-29
    assert (pay["due"], pay["status"], pay["balance"]) == ("2025-08-29", "violated", "600.00")
    # 33 days (2025-08-30 .. 2025-10-01) × 600.00 × 10% / 365 = 5.4247 → 5.42; + 40.00
    assert answer["penalties"] == [
        {
            "invoice": "INV-2025-07",
            "enforceable": True,
            "enforceable_from": "2025-10-01",
            "interest": "5.42",
            "fixed_fee": "40.00",
            "total": "45.42",
            "paid": "0.00",
            "balance": "45.42",
            "reasons": [],
        }
    ]
    assert [v["on"] for v in answer["violations"]] == sorted(v["on"] for v in answer["violations"])


def test_evaluate_is_deterministic():
    first = run("evaluate", CONTRACT, EVENTS, "--as-of", "2025-10-01").output
    assert run("evaluate", CONTRACT, EVENTS, "--as-of", "2025-10-01").output == first


def test_penalty_during_the_extended_grace():
    result = run("penalty", CONTRACT, EVENTS, "--invoice", "INV-2025-07", "--as-of", "2025-09-20")
    assert result.exit_code == 0, result.output
    p = json.loads(result.output)
    # 22 days (2025-08-30 .. 2025-09-20) × 600 × 0.10 / 365 = 3.6164 → 3.62
    assert (p["enforceable"], p["enforceable_from"], p["interest"], p["total"]) == (
        False,
        "2025-10-01",
        "3.62",
        "43.62",
    )
    assert p["due"] == "2025-08-29" and p["invoice_balance"] == "600.00"
    assert (p["paid"], p["balance"]) == ("0.00", "43.62")  # the penalty's own balance
    assert any("e26" in r for r in p["reasons"])


def test_penalty_table_for_people():
    result = run("penalty", CONTRACT, EVENTS, "--invoice", "INV-2025-07", "--as-of", "2025-10-01", "--format", "table")
    assert result.exit_code == 0
    assert "ENFORCEABLE" in result.output and "2025-10-01" in result.output


def test_evaluate_table_lists_open_obligations():
    result = run("evaluate", CONTRACT, EVENTS, "--as-of", "2025-10-01", "--format", "table")
    assert result.exit_code == 0
    assert "payment:INV-2025-07" in result.output and "late_payment:INV-2025-07" in result.output


def test_penalty_for_an_unknown_invoice_is_bad_input():
    result = run("penalty", CONTRACT, EVENTS, "--invoice", "INV-NOPE", "--as-of", "2025-10-01")
    assert result.exit_code == 2
    assert "INV-NOPE" in result.output


def test_bad_events_exit_2_and_name_the_line(tmp_path):
    bad = tmp_path / "events.jsonl"
    lines = Path(EVENTS).read_text().splitlines()
    lines.insert(
        2, '{"id": "x1", "type": "payment_received", "at": "2025-02-01T10:00:00", "amount": "5.00", "by": "acme"}'
    )
    bad.write_text("\n".join(lines) + "\n")
    result = run("evaluate", CONTRACT, str(bad), "--as-of", "2025-10-01")
    assert result.exit_code == 2
    assert f"{bad}:3 at:" in result.output or ":3 at" in result.output
    assert result.output.count("\n") >= 1 and "Traceback" not in result.output

    skipped = run("evaluate", CONTRACT, str(bad), "--as-of", "2025-10-01", "--skip-invalid")
    assert skipped.exit_code == 0
    answer = json.loads(skipped.output[skipped.output.index("{") :])
    assert any("skipped invalid input" in w and "x1" in w for w in answer["warnings"])


def test_as_of_is_required_and_must_be_a_date():
    assert run("evaluate", CONTRACT, EVENTS).exit_code == 2
    assert run("evaluate", CONTRACT, EVENTS, "--as-of", "01/10/2025").exit_code == 2


def test_compile_prints_the_ruleset_document():
    result = run("compile", CONTRACT)
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["format"] == "contractrules.ruleset/1"
    assert doc["rules"]["payment.invoice"] == {"all": [{"m": {"type": "invoice_issued"}}], "run": "payment.invoice"}
    assert doc["params"]["payment"]["terms_days"] == 30
    assert doc["clauses"] == ["payment", "termination", "billing", "late_penalty", "scope"]
