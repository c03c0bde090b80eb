"""Issue 15, batch: outputs never clobber inputs, are written whole or not at all, one bad
file fails alone, Parquet holds every answer, links do not lead out of the directory."""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from contractrules.cli import main
from tests.integration.batch_fixtures import (
    GOOD_EVENTS,
    A,
    B,
    contract,
    events_file,
    good_dir,
    invoice,
    payment,
    read_jsonl,
    write_contract,
)


def batch(*args: object):
    return CliRunner().invoke(main, ["batch", "--as-of", "2025-04-01", "--workers", "1", *map(str, args)])


def snapshot(*roots: Path) -> dict[str, bytes]:
    """Every file under the given paths, with its bytes (to prove inputs unchanged)."""
    out = {}
    for root in roots:
        for p in [root] if root.is_file() else sorted(root.rglob("*")):
            if p.is_file():
                out[str(p)] = p.read_bytes()
    return out


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*.tmp"))


# --------------------------------------------------------------------------- 1 outputs vs inputs


@pytest.mark.parametrize(
    "option, target",
    [
        ("--out", "events"),
        ("--errors", "events"),
        ("--summary-json", "events"),
        ("--out", "inside-contracts"),
        ("--errors", "inside-contracts"),
        ("--out", "contracts-dir"),
        ("--out", "link-to-events"),
    ],
)
def test_1_an_output_that_is_or_lies_inside_an_input_is_refused(tmp_path, option, target):
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    link = tmp_path / "link.jsonl"
    link.symlink_to(ev)
    path = {"events": ev, "inside-contracts": d / "answers.jsonl", "contracts-dir": d, "link-to-events": link}[target]
    before = snapshot(d, ev)
    args = ["--contracts", d, "--events", ev]
    if option != "--out":
        args += ["--out", tmp_path / "answers.jsonl"]
    result = batch(*args, option, path)
    assert result.exit_code == 2, result.output
    assert "the input --" in result.stderr and "nothing was written" in result.stderr
    assert snapshot(d, ev) == before
    assert not (tmp_path / "answers.jsonl").exists()


def test_1_two_outputs_on_one_path_are_refused(tmp_path):
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    out = tmp_path / "a.jsonl"
    result = batch("--contracts", d, "--events", ev, "--out", out, "--errors", out)
    assert result.exit_code == 2 and "is also the --out output" in result.stderr


def test_1_parquet_tables_may_not_overwrite_a_parquet_events_file(tmp_path):
    d = good_dir(tmp_path)
    ev = tmp_path / "out" / "obligations.parquet"
    ev.parent.mkdir()
    ev.write_bytes(b"PAR1 pretend")
    result = batch("--contracts", d, "--events", ev, "--out", tmp_path / "out")
    assert result.exit_code == 2 and ev.read_bytes() == b"PAR1 pretend"


# --------------------------------------------------------------------------- 2 one bad file alone


@pytest.mark.parametrize(
    "junk", [b"id: bad\x00one\n", b"id: bad\x01\n", b"\xff\xfe\x00\x01garbage", b"id: [" * 3000, b"{" * 100_000]
)
def test_2_a_file_with_control_characters_or_binary_fails_alone(tmp_path, junk):
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    (d / "zz.yaml").write_bytes(junk)
    out = tmp_path / "answers.jsonl"
    result = batch("--contracts", d, "--events", ev, "--out", out)
    assert result.exit_code == 3, result.output
    assert [a["contract"] for a in read_jsonl(out)] == [A, B]
    (err,) = read_jsonl(tmp_path / "answers.errors.jsonl")
    assert err["file"].endswith("zz.yaml") and err["stage"] == "contract"
    assert len(err["message"]) < 400
    assert "internal error" not in result.output


# --------------------------------------------------------------------------- 3 whole or nothing


def test_3_an_interrupted_batch_leaves_the_old_output_untouched(tmp_path, monkeypatch):
    from contractrules.batch import runner

    d = good_dir(tmp_path)
    for n in range(4):
        write_contract(d, f"x{n}.yaml", contract(f"more-{n}"))
    ev = events_file(tmp_path, GOOD_EVENTS)
    out = tmp_path / "answers.jsonl"
    out.write_text("old answers\n")
    (tmp_path / "answers.errors.jsonl").write_text("old errors\n")
    real = runner.evaluate_chunk

    def interrupted(chunk):
        if chunk.index == 2:
            raise KeyboardInterrupt
        return real(chunk)

    monkeypatch.setattr(runner, "evaluate_chunk", interrupted)
    result = batch("--contracts", d, "--events", ev, "--out", out, "--chunk-size", "1")
    assert result.exit_code == 130
    assert "interrupted: nothing was written to" in result.stderr
    assert out.read_text() == "old answers\n"
    assert (tmp_path / "answers.errors.jsonl").read_text() == "old errors\n"
    assert leftovers(tmp_path) == []


def test_3_an_interrupted_parquet_batch_leaves_nothing_new(tmp_path, monkeypatch):
    from contractrules.batch import runner

    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    monkeypatch.setattr(runner, "evaluate_chunk", lambda chunk: (_ for _ in ()).throw(KeyboardInterrupt()))
    result = batch("--contracts", d, "--events", ev, "--out", tmp_path / "tables")
    assert result.exit_code == 130
    assert not (tmp_path / "tables").exists()


def test_17_disk_full_exits_5_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    from contractrules.batch import output

    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    out = tmp_path / "answers.jsonl"
    out.write_text("old answers\n")

    def full(self, data):
        raise output.write_problem(self.path, OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(output.StagedFile, "write", full)
    result = batch("--contracts", d, "--events", ev, "--out", out)
    assert result.exit_code == 5, result.output
    assert "disk full" in result.stderr and "Traceback" not in result.stderr
    assert out.read_text() == "old answers\n"
    assert leftovers(tmp_path) == []


def test_17_an_unwritable_output_directory_exits_5(tmp_path):
    if os.geteuid() == 0:
        target = Path("/proc/answers.jsonl")  # root may write anywhere but not here
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "answers.jsonl"
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    result = batch("--contracts", d, "--events", ev, "--out", target)
    assert result.exit_code == 5, result.output
    assert "cannot write" in result.stderr


def test_3_a_complete_run_replaces_the_old_output_with_the_usual_mode(tmp_path):
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    out = tmp_path / "answers.jsonl"
    out.write_text("old answers\n")
    assert batch("--contracts", d, "--events", ev, "--out", out).exit_code == 0
    assert [a["contract"] for a in read_jsonl(out)] == [A, B]
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- 4 Parquet holds every answer


def test_4_parquet_holds_amounts_beyond_decimal128_38_4(tmp_path):
    import pyarrow.parquet as pq

    big = "999999999999999.99"
    d = tmp_path / "contracts"
    doc = contract(A)
    doc["terms"]["billing"]["fee"] = big
    write_contract(d, "a.yaml", doc)
    ev = events_file(tmp_path, {A: [invoice(amount=big), payment(amount="999999999999999.98")]})
    assert batch("--contracts", d, "--events", ev, "--out", tmp_path / "tables").exit_code == 0
    assert batch("--contracts", d, "--events", ev, "--out", tmp_path / "a.jsonl").exit_code == 0
    (answer,) = read_jsonl(tmp_path / "a.jsonl")
    rows = pq.read_table(tmp_path / "tables" / "obligations.parquet").to_pylist()
    assert [(r["id"], r["amount"], r["balance"]) for r in rows] == [
        (o["id"], o["amount"], o["balance"]) for o in answer["obligations"]
    ]
    (row,) = [r for r in rows if r["id"] == "payment:INV-1"]
    assert (row["amount"], row["balance"]) == (big, "0.01")
    assert pq.read_table(tmp_path / "tables" / "contracts.parquet").num_rows == 1


# --------------------------------------------------------------------------- 11 alias bombs in the fast path


def test_11_alias_bomb_in_a_batch_fails_alone_and_fast(tmp_path):
    import yaml

    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    lines = ['  a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    (d / "bomb.yaml").write_text(yaml.safe_dump(contract("bomb"), sort_keys=False) + "x:\n" + "\n".join(lines) + "\n")
    start = time.perf_counter()
    result = batch("--contracts", d, "--events", ev, "--out", tmp_path / "a.jsonl")
    assert time.perf_counter() - start < 30
    assert result.exit_code == 3
    (err,) = read_jsonl(tmp_path / "a.errors.jsonl")
    assert err["file"].endswith("bomb.yaml") and "aliases expand" in err["message"]


# --------------------------------------------------------------------------- 18 links


def test_18_links_out_of_the_directory_are_not_followed_nor_quoted(tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n" * 20)
    outside_contract = tmp_path / "elsewhere.yaml"
    write_contract(tmp_path, "elsewhere.yaml", contract("elsewhere"))
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    (d / "passwd.yaml").symlink_to(secret)
    (d / "other.yaml").symlink_to(outside_contract)
    (d / "alias.yaml").symlink_to(d / "a.yaml")  # inside: followed (and a duplicate id)
    out = tmp_path / "a.jsonl"
    result = batch("--contracts", d, "--events", ev, "--out", out)
    assert result.exit_code == 3
    errors = read_jsonl(tmp_path / "a.errors.jsonl")
    text = (tmp_path / "a.errors.jsonl").read_text() + result.output
    assert "root:x" not in text and "elsewhere" not in [a["contract"] for a in read_jsonl(out)]
    assert {e["file"].rsplit("/", 1)[1] for e in errors if "symbolic link" in e["message"]} == {
        "passwd.yaml",
        "other.yaml",
    }
    assert any("declared by 2 files" in e["message"] for e in errors)


def test_18_links_out_of_an_events_directory_are_not_followed(tmp_path):
    d = good_dir(tmp_path)
    evd = tmp_path / "events"
    evd.mkdir()
    (evd / f"{B}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in GOOD_EVENTS[B]))
    outside = tmp_path / "outside.jsonl"
    outside.write_text(json.dumps(invoice()) + "\n")
    (evd / f"{A}.jsonl").symlink_to(outside)
    result = batch("--contracts", d, "--events", evd, "--out", tmp_path / "a.jsonl")
    assert result.exit_code == 3
    errors = read_jsonl(tmp_path / "a.errors.jsonl")
    assert any("symbolic link leading outside" in e["message"] for e in errors)
    (a,) = [x for x in read_jsonl(tmp_path / "a.jsonl") if x["contract"] == A]
    assert not [o for o in a["obligations"] if o["kind"] == "payment"]  # the outside events were not read


def test_17_an_errors_path_that_is_a_directory_is_refused_before_anything_is_written(tmp_path):
    d, ev = good_dir(tmp_path), events_file(tmp_path, GOOD_EVENTS)
    (tmp_path / "errs").mkdir()
    out = tmp_path / "a.jsonl"
    result = batch("--contracts", d, "--events", ev, "--out", out, "--errors", tmp_path / "errs")
    assert result.exit_code == 2 and "is a directory" in result.stderr
    assert not out.exists()
