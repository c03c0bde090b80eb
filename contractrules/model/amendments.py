"""Dated terms (SPEC §6.7): ``amendments`` that change a contract's terms from a date.

An amendment is ``{id, effective, agreed_by, channel, terms}`` where ``terms`` is a
*partial* ``terms`` mapping. The terms in force on a day are the contract's ``terms``
with every amendment effective on or before that day merged in, in date order
(:func:`merge`): mappings merge key by key, lists replace the whole list, an explicit
``null`` sets null. Each merged result is validated as a whole ``terms`` (so a bad
amended value is reported at ``amendments[i].terms.<path>``).

Refused (bad input, exit 2), each at its field path:
- ``cycle``, ``anchor_day`` and ``month_overflow`` of ``billing`` (a new schedule is a
  new contract);
- adding or removing a whole section (``terms.<section>`` absent in the contract, or an
  amendment setting it to ``null``): a clause that starts or stops at a date is a new
  contract version, not a change of its figures (docs/semantics.md, "Dated terms");
- two amendments with the same ``effective`` date touching the same path;
- ``agreed_by`` not naming both parties (ids or role names); duplicate amendment ids.

:func:`versions` gives the dated ``Terms`` (the first one is the contract's own, from
its start); the compiler turns them into dated clause parameters.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contractrules.model.types import LocalDate, Path

Channel = Literal["email", "letter", "portal", "chat", "system", "phone", "video", "in_person"]
FIXED_BILLING = ("cycle", "anchor_day", "month_overflow")


class Amendment(BaseModel):
    """One dated change of terms (SPEC §6.7)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")]
    effective: LocalDate
    agreed_by: Annotated[list[str], Field(min_length=1)]
    channel: Channel | None = None
    terms: dict[str, Any]


def merge(base: Any, change: Any) -> Any:
    """``change`` merged into ``base``: mappings key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(change, dict):
        out = dict(base)
        for key, value in change.items():
            out[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(change)


def paths(change: Any, prefix: Path = ()) -> list[Path]:
    """Every leaf path a partial mapping touches (lists and nulls are leaves)."""
    if isinstance(change, dict) and change:
        return [p for key, value in change.items() for p in paths(value, (*prefix, key))]
    return [prefix]


@dataclass(frozen=True)
class Version:
    """The terms in force from ``effective`` (``amendment`` None: the contract's own terms)."""

    effective: date
    amendment: Amendment | None
    terms: Any  # model.contract.Terms
    touched: frozenset[str]  # sections this amendment changes


def problems(contract, terms_model: type[BaseModel], context: dict) -> list[tuple[Path, str]]:
    """Every problem of ``contract.amendments``, as (path from the contract, message)."""
    from contractrules.model.issues import message_for

    out: list[tuple[Path, str]] = []
    parties = contract.parties
    ids = {parties.provider.id: "provider", parties.client.id: "client", "provider": "provider", "client": "client"}
    seen: dict[str, int] = {}
    touched: dict[tuple[date, Path], str] = {}
    base = contract.terms.model_dump(mode="json", exclude_unset=True)
    present = {name for name, value in contract.terms if value is not None}
    for i, a in enumerate(contract.amendments):
        if a.id in seen:
            out.append((("amendments", i, "id"), f"duplicate amendment id {a.id!r} (also amendments[{seen[a.id]}])"))
        seen.setdefault(a.id, i)
    merged = base
    for i, a in sorted(enumerate(contract.amendments), key=lambda x: (x[1].effective, x[0])):
        here: Path = ("amendments", i)
        roles = {ids.get(p) for p in a.agreed_by}
        unknown = [p for p in a.agreed_by if p not in ids]
        if unknown:
            out.append(
                (
                    (*here, "agreed_by"),
                    f"unknown party {unknown[0]!r}: use {parties.provider.id!r} and {parties.client.id!r}",
                )
            )
        elif roles != {"provider", "client"}:
            out.append(
                ((*here, "agreed_by"), "must name both parties: an amendment is agreed by the provider and the client")
            )
        if a.effective < contract.start:
            out.append(
                (
                    (*here, "effective"),
                    f"must be on or after start ({contract.start.isoformat()}), got {a.effective.isoformat()}",
                )
            )
        for path in paths(a.terms):
            where = (*here, "terms", *path)
            if len(path) >= 1 and path[0] in terms_model.model_fields:
                section = path[0]
                if section not in present:
                    where = (*here, "terms", section)
                    if any(p == where for p, _m in out):
                        continue
                    out.append(
                        (
                            where,
                            f"terms.{section} is not in the contract: an amendment changes a clause, it "
                            "cannot add one (record a new contract)",
                        )
                    )
                    continue
                if len(path) == 1 and a.terms.get(section) is None:
                    out.append((where, f"an amendment cannot remove terms.{section} (record a new contract)"))
                    continue
            if len(path) >= 2 and path[0] == "billing" and path[1] in FIXED_BILLING:
                out.append((where, f"terms.billing.{path[1]} cannot be amended: a new schedule is a new contract"))
                continue
            # the same path, or one inside the other (``interest: null`` and ``interest.annual_rate``)
            clash = next(
                (
                    other
                    for (day, p), other in touched.items()
                    if day == a.effective and other != a.id and (p[: len(path)] == path or path[: len(p)] == p)
                ),
                None,
            )
            if clash is not None:
                out.append(
                    (where, f"amendment {clash!r} changes the same term on the same date ({a.effective.isoformat()})")
                )
            touched.setdefault((a.effective, path), a.id)
        merged = merge(merged, a.terms)
        try:
            terms_model.model_validate(merged, context=dict(context))
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = tuple(error.get("loc", ()))
                out.append(((*here, "terms", *loc), message_for(dict(error), terms_model)))
    return out


def versions(contract) -> list[Version]:
    """The contract's terms, then the merged terms from each amendment date (date order).

    Assumes :func:`problems` found
    nothing (the contract model checks it at validation)."""
    terms_model = type(contract.terms)
    out = [Version(contract.start, None, contract.terms, frozenset())]
    merged = contract.terms.model_dump(mode="json", exclude_unset=True)
    context = {"currency": contract.currency, "jurisdiction": contract.jurisdiction, "contract_checked": True}
    for a in sorted(contract.amendments, key=lambda a: (a.effective, a.id)):
        merged = merge(merged, a.terms)
        terms = terms_model.model_validate(merged, context=dict(context))
        out.append(Version(a.effective, a, terms, frozenset(a.terms)))
    return out
