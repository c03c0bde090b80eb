"""The batch readers agree with the canonical loaders; the progress bar shows rate and ETA."""

from __future__ import annotations

import io as stdio
import json
from pathlib import Path

import pytest
from rich.console import Console

from contractrules.batch.contracts import load_contract, quick_id
from contractrules.batch.io import JsonlEvents
from contractrules.batch.progress import BarReporter, Quiet, reporter
from contractrules.errors import ContractError
from contractrules.model import read_contract
from tests.conftest import ROOT

FIXTURES = sorted((ROOT / "tests" / "fixtures" / "contracts").iterdir()) + sorted(
    (ROOT / "tests" / "scenarios").glob("*/contract.yaml")
)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_contract_loading_gives_exactly_what_read_contract_gives(path):
    """Same Contract for a valid file; the same located issues for an invalid one."""
    try:
        expected = read_contract(path).contract
    except ContractError as exc:
        with pytest.raises(ContractError) as got:
            load_contract(path)
        assert got.value.issues == exc.issues
    else:
        assert load_contract(path) == expected


VALID = (ROOT / "tests" / "fixtures" / "contracts" / "valid_full.yaml").read_text()


@pytest.mark.parametrize(
    "name, content",
    [
        ("bom.yaml", b"\xef\xbb\xbf" + VALID.encode()),  # a BOM is fine
        ("utf16.yaml", VALID.encode("utf-16")),  # not UTF-8: refused
        ("merge.yaml", VALID.replace("timezone: Europe/Madrid", "base: &b {timezone: Europe/Madrid}\n<<: *b").encode()),
        ("tagged.yaml", VALID.replace("currency: EUR", "currency: !!str EUR").encode()),
        ("set.yaml", VALID.replace("jurisdiction: ES", "jurisdiction: !!set {ES}").encode()),
        ("empty.yaml", b"# nothing\n"),
        ("list.json", b"[1, 2]"),
        ("nested-dup.json", b'{"id": "a", "parties": {"provider": {"id": "x", "id": "y"}}}'),
    ],
)
def test_fast_loading_agrees_with_read_contract_on_odd_files(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    try:
        expected = read_contract(path).contract
    except ContractError as exc:
        with pytest.raises(ContractError) as got:
            load_contract(path)
        assert got.value.issues == exc.issues
    else:
        assert load_contract(path) == expected


def test_a_repeated_key_is_not_silently_resolved_by_the_fast_path(tmp_path):
    doc = (ROOT / "tests" / "fixtures" / "contracts" / "valid_full.yaml").read_text()
    path = tmp_path / "c.yaml"
    path.write_text(doc.replace("currency: EUR", "currency: EUR\ncurrency: USD"))
    with pytest.raises(ContractError, match="given twice"):
        load_contract(path)
    j = tmp_path / "c.json"
    j.write_text('{"id": "a", "id": "b"}')
    with pytest.raises(ContractError):
        load_contract(j)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("id: acme-web\nparties: {}\n", "acme-web"),
        ("# comment\ntitle: x\nterms:\n  id: nested\n  scope: {services: [{id: s1}]}\nid: 'quoted'\n", "quoted"),
        ("{title: t, id: flow-style}", "flow-style"),
        ("parties:\n  provider: {id: studio}\n", None),  # only nested ids
        ("base: &b {id: x}\n<<: *b\n", None),  # a merge key: leave it to the full load
        ("id: 2025-01-01\n", None),  # not a string
        ("id: [a]\n", None),
        ("- id: a\n", None),  # not a mapping
        ("id: a\nparties: [\n", "a"),  # a plan only: the worker reports the error
    ],
)
def test_quick_id_reads_the_top_level_id_only(tmp_path, text, expected):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert quick_id(path) == expected


def test_quick_id_of_json(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"parties": {"client": {"id": "no"}}, "id": "yes"}))
    (tmp_path / "d.json").write_text("{broken")
    assert quick_id(tmp_path / "c.json") == "yes" and quick_id(tmp_path / "d.json") is None


def test_the_single_events_file_index_finds_every_line_of_a_contract(tmp_path):
    lines = [
        '{"contract": "a", "id": "e1"}',
        '{"id": "e2", "contract": "b", "note": "the \\"contract\\": \\"a\\" text is not a field"}',
        "",
        '{"contract": "a", "id": "e3", "meta": {"contract": "b"}}',  # two "contract" keys: parsed
        '{"id": "e4"}',
        "[1, 2]",
        '{"contract": 7, "id": "e5"}',
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    source = JsonlEvents(path, "events.jsonl")
    try:
        assert source.ids() == {"a": 1, "b": 2}
        assert source.ref("a").lines == (1, 4)
        assert [json.loads(raw)["id"] for raw in source.ref("b").raws] == ["e2"]
        assert [(i.line, i.field, i.event_id) for i in source.issues] == [
            (5, "contract", "e4"),
            (6, "", None),
            (7, "contract", "e5"),
        ]
        assert source.total == 3
    finally:
        source.close()


def test_progress_bar_shows_count_rate_and_eta_and_is_quiet_off_a_terminal():
    out = stdio.StringIO()
    bar = BarReporter(Console(file=out, force_terminal=True, width=80))
    bar.start(10)
    bar.advance(5, 500)
    bar.close()
    text = out.getvalue()
    assert "5/10" in text and "events/s" in text and "ETA" in text
    assert isinstance(reporter(None), Quiet)  # pytest's stderr is not a terminal
    assert isinstance(reporter(True), BarReporter)


def test_the_package_exports_its_api():
    import contractrules.batch as batch

    assert batch.__all__ == sorted(batch.__all__)
    assert {"run_batch", "BatchSummary"} <= set(batch.__all__)
    assert Path(batch.__file__).parent.name == "batch"
