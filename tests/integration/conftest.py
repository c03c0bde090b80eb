"""Store tests run on both backends: a SQLite file and a real PostgreSQL server.

PostgreSQL comes from, in order:

1. ``CONTRACTRULES_TEST_PG`` (a ``postgresql://`` URL; ``.ci/run`` sets it);
2. a throwaway server this session starts with the PostgreSQL binaries it finds
   (tests/integration/pgserver.py: in a temporary directory, on 127.0.0.1 and a free
   port, as a non-root user); stopped at the end.

Without either, PostgreSQL tests are skipped locally and **fail** in CI (``CI`` set):
a CI run must never pass without having tested the production backend.

Every test gets an empty store: a new SQLite file, or a new PostgreSQL schema (the URL
carries ``options=-csearch_path=<schema>``), dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from tests.integration.pgserver import ThrowawayServer, find_bindir

PG_ENV = "CONTRACTRULES_TEST_PG"
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "late_penalty_answers_over_time"
BACKENDS = ("sqlite", pytest.param("postgres", marks=pytest.mark.postgres))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server (fails, not skips, in CI)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """In CI a skipped PostgreSQL or Dask test is a failure, whatever skipped it."""
    outcome = yield
    report = outcome.get_result()
    if not (os.environ.get("CI") and report.skipped):
        return
    for marker, what in (("postgres", "PostgreSQL"), ("dask", "Dask")):
        if item.get_closest_marker(marker) is not None:
            report.outcome = "failed"
            report.longrepr = f"{what} test skipped in CI (a failure here): {report.longrepr}"
            return


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI and {why}; set {PG_ENV} or install the server", pytrace=False)
    pytest.skip(f"no PostgreSQL: {why} (set {PG_ENV}=postgresql://...)")


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL URL for the whole session (see the module docstring)."""
    url = os.environ.get(PG_ENV)
    if url:
        yield url
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[dev]')")
    bindir = find_bindir()
    if bindir is None:
        _unavailable("no server binaries (initdb, pg_ctl) were found")
    server = None
    try:
        server = ThrowawayServer(bindir)
        url = server.start()
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        if server is not None:
            server.stop()
        _unavailable(f"a throwaway server did not start: {exc}")
    try:
        yield url
    finally:
        server.stop()


def with_search_path(url: str, schema: str) -> str:
    """``url`` with ``options=-csearch_path=<schema>`` (keeping its other parameters)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextlib.contextmanager
def pg_schema(server_url: str):
    """A fresh schema on the server, as a store URL; dropped afterwards."""
    import psycopg

    schema = f"cr_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(server_url, schema)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """An empty store's URL (no schema yet), once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with pg_schema(request.getfixturevalue("pg_server")) as url:
        yield url


@pytest.fixture
def store(store_url):
    """An initialised, empty store."""
    from contractrules.store import open_store

    with open_store(store_url, migrate=True) as s:
        yield s


@pytest.fixture
def contract_doc() -> dict:
    """The golden late-penalty contract (tests/scenarios/late_penalty_answers_over_time)."""
    import yaml

    return yaml.safe_load((SCENARIO / "contract.yaml").read_text())


@pytest.fixture(scope="session", params=BACKENDS)
def service(request, tmp_path_factory):
    """A running ``contractrules serve`` per backend (tenants ``alpha`` and ``beta``) for the session."""
    from tests.integration.service_fixtures import start_service

    tmp = tmp_path_factory.mktemp(f"service-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            db = f"sqlite:///{tmp / 'service.db'}"
        else:
            db = stack.enter_context(pg_schema(request.getfixturevalue("pg_server")))
        svc = start_service(db, tmp)
        try:
            yield svc
        finally:
            svc.server.stop()
