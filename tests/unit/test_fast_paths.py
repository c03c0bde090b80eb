"""The per-event fast paths give exactly what the full paths give (issue 12, item 4).

Each fast path is a shortcut for the common case that falls back to the full path for
anything else; these tests compare the two on random input, including the unusual
cases the fallback exists for (repeated keys, escapes, lone surrogates, deep nesting,
aliases, huge amounts, stored rows of another shape).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import contractrules as cr
from contractrules.model import EVENT_CLASSES, event_adapter
from contractrules.model.events import trusted_event
from contractrules.model.jsonl import LineProblem, _walk_refusal, decode, parse_line, refusal
from contractrules.model.lines import _walk_problem, yaml_problem
from contractrules.money import minor_units, round_money
from contractrules.store.checks import parse_stored
from contractrules.store.values import event_json
from tests.strategies import amounts, currencies, event_streams, stream_contract_data

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

# --------------------------------------------------------------------------- trusted events


def _same_event(a, b) -> None:
    assert type(a) is type(b)
    assert a == b
    assert a.model_fields_set == b.model_fields_set
    assert {k: type(v) for k, v in a.__dict__.items()} == {k: type(v) for k, v in b.__dict__.items()}
    assert a.model_dump(mode="json") == b.model_dump(mode="json")


def _golden_records():
    for folder in sorted(p for p in SCENARIOS.iterdir() if (p / "events.jsonl").exists()):
        contract = cr.load_contract(folder / "contract.yaml")
        load = cr.load_events(folder / "events.jsonl", contract, skip_invalid=True)
        for rec in load.records:
            yield contract, rec.event


def test_trusted_events_equal_validated_ones_for_every_golden_event():
    seen = set()
    for contract, event in _golden_records():
        stored = event_json(event)
        rebuilt = trusted_event(json.loads(stored))
        assert rebuilt is not None, stored
        _same_event(rebuilt, event)
        _same_event(parse_stored(stored, contract), event)
        seen.add(event.type)
    assert seen == set(EVENT_CLASSES)  # every event type is covered by some golden scenario


@settings(max_examples=60, deadline=None)
@given(event_streams())
def test_trusted_events_equal_validated_ones(events):
    contract = cr.parse_contract(stream_contract_data())
    for rec in cr.parse_events([(None, e) for e in events], contract).records:
        rebuilt = trusted_event(json.loads(event_json(rec.event)))
        assert rebuilt is not None
        _same_event(rebuilt, rec.event)


@pytest.mark.parametrize(
    "data",
    [
        {"id": "p1", "type": "payment_received", "at": "2025-01-01", "amount": 600.5},  # a number, not our text
        {"id": "p1", "type": "payment_received", "at": "2025-01-01", "amount": "600.00", "extra": 1},
        {"id": "p1", "type": "no_such_type", "at": "2025-01-01"},
        {"id": "p1", "type": "payment_received", "at": "2025-01-01T10:00:00", "amount": "1"},  # naive
        {"id": "p1", "type": "invoice_issued", "at": 20250101, "invoice": "I", "amount": "1"},
    ],
)
def test_rows_of_another_shape_are_not_trusted(data):
    assert trusted_event(data) is None


def test_a_stored_row_of_another_shape_is_validated():
    contract = cr.parse_contract(stream_contract_data())
    row = json.dumps({"id": "p1", "type": "payment_received", "at": "2025-01-01", "amount": 600.5, "by": "acme"})
    expected = event_adapter.validate_python(json.loads(row), context={"currency": contract.currency})
    _same_event(parse_stored(row, contract), expected)


# --------------------------------------------------------------------------- the JSON gate

_keys = st.sampled_from(["id", "type", "a", "b", "é", "\\ud800", "k\\u00e9"])
_texts = st.sampled_from(['"x"', '"é"', '"\\u00e9"', '"\\ud800"', '"a\\udfff"', '"\\\\u"', "1", "2.5", "null", "true"])


def _json_text(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return _texts
    inner = _json_text(depth - 1)
    objects = st.lists(st.tuples(_keys, inner), max_size=4).map(
        lambda pairs: "{" + ",".join(f'"{k}":{v}' for k, v in pairs) + "}"
    )
    arrays = st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
    return st.one_of(_texts, objects, arrays)


def _nested(n: int, leaf: str) -> str:
    return "[" * n + leaf + "]" * n


def _outcome(fn, *args):
    try:
        value = fn(*args)
    except (LineProblem, json.JSONDecodeError) as exc:
        return type(exc).__name__, str(exc), getattr(exc, "field", None)
    return "ok", repr(value), type(value).__name__


def _full_parse(text: str):
    value, end = decode(text, len(text) - len(text.lstrip()))
    if text[end:].strip():
        raise json.JSONDecodeError("Extra data", text, end)
    return value


@settings(max_examples=300, deadline=None)
@given(st.one_of(_json_text(3), st.integers(25, 40).map(lambda n: _nested(n, "1"))), st.sampled_from(["", " ", "x"]))
def test_a_json_line_is_read_as_the_full_gate_reads_it(text, tail):
    line = text + tail
    assert _outcome(parse_line, line) == _outcome(_full_parse, line)
    assert _outcome(parse_line, line.encode("utf-8", "surrogatepass")) == _outcome(_full_parse, line)


def test_the_line_shortcut_keeps_the_gates_messages():
    assert _outcome(parse_line, '{"a":1,"a":2}')[1] == "given twice in one object; remove one"
    assert "lone surrogate" in _outcome(parse_line, '{"a":"\\ud800"}')[1]
    assert "lone surrogate" in _outcome(parse_line, '{"a":"\ud800"}')[1]  # in the text itself
    assert "levels deep" in _outcome(parse_line, _nested(40, "1"))[1]


_python_values = st.recursive(
    st.one_of(st.text(max_size=3), st.integers(), st.none(), st.sampled_from(["\ud800", "é", "ok"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "\udfff", "é"]), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_python_values, st.integers(28, 36).map(lambda n: json.loads(_nested(n, "1")))))
def test_refusal_says_what_the_full_walk_says(obj):
    assert refusal(obj) == _walk_refusal(obj)


# --------------------------------------------------------------------------- YAML aliases


@st.composite
def _yaml_documents(draw) -> str:
    """Documents with anchors, aliases (also recursive), repeated aliases and deep nesting."""
    lines, anchors = [], []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["scalar", "anchor", "alias", "nested", "self"]))
        if kind == "anchor":
            lines.append(f"k{i}: &a{i} [{', '.join(['x'] * draw(st.integers(0, 3)))}]")
            anchors.append(f"a{i}")
        elif kind == "alias" and anchors:
            refs = ", ".join(f"*{draw(st.sampled_from(anchors))}" for _ in range(draw(st.integers(1, 60))))
            lines.append(f"k{i}: &a{i} [{refs}]")
            anchors.append(f"a{i}")
        elif kind == "nested":
            lines.append(f"k{i}: {_nested(draw(st.integers(1, 40)), 'x')}")
        elif kind == "self":
            lines.append(f"k{i}: &s{i} [x, *s{i}]")
        else:
            lines.append(f"k{i}: v")
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None)
@given(_yaml_documents())
def test_yaml_problem_says_what_the_iterative_walk_says(text):
    root = yaml.compose(text, Loader=yaml.CSafeLoader)
    assert yaml_problem(root) == _walk_problem(root)


def test_yaml_problem_beyond_the_recursive_walk():
    root = yaml.compose("".join("  " * i + "-\n" for i in range(300)), Loader=yaml.CSafeLoader)
    assert yaml_problem(root) == _walk_problem(root) == "nested more than 32 levels deep (the limit)"


# --------------------------------------------------------------------------- rounding


def _reference_round(amount: Decimal, currency: str) -> Decimal:
    """round_money as it was: a context sized for each amount."""
    digits = minor_units(currency)
    context = Context(prec=max(28, amount.adjusted() + digits + 2), rounding=ROUND_HALF_UP)
    rounded = amount.quantize(Decimal(1).scaleb(-digits), context=context)
    return rounded.copy_abs() if rounded.is_zero() else rounded


_big = st.integers(-(10**90), 10**90).flatmap(lambda n: st.integers(0, 12).map(lambda p: Decimal(n).scaleb(-p)))


@settings(max_examples=400, deadline=None)
@given(st.one_of(amounts(), amounts().map(lambda a: -a), _big), currencies)
def test_round_money_with_a_cached_context_per_currency(amount, currency):
    got, expected = round_money(amount, currency), _reference_round(amount, currency)
    assert (str(got), got.as_tuple()) == (str(expected), expected.as_tuple())


def test_round_money_still_refuses_what_it_refused():
    with pytest.raises(cr.errors.MoneyError):
        round_money(Decimal("NaN"), "EUR")
    with pytest.raises(cr.errors.MoneyError):
        round_money(1.5, "EUR")  # type: ignore[arg-type]
    assert str(round_money(Decimal("-0.001"), "EUR")) == "0.00"  # no negative zero
    assert round_money(7, "JPY") == Decimal(7)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- rule messages


def test_the_message_of_every_golden_event_is_built_from_its_fields():
    from contractrules.engine.engine import _message
    from contractrules.model import EventRecord

    for _contract, event in _golden_records():
        expected = {"type": event.type}
        if getattr(event, "clause", None) is not None:
            expected["clause"] = event.clause
        if event.route is not None:
            expected["route"] = event.route
        rec = EventRecord(event, "<test>", None, 0, date(2025, 1, 1))
        for _ in range(2):  # built, then cached
            assert json.loads(_message(rec) + "}") == expected
