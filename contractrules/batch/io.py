"""Reading a batch's events, in one of three layouts (contracts: :mod:`.contracts`).

Events (``--events``):

- one JSON Lines file (``.jsonl``/``.ndjson``), each event with a ``contract`` field:
  :class:`JsonlEvents` indexes it once (byte offsets per contract; the lines are read
  back and shipped with each chunk), so a file much larger than memory is fine;
- one Parquet file with a ``contract`` column (one column per event field; a null is
  an absent field): :class:`ParquetEvents`; a row's number (1-based) stands for a line;
- a directory of ``<contract id>.jsonl`` (or ``.ndjson``, ``.json`` array, ``.parquet``)
  files: :class:`DirectoryEvents`; workers read their own files.

A source gives each contract an :data:`EventRef` (small, picklable) that travels with
its chunk; :func:`read_events` turns it into validated records in the worker, with the
same checks and messages as :func:`contractrules.model.load_events`. Problems that
belong to no contract (a malformed line in the single file, a line without
``contract``, events for a contract that is not in the directory) are
:class:`~contractrules.errors.Issue` s the parent writes to the errors file.
"""

from __future__ import annotations

import json
import mmap
import re
from array import array
from dataclasses import dataclass
from pathlib import Path

from contractrules.errors import EventError, InputError, Issue
from contractrules.model import Contract, EventLoad, load_events, parse_events
from contractrules.model.jsonl import LineProblem, line_issue, parse_line, raw_lines, too_long
from contractrules.model.types import describe_value

JSONL_SUFFIXES = (".jsonl", ".ndjson")
EVENT_FILE_SUFFIXES = (*JSONL_SUFFIXES, ".json", ".parquet")
PARQUET_HINT = "Parquet needs pyarrow: pip install 'contractrules[parquet]'"


def usage(field: str, message: str) -> InputError:
    """A bad invocation (exit 2): ``<command line> --field: message``."""
    return InputError([Issue("<command line>", None, field, message)])


def relocated(issues, actual: str, display: str) -> list[Issue]:
    """Issues naming the file as the user wrote it (workers read absolute paths)."""
    return [Issue(display if i.file == actual else i.file, i.line, i.field, i.message, i.event_id) for i in issues]


# --------------------------------------------------------------------------- event references
# What a chunk carries for one contract's events (all picklable, small).


@dataclass(frozen=True)
class EventFile:
    """A per-contract events file, read by the worker."""

    path: str
    display: str


@dataclass(frozen=True)
class EventLines:
    """Raw JSON Lines of one contract, with their line numbers in the single file.

    Two flat sequences rather than (line, text) pairs: a pair per event would be one
    more object for the garbage collector to walk in the parent."""

    display: str
    lines: tuple[int, ...]
    raws: tuple[bytes, ...]


@dataclass(frozen=True)
class EventRows:
    """Parquet rows of one contract, as event dicts with their 1-based row numbers."""

    display: str
    items: tuple[tuple[int, dict], ...]


@dataclass(frozen=True)
class EventProblem:
    """The contract's events cannot be read at all (e.g. two files for one id)."""

    issues: tuple[Issue, ...]


EventRef = EventFile | EventLines | EventRows | EventProblem | None


def _merge_syntax(
    items, syntax: list[Issue], contract: Contract, display: str, skip_invalid: bool, gated: bool = False
) -> EventLoad:
    """parse_events plus issues found before it (malformed lines), like load_events does."""
    load = parse_events(items, contract, display, skip_invalid=True, gated=gated)
    issues = sorted([*syntax, *load.skipped], key=lambda i: i.line or 0) if syntax else list(load.skipped)
    if issues and not skip_invalid:
        raise EventError(issues)
    return EventLoad(load.records, tuple(issues))


def read_events(ref: EventRef, contract: Contract, skip_invalid: bool) -> EventLoad:
    """The validated events of ``contract`` from its reference (in the worker)."""
    if ref is None:
        return EventLoad(records=())
    if isinstance(ref, EventProblem):
        raise EventError(ref.issues)
    if isinstance(ref, EventRows):
        return parse_events(ref.items, contract, ref.display, skip_invalid=skip_invalid)
    if isinstance(ref, EventLines):
        items, syntax = [], []
        for line, raw in zip(ref.lines, ref.raws, strict=True):
            try:
                obj = parse_line(raw, first=line == 1)
            except (LineProblem, json.JSONDecodeError) as exc:
                syntax.append(line_issue(ref.display, line, exc))
                continue
            if isinstance(obj, dict) and obj.get("contract") == contract.id:
                del obj["contract"]
            elif isinstance(obj, dict):
                syntax.append(
                    Issue(
                        ref.display,
                        line,
                        "contract",
                        f"names contract {describe_value(obj.get('contract'))}, not {contract.id!r}",
                    )
                )
                continue
            items.append((line, obj))
        return _merge_syntax(items, syntax, contract, ref.display, skip_invalid, gated=True)
    if ref.path.lower().endswith(".parquet"):
        rows, syntax = parquet_rows(ref.path, ref.display, contract.id)
        return _merge_syntax(rows, syntax, contract, ref.display, skip_invalid)
    try:
        return load_events(ref.path, contract, skip_invalid=skip_invalid)
    except InputError as exc:
        raise EventError(relocated(exc.issues, str(Path(ref.path)), ref.display)) from None


def _pyarrow():
    try:
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise usage("--events", PARQUET_HINT) from None
    return pq


def _clean(row: dict) -> dict:
    """A Parquet row as an event: null columns are absent fields."""
    return {k: v for k, v in row.items() if v is not None and k != "contract"}


def parquet_rows(path: str, display: str, contract_id: str) -> tuple[list[tuple[int, dict]], list[Issue]]:
    """The events of a per-contract Parquet file; a ``contract`` column, if any, must match."""
    pq = _pyarrow()
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise EventError([Issue(display, None, "", f"cannot read Parquet: {exc}")]) from None
    items, issues = [], []
    for number, row in enumerate(table.to_pylist(), start=1):
        other = row.get("contract")
        if other is not None and other != contract_id:
            issues.append(Issue(display, number, "contract", f"names contract {other!r}, not {contract_id!r}"))
        else:
            items.append((number, _clean(row)))
    return items, issues


# --------------------------------------------------------------------------- event sources


class DirectoryEvents:
    """``<contract id>.<jsonl|ndjson|json|parquet>`` files in one directory."""

    def __init__(self, directory: Path, display: str):
        self.display = display
        self.issues: list[Issue] = []
        self.total: int | None = None  # events are counted as the workers read them
        self._files: dict[str, list[Path]] = {}
        from contractrules.batch.contracts import inside_files

        outside: list[Path] = []
        for p in inside_files(directory, EVENT_FILE_SUFFIXES, outside):
            self._files.setdefault(p.stem, []).append(p)
        for p in outside:
            self.issues.append(
                Issue(str(Path(display) / p.name), None, "", f"a symbolic link leading outside {display}: not followed")
            )

    def ids(self) -> dict[str, int | None]:
        """Contract ids with events, and where to point at them (no line for a file)."""
        return {cid: None for cid in self._files}

    def file_of(self, cid: str) -> str:
        return str(Path(self.display) / self._files[cid][0].name)

    def ref(self, cid: str) -> EventRef:
        files = self._files.get(cid)
        if not files:
            return None
        if len(files) > 1:
            names = ", ".join(p.name for p in files)
            where = str(Path(self.display) / files[0].name)
            return EventProblem(
                (Issue(where, None, "", f"contract {cid!r} has {len(files)} events files ({names}): keep one"),)
            )
        return EventFile(str(files[0].resolve()), str(Path(self.display) / files[0].name))

    def close(self) -> None:
        pass


_CONTRACT_FIELD = re.compile(rb'"contract"\s*:\s*"([^"\\]*)"')


class JsonlEvents:
    """One JSON Lines file of many contracts' events, indexed by the ``contract`` field.

    The index keeps, per contract, the line numbers and byte offsets of its lines
    (24 bytes an event); :meth:`ref` reads them back for a chunk. A line whose
    ``contract`` is plain is recognised without parsing it; others are parsed.
    """

    def __init__(self, path: Path, display: str):
        self.path, self.display = path, display
        self.issues: list[Issue] = []
        self._lines: dict[str, array] = {}  # line numbers
        self._offsets: dict[str, array] = {}  # byte offsets of those lines
        self._lengths: dict[str, array] = {}  # and their lengths
        self.total = 0
        self._scan()
        self._file = path.open("rb")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if self.total else None

    def _problem(self, line: int, field: str, message: str, event_id: object = None) -> None:
        eid = event_id if isinstance(event_id, str) else None
        self.issues.append(Issue(self.display, line, field, message, eid))

    def _contract_of(self, number: int, raw: bytes) -> str | None:
        match = _CONTRACT_FIELD.search(raw)
        if match is not None and raw.count(b'"contract"') == 1:
            try:
                return match.group(1).decode("utf-8")
            except UnicodeDecodeError:
                pass
        try:
            obj = parse_line(raw, first=number == 1)
        except (LineProblem, json.JSONDecodeError) as exc:
            issue = line_issue(self.display, number, exc)
            self._problem(number, issue.field, f"{issue.message}; its contract is unknown")
            return None
        if not isinstance(obj, dict):
            self._problem(number, "", f"expected an event object, got {describe_value(obj)}")
            return None
        cid = obj.get("contract")
        if not isinstance(cid, str) or not cid:
            what = (
                "required: the id of the contract the event belongs to"
                if cid is None
                else f"must be a contract id, got {describe_value(cid)}"
            )
            self._problem(number, "contract", what, obj.get("id"))
            return None
        return cid

    def _scan(self) -> None:
        offset = 0
        with self.path.open("rb") as f:
            for number, raw, size in raw_lines(f):
                start, offset = offset, offset + size
                if raw is None:  # longer than one event may be: never held whole
                    self._problem(number, "", f"{too_long(size)}; its contract is unknown")
                    continue
                if not raw.strip():
                    continue
                cid = self._contract_of(number, raw)
                if cid is None:
                    continue
                if cid not in self._lines:
                    self._lines[cid], self._offsets[cid], self._lengths[cid] = array("l"), array("q"), array("l")
                self._lines[cid].append(number)
                self._offsets[cid].append(start)
                self._lengths[cid].append(len(raw))
                self.total += 1

    def ids(self) -> dict[str, int | None]:
        return {cid: lines[0] for cid, lines in self._lines.items()}

    def file_of(self, cid: str) -> str:
        return self.display

    def ref(self, cid: str) -> EventRef:
        lines = self._lines.get(cid)
        if lines is None:
            return None
        m = self._map
        assert m is not None, "a file with event lines is mapped"
        raws = tuple(
            m[start : start + length] for start, length in zip(self._offsets[cid], self._lengths[cid], strict=True)
        )
        return EventLines(self.display, tuple(lines), raws)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._file.close()


class ParquetEvents:
    """One Parquet file of many contracts' events, with a ``contract`` column."""

    def __init__(self, path: Path, display: str):
        self.display = display
        self.issues: list[Issue] = []
        try:
            self._table = _pyarrow().read_table(path)
        except (OSError, ValueError) as exc:
            raise usage("--events", f"cannot read Parquet {display}: {exc}") from None
        if "contract" not in self._table.column_names:
            raise usage("--events", f"{display} has no 'contract' column (the id of each event's contract)")
        self._rows: dict[str, list[int]] = {}
        for i, cid in enumerate(self._table.column("contract").to_pylist()):
            if isinstance(cid, str) and cid:
                self._rows.setdefault(cid, []).append(i)
            else:
                self._problem_row(i, cid)
        self.total = sum(len(v) for v in self._rows.values())

    def _problem_row(self, i: int, cid: object) -> None:
        what = (
            "required: the id of the contract the event belongs to"
            if cid is None
            else f"must be a contract id, got {describe_value(cid)}"
        )
        self.issues.append(Issue(self.display, i + 1, "contract", what))

    def ids(self) -> dict[str, int | None]:
        return {cid: rows[0] + 1 for cid, rows in self._rows.items()}

    def file_of(self, cid: str) -> str:
        return self.display

    def ref(self, cid: str) -> EventRef:
        rows = self._rows.get(cid)
        if rows is None:
            return None
        import pyarrow as pa

        part = self._table.take(pa.array(rows, type=pa.int64())).to_pylist()
        return EventRows(self.display, tuple((i + 1, _clean(r)) for i, r in zip(rows, part, strict=True)))

    def close(self) -> None:
        self._table = None


def open_events(path: str | Path | None):
    """The event source for ``--events``: a directory, a JSON Lines file or a Parquet file."""
    if path is None:
        return None
    p = Path(path)
    display = str(path)
    if p.is_dir():
        return DirectoryEvents(p, display)
    if not p.is_file():
        raise usage("--events", f"{display}: no such file or directory")
    suffix = p.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return JsonlEvents(p, display)
    if suffix == ".parquet":
        return ParquetEvents(p, display)
    raise usage(
        "--events",
        f"{display}: use a .jsonl/.ndjson or .parquet file (with a 'contract' field), "
        "or a directory of <contract id>.jsonl files",
    )
