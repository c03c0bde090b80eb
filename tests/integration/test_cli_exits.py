"""Issue 15 item 17 (SPEC §8): broken pipe 141 (quietly), disk full 5, Ctrl-C 130 with
nothing left at the output path; run as real processes where the signal matters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from contractrules.cli import main
from tests.integration.batch_fixtures import contract, invoice

EXE = [sys.executable, "-m", "contractrules"]


def files(tmp_path: Path) -> tuple[Path, Path]:
    c = tmp_path / "c.yaml"
    c.write_text(yaml.safe_dump({**contract("acme-x"), "start": "1990-01-01"}, sort_keys=False))
    e = tmp_path / "e.jsonl"
    e.write_text(
        '{"id": "e1", "type": "invoice_issued", "at": "1990-01-31", "by": "studio", '
        '"invoice": "INV-1", "amount": "600.00"}\n'
    )
    return c, e


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_reader_that_went_away_exits_141_quietly(tmp_path, fmt):
    c, e = files(tmp_path)
    r, w = os.pipe()
    os.close(r)  # nobody will read
    proc = subprocess.run(
        [*EXE, "evaluate", str(c), str(e), "--as-of", "2199-01-01", "--format", fmt, "--all"],
        stdout=w,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    os.close(w)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


def test_help_into_a_closed_pipe_exits_141(tmp_path):
    r, w = os.pipe()
    os.close(r)
    proc = subprocess.run([*EXE, "--help"], stdout=w, stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(w)
    assert (proc.returncode, proc.stderr) == (141, "")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_exits_5_and_says_so(tmp_path):
    c, e = files(tmp_path)
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [*EXE, "evaluate", str(c), str(e), "--as-of", "2025-01-01"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 5
    assert "disk full" in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_in_a_command_exits_130(tmp_path, monkeypatch):
    from contractrules import api

    c, e = files(tmp_path)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "evaluate", interrupted)
    result = CliRunner().invoke(main, ["evaluate", str(c), str(e), "--as-of", "2025-01-01"])
    assert result.exit_code == 130 and "interrupted" in result.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_during_a_batch_leaves_the_old_output_untouched(tmp_path, workers):
    d = tmp_path / "contracts"
    d.mkdir()
    for n in range(60):
        (d / f"c{n:03d}.yaml").write_text(yaml.safe_dump({**contract(f"acme-{n:03d}"), "start": "1990-01-01"}))
    ev = tmp_path / "events.jsonl"
    ev.write_text(
        "".join(
            f'{{"contract": "acme-{n:03d}", ' + str(invoice(at="1990-01-31"))[1:].replace("'", '"') + "\n"
            for n in range(60)
        )
    )
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "answers.jsonl"
    out.write_text("old answers\n")
    proc = subprocess.Popen(
        [
            *EXE,
            "batch",
            "--contracts",
            str(d),
            "--events",
            str(ev),
            "--as-of",
            "2199-01-01",
            "--out",
            str(out),
            "--workers",
            workers,
            "--chunk-size",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not list(out_dir.glob(".answers.jsonl.*.tmp")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "the batch finished before it could be interrupted"
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted: nothing was written to" in stderr and "Traceback" not in stderr
    assert out.read_text() == "old answers\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["answers.jsonl"]


def test_a_full_disk_under_the_store_exits_5(tmp_path, monkeypatch):
    """SQLite's SQLITE_FULL at commit: "disk full", exit 5, and nothing was written."""
    import sqlite3

    from contractrules.store import open_store, sqlite

    c, e = files(tmp_path)
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert CliRunner().invoke(main, ["db", "init", "--db", db]).exit_code == 0
    real = sqlite.sqlite3.connect

    class FullConnection:
        def __init__(self, conn):
            self._conn = conn

        def execute(self, sql, *args):
            if sql == "COMMIT":
                raise sqlite3.OperationalError("database or disk is full")
            return self._conn.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    monkeypatch.setattr(sqlite.sqlite3, "connect", lambda *a, **k: FullConnection(real(*a, **k)))
    result = CliRunner().invoke(main, ["ingest", str(c), str(e), "--db", db])
    assert result.exit_code == 5, result.output
    assert "disk full" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setattr(sqlite.sqlite3, "connect", real)
    with open_store(db) as store:
        assert set(store.counts().values()) == {0}
