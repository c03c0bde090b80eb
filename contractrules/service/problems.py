"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error response is one :class:`Problem`: ``type`` (a stable URI per kind of
problem), ``title``, ``status``, ``detail``, and ``errors``: every issue found, each with
its ``field`` path (``amount``, ``terms.payment.terms_days``, ``query.as_of``), the
``line`` of the request body it is on (for events: the JSON Lines line, or the line a
JSON array element starts on) and the ``event_id`` when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from contractrules.errors import ConflictError, InputError, Issue, StoreError, UnknownContractError

MEDIA_TYPE = "application/problem+json"
BASE = "https://contractrules.dev/problems/"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Store unavailable",
}


class ProblemItem(BaseModel):
    """One issue: where (field path, body line, event id) and what."""

    field: str
    line: int | None = None
    event_id: str | None = None
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] = []


class ProblemError(Exception):
    """Raise in an endpoint to answer with a problem."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        errors: Iterable[ProblemItem] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail
        self.errors = list(errors)
        self.headers = headers


def problem_response(
    status: int, kind: str, detail: str, errors: Iterable[ProblemItem] = (), headers: dict[str, str] | None = None
) -> JSONResponse:
    body = Problem(
        type=BASE + kind, title=TITLES.get(status, "Error"), status=status, detail=detail, errors=list(errors)
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def items(issues: Iterable[Issue]) -> list[ProblemItem]:
    return [ProblemItem(field=i.field, line=i.line, event_id=i.event_id, message=i.message) for i in issues]


def from_error(exc: Exception) -> ProblemError:
    """The problem for a library error (UnknownContractError is a 404: never "forbidden")."""
    if isinstance(exc, UnknownContractError):
        return ProblemError(404, "not-found", "no such contract", items(exc.issues))
    if isinstance(exc, ConflictError):
        return ProblemError(
            409, "conflict", "the request contradicts what is stored; nothing was written", items(exc.issues)
        )
    if isinstance(exc, InputError):
        return ProblemError(422, "invalid-input", "the request is invalid; nothing was written", items(exc.issues))
    if isinstance(exc, StoreError):
        return ProblemError(503, "store-unavailable", f"the store cannot be used: {exc}")
    return ProblemError(422, "invalid-input", str(exc))


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts)


async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
    return problem_response(exc.status, exc.kind, exc.detail, exc.errors, exc.headers)


async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        ProblemItem(field=_location(e.get("loc", ())), message=str(e.get("msg", "invalid"))) for e in exc.errors()
    ]
    return problem_response(422, "invalid-request", "the request's parameters are invalid", errors)


async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    kinds = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized"}
    return problem_response(
        exc.status_code,
        kinds.get(exc.status_code, "http-error"),
        str(exc.detail),
        headers=getattr(exc, "headers", None),
    )


async def on_crash(request: Request, exc: Exception) -> JSONResponse:  # a bug: never a traceback to the client
    return problem_response(500, "internal-error", "internal error (see the server's log)")


def install(app) -> None:
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


#: ``responses=`` for the OpenAPI document: every error is a Problem.
def errors(*statuses: int) -> dict:
    return {
        s: {
            "model": Problem,
            "description": TITLES.get(s, "Error"),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
