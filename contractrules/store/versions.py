"""Contract versions: which version answers a question, and what an amendment may change.

A contract is stored as versions ``1, 2, ...``; each is effective from a local date
(version 1: the contract's ``start`` unless told otherwise) and was recorded at an
instant. For a question *as of* ``D`` *known at* ``K``:

- only versions recorded at or before ``K`` exist;
- of those, the one effective on or before ``D`` with the latest ``effective_from``
  answers (a later version with the same date supersedes: it corrects that amendment);
- if none is effective yet, the earliest one answers (nothing has happened yet).

The chosen version gives the contract's ``end``, ``title`` and party names. Its terms do
not apply to the whole replay (v1 did that; SPEC v2 §6.7 replaces it): :func:`combine`
turns the versions into dated terms, each version's terms in force from its
``effective_from``, looked up by the date that decides each term as for a contract's
own ``amendments`` (docs/store.md).

An amendment keeps the contract's identity: its id, the party ids, the currency, the
time zone, the jurisdiction and the start, because stored events were validated against
them (amounts in that currency, ``by`` a party id, local dates in that zone). It may
change ``terms`` (not the billing schedule, and no clause added or removed), ``end``,
``title`` and party names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from contractrules.errors import ConflictError, Issue, UnknownContractError
from contractrules.model import Contract
from contractrules.model.amendments import FIXED_BILLING

IDENTITY = ("parties.provider.id", "parties.client.id", "currency", "timezone", "jurisdiction", "start")


@dataclass(frozen=True)
class ContractVersion:
    """One stored version of a contract."""

    contract_id: str
    version: int
    effective_from: date
    recorded_at: datetime
    content_hash: str
    contract: Contract


def _field(contract: Contract, path: str):
    value = contract
    for part in path.split("."):
        value = getattr(value, part)
    return value


def changed_fields(old: Contract, new: Contract) -> list[str]:
    """The dotted paths of the leaves that differ between two contracts (lists as wholes)."""
    out: list[str] = []

    def walk(a, b, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(a.keys() | b.keys()):
                walk(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        elif a != b:
            out.append(path)

    walk(old.model_dump(mode="json"), new.model_dump(mode="json"), "")
    return out


def choose(contract_id: str, versions: list[ContractVersion], as_of: date, known: datetime | None) -> ContractVersion:
    """The version that answers as of ``as_of`` with what was recorded by ``known``."""
    if not versions:
        raise UnknownContractError([Issue("<store>", None, "contract", f"no contract {contract_id!r} in the store")])
    visible = [v for v in versions if known is None or v.recorded_at <= known]
    if not visible:
        assert known is not None, "with no known_at every version is visible"
        first = min(v.recorded_at for v in versions)
        raise UnknownContractError(
            [
                Issue(
                    "<store>",
                    None,
                    "known_at",
                    f"contract {contract_id!r} was not recorded yet at {known.isoformat()} "
                    f"(first recorded {first.isoformat()})",
                )
            ]
        )
    effective = [v for v in visible if v.effective_from <= as_of]
    if effective:
        return max(effective, key=lambda v: (v.effective_from, v.version))
    return min(visible, key=lambda v: (v.effective_from, -v.version))


def next_version(
    versions: list[ContractVersion], contract: Contract, effective_from: date | None, file: str
) -> tuple[int, date] | None:
    """``(version, effective_from)`` to write for ``contract``, or None if it is already stored.

    Raises ConflictError if the document changes the contract's identity, or differs
    from the latest version without an ``effective_from`` date.
    """
    if not versions:
        return 1, effective_from or contract.start
    latest = versions[-1]
    changed = [
        Issue(
            file,
            None,
            path,
            f"an amendment cannot change {path}: version {latest.version} has "
            f"{_field(latest.contract, path)!r}, this document {_field(contract, path)!r}",
        )
        for path in IDENTITY
        if _field(latest.contract, path) != _field(contract, path)
    ]
    changed += _terms_problems(latest.contract, contract, file)
    if changed:
        raise ConflictError(changed)
    if effective_from is None:
        if contract == latest.contract:
            return None
        paths = changed_fields(latest.contract, contract)
        shown = ", ".join(paths[:10]) + (f" and {len(paths) - 10} more" if len(paths) > 10 else "")
        raise ConflictError(
            [
                Issue(
                    file,
                    None,
                    "effective_from",
                    f"contract {contract.id!r} differs from its latest version {latest.version} "
                    f"(effective from {latest.effective_from}) in {shown}: to record it as an amendment give the date it "
                    f"takes effect (effective_from, --effective-from DATE); to add events only, give the "
                    f"contract id (--contract {contract.id})",
                )
            ]
        )
    if any(v.effective_from == effective_from and v.contract == contract for v in versions):
        return None
    return latest.version + 1, effective_from


def _terms_problems(old: Contract, new: Contract, file: str) -> list[Issue]:
    """What a version may not change in ``terms`` (SPEC §6.7): the schedule, or which clauses exist."""
    out = []
    for name in type(old.terms).model_fields:
        before, after = getattr(old.terms, name), getattr(new.terms, name)
        if (before is None) != (after is None):
            what = "add" if before is None else "remove"
            out.append(
                Issue(
                    file,
                    None,
                    f"terms.{name}",
                    f"an amendment cannot {what} terms.{name}: record a new contract (a new id)",
                )
            )
    if old.terms.billing is not None and new.terms.billing is not None:
        for key in FIXED_BILLING:
            if getattr(old.terms.billing, key) != getattr(new.terms.billing, key):
                out.append(
                    Issue(
                        file,
                        None,
                        f"terms.billing.{key}",
                        f"terms.billing.{key} cannot be amended: a new schedule is a new contract (a new id)",
                    )
                )
    return out


def combine(chosen: ContractVersion, versions: list[ContractVersion], known: datetime | None) -> Contract:
    """The contract that answers: ``chosen``'s document, with the terms of every version
    recorded by ``known`` in force from its ``effective_from`` (SPEC §6.7).

    Versions with the same ``effective_from`` keep only the latest (a correction
    supersedes the amendment it corrects). The earliest date's terms are the contract's
    own; each later version becomes an amendment ``version-<n>`` that restates every
    clause, agreed by both parties (channel unknown). Amendments written in the
    documents themselves apply as well (the latest version's copy of each id).
    """
    visible = [v for v in versions if known is None or v.recorded_at <= known]
    by_date: dict[date, ContractVersion] = {}
    for v in sorted(visible, key=lambda v: v.version):
        by_date[v.effective_from] = v
    dated = [by_date[d] for d in sorted(by_date)]
    if len(dated) == 1:  # then it is the chosen version
        return chosen.contract
    parties = chosen.contract.parties
    amendments: dict[str, dict] = {}
    for v in sorted(visible, key=lambda v: v.version):
        for a in v.contract.amendments:
            amendments[a.id] = a.model_dump(mode="json")
    for v in dated[1:]:
        terms = {name: (None if value is None else value.model_dump(mode="json")) for name, value in v.contract.terms}
        terms = {k: t for k, t in terms.items() if t is not None}
        billing = terms.get("billing")
        if billing is not None:  # the schedule is the same in every version (checked when stored)
            terms["billing"] = {k: x for k, x in billing.items() if k not in FIXED_BILLING}
        amendments[f"version-{v.version}"] = {
            "id": f"version-{v.version}",
            "effective": v.effective_from.isoformat(),
            "agreed_by": [parties.provider.id, parties.client.id],
            "channel": None,
            "terms": terms,
        }
    data = chosen.contract.model_dump(mode="json", exclude_unset=True)
    data["terms"] = dated[0].contract.terms.model_dump(mode="json", exclude_unset=True)
    data["amendments"] = list(amendments.values())
    return Contract.model_validate(data, context={})
