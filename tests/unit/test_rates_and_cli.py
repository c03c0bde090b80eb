"""2026 law, user rate files, ``rates``/``schema``, one --format vocabulary, strict dates,
unknown invoices, ``meta`` on events and tables at 80 columns.

Every figure is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from contractrules import statutory
from contractrules.api import evaluate
from contractrules.cli import main
from contractrules.errors import ContractError, InstallError
from contractrules.model.answers import PenaltyAnswer

ROOT = Path(__file__).resolve().parents[2]
CARE = ROOT / "rulesets" / "examples" / "website-care"


def _contract(code: str = "ES", currency: str = "EUR") -> dict:
    # no late_penalty clause: the statutory regime applies (grace 0, statutory rate and fee)
    return {
        "id": f"law-{code.lower()}",
        "timezone": "Europe/Madrid",
        "currency": currency,
        "jurisdiction": code,
        "start": "2026-01-01",
        "parties": {"provider": {"id": "p"}, "client": {"id": "c"}},
        "terms": {"payment": {"terms_days": 30}},
    }


def _invoice(day: str, amount: str = "1000.00") -> list[dict]:
    return [{"id": "e1", "type": "invoice_issued", "at": day, "invoice": "F-1", "amount": amount, "by": "p"}]


def _rates_file(tmp_path: Path, rows: list[dict], code: str = "ES", name: str = "my-rates.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"jurisdiction": code, "rates": rows}, sort_keys=False))
    return path


H2 = {"from": "2026-07-01", "to": "2026-12-31", "rate": "0.0990", "source": "test figure for 2026 H2"}


# --------------------------------------------------------------------------- 2026 law


def test_es_2026_first_half_uses_boe_a_2025_27201():
    # invoice 2026-01-15 + 30 days: due 2026-02-14; interest 15 Feb..16 Mar = 14 + 16 = 30 days
    # 1000.00 x 10.15% x 30 / 365 = 8.3424 -> 8.34; EUR 40 (Ley 3/2004 art. 8)
    p = evaluate(_contract("ES"), _invoice("2026-01-15"), date(2026, 3, 16)).penalty("F-1")
    assert (p.interest, p.fixed_fee, p.total, p.enforceable_from) == ("8.34", "40.00", "48.34", date(2026, 2, 15))


def test_eu_2026_first_half():
    # same dates as ES: 1000.00 x 10.15% x 30 / 365 = 8.34
    answer = evaluate(_contract("EU"), _invoice("2026-01-15"), date(2026, 3, 16))
    assert answer.penalty("F-1").interest == "8.34"
    assert not any("ends" in w for w in answer.warnings)


def test_uk_2026_second_half_is_fixed_at_11_75():
    # invoice 2026-06-01 + 30: due 2026-07-01; interest starts 2026-07-02 at 3.75% + 8 = 11.75%, fixed;
    # to 2026-07-31 = 30 days: 5000.00 x 11.75% x 30 / 365 = 48.2877 -> 48.29; GBP 70 (debt < 10,000)
    answer = evaluate(_contract("UK", "GBP"), _invoice("2026-06-01", "5000.00"), date(2026, 7, 31))
    p = answer.penalty("F-1")
    assert (p.interest, p.fixed_fee, p.total) == ("48.29", "70.00", "118.29")
    assert answer.warnings == []


def test_es_after_the_table_warns_and_uses_the_last_rate():
    # due 2026-06-20 (2026-05-21 + 30); 21 Jun..10 Jul = 20 days, all at 10.15% (H2 is not in the table):
    # 1000.00 x 10.15% x 20 / 365 = 5.5616 -> 5.56
    answer = evaluate(_contract("ES"), _invoice("2026-05-21"), date(2026, 7, 10))
    assert answer.penalty("F-1").interest == "5.56"
    (warning,) = [w for w in answer.warnings if "ends 2026-06-30" in w]
    assert "2026-07-01 to 2026-07-10 uses the last known rate 10.15%" in warning


# --------------------------------------------------------------------------- user rate files


def test_a_user_file_extends_the_table_and_is_named(tmp_path, monkeypatch):
    rates = _rates_file(tmp_path, [H2])
    monkeypatch.setenv(statutory.RATES_ENV, str(rates))
    # 21..30 Jun = 10 days at 10.15% (2.7808) + 1..10 Jul = 10 days at 9.90% (2.7123) = 5.4932 -> 5.49
    answer = evaluate(_contract("ES"), _invoice("2026-05-21"), date(2026, 7, 10))
    assert answer.penalty("F-1").interest == "5.49"
    assert not any("last known rate" in w for w in answer.warnings)
    (named,) = [w for w in answer.warnings if "user rate file" in w]
    assert str(rates) in named and "9.9% for 2026-07-01..2026-12-31" in named


def test_a_user_row_not_used_is_not_mentioned(tmp_path, monkeypatch):
    monkeypatch.setenv(statutory.RATES_ENV, str(_rates_file(tmp_path, [H2])))
    answer = evaluate(_contract("ES"), _invoice("2026-01-15"), date(2026, 3, 16))
    assert answer.penalty("F-1").interest == "8.34" and answer.warnings == []


def test_replacing_a_bundled_row_needs_override(tmp_path):
    row = {"from": "2026-01-01", "to": "2026-06-30", "rate": "0.1100", "source": "test: replaces 2026 H1"}
    rates = _rates_file(tmp_path, [row])
    with pytest.raises(ContractError) as err:
        statutory.table("ES", rates=(str(rates),), override=False)
    (issue,) = err.value.issues
    assert (issue.file, issue.line, issue.field) == (str(rates), 3, "rates[0]")
    assert "--rates-override" in issue.message and "2026-01-01..2026-06-30 (10.15%)" in issue.message
    t = statutory.table("ES", rates=(str(rates),), override=True)
    assert t.at(date(2026, 3, 1)).rate.normalize() == statutory.Row.model_validate(row).rate.normalize()
    assert t.origin(len(t.data.rates) - 1) == str(rates)


def test_a_gap_after_the_table_is_refused(tmp_path):
    rates = _rates_file(tmp_path, [{**H2, "from": "2026-08-01"}])
    with pytest.raises(ContractError, match="gap: nothing covers 2026-07-01..2026-07-31"):
        statutory.table("ES", rates=(str(rates),), override=False)


def test_a_user_file_is_validated_like_the_bundled_tables(tmp_path):
    rates = _rates_file(tmp_path, [{**H2, "rate": "-0.05", "sauce": "x"}])
    with pytest.raises(ContractError) as err:
        statutory.table("ES", rates=(str(rates),), override=False)
    fields = sorted(i.field for i in err.value.issues)
    assert fields == ["rates[0].rate", "rates[0].sauce"]
    assert all(i.line is not None and i.line >= 3 for i in err.value.issues)  # the row's own lines


def test_a_file_for_another_jurisdiction_leaves_the_table_alone(tmp_path):
    rates = _rates_file(tmp_path, [{**H2, "from": "2027-01-01", "to": "2027-06-30"}], code="UK")
    assert statutory.table("ES", rates=(str(rates),), override=False).user_files == ()
    assert statutory.table("UK", rates=(str(rates),), override=False).user_files == (str(rates),)


def test_cli_rates_option_and_rates_command(tmp_path):
    rates = _rates_file(tmp_path, [H2])
    runner = CliRunner()
    shown = runner.invoke(main, ["rates", "ES", "--format", "json", "--rates", str(rates)])
    assert shown.exit_code == 0, shown.output
    (es,) = json.loads(shown.stdout)
    assert es["covers"] == {"from": "2013-01-01", "to": "2026-12-31"}
    assert es["last_row"] == {
        "from": "2026-07-01",
        "to": "2026-12-31",
        "rate": "0.0990",
        "source": "test figure for 2026 H2",
        "file": str(rates),
    }
    bundled = json.loads(runner.invoke(main, ["rates", "--format", "json"]).stdout)  # the option did not leak
    assert [(t["jurisdiction"], t["covers"]["to"], t["last_row"]["rate"]) for t in bundled] == [
        ("ES", "2026-06-30", "0.1015"),
        ("UK", "2026-12-31", "0.1175"),
        ("EU", "2026-06-30", "0.1015"),
    ]


def test_a_missing_bundled_table_is_an_install_fault(monkeypatch):
    monkeypatch.setattr(statutory, "DATA_PACKAGE", "contractrules.no_such_data")
    statutory._bundled.cache_clear()
    statutory._table.cache_clear()
    try:
        with pytest.raises(InstallError, match="not installed correctly"):
            statutory.table("ES")
        result = CliRunner().invoke(main, ["compile", str(CARE / "contract.yaml")])
        assert result.exit_code == 1 and "reinstall" in result.stderr
    finally:
        statutory._bundled.cache_clear()
        statutory._table.cache_clear()


def test_the_compiled_ruleset_names_the_table_without_a_path():
    result = CliRunner().invoke(main, ["compile", str(CARE / "contract.yaml")])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["params"]["late_penalty"]["statutory"]["file"] == "rulesets/statutory/es.yaml"
    assert str(ROOT) not in result.stdout


# --------------------------------------------------------------------------- schema


def test_schema_command_and_the_shipped_contract_schema():
    import jsonschema

    runner = CliRunner()
    contract = json.loads(runner.invoke(main, ["schema", "contract"]).stdout)
    shipped = json.loads((ROOT / "contractrules" / "contract.schema.json").read_text())
    assert contract == shipped, "regenerate: contractrules schema contract > contractrules/contract.schema.json"
    validator = jsonschema.Draft202012Validator(contract)
    for path in [*ROOT.glob("rulesets/examples/*/contract.yaml"), *ROOT.glob("tests/scenarios/*/contract.yaml")]:
        doc = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        assert not list(validator.iter_errors(doc)), path
    assert list(validator.iter_errors({"id": "x", "terms": {"billing": {"fee": "1", "cycel": "monthly"}}}))
    events = jsonschema.Draft202012Validator(json.loads(runner.invoke(main, ["schema", "events"]).stdout))
    for line in (CARE / "events.jsonl").read_text().splitlines():
        assert not list(events.iter_errors(json.loads(line))), line
    for which in ("answer", "penalty"):
        assert json.loads(runner.invoke(main, ["schema", which]).stdout)["type"] == "object"


# --------------------------------------------------------------------------- formats, dates, invoices


@pytest.mark.parametrize(
    "args",
    [
        ["check", str(CARE / "contract.yaml"), str(CARE / "events.jsonl")],
        ["check", str(ROOT / "rulesets" / "statutory" / "uk.yaml")],
        ["compile", str(CARE / "contract.yaml")],
        ["rates"],
        [
            "penalty",
            str(CARE / "contract.yaml"),
            str(CARE / "events.jsonl"),
            "--invoice",
            "INV-2025-07",
            "--as-of",
            "2025-10-01",
        ],
    ],
)
def test_every_answering_command_speaks_json_and_table(args):
    runner = CliRunner()
    as_json = runner.invoke(main, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    json.loads(as_json.stdout)
    as_table = runner.invoke(main, [*args, "--format", "table"])
    assert as_table.exit_code == 0 and not as_table.stdout.lstrip().startswith(("{", "["))


def test_check_json_counts_events():
    result = CliRunner().invoke(
        main, ["check", str(CARE / "contract.yaml"), str(CARE / "events.jsonl"), "--format", "json"]
    )
    doc = json.loads(result.stdout)
    assert doc["contract"] == "website-care-2025" and doc["valid"] is True
    assert doc["events"]["valid"] == 111 and doc["events"]["by_type"]["work_performed"] == 84 + 4


def test_penalty_answer_to_json_round_trips():
    result = CliRunner().invoke(
        main,
        [
            "penalty",
            str(CARE / "contract.yaml"),
            str(CARE / "events.jsonl"),
            "--invoice",
            "INV-2025-07",
            "--as-of",
            "2025-10-01",
        ],
    )
    p = PenaltyAnswer.model_validate_json(result.stdout)
    assert (p.interest, p.fixed_fee, p.total) == ("5.42", "40.00", "45.42")  # rulesets/README.md
    assert json.loads(p.to_json()) == json.loads(result.stdout)


@pytest.mark.parametrize(
    "as_of,message",
    [
        ("2025-02-30", "2025-02-30: the day does not exist (2025-02 has 28 days)"),
        ("2024-13-01", "there is no month 13"),
        ("2025-10-1", "'2025-10-1' is not a date written YYYY-MM-DD"),
        ("01/10/2025", "is not a date written YYYY-MM-DD"),
    ],
)
def test_as_of_is_strict(as_of, message):
    result = CliRunner().invoke(main, ["evaluate", str(CARE / "contract.yaml"), "--as-of", as_of])
    assert result.exit_code == 2 and message in result.stderr


def test_an_unknown_invoice_names_the_file_and_suggests_the_nearest():
    events = str(CARE / "events.jsonl")
    result = CliRunner().invoke(
        main, ["penalty", str(CARE / "contract.yaml"), events, "--invoice", "INV-2025-7", "--as-of", "2025-10-01"]
    )
    assert result.exit_code == 2
    assert result.stderr == f"{events} invoice: no invoice INV-2025-7 issued by 2025-10-01; did you mean INV-2025-07?\n"


def test_store_not_initialised_exits_4(tmp_path):
    result = CliRunner().invoke(main, ["db", "status", "--db", f"sqlite:///{tmp_path}/none.db"])
    assert result.exit_code == 4 and "db init" in result.stderr


# --------------------------------------------------------------------------- meta


def test_meta_is_kept_and_counts_as_content():
    from contractrules.errors import EventError
    from contractrules.model import load_contract, parse_events

    contract = load_contract(CARE / "contract.yaml")
    event = {
        "id": "x1",
        "type": "invoice_issued",
        "at": "2025-08-01",
        "by": "studio",
        "invoice": "INV-9",
        "amount": "10.00",
        "meta": {"crm": {"ticket": 12}, "tags": ["a"]},
    }
    load = parse_events([(1, event), (2, dict(event))], contract)
    assert [r.event.meta for r in load.records] == [{"crm": {"ticket": 12}, "tags": ["a"]}]  # a repeat: ignored
    with pytest.raises(EventError, match="reused with different content"):
        parse_events([(1, event), (2, {**event, "meta": {"crm": {"ticket": 13}}})], contract)
    with pytest.raises(EventError, match="metadata: unknown field"):
        parse_events([(1, {**event, "metadata": {}})], contract)
    with pytest.raises(EventError, match="meta"):
        parse_events([(1, {**event, "meta": ["not", "an", "object"]})], contract)


def test_meta_is_stored_and_listed(tmp_path):
    from contractrules.store import open_store

    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(
            {
                "id": "x1",
                "type": "invoice_issued",
                "at": "2025-08-01",
                "by": "studio",
                "invoice": "INV-9",
                "amount": "10.00",
                "meta": {"erp": "A-1"},
            }
        )
        + "\n"
    )
    with open_store(f"sqlite:///{tmp_path}/s.db", migrate=True) as store:
        store.ingest(str(CARE / "contract.yaml"), str(events))
        (entry,) = store.log("website-care-2025")
        assert entry.meta == {"erp": "A-1"}
        snap = store.snapshot("website-care-2025", "2025-10-01")
        assert snap.load.records[0].event.meta == {"erp": "A-1"}


# --------------------------------------------------------------------------- 80 columns


def test_tables_read_well_at_80_columns():
    runner = CliRunner()
    args = [
        "evaluate",
        str(CARE / "contract.yaml"),
        str(CARE / "events.jsonl"),
        "--as-of",
        "2025-09-20",
        "--format",
        "table",
        "--all",
    ]
    out = runner.invoke(main, args, env={"COLUMNS": "80"}).stdout
    lines = out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert any(line.split() == ["obligation", "due", "status", "amount", "balance", "evidence"] for line in lines)
    assert any(
        line.split() == ["invoice", "enforceable", "from", "interest", "fixed", "fee", "total"] for line in lines
    )
    assert "grace extended until 2025-09-30 by Studio Web S.L. (event e26)" in out  # the reason, whole
    assert "…" not in out
    # long ids wrap after a separator, never inside a word
    starts = [line.split()[0] for line in lines if line.strip()]
    k = starts.index("service:malware-scan:")
    assert starts[k + 1 : k + 3] == ["acme-blog.example:", "2025-01-01"]
    assert not any(s.startswith(("ample", "xample", "-blog", "025-")) for s in starts)
