"""Schemathesis runs the service's own OpenAPI document against the running server.

Bounded: a few examples per operation, valid and invalid ones, derandomized (reproducible in CI), a deadline
per example. Checked: no 5xx, every status code, content type, header and body
matches the schema. Requests carry tenant alpha's key (schemathesis does not invent
keys); JSON Lines bodies are the generated arrays written one object a line.
"""

from __future__ import annotations

import json
import uuid

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.service_fixtures import contract_doc, scenario_events


@schemathesis.serializer("application/x-ndjson", "application/jsonl")
def _json_lines(ctx, value) -> bytes:
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


KNOWN = "schema-known"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 8  # per operation, mode (positive, negative) and backend


def _known(pair):
    """Half the cases ask about a stored contract (and its invoice), not a random id."""
    case, known = pair
    if known and case.path_parameters:
        if "contract_id" in case.path_parameters:
            case.path_parameters["contract_id"] = KNOWN
        if "invoice" in case.path_parameters:
            case.path_parameters["invoice"] = "INV-07"
    return case


def test_the_server_keeps_its_openapi_contract(service):
    with service.client("alpha") as alpha:
        alpha.put(f"/contracts/{KNOWN}", json=contract_doc(KNOWN))
        alpha.post(f"/contracts/{KNOWN}/events", json=scenario_events())
    schema = schemathesis.openapi.from_url(service.url + "/openapi.json")
    auth = {"Authorization": f"Bearer {service.keys['alpha']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9  # every endpoint is described
    cases = [(op, mode) for op in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    for operation, mode in cases:  # negative: data the schema forbids, which must be a 4xx

        @given(case=st.tuples(operation.as_strategy(mode), st.booleans()).map(_known))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=10_000,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(base_url=service.url, headers=auth, checks=CHECKS, timeout=30)

        try:
            check()
        except Unsatisfiable:  # nothing of /health or GET /contracts can be invalid
            assert mode is GenerationMode.NEGATIVE and operation.path in ("/health", "/contracts"), operation.path


def _successes(cid: str) -> list[tuple[str, str, dict]]:
    """(method, path, Case arguments) of requests that succeed: the happy paths, checked too."""
    events = scenario_events()
    as_of = {"as_of": "2025-10-01"}
    return [
        (
            "PUT",
            "/contracts/{contract_id}",
            {"path_parameters": {"contract_id": cid}, "body": contract_doc(cid), "media_type": "application/json"},
        ),
        (
            "PUT",
            "/contracts/{contract_id}",
            {"path_parameters": {"contract_id": cid}, "body": contract_doc(cid), "media_type": "application/yaml"},
        ),
        (
            "POST",
            "/contracts/{contract_id}/events",
            {"path_parameters": {"contract_id": cid}, "body": events, "media_type": "application/json"},
        ),
        (
            "POST",
            "/contracts/{contract_id}/events",
            {
                "path_parameters": {"contract_id": cid},
                "body": events,
                "media_type": "application/x-ndjson",
                "headers": {"Idempotency-Key": f"{cid}-1"},
            },
        ),
        (
            "POST",
            "/contracts/{contract_id}/events",
            {
                "path_parameters": {"contract_id": cid},
                "body": events,
                "media_type": "application/jsonl",
                "headers": {"Idempotency-Key": f"{cid}-2"},
            },
        ),
        ("GET", "/contracts/{contract_id}/events", {"path_parameters": {"contract_id": cid}}),
        ("GET", "/contracts/{contract_id}/answer", {"path_parameters": {"contract_id": cid}, "query": as_of}),
        (
            "GET",
            "/contracts/{contract_id}/penalties/{invoice}",
            {"path_parameters": {"contract_id": cid, "invoice": "INV-07"}, "query": as_of},
        ),
        ("GET", "/obligations", {"query": {**as_of, "limit": 1}}),
        ("GET", "/violations", {"query": {**as_of, "kind": "late_payment"}}),
        ("GET", "/contracts", {}),
        ("GET", "/health", {}),
    ]


def test_the_happy_paths_match_the_schema_too(service):
    schema = schemathesis.openapi.from_url(service.url + "/openapi.json")
    auth = {"Authorization": f"Bearer {service.keys['alpha']}"}
    cid = f"happy-{uuid.uuid4().hex[:8]}"
    statuses = []
    for method, path, args in _successes(cid):
        case = schema[path][method].Case(**args)
        statuses.append(
            case.call_and_validate(base_url=service.url, headers=auth, checks=CHECKS, timeout=30).status_code
        )
    assert statuses == [201, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
