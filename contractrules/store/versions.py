"""Contract versions: which version answers a question, and what an amendment may change.

A contract is stored as versions ``1, 2, ...``; each is effective from a local date
(version 1: the contract's ``start`` unless told otherwise) and was recorded at an
instant. For a question *as of* ``D`` *known at* ``K``:

- only versions recorded at or before ``K`` exist;
- of those, the one effective on or before ``D`` with the latest ``effective_from``
  answers (a later version with the same date supersedes: it corrects that amendment);
- if none is effective yet, the earliest one answers (nothing has happened yet).

The chosen version's terms apply to the whole replay, from the contract's start: an
amendment restates the terms, it does not splice two rule sets together (docs/store.md).

An amendment keeps the contract's identity: its id, the party ids, the currency and
the time zone, because stored events were validated against them (amounts in that
currency, ``by`` a party id, local dates in that zone). Everything else may change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from contractrules.errors import ConflictError, Issue, UnknownContractError
from contractrules.model import Contract

IDENTITY = ("parties.provider.id", "parties.client.id", "currency", "timezone")


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
        raise UnknownContractError([Issue(
            "<store>", None, "known_at",
            f"contract {contract_id!r} was not recorded yet at {known.isoformat()} "
            f"(first recorded {first.isoformat()})")])
    effective = [v for v in visible if v.effective_from <= as_of]
    if effective:
        return max(effective, key=lambda v: (v.effective_from, v.version))
    return min(visible, key=lambda v: (v.effective_from, -v.version))


def next_version(versions: list[ContractVersion], contract: Contract, effective_from: date | None,
                 file: str) -> tuple[int, date] | None:
    """``(version, effective_from)`` to write for ``contract``, or None if it is already stored.

    Raises ConflictError if the document changes the contract's identity, or differs
    from the latest version without an ``effective_from`` date.
    """
    if not versions:
        return 1, effective_from or contract.start
    latest = versions[-1]
    changed = [
        Issue(file, None, path,
              f"an amendment cannot change {path}: version {latest.version} has "
              f"{_field(latest.contract, path)!r}, this document {_field(contract, path)!r}")
        for path in IDENTITY
        if _field(latest.contract, path) != _field(contract, path)
    ]
    if changed:
        raise ConflictError(changed)
    if effective_from is None:
        if contract == latest.contract:
            return None
        paths = changed_fields(latest.contract, contract)
        shown = ", ".join(paths[:10]) + (f" and {len(paths) - 10} more" if len(paths) > 10 else "")
        raise ConflictError([Issue(
            file, None, "effective_from",
            f"contract {contract.id!r} differs from its latest version {latest.version} "
            f"(effective from {latest.effective_from}) in {shown}: to record it as an amendment give the date it "
            f"takes effect (effective_from, --effective-from DATE); to add events only, give the "
            f"contract id (--contract {contract.id})")])
    if any(v.effective_from == effective_from and v.contract == contract for v in versions):
        return None
    return latest.version + 1, effective_from
