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


def test_an_older_schema_is_upgraded_in_place_and_init_is_idempotent(store_url, contract_doc):
    with _raw(store_url) as raw:
        assert raw.migrate(target=1) == 1
        raw.ingest(contract_doc)  # data written under schema 1 survives the upgrade
    with pytest.raises(StoreError, match="schema version 1, this contractrules needs 2: upgrade it in place"):
        open_store(store_url)
    for _ in range(2):
        with open_store(store_url, migrate=True) as store:
            assert store.schema_version() == 2
            assert store.counts() == {"contracts": 1, "versions": 1, "events": 0, "batches": 1}


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
    assert [m.version for m in pending(None)] == [1, 2]
    assert [m.version for m in pending(1)] == [2]
    assert pending(2) == ()
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
