"""The HTTP service: a FastAPI application on the store.

Every endpoint but ``/health`` and ``/openapi.json`` needs ``Authorization: Bearer KEY``;
the key names the tenant, and every read and write is that tenant's only (another
tenant's contract is a 404, exactly like a contract that does not exist). Each request
thread keeps its own store object (its connection and caches); answers come from
:mod:`contractrules.service.answers`.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from contractrules.errors import ContractRulesError, InputError, StoreError
from contractrules.model.answers import Answer, ObligationKind, PenaltyAnswer, Status, ViolationKind
from contractrules.service import answers, bodies, listing
from contractrules.service.models import (
    ContractList,
    ContractWritten,
    EventsWritten,
    Health,
    ObligationPage,
    StoredEvents,
    ViolationPage,
)
from contractrules.service.problems import ProblemError, errors, from_error, install
from contractrules.store import Store, open_store, tenants

MAX_BODY = 10 * 1024 * 1024
MAX_EVENTS = 10_000
THREADS = 8  # request threads (each with a store connection)


@dataclass
class Settings:
    db: str
    max_body: int = MAX_BODY
    max_events: int = MAX_EVENTS
    threads: int = THREADS


class Stores:
    """One store object per request thread (a store is not thread-safe).

    Their caches of parsed contract versions and events are shared: the keys include
    the tenant (contracts) or a sequence number unique in the store (events), stored
    rows never change, and a dict's get and set are atomic in CPython.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._all: list[Store] = []
        self._lock = threading.Lock()
        self._contracts: dict = {}
        self._events: dict = {}

    def get(self, tenant: str = "default") -> Store:
        store = getattr(self._local, "store", None)
        if store is not None and getattr(_FAILED, "store", False):  # its last call failed: reconnect
            _FAILED.store = False
            with self._lock:
                self._all.remove(store)
            try:
                store.close()
            except Exception:  # noqa: BLE001 - a broken connection may not close cleanly
                pass
            store = self._local.store = None
        if store is None:
            try:
                store = open_store(self.url)
            except ContractRulesError as exc:
                raise from_error(exc) from None
            self._local.store = store
            store._contracts, store._events = self._contracts, self._events
            with self._lock:
                self._all.append(store)
        store.tenant = tenant
        return store

    def close(self) -> None:
        with self._lock:
            for store in self._all:
                try:
                    store.close()
                except Exception:  # noqa: BLE001 - closing at shutdown, best effort
                    pass
            self._all.clear()


_bearer = HTTPBearer(auto_error=False, description="An API key from `contractrules tenant create NAME`")
CONTRACT_ID = Path(min_length=1, max_length=200, description="The contract's id (unique per tenant)")
AS_OF = Query(description="Evaluate as of this local date of the contract (YYYY-MM-DD)")
KNOWN_AT = Query(
    None,
    description="Answer with only what the store had recorded by then: a timestamp with "
    "offset, or a date (= the end of that day, UTC)",
)
EFFECTIVE_FROM = Query(None, description="Record the document as an amendment effective from this date")
LIMIT = Query(100, ge=1, le=1000, description="Items per page")
CURSOR = Query(None, max_length=2000, description="next_cursor of the previous page")


#: JSON Lines bodies: one event object a line (described as the array of those objects).
_LINES = {"type": "array", "items": {"type": "object"}, "description": "one JSON object a line"}


_FAILED = threading.local()  # .store: this thread's store failed (StoreError): reopen it next time


def _penalty(store, contract_id: str, invoice: str, as_of: date, known_at: str | None):
    """The penalty answer, or the error saying the invoice is not issued (a 404, not a 422)."""
    try:
        return answers.penalty(store, contract_id, invoice, as_of, known_at)
    except InputError as exc:
        if any(issue.field == "invoice" for issue in exc.issues):
            return exc
        raise


def _call(fn, *args, **kwargs):
    """Run a store/answer call, turning library errors into problems."""
    try:
        return fn(*args, **kwargs)
    except StoreError as exc:
        _FAILED.store = True
        raise from_error(exc) from None
    except ContractRulesError as exc:
        raise from_error(exc) from None
    except RecursionError:  # a body nested thousands deep: refuse it, never crash on it
        raise ProblemError(422, "invalid-input", "the body is nested too deeply") from None


def tenant_of(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The tenant whose key the request carries, or a 401 problem."""
    tenant = None
    if credentials is not None:
        tenant = _call(tenants.authenticate, request.app.state.stores.get(), credentials.credentials)
    if tenant is None:
        raise ProblemError(
            401,
            "unauthorized",
            "a valid API key is required: Authorization: Bearer KEY",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return tenant


Tenant = Annotated[str, Depends(tenant_of)]


def create_app(settings: Settings) -> FastAPI:
    stores = Stores(settings.db)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        await run_in_threadpool(stores.get)  # fail at start-up if the store cannot be used
        await run_in_threadpool(answers.warm_up)
        gc.collect()  # what start-up allocated is never garbage: keep full collections off it
        gc.freeze()
        yield
        stores.close()
        answers.close()

    app = FastAPI(
        title="contractrules",
        version="1",
        lifespan=lifespan,
        description="Contract terms evaluated against events in event time: what is owed, what is "
        "late, which penalties may be charged. Errors are RFC 9457 problem details.",
    )
    app.state.stores = stores
    install(app)

    auth = errors(401, 422, 503)

    @app.get("/health", response_model=Health, responses=errors(503))
    def health() -> Health:
        store = stores.get()
        return Health(status="ok", backend=store.backend, schema_version=_call(store.schema_version))

    @app.get("/contracts", response_model=ContractList, responses=auth)
    def list_contracts(tenant: Tenant) -> ContractList:
        return ContractList(contracts=_call(stores.get(tenant).contract_ids))

    created: dict[int | str, dict[str, Any]] = {
        201: {"model": ContractWritten, "description": "Version 1 of a new contract was recorded"}
    }

    @app.put(
        "/contracts/{contract_id}",
        response_model=ContractWritten,
        responses={**created, **errors(401, 404, 409, 413, 415, 422, 503)},
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "A contract document (docs/contract-format.md)",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/yaml": {"schema": {"type": "object"}},
                },
            }
        },
    )
    async def put_contract(
        request: Request, tenant: Tenant, contract_id: str = CONTRACT_ID, effective_from: date | None = EFFECTIVE_FROM
    ):
        raw = await bodies.read(request, settings.max_body)

        def write():
            doc = _call(bodies.contract, request, raw, contract_id)
            result = _call(stores.get(tenant).add_contract, doc, effective_from=effective_from)
            return result

        result = await run_in_threadpool(write)
        body = ContractWritten(
            contract=result.contract_id,
            version=result.version,
            new_version=result.new_version,
            recorded_at=result.recorded_at,
        )
        status = 201 if result.new_version and result.version == 1 else 200
        return JSONResponse(body.model_dump(mode="json"), status_code=status)

    @app.get("/contracts/{contract_id}/events", response_model=StoredEvents, responses=errors(401, 404, 422, 503))
    def get_events(tenant: Tenant, contract_id: str = CONTRACT_ID):
        events = _call(stores.get(tenant).events, contract_id)
        return JSONResponse({"contract": contract_id, "events": events})

    @app.post(
        "/contracts/{contract_id}/events",
        response_model=EventsWritten,
        responses=errors(401, 404, 409, 413, 415, 422, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "A batch of events: a JSON array, "
                "or JSON Lines (application/jsonl, application/x-ndjson)",
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                    "application/x-ndjson": {"schema": _LINES},
                    "application/jsonl": {"schema": _LINES},
                },
            }
        },
    )
    async def post_events(
        request: Request,
        tenant: Tenant,
        contract_id: str = CONTRACT_ID,
        idempotency_key: str | None = Header(None, max_length=255),
    ):
        raw = await bodies.read(request, settings.max_body)
        request_hash = hashlib.sha256(
            contract_id.encode() + b"\0" + bodies.media_type(request).encode() + b"\0" + raw
        ).hexdigest()

        def write():
            store = stores.get(tenant)
            if idempotency_key is not None:
                seen = _call(tenants.idempotent_response, store, tenant, idempotency_key)
                if seen is not None:
                    if seen[0] != request_hash:
                        raise ProblemError(
                            422, "idempotency-key-reused", "this Idempotency-Key was used for a different request"
                        )
                    return seen[1], seen[2], True
            items = _call(bodies.events, request, raw, settings.max_events)
            result = _call(store.append_events, contract_id, items, source=bodies.BODY)
            body = EventsWritten(
                contract=result.contract_id,
                version=result.version,
                added=result.added,
                duplicates=result.duplicates,
                batch=result.batch,
                recorded_at=result.recorded_at,
            )
            text = json.dumps(body.model_dump(mode="json"))
            if idempotency_key is not None:
                _call(tenants.record_response, store, tenant, idempotency_key, request_hash, 200, text)
                kept = _call(tenants.idempotent_response, store, tenant, idempotency_key)
                if kept is not None and kept[0] == request_hash and kept[2] != text:
                    return kept[1], kept[2], True  # the same request ran concurrently: its response was kept
            return 200, text, False

        status, text, replayed = await run_in_threadpool(write)
        headers = {"Idempotent-Replayed": "true"} if replayed else None
        return JSONResponse(json.loads(text), status_code=status, headers=headers)

    @app.get("/contracts/{contract_id}/answer", response_model=Answer, responses=errors(401, 404, 422, 503))
    def get_answer(
        tenant: Tenant, contract_id: str = CONTRACT_ID, as_of: date = AS_OF, known_at: str | None = KNOWN_AT
    ):
        answer = _call(answers.answer, stores.get(tenant), contract_id, as_of, known_at)
        return JSONResponse(answer.to_dict())

    @app.get(
        "/contracts/{contract_id}/penalties/{invoice}",
        response_model=PenaltyAnswer,
        responses=errors(401, 404, 422, 503),
    )
    def get_penalty(
        tenant: Tenant,
        contract_id: str = CONTRACT_ID,
        invoice: str = Path(min_length=1, max_length=200),
        as_of: date = AS_OF,
        known_at: str | None = KNOWN_AT,
    ):
        store = stores.get(tenant)
        pen = _call(_penalty, store, contract_id, invoice, as_of, known_at)
        if isinstance(pen, InputError):
            raise ProblemError(404, "not-found", f"no invoice {invoice!r} issued by {as_of}", from_error(pen).errors)
        return JSONResponse(pen.model_dump(mode="json"))

    @app.get("/obligations", response_model=ObligationPage, responses=auth)
    def get_obligations(
        tenant: Tenant,
        as_of: date = AS_OF,
        status: Status | None = None,
        kind: ObligationKind | None = None,
        due_after: date | None = None,
        due_before: date | None = None,
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
    ):
        pick = listing.obligations(status, kind, due_after, due_before)
        items, nxt = _call(listing.page, stores.get(tenant), as_of, limit, cursor, pick)
        return JSONResponse({"as_of": as_of.isoformat(), "items": items, "next_cursor": nxt})

    @app.get("/violations", response_model=ViolationPage, responses=auth)
    def get_violations(
        tenant: Tenant,
        as_of: date = AS_OF,
        kind: ViolationKind | None = None,
        severity: Literal["breach", "advisory"] | None = None,
        on_after: date | None = None,
        on_before: date | None = None,
        enforceable_after: date | None = None,
        enforceable_before: date | None = None,
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
    ):
        pick = listing.violations(kind, severity, on_after, on_before, enforceable_after, enforceable_before)
        items, nxt = _call(listing.page, stores.get(tenant), as_of, limit, cursor, pick)
        return JSONResponse({"as_of": as_of.isoformat(), "items": items, "next_cursor": nxt})

    return app
