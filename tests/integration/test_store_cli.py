"""The store on the command line, both backends: db init, ingest, evaluate/penalty --db."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from contractrules.cli import main
from tests.integration.conftest import SCENARIO
from tests.integration.store_events import CID, INVOICE, payment, write_jsonl

CONTRACT, EVENTS = str(SCENARIO / "contract.yaml"), str(SCENARIO / "events.jsonl")


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def test_init_ingest_and_answer_like_the_files(store_url):
    init = run("db", "init", "--db", store_url)
    assert init.exit_code == 0, init.output
    assert init.stdout.endswith("schema version 4 (created)\n")
    assert run("db", "init", "--db", store_url).stdout.endswith("(up to date)\n")
    first = run("ingest", "--db", store_url, CONTRACT, EVENTS)
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"{CID}: contract version 1 recorded; 1 event(s) added, 0 already stored (batch 1")
    again = run("ingest", "--db", store_url, CONTRACT, EVENTS, "--format", "json")
    assert json.loads(again.stdout) | {"recorded_at": None} == {
        "contract_id": CID,
        "version": 1,
        "new_version": False,
        "added": 0,
        "duplicates": 1,
        "batch": None,
        "recorded_at": None,
    }
    for command in (["evaluate"], ["penalty", "--invoice", "INV-07"]):
        from_files = run(*command, CONTRACT, EVENTS, "--as-of", "2025-10-01")
        from_store = run(*command, "--db", store_url, "--contract", CID, "--as-of", "2025-10-01")
        assert from_store.exit_code == 0, from_store.output
        assert from_store.stdout == from_files.stdout
    assert json.loads(from_store.stdout)["total"] == "45.26"
    status = run("db", "status", "--db", store_url)
    assert status.stdout.endswith("schema version 4; 1 contracts, 1 versions, 1 events, 1 batches\n")


def test_events_only_known_at_and_amendments(store_url, tmp_path):
    run("db", "init", "--db", store_url)
    first = json.loads(run("ingest", "--db", store_url, CONTRACT, EVENTS, "--format", "json").stdout)
    paid = write_jsonl(tmp_path / "paid.jsonl", [payment("p1", "2025-09-10")])
    added = run("ingest", "--db", store_url, "--contract", CID, paid)
    assert added.exit_code == 0, added.output
    assert "1 event(s) added" in added.stdout
    ask = ["penalty", "--db", store_url, "--contract", CID, "--invoice", "INV-07", "--as-of", "2025-10-01"]
    assert json.loads(run(*ask).stdout)["total"] == "0.00"
    then = run(*ask, "--known-at", first["recorded_at"])
    assert then.exit_code == 0, then.output
    assert json.loads(then.stdout)["total"] == "45.26"
    # an amended contract needs its effective date; then it is version 2
    amended = Path(tmp_path / "v2.yaml")
    amended.write_text(Path(CONTRACT).read_text().replace("grace_days: 15", "grace_days: 30"))
    refused = run("ingest", "--db", store_url, str(amended))
    assert refused.exit_code == 2
    assert "effective_from" in refused.stderr
    v2 = run("ingest", "--db", store_url, str(amended), "--effective-from", "2025-09-01")
    assert v2.exit_code == 0, v2.output
    assert "contract version 2 recorded" in v2.stdout


def test_refusals_and_their_exit_codes(store_url, tmp_path):
    missing = run("evaluate", "--db", store_url, "--contract", CID, "--as-of", "2025-10-01")
    assert missing.exit_code == 4  # store not initialised (SPEC §8)
    assert missing.stderr.startswith("store error: ") and "db init" in missing.stderr
    run("db", "init", "--db", store_url)
    unknown = run("evaluate", "--db", store_url, "--contract", "nope", "--as-of", "2025-10-01")
    assert (unknown.exit_code, unknown.stderr) == (2, "<store> contract: no contract 'nope' in the store\n")
    no_contract = run("ingest", "--db", store_url, "--contract", CID, EVENTS)
    assert no_contract.exit_code == 2 and "add the contract first" in no_contract.stderr
    run("ingest", "--db", store_url, CONTRACT, EVENTS)
    bad = write_jsonl(tmp_path / "bad.jsonl", [payment("p1", "2025-09-10"), {**INVOICE, "amount": "1.00"}])
    conflict = run("ingest", "--db", store_url, "--contract", CID, bad)
    assert conflict.exit_code == 2
    assert conflict.stderr.startswith(f"{bad}:2 id: event 'e1' is already stored with different content")
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(Path(CONTRACT).read_text().replace(f"id: {CID}", "id: other"))
    changed = run("ingest", "--db", store_url, "--contract", CID, str(renamed), bad)
    assert changed.exit_code == 2 and "contract id change" in changed.stderr
    status = run("db", "status", "--db", store_url)
    assert status.stdout.endswith("1 contracts, 1 versions, 1 events, 1 batches\n")
    usage = run("evaluate", "--db", store_url, "--as-of", "2025-10-01")
    assert usage.exit_code == 2 and "--db needs --contract ID" in usage.stderr
    mixed = run("evaluate", CONTRACT, "--db", store_url, "--contract", CID, "--as-of", "2025-10-01")
    assert mixed.exit_code == 2 and "drop CONTRACT/EVENTS" in mixed.stderr
    naive = run(
        "evaluate", "--contract", CID, "--db", store_url, "--as-of", "2025-10-01", "--known-at", "2025-10-01T10:00"
    )
    assert naive.exit_code == 2 and "without offset" in naive.stderr


def test_the_default_store_is_a_file_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONTRACTRULES_DB", raising=False)
    assert run("db", "init").stdout == "sqlite:///contractrules.db: schema version 4 (created)\n"
    assert (tmp_path / "contractrules.db").exists()
    assert run("ingest", CONTRACT, EVENTS).exit_code == 0
    answer = run("penalty", "--contract", CID, "--invoice", "INV-07", "--as-of", "2025-10-01")
    assert json.loads(answer.stdout)["total"] == "45.26"
    other = tmp_path / "other.db"
    env = {"CONTRACTRULES_DB": f"sqlite:///{other}"}
    assert run("db", "init", env=env).exit_code == 0 and other.exists()
