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
- ``contract``: id, parties, time zone, currency, start, end; ``cycles``: the calendar;
- ``dated``: per clause, the parameters from each amendment of that clause on
  (``[{from, params, amendments}]``, SPEC §6.7; the clause's ``params`` hold until the
  first); ``amendments``: id → effective date, channel, agreed_by (for evidence).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from types import ModuleType

from contractrules.compiler import billing, cycles, payment, penalty, scope, service_levels, termination
from contractrules.errors import CompileError

FORMAT = "contractrules.ruleset/1"

# The clause registry: name → the module (or any object) that owns the clause. Each one
# has ``compile(contract) -> {"rules", "params"}`` and ``ACTIONS`` (action name → function
# of ``(run, message)``), and may have ``EVENT_RANKS`` (event type → same-instant rank,
# SPEC §5), ``applies(contract)`` (default: ``terms.<name>`` is present), and the hooks
# ``start(run)``, ``finish(run)`` and ``answer(run) -> {section: value}`` (answer sections,
# e.g. ``state``, ``penalties``). The engine knows clauses only through this table.
# Registration order is evaluation order. The ledger (payment) and termination always
# apply: invoices and notices can happen whatever the contract says, with defaults.
CLAUSES: dict[str, ModuleType] = {}


def register(name: str, clause, *, always: bool = False) -> None:
    """Add a clause kind (``terms.<name>``); ``always``: compiled for every contract."""
    if name in CLAUSES:
        raise CompileError(f"terms.{name}", f"clause kind '{name}' is registered already")
    ranks = event_ranks()
    for kind, rank in getattr(clause, "EVENT_RANKS", {}).items():
        if kind in ranks and ranks[kind] != rank:
            raise CompileError(f"terms.{name}", f"event type {kind!r} is ranked {ranks[kind]} already")
    if always:
        clause.applies = lambda contract: True
    CLAUSES[name] = clause


def unregister(name: str) -> None:
    CLAUSES.pop(name, None)


def unsupported(clause: str) -> ModuleType:
    raise CompileError(
        f"terms.{clause}", f"no compiler for clause kind '{clause}'; known: {', '.join(sorted(CLAUSES))}"
    )


def _applies(name: str, clause, contract) -> bool:
    check = getattr(clause, "applies", None)
    return check(contract) if check is not None else getattr(contract.terms, name, None) is not None


def clause_names(contract) -> list[str]:
    """The clause kinds compiled for ``contract``, in registration order."""
    present = {name for name, value in contract.terms if value is not None}
    unknown = sorted(present - set(CLAUSES))
    if unknown:
        unsupported(unknown[0])
    return [name for name, clause in CLAUSES.items() if _applies(name, clause, contract)]


def event_ranks() -> dict[str, int]:
    """Same-instant order of event types (SPEC §5), from every registered clause."""
    ranks: dict[str, int] = {}
    for clause in CLAUSES.values():
        ranks.update(getattr(clause, "EVENT_RANKS", {}))
    return ranks


for _name_, _module_, _always_ in (
    ("payment", payment, True),
    ("termination", termination, True),
    ("billing", billing, False),
    ("late_penalty", penalty, False),
    ("scope", scope, False),
    ("service_levels", service_levels, False),
):
    register(_name_, _module_, always=_always_)


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


def _dated(contract, doc: dict) -> dict:
    """Each clause's parameters from every amendment that changes it (SPEC §6.7)."""
    doc["dated"], doc["amendments"] = {}, {}
    if not contract.amendments:
        return doc
    from contractrules.model.amendments import paths, versions

    in_force: dict[str, list[str]] = {}
    for v in versions(contract)[1:]:
        a = v.amendment
        assert a is not None, "every version after the first is an amendment"
        doc["amendments"][a.id] = {
            "effective": a.effective.isoformat(),
            "channel": a.channel,
            "agreed_by": list(a.agreed_by),
            "sections": sorted(v.touched),
            "paths": [".".join(map(str, p)) for p in paths(a.terms)],
        }
        variant = contract.model_copy(update={"terms": v.terms})
        for name in doc["clauses"]:
            if name not in v.touched:
                continue
            in_force.setdefault(name, []).append(a.id)
            module = CLAUSES.get(name) or unsupported(name)
            doc["dated"].setdefault(name, []).append(
                {
                    "from": a.effective.isoformat(),
                    "params": module.compile(variant)["params"],
                    "amendments": list(in_force[name]),
                }
            )
    return doc


def _name(contract, doc: dict) -> dict:
    digest = hashlib.sha256(json.dumps(doc["rules"], sort_keys=True).encode()).hexdigest()[:16]
    doc["ruleset"] = f"contractrules_{digest}"
    return doc


PASSES: tuple[Callable[[object, dict], dict], ...] = (_header, _clauses, _dated, _name)


def compile_contract(contract, passes: tuple[Callable[[object, dict], dict], ...] = PASSES) -> dict:
    """Compile a validated :class:`~contractrules.model.Contract` into its ruleset document."""
    doc: dict = {}
    for step in passes:
        doc = step(contract, doc)
    return doc


def actions() -> dict[str, Callable]:
    """Every action any clause's rules may name, by name; each one notes in ``run.acted``
    what its clause was given (what a live answer may reuse: compiler/memo.py)."""
    table: dict[str, Callable] = {}
    for module in CLAUSES.values():
        for name, fn in module.ACTIONS.items():
            table[name] = _noting(name, fn)
    return table


def _noting(name: str, fn: Callable) -> Callable:
    """``fn``, chaining into ``run.acted[<clause>]`` and ``run.acted[<name>]`` what it is
    given: an event's id, or a clock message's day and data. A chain is the same whenever
    the clause's (the action's) runs were given the same messages in the same order,
    whatever else was delivered, in this state or in a copy of it replayed from a
    checkpoint."""
    clause = name.partition(".")[0]

    def act(run, arg):
        if run.tracking:  # a live contract's run (a batch evaluation does not need them)
            acted = run.acted
            what = (run.today, tuple(arg.items())) if type(arg) is dict else arg.event.id
            acted[clause] = hash((acted.get(clause), what))
            acted[name] = hash((acted.get(name), what))
        return fn(run, arg)

    act.__name__ = act.__qualname__ = fn.__name__
    return act


def hooks(doc: dict, name: str) -> list[Callable]:
    """The ``start``/``finish``/``answer`` hooks of the document's clauses, in clause order."""
    return [getattr(CLAUSES[c], name) for c in doc["clauses"] if hasattr(CLAUSES.get(c), name)]
