"""contractrules: evaluate contract terms against events, in event time."""

from contractrules.errors import (
    AmbiguousDateError,
    CompileError,
    ContractError,
    ContractRulesError,
    DateError,
    EngineError,
    EventError,
    InputError,
    Issue,
    MoneyError,
)

__version__ = "0.1.0"

__all__ = sorted(
    [
        "AmbiguousDateError",
        "CompileError",
        "ContractError",
        "ContractRulesError",
        "DateError",
        "EngineError",
        "EventError",
        "InputError",
        "Issue",
        "MoneyError",
        "__version__",
    ]
)
