"""Documents for people: the statement of account (HTML report) and the demand letter.

    >>> from contractrules.documents import render_report, render_letter   # doctest: +SKIP
    >>> html = render_report("contract.yaml", "events.jsonl", "2025-10-01", lang="es")  # doctest: +SKIP

Self-contained HTML (inline CSS and SVG, no JavaScript, nothing fetched), printable on
A4; the letter is Markdown or HTML. Spanish (``es``) and English (``en``).
"""

from __future__ import annotations

from datetime import date

from contractrules.documents import render

__all__ = ["render_report", "render_letter", "report_from_answer", "letter_from_answer"]


def _evaluate(contract, events, as_of, engine):
    from contractrules.api import as_contract, as_records, evaluate

    c = as_contract(contract)
    load = as_records(events, c)
    return c, evaluate(c, load, as_of, engine=engine)


def render_report(contract, events, as_of: date | str, *, lang: str = "es", engine=None) -> str:
    """The HTML report of ``contract`` and ``events`` as of ``as_of`` (same inputs as
    :func:`contractrules.api.evaluate`)."""
    c, answer = _evaluate(contract, events, as_of, engine)
    return render.report_html(c, answer, lang)


def report_from_answer(contract, answer, *, lang: str = "es") -> str:
    """The HTML report from an answer the engine computed in this process for ``contract``."""
    return render.report_html(contract, answer, lang)


def render_letter(
    contract,
    events,
    invoice: str,
    as_of: date | str,
    *,
    lang: str = "es",
    pay_by: date | None = None,
    html: bool = False,
    engine=None,
) -> str:
    """The demand letter for ``invoice`` (Markdown, or HTML with ``html=True``)."""
    c, answer = _evaluate(contract, events, as_of, engine)
    return render.letter(c, answer, invoice, lang, pay_by, html)


def letter_from_answer(
    contract, answer, invoice: str, *, lang: str = "es", pay_by: date | None = None, html: bool = False
) -> str:
    return render.letter(contract, answer, invoice, lang, pay_by, html)
