"""Dated terms (SPEC §6.7): which date decides each term, merging, refusals, citations."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from click.testing import CliRunner

from contractrules.cli import main
from contractrules.errors import ContractError
from contractrules.model import parse_contract
from contractrules.model.amendments import merge, paths, versions
from tests.engine.conftest import BASE, invoice, make_records


def amended(*amendments: dict, **terms: dict):
    data = copy.deepcopy(BASE)
    data["terms"].update(terms)
    data["amendments"] = list(amendments)
    return parse_contract(data)


def amendment(aid: str, effective: str, terms: dict, channel: str = "email", agreed_by=("studio", "acme")) -> dict:
    return {"id": aid, "effective": effective, "agreed_by": list(agreed_by), "channel": channel, "terms": terms}


def problems(data_amendments: list[dict], **terms) -> list[str]:
    with pytest.raises(ContractError) as err:
        amended(*data_amendments, **terms)
    return [f"{i.field}: {i.message}" for i in err.value.issues]


# --------------------------------------------------------------------------- merging


def test_merge_mappings_key_by_key_lists_replace_null_sets_null():
    base = {
        "late_penalty": {"grace_days": 15, "cap": "0.1", "interest": {"annual_rate": "0.1", "day_count": "act/365"}},
        "scope": {"services": [{"id": "a"}], "excluded_assets": ["x"]},
    }
    change = {"late_penalty": {"cap": None, "interest": {"annual_rate": "0.2"}}, "scope": {"services": [{"id": "b"}]}}
    assert merge(base, change) == {
        "late_penalty": {"grace_days": 15, "cap": None, "interest": {"annual_rate": "0.2", "day_count": "act/365"}},
        "scope": {"services": [{"id": "b"}], "excluded_assets": ["x"]},
    }
    assert base["late_penalty"]["cap"] == "0.1", "merge never changes its input"
    assert paths(change) == [
        ("late_penalty", "cap"),
        ("late_penalty", "interest", "annual_rate"),
        ("scope", "services"),
    ]


def test_versions_are_in_date_order_and_cumulative():
    c = amended(
        amendment("b", "2025-06-01", {"billing": {"timing": "advance"}}),
        amendment("a", "2025-03-01", {"billing": {"fee": "650.00"}}),
    )
    vs = versions(c)
    assert [(v.effective, v.amendment and v.amendment.id) for v in vs] == [
        (date(2025, 1, 1), None),
        (date(2025, 3, 1), "a"),
        (date(2025, 6, 1), "b"),
    ]
    assert str(vs[2].terms.billing.fee) == "650.00" and vs[2].terms.billing.timing == "advance"
    assert vs[1].terms.billing.timing == "arrears"


# --------------------------------------------------------------------------- refusals (exit 2)


@pytest.mark.parametrize("field", ["cycle", "anchor_day", "month_overflow"])
def test_the_schedule_cannot_be_amended(field):
    value = {"cycle": "quarterly", "anchor_day": 15, "month_overflow": "roll_forward"}[field]
    assert problems([amendment("x", "2025-03-01", {"billing": {field: value}})]) == [
        f"amendments[0].terms.billing.{field}: terms.billing.{field} cannot be amended: a new schedule is a new contract"
    ]


def test_agreed_by_must_name_both_parties():
    assert problems([amendment("x", "2025-03-01", {"billing": {"fee": "1.00"}}, agreed_by=["studio"])]) == [
        "amendments[0].agreed_by: must name both parties: an amendment is agreed by the provider and the client"
    ]
    assert problems([amendment("x", "2025-03-01", {"billing": {"fee": "1.00"}}, agreed_by=["studio", "bob"])]) == [
        "amendments[0].agreed_by: unknown party 'bob': use 'studio' and 'acme'"
    ]
    amended(amendment("x", "2025-03-01", {"billing": {"fee": "1.00"}}, agreed_by=["provider", "client"]))  # roles do


def test_same_date_same_path_is_an_error_but_other_paths_merge():
    found = problems(
        [
            amendment("a", "2025-03-01", {"billing": {"fee": "650.00"}}),
            amendment("b", "2025-03-01", {"billing": {"fee": "700.00"}}),
        ]
    )
    assert found == [
        "amendments[1].terms.billing.fee: amendment 'a' changes the same term on the same date (2025-03-01)"
    ]
    c = amended(
        amendment("a", "2025-03-01", {"billing": {"fee": "650.00"}}),
        amendment("b", "2025-03-01", {"billing": {"timing": "advance"}}),
        amendment("c", "2025-04-01", {"billing": {"fee": "700.00"}}),
    )
    assert str(versions(c)[-1].terms.billing.fee) == "700.00"


def test_bad_amended_values_and_sections_are_reported_at_their_path():
    found = problems(
        [
            amendment("a", "2025-03-01", {"billing": {"fee": "6.001", "feee": 1}}),
            amendment("a", "2024-12-31", {"scope": {"services": []}, "late_penalty": None}),
        ]
    )
    assert sorted(found) == sorted(
        [
            "amendments[1].id: duplicate amendment id 'a' (also amendments[0])",
            "amendments[0].terms.billing.fee: amount '6.001' has 3 decimal places; EUR has 2",
            "amendments[0].terms.billing.feee: unknown field (did you mean 'fee'?)",
            "amendments[1].effective: must be on or after start (2025-01-01), got 2024-12-31",
            "amendments[1].terms.scope: terms.scope is not in the contract: an amendment changes a clause, it cannot add one (record a new contract)",
            "amendments[1].terms.late_penalty: an amendment cannot remove terms.late_penalty (record a new contract)",
        ]
    )


def test_check_exits_2_with_file_line_and_field(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "id: x\nparties:\n  provider: {id: studio}\n  client: {id: acme}\ntimezone: UTC\ncurrency: EUR\n"
        "start: 2025-01-01\nterms:\n  billing: {fee: '600.00'}\namendments:\n"
        "  - id: a\n    effective: 2025-03-01\n    agreed_by: [studio, acme]\n    terms:\n"
        "      billing: {anchor_day: 15}\n"
    )
    result = CliRunner().invoke(main, ["check", str(path)], env={"COLUMNS": "1000"})  # unwrapped lines
    assert result.exit_code == 2
    assert (
        f"{path}:15 amendments[0].terms.billing.anchor_day: terms.billing.anchor_day cannot be amended" in result.stderr
    )


def test_check_lists_amendments(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "id: x\nparties:\n  provider: {id: studio}\n  client: {id: acme}\ntimezone: UTC\ncurrency: EUR\n"
        "start: 2025-01-01\nterms:\n  billing: {fee: '600.00'}\namendments:\n"
        "  - {id: fee-up, effective: 2025-03-01, agreed_by: [studio, acme], channel: phone, terms: {billing: {fee: '650.00'}}}\n"
    )
    result = CliRunner().invoke(main, ["check", str(path)], env={"COLUMNS": "1000"})  # unwrapped lines
    assert result.exit_code == 0, result.stderr
    assert (
        "Amendments:\n  fee-up: from 2025-03-01, agreed by studio and acme, by phone (verbal: findings that use it "
        "are verbal)\n    terms.billing.fee: 650.00\n"
    ) in result.stdout


# --------------------------------------------------------------------------- the date that decides


def _answer(engine, contract, events, as_of):
    return engine.evaluate(contract, make_records(contract, events), date.fromisoformat(as_of)).to_dict()


def test_payment_terms_by_invoice_date(engine):
    c = amended(amendment("pay", "2025-03-01", {"payment": {"terms_days": 10}}))
    a = _answer(engine, c, [invoice("e1", "INV-1", "2025-02-28"), invoice("e2", "INV-2", "2025-03-01")], "2025-03-05")
    obs = {o["id"]: o for o in a["obligations"]}
    assert obs["payment:INV-1"]["due"] == "2025-03-30" and obs["payment:INV-1"]["clause"] == "terms.payment"
    assert obs["payment:INV-2"]["due"] == "2025-03-11"
    assert obs["payment:INV-2"]["clause"] == "amendments[pay].terms.payment"
    assert obs["payment:INV-2"]["caused_by"] == ["e2", "amendment:pay"]


def test_termination_by_notice_date(engine):
    c = amended(amendment("short", "2025-03-10", {"termination": {"notice_days": 5, "effective": "notice_end"}}))
    notice = {"id": "n1", "type": "termination_notice", "at": "2025-03-09", "by": "acme", "channel": "letter"}
    a = _answer(engine, c, [notice], "2025-03-20")
    assert a["state"]["effective_end"] == "2025-04-30"  # 30 days, end_of_cycle: the notice came before
    notice["at"] = "2025-03-10"
    a = _answer(engine, c, [notice], "2025-03-20")
    assert a["state"]["effective_end"] == "2025-03-15"  # 5 days, notice_end
    notice["effective"] = "2025-03-12"
    v = next(v for v in _answer(engine, c, [notice], "2025-03-20")["violations"] if v["kind"] == "short_notice")
    assert (v["id"], v["clause"], v["caused_by"]) == (
        "short_notice:n1",
        "amendments[short].terms.termination",
        ["n1", "amendment:short"],
    )


def test_scope_by_request_date_list_replaces(engine):
    scope = {"services": [{"id": "fix", "on_request": {"respond_within_days": 2}, "assets": ["a.example"]}]}
    joined = {"services": [{"id": "fix", "on_request": {"respond_within_days": 1}, "assets": ["b.example"]}]}
    c = amended(amendment("site-b", "2025-03-01", {"scope": joined}, channel="video"), scope=scope)

    def req(eid, at, asset):
        return {
            "id": eid,
            "type": "work_requested",
            "at": at,
            "by": "acme",
            "channel": "email",
            "service": "fix",
            "asset": asset,
        }

    a = _answer(
        engine,
        c,
        [
            req("r1", "2025-02-28", "b.example"),
            req("r2", "2025-03-01", "b.example"),
            req("r3", "2025-03-01", "a.example"),
        ],
        "2025-03-05",
    )
    vs = {v["id"]: v for v in a["violations"] if v["kind"] != "unbilled"}
    obs = {o["id"]: o for o in a["obligations"] if o["kind"] == "service"}
    assert set(vs) == {"out_of_scope_request:r1", "out_of_scope_request:r3", "late_service:fix:b.example:r2"}
    assert vs["out_of_scope_request:r1"]["clause"] == "terms.scope"
    # the list replaced the whole list: a.example is no longer in scope from 2025-03-01
    assert vs["out_of_scope_request:r3"]["clause"] == "amendments[site-b].terms.scope"
    assert obs["service:fix:b.example:r2"]["due"] == "2025-03-02"  # respond within 1 day, amended
    # agreed by video only: every finding that rests on it is verbal, though the request was written
    assert obs["service:fix:b.example:r2"]["evidence"] == "verbal"
    assert vs["late_service:fix:b.example:r2"]["evidence"] == "verbal"
    assert vs["out_of_scope_request:r1"]["evidence"] == "written"


def test_null_sets_null_cap_removed(engine):
    c = amended(
        amendment("nocap", "2025-03-01", {"late_penalty": {"cap": None}}),
        late_penalty={"grace_days": 0, "interest": {"annual_rate": "0.50"}, "cap": "0.01"},
    )
    before = _answer(engine, c, [invoice("e1", "INV-1", "2025-01-15", "1000.00")], "2025-05-31")
    after = _answer(engine, c, [invoice("e2", "INV-2", "2025-03-01", "1000.00")], "2025-05-31")
    assert before["penalties"][0]["interest"] == "10.00"  # capped at 1 % of 1000.00 (terms of the invoice date)
    # INV-2 due 03-31, 04-01..05-31 = 61 days x 1000 x 0.5 / 365 = 83.56, no cap
    assert after["penalties"][0]["interest"] == "83.56"


def test_an_amendment_over_the_statutory_maximum_is_capped_from_its_date(engine, tmp_path):
    c = parse_contract(
        {
            "id": "es",
            "parties": {"provider": {"id": "studio"}, "client": {"id": "acme"}},
            "timezone": "Europe/Madrid",
            "currency": "EUR",
            "jurisdiction": "ES",
            "start": "2025-01-01",
            "terms": {"payment": {"terms_days": 30}},
            "amendments": [amendment("longer", "2025-06-01", {"payment": {"terms_days": 90}})],
        }
    )
    a = _answer(engine, c, [invoice("e1", "INV-1", "2025-05-31"), invoice("e2", "INV-2", "2025-06-10")], "2025-06-20")
    obs = {o["id"]: o for o in a["obligations"]}
    assert obs["payment:INV-1"]["due"] == "2025-06-30"  # 30 days: before the amendment
    assert obs["payment:INV-2"]["due"] == "2025-08-09"  # 90 days capped at 60 (Ley 3/2004)
    v = {v["id"]: v for v in a["violations"]}["statutory_limit:terms.payment"]
    assert (v["on"], v["clause"], v["caused_by"]) == (
        "2025-06-01",
        "amendments[longer].terms.payment",
        ["amendment:longer"],
    )
    path = tmp_path / "c.yaml"
    path.write_text(
        "id: es\nparties: {provider: {id: studio}, client: {id: acme}}\ntimezone: Europe/Madrid\ncurrency: EUR\n"
        "jurisdiction: ES\nstart: 2025-01-01\nterms: {payment: {terms_days: 30}}\namendments:\n"
        "  - {id: longer, effective: 2025-06-01, agreed_by: [studio, acme], terms: {payment: {terms_days: 90}}}\n"
    )
    result = CliRunner().invoke(main, ["check", str(path)], env={"COLUMNS": "1000"})  # unwrapped lines
    assert (
        "statutory_limit: amendments[longer].terms.payment (from 2025-06-01): 90 days exceeds the 60-day"
        in result.stdout
    )


def test_documents_explain_scope_with_the_terms_of_the_request_date(engine):
    from contractrules.documents.render import build_context

    scope = {"services": [{"id": "fix", "on_request": {"respond_within_days": 2}, "assets": ["a.example"]}]}
    joined = {"services": [{"id": "fix", "on_request": {"respond_within_days": 1}, "assets": ["b.example"]}]}
    c = amended(amendment("site-b", "2025-03-01", {"scope": joined}), scope=scope)
    req = {
        "id": "r3",
        "type": "work_requested",
        "at": "2025-03-01",
        "by": "acme",
        "channel": "email",
        "service": "fix",
        "asset": "a.example",
    }
    answer = engine.evaluate(c, make_records(c, [req]), date(2025, 3, 5))
    finding = next(f for f in build_context(c, answer, "en").scope.findings if f.id == "out_of_scope_request:r3")
    assert "a.example" in finding.why and "not one of the assets" in finding.why


def test_a_term_and_a_term_inside_it_on_the_same_date_clash():
    found = problems(
        [
            amendment("a", "2025-03-01", {"late_penalty": {"interest": None}}),
            amendment("b", "2025-03-01", {"late_penalty": {"interest": {"annual_rate": "0.2"}}}),
        ]
    )
    assert found == [
        "amendments[1].terms.late_penalty.interest.annual_rate: amendment 'a' changes the same term "
        "on the same date (2025-03-01)"
    ]
