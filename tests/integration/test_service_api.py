"""The HTTP service, endpoint by endpoint, against a real server (both backends).

Figures are the golden scenario's (late_penalty_answers_over_time): INV-07 600.00 EUR
issued 2025-07-31, due 2025-08-30, enforceable from 2025-09-15; as of 2025-10-01
interest 600.00 x 10 % / 365 x 32 days = 5.26, fixed fee 40.00, total 45.26.
"""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from contractrules.api import evaluate
from tests.integration.service_fixtures import MAX_BODY, MAX_EVENTS, contract_doc, scenario_events

PROBLEM = "application/problem+json"
INVOICE = scenario_events()[0]


def _cid() -> str:
    return f"c-{uuid.uuid4().hex[:10]}"


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"] and body["detail"]
    return body


@pytest.fixture
def api(service):
    with service.client("alpha") as client:
        yield client


@pytest.fixture
def stored(api):
    """A contract of tenant alpha with INV-07 stored."""
    cid = _cid()
    assert api.put(f"/contracts/{cid}", json=contract_doc(cid)).status_code == 201
    r = api.post(f"/contracts/{cid}/events", json=[INVOICE])
    assert r.status_code == 200 and r.json()["added"] == 1
    return cid


def test_health_needs_no_key(service):
    with service.client(None) as anon:
        r = anon.get("/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "backend": "sqlite" if service.db.startswith("sqlite") else "postgres",
        "schema_version": 4,
    }


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer crk_0123456789abcdef_wrong", "Basic abc"])
def test_every_other_endpoint_needs_a_valid_key(service, header):
    headers = {"Authorization": header} if header else {}
    with service.client(None, headers=headers) as anon:
        for method, path in [
            ("GET", "/contracts"),
            ("GET", "/contracts/x/events"),
            ("POST", "/contracts/x/events"),
            ("PUT", "/contracts/x"),
            ("GET", "/contracts/x/answer?as_of=2025-10-01"),
            ("GET", "/contracts/x/penalties/INV-07?as_of=2025-10-01"),
            ("GET", "/obligations?as_of=2025-10-01"),
            ("GET", "/violations?as_of=2025-10-01"),
        ]:
            r = anon.request(method, path, json=[])
            _problem(r, 401)
            assert r.headers["www-authenticate"] == "Bearer"


def test_put_a_contract_json_then_yaml_then_an_amendment(api):
    cid = _cid()
    doc = contract_doc(cid)
    r = api.put(f"/contracts/{cid}", json=doc)
    assert r.status_code == 201 and r.json()["version"] == 1 and r.json()["new_version"] is True
    same = api.put(f"/contracts/{cid}", content=yaml.safe_dump(doc), headers={"Content-Type": "application/yaml"})
    assert same.status_code == 200
    assert same.json() == {"contract": cid, "version": 1, "new_version": False, "recorded_at": None}
    doc["terms"]["late_penalty"]["grace_days"] = 20
    changed = api.put(f"/contracts/{cid}", json=doc)
    body = _problem(changed, 409)
    assert [e["field"] for e in body["errors"]] == ["effective_from"]
    assert (
        "differs from its latest version 1 (effective from 2025-07-01) in terms.late_penalty.grace_days:"
        in body["errors"][0]["message"]
    )
    amended = api.put(f"/contracts/{cid}", params={"effective_from": "2026-01-01"}, json=doc)
    assert amended.status_code == 200 and amended.json()["version"] == 2 and amended.json()["new_version"]


def test_put_an_invalid_contract_names_field_and_line(api):
    cid = _cid()
    text = yaml.safe_dump(contract_doc(cid), sort_keys=False).replace("terms_days: 30", "terms_days: -3")
    body = _problem(api.put(f"/contracts/{cid}", content=text, headers={"Content-Type": "application/yaml"}), 422)
    (err,) = body["errors"]
    assert err["field"] == "terms.payment.terms_days"
    assert err["line"] == text.splitlines().index("    terms_days: -3") + 1
    other = _problem(api.put(f"/contracts/{cid}", json=contract_doc("someone-else")), 422)
    assert other["errors"][0]["field"] == "id"
    _problem(api.put(f"/contracts/{cid}", content=b"id: x", headers={"Content-Type": "text/plain"}), 415)
    assert api.get(f"/contracts/{cid}/events").status_code == 404  # nothing was stored


def test_post_events_json_lines_idempotent_and_stored_as_validated(api):
    cid = _cid()
    api.put(f"/contracts/{cid}", json=contract_doc(cid))
    payment = {
        "id": "p1",
        "type": "payment_received",
        "at": "2025-10-02",
        "by": "client",
        "invoice": "INV-07",
        "amount": "645.26",
    }
    text = "\n".join(json.dumps(e) for e in (INVOICE, payment)) + "\n"
    for kind in ("application/x-ndjson", "application/jsonl"):
        r = api.post(f"/contracts/{cid}/events", content=text, headers={"Content-Type": kind})
        assert r.status_code == 200, r.text
    assert r.json()["added"] == 0 and r.json()["duplicates"] == 2  # the second post changed nothing
    events = api.get(f"/contracts/{cid}/events").json()
    assert events["contract"] == cid
    assert [e["id"] for e in events["events"]] == ["e1", "p1"]
    assert events["events"][1]["by"] == "acme"  # "client" resolved to the party id, as stored


def test_meta_is_stored_and_returned_with_the_event(api, stored):
    meta = {"crm": {"ticket": 4711}, "sent_by": "billing-bot"}
    reminder = {
        "id": "m01",
        "type": "reminder_sent",
        "at": "2025-09-01",
        "by": "studio",
        "invoice": "INV-07",
        "meta": meta,
    }
    assert api.post(f"/contracts/{stored}/events", json=[reminder]).json()["added"] == 1
    events = api.get(f"/contracts/{stored}/events").json()["events"]
    assert events[-1]["id"] == "m01" and events[-1]["meta"] == meta
    changed = api.post(f"/contracts/{stored}/events", json=[{**reminder, "meta": {"sent_by": "someone"}}])
    assert changed.status_code == 409 and "meta" in changed.json()["errors"][0]["message"]


def test_a_bad_batch_writes_nothing_and_names_every_line(api, stored):
    conflicting = {**INVOICE, "amount": "601.00"}
    batch = (
        "[\n"
        + json.dumps({"id": "ok", "type": "reminder_sent", "at": "2025-09-01", "by": "studio", "invoice": "INV-07"})
        + ",\n"
        + json.dumps(conflicting)
        + "\n]"
    )
    body = _problem(
        api.post(f"/contracts/{stored}/events", content=batch, headers={"Content-Type": "application/json"}), 409
    )
    (err,) = body["errors"]
    assert (err["line"], err["field"], err["event_id"]) == (3, "id", "e1")
    assert 'amount: stored "600.00", given "601.00"' in err["message"]
    invalid = _problem(
        api.post(
            f"/contracts/{stored}/events",
            content='{"id": "x"}\nnot json\n',
            headers={"Content-Type": "application/x-ndjson"},
        ),
        422,
    )
    assert [e["line"] for e in invalid["errors"]] == [2]
    missing = _problem(
        api.post(
            f"/contracts/{stored}/events",
            json=[{"id": "p9", "type": "payment_received", "at": "2025-10-02", "by": "acme"}],
        ),
        422,
    )
    assert {e["field"] for e in missing["errors"]} == {"amount"} and missing["errors"][0]["line"] == 1
    assert [e["id"] for e in api.get(f"/contracts/{stored}/events").json()["events"]] == ["e1"]


def test_idempotency_key_replays_the_response_and_refuses_another_request(api, stored):
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    reminder = {"id": "r1", "type": "reminder_sent", "at": "2025-09-01", "by": "studio", "invoice": "INV-07"}
    first = api.post(f"/contracts/{stored}/events", json=[reminder], headers=key)
    again = api.post(f"/contracts/{stored}/events", json=[reminder], headers=key)
    assert first.status_code == again.status_code == 200
    assert first.json()["added"] == 1 and again.json() == first.json()  # the first response, not "0 added"
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    other = {**reminder, "id": "r2"}
    assert _problem(api.post(f"/contracts/{stored}/events", json=[other], headers=key), 422)["type"].endswith(
        "idempotency-key-reused"
    )
    assert [e["id"] for e in api.get(f"/contracts/{stored}/events").json()["events"]] == ["e1", "r1"]


def test_limits_are_413_and_422_and_the_server_carries_on(api, stored):
    big = b"[" + b" " * MAX_BODY + b"]"
    assert _problem(
        api.post(f"/contracts/{stored}/events", content=big, headers={"Content-Type": "application/json"}), 413
    )["type"].endswith("body-too-large")
    many = [
        {"id": f"r{i}", "type": "reminder_sent", "at": "2025-09-01", "by": "studio", "invoice": "INV-07"}
        for i in range(MAX_EVENTS + 1)
    ]
    text = "[\n" + ",\n".join(json.dumps(e) for e in many) + "\n]"  # event k on line k + 1
    body = _problem(
        api.post(f"/contracts/{stored}/events", content=text, headers={"Content-Type": "application/json"}), 422
    )
    assert body["type"].endswith("too-many-events") and body["errors"][0]["line"] == MAX_EVENTS + 2
    assert api.post(f"/contracts/{stored}/events", json=many[:MAX_EVENTS]).json()["added"] == MAX_EVENTS
    _problem(api.post(f"/contracts/{stored}/events", content="[]", headers={"Content-Type": "text/csv"}), 415)


def test_events_of_an_unknown_contract_are_404(api):
    _problem(api.post("/contracts/nobody/events", json=[INVOICE]), 404)
    _problem(api.get("/contracts/nobody/events"), 404)


def test_answer_is_the_file_evaluation_and_known_at_looks_back(api, stored):
    r = api.get(f"/contracts/{stored}/answer", params={"as_of": "2025-10-01"})
    assert r.status_code == 200
    expected = evaluate(contract_doc(stored), [INVOICE], "2025-10-01").to_dict()
    assert r.json() == expected
    assert r.json()["penalties"][0]["total"] == "45.26"
    before = api.get(f"/contracts/{stored}/answer", params={"as_of": "2025-10-01", "known_at": "2000-01-01"})
    assert "not recorded yet" in _problem(before, 404)["errors"][0]["message"]
    bad = _problem(api.get(f"/contracts/{stored}/answer", params={"as_of": "2025-10-01", "known_at": "yesterday"}), 422)
    assert bad["errors"][0]["field"] == "known_at"
    assert (
        _problem(api.get(f"/contracts/{stored}/answer", params={"as_of": "2025-13-01"}), 422)["errors"][0]["field"]
        == "query.as_of"
    )
    _problem(api.get(f"/contracts/{stored}/answer"), 422)


@pytest.mark.parametrize(
    ("as_of", "enforceable", "total"),
    [("2025-09-14", False, "42.47"), ("2025-09-15", True, "42.63"), ("2025-10-01", True, "45.26")],
)
def test_penalty_is_enforceable_from_the_sixteenth_day_after_due(api, stored, as_of, enforceable, total):
    r = api.get(f"/contracts/{stored}/penalties/INV-07", params={"as_of": as_of})
    assert r.status_code == 200
    body = r.json()
    assert (body["enforceable"], body["enforceable_from"], body["total"]) == (enforceable, "2025-09-15", total)
    assert (body["due"], body["invoice_balance"], body["currency"]) == ("2025-08-30", "600.00", "EUR")
    assert (body["paid"], body["balance"]) == ("0.00", total)  # nothing paid towards the penalty


def test_a_kept_answer_is_replaced_after_a_write(api, stored):
    ask = {"as_of": "2025-10-01"}
    for _ in range(2):  # the second is the kept answer
        assert api.get(f"/contracts/{stored}/penalties/INV-07", params=ask).json()["invoice_balance"] == "600.00"
    paid = {
        "id": "p1",
        "type": "payment_received",
        "at": "2025-09-01",
        "by": "acme",
        "invoice": "INV-07",
        "amount": "600.00",
    }
    assert api.post(f"/contracts/{stored}/events", json=[paid]).json()["added"] == 1
    after = api.get(f"/contracts/{stored}/penalties/INV-07", params=ask).json()
    # paid in full on 2025-09-01, before the penalty became enforceable (2025-09-15):
    # no penalty is owed (SPEC 6.4), and it never will be
    assert (after["invoice_balance"], after["total"], after["enforceable"], after["enforceable_from"]) == (
        "0.00",
        "0.00",
        False,
        None,
    )


def test_penalty_of_an_unknown_invoice_or_contract_is_404(api, stored):
    assert (
        _problem(api.get(f"/contracts/{stored}/penalties/INV-99", params={"as_of": "2025-10-01"}), 404)["errors"][0][
            "field"
        ]
        == "invoice"
    )
    _problem(api.get(f"/contracts/{stored}/penalties/INV-07", params={"as_of": "2025-07-30"}), 404)  # not issued yet
    _problem(api.get("/contracts/nobody/penalties/INV-07", params={"as_of": "2025-10-01"}), 404)


def test_obligations_and_violations_page_through_every_contract(service):
    with service.client("beta") as beta:  # beta's contracts only: the other tests write alpha's
        cids = sorted(_cid() for _ in range(3))
        for cid in cids:
            beta.put(f"/contracts/{cid}", json=contract_doc(cid))
            beta.post(f"/contracts/{cid}/events", json=[INVOICE])
        seen, cursor, pages = [], None, 0
        while pages < 20:
            params = {"as_of": "2025-10-01", "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = beta.get("/obligations", params=params).json()
            seen += [(i["contract"], i["obligation"]["id"]) for i in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        mine = [s for s in seen if s[0] in cids]
        assert mine == [(c, o) for c in cids for o in ("payment:INV-07", "penalty:INV-07")]
        assert len(seen) == len(set(seen))
        late = beta.get("/obligations", params={"as_of": "2025-10-01", "status": "violated", "limit": 1000}).json()
        assert {i["obligation"]["id"] for i in late["items"] if i["contract"] in cids} == {"payment:INV-07"}
        due = {"as_of": "2025-10-01", "due_after": "2025-08-30", "due_before": "2025-08-30", "limit": 1000}
        assert {i["contract"] for i in beta.get("/obligations", params=due).json()["items"]} >= set(cids)
        assert not [
            i
            for i in beta.get("/obligations", params={**due, "due_after": "2025-08-31"}).json()["items"]
            if i["contract"] in cids
        ]
        since = {"as_of": "2025-10-01", "on_after": "2025-08-31", "limit": 1000}
        items = [i for i in beta.get("/violations", params=since).json()["items"] if i["contract"] in cids]
        assert [(i["violation"]["id"], i["penalty"]["total"]) for i in items] == [("late_payment:INV-07", "45.26")] * 3
        later = {**since, "on_after": "2025-09-01"}
        assert not [i for i in beta.get("/violations", params=later).json()["items"] if i["contract"] in cids]
        enforceable = {"as_of": "2025-10-01", "enforceable_after": "2025-09-15", "enforceable_before": "2025-09-15"}
        assert (
            len([i for i in beta.get("/violations", params=enforceable).json()["items"] if i["contract"] in cids]) == 3
        )
        _problem(beta.get("/obligations", params={"as_of": "2025-10-01", "cursor": "!!"}), 422)
        _problem(beta.get("/obligations", params={"as_of": "2025-10-01", "status": "late"}), 422)


def test_unknown_routes_are_problems(api):
    _problem(api.get("/nowhere"), 404)
    _problem(api.delete("/contracts/x"), 405)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("application/json", "[" * 100_000 + "]" * 100_000),
        ("application/json", '[1, "x", null, []]'),
        ("application/json", '{"id": "not an array"}'),
        ("application/x-ndjson", '5\n[]\n"s"\n'),
        ("application/json", "\xff\xfe"),
    ],
)
def test_hostile_event_bodies_are_4xx_and_write_nothing(api, stored, kind, body):
    r = api.post(f"/contracts/{stored}/events", content=body.encode("latin-1"), headers={"Content-Type": kind})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM) and r.json()["errors"] or r.json()["detail"]
    assert [e["id"] for e in api.get(f"/contracts/{stored}/events").json()["events"]] == ["e1"]


def test_a_hostile_contract_body_is_a_4xx(api):
    cid = _cid()
    for body in ("a: [" * 20_000, "- " * 50_000 + "x", ": : :", "[1, 2]"):
        r = api.put(f"/contracts/{cid}", content=body, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 422, (body[:20], r.status_code, r.text[:300])
    assert api.get(f"/contracts/{cid}/events").status_code == 404


def test_concurrent_retries_with_one_idempotency_key_get_one_response(service, stored):
    import threading

    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    batch = [
        {"id": f"r{i}", "type": "reminder_sent", "at": "2025-09-01", "by": "studio", "invoice": "INV-07"}
        for i in range(50)
    ]
    bodies: list[dict] = []

    def post() -> None:
        with service.client("alpha") as api:
            bodies.append(api.post(f"/contracts/{stored}/events", json=batch, headers=key).json())

    threads = [threading.Thread(target=post) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert len(bodies) == 6
    assert all(b == bodies[0] for b in bodies), bodies  # whichever was kept first, the same for all
    assert bodies[0]["added"] + bodies[0]["duplicates"] == 50
    with service.client("alpha") as api:
        assert len(api.get(f"/contracts/{stored}/events").json()["events"]) == 51  # e1 and the 50, once each
