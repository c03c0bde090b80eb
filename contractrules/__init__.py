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
