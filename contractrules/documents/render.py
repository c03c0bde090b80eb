"""Render the report (HTML) and the demand letter (Markdown or HTML) with Jinja2.

HTML templates autoescape everything (a ``<script>`` in a title, a description or an id
is shown as text). The Markdown letter escapes Markdown and HTML syntax in every value
instead (:func:`md_escape`), so a hostile value stays text when the letter is later
turned into HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from contractrules.compiler import compile_contract
from contractrules.documents import statement, timeline
from contractrules.documents.i18n import Lang
from contractrules.errors import InputError, Issue
from contractrules.model import Contract
from contractrules.model.answers import Answer

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")


def md_escape(value: object) -> object:
    """Backslash-escape Markdown (and inline HTML) syntax in a value; Markup passes as is."""
    if value is None or isinstance(value, Markup):
        return "" if value is None else value
    return _MD_SPECIAL.sub(r"\\\1", str(value))


@cache
def environment(lang: str, markdown: bool = False) -> Environment:
    env = Environment(
        loader=PackageLoader("contractrules.documents", "templates"),
        autoescape=False if markdown else select_autoescape(["html", "svg"], default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=md_escape if markdown else None,
    )
    env.install_gettext_translations(Lang(lang).t, newstyle=True)  # type: ignore[attr-defined]
    return env


@dataclass
class Context:
    """Everything a template sees (as ``doc``), plus ``L`` for formats."""

    L: Lang
    contract: Contract
    answer: Answer
    params: dict
    invoices: list
    scope: statement.Scope
    timeline: timeline.Timeline
    currency: str

    def money(self, amount) -> str:
        return self.L.money(amount, self.currency)

    def name(self, party: str | None) -> str:
        parties = self.contract.parties
        for p in (parties.provider, parties.client):
            if p.id == party:
                return p.name or p.id
        return party or "—"

    @property
    def provider(self) -> str:
        return self.name(self.contract.parties.provider.id)

    @property
    def client(self) -> str:
        return self.name(self.contract.parties.client.id)

    @property
    def open_principal(self) -> Decimal:
        return sum((i.balance for i in self.invoices), Decimal(0))

    @property
    def overdue_principal(self) -> Decimal:
        return sum((i.balance for i in self.invoices if i.late_from is not None), Decimal(0))

    def penalty_owed(self, pen) -> Decimal:
        """What is left of an enforceable penalty (``balance`` when the answer has it)."""
        if pen is None or not pen.enforceable:
            return Decimal(0)
        return pen.balance

    @property
    def penalties_now(self) -> Decimal:
        return sum((self.penalty_owed(i.penalty) for i in self.invoices), Decimal(0))

    @property
    def penalties_later(self) -> Decimal:
        return sum(
            (
                i.penalty.total
                for i in self.invoices
                if i.penalty and not i.penalty.enforceable and i.penalty.enforceable_from is not None
            ),
            Decimal(0),
        )

    @property
    def unapplied_total(self) -> Decimal:
        """Money that pays no open debt, and money held for invoices not issued yet (SPEC §6.2)."""
        return Decimal(self.answer.unapplied_credit.amount)

    @property
    def unapplied_events(self) -> list:
        return self.evidence(self.answer.unapplied_credit.caused_by)

    @property
    def other_findings(self) -> list:
        """Violations the statement and the scope section do not already show."""
        shown = ("late_payment", "out_of_scope_request", "out_of_scope_work")
        return [v for v in self.answer.violations if v.kind not in shown]

    def kind(self, kind: str) -> str:
        _ = self.L.gettext
        return {
            "short_notice": _("notice shorter than the contract's"),
            "missed_service": _("service not performed"),
            "late_service": _("service performed late"),
            "statutory_limit": _("term beyond the statutory limit"),
            "unbilled": _("cycle not invoiced on time"),
        }.get(kind, kind)

    def event(self, event_id: str):
        return self.answer.detail.get("records", {}).get(event_id)

    def evidence(self, event_ids) -> list:
        """The records behind ``event_ids``, in date order, without repeats."""
        recs = {e: self.event(e) for e in event_ids}
        return sorted((r for r in recs.values() if r is not None), key=lambda r: (r.local_date, r.event.id))


def build_context(contract, answer, lang: str) -> Context:
    """The view model of one contract's answer, in ``lang``. ``answer`` must come from the
    engine in this process (it carries :attr:`Answer.detail`)."""
    if "invoices" not in answer.detail:
        raise InputError(
            [
                Issue(
                    "<call>",
                    None,
                    "answer",
                    "needs an answer computed by the engine in this process "
                    "(an answer read back from JSON has no ledger or interest tables)",
                )
            ]
        )
    L = Lang(lang)
    params = compile_contract(contract)["params"]
    invoices = statement.invoices(L, contract, answer, params)
    scope = statement.scope(L, contract, answer, params)
    return Context(
        L,
        contract,
        answer,
        params,
        invoices,
        scope,
        timeline.build(L, contract, answer, invoices, scope),
        contract.currency,
    )


def report_html(contract, answer, lang: str = "es") -> str:
    doc = build_context(contract, answer, lang)
    return environment(lang).get_template("report.html").render(doc=doc, L=doc.L)


def letter(contract, answer, invoice: str, lang: str = "es", pay_by: date | None = None, html: bool = False) -> str:
    doc = build_context(contract, answer, lang)
    inv = next((i for i in doc.invoices if i.id == invoice), None)
    if inv is None:
        raise InputError([Issue("<events>", None, "invoice", f"no invoice {invoice} issued by {answer.as_of}")])
    owed = inv.balance + doc.penalty_owed(inv.penalty)
    if inv.late_from is None or owed <= 0:
        why = (
            f"nothing is owed on it as of {answer.as_of}"
            if owed <= 0
            else f"not late as of {answer.as_of} (due {inv.due})"
        )
        raise InputError([Issue("<events>", None, "invoice", f"invoice {invoice}: {why}; no demand letter to write")])
    pay_by = pay_by or answer.as_of + timedelta(days=10)
    if pay_by < answer.as_of:
        raise InputError([Issue("<call>", None, "pay_by", f"{pay_by} is before the as-of date {answer.as_of}")])
    pen = inv.penalty
    daily = Decimal(0)
    if pen is not None and pen.table is not None and pen.table.segments and inv.balance > 0:
        last = pen.table.segments[-1]
        daily = last.balance * last.rate / Decimal(last.basis)
    events = doc.evidence(
        [*inv.caused_by, *(pen.obligation.caused_by if pen and pen.obligation else []), *(ln.event for ln in inv.lines)]
    )
    values = dict(
        doc=doc,
        L=doc.L,
        inv=inv,
        pen=pen,
        owed=owed,
        pay_by=pay_by,
        daily=daily,
        events=events,
        event_text=lambda rec: event_text(doc, rec),
    )
    env = environment(lang, markdown=not html)
    return env.get_template("letter.html" if html else "letter.md").render(**values)


def event_text(doc: Context, rec) -> str:
    """One evidence line: what the event says, in the document's language."""
    _ = doc.L.gettext
    e, L = rec.event, doc.L
    amount = doc.money(getattr(e, "amount", None)) if getattr(e, "amount", None) is not None else ""
    if e.type == "invoice_issued":
        return _("invoice %(id)s issued for %(amount)s") % {"id": e.invoice, "amount": amount}
    if e.type == "payment_received":
        if e.invoice:
            return _("payment of %(amount)s for invoice %(id)s") % {"amount": amount, "id": e.invoice}
        return _("payment of %(amount)s naming no invoice") % {"amount": amount}
    if e.type == "credit_note":
        return _("credit note of %(amount)s on invoice %(id)s") % {"amount": amount, "id": e.invoice}
    if e.type == "reminder_sent":
        return _("payment reminder for invoice %(id)s") % {"id": e.invoice}
    if e.type == "waiver" and e.clause == "late_penalty.grace":
        return _("grace period for invoice %(id)s extended until %(day)s") % {"id": e.invoice, "day": L.date(e.until)}
    if e.type == "waiver":
        return _("waiver of %(clause)s by %(party)s") % {"clause": e.clause, "party": doc.name(e.by)}
    if e.type == "dispute_opened":
        return _("dispute opened on invoice %(id)s") % {"id": e.invoice}
    if e.type == "dispute_resolved":
        return _("dispute on invoice %(id)s resolved") % {"id": e.invoice}
    if e.type == "termination_notice":
        return _("termination notice by %(party)s") % {"party": doc.name(e.by)}
    return e.type
