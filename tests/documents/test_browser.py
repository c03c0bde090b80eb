"""The reports of both example stories in a real headless Chromium (Debian's package).

Each page loads with no console error, no exception, no failed load and no request but
itself (no network); its screenshot is not blank; its PDF prints on A4; and the text the
browser renders holds the answer's figures in the page's locale. Without Chromium the
tests skip locally and fail in CI (``CI`` set): ``.ci/run`` installs it.
"""

from __future__ import annotations

import io
import os
import re
from datetime import date
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency

from contractrules.api import evaluate
from contractrules.documents import render_report
from tests.conftest import ROOT
from tests.documents.chromium import Chromium, find_chromium

STORIES = ROOT / "rulesets" / "examples"
CASES = [
    ("website-care", date(2025, 10, 1), "es"),
    ("website-care", date(2025, 10, 1), "en"),
    ("freelance-job", date(2025, 4, 30), "es"),
    ("freelance-job", date(2025, 4, 30), "en"),
]
LOCALE = {"es": "es_ES", "en": "en_GB"}


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium()
    if exe is None:
        message = "chromium is not installed (apt-get install chromium; .ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    b = Chromium(exe)
    yield b
    b.close()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


def _load(browser, tmp_path, name, as_of, lang):
    folder = STORIES / name
    page = tmp_path / f"{name}-{lang}.html"
    page.write_text(
        render_report(folder / "contract.yaml", folder / "events.jsonl", as_of, lang=lang), encoding="utf-8"
    )
    answer = evaluate(folder / "contract.yaml", folder / "events.jsonl", as_of)
    return browser.load(page.as_uri()), answer


@pytest.mark.parametrize(("name", "as_of", "lang"), CASES, ids=[f"{n}-{lang}" for n, _, lang in CASES])
def test_story_report_renders_cleanly_with_the_answer_figures(browser, tmp_path, name, as_of, lang):
    page, answer = _load(browser, tmp_path, name, as_of, lang)
    assert page.errors == []
    assert page.requests == [page.url]  # nothing fetched but the page itself
    text = _flat(page.text)
    loc = LOCALE[lang]
    money = lambda v: _flat(format_currency(Decimal(v), answer.obligations[0].currency, locale=loc))  # noqa: E731
    long_date = lambda d: format_date(d, "long", locale=loc)  # noqa: E731
    assert long_date(answer.as_of) in text
    for p in answer.penalties:
        for amount in (p.interest, p.fixed_fee, p.total):
            assert money(amount) in text, (amount, lang)
        assert long_date(p.enforceable_from) in text
    for ob in answer.obligations:
        if ob.kind == "payment":
            assert money(ob.amount) in text
            assert ob.id.split(":", 1)[1] in text
    for v in answer.violations:
        if v.kind.startswith("out_of_scope"):
            assert v.id in text


def test_agency_report_in_spanish_reads_the_hand_computed_figures(browser, tmp_path):
    page, _ = _load(browser, tmp_path, "website-care", date(2025, 10, 1), "es")
    text = _flat(page.text)
    for expected in (
        "Extracto de cuenta",
        "645,42 €",
        "600,00 €",
        "45,42 €",
        "5,42 €",
        "40,00 €",
        "5,4247",
        "Exigible desde el 1 de octubre de 2025.",
        "30 ago 2025",
        "1 oct 2025",
        "10 %",
        "terms.late_penalty.interest.annual_rate",
        "e25, e27, e26",
        "270,00 €",
    ):
        assert expected in text, expected
    assert "€645.42" not in text and "645.42" not in text  # no English number format leaks


def test_agency_report_in_english_uses_english_formats(browser, tmp_path):
    page, _ = _load(browser, tmp_path, "website-care", date(2025, 10, 1), "en")
    text = _flat(page.text)
    for expected in ("Statement of account", "€645.42", "Enforceable from 1 October 2025.", "5.4247", "30 Aug 2025"):
        assert expected in text, expected


@pytest.mark.parametrize(("name", "as_of", "lang"), CASES[::2], ids=[n for n, _, _ in CASES[::2]])
def test_screenshot_is_not_blank_and_the_pdf_is_a4(browser, tmp_path, name, as_of, lang):
    from PIL import Image

    page, _ = _load(browser, tmp_path, name, as_of, lang)
    img = Image.open(io.BytesIO(page.png)).convert("RGB")
    assert img.size == (900, 1300)
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, tables, the timeline's colours
    white = max(colours)[0] / (img.size[0] * img.size[1])
    assert white < 0.97  # not an empty page
    assert page.pdf.startswith(b"%PDF")
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", page.pdf))
    assert boxes and all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in boxes)


def test_the_checker_sees_console_errors_and_requests(browser, tmp_path):
    """The clean-page assertions above can fail: a broken page is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="http://127.0.0.1:9/x.png"><script>nope()</script>x</body></html>')
    page = browser.load(bad.as_uri())
    assert any(e.startswith("exception") for e in page.errors)
    assert "http://127.0.0.1:9/x.png" in page.requests
