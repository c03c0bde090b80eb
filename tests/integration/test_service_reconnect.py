"""A lost database connection costs at most a 503 per request thread, never the server:
the next request reconnects (PostgreSQL restarted, a connection killed by a proxy)."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import pg_schema
from tests.integration.service_fixtures import start_service


@pytest.mark.postgres
def test_the_server_reconnects_after_its_connections_are_killed(pg_server, tmp_path):
    import psycopg

    name = f"crtest-{uuid.uuid4().hex[:8]}"
    with pg_schema(pg_server) as url:
        svc = start_service(f"{url}&application_name={name}", tmp_path)
        try:
            with svc.client("alpha") as api:
                for _ in range(10):  # every request thread has opened its connection
                    assert api.get("/contracts").status_code == 200
                with psycopg.connect(pg_server, autocommit=True) as conn:
                    killed = conn.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                        (name,),
                    ).fetchone()[0]
                assert killed >= 1
                statuses = [api.get("/contracts").status_code for _ in range(40)]
            assert set(statuses) <= {200, 503}, statuses
            assert statuses[-10:] == [200] * 10, statuses
        finally:
            svc.server.stop()
