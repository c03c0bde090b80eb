"""Every error contractrules raises on purpose derives from one root.

    ContractRulesError
    ├── InputError            bad user input; carries every Issue found (file, line, field)
    │   ├── ContractError     a contract document (YAML/JSON) is invalid
    │   ├── EventError        an events file (JSON Lines / JSON array) is invalid
    │   ├── ConflictError     input contradicts the store (an event id reused with other
    │   │                     content, a contract id changed, an amendment without a date)
    │   └── UnknownContractError  the store holds no contract with that id
    ├── DateError             date arithmetic refused
    │   └── AmbiguousDateError  month overflow with ``month_overflow: error``
    ├── MoneyError            an amount is negative, malformed or too precise (also a ValueError)
    ├── CompileError          a contract clause the compiler cannot translate
    ├── EngineError           the rule engine failed (an action raised, a session broke)
    ├── StoreError            the contract store cannot be used (a newer schema, a bad URL,
    │   │                     a missing driver, the database failed)
    │   └── StoreNotInitialisedError  no store there yet, or an older schema: run ``db init``
    ├── InstallError          contractrules itself is broken: a file that ships with the
    │                         package (a statutory table, a schema) is missing or invalid
    └── OutputError           an output cannot be written (disk full, not writable)

The library raises these with structured data; the CLI formats them. Input errors are
collected and raised once, so a user sees every problem of a file in one run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in one input file, located as precisely as we can."""

    file: str
    line: int | None
    field: str
    message: str
    event_id: str | None = None

    def __post_init__(self) -> None:
        # a field path or message is built from input: never echo a long one whole
        for name, limit in (("field", 120), ("message", 600), ("event_id", 120)):
            value = getattr(self, name)
            if isinstance(value, str) and len(value) > limit:
                object.__setattr__(self, name, value[: limit - 3] + "...")

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" {self.field}" if self.field else ""
        return f"{where}{field}: {self.message}"


class ContractRulesError(Exception):
    """Root of every error raised by contractrules on purpose."""


class InputError(ContractRulesError):
    """Invalid user input. ``issues`` lists every problem found, in file order."""

    def __init__(self, issues: list[Issue] | tuple[Issue, ...]):
        self.issues = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues) or "invalid input")


class ContractError(InputError):
    """A contract document is invalid."""


class EventError(InputError):
    """An events file is invalid."""


class DateError(ContractRulesError, ValueError):
    """Date arithmetic refused an operation."""


class AmbiguousDateError(DateError):
    """Adding months landed on a day that does not exist and the mode is ``error``."""

    def __init__(self, start, months: int, message: str | None = None):
        self.start = start
        self.months = months
        super().__init__(
            message
            or f"{start.isoformat()} + {months} month(s) is ambiguous: day {start.day} "
            "does not exist in the target month (month_overflow: error)"
        )


class MoneyError(ContractRulesError, ValueError):
    """An amount is negative, malformed, or more precise than its currency allows."""


class CompileError(ContractRulesError):
    """The compiler met a clause it cannot translate. ``clause`` is its field path."""

    def __init__(self, clause: str, message: str):
        self.clause = clause
        super().__init__(f"{clause}: {message}")


class EngineError(ContractRulesError):
    """The rule engine failed: an action raised, or a session could not be managed."""


class ConflictError(InputError):
    """The input contradicts what the contract store already holds; nothing was written.

    An event id already stored with different content, a contract document whose id
    differs from the contract it is given for, or a changed contract without an
    ``effective_from`` date. ``issues`` also lists any other problem of the same batch.
    """


class UnknownContractError(InputError):
    """The contract store holds no contract with the id asked for."""


class StoreError(ContractRulesError):
    """The contract store cannot be used: no schema or a newer one, an unsupported URL,
    a missing database driver, or a database failure (nothing of the batch was written)."""


class StoreNotInitialisedError(StoreError):
    """No contract store at that URL yet (or one with an older schema): ``contractrules db
    init`` creates or upgrades it. The CLI exits 4."""


class InstallError(ContractRulesError):
    """A file that ships with contractrules is missing or invalid: an installation fault,
    never the user's input (the CLI exits 1 and says to reinstall)."""


class OutputError(ContractRulesError):
    """An output cannot be written: the disk is full, or the path is not writable
    (exit 5). Nothing is left at the output path; an older output there is untouched."""
