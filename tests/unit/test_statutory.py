"""Statutory tables: validation with lines, lookups in force on a date, compensation tiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from contractrules.api import evaluate
from contractrules.cli import main
from contractrules.errors import ContractError, DateError
from contractrules.statutory import load_table, table

ROOT = Path(__file__).resolve().parents[2]
ES = ROOT / "rulesets" / "statutory" / "es.yaml"


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = ES.read_text()
    assert old in text
    path = tmp_path / "es.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    "code,last", [("ES", date(2026, 6, 30)), ("UK", date(2026, 12, 31)), ("EU", date(2026, 6, 30))]
)
def test_the_bundled_tables_are_valid_and_sourced(code, last):
    t = table(code)
    assert all(len(row.source) > 10 for row in t.data.rates)
    assert t.data.rates[-1].to == last
    assert t.file == f"rulesets/statutory/{code.lower()}.yaml"  # relative: no path of this machine


def test_rate_in_force_on_a_date():
    es = table("ES")
    assert es.at(date(2013, 2, 23)).rate == Decimal("0.0775")  # 7 points before 24 Feb 2013
    assert es.at(date(2013, 2, 24)).rate == Decimal("0.0875")
    assert es.at(date(2024, 12, 31)).rate == Decimal("0.1225")
    assert es.at(date(2025, 1, 1)).rate == Decimal("0.1115")
    assert es.at(date(2026, 6, 30)).beyond is False  # 2026 H1: BOE-A-2025-27201
    beyond = es.at(date(2026, 7, 1))  # 2026 H2 is not published in the table
    assert (beyond.rate, beyond.beyond) == (Decimal("0.1015"), True)
    with pytest.raises(DateError, match="no statutory rate is known before 2013-01-01"):
        es.at(date(2012, 12, 31))


@pytest.mark.parametrize(
    "debt,fee", [("999.99", "40.00"), ("1000.00", "70.00"), ("9999.99", "70.00"), ("10000.00", "100.00")]
)
def test_uk_compensation_tiers(debt, fee):
    assert table("UK").compensation(Decimal(debt)) == Decimal(fee)


def test_a_gap_is_reported_with_its_line(tmp_path):
    path = _broken(tmp_path, "{from: 2014-07-01, to: 2014-12-31", "{from: 2014-08-01, to: 2014-12-31")
    with pytest.raises(ContractError) as err:
        load_table(path)
    (issue,) = err.value.issues
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "2014-08-01" in text)
    assert (issue.line, issue.field) == (line, "rates[4].from")
    assert "gap: nothing covers 2014-07-01..2014-07-31" in issue.message


def test_overlap_unsorted_and_unknown_keys_are_all_reported(tmp_path):
    path = _broken(tmp_path, "{from: 2015-01-01, to: 2015-06-30", "{from: 2014-12-01, to: 2015-06-30")
    text = path.read_text().replace("{from: 2016-07-01, to: 2016-12-31", "{from: 2010-07-01, to: 2016-12-31")
    text = text.replace("rate_mode: per_half_year", "rate_mode: per_half_year\nrate_mod: typo")
    path.write_text(text)
    with pytest.raises(ContractError) as err:
        load_table(path)
    messages = [f"{i.field}: {i.message}" for i in err.value.issues]
    assert any("overlaps the previous row" in m for m in messages)
    assert any("must be sorted" in m for m in messages)
    assert any(m.startswith("rate_mod:") for m in messages)


def test_check_validates_a_table(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["check", str(ES)])
    assert ok.exit_code == 0 and "28 rows" in ok.output
    bad = _broken(tmp_path, 'rate: "0.1015"', 'rate: "-0.1015"')
    result = runner.invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    assert "rates[26].rate" in result.output


def test_a_lower_contract_rate_is_warned_about():
    contract = {
        "id": "low",
        "timezone": "Europe/Madrid",
        "currency": "EUR",
        "jurisdiction": "ES",
        "start": "2025-01-01",
        "parties": {"provider": {"id": "p"}, "client": {"id": "c"}},
        "terms": {
            "payment": {"terms_days": 30},
            "late_penalty": {"interest": {"annual_rate": "0.05"}, "fixed_fee": "statutory"},
        },
    }
    events = [{"id": "e1", "type": "invoice_issued", "at": "2025-02-01", "invoice": "A", "amount": "100.00", "by": "p"}]
    answer = evaluate(contract, events, date(2025, 4, 1))
    assert any("5% is below the statutory rate 11.15%" in w for w in answer.warnings)
    # due 2025-02-01 + 30 = 2025-03-03; interest 2025-03-04 .. 2025-04-01 = 29 days at the contract's 5%:
    assert answer.penalty("A").interest == "0.40"  # 100 x 0.05 x 29 / 365 = 0.3973
    assert answer.penalty("A").fixed_fee == "40.00"
