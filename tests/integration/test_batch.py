"""contractrules batch: answers, errors, layouts, formats, exit codes, local processes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from contractrules.batch import run_batch
from contractrules.batch.local import InProcess
from contractrules.batch.runner import _chunks, _ordered, plan_contracts
from contractrules.batch.summary import BatchSummary
from contractrules.cli import main
from contractrules.errors import InputError
from tests.integration.batch_fixtures import (
    AS_OF,
    BAD_EVENTS,
    GOOD_EVENTS,
    A,
    B,
    contract,
    events_dir,
    events_file,
    events_parquet,
    good_dir,
    invoice,
    mixed_dir,
    read_jsonl,
    write_contract,
)

MIXED_EVENTS = {**GOOD_EVENTS, "acme-bad-events": BAD_EVENTS, "ghost": [invoice("g1")]}


def _mixed(tmp_path: Path):
    d = mixed_dir(tmp_path)
    ev = events_file(tmp_path, MIXED_EVENTS, ["this is not json"])
    return d, ev


def _cli(*args: str):
    return CliRunner().invoke(main, ["batch", *args])


# --------------------------------------------------------------------------- answers


def test_answers_are_the_hand_computed_ones_and_never_mix_colliding_ids(tmp_path):
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    summary = run_batch(d, ev, AS_OF, tmp_path / "out.jsonl", workers=1)
    a, b = read_jsonl(tmp_path / "out.jsonl")
    assert (a["contract"], b["contract"]) == (A, B)  # sorted by contract id
    pay_a = next(o for o in a["obligations"] if o["id"] == "payment:INV-1")
    assert (pay_a["status"], pay_a["due"], pay_a["balance"]) == ("violated", "2025-03-02", "600.00")
    assert [(v["id"], v["on"]) for v in a["violations"]] == [
        ("late_payment:INV-1", "2025-03-03"),
        ("unbilled:2025-02-01", "2025-03-08"),
    ]
    assert a["penalties"] == [
        {
            "invoice": "INV-1",
            "enforceable": True,
            "enforceable_from": "2025-03-18",
            "interest": "4.93",
            "fixed_fee": "40.00",
            "total": "44.93",
            "paid": "0.00",
            "balance": "44.93",
            "reasons": [],
        }
    ]
    pay_b = next(o for o in b["obligations"] if o["id"] == "payment:INV-1")
    assert (pay_b["status"], pay_b["fulfilled_on"], pay_b["balance"]) == ("fulfilled", "2025-02-15", "0.00")
    assert [(v["id"], v["on"]) for v in b["violations"]] == [("unbilled:2025-02-01", "2025-03-08")]
    assert b["penalties"] == []
    for answer in (a, b):
        billing = {o["id"]: (o["status"], o["due"]) for o in answer["obligations"] if o["kind"] == "billing"}
        assert billing == {
            "billing:2025-01-01": ("fulfilled", "2025-02-07"),
            "billing:2025-02-01": ("violated", "2025-03-07"),
            "billing:2025-03-01": ("pending", "2025-04-07"),
            "billing:2025-04-01": ("pending", "2025-05-07"),
        }
    assert summary.ok and summary.errors == 0
    assert (summary.contracts, summary.evaluated, summary.events) == (2, 2, 3)
    assert dict(summary.violations) == {"late_payment": 1, "unbilled": 2}
    assert {c: (t.count, t.amount) for c, t in summary.penalties.items()} == {"EUR": (1, Decimal("44.93"))}
    # only the violated cycles (Feb, both contracts), never the running ones (Mar, Apr)
    assert summary.unbilled_cycles == 2 and summary.unbilled["EUR"].amount == Decimal("1200.00")
    assert (tmp_path / "out.errors.jsonl").read_text() == ""


def test_one_line_answer_is_the_evaluate_command_answer(tmp_path):
    d, ev = good_dir(tmp_path), events_dir(tmp_path, GOOD_EVENTS)
    run_batch(d, ev, AS_OF, tmp_path / "out.jsonl", workers=1)
    single = CliRunner().invoke(main, ["evaluate", str(d / "a.yaml"), str(ev / f"{A}.jsonl"), "--as-of", "2025-04-01"])
    assert single.exit_code == 0
    assert read_jsonl(tmp_path / "out.jsonl")[0] == json.loads(single.output)


# --------------------------------------------------------------------------- errors


def test_bad_contracts_and_events_go_to_the_errors_file_and_the_rest_completes(tmp_path):
    d, ev = _mixed(tmp_path)
    result = _cli(
        "--contracts",
        str(d),
        "--events",
        str(ev),
        "--as-of",
        "2025-04-01",
        "--out",
        str(tmp_path / "out.jsonl"),
        "--workers",
        "1",
    )
    assert result.exit_code == 3, result.output
    assert [a["contract"] for a in read_jsonl(tmp_path / "out.jsonl")] == [A, B]
    errors = read_jsonl(tmp_path / "out.errors.jsonl")
    where = [(e["stage"], e["contract"], Path(e["file"]).name, e["line"], e["field"], e["event_id"]) for e in errors]
    assert where == [
        ("input", None, "events.jsonl", 7, "", None),  # malformed line: no contract
        ("input", "ghost", "events.jsonl", 4, "contract", None),  # no such contract file
        ("events", "acme-bad-events", "events.jsonl", 6, "type", "c2"),  # unknown event type
        ("contract", "acme-invalid", "d.yaml", 14, "terms.billing.anchor_day", None),
    ]
    assert "malformed JSON" in errors[0]["message"] and "invoice_paid" in errors[2]["message"]
    assert errors[3]["message"] == "must be 1..31, got 32"
    out = result.stdout
    assert "Contracts: 4 found, 2 evaluated, 2 failed" in out
    assert "Violations: 3 (late_payment 1, unbilled 2)" in out
    assert "Enforceable penalties: 44.93 EUR (1)" in out
    assert "Unbilled cycles: 2 (1200.00 EUR)" in out
    assert "acme-bad-events" in out and "acme-invalid" in out
    assert "Completed with errors" in result.stderr


def test_skip_invalid_evaluates_the_good_events_and_lists_the_bad_ones(tmp_path):
    d, ev = _mixed(tmp_path)
    summary = run_batch(d, ev, AS_OF, tmp_path / "out.jsonl", workers=1, skip_invalid=True)
    answers = {a["contract"]: a for a in read_jsonl(tmp_path / "out.jsonl")}
    assert sorted(answers) == [A, B, "acme-bad-events"]
    c = answers["acme-bad-events"]
    assert [o["id"] for o in c["obligations"] if o["kind"] == "payment"] == ["payment:INV-C"]
    assert any("invoice_paid" in w for w in c["warnings"])
    assert summary.events_skipped == 1 and summary.events == 4
    assert [e["event_id"] for e in read_jsonl(tmp_path / "out.errors.jsonl") if e["stage"] == "events"] == ["c2"]
    assert not summary.ok


def test_two_files_with_one_contract_id_both_fail(tmp_path):
    d = good_dir(tmp_path)
    write_contract(d, "a-copy.yaml", contract(A))
    summary = run_batch(d, events_file(tmp_path, GOOD_EVENTS), AS_OF, tmp_path / "out.jsonl", workers=1)
    assert [a["contract"] for a in read_jsonl(tmp_path / "out.jsonl")] == [B]
    assert sorted(Path(f.file).name for f in summary.failed) == ["a-copy.yaml", "a.yaml"]
    errors = read_jsonl(tmp_path / "out.errors.jsonl")
    assert {e["field"] for e in errors} == {"id"} and len(errors) == 2


def test_an_unparseable_contract_file_is_reported_with_its_line(tmp_path):
    d = good_dir(tmp_path)
    (d / "broken.yaml").write_text("id: x\nparties: [unclosed\n", encoding="utf-8")
    summary = run_batch(d, None, AS_OF, tmp_path / "out.jsonl", workers=1)
    assert summary.evaluated == 2 and len(summary.failed) == 1
    (error,) = read_jsonl(tmp_path / "out.errors.jsonl")
    assert (error["stage"], Path(error["file"]).name, error["line"]) == ("contract", "broken.yaml", 3)


# --------------------------------------------------------------------------- layouts and formats


@pytest.mark.parametrize("layout", ["file", "dir", "parquet"])
def test_every_events_layout_gives_the_same_answers(tmp_path, layout):
    d = good_dir(tmp_path)
    reference = tmp_path / "ref.jsonl"
    run_batch(d, events_file(tmp_path, GOOD_EVENTS), AS_OF, reference, workers=1)
    make = {"file": events_file, "dir": events_dir, "parquet": events_parquet}[layout]
    out = tmp_path / f"{layout}.jsonl"
    summary = run_batch(d, make(tmp_path, GOOD_EVENTS), AS_OF, out, workers=1)
    assert summary.ok
    assert out.read_bytes() == reference.read_bytes()


def test_parquet_tables_hold_the_same_answers(tmp_path):
    import pyarrow.parquet as pq

    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    run_batch(d, ev, AS_OF, tmp_path / "tables", workers=1)
    tables = {
        n: pq.read_table(tmp_path / "tables" / f"{n}.parquet").to_pylist()
        for n in ("contracts", "obligations", "violations", "penalties")
    }
    assert [r["contract"] for r in tables["contracts"]] == [A, B]
    assert [(r["contract"], r["id"]) for r in tables["violations"]] == [
        (A, "late_payment:INV-1"),
        (A, "unbilled:2025-02-01"),
        (B, "unbilled:2025-02-01"),
    ]
    (pen,) = tables["penalties"]
    assert (pen["contract"], pen["currency"], pen["total"], pen["enforceable_from"].isoformat()) == (
        A,
        "EUR",
        "44.93",
        "2025-03-18",
    )
    assert (pen["paid"], pen["balance"]) == ("0.00", "44.93")
    assert [(r["unapplied_credit"], r["currency"]) for r in tables["contracts"]] == [("0.00", "EUR")] * 2
    run_batch(d, ev, AS_OF, tmp_path / "ref.jsonl", workers=1)
    answers = read_jsonl(tmp_path / "ref.jsonl")
    assert len(tables["obligations"]) == sum(len(a["obligations"]) for a in answers)
    row = next(r for r in tables["obligations"] if r["contract"] == B and r["id"] == "payment:INV-1")
    assert (row["status"], row["balance"], row["fulfilled_on"].isoformat()) == ("fulfilled", "0.00", "2025-02-15")
    assert (tmp_path / "tables" / "errors.jsonl").read_text() == ""


def test_events_directory_with_two_files_for_one_contract_fails_that_contract(tmp_path):
    d, ev = good_dir(tmp_path), events_dir(tmp_path, GOOD_EVENTS)
    (ev / f"{A}.ndjson").write_text(json.dumps(invoice()) + "\n", encoding="utf-8")
    summary = run_batch(d, ev, AS_OF, tmp_path / "out.jsonl", workers=1)
    assert [f.contract for f in summary.failed] == [A]
    assert "2 events files" in read_jsonl(tmp_path / "out.errors.jsonl")[0]["message"]


# --------------------------------------------------------------------------- processes


def test_local_processes_give_byte_identical_output(tmp_path):
    d, ev = _mixed(tmp_path)
    run_batch(d, ev, AS_OF, tmp_path / "one.jsonl", workers=1)
    run_batch(d, ev, AS_OF, tmp_path / "two.jsonl", workers=2, chunk_size=1)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert (tmp_path / "one.errors.jsonl").read_bytes() == (tmp_path / "two.errors.jsonl").read_bytes()


class _Flaky(InProcess):
    """An executor whose workers die on chunks holding ``deadly`` (a crash in the engine)."""

    slots = 2

    def __init__(self, deadly: str):
        self.deadly, self.calls = deadly, 0

    def submit(self, fn, chunk):
        self.calls += 1
        if any(job.contract_id == self.deadly for job in chunk.jobs) or self.calls == 1:

            class Lost:
                def result(self):
                    raise RuntimeError("worker process died")

            return Lost()
        return super().submit(fn, chunk)


def test_a_lost_worker_costs_only_the_contract_that_kills_it(tmp_path):
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    summary, errors = BatchSummary(), []
    planned = sorted(plan_contracts(d, summary, errors), key=lambda p: p.contract_id)
    from contractrules.batch.io import open_events

    source = open_events(ev)
    results = list(_ordered(_Flaky(deadly=B), _chunks(planned, source, AS_OF, "jsonl", False, size=2)))
    source.close()
    (result,) = results  # one chunk of two; the first attempt was lost, then retried one by one
    assert [json.loads(line)["contract"] for line in result.output.splitlines()] == [A]
    assert [f.contract for f in result.summary.failed] == [B]
    assert "worker process died" in result.errors[0]["message"]


# --------------------------------------------------------------------------- invocation


def test_bad_invocations_exit_2(tmp_path):
    d = good_dir(tmp_path)
    (tmp_path / "events.csv").write_text("x\n")
    result = _cli(
        "--contracts",
        str(d),
        "--events",
        str(tmp_path / "events.csv"),
        "--as-of",
        "2025-04-01",
        "--out",
        str(tmp_path / "o.jsonl"),
    )
    assert result.exit_code == 2 and "--events" in result.output
    result = _cli("--contracts", str(tmp_path / "nope"), "--as-of", "2025-04-01", "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2
    (tmp_path / "o.jsonl").mkdir()  # the name asks for JSON Lines, but it is a directory
    result = _cli("--contracts", str(d), "--as-of", "2025-04-01", "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 2 and "directory" in result.output
    assert not (tmp_path / "o.jsonl.errors.jsonl").exists()


def test_missing_dask_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(InputError, match=r"pip install 'contractrules\[dask\]'"):
        run_batch(good_dir(tmp_path), None, AS_OF, tmp_path / "o.jsonl", dask="local")
    result = _cli(
        "--contracts",
        str(tmp_path / "contracts"),
        "--as-of",
        "2025-04-01",
        "--out",
        str(tmp_path / "o.jsonl"),
        "--dask",
        "local",
    )
    assert result.exit_code == 2 and "contractrules[dask]" in result.output


def test_clean_run_exits_0_and_is_quiet_without_a_terminal(tmp_path):
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    result = _cli(
        "--contracts",
        str(d),
        "--events",
        str(ev),
        "--as-of",
        "2025-04-01",
        "--out",
        str(tmp_path / "out.jsonl"),
        "--workers",
        "1",
        "--summary-json",
        str(tmp_path / "s.json"),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # no progress bar: not a terminal
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["enforceable_penalties"] == {"EUR": {"count": 1, "amount": "44.93"}}
    assert saved["unbilled"] == {"EUR": {"count": 2, "amount": "1200.00"}}


def test_batch_applies_the_amendments_in_the_contract_files(tmp_path):
    """The three amendment golden scenarios, in one batch: the hand-computed figures (SPEC §6.7)."""
    scenarios = Path(__file__).resolve().parents[1] / "scenarios"
    contracts, events = tmp_path / "contracts", tmp_path / "events"
    contracts.mkdir()
    events.mkdir()
    for name in (
        "amendment_fee_change_mid_history",
        "amendment_grace_change_between_invoices",
        "amendment_rate_change_inside_interest_period",
    ):
        text = (scenarios / name / "contract.yaml").read_text()
        cid = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("id: "))
        (contracts / f"{name}.yaml").write_text(text)
        (events / f"{cid}.jsonl").write_text((scenarios / name / "events.jsonl").read_text())
    summary = run_batch(contracts, events, "2025-10-20", tmp_path / "out.jsonl", workers=1)
    assert summary.ok and summary.evaluated == 3
    answers = {a["contract"]: a for a in read_jsonl(tmp_path / "out.jsonl")}
    fee = {o["id"]: o for o in answers["golden-amended-fee"]["obligations"]}["billing:2025-10-01"]
    assert (fee["amount"], fee["clause"]) == ("650.00", "amendments[fee-2025-09].terms.billing")
    grace = {p["invoice"]: p for p in answers["golden-amended-grace"]["penalties"]}
    assert (grace["INV-1"]["enforceable_from"], grace["INV-2"]["enforceable_from"]) == ("2025-03-14", "2025-04-21")
    # 05-02..05-15 at 8 %/365 on 1000.00 = 3.068493; 05-16..05-19 at 12 %/360 on 1000.00 = 1.333333;
    # 05-20..10-20 (154 days) at 12 %/360 on 600.00 = 30.8 -> 35.20
    assert answers["golden-amended-rate"]["penalties"][0]["interest"] == "35.20"
