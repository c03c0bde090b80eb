"""Loading contracts (YAML/JSON) and events (JSON Lines/JSON array) with located errors.

Every problem becomes an :class:`~contractrules.errors.Issue` (file, line, field path,
message, event id); all problems of a file are collected and raised once, as
:class:`~contractrules.errors.ContractError` or :class:`~contractrules.errors.EventError`.

Events are checked one by one (type, fields, amounts in the contract currency, naive
timestamps), then against each other and the contract: ``by`` must name a party (by id
or role; it is rewritten to the party id), an id repeated with the same content is
dropped silently, with different content it is an error on every line involved (and
with ``skip_invalid`` all of them are skipped: we cannot tell which one is right), an
invoice may be issued once, and payments, credit notes, disputes, reminders and waivers
must refer to an invoice issued in the same input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from contractrules import dates
from contractrules.errors import ContractError, DateError, EventError, Issue
from contractrules.model.contract import Contract
from contractrules.model.events import (
    EVENT_CLASSES,
    EVENT_TYPES,
    INVOICE_REFERENCES,
    Event,
    event_adapter,
    referenced_invoice,
)
from contractrules.model.issues import issues_from, suggestion
from contractrules.model.lines import (
    DocumentSyntaxError,
    LineIndex,
    LineMap,
    json_array_items,
    json_line_map,
    line_for,
    read_json,
    read_yaml,
)
from contractrules.model.types import describe_value

CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")
EVENT_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _sorted(issues: Iterable[Issue]) -> list[Issue]:
    """Issues in file order (stable for issues on one line)."""
    return sorted(issues, key=lambda i: (i.file, i.line or 0))


def _read_text(path: Path, file: str, error: type[ContractError] | type[EventError]) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error([Issue(file, None, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise error([Issue(file, None, "", f"cannot read file: {exc.strerror or exc}")]) from None


# --------------------------------------------------------------------------- contracts


@dataclass(frozen=True)
class ContractSource:
    """A loaded contract with where it came from (for later located messages)."""

    contract: Contract
    file: str
    lines: LineMap

    def line(self, *path: str | int) -> int | None:
        """The line of a field path such as ``("terms", "billing", "anchor_day")``."""
        return line_for(self.lines, tuple(path))


def parse_contract(data: object, file: str = "<contract>", lines: LineMap | None = None) -> Contract:
    """Validate a parsed contract document; raise ContractError with every issue."""
    lines = lines or {}
    if data is None:
        raise ContractError(
            [Issue(file, 1, "", "empty document: expected a contract (id, parties, timezone, ...)")]
        )
    if not isinstance(data, dict):
        raise ContractError(
            [
                Issue(
                    file,
                    line_for(lines, ()),
                    "",
                    f"expected a mapping of contract fields, got {describe_value(data)}",
                )
            ]
        )
    try:
        return Contract.model_validate(data, context={})
    except ValidationError as exc:
        issues = issues_from(
            exc.errors(include_url=False), file=file, lines=lambda p: line_for(lines, p), model=Contract
        )
        raise ContractError(_sorted(issues)) from None


def read_contract(path: str | Path) -> ContractSource:
    """Load a contract file (``.yaml``, ``.yml`` or ``.json``) keeping its line numbers."""
    path = Path(path)
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in CONTRACT_SUFFIXES:
        raise ContractError(
            [Issue(file, None, "", f"unsupported file type {suffix or '(none)'!r}: use .yaml, .yml or .json")]
        )
    text = _read_text(path, file, ContractError)
    try:
        if suffix == ".json":
            data, index = read_json(text), json_line_map(text)
        else:
            data, index = read_yaml(text)
    except DocumentSyntaxError as exc:
        raise ContractError([Issue(file, exc.line, "", str(exc))]) from None
    duplicates = _duplicate_issues(index, file)
    try:
        contract = parse_contract(data, file, index.lines)
    except ContractError as exc:
        raise ContractError(_sorted(duplicates + list(exc.issues))) from None
    if duplicates:
        raise ContractError(duplicates)
    return ContractSource(contract, file, index.lines)


def _duplicate_issues(index: LineIndex, file: str) -> list[Issue]:
    from contractrules.model.types import format_path

    return [
        Issue(file, d.line, format_path(d.path), f"given twice (first on line {d.first_line}); remove one")
        for d in index.duplicates
    ]


def load_contract(path: str | Path) -> Contract:
    """Load and validate a contract file; raise ContractError with every issue."""
    return read_contract(path).contract


