"""Schema creation and migration, store URLs, and stores that cannot be used."""

from __future__ import annotations

import pytest

from contractrules.errors import StoreError
from contractrules.store import BACKENDS, SCHEMA_VERSION, display, open_store
from contractrules.store.schema import MIGRATIONS, pending
from contractrules.store.url import backend_of


def _raw(url: str):
    backend, target = backend_of(url)
    return BACKENDS[backend](url, target, True)


def test_a_database_without_the_schema_is_refused_until_init(store_url):
    with _raw(store_url) as raw:
        assert raw.schema_version() is None
    with pytest.raises(StoreError, match="holds no contractrules store: create it with `contractrules db init"):
        open_store(store_url)
    with open_store(store_url, migrate=True) as store:
        assert store.schema_version() == SCHEMA_VERSION == MIGRATIONS[-1].version


def _old_rows(raw, contract_doc) -> None:
    """A contract and one event written as a schema-2 store wrote them (no tenant column)."""
    from contractrules.model import parse_contract
    from contractrules.store.values import contract_json

    doc = contract_json(parse_contract({**contract_doc, "id": "acme-web"}))
    event = '{"amount":"600.00","at":"2025-07-31","by":"studio","id":"e1","invoice":"INV-07","type":"invoice_issued"}'
    at = raw._to_ts(
        raw._from_ts("2025-08-01T00:00:00.000000Z")
        if raw.backend == "sqlite"
        else __import__("datetime").datetime(2025, 8, 1, tzinfo=__import__("datetime").UTC)
    )
    with raw._write("") as tx:
        (batch,) = tx.one(
            "INSERT INTO cr_batches (contract_id, recorded_at, source, contract_version, n_events) "
            "VALUES (?, ?, ?, ?, ?) RETURNING batch_id",
            ("acme-web", at, "old", 1, 1),
        )
        tx.many(
            "INSERT INTO cr_contracts (contract_id, version, effective_from, document, content_hash, "
            "recorded_at, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [("acme-web", 1, raw._to_date(__import__("datetime").date(2025, 7, 1)), doc, "h", at, batch)],
        )
        tx.many(
            "INSERT INTO cr_events (contract_id, event_id, type, local_date, content, content_hash, "
            "recorded_at, batch_id, source_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    "acme-web",
                    "e1",
                    "invoice_issued",
                    raw._to_date(__import__("datetime").date(2025, 7, 31)),
                    event,
                    "h",
                    at,
                    batch,
                    1,
                )
            ],
        )


def test_an_older_schema_is_upgraded_in_place_and_init_is_idempotent(store_url, contract_doc):
    with _raw(store_url) as raw:
        assert raw.migrate(target=2) == 2
        _old_rows(raw, contract_doc)  # data written under schema 2 survives the upgrade, as tenant "default"
    with pytest.raises(StoreError, match="schema version 2, this contractrules needs 4: upgrade it in place"):
        open_store(store_url)
    for _ in range(2):
        with open_store(store_url, migrate=True) as store:
            assert store.schema_version() == 4
            assert store.counts() == {"contracts": 1, "versions": 1, "events": 1, "batches": 1}
            assert store.contract_ids() == ["acme-web"]
            assert [e["id"] for e in store.events("acme-web")] == ["e1"]
            assert store.penalty("acme-web", "INV-07", "2025-10-01").total == "45.26"
    with open_store(store_url, tenant="other") as other:  # the key is (tenant, contract id) now
        assert other.contract_ids() == []
        other.add_contract({**contract_doc, "id": "acme-web"})
        other.append_events(
            "acme-web",
            [
                {
                    "id": "e1",
                    "type": "invoice_issued",
                    "at": "2025-07-31",
                    "by": "studio",
                    "invoice": "INV-07",
                    "amount": "100.00",
                }
            ],
        )
        assert other.penalty("acme-web", "INV-07", "2025-10-01").total != "45.26"
    with open_store(store_url) as store:
        assert store.events("acme-web")[0]["amount"] == "600.00"
        with pytest.raises(StoreError, match="append-only"):
            with store._write("") as tx:
                tx.run("UPDATE cr_events SET content = 'x'")


def test_a_newer_schema_is_refused(store_url):
    with _raw(store_url) as raw:
        raw.migrate()
        with raw._write("") as tx:
            tx.many("INSERT INTO cr_schema (version, description) VALUES (?, ?)", [(99, "from the future")])
    with pytest.raises(StoreError, match="schema version 99, newer than this contractrules knows"):
        open_store(store_url)
    with pytest.raises(StoreError, match="newer"):
        open_store(store_url, migrate=True)


def test_pending_migrations():
    assert [m.version for m in pending(None)] == [1, 2, 3, 4]
    assert [m.version for m in pending(1)] == [2, 3, 4]
    assert [m.version for m in pending(3)] == [4]
    assert pending(4) == ()
    assert [m.version for m in pending(None, target=1)] == [1]


def test_a_missing_sqlite_file_is_not_created_without_init(tmp_path):
    path = tmp_path / "nowhere.db"
    with pytest.raises(StoreError, match="no store at"):
        open_store(f"sqlite:///{path}")
    assert not path.exists()


def test_urls():
    assert backend_of("sqlite:///contractrules.db") == ("sqlite", "contractrules.db")
    assert backend_of("sqlite:////var/lib/x.db") == ("sqlite", "/var/lib/x.db")
    assert backend_of("billing.db") == ("sqlite", "billing.db")
    assert backend_of("postgres://u@h/db") == ("postgres", "postgres://u@h/db")
    for bad in ("mysql://h/db", "sqlite://", "sqlite://relative.db", ""):
        with pytest.raises(StoreError):
            backend_of(bad)
    shown = display("postgresql://billing:s3cret@db.example:5432/ledger")
    assert shown == "postgresql://billing:***@db.example:5432/ledger"
    assert display("postgresql://billing@db.example/ledger") == "postgresql://billing@db.example/ledger"


@pytest.mark.postgres
def test_an_unreachable_server_is_a_store_error_without_the_password(pg_server):
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://who:s3cret@127.0.0.1:1/none?connect_timeout=2")
    assert "cannot connect to postgresql://who:***@127.0.0.1:1/none" in str(caught.value)
    assert "s3cret" not in str(caught.value)
