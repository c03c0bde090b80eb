"""Request bodies: read within the size limit, parse contracts and event batches.

- Contracts: ``application/json`` or ``application/yaml`` (also ``application/x-yaml``,
  ``text/yaml``); problems carry the field path and the body's line.
- Events: a JSON array (``application/json``) or JSON Lines (``application/jsonl``,
  ``application/x-ndjson``); each event keeps its line (the JSON Lines line, or the line
  its array element starts on), which every problem names.
- Limits: more than ``max_body`` bytes is a 413 before anything is parsed; more than
  ``max_events`` events is a 422 before the store is touched.
"""

from __future__ import annotations

import json

from fastapi import Request

from contractrules.errors import ContractError, EventError, Issue
from contractrules.model import Contract
from contractrules.model.lines import DocumentSyntaxError, json_array_items
from contractrules.model.loader import contract_from_text
from contractrules.service.problems import ProblemError, ProblemItem

BODY = "body"
JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
LINES_TYPES = ("application/jsonl", "application/x-ndjson", "application/json-lines")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read(request: Request, limit: int) -> bytes:
    """The body, or a 413 problem as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413, "body-too-large", f"the request body is larger than {limit} bytes; split it into several requests"
    )


def _text(raw: bytes, error: type) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error([Issue(BODY, raw.count(b"\n", 0, exc.start) + 1, "", "the body is not UTF-8")]) from None


def _unsupported(kind: str, allowed: tuple[str, ...]) -> ProblemError:
    return ProblemError(
        415, "unsupported-media-type", f"{kind or 'no Content-Type'} is not accepted here: use " + " or ".join(allowed)
    )


def contract(request: Request, raw: bytes, contract_id: str) -> Contract:
    """The contract in the body, for the contract ``contract_id`` (ContractError if invalid)."""
    kind = media_type(request)
    if kind not in JSON_TYPES + YAML_TYPES:
        raise _unsupported(kind, JSON_TYPES + YAML_TYPES)
    source = contract_from_text(_text(raw, ContractError), BODY, json=kind in JSON_TYPES)
    if source.contract.id != contract_id:
        raise ContractError(
            [
                Issue(
                    BODY,
                    source.line("id"),
                    "id",
                    f"the document's id is {source.contract.id!r}, the URL's {contract_id!r}",
                )
            ]
        )
    return source.contract


def events(request: Request, raw: bytes, max_events: int) -> list[tuple[int, object]]:
    """``(line, object)`` pairs of an event batch (EventError on a syntax problem)."""
    kind = media_type(request)
    text = _text(raw, EventError)
    if kind in JSON_TYPES:
        try:
            items = json_array_items(text)
        except DocumentSyntaxError as exc:
            raise EventError([Issue(BODY, exc.line, "", str(exc))]) from None
    elif kind in LINES_TYPES:
        items, problems = [], []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                items.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                problems.append(Issue(BODY, number, "", f"malformed JSON: {exc.msg} (column {exc.colno})"))
            if len(items) + len(problems) > max_events:
                break
        if problems:
            raise EventError(problems)
    else:
        raise _unsupported(kind, JSON_TYPES + LINES_TYPES)
    if len(items) > max_events:
        raise ProblemError(
            422,
            "too-many-events",
            f"more than {max_events} events in one request; split the batch (each request is one atomic batch)",
            [ProblemItem(field="", line=items[max_events][0], message="the first event over the limit")],
        )
    return items
