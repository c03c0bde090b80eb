"""Issue 15: hostile input and operator mistakes end as exit 2 with a located message.

One test (or a few) per numbered item of the issue; batch items are in
tests/integration/test_batch_hostile.py, the engine's threads in
tests/engine/test_engine_threads.py, the fuzz test in tests/properties/test_fuzz_cli.py.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from contractrules import limits, money
from contractrules.cli import main
from contractrules.errors import EventError, MoneyError
from contractrules.model import load_events, parse_contract
from tests.integration.batch_fixtures import contract, invoice, payment

CID = "acme-web"


def write(tmp_path: Path, doc: dict | str, events: list | None = None, name: str = "c.yaml") -> tuple[Path, Path]:
    c = tmp_path / name
    c.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    e = tmp_path / "e.jsonl"
    e.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in (events or [])), encoding="utf-8")
    return c, e


def cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_bad_input(result, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# --------------------------------------------------------------------------- 6 money precision


def test_6_thirty_digit_amounts_are_refused_not_rounded(tmp_path):
    c, e = write(
        tmp_path,
        contract(CID),
        [invoice(amount="1234567890123456789012345678.01"), payment(amount="1234567890123456789012345678.00")],
    )
    assert_bad_input(cli("evaluate", c, e, "--as-of", "2025-04-01"), "e.jsonl:1 amount:", "too large")


def test_6_the_largest_accepted_amount_is_exact_a_cent_short_stays_open(tmp_path):
    big = "999999999999999.99"
    assert money.parse_amount(big, "EUR") == Decimal(big)
    with pytest.raises(MoneyError, match="too large"):
        money.parse_amount("1000000000000000", "EUR")
    c, e = write(tmp_path, contract(CID), [invoice(amount=big), payment(amount="999999999999999.98")])
    result = cli("evaluate", c, e, "--as-of", "2025-04-01")
    assert result.exit_code == 0, result.stderr
    (ob,) = [o for o in json.loads(result.stdout)["obligations"] if o["id"] == "payment:INV-1"]
    assert (ob["amount"], ob["balance"], ob["status"]) == (big, "0.01", "violated")


def test_6_money_context_keeps_more_than_28_digits():
    a, b = Decimal("999999999999999.99") * 10**14, Decimal("0.01")
    with money.money_context():
        assert a + b - a == b  # the default context (28 digits) gives 0
    assert limits.DECIMAL_PRECISION >= 60


def test_6_rates_and_hours_have_a_digit_bound():
    with pytest.raises(MoneyError, match="significant digits"):
        money.parse_rate("0." + "1" * 25)
    assert money.parse_rate("0." + "1" * 20) == Decimal("0." + "1" * 20)


# --------------------------------------------------------------------------- 7 who may send what


@pytest.mark.parametrize(
    "event, role",
    [
        ({**invoice(), "by": "acme"}, "provider"),
        ({**invoice(), "by": "client"}, "provider"),
        (
            {"id": "cn", "type": "credit_note", "at": "2025-02-01", "by": "acme", "invoice": "INV-1", "amount": "1.00"},
            "provider",
        ),
        ({**payment(), "by": "studio"}, "client"),
        ({**payment(), "by": "provider"}, "client"),
    ],
)
def test_7_invoices_and_credit_notes_by_the_provider_payments_by_the_client(tmp_path, event, role):
    events = (
        [invoice()] + ([event] if event["type"] != "invoice_issued" else [])
        if event["type"] != "invoice_issued"
        else [event]
    )
    c, e = write(tmp_path, contract(CID), events)
    line = len(events)
    assert_bad_input(
        cli("evaluate", c, e, "--as-of", "2025-04-01"), f"e.jsonl:{line} by: {event['type']} must be sent by the {role}"
    )


def test_7_the_right_party_by_id_or_role_or_absent_is_accepted(tmp_path):
    events = [
        {**invoice(), "by": "provider"},
        {**payment(), "by": "client"},
        {"id": "cn", "type": "credit_note", "at": "2025-02-01", "invoice": "INV-1", "amount": "1.00"},
    ]
    c, e = write(tmp_path, contract(CID), events)
    assert cli("evaluate", c, e, "--as-of", "2025-04-01").exit_code == 0


# --------------------------------------------------------------------------- 8 repeated keys


def test_8_a_key_given_twice_in_one_event_is_refused(tmp_path):
    line = (
        '{"id": "e1", "type": "invoice_issued", "at": "2025-01-31", "by": "studio", "invoice": "INV-1", '
        '"amount": "600.00", "amount": "6.00"}'
    )
    c, e = write(tmp_path, contract(CID), [line])
    assert_bad_input(cli("evaluate", c, e, "--as-of", "2025-04-01"), "e.jsonl:1 amount: given twice in one object")
    arr = tmp_path / "e.json"
    arr.write_text("[\n" + line + "\n]", encoding="utf-8")
    assert_bad_input(cli("evaluate", c, arr, "--as-of", "2025-04-01"), "e.json:2 amount: given twice")


# --------------------------------------------------------------------------- 9 time zones


@pytest.mark.parametrize(
    "zone",
    [
        "localtime",
        "posixrules",
        "Factory",
        "right/UTC",
        "posix/Europe/Madrid",
        "Europe",
        "America",
        "Z" * 5000,
        "../../etc/passwd",
    ],
)
def test_9_host_dependent_and_non_zone_names_are_refused(tmp_path, zone):
    c, _ = write(tmp_path, {**contract(CID), "timezone": zone})
    result = cli("check", c)
    assert_bad_input(result, "c.yaml:", "timezone:")
    assert len(result.stderr) < 400  # a 5,000-character name is not quoted whole


@pytest.mark.parametrize("zone", ["UTC", "Europe/Kiev", "Europe/Kyiv", "US/Eastern", "Etc/GMT+5", "GMT"])
def test_9_iana_names_and_links_are_accepted(tmp_path, zone):
    c, _ = write(tmp_path, {**contract(CID), "timezone": zone})
    assert cli("check", c).exit_code == 0


# --------------------------------------------------------------------------- 11, 12 size, aliases, depth


def _bomb(levels: int) -> str:
    lines = ['  a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return yaml.safe_dump(contract(CID), sort_keys=False) + "title_bomb:\n" + "\n".join(lines) + "\n"


def test_11_alias_bombs_are_refused_quickly(tmp_path):
    c, _ = write(tmp_path, _bomb(9))
    assert_bad_input(cli("check", c), "aliases expand to more than 20,000")


def test_11_more_than_100_aliases_are_refused_a_few_are_fine(tmp_path):
    doc = yaml.safe_dump(contract(CID), sort_keys=False)
    few = doc + "title_x: &t x\n" + "".join(f"y{i}: *t\n" for i in range(3))
    c, _ = write(tmp_path, few)
    assert_bad_input(cli("check", c), "title_x: unknown field")  # read fine; the keys are just unknown
    many = doc + "title_x: &t x\n" + "".join(f"y{i}: *t\n" for i in range(101))
    c, _ = write(tmp_path, many)
    assert_bad_input(cli("check", c), "more than 100 aliases")


def test_12_contract_size_limit(tmp_path):
    doc = yaml.safe_dump(contract(CID), sort_keys=False)
    pad = "#" + "x" * 1000 + "\n"
    c, _ = write(tmp_path, doc + pad * (limits.MAX_CONTRACT_BYTES // len(pad) + 1))
    assert_bad_input(cli("check", c), "the limit for this file is 1,048,576 bytes")
    c, _ = write(tmp_path, doc + pad * (limits.MAX_CONTRACT_BYTES // len(pad) - 2))
    assert cli("check", c).exit_code == 0


def test_12_event_line_size_limit(tmp_path):
    fat = json.dumps(invoice())[:-1] + ", " + " " * limits.MAX_EVENT_BYTES + "}"
    c, e = write(tmp_path, contract(CID), [fat, payment()])
    result = cli("evaluate", c, e, "--as-of", "2025-04-01")
    assert_bad_input(result, "e.jsonl:1: ", "bytes for one event; the limit is 262,144 bytes")
    assert len(result.stderr) < 1000


@pytest.mark.parametrize("depth, ok", [(limits.MAX_DEPTH, True), (limits.MAX_DEPTH + 1, False), (100_000, False)])
def test_12_nesting_depth_limit_in_contracts(tmp_path, depth, ok):
    deep = "[" * (depth - 1) + "]" * (depth - 1)  # the document itself is one level
    data = json.dumps(contract(CID))[:-1] + f', "title": {deep or "null"}}}'
    c, _ = write(tmp_path, data, name="c.json")
    result = cli("check", c)
    if ok:
        assert_bad_input(result, "title:")  # deep but readable: the model says what is wrong
    else:
        assert_bad_input(result, "nested more than 32 levels deep")


def test_12_nesting_depth_limit_in_events(tmp_path):
    deep = {"id": "e1", "type": "invoice_issued", "x": json.loads("[" * 40 + "]" * 40)}
    c, e = write(
        tmp_path, contract(CID), [deep, json.dumps(invoice("e2"))[:-1] + ', "y": ' + "[" * 50000 + "]" * 50000 + "}"]
    )
    assert_bad_input(cli("evaluate", c, e, "--as-of", "2025-04-01"), "e.jsonl:1 x", "e.jsonl:2: nested more than 32")


def test_12_checking_a_contract_near_the_size_limit_is_fast(tmp_path):
    import time

    doc = contract(CID)
    doc["terms"]["scope"] = {
        "services": [{"id": "scan", "every": "cycle", "assets": [f"s{i}.example" for i in range(45_000)]}]
    }
    c, _ = write(tmp_path, doc)
    assert c.stat().st_size < limits.MAX_CONTRACT_BYTES
    start = time.perf_counter()
    assert cli("check", c).exit_code == 0
    assert time.perf_counter() - start < 20  # linear parsing (was quadratic: minutes)


# --------------------------------------------------------------------------- 13, 15 dates


@pytest.mark.parametrize(
    "field, value", [("start", "0001-01-01"), ("start", "1899-12-31"), ("end", "9999-12-31"), ("start", "2200-01-01")]
)
def test_13_contract_dates_outside_the_range_are_refused_by_check_and_evaluate_alike(tmp_path, field, value):
    c, e = write(tmp_path, {**contract(CID), "jurisdiction": "UK", "currency": "GBP", field: value}, [])
    for args in (("check", c), ("evaluate", c, e, "--as-of", "2025-04-01")):
        assert_bad_input(
            cli(*args), "c.yaml:", f"{field}: the date {value} is outside the accepted range 1900-01-01 to 2199-12-31"
        )


def test_13_range_edges_are_accepted(tmp_path):
    c, e = write(tmp_path, {**contract(CID), "start": "1900-01-01", "end": "2199-12-31"}, [])
    assert cli("check", c).exit_code == 0
    assert cli("evaluate", c, e, "--as-of", "1900-03-01").exit_code == 0


@pytest.mark.parametrize("option", ["--as-of"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2200-01-01"])
def test_15_options_outside_the_range_exit_2(tmp_path, option, value):
    c, e = write(tmp_path, contract(CID), [invoice()])
    assert_bad_input(cli("evaluate", c, e, option, value), "outside the accepted range")
    assert_bad_input(cli("penalty", c, e, "--invoice", "INV-1", option, value), "outside the accepted range")


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31"])
def test_15_event_times_outside_the_range_exit_2(tmp_path, at):
    c, e = write(tmp_path, contract(CID), [{**invoice(), "at": at}])
    assert_bad_input(cli("evaluate", c, e, "--as-of", "2025-04-01"), "e.jsonl:1 at:", "outside the accepted range")


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01T00:00:00+14:00"])
def test_15_known_at_outside_the_range_exit_2(tmp_path, value):
    c, _ = write(tmp_path, contract(CID))
    result = cli(
        "evaluate",
        "--contract",
        CID,
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        "--as-of",
        "2025-04-01",
        "--known-at",
        value,
    )
    assert_bad_input(result, "outside the accepted range")


# --------------------------------------------------------------------------- 16 never exit 1


@pytest.mark.parametrize("field, value", [("terms_days", 5_000_000), ("terms_days", 36_501)])
def test_16_day_counts_have_a_bound(tmp_path, field, value):
    doc = contract(CID)
    doc["terms"]["payment"][field] = value
    c, _ = write(tmp_path, doc)
    assert_bad_input(cli("check", c), f"terms.payment.{field}:", "36500")


@pytest.mark.parametrize("path", [("terms", "late_penalty", "grace_days"), ("terms", "termination", "notice_days")])
def test_16_other_day_counts_of_millions(tmp_path, path):
    doc = contract(CID)
    doc[path[0]][path[1]][path[2]] = 3_000_000
    c, e = write(tmp_path, doc, [invoice()])
    assert_bad_input(cli("evaluate", c, e, "--as-of", "2025-04-01"), ".".join(path))


def test_16_respond_within_days_of_millions(tmp_path):
    doc = contract(CID)
    doc["terms"]["scope"] = {
        "services": [{"id": "fix", "on_request": {"respond_within_days": 9_000_000}, "assets": ["a.example"]}]
    }
    c, _ = write(tmp_path, doc)
    assert_bad_input(cli("check", c), "respond_within_days")


def test_16_max_day_counts_still_evaluate(tmp_path):
    doc = contract(CID)
    doc["terms"]["payment"]["terms_days"] = limits.MAX_DAYS
    doc["terms"]["late_penalty"]["grace_days"] = limits.MAX_DAYS
    c, e = write(tmp_path, doc, [invoice()])
    result = cli("evaluate", c, e, "--as-of", "2199-12-31")
    assert result.exit_code == 0, result.stderr


def test_16_as_of_at_the_range_end_with_billing(tmp_path):
    c, e = write(tmp_path, {**contract(CID), "start": "2199-01-01"}, [])
    result = cli("evaluate", c, e, "--as-of", "2199-12-31")
    assert result.exit_code == 0, result.stderr
    assert len([o for o in json.loads(result.stdout)["obligations"] if o["kind"] == "billing"]) == 12


def test_16_huge_integers(tmp_path):
    c, e = write(tmp_path, contract(CID), ['{"id": "e1", "type": "invoice_issued", "amount": ' + "9" * 5000 + "}"])
    assert_bad_input(cli("evaluate", c, e, "--as-of", "2025-04-01"), "e.jsonl:1: not a usable JSON value")
    c, _ = write(tmp_path, yaml.safe_dump(contract(CID), sort_keys=False) + "title_n: " + "9" * 5000 + "\n")
    assert_bad_input(cli("check", c), "c.yaml")
    c, _ = write(tmp_path, json.dumps(contract(CID))[:-1] + ', "x": ' + "9" * 5000 + "}", name="c.json")
    assert_bad_input(cli("check", c), "c.json")


@pytest.mark.parametrize("junk", [b"id: a\x00b\n", b"id: a\x07b\n", b"\xff\xfe\x00\x01" * 10, bytes(range(256))])
def test_16_nul_control_and_binary_contracts(tmp_path, junk):
    c = tmp_path / "c.yaml"
    c.write_bytes(junk)
    result = cli("check", c)
    assert_bad_input(result, "c.yaml")
    assert len(result.stderr) < 400


@pytest.mark.parametrize("command", ["evaluate", "ingest"])
def test_16_lone_surrogates_in_ids_and_descriptions(tmp_path, command):
    bad = (
        '{"id": "e\\ud800", "type": "invoice_issued", "at": "2025-01-31", "by": "studio", '
        '"invoice": "INV-1", "amount": "600.00"}'
    )
    c, e = write(tmp_path, contract(CID), [bad])
    args = (
        ("evaluate", c, e, "--as-of", "2025-04-01")
        if command == "evaluate"
        else ("ingest", c, e, "--db", f"sqlite:///{tmp_path / 's.db'}")
    )
    if command == "ingest":
        assert cli("db", "init", "--db", f"sqlite:///{tmp_path / 's.db'}").exit_code == 0
    assert_bad_input(cli(*args), "e.jsonl:1 id: contains a lone surrogate")


def test_16_surrogates_given_through_the_api_are_refused_too():
    c = parse_contract(contract(CID))
    from contractrules.model import parse_events

    with pytest.raises(EventError, match="lone surrogate"):
        parse_events([(1, {**invoice(), "invoice": "INV-\ud800"})], c)


# --------------------------------------------------------------------------- 18 short excerpts


def test_18_offending_values_are_quoted_short(tmp_path):
    passwd = "root:x:0:0:root:/root:/bin/bash\n" * 200
    c = tmp_path / "c.yaml"
    c.write_text(passwd, encoding="utf-8")
    result = cli("check", c)
    assert_bad_input(result, "c.yaml")
    assert len(result.stderr) < 300 and "root:x" not in result.stderr


# --------------------------------------------------------------------------- 10 long histories


def test_10_long_event_files_are_not_limited(tmp_path):
    """Only one event's size is limited: a history file far above the contract size limit loads."""
    events = [json.dumps(invoice(f"i{n}", f"INV-{n}", amount="1.00"))[:-1] + " " * 2000 + "}" for n in range(700)]
    c, e = write(tmp_path, contract(CID), events)
    assert e.stat().st_size > limits.MAX_CONTRACT_BYTES
    load = load_events(e, parse_contract(contract(CID)))
    assert len(load.records) == 700


def test_13_check_and_evaluate_agree_on_a_contract_older_than_the_statutory_table(tmp_path):
    doc = {**contract(CID), "jurisdiction": "UK", "currency": "GBP", "start": "1950-06-15"}
    del doc["terms"]["late_penalty"]  # the statutory penalty applies
    c, e = write(tmp_path, doc, [])
    checked = cli("check", c)
    assert checked.exit_code == 0, checked.stderr
    assert "warning: the table has no rate before 2023-01-01" in checked.stdout
    assert cli("evaluate", c, e, "--as-of", "1951-01-01").exit_code == 0
    # an invoice that needs a rate the table does not know: refused, never exit 1
    c, e = write(tmp_path, doc, [{**invoice(at="1950-07-15"), "amount": "600.00"}])
    result = cli("evaluate", c, e, "--as-of", "1951-01-01")
    assert_bad_input(result, "no statutory rate is known before 2023-01-01 (asked for 1950-08-15)")


@pytest.mark.parametrize(
    "event",
    [
        {"id": "t1", "type": "termination_notice", "at": "2025-02-01", "by": "acme", "effective": "9999-12-31"},
        {
            "id": "w1",
            "type": "waiver",
            "at": "2025-02-01",
            "by": "studio",
            "clause": "late_penalty.grace",
            "invoice": "INV-1",
            "until": "9999-12-31",
        },
        {**invoice(), "period": "0001-01-01"},
    ],
)
def test_16_until_effective_and_period_far_away_exit_2(tmp_path, event):
    events = [event] if event["type"] == "invoice_issued" else [invoice(), event]
    c, e = write(tmp_path, contract(CID), events)
    field = next(k for k in ("effective", "until", "period") if k in event)
    assert_bad_input(
        cli("evaluate", c, e, "--as-of", "2025-04-01"), f" {field}: the date ", "outside the accepted range"
    )


def test_18_long_keys_and_values_are_never_echoed_whole(tmp_path):
    line = {**invoice(), "z" * 3000: 1}
    c, e = write(tmp_path, contract(CID), [line, {"id": "x", "type": "t" * 5000, "at": "2025-01-01"}])
    result = cli("evaluate", c, e, "--as-of", "2025-04-01")
    assert_bad_input(result, "e.jsonl:1 zzz", "...: unknown field", "e.jsonl:2 type: unknown event type 'ttt")
    assert max(len(x) for x in result.stderr.splitlines()) < 700


@pytest.mark.parametrize(
    "name, text",
    [
        ("c.yaml", 'title: "bad \\ud800 title"\n'),
        ("c.json", '{"title": "bad \\ud800 title"}'),
    ],
)
def test_16_lone_surrogates_in_a_contract(tmp_path, name, text):
    doc = contract(CID)  # has no title: the text adds one
    body = (
        yaml.safe_dump(doc, sort_keys=False) + text if name.endswith("yaml") else json.dumps(doc)[:-1] + ", " + text[1:]
    )
    c, _ = write(tmp_path, body, name=name)
    assert_bad_input(cli("check", c), "title: contains a lone surrogate")


def test_6_a_rate_is_a_fraction_below_1000():
    assert money.parse_rate("999.99") == Decimal("999.99")
    with pytest.raises(MoneyError, match="rate 1000 is too large"):
        money.parse_rate("1000")


def test_6_batch_totals_are_exact_beyond_28_digits():
    from contractrules.batch.summary import Total

    total = Total()
    total.add(Decimal("99999999999999999000000000000"))  # 29 digits
    total.add(Decimal("0.01"))
    assert str(total.amount) == "99999999999999999000000000000.01"  # Python's default context: ...000
