"""Loading contracts (YAML/JSON) with located errors; the event loader is re-exported.

Every problem becomes an :class:`~contractrules.errors.Issue` (file, line, field path,
message); all problems of a file are collected and raised once as
:class:`~contractrules.errors.ContractError`. Events: see
:mod:`contractrules.model.event_loader` (``parse_events``, ``load_events``,
``EventRecord``, ``EventLoad`` are importable from here too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from contractrules import limits
from contractrules.errors import ContractError, Issue
from contractrules.model.contract import Contract
from contractrules.model.event_loader import EventLoad, EventRecord, load_events, parse_events
from contractrules.model.issues import issues_from
from contractrules.model.jsonl import refusal
from contractrules.model.lines import (
    DocumentSyntaxError,
    LineIndex,
    LineMap,
    json_line_map,
    line_for,
    read_json,
    read_text,
    read_yaml,
)
from contractrules.model.types import describe_value, format_path

CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")

__all__ = [
    "ContractSource",
    "EventLoad",
    "EventRecord",
    "load_contract",
    "load_events",
    "parse_contract",
    "parse_events",
    "read_contract",
]


def _sorted(issues: Iterable[Issue]) -> list[Issue]:
    """Issues in file order (stable for issues on one line)."""
    return sorted(issues, key=lambda i: (i.file, i.line or 0))


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
        raise ContractError([Issue(file, 1, "", "empty document: expected a contract (id, parties, timezone, ...)")])
    if not isinstance(data, dict):
        raise ContractError(
            [
                Issue(
                    file,
                    line_for(lines, ()),
                    "",
                    f"expected a mapping of contract fields, got {_kind(data)}",
                )
            ]
        )
    problem = refusal(data)  # too deep, or a lone surrogate: not text, could never be printed
    if problem is not None:
        path = tuple(int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", problem[0]))
        raise ContractError([Issue(file, line_for(lines, path), problem[0], problem[1])])
    try:
        return Contract.model_validate(data, context={})
    except ValidationError as exc:
        issues = issues_from(
            exc.errors(include_url=False), file=file, lines=lambda p: line_for(lines, p), model=Contract
        )
        raise ContractError(_sorted(issues)) from None


def _kind(data: object) -> str:
    """What a whole document is, without quoting it (it may be any file: never echo it)."""
    if isinstance(data, str):
        return "a text (is this a contract file?)"
    return (
        describe_value(data)
        if isinstance(data, (int, float, bool))
        else f"a {type(data).__name__}"
        if not isinstance(data, list)
        else "a list"
    )


def read_contract(path: str | Path) -> ContractSource:
    """Load a contract file (``.yaml``, ``.yml`` or ``.json``) keeping its line numbers."""
    path = Path(path)
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in CONTRACT_SUFFIXES:
        raise ContractError(
            [Issue(file, None, "", f"unsupported file type {suffix or '(none)'!r}: use .yaml, .yml or .json")]
        )
    return contract_from_text(
        read_text(path, file, ContractError, limits.MAX_CONTRACT_BYTES), file, json=suffix == ".json"
    )


def contract_from_text(text: str, file: str, *, json: bool) -> ContractSource:
    """Parse and validate a contract document's text (JSON, or YAML), keeping its line numbers."""
    try:
        if json:
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
    return [
        Issue(file, d.line, format_path(d.path), f"given twice (first on line {d.first_line}); remove one")
        for d in index.duplicates
    ]


def load_contract(path: str | Path) -> Contract:
    """Load and validate a contract file; raise ContractError with every issue."""
    return read_contract(path).contract
