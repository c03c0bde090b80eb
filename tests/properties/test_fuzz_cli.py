"""Issue 15, done when: mutated contracts and event files never crash the CLI.

Hypothesis mutates a valid contract and a valid events file (hostile tokens, inserted
and deleted characters, repeated and dropped lines, truncation) and drives ``check``,
``evaluate``, ``ingest`` and ``batch`` in-process through click's CliRunner; a few
subprocess smoke cases run the real executable. For every run:

- the exit code is 0 or 2 (``batch``: 0, 2, or 3 "completed with errors", since one
  bad contract fails alone);
- no traceback and no ``internal error`` on stdout or stderr;
- the input files are unchanged;
- no partial output: a refused ``ingest`` writes nothing to the store, a ``batch`` that
  does not complete leaves nothing at its output paths, and no temporary file remains.

Budget: 40 examples (derandomized under the ``ci`` profile), about 30 s on one core.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contractrules.cli import main
from tests.integration.batch_fixtures import contract, invoice, payment
from tests.strategies import mutated_text

CID = "acme-fuzz"
DOC = contract(CID)
DOC["terms"]["scope"] = {"services": [{"id": "fix", "on_request": {"respond_within_days": 2}, "assets": ["a.example"]}]}
CONTRACT = yaml.safe_dump(DOC, sort_keys=False)
EVENTS = "".join(
    json.dumps(e) + "\n"
    for e in [
        invoice(),
        payment(amount="300.00"),
        {
            "id": "w1",
            "type": "work_requested",
            "at": "2025-03-01T10:00:00+01:00",
            "by": "acme",
            "service": "fix",
            "asset": "a.example",
            "description": "broken",
        },
        {"id": "t1", "type": "termination_notice", "at": "2025-03-05", "by": "acme"},
    ]
)
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _clean(result, allowed: tuple[int, ...]) -> None:
    text = result.stdout + result.stderr
    assert result.exit_code in allowed, (result.exit_code, text[-2000:], result.exception)
    assert "Traceback" not in text and "internal error" not in text, text[-2000:]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def _files(root: Path, contract_text: str, events_text: str, suffix: str) -> tuple[Path, Path]:
    c = root / f"contract{suffix}"
    e = root / "events.jsonl"
    c.write_bytes(_bytes(contract_text))
    e.write_bytes(_bytes(events_text))
    return c, e


def _snapshot(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


@FUZZ
@given(
    contract_text=mutated_text(CONTRACT) | st.just(CONTRACT),
    events_text=mutated_text(EVENTS) | st.just(EVENTS),
    as_json=st.booleans(),
)
def test_mutated_inputs_never_crash_check_evaluate_ingest(contract_text, events_text, as_json):
    if as_json:  # the same document as JSON, mutated as text
        contract_text = contract_text if contract_text != CONTRACT else json.dumps(DOC, indent=1)
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        c, e = _files(root, contract_text, events_text, ".json" if as_json else ".yaml")
        before = _snapshot(c, e)
        _clean(runner.invoke(main, ["check", str(c)]), (0, 2))
        _clean(runner.invoke(main, ["check", str(c), str(e)]), (0, 2))
        _clean(runner.invoke(main, ["evaluate", str(c), str(e), "--as-of", "2025-06-01"]), (0, 2))
        _clean(
            runner.invoke(
                main, ["evaluate", str(c), str(e), "--as-of", "2025-06-01", "--skip-invalid", "--format", "table"]
            ),
            (0, 2),
        )
        _clean(runner.invoke(main, ["penalty", str(c), str(e), "--invoice", "INV-1", "--as-of", "2025-06-01"]), (0, 2))
        db = f"sqlite:///{root / 'store.db'}"
        _clean(runner.invoke(main, ["db", "init", "--db", db]), (0,))
        ingested = runner.invoke(main, ["ingest", str(c), str(e), "--db", db, "--format", "json"])
        _clean(ingested, (0, 2))
        if ingested.exit_code == 2:  # refused: nothing of the batch was written
            from contractrules.store import open_store

            with open_store(db) as store:
                assert set(store.counts().values()) == {0}, store.counts()
        assert _snapshot(c, e) == before


@FUZZ
@given(contract_text=mutated_text(CONTRACT), events_text=mutated_text(EVENTS), parquet=st.booleans())
def test_mutated_inputs_never_crash_batch(contract_text, events_text, parquet):
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        d = root / "contracts"
        d.mkdir()
        (d / "good.yaml").write_text(yaml.safe_dump(contract("acme-good"), sort_keys=False))
        (d / "fuzzed.yaml").write_bytes(_bytes(contract_text))
        lines = []
        for raw in events_text.split("\n"):
            try:
                obj = json.loads(raw)
            except ValueError:
                lines.append(raw)  # malformed lines go in as they are
                continue
            lines.append(json.dumps({"contract": CID, **obj}) if isinstance(obj, dict) else raw)
        ev = root / "events.jsonl"
        ev.write_bytes(_bytes("\n".join(lines)))
        inputs = [d / "good.yaml", d / "fuzzed.yaml", ev]
        before = _snapshot(*inputs)
        out = root / "out" / ("tables" if parquet else "answers.jsonl")
        result = runner.invoke(
            main,
            [
                "batch",
                "--contracts",
                str(d),
                "--events",
                str(ev),
                "--as-of",
                "2025-06-01",
                "--out",
                str(out),
                "--workers",
                "1",
            ],
        )
        _clean(result, (0, 2, 3))
        assert _snapshot(*inputs) == before
        assert not list(root.rglob("*.tmp"))
        if result.exit_code == 2:
            assert not out.exists()
        elif parquet:
            import pyarrow.parquet as pq

            contracts = pq.read_table(out / "contracts.parquet").column("contract").to_pylist()
            assert "acme-good" in contracts
            errors = (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()
            assert (result.exit_code == 3) == bool(errors)
        else:
            answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
            assert "acme-good" in [a["contract"] for a in answers]
            errors = (root / "out" / "answers.errors.jsonl").read_text(encoding="utf-8").splitlines()
            assert (result.exit_code == 3) == bool(errors)


# --------------------------------------------------------------------------- subprocess smoke cases

SMOKE = [
    ("check", CONTRACT.replace("title:", "title: \x00") if "title:" in CONTRACT else "\x00" + CONTRACT),
    ("check", CONTRACT + "x: &a [*a]\n"),
    ("check", CONTRACT.replace("Europe/Madrid", "right/UTC")),
    ("evaluate", CONTRACT),
]


def test_subprocess_smoke_cases(tmp_path):
    events = (
        EVENTS
        + '{"id": "x", "type": "invoice_issued", "amount": '
        + "9" * 5000
        + "}\n"
        + '{"id": "y\\ud800", "type": "waiver"}\n'
        + "[" * 100_000
        + "\n"
    )
    for n, (command, text) in enumerate(SMOKE):
        c = tmp_path / f"c{n}.yaml"
        e = tmp_path / f"e{n}.jsonl"
        c.write_bytes(_bytes(text))
        e.write_bytes(_bytes(events))
        args = [str(c)] if command == "check" else [str(c), str(e), "--as-of", "9999-12-31"]
        proc = subprocess.run(
            [sys.executable, "-m", "contractrules", command, *args], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2, (command, proc.returncode, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    e = tmp_path / "e-all.jsonl"
    e.write_bytes(_bytes(events))
    proc = subprocess.run(
        [sys.executable, "-m", "contractrules", "evaluate", str(tmp_path / "c3.yaml"), str(e), "--as-of", "2025-06-01"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert ":5: not a usable JSON value" in proc.stderr and ":6 id: contains a lone surrogate" in proc.stderr
    assert ":7: nested more than 32 levels deep" in proc.stderr


def test_subprocess_smoke_ingest_and_batch(tmp_path):
    """The real executable on hostile files: ``ingest`` refuses (store untouched), ``batch``
    answers the good contract and lists the bad ones, inputs unchanged, no temporary file."""
    from contractrules.store import open_store

    good = tmp_path / "contracts" / "good.yaml"
    good.parent.mkdir()
    good.write_text(CONTRACT)
    (good.parent / "nul.yaml").write_bytes(b"id: x\x00\n")
    (good.parent / "bomb.yaml").write_text(
        CONTRACT.replace(f"id: {CID}", "id: bomb")
        + "x: &a ["
        + ",".join(["y"] * 9)
        + "]\n"
        + "".join(f"x{i}: &a{i} [*a, *a, *a, *a, *a]\n" for i in range(30))
    )
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        _bytes(
            "".join(json.dumps({"contract": CID, **json.loads(line)}) + "\n" for line in EVENTS.splitlines())
            + '{"contract": "'
            + CID
            + '", "id": "d", "id": "e"}\n'
        )
    )
    before = _snapshot(good, events)
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert (
        subprocess.run(
            [sys.executable, "-m", "contractrules", "db", "init", "--db", db], capture_output=True, timeout=120
        ).returncode
        == 0
    )
    bad_events = tmp_path / "bad.jsonl"
    bad_events.write_bytes(_bytes(EVENTS + '{"id": "z\\ud800", "type": "waiver"}\n'))
    proc = subprocess.run(
        [sys.executable, "-m", "contractrules", "ingest", str(good), str(bad_events), "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    with open_store(db) as store:
        assert set(store.counts().values()) == {0}
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "contractrules",
            "batch",
            "--contracts",
            str(good.parent),
            "--events",
            str(events),
            "--as-of",
            "2025-06-01",
            "--out",
            str(out),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "internal error" not in proc.stderr + proc.stdout
    assert [json.loads(line)["contract"] for line in out.read_text().splitlines()] == []  # its events are bad
    errors = [json.loads(line) for line in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    assert {e["file"].rsplit("/", 1)[1] for e in errors} >= {"nul.yaml", "bomb.yaml"}
    assert any(e["field"] == "id" and "given twice" in e["message"] for e in errors)
    assert _snapshot(good, events) == before
    assert not list(tmp_path.rglob("*.tmp"))
