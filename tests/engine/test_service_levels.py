"""terms.service_levels (SPEC §6.8): validation, the credit's arithmetic, rights, credit notes."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from contractrules.compiler.service_levels import amount
from contractrules.errors import ContractError, EventError
from contractrules.model import parse_contract, parse_events

SCENARIO = {
    "id": "sla",
    "parties": {"provider": {"id": "studio"}, "client": {"id": "acme"}},
    "timezone": "Europe/Madrid",
    "currency": "EUR",
    "start": "2025-01-01",
    "terms": {
        "termination": {"notice_days": 30},
        "scope": {
            "services": [
                {"id": "fix", "on_request": {"respond_within_days": 2}, "assets": ["a.example"]},
                {"id": "scan", "every": "cycle", "assets": ["a.example"]},
            ]
        },
        "service_levels": [
            {
                "service": "fix",
                "credit": {"percent": "0.10", "of": "value", "per_days": 3},
                "termination_right_after_days": 4,
            }
        ],
    },
}


def contract(**levels):
    data = copy.deepcopy(SCENARIO)
    if levels:
        data["terms"]["service_levels"] = [levels]
    return parse_contract(data)


def request(eid="r1", at="2025-03-10", value="300.00"):
    e = {"id": eid, "type": "work_requested", "at": at, "by": "acme", "service": "fix", "asset": "a.example"}
    if value is not None:
        e["value"] = value
    return e


def evaluate(engine, c, events, as_of):
    records = parse_events(list(enumerate(events, 1)), c).records
    return engine.evaluate(c, records, date.fromisoformat(as_of)).to_dict()


@pytest.mark.parametrize(
    "levels, field, message",
    [
        (
            {"service": "nope", "credit": {"percent": "0.1", "of": "value"}},
            "terms.service_levels[0].service",
            "'nope' is not a service of terms.scope",
        ),
        (
            {"service": "scan", "credit": {"percent": "0.1", "of": "value"}},
            "terms.service_levels[0].service",
            "'scan' is recurring (every: cycle): service levels apply to on-request services",
        ),
        (
            {"service": "fix", "credit": {"percent": "0.1", "of": "fee"}},
            "terms.service_levels[0].credit.of",
            "'fee' needs terms.billing (the fee of the cycle containing the due date)",
        ),
        (
            {"service": "fix", "credit": {"percent": "0", "of": "value"}},
            "terms.service_levels[0].credit.percent",
            "must be a fraction in (0, 1], got 0",
        ),
        (
            {"service": "fix", "credit": {"percent": "0.1", "of": "value", "cap_percent": "1.5"}},
            "terms.service_levels[0].credit.cap_percent",
            "must be a fraction in (0, 1], got 1.5",
        ),
        (
            {"service": "fix", "credit": {"percent": "0.1", "of": "value", "per_days": 0}},
            "terms.service_levels[0].credit.per_days",
            "must be >= 1, got 0",
        ),
        ({"service": "fix"}, "terms.service_levels[0]", "needs a credit, a termination_right_after_days, or both"),
    ],
)
def test_bad_service_levels_are_refused_at_their_field(levels, field, message):
    with pytest.raises(ContractError) as err:
        contract(**levels)
    assert [(i.field, i.message) for i in err.value.issues] == [(field, message)]


def test_a_request_without_value_is_bad_input_when_the_credit_is_on_value():
    with pytest.raises(EventError) as err:
        parse_events([(1, request(value=None))], contract())
    assert [(i.field, i.line) for i in err.value.issues] == [("value", 1)]
    parse_events([(1, request(value=None))], contract(service="fix", termination_right_after_days=3))


@pytest.mark.parametrize(
    "partial, delay, periods, credit, capped",
    [
        ("full", 1, "1", "30.00", False),
        ("full", 3, "1", "30.00", False),
        ("full", 4, "2", "60.00", False),
        ("pro_rata", 4, "1.333333333333333333333333333", "40.00", False),
        ("full", 13, "5", "135.00", True),  # 150.00 capped at 45 % of 300.00
    ],
)
def test_credit_arithmetic(partial, delay, periods, credit, capped):
    level = {
        "credit": {"percent": "0.10", "of": "value", "per_days": 3, "partial_period": partial, "cap_percent": "0.45"}
    }
    got, n, was_capped = amount(level, Decimal("300.00"), delay)
    assert (str(n), f"{got:.2f}", was_capped) == (periods, credit, capped)


def test_on_time_work_owes_nothing_and_the_performance_day_counts(engine):
    c = contract()
    done_on_due = {
        "id": "w1",
        "type": "work_performed",
        "at": "2025-03-12",
        "by": "studio",
        "service": "fix",
        "asset": "a.example",
    }
    a = evaluate(engine, c, [request(), done_on_due], "2025-04-01")
    assert [o["kind"] for o in a["obligations"] if o["kind"] == "credit"] == [] and a["rights"] == []
    late = {**done_on_due, "at": "2025-03-13"}  # one day late: one started period of 3 days
    a = evaluate(engine, c, [request(), late], "2025-04-01")
    credit = next(o for o in a["obligations"] if o["kind"] == "credit")
    assert (credit["id"], credit["amount"], credit["caused_by"]) == ("credit:fix:a.example:r1", "30.00", ["r1", "w1"])
    assert a["rights"] == []  # done by due + 4


def test_the_right_needs_work_undone_by_due_plus_n(engine):
    c = contract()
    work = {
        "id": "w1",
        "type": "work_performed",
        "at": "2025-03-16",
        "by": "studio",
        "service": "fix",
        "asset": "a.example",
    }
    assert evaluate(engine, c, [request(), work], "2025-04-01")["rights"] == []  # done on due + 4 = 03-16
    late = evaluate(engine, c, [request(), {**work, "at": "2025-03-17"}], "2025-04-01")
    assert [(r["id"], r["from"]) for r in late["rights"]] == [("termination_right:r1", "2025-03-17")]
    assert evaluate(engine, c, [request()], "2025-03-16")["rights"] == []  # not yet


def test_a_notice_with_the_right_is_not_short_and_without_it_is(engine):
    c = contract()
    notice = {"id": "n1", "type": "termination_notice", "at": "2025-03-20", "by": "acme", "effective": "2025-03-25"}
    with_right = evaluate(engine, c, [request(), notice], "2025-04-30")
    assert with_right["state"]["effective_end"] == "2025-03-25"
    assert not [v for v in with_right["violations"] if v["kind"] == "short_notice"]
    early = {**notice, "at": "2025-03-16"}  # the right starts 03-17: not held yet
    without = evaluate(engine, c, [request(), early], "2025-04-30")
    assert without["state"]["effective_end"] == "2025-04-15"
    assert [v["id"] for v in without["violations"] if v["kind"] == "short_notice"] == ["short_notice:n1"]


def test_credit_notes_settle_it_and_stray_ones_warn(engine):
    c = contract()
    note = {"id": "c1", "type": "credit_note", "at": "2025-03-20", "by": "studio", "request": "r1", "amount": "50.00"}
    stray = {**note, "id": "c2", "request": "r9"}
    a = evaluate(engine, c, [request(), note, stray], "2025-03-20")  # delay 8 -> 3 periods -> 90.00
    credit = next(o for o in a["obligations"] if o["kind"] == "credit")
    assert (credit["amount"], credit["balance"], credit["status"]) == ("90.00", "40.00", "pending")
    assert any("credit note c2 names request r9" in w for w in a["warnings"])


def test_a_request_credit_note_without_service_levels_is_ignored_with_a_warning(engine):
    data = copy.deepcopy(SCENARIO)
    del data["terms"]["service_levels"]
    c = parse_contract(data)
    note = {"id": "c1", "type": "credit_note", "at": "2025-03-20", "by": "studio", "request": "r1", "amount": "5.00"}
    a = evaluate(engine, c, [note], "2025-03-21")
    assert a["warnings"] == ["event c1 (credit_note) has no clause in this contract to apply to: ignored"]


def test_check_describes_service_levels(tmp_path):
    from click.testing import CliRunner

    from contractrules.cli import main

    folder = (
        __import__("pathlib").Path(__file__).resolve().parents[1] / "scenarios" / "service_levels_accord_late_delivery"
    )
    result = CliRunner().invoke(main, ["check", str(folder / "contract.yaml")], env={"COLUMNS": "1000"})
    assert result.exit_code == 0, result.stderr
    assert (
        "Service levels:\n  delivery: credit 10.5% of the request's value per started 2 days late, capped at 55%; "
        "termination right if not done 15 days after due\n"
    ) in result.stdout


def test_the_table_report_shows_rights():
    from click.testing import CliRunner

    from contractrules.cli import main

    folder = (
        __import__("pathlib").Path(__file__).resolve().parents[1] / "scenarios" / "service_levels_accord_late_delivery"
    )
    result = CliRunner(env={"COLUMNS": "120"}).invoke(
        main,
        [
            "evaluate",
            str(folder / "contract.yaml"),
            str(folder / "events.jsonl"),
            "--as-of",
            "2019-01-11",
            "--format",
            "table",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Right: termination_right:rB held by buyer from 2018-02-16 (terms.service_levels)" in result.stdout


def test_the_answer_schema_describes_rights_with_from():
    from contractrules.model.answers import Answer

    right = Answer.model_json_schema(mode="serialization")["$defs"]["Right"]
    assert list(right["properties"]) == ["id", "party", "from", "clause", "caused_by"]
    assert right["additionalProperties"] is False
