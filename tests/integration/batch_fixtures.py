"""Builders for the batch tests: small contract directories with hand-checked answers.

The two good contracts use the colliding ids (same 32-bit FNV-1a hash in
durable_rules) and the same invoice and event ids, so any leak between them shows.

``acme-139599`` (as of 2025-04-01): INV-1 issued 2025-01-31 for 600.00, never paid.
Due 2025-01-31 + 30 days = 2025-03-02; late_payment on 2025-03-03. Penalty enforceable
from due + 15 + 1 = 2025-03-18; interest 600.00 × 10% × 30/365 (2025-03-03..2025-04-01)
= 4.93; fixed fee 40.00; total 44.93. Billing cycles started by 2025-04-01 (arrears,
invoice within 7 days of the cycle's last day): Jan (invoiced with its period); Feb, due
Feb 28 + 7 = 2025-03-07, never invoiced → violated, ``unbilled:2025-02-01`` on
2025-03-08; Mar (due Apr 7) and Apr (due May 7) not invoiced yet but not due: pending,
never counted as unbilled. One unbilled cycle of 600.00.

``acme-322382``: the same INV-1, paid in full on 2025-02-15: fulfilled, no late
payment; the same one unbilled cycle.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

A, B = "acme-139599", "acme-322382"
AS_OF = date(2025, 4, 1)

BASE = {
    "parties": {"provider": {"id": "studio", "name": "Studio S.L."}, "client": {"id": "acme", "name": "ACME S.A."}},
    "timezone": "Europe/Madrid",
    "currency": "EUR",
    "start": "2025-01-01",
    "terms": {
        "billing": {"cycle": "monthly", "anchor_day": 1, "fee": "600.00"},
        "payment": {"terms_days": 30},
        "late_penalty": {
            "grace_days": 15,
            "interest": {"annual_rate": "0.10", "day_count": "act/365", "accrues_from": "due"},
            "fixed_fee": "40.00",
        },
        "termination": {"notice_days": 30, "effective": "end_of_cycle"},
    },
}


def contract(cid: str, **overrides) -> dict:
    doc = json.loads(json.dumps(BASE))
    doc["id"] = cid
    doc.update(overrides)
    return doc


def invoice(eid: str = "e1", inv: str = "INV-1", at: str = "2025-01-31", amount: str = "600.00") -> dict:
    return {
        "id": eid,
        "type": "invoice_issued",
        "at": at,
        "by": "studio",
        "channel": "email",
        "invoice": inv,
        "amount": amount,
        "period": "2025-01-01",
    }


def payment(eid: str = "e2", at: str = "2025-02-15", amount: str = "600.00", inv: str | None = "INV-1") -> dict:
    e = {"id": eid, "type": "payment_received", "at": at, "by": "acme", "amount": amount}
    if inv:
        e["invoice"] = inv
    return e


GOOD_EVENTS = {A: [invoice()], B: [invoice(), payment()]}
BAD_EVENTS = [invoice("c1", "INV-C"), {"id": "c2", "type": "invoice_paid", "at": "2025-02-01", "invoice": "INV-C"}]


def write_contract(directory: Path, name: str, doc: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(
        json.dumps(doc, indent=2) if name.endswith(".json") else yaml.safe_dump(doc, sort_keys=False), encoding="utf-8"
    )
    return path


def good_dir(root: Path) -> Path:
    """Only the two good, colliding contracts (YAML and JSON)."""
    d = root / "contracts"
    write_contract(d, "a.yaml", contract(A))
    write_contract(d, "b.json", contract(B))
    return d


def mixed_dir(root: Path) -> Path:
    """The good pair, a contract with a bad event, and an invalid contract file."""
    d = good_dir(root)
    write_contract(d, "c.yaml", contract("acme-bad-events"))
    bad = contract("acme-invalid")
    bad["terms"]["billing"]["anchor_day"] = 32
    write_contract(d, "d.yaml", bad)
    return d


def events_file(root: Path, per_contract: dict[str, list[dict]], extra_lines: list[str] = ()) -> Path:
    """One JSON Lines file; events of different contracts interleaved; extra raw lines appended."""
    rows = [(i, cid, e) for cid, events in per_contract.items() for i, e in enumerate(events)]
    rows.sort(key=lambda r: (r[0], r[1]))
    path = root / "events.jsonl"
    lines = [json.dumps({"contract": cid, **e}) for _, cid, e in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def events_dir(root: Path, per_contract: dict[str, list[dict]]) -> Path:
    d = root / "events"
    d.mkdir(parents=True, exist_ok=True)
    for cid, events in per_contract.items():
        (d / f"{cid}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return d


def events_parquet(root: Path, per_contract: dict[str, list[dict]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"contract": cid, **e} for cid, events in per_contract.items() for e in events]
    keys = sorted({k for r in rows for k in r})
    path = root / "events.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in keys])), path)
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def rss_kib() -> int:
    """This process's resident set size now (KiB), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")
