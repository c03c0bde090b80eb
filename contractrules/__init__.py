"""contractrules: evaluate contract terms against events, in event time.

The public API (everything else is internal and may change)::

    from datetime import date
    import contractrules as cr

    answer = cr.evaluate("contract.yaml", "events.jsonl", as_of=date(2025, 10, 1))
    answer.penalty("INV-07").enforceable_from

    live = cr.open_contract("contract.yaml")   # embedding: post events as they happen
    live.post([{"id": "e1", "type": "invoice_issued", ...}])
    live.answer(date(2025, 10, 1))        # costs what is new, equals evaluate()

    with cr.Engine() as engine:           # reuse one engine for many contracts
        for contract, events in batch:
            cr.evaluate(contract, events, as_of, engine=engine)
"""

# The public names are imported on first use (PEP 562), so that ``import contractrules``
# and the command line (``contractrules --help``, ``contractrules penalty``) load only
# what they use: pydantic models, the compiler and durable_rules cost a fifth of a second.
# Type checkers and IDEs read the imports below; :data:`_LAZY` says where each name lives
# (tests/unit/test_exported_members.py checks the two agree).
import typing as _typing

if _typing.TYPE_CHECKING:
    from contractrules.api import compile as compile_contract
    from contractrules.api import evaluate, penalty
    from contractrules.engine.engine import Engine
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
    from contractrules.live import LiveContract, PostResult, open_contract
    from contractrules.model import (
        Contract,
        EventLoad,
        EventRecord,
        load_contract,
        load_events,
        parse_contract,
        parse_events,
    )
    from contractrules.model.answers import (
        Answer,
        ContractState,
        Obligation,
        Penalty,
        PenaltyAnswer,
        UnappliedCredit,
        Violation,
    )

_LAZY: dict[str, tuple[str, str]] = {  # public name -> (module, attribute)
    "AmbiguousDateError": ("contractrules.errors", "AmbiguousDateError"),
    "Answer": ("contractrules.model.answers", "Answer"),
    "CompileError": ("contractrules.errors", "CompileError"),
    "Contract": ("contractrules.model", "Contract"),
    "ContractError": ("contractrules.errors", "ContractError"),
    "ContractRulesError": ("contractrules.errors", "ContractRulesError"),
    "ContractState": ("contractrules.model.answers", "ContractState"),
    "DateError": ("contractrules.errors", "DateError"),
    "Engine": ("contractrules.engine.engine", "Engine"),
    "EngineError": ("contractrules.errors", "EngineError"),
    "EventError": ("contractrules.errors", "EventError"),
    "EventLoad": ("contractrules.model", "EventLoad"),
    "EventRecord": ("contractrules.model", "EventRecord"),
    "InputError": ("contractrules.errors", "InputError"),
    "Issue": ("contractrules.errors", "Issue"),
    "LiveContract": ("contractrules.live", "LiveContract"),
    "MoneyError": ("contractrules.errors", "MoneyError"),
    "Obligation": ("contractrules.model.answers", "Obligation"),
    "Penalty": ("contractrules.model.answers", "Penalty"),
    "PenaltyAnswer": ("contractrules.model.answers", "PenaltyAnswer"),
    "PostResult": ("contractrules.live", "PostResult"),
    "UnappliedCredit": ("contractrules.model.answers", "UnappliedCredit"),
    "Violation": ("contractrules.model.answers", "Violation"),
    "compile_contract": ("contractrules.api", "compile"),
    "evaluate": ("contractrules.api", "evaluate"),
    "load_contract": ("contractrules.model", "load_contract"),
    "load_events": ("contractrules.model", "load_events"),
    "open_contract": ("contractrules.live", "open_contract"),
    "parse_contract": ("contractrules.model", "parse_contract"),
    "parse_events": ("contractrules.model", "parse_events"),
    "penalty": ("contractrules.api", "penalty"),
}

__version__ = "0.1.0"

__all__ = [
    "AmbiguousDateError",
    "Answer",
    "CompileError",
    "Contract",
    "ContractError",
    "ContractRulesError",
    "ContractState",
    "DateError",
    "Engine",
    "EngineError",
    "EventError",
    "EventLoad",
    "EventRecord",
    "InputError",
    "Issue",
    "LiveContract",
    "MoneyError",
    "Obligation",
    "Penalty",
    "PenaltyAnswer",
    "PostResult",
    "UnappliedCredit",
    "Violation",
    "__version__",
    "compile_contract",
    "evaluate",
    "load_contract",
    "load_events",
    "open_contract",
    "parse_contract",
    "parse_events",
    "penalty",
]


if not _typing.TYPE_CHECKING:  # hidden from type checkers: a misspelt name stays an error for them

    def __getattr__(name: str) -> object:
        """Import a public name on first use (then it is a plain module attribute).

        A submodule is imported too when asked for as an attribute (``contractrules.model``
        after ``import contractrules``), as it was when this package imported them all.
        """
        import importlib

        if name in _LAZY:
            module, attr = _LAZY[name]
            value = getattr(importlib.import_module(module), attr)
            globals()[name] = value
            return value
        if not name.startswith("_"):
            import importlib.util

            if importlib.util.find_spec(f"{__name__}.{name}") is not None:
                return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
