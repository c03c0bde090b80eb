"""Tenants: keys from the CLI, isolation through every endpoint, revocation, ``--tenant``."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from tests.integration.service_fixtures import ROOT, contract_doc, scenario_events

INVOICE = scenario_events()[0]
AS_OF = {"as_of": "2025-10-01"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contractrules", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.fixture
def shared(service):
    """Contract ``shared-<uuid>`` held by tenant alpha only (INV-07 stored)."""
    cid = f"shared-{uuid.uuid4().hex[:8]}"
    with service.client("alpha") as alpha:
        assert alpha.put(f"/contracts/{cid}", json=contract_doc(cid)).status_code == 201
        assert alpha.post(f"/contracts/{cid}/events", json=[INVOICE]).json()["added"] == 1
    return cid


def _not_found(r) -> None:
    assert r.status_code == 404, r.text  # exactly as for a contract nobody has: never 403
    assert r.json()["detail"] == "no such contract"


def test_b_cannot_read_a_s_events(service, shared):
    with service.client("beta") as beta:
        _not_found(beta.get(f"/contracts/{shared}/events"))


def test_b_cannot_write_events_to_a_s_contract(service, shared):
    with service.client("beta") as beta, service.client("alpha") as alpha:
        _not_found(beta.post(f"/contracts/{shared}/events", json=[{**INVOICE, "id": "b1", "invoice": "B-1"}]))
        assert [e["id"] for e in alpha.get(f"/contracts/{shared}/events").json()["events"]] == ["e1"]


def test_b_cannot_read_a_s_answer(service, shared):
    with service.client("beta") as beta:
        _not_found(beta.get(f"/contracts/{shared}/answer", params=AS_OF))


def test_b_cannot_read_a_s_penalty(service, shared):
    with service.client("beta") as beta:
        _not_found(beta.get(f"/contracts/{shared}/penalties/INV-07", params=AS_OF))


def test_b_cannot_list_a_s_contracts_obligations_or_violations(service, shared):
    with service.client("beta") as beta, service.client("alpha") as alpha:
        assert shared not in beta.get("/contracts").json()["contracts"]
        assert shared in alpha.get("/contracts").json()["contracts"]
        for path in ("/obligations", "/violations"):
            items = beta.get(path, params={**AS_OF, "limit": 1000}).json()["items"]
            assert shared not in {i["contract"] for i in items}
            assert shared in {i["contract"] for i in alpha.get(path, params={**AS_OF, "limit": 1000}).json()["items"]}


def test_b_has_its_own_contract_with_the_same_id(service, shared):
    """PUT by B creates B's own contract: A's is untouched, and each sees only its own."""
    with service.client("beta") as beta, service.client("alpha") as alpha:
        doc = contract_doc(shared)
        doc["terms"]["late_penalty"]["fixed_fee"] = "0.00"
        assert beta.put(f"/contracts/{shared}", json=doc).status_code == 201  # version 1 of B's, not a conflict
        assert beta.post(f"/contracts/{shared}/events", json=[{**INVOICE, "amount": "100.00"}]).json()["added"] == 1
        assert beta.get(f"/contracts/{shared}/penalties/INV-07", params=AS_OF).json()["total"] == "0.88"
        assert alpha.get(f"/contracts/{shared}/penalties/INV-07", params=AS_OF).json()["total"] == "45.26"
        assert alpha.get(f"/contracts/{shared}/events").json()["events"][0]["amount"] == "600.00"


def test_the_cli_creates_lists_and_revokes_keys(service):
    name = f"t{uuid.uuid4().hex[:8]}"
    created = _cli("tenant", "create", name, "--db", service.db)
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("crk_")  # the key alone on one line
    key = lines[0]
    again = _cli("tenant", "create", name, "--db", service.db)
    assert again.returncode == 2 and "exists already" in again.stderr and not again.stdout
    listed = _cli("tenant", "list", "--db", service.db)
    assert f"{name}\t{key[4:20]}\t" in listed.stdout and "active" in listed.stdout
    assert key[21:] not in listed.stdout  # never the secret
    from contractrules.store import open_store

    with open_store(service.db) as store, store._read() as tx:
        rows = tx.all("SELECT key_id, salt, key_hash FROM cr_keys")
    assert all(key[21:] not in "".join(map(str, row)) for row in rows)  # only a salted hash is stored
    headers = {"Authorization": f"Bearer {key}"}
    with service.client(None, headers=headers) as client:
        assert client.get("/contracts").json() == {"contracts": []}
        revoked = _cli("tenant", "revoke", name, "--db", service.db)
        assert revoked.returncode == 0 and revoked.stdout.strip() == f"{name}: 1 key(s) revoked"
        r = client.get("/contracts")
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert "revoked" in _cli("tenant", "list", "--db", service.db).stdout
    assert _cli("tenant", "create", "Bad Name", "--db", service.db).returncode == 2
    assert _cli("tenant", "revoke", "nobody", "--db", service.db).returncode == 2
    first, second = (_cli("tenant", "key", name, "--db", service.db).stdout.strip() for _ in range(2))
    with (
        service.client(None, headers={"Authorization": f"Bearer {first}"}) as one,
        service.client(None, headers={"Authorization": f"Bearer {second}"}) as two,
    ):
        assert one.get("/contracts").status_code == two.get("/contracts").status_code == 200
        done = _cli("tenant", "revoke", name, "--key", second[4:20], "--db", service.db)
        assert done.stdout.strip() == f"{name}: 1 key(s) revoked"
        assert (one.get("/contracts").status_code, two.get("/contracts").status_code) == (200, 401)


def test_serve_refuses_a_store_without_schema_and_a_taken_port(service, tmp_path):
    missing = _cli("serve", "--db", f"sqlite:///{tmp_path / 'none.db'}", "--port", "1")
    assert missing.returncode == 4 and "store error: no store at" in missing.stderr  # not initialised
    taken = _cli("serve", "--db", service.db, "--host", "127.0.0.1", "--port", str(service.server.port))
    assert taken.returncode == 1 and "address already in use" in taken.stderr


def test_store_commands_take_a_tenant(service, tmp_path):
    cid = f"cli-{uuid.uuid4().hex[:8]}"
    contract = tmp_path / "contract.json"
    contract.write_text(json.dumps(contract_doc(cid)))
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(INVOICE) + "\n")
    ingest = _cli("ingest", "--db", service.db, "--tenant", "beta", str(contract), str(events), "--format", "json")
    assert ingest.returncode == 0, ingest.stderr
    pen = ["penalty", "--db", service.db, "--contract", cid, "--invoice", "INV-07", "--as-of", "2025-10-01"]
    assert json.loads(_cli(*pen, "--tenant", "beta").stdout)["total"] == "45.26"
    missing = _cli(*pen)  # tenant "default" has no such contract
    assert missing.returncode == 2 and "no contract" in missing.stderr
    with service.client("beta") as beta:
        assert beta.get(f"/contracts/{cid}/penalties/INV-07", params=AS_OF).json()["total"] == "45.26"
