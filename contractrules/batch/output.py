"""Writing a batch's results: answers (JSON Lines or Parquet tables) and the errors file.

- **JSON Lines** (``OUT.jsonl``): one SPEC §8 answer per contract per line (compact
  JSON, the same fields as ``contractrules evaluate --format json``), sorted by
  contract id.
- **Parquet** (``OUT/`` directory): four tables, one row per item, each with a
  ``contract`` column: ``contracts.parquet`` (state, notice, warnings),
  ``obligations.parquet``, ``violations.parquet`` and ``penalties.parquet``. Dates are
  ``date32``; amounts ``decimal128(38, 4)`` (exact for every ISO currency), lists of
  event ids or reasons ``list<string>``; penalties carry the invoice's ``currency``.
- **Errors** (``--errors``, default ``OUT.errors.jsonl`` or ``OUT/errors.jsonl``): one
  JSON object a line: ``contract``, ``stage`` (``input``, ``contract``, ``events``,
  ``evaluate``), ``file``, ``line``, ``field``, ``message``, ``event_id``. Written even
  when empty, so a stale file never survives a clean run.

Chunks are written in chunk order, so the output does not depend on which worker
finished first.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from contractrules.batch.io import PARQUET_HINT, usage
from contractrules.errors import Issue
from contractrules.model.answers import Answer

FORMATS = ("jsonl", "parquet")
TABLES = ("contracts", "obligations", "violations", "penalties")


def output_format(out: str | Path, fmt: str | None) -> str:
    """``jsonl`` for ``*.jsonl``/``*.ndjson`` (or when asked), else ``parquet`` (a directory)."""
    if fmt is None:
        fmt = "jsonl" if Path(out).suffix.lower() in (".jsonl", ".ndjson") else "parquet"
    if fmt not in FORMATS:
        raise usage("--format", f"unknown format {fmt!r}: use jsonl or parquet")
    p = Path(out)
    if fmt == "jsonl" and p.is_dir():
        raise usage("--out", f"{out} is a directory; JSON Lines output needs a file name (answers.jsonl)")
    if fmt == "parquet" and p.exists() and not p.is_dir():
        raise usage("--out", f"{out} is a file; Parquet output is a directory of tables")
    return fmt


def default_errors_path(out: str | Path, fmt: str) -> Path:
    p = Path(out)
    return p / "errors.jsonl" if fmt == "parquet" else p.with_name(p.stem + ".errors.jsonl")


# --------------------------------------------------------------------------- errors


def error_record(issue: Issue, contract: str | None, stage: str) -> dict:
    return {"contract": contract, "stage": stage, "file": issue.file, "line": issue.line, "field": issue.field,
            "message": issue.message, "event_id": issue.event_id}


class ErrorLog:
    """The errors file: one JSON object per problem, in a deterministic order."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = self.path.open("w", encoding="utf-8")
        self.count = 0

    def write(self, records: list[dict]) -> None:
        for r in records:
            self._out.write(json.dumps(r, ensure_ascii=False) + "\n")
        self.count += len(records)

    def close(self) -> None:
        self._out.close()


# --------------------------------------------------------------------------- answers as rows


def answer_line(answer: Answer) -> bytes:
    """One answer as one line of compact JSON."""
    return answer.model_dump_json().encode("utf-8") + b"\n"


def _schemas():
    try:
        import pyarrow as pa
    except ModuleNotFoundError:
        raise usage("--format", PARQUET_HINT) from None
    amount, text, day, flag, texts = pa.decimal128(38, 4), pa.string(), pa.date32(), pa.bool_(), pa.list_(pa.string())

    def schema(*cols):
        return pa.schema([pa.field(n, t) for n, t in cols])

    return pa, {
        "contracts": schema(("contract", text), ("as_of", day), ("state", text), ("effective_end", day),
                            ("notice_given_on", day), ("notice_by", text), ("notice_waived", flag),
                            ("unapplied_credit", amount), ("currency", text), ("warnings", texts)),
        "obligations": schema(("contract", text), ("id", text), ("kind", text), ("debtor", text),
                              ("creditor", text), ("amount", amount), ("balance", amount), ("currency", text),
                              ("due", day), ("status", text), ("fulfilled_on", day), ("clause", text),
                              ("caused_by", texts), ("evidence", text), ("explanation", text)),
        "violations": schema(("contract", text), ("id", text), ("kind", text), ("party", text), ("on", day),
                             ("severity", text), ("obligation", text), ("clause", text), ("caused_by", texts),
                             ("evidence", text), ("explanation", text)),
        "penalties": schema(("contract", text), ("invoice", text), ("currency", text), ("enforceable", flag),
                            ("enforceable_from", day), ("interest", amount), ("fixed_fee", amount),
                            ("total", amount), ("paid", amount), ("balance", amount), ("reasons", texts)),
    }


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _rows(answer: Answer) -> dict[str, list[dict[str, Any]]]:
    c = answer.contract
    s = answer.state
    notice = s.notice
    currency_of = {o.id: o.currency for o in answer.obligations if o.kind == "payment"}
    return {
        "contracts": [{"contract": c, "as_of": answer.as_of, "state": s.state, "effective_end": s.effective_end,
                       "notice_given_on": notice and notice.given_on, "notice_by": notice and notice.by,
                       "notice_waived": notice and notice.waived,
                       "unapplied_credit": _dec(answer.unapplied_credit.amount),
                       "currency": answer.unapplied_credit.currency, "warnings": list(answer.warnings)}],
        "obligations": [{"contract": c, **o.model_dump(), "amount": _dec(o.amount), "balance": _dec(o.balance)}
                        for o in answer.obligations],
        "violations": [{"contract": c, **v.model_dump()} for v in answer.violations],
        "penalties": [{"contract": c, "currency": currency_of.get(f"payment:{p.invoice}"), **p.model_dump(),
                       "interest": _dec(p.interest), "fixed_fee": _dec(p.fixed_fee), "total": _dec(p.total),
                       "paid": _dec(p.paid), "balance": _dec(p.balance)}
                      for p in answer.penalties],
    }


def answer_tables(answers: list[Answer]) -> dict:
    """The four Parquet tables (as pyarrow Tables) for a chunk of answers."""
    pa, schemas = _schemas()
    rows: dict[str, list] = {name: [] for name in TABLES}
    for answer in answers:
        for name, part in _rows(answer).items():
            rows[name].extend(part)
    return {name: pa.Table.from_pylist(rows[name], schema=schemas[name]) for name in TABLES}


# --------------------------------------------------------------------------- sinks


class JsonlSink:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = self.path.open("wb")

    def write(self, part: bytes) -> None:
        self._out.write(part)

    def close(self) -> None:
        self._out.close()


class ParquetSink:
    def __init__(self, directory: str | Path):
        import pyarrow.parquet as pq

        pa, self._schemas = _schemas()
        self.path = Path(directory)
        self.path.mkdir(parents=True, exist_ok=True)
        self._writers = {name: pq.ParquetWriter(self.path / f"{name}.parquet", self._schemas[name]) for name in TABLES}

    def write(self, part: dict) -> None:
        for name, table in part.items():
            if table.num_rows:
                self._writers[name].write_table(table)

    def close(self) -> None:
        for w in self._writers.values():
            w.close()


def open_sink(out: str | Path, fmt: str):
    return JsonlSink(out) if fmt == "jsonl" else ParquetSink(out)
