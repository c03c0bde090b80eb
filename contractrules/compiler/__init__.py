"""Contract → declarative ruleset document (pure JSON data).

Each clause kind has one module owning its whole meaning: the durable_rules conditions
it compiles to, the parameters it keeps as data, and the actions those rules run (by
name). ``CLAUSES`` is the dispatch table; a clause without an entry goes to
:func:`unsupported`. ``PASSES`` are pure functions ``(contract, document) -> document``
run in order; callers may replace them.

The document (``compile_contract``) has:
- ``ruleset``: a name derived from the rules alone, so contracts of the same shape share
  one registered durable_rules ruleset (parameters are data, not rules);
- ``rules``: exactly what the engine registers with durable_rules;
- ``params``: per-clause parameters the actions read at run time;
- ``contract``: id, parties, time zone, currency, start, end; ``cycles``: the calendar.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from types import ModuleType

from contractrules.compiler import billing, cycles, payment, penalty, scope, termination
from contractrules.errors import CompileError

FORMAT = "contractrules.ruleset/1"

# Clause → module. The ledger (payment) and termination are always compiled: invoices
# and notices can happen whatever the contract says, with documented defaults.
CLAUSES: dict[str, ModuleType] = {
    "payment": payment,
    "billing": billing,
    "late_penalty": penalty,
    "termination": termination,
    "scope": scope,
}
ALWAYS = ("payment", "termination")


def unsupported(clause: str) -> ModuleType:
    raise CompileError(f"terms.{clause}", f"no compiler for clause kind '{clause}'; known: {', '.join(sorted(CLAUSES))}")


def clause_names(contract) -> list[str]:
    present = [name for name, value in contract.terms if value is not None]
    if contract.jurisdiction and "late_penalty" not in present:
        present.append("late_penalty")  # the statutory regime applies (SPEC §7)
    return [*ALWAYS, *(n for n in present if n not in ALWAYS)]


def _header(contract, doc: dict) -> dict:
    parties = contract.parties
    doc["format"] = FORMAT
    doc["contract"] = {
        "id": contract.id,
        "currency": contract.currency,
        "timezone": contract.timezone,
        "jurisdiction": contract.jurisdiction,
        "start": contract.start.isoformat(),
        "end": contract.end.isoformat() if contract.end else None,
        "parties": {
            "provider": {"id": parties.provider.id, "name": parties.provider.name},
            "client": {"id": parties.client.id, "name": parties.client.name},
        },
    }
    doc["cycles"] = cycles.cycle_params(contract)
    return doc


def _clauses(contract, doc: dict) -> dict:
    doc["clauses"], doc["rules"], doc["params"] = [], {}, {}
    for name in clause_names(contract):
        module = CLAUSES.get(name) or unsupported(name)
        part = module.compile(contract)
        doc["clauses"].append(name)
        doc["rules"].update(part["rules"])
        doc["params"][name] = part["params"]
    return doc


def _name(contract, doc: dict) -> dict:
    digest = hashlib.sha256(json.dumps(doc["rules"], sort_keys=True).encode()).hexdigest()[:16]
    doc["ruleset"] = f"contractrules_{digest}"
    return doc


PASSES: tuple[Callable[[object, dict], dict], ...] = (_header, _clauses, _name)


def compile_contract(contract, passes: tuple[Callable[[object, dict], dict], ...] = PASSES) -> dict:
    """Compile a validated :class:`~contractrules.model.Contract` into its ruleset document."""
    doc: dict = {}
    for step in passes:
        doc = step(contract, doc)
    return doc


def actions() -> dict[str, Callable]:
    """Every action any clause's rules may name, by name."""
    table: dict[str, Callable] = {}
    for module in CLAUSES.values():
        table.update(module.ACTIONS)
    return table


def hooks(doc: dict, name: str) -> list[Callable]:
    """The ``start``/``finish`` hooks of the document's clauses, in clause order."""
    return [getattr(CLAUSES[c], name) for c in doc["clauses"] if hasattr(CLAUSES.get(c), name)]
