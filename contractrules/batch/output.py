"""Writing a batch's results: answers (JSON Lines or Parquet tables) and the errors file.

- **JSON Lines** (``OUT.jsonl``): one SPEC §8 answer per contract per line (compact
  JSON, the same fields as ``contractrules evaluate --format json``), sorted by
  contract id.
- **Parquet** (``OUT/`` directory): four tables, one row per item, each with a
  ``contract`` column: ``contracts.parquet`` (state, notice, warnings),
  ``obligations.parquet``, ``violations.parquet`` and ``penalties.parquet``. Dates are
  ``date32``; amounts are ``string`` holding exactly the decimal text of the JSON answer
  (``"600.00"``): every amount an answer can hold, however large, with its currency's
  digits (a fixed decimal type would drop the ones it cannot hold); lists of
  event ids or reasons ``list<string>``; penalties carry the invoice's ``currency``.
- **Errors** (``--errors``, default ``OUT.errors.jsonl`` or ``OUT/errors.jsonl``): one
  JSON object a line: ``contract``, ``stage`` (``input``, ``contract``, ``events``,
  ``evaluate``), ``file``, ``line``, ``field``, ``message``, ``event_id``. Written even
  when empty, so a stale file never survives a clean run.

Chunks are written in chunk order, so the output does not depend on which worker
finished first.

Every output is written under a temporary name next to its final path
(``.NAME.XXXX.tmp``) and renamed into place only when the whole batch is done
(:meth:`commit`); a run that fails or is interrupted removes its temporary files
(:meth:`abort`), so an earlier output at that path stays untouched and no half-written
file ever carries the final name. A path that cannot be written raises
:class:`~contractrules.errors.OutputError` ("disk full" when it is).
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from contractrules.batch.io import PARQUET_HINT, usage
from contractrules.errors import Issue, OutputError
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


def output_files(out: str | Path, fmt: str, errors: str | Path | None) -> dict[str, Path]:
    """Every file a batch writes, by the option that names it."""
    p = Path(out)
    files = {"--out": p} if fmt == "jsonl" else {f"--out ({name})": p / f"{name}.parquet" for name in TABLES}
    files["--errors"] = Path(errors) if errors else default_errors_path(out, fmt)
    return files


def _inside(path: Path, container: Path) -> bool:
    return path == container or container in path.parents


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_overlap(outputs: dict[str, Path], inputs: dict[str, str | Path | None]) -> None:
    """Refuse (exit 2, before anything is written) an output that is an input, lies
    inside an input directory, or is another output; links are resolved first."""
    named = {k: Path(v) for k, v in inputs.items() if v is not None}
    seen: dict[Path, str] = {}
    for option, path in outputs.items():
        if path.is_dir():
            raise usage(option.split(" ")[0], f"{path} is a directory; give a file name")
        real = path.resolve()
        for source, given in named.items():
            if _inside(real, given.resolve()) or _same_file(path, given):
                how = "is" if real == given.resolve() or _same_file(path, given) else "lies inside"
                raise usage(
                    option.split(" ")[0],
                    f"{path} {how} the input {source} {given}: choose an output "
                    "path outside the inputs (nothing was written)",
                )
        if real in seen:
            raise usage(option.split(" ")[0], f"{path} is also the {seen[real]} output: give them different paths")
        seen[real] = option


# --------------------------------------------------------------------------- errors


def error_record(issue: Issue, contract: str | None, stage: str) -> dict:
    return {
        "contract": contract,
        "stage": stage,
        "file": issue.file,
        "line": issue.line,
        "field": issue.field,
        "message": issue.message,
        "event_id": issue.event_id,
    }


def write_problem(path: Path, exc: OSError) -> OutputError:
    """The OutputError for a failed write (exit 5): "disk full", or why it is not writable."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return OutputError(
            f"disk full writing {path}: nothing was written there (an earlier output at that path is untouched)"
        )
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class StagedFile:
    """A file written under a temporary name in its final directory, renamed into place
    by :meth:`commit`; :meth:`abort` removes it (see the module docstring)."""

    def __init__(self, path: str | Path, staging_dir: Path | None = None):
        self.path = Path(path)
        where = staging_dir or self.path.parent
        try:
            where.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=where, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as exc:
            raise write_problem(self.path, exc) from None
        self.tmp = Path(tmp)
        self.file = os.fdopen(fd, "wb")
        os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an output gets the usual mode

    def write(self, data: bytes) -> None:
        try:
            self.file.write(data)
        except OSError as exc:
            raise write_problem(self.path, exc) from None

    def commit(self) -> None:
        try:
            self.file.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            raise write_problem(self.path, exc) from None

    def abort(self) -> None:
        try:
            self.file.close()
        except OSError:
            pass
        self.tmp.unlink(missing_ok=True)


class ErrorLog:
    """The errors file: one JSON object per problem, in a deterministic order."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._out = StagedFile(self.path)
        self.count = 0

    def write(self, records: list[dict]) -> None:
        if records:
            self._out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))
        self.count += len(records)

    def commit(self) -> None:
        self._out.commit()

    def abort(self) -> None:
        self._out.abort()


# --------------------------------------------------------------------------- answers as rows


def answer_line(answer: Answer) -> bytes:
    """One answer as one line of compact JSON."""
    return answer.model_dump_json().encode("utf-8") + b"\n"


def _schemas():
    try:
        import pyarrow as pa
    except ModuleNotFoundError:
        raise usage("--format", PARQUET_HINT) from None
    amount, text, day, flag, texts = pa.string(), pa.string(), pa.date32(), pa.bool_(), pa.list_(pa.string())

    def schema(*cols):
        return pa.schema([pa.field(n, t) for n, t in cols])

    return pa, {
        "contracts": schema(
            ("contract", text),
            ("as_of", day),
            ("state", text),
            ("effective_end", day),
            ("notice_given_on", day),
            ("notice_by", text),
            ("notice_waived", flag),
            ("unapplied_credit", amount),
            ("currency", text),
            ("warnings", texts),
        ),
        "obligations": schema(
            ("contract", text),
            ("id", text),
            ("kind", text),
            ("debtor", text),
            ("creditor", text),
            ("amount", amount),
            ("balance", amount),
            ("currency", text),
            ("due", day),
            ("status", text),
            ("fulfilled_on", day),
            ("clause", text),
            ("caused_by", texts),
            ("evidence", text),
            ("explanation", text),
        ),
        "violations": schema(
            ("contract", text),
            ("id", text),
            ("kind", text),
            ("party", text),
            ("on", day),
            ("severity", text),
            ("obligation", text),
            ("clause", text),
            ("caused_by", texts),
            ("evidence", text),
            ("explanation", text),
        ),
        "penalties": schema(
            ("contract", text),
            ("invoice", text),
            ("currency", text),
            ("enforceable", flag),
            ("enforceable_from", day),
            ("interest", amount),
            ("fixed_fee", amount),
            ("total", amount),
            ("paid", amount),
            ("balance", amount),
            ("reasons", texts),
        ),
    }


def _rows(answer: Answer) -> dict[str, list[dict[str, Any]]]:
    c = answer.contract
    s = answer.state
    notice = s.notice
    currency_of = {o.id: o.currency for o in answer.obligations if o.kind == "payment"}
    return {
        "contracts": [
            {
                "contract": c,
                "as_of": answer.as_of,
                "state": s.state,
                "effective_end": s.effective_end,
                "notice_given_on": notice and notice.given_on,
                "notice_by": notice and notice.by,
                "notice_waived": notice and notice.waived,
                "unapplied_credit": answer.unapplied_credit.amount,
                "currency": answer.unapplied_credit.currency,
                "warnings": list(answer.warnings),
            }
        ],
        "obligations": [{"contract": c, **o.model_dump()} for o in answer.obligations],
        "violations": [{"contract": c, **v.model_dump()} for v in answer.violations],
        "penalties": [
            {"contract": c, "currency": currency_of.get(f"payment:{p.invoice}"), **p.model_dump()}
            for p in answer.penalties
        ],
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
    """Answers as JSON Lines, staged (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._out = StagedFile(self.path)

    def write(self, part: bytes) -> None:
        self._out.write(part)

    def commit(self) -> None:
        self._out.commit()

    def abort(self) -> None:
        self._out.abort()


class ParquetSink:
    """Four Parquet tables in a directory, each staged in that directory and renamed
    into place by :meth:`commit` (other files in the directory are left alone)."""

    def __init__(self, directory: str | Path):
        import pyarrow.parquet as pq

        pa, self._schemas = _schemas()
        self.path = Path(directory)
        self._created = not self.path.exists()
        self._files = {name: StagedFile(self.path / f"{name}.parquet") for name in TABLES}
        try:
            self._writers = {name: pq.ParquetWriter(self._files[name].file, self._schemas[name]) for name in TABLES}
        except OSError as exc:
            self.abort()
            raise write_problem(self.path, exc) from None

    def write(self, part: dict) -> None:
        try:
            for name, table in part.items():
                if table.num_rows:
                    self._writers[name].write_table(table)
        except OSError as exc:
            raise write_problem(self.path, exc) from None

    def commit(self) -> None:
        try:
            for w in self._writers.values():
                w.close()
        except OSError as exc:
            raise write_problem(self.path, exc) from None
        for f in self._files.values():
            f.commit()

    def abort(self) -> None:
        for w in getattr(self, "_writers", {}).values():
            try:
                w.close()
            except (OSError, ValueError):
                pass
        for f in self._files.values():
            f.abort()
        if self._created:
            try:
                self.path.rmdir()  # only if we made it and it is empty again
            except OSError:
                pass


def open_sink(out: str | Path, fmt: str):
    return JsonlSink(out) if fmt == "jsonl" else ParquetSink(out)
