"""A real server for the service tests: ``contractrules serve`` as a subprocess on 127.0.0.1.

:class:`Server` starts uvicorn on a free port of 127.0.0.1 and waits (bounded) until
``/health`` answers; ``stop()`` terminates it, ``kill()`` sends SIGKILL. The session
fixture ``service`` (tests/integration/conftest.py) gives one server per backend, with
two tenants (``alpha``, ``beta``) whose keys the tests use.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.integration.pgserver import free_port

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "scenarios" / "late_penalty_answers_over_time"
#: Small limits so the limit tests stay fast.
MAX_BODY = 400_000
MAX_EVENTS = 2_000


class Server:
    """``contractrules serve --db URL`` on 127.0.0.1 and a free port."""

    def __init__(self, db: str, log: Path, *extra: str) -> None:
        self.db, self.log_path, self.extra = db, log, extra
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        self.port = free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open by the child
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "contractrules",
                "serve",
                "--db",
                self.db,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--max-body",
                str(MAX_BODY),
                "--max-events",
                str(MAX_EVENTS),
                *self.extra,
            ],
            stdout=log,
            stderr=log,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer /health within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def kill(self) -> None:
        """kill -9."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)


@dataclass
class Service:
    """A running server, its store URL and two tenants' keys."""

    server: Server
    db: str
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, tenant: str | None = "alpha", **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[tenant]}"} if tenant else {}
        headers.update(kw.pop("headers", {}))
        return httpx.Client(base_url=self.url, headers=headers, timeout=kw.pop("timeout", 60.0), **kw)


def contract_doc(contract_id: str) -> dict:
    import json

    import yaml

    doc = json.loads(json.dumps(yaml.safe_load((SCENARIO / "contract.yaml").read_text()), default=str))
    doc["id"] = contract_id
    return doc


def scenario_events() -> list[dict]:
    import json

    return [json.loads(line) for line in (SCENARIO / "events.jsonl").read_text().splitlines() if line.strip()]


def start_service(db: str, tmp: Path, *extra: str) -> Service:
    from contractrules.store import open_store, tenants

    with open_store(db, migrate=True) as store:
        keys = {name: tenants.create_tenant(store, name) for name in ("alpha", "beta")}
    return Service(Server(db, tmp / "server.log", *extra).start(), db, keys)
