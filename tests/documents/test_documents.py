"""Report and letter: content, escaping, languages, the CLI, and the catalogues."""

from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from contractrules.api import evaluate
from contractrules.cli import main
from contractrules.documents import render_letter, render_report, report_from_answer
from contractrules.documents.catalog import extract
from contractrules.documents.i18n import Lang, translations
from contractrules.errors import InputError
from contractrules.model import parse_contract
from contractrules.model.answers import Answer
from tests.conftest import ROOT

AGENCY = ROOT / "rulesets" / "examples" / "website-care"
FREELANCE = ROOT / "rulesets" / "examples" / "freelance-job"
C, E = str(AGENCY / "contract.yaml"), str(AGENCY / "events.jsonl")
OCT1 = date(2025, 10, 1)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\u00a0", " ")


# ------------------------------------------------------------------ content


def test_agency_report_in_spanish_has_the_statement_and_the_interest_table():
    html = render_report(C, E, OCT1, lang="es")
    text = _text(html)
    assert '<html lang="es">' in html and "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html  # nothing to fetch
    # the interest table of INV-2025-07: one segment, 33 days at 10 % on 600,00 €
    assert re.search(r"30 ago 2025 1 oct 2025 33 600,00 € 10 % terms\.late_penalty\.interest\.annual_rate 5,4247", text)
    assert "Intereses, redondeados una sola vez terms.late_penalty.interest.annual_rate 5,42 €" in text
    assert "Indemnización fija por costes de cobro terms.late_penalty.fixed_fee 40,00 €" in text
    assert "Penalización terms.late_penalty 45,42 €" in text
    assert "Exigible desde el 1 de octubre de 2025." in text
    assert "Facturas impagadas 600,00 € de ellas vencidas: 600,00 €" in text and "Adeudado hoy 645,42 €" in text
    # the statement: the FIFO payment e06 and the credit note e16 with their balances
    assert "Pago recibido (sin indicar factura: aplicado a la factura abierta más antigua) e06 600,00 € 0,00 €" in text
    assert "Factura rectificativa (abono) e16 100,00 € 500,00 €" in text
    # scope: 3 pieces of unbilled work at 60 €/h (1,5 h + 1 h + 2 h = 270 €), two requests
    assert text.count("trabajo no facturado") == 3 and "270,00 €" in text
    assert "«portal.meridian-logistics.example» está excluido por el patrón «*.meridian-logistics.example»" in text


def test_freelance_report_shows_verbal_requests_and_the_late_paid_penalty():
    html = render_report(FREELANCE / "contract.yaml", FREELANCE / "events.jsonl", date(2025, 4, 30), lang="en")
    text = _text(html)
    # e04 (phone) was covered by the written change order e07; e05, e12 (video) and e13 (chat) were not
    assert "2 of them rest only on calls (verbal): ask for them in writing." in text
    assert "out_of_scope_request:e05" in text and "out_of_scope_request:e12" in text
    assert "out_of_scope_request:e04" not in text
    # 2,670.00 late from 29 March, paid 15 April: 17 days at 8 % = 9.9485 -> 9.95, then 0 balance
    assert re.search(r"29 Mar 2025 14 Apr 2025 17 US\$2,670\.00 8% \S+ 9\.9485", text)
    assert re.search(r"15 Apr 2025 30 Apr 2025 16 US\$0\.00 8% \S+ 0\.0000", text)
    assert "Enforceable from 5 April 2025." in text
    assert "Change orders" in text and "e07" in text


def test_other_findings_without_the_notice_waiver():
    events = [json.loads(line) for line in (AGENCY / "events.jsonl").read_text().splitlines() if '"e24"' not in line]
    text = _text(render_report(C, events, OCT1, lang="es"))
    assert "Otros hallazgos" in text
    assert (
        "30 jul 2025 preaviso más corto que el del contrato incumplimiento short_notice:e23 ACME Comercial S.A." in text
    )
    assert text.count("servicio no prestado") == 12  # August's scans, owed until 31 August
    assert "Otros hallazgos" not in _text(render_report(C, E, OCT1, lang="es"))


def test_letter_markdown_in_spanish():
    md = render_letter(C, E, "INV-2025-07", OCT1, lang="es").replace("\u00a0", " ")
    assert md.startswith("# Requerimiento de pago — factura INV-2025-07\n")
    assert "BORRADOR" in md and "No constituye asesoramiento jurídico" in md
    assert "| **Total** | **645,42 €** |" in md
    assert (
        "| 30 ago 2025 | 1 oct 2025 | 33 | 600,00 € | 10 % | terms.late_penalty.interest.annual_rate | 5,4247 |" in md
    )
    assert "Ley 3/2004, de 29 de diciembre" in md and "art. 5" in md and "art. 7" in md and "art. 8" in md
    assert "Directiva 2011/7/UE" in md
    assert "a más tardar el 11 de octubre de 2025" in md  # as_of + 10 days
    assert "0,1644 EUR por día" in md  # 600 × 10 % / 365
    for eid in ("e25", "e26", "e27"):
        assert f"— {eid}:" in md


def test_letter_pay_by_html_and_english():
    html = render_letter(C, E, "INV-2025-07", OCT1, lang="en", pay_by=date(2025, 10, 20), html=True)
    text = _text(html)
    assert "We ask you to pay €645.42 by 20 October 2025." in text
    assert "It is not legal advice." in text and "<script" not in html.lower()


def test_letter_for_an_invoice_paid_late_claims_the_penalty():
    md = render_letter(
        FREELANCE / "contract.yaml", FREELANCE / "events.jsonl", "INV-0042", date(2025, 4, 30), lang="es"
    ).replace("\u00a0", " ")
    assert "Se pagó con retraso, y la penalización por demora sigue pendiente de pago." in md
    assert "| Pendiente de la factura INV-0042 | 0,00 US$ |" in md and "| **Total** | **9,95 US$** |" in md
    assert "Ley 3/2004" not in md and "Directiva" not in md  # no jurisdiction: only the contract


def test_letter_before_the_penalty_is_enforceable_claims_only_the_invoice():
    md = render_letter(C, E, "INV-2025-07", date(2025, 9, 20), lang="en")
    assert "| **Total** | **€600.00** |" in md
    assert "can be charged from 1 October 2025" in md and "€43.62 so far" in md


@pytest.mark.parametrize(
    ("invoice", "as_of", "message"),
    [
        ("INV-2025-06", OCT1, "nothing is owed on it as of 2025-10-01"),
        ("INV-2025-07", date(2025, 8, 20), "not late as of 2025-08-20 (due 2025-08-29)"),
        ("INV-404", OCT1, "no invoice INV-404 issued by 2025-10-01"),
    ],
)
def test_letter_refuses_invoices_with_nothing_to_claim(invoice, as_of, message):
    with pytest.raises(InputError) as err:
        render_letter(C, E, invoice, as_of)
    assert message in str(err.value.issues[0])


def test_an_answer_read_back_from_json_cannot_make_a_report():
    answer = evaluate(C, E, OCT1)
    again = Answer.model_validate_json(answer.to_json())
    assert again == answer  # the detail is not part of the answer's identity
    with pytest.raises(InputError):
        report_from_answer(parse_contract_file(), again)


def parse_contract_file():
    from contractrules.model import load_contract

    return load_contract(C)


def _small(**terms):
    return parse_contract(
        {
            "id": "small",
            "timezone": "Europe/London",
            "currency": terms.pop("currency", "EUR"),
            "start": "2025-01-01",
            "parties": {"provider": {"id": "p", "name": "Prov Ltd"}, "client": {"id": "c"}},
            **terms,
        }
    )


def _invoice(at: str, amount: str) -> list[dict]:
    return [
        {
            "id": "i1",
            "type": "invoice_issued",
            "at": at,
            "invoice": "INV-1",
            "amount": amount,
            "by": "p",
            "channel": "email",
        }
    ]


def test_uk_statutory_letter_cites_the_act_the_table_row_and_the_compensation_tier():
    contract = _small(currency="GBP", jurisdiction="UK", terms={"payment": {"terms_days": 30}})
    md = render_letter(contract, _invoice("2025-06-02", "5000.00"), "INV-1", date(2025, 8, 1), lang="en")
    # due 2 July; 3 July .. 1 August = 30 days at the rate fixed on 3 July (Bank Rate 4.25% + 8 = 12.25%)
    # 5000 × 0.1225 × 30 / 365 = 50.3425 -> 50.34; compensation 70.00 (5,000 is below 10,000): 5,120.34
    assert "| 3 Jul 2025 | 1 Aug 2025 | 30 | £5,000.00 | 12.25% | Bank Rate 4.25% on 30 Jun 2025 + 8 points" in md
    assert "| 50.3425 |" in md and "| **Total** | **£5,120.34** |" in md
    assert "Late Payment of Commercial Debts (Interest) Act 1998" in md and "Ley 3/2004" not in md
    assert "Fixed compensation: Act 1998 s.5A" in md and "Directive" not in md


def test_penalty_paid_and_credited_is_shown_line_by_line():
    folder = ROOT / "tests" / "scenarios" / "penalty_paid_credited_and_settled"
    contract, events = folder / "contract.yaml", folder / "events.jsonl"
    text = _text(render_report(contract, events, date(2025, 3, 12), lang="en"))
    # 7.95 interest (29 days on 1000.00 at 10 %) + 40.00 = 47.95; p2 paid 20.00, c1 credited 5.00: 22.95 left
    assert "Penalty terms.late_penalty €47.95" in text
    assert "Payment towards the penalty · 10 Mar 2025 p2 −€20.00" in text
    assert "Credit note on the penalty · 12 Mar 2025 c1 −€5.00" in text
    assert "Penalty still owed €22.95" in text and "Owed now €122.95" in text  # + INV-2 100.00, not due yet:
    assert "Unpaid invoices €100.00 of which overdue: €0.00" in text
    md = render_letter(contract, events, "INV-1", date(2025, 3, 12), lang="en")
    assert "| Paid or credited towards the penalty | −€25.00 |" in md and "| **Total** | **€22.95** |" in md
    # on 20 March the penalty is settled (p3 paid the 22.95 it asked): nothing to claim on INV-1
    with pytest.raises(InputError):
        render_letter(contract, events, "INV-1", date(2025, 3, 20))


def test_unapplied_money_is_shown():
    contract = _small(terms={"payment": {"terms_days": 10}})
    events = [
        *_invoice("2025-03-01", "100.00"),
        {"id": "p1", "type": "payment_received", "at": "2025-03-05", "amount": "150.00", "by": "c"},
    ]
    text = _text(render_report(contract, events, date(2025, 4, 10), lang="en"))
    assert "Money received that pays no open debt (unapplied credit): €50.00 — events: p1 (5 Mar 2025)" in text


def test_a_binding_cap_is_shown():
    contract = _small(
        terms={
            "payment": {"terms_days": 10},
            "late_penalty": {
                "grace_days": 0,
                "interest": {"annual_rate": "0.35", "day_count": "act/360"},
                "cap": "0.02",
            },
        }
    )
    # 1000 × 0.35 × 30 / 360 = 29.1667 unrounded, capped at 2 % of 1000 = 20.00
    text = _text(render_report(contract, _invoice("2025-03-01", "1000.00"), date(2025, 4, 10), lang="es"))
    assert "29,1667" in text and "se aplica el límite de 20,00 €" in text
    assert (
        "Intereses, redondeados una sola vez — se aplica el límite de 20,00 € terms.late_penalty.interest.annual_rate 20,00 €"
        in text
    )


# ------------------------------------------------------------------ escaping

HOSTILE = '<script>alert("x")</script>'


def _hostile():
    contract = {
        "id": "evil-1",
        "title": f"Title {HOSTILE} & co",
        "timezone": "Europe/Madrid",
        "currency": "EUR",
        "start": "2025-01-01",
        "parties": {"provider": {"id": "p", "name": f"Prov {HOSTILE}"}, "client": {"id": "c", "name": "Cli <b>x</b>"}},
        "terms": {
            "payment": {"terms_days": 10},
            "late_penalty": {"grace_days": 0, "interest": {"annual_rate": "0.1"}, "fixed_fee": "40"},
            "scope": {
                "services": [{"id": "build", "on_request": {"respond_within_days": 5}, "assets": ["a"]}],
                "change_order_rate": {"amount": "50", "per": "hour"},
            },
        },
    }
    events = [
        {
            "id": "i<script>",
            "type": "invoice_issued",
            "at": "2025-01-10",
            "invoice": "INV<script>x</script>",
            "amount": "100.00",
            "by": "p",
            "channel": "email",
        },
        {
            "id": "w1",
            "type": "work_requested",
            "at": "2025-01-12",
            "by": "c",
            "channel": "phone",
            "service": "svc<img src=x onerror=alert(1)>",
            "asset": "as<script>",
            "description": HOSTILE,
        },
        {
            "id": "w2",
            "type": "work_performed",
            "at": "2025-01-13",
            "by": "p",
            "channel": "email",
            "service": "extra]](javascript:alert(1))",
            "asset": "a|b",
            "hours": "2",
        },
    ]
    return parse_contract(contract), events


def test_hostile_titles_descriptions_and_ids_are_text_in_the_report():
    contract, events = _hostile()
    html = render_report(contract, events, date(2025, 3, 1), lang="es")
    assert "<script" not in html.lower() and "<img" not in html.lower() and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # the description, as text
    assert "INV&lt;script&gt;x&lt;/script&gt;" in html
    assert "Title &lt;script&gt;" in html and "&amp; co" in html


def test_hostile_values_are_text_in_the_letter(tmp_path):
    contract, events = _hostile()
    html = render_letter(contract, events, "INV<script>x</script>", date(2025, 3, 1), html=True)
    assert "<script" not in html.lower()
    md = render_letter(contract, events, "INV<script>x</script>", date(2025, 3, 1))
    assert not re.search(r"(?<!\\)[<>]", md) and "\\<script\\>" in md
    assert 'Prov \\<script\\>alert("x")\\</script\\>' in md


# ------------------------------------------------------------------ languages


def test_every_message_has_a_spanish_translation_with_the_same_placeholders():
    es = translations("es")
    messages = [m for m in extract() if m.id]
    assert len(messages) > 100
    for m in messages:
        one = m.id[0] if isinstance(m.id, tuple) else m.id
        text = es.ngettext(m.id[0], m.id[1], 2) if isinstance(m.id, tuple) else es.gettext(one)
        assert text and text != one or one in ("%(hours)s h", "Total", "verbal"), one
        assert sorted(re.findall(r"%\(\w+\)[sd]", one)) == sorted(re.findall(r"%\(\w+\)[sd]", text)), one


def test_locale_formats():
    es, en = Lang("es"), Lang("en")
    assert es.money("1234.56", "EUR").replace("\u00a0", " ") == "1.234,56 €"
    assert en.money("1234.56", "EUR") == "€1,234.56"
    assert es.date(OCT1) == "1 de octubre de 2025" and en.date(OCT1) == "1 October 2025"
    assert es.rate("0.1015").replace("\u00a0", " ") == "10,15 %" and en.rate("0.08") == "8%"
    assert es.number("5.42465", 4) == "5,4247" and es.number("0.00005", 4) == "0,0001"  # half-up
    with pytest.raises(InputError):
        Lang("fr")


# ------------------------------------------------------------------ CLI


def test_cli_report_and_letter(tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.html"
    res = runner.invoke(main, ["report", C, E, "--as-of", "2025-10-01", "--lang", "es", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "645,42" in out.read_text(encoding="utf-8") and res.output == ""
    res = runner.invoke(main, ["letter", C, E, "--invoice", "INV-2025-07", "--as-of", "2025-10-01"])
    assert res.exit_code == 0 and res.output.startswith("# Demand for payment — invoice INV-2025-07")
    letter = tmp_path / "l.html"
    res = runner.invoke(
        main,
        [
            "letter",
            C,
            E,
            "--invoice",
            "INV-2025-07",
            "--as-of",
            "2025-10-01",
            "--lang",
            "es",
            "--pay-by",
            "2025-10-15",
            "--out",
            str(letter),
        ],
    )
    assert res.exit_code == 0
    assert letter.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "15 de octubre de 2025" in letter.read_text(encoding="utf-8")


def test_cli_errors_exit_2_or_5_without_traceback(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["letter", C, E, "--invoice", "INV-2025-06", "--as-of", "2025-10-01"])
    assert res.exit_code == 2 and "nothing is owed" in res.output and "Traceback" not in res.output
    res = runner.invoke(main, ["report", C, E, "--as-of", "2025-10-01", "--lang", "fr"])
    assert res.exit_code == 2
    res = runner.invoke(main, ["report", C, E, "--as-of", "2025-10-01", "--out", str(tmp_path / "no" / "x.html")])
    assert res.exit_code == 5 and "cannot write" in res.output


def test_report_from_a_store(tmp_path):
    from contractrules.store import open_store

    url = f"sqlite:///{tmp_path / 's.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["db", "init", "--db", url]).exit_code == 0
    res = runner.invoke(main, ["ingest", "--db", url, C, E])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        main, ["report", "--db", url, "--contract", "website-care-2025", "--as-of", "2025-10-01", "--lang", "es"]
    )
    assert res.exit_code == 0, res.output
    assert "645,42 €" in res.output.replace("\u00a0", " ")
    with open_store(url) as store:  # the same report from the store's snapshot, in Python
        snap = store.snapshot("website-care-2025", OCT1)
    html = report_from_answer(snap.contract, evaluate(snap.contract, snap.load, OCT1), lang="es")
    assert html.rstrip("\n") == res.output.rstrip("\n")


TEMPLATE_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "p",
    "strong",
    "span",
    "dl",
    "dt",
    "dd",
    "section",
    "div",
    "svg",
    "rect",
    "text",
    "line",
    "path",
    "circle",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
    "ul",
    "li",
    "footer",
}


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.attrs = set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend(name for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


@settings(max_examples=25, deadline=None)
@given(hostile=st.text(alphabet=st.sampled_from(list("<>&\"'/=;: abcsriptonlg()[]|*`#")), min_size=1, max_size=30))
def test_any_text_in_titles_and_descriptions_stays_text(hostile):
    contract, events = _hostile()
    contract = contract.model_copy(update={"title": hostile})
    events[1] = {**events[1], "description": hostile}
    html = render_report(contract, events, date(2025, 3, 1), lang="en")
    seen = _Collect()
    seen.feed(html)
    assert seen.tags <= TEMPLATE_TAGS
    assert not any(a.startswith("on") for a in seen.attrs)
    text = "".join(seen.text)
    assert hostile.strip() in text
