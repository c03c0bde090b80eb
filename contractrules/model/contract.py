"""The contract document (SPEC §4) as frozen pydantic models.

Every model forbids unknown keys: a typo (``biling:``) must not silently drop a clause.
Field names are exactly the document's keys. Amounts are Decimals checked against the
contract currency; rates are Decimal fractions. Validate through
:func:`contractrules.model.parse_contract` (errors with file, line and field path), or
``Contract.model_validate(data)`` (a plain pydantic ``ValidationError``).

Choices where SPEC §4 is silent (see docs/format.md):

- ``payment.calendar: null`` with ``business_days: true`` or a ``roll`` other than
  ``none`` means a weekends-only calendar (Mon-Fri business days, no holidays):
  ``dates.business_calendar(None)``.
- ``termination`` with neither ``notice_days`` nor ``notice_months`` means no notice
  (0 days); giving both is an error.
- ``excluded_assets`` entries are glob strings or ``{pattern, reason}``; both become
  :class:`ExcludedAsset`.
- A service must list at least one asset; service ids are unique; the two party ids
  differ and are not the role names ``provider``/``client`` (``by: client`` would be
  ambiguous).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contractrules import dates, limits, money
from contractrules.errors import DateError, MoneyError
from contractrules.model import amendments
from contractrules.model.amendments import Amendment
from contractrules.model.types import (
    STATUTORY,
    Amount,
    AmountOrStatutory,
    FieldProblems,
    LocalDate,
    Rate,
    RateOrStatutory,
    describe_value,
)

ROLES = ("provider", "client")
JURISDICTIONS = ("ES", "UK", "EU")
_CONTRACT_ID = re.compile(r"[A-Za-z0-9._-]+")

Text = Annotated[str, Field(min_length=1)]
Days = Annotated[StrictInt, Field(ge=0, le=limits.MAX_DAYS)]
Months = Annotated[StrictInt, Field(ge=0, le=limits.MAX_MONTHS)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(_Model):
    """One party: a stable ``id`` (used in events' ``by``) and a display ``name``."""

    id: Text
    name: str | None = None


class Parties(_Model):
    """The two roles of every contract."""

    provider: Party
    client: Party

    @model_validator(mode="after")
    def _distinct(self) -> Parties:
        problems = []
        for role in ROLES:
            pid = getattr(self, role).id
            if pid in ROLES:
                problems.append(((role, "id"), f"must not be a role name ('provider' or 'client'), got {pid!r}"))
        if self.provider.id == self.client.id:
            problems.append((("client", "id"), f"must differ from the provider's id, both are {self.client.id!r}"))
        if problems:
            raise FieldProblems(problems)
        return self


class Billing(_Model):
    """``terms.billing``: the recurring fee and its anchored schedule (SPEC §6.1)."""

    cycle: Literal["monthly", "quarterly", "yearly"] = "monthly"
    anchor_day: StrictInt | None = None
    fee: Amount
    timing: Literal["arrears", "advance"] = "arrears"
    proration: Literal["none", "daily"] = "none"
    month_overflow: Literal["clip", "roll_forward", "error"] = "clip"
    invoice_within_days: Days = 7  # calendar days after the expected invoice date (SPEC §6.1)

    @field_validator("anchor_day")
    @classmethod
    def _day_of_month(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 31:
            raise ValueError(f"must be 1..31, got {value}")
        return value


class Payment(_Model):
    """``terms.payment``: due = invoice date + ``terms_days`` (calendar or business days).

    ``calendar: null`` with ``business_days`` or a ``roll`` means weekends only.
    """

    terms_days: Days = 30
    business_days: StrictBool = False
    calendar: str | None = None
    roll: Literal["none", "following", "modified_following", "preceding"] = "none"

    @field_validator("calendar")
    @classmethod
    def _known_calendar(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                dates.business_calendar(value)
            except DateError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def uses_business_calendar(self) -> bool:
        """True iff due dates need a business calendar (business days or a roll)."""
        return self.business_days or self.roll != "none"


class Interest(_Model):
    """``terms.late_penalty.interest``: simple interest on the late balance."""

    annual_rate: RateOrStatutory
    day_count: Literal["act/365", "act/360"] = "act/365"
    accrues_from: Literal["due", "grace_end"] = "due"


class LatePenalty(_Model):
    """``terms.late_penalty`` (SPEC §6.4)."""

    grace_days: Days = 0
    interest: Interest | None = None
    fixed_fee: AmountOrStatutory | None = None
    cap: Rate | None = None
    reminder_days: Days | None = None
    disputes_suspend: StrictBool = True
    allocation: Literal["principal_first", "interest_first"] = "principal_first"


class Termination(_Model):
    """``terms.termination``: notice period (days or months, default none) (SPEC §6.3)."""

    notice_days: Days | None = None
    notice_months: Months | None = None
    effective: Literal["notice_end", "end_of_cycle"] = "notice_end"

    @model_validator(mode="after")
    def _one_period(self) -> Termination:
        if self.notice_days is not None and self.notice_months is not None:
            raise FieldProblems([(("notice_months",), "give either notice_days or notice_months, not both")])
        return self


class OnRequest(_Model):
    """A service performed when requested, within ``respond_within_days``."""

    respond_within_days: Days


class Service(_Model):
    """A service in scope: recurring (``every: cycle``) or ``on_request``."""

    id: Text
    every: Literal["cycle"] | None = None
    on_request: OnRequest | None = None
    assets: Annotated[list[Text], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_kind(self) -> Service:
        if (self.every is None) == (self.on_request is None):
            both = "not both" if self.every is not None else "one is required"
            raise FieldProblems([((), f"needs exactly one of 'every: cycle' or 'on_request' ({both})")])
        return self


def _pattern_only(value: Any) -> Any:
    return {"pattern": value} if isinstance(value, str) else value


class ExcludedAsset(_Model):
    """An excluded asset glob (``*.acme.example``), with an optional reason."""

    pattern: Text
    reason: str | None = None


class ChangeOrderRate(_Model):
    """The price quoted for out-of-scope work."""

    amount: Amount
    per: Literal["hour", "request"]


class Scope(_Model):
    """``terms.scope`` (SPEC §6.5)."""

    services: list[Service] = []
    excluded_assets: list[
        Annotated[ExcludedAsset, BeforeValidator(_pattern_only, json_schema_input_type=str | ExcludedAsset)]
    ] = []
    change_order_rate: ChangeOrderRate | None = None

    @model_validator(mode="after")
    def _unique_services(self) -> Scope:
        first: dict[str, int] = {}
        problems = []
        for i, service in enumerate(self.services):
            if service.id in first:
                problems.append(
                    (
                        ("services", i, "id"),
                        f"duplicate service id {service.id!r} (also services[{first[service.id]}])",
                    )
                )
            first.setdefault(service.id, i)
        if problems:
            raise FieldProblems(problems)
        return self

    def service(self, service_id: str) -> Service | None:
        """The service with this id, or None."""
        return next((s for s in self.services if s.id == service_id), None)


class Credit(_Model):
    """``credit`` of a service level: ``percent`` of a base per started (or pro-rata)
    period of ``per_days`` days of delay, capped at ``cap_percent`` of the base (SPEC §6.8)."""

    percent: Rate
    of: Literal["fee", "value"]
    per_days: Annotated[StrictInt, Field(ge=1)] = 1
    partial_period: Literal["full", "pro_rata"] = "full"
    cap_percent: Rate | None = None

    @field_validator("percent", "cap_percent")
    @classmethod
    def _fraction(cls, value: Any) -> Any:
        if value is not None and not 0 < value <= 1:
            raise ValueError(f"must be a fraction in (0, 1], got {value}")
        return value


class ServiceLevel(_Model):
    """One entry of ``terms.service_levels``: what the provider owes when an on-request
    ``service`` is late (SPEC §6.8)."""

    service: Text
    credit: Credit | None = None
    termination_right_after_days: Days | None = None

    @model_validator(mode="after")
    def _something(self) -> ServiceLevel:
        if self.credit is None and self.termination_right_after_days is None:
            raise FieldProblems([((), "needs a credit, a termination_right_after_days, or both")])
        return self


class Terms(_Model):
    """``terms``: every section is optional."""

    billing: Billing | None = None
    payment: Payment | None = None
    late_penalty: LatePenalty | None = None
    termination: Termination | None = None
    scope: Scope | None = None
    service_levels: list[ServiceLevel] | None = None

    @model_validator(mode="after")
    def _levels_name_on_request_services(self) -> Terms:
        if not self.service_levels:
            return self
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: dict[str, int] = {}
        for i, level in enumerate(self.service_levels):
            service = self.scope.service(level.service) if self.scope else None
            if service is None:
                problems.append(
                    (("service_levels", i, "service"), f"{level.service!r} is not a service of terms.scope")
                )
            elif service.on_request is None:
                problems.append(
                    (
                        ("service_levels", i, "service"),
                        f"{level.service!r} is recurring (every: cycle): service levels apply to on-request services",
                    )
                )
            if level.service in seen:
                problems.append(
                    (
                        ("service_levels", i, "service"),
                        f"{level.service!r} has a service level already (service_levels[{seen[level.service]}])",
                    )
                )
            seen.setdefault(level.service, i)
            if level.credit is not None and level.credit.of == "fee" and self.billing is None:
                problems.append(
                    (
                        ("service_levels", i, "credit", "of"),
                        "'fee' needs terms.billing (the fee of the cycle containing the due date)",
                    )
                )
        if problems:
            raise FieldProblems(problems)
        return self


def _valid_currency(value: Any) -> str | None:
    try:
        return money.validate_currency(value)
    except MoneyError:
        return None


class Contract(_Model):
    """A whole contract document (SPEC §4)."""

    id: str
    title: str | None = None
    parties: Parties
    timezone: str
    currency: str
    jurisdiction: Literal["ES", "UK", "EU"] | None = None
    start: LocalDate
    end: LocalDate | None = None
    terms: Terms = Terms()
    amendments: list[Amendment] = []  # SPEC §6.7 (model/amendments.py)

    @model_validator(mode="before")
    @classmethod
    def _share_context(cls, data: Any, info: ValidationInfo) -> Any:
        """Put currency and jurisdiction in the validation context for nested fields.

        Only when the caller passed a dict context (``parse_contract`` does); otherwise
        :meth:`_checks_without_context` repeats those checks after validation.
        """
        if isinstance(info.context, dict) and isinstance(data, dict):
            jurisdiction = data.get("jurisdiction")
            info.context["currency"] = _valid_currency(data.get("currency"))
            info.context["jurisdiction"] = jurisdiction if jurisdiction in JURISDICTIONS + (None,) else "?"
            info.context["contract_checked"] = True
        return data

    @field_validator("id")
    @classmethod
    def _id_pattern(cls, value: str) -> str:
        if not _CONTRACT_ID.fullmatch(value):
            raise ValueError(f"must use only letters, digits, '.', '_' and '-', got {describe_value(value)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            return dates.validate_zone(value)
        except DateError as exc:
            raise ValueError(f"{exc}{_zone_hint(value)}") from None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        try:
            return money.validate_currency(value)
        except MoneyError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if value is not None and start is not None and value < start:
            raise ValueError(f"must be on or after start ({start.isoformat()}), got {value.isoformat()}")
        return value

    @model_validator(mode="after")
    def _checks_without_context(self, info: ValidationInfo) -> Contract:
        if isinstance(info.context, dict) and info.context.get("contract_checked"):
            return self
        problems = _currency_and_statute_problems(self)
        if problems:
            raise FieldProblems(problems)
        return self

    @model_validator(mode="after")
    def _valid_amendments(self) -> Contract:
        if not self.amendments:
            return self
        context = {"currency": self.currency, "jurisdiction": self.jurisdiction, "contract_checked": True}
        found = amendments.problems(self, Terms, context)
        if found:
            raise FieldProblems(found)
        return self

    # ------------------------------------------------------------------ helpers

    def services_credited_on_value(self) -> frozenset[str]:
        """Services whose service level (in the terms or any amendment) credits ``of: value``:
        their requests must carry a ``value`` (SPEC §6.8)."""
        levels = list(self.terms.service_levels or [])
        for a in self.amendments:
            for level in a.terms.get("service_levels") or []:
                if isinstance(level, dict) and isinstance(level.get("credit"), dict):
                    levels.append(ServiceLevel.model_validate(level, context={"currency": self.currency}))
        return frozenset(lv.service for lv in levels if lv.credit is not None and lv.credit.of == "value")

    def party_id(self, ref: str) -> str | None:
        """The party id for ``ref`` (a party id or a role name), or None if unknown."""
        if ref in ROLES:
            return getattr(self.parties, ref).id
        if ref in (self.parties.provider.id, self.parties.client.id):
            return ref
        return None

    def role_of(self, party_id: str) -> Literal["provider", "client"] | None:
        """``"provider"`` or ``"client"`` for a party id, or None."""
        for role in ROLES:
            if getattr(self.parties, role).id == party_id:
                return role  # type: ignore[return-value]
        return None

    @property
    def tzinfo(self) -> ZoneInfo:
        """The contract's time zone as a ZoneInfo."""
        return ZoneInfo(self.timezone)

    @property
    def anchor_day(self) -> int | None:
        """The billing anchor day (``terms.billing.anchor_day``, default the day of ``start``)."""
        billing = self.terms.billing
        if billing is None:
            return None
        return billing.anchor_day if billing.anchor_day is not None else self.start.day


def _zone_hint(value: object) -> str:
    import difflib

    if not isinstance(value, str) or len(value) > limits.MAX_ZONE_NAME:
        return ""
    close = difflib.get_close_matches(value, sorted(dates.zone_names()), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _currency_and_statute_problems(contract: Contract) -> list[tuple[tuple, str]]:
    """Amount precision and 'statutory' checks, for validation without a context."""
    terms = contract.terms
    amounts: list[tuple[tuple[str, ...], object]] = []
    if terms.billing is not None:
        amounts.append((("terms", "billing", "fee"), terms.billing.fee))
    if terms.late_penalty is not None:
        amounts.append((("terms", "late_penalty", "fixed_fee"), terms.late_penalty.fixed_fee))
    if terms.scope is not None and terms.scope.change_order_rate is not None:
        amounts.append((("terms", "scope", "change_order_rate", "amount"), terms.scope.change_order_rate.amount))
    problems: list[tuple[tuple, str]] = []
    for path, value in amounts:
        if value is None:
            continue
        if value == STATUTORY:
            if contract.jurisdiction is None:
                problems.append((path, "'statutory' needs a jurisdiction: set jurisdiction to ES, UK or EU"))
            continue
        try:
            money.parse_amount(str(value), contract.currency)
        except MoneyError as exc:
            problems.append((path, str(exc)))
    penalty = terms.late_penalty
    if penalty and penalty.interest and penalty.interest.annual_rate == STATUTORY and contract.jurisdiction is None:
        problems.append(
            (
                ("terms", "late_penalty", "interest", "annual_rate"),
                "'statutory' needs a jurisdiction: set jurisdiction to ES, UK or EU",
            )
        )
    return problems
